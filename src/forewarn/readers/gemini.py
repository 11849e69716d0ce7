"""Gemini CLI chat recordings, checkpoints and stream-json logs → the agent-neutral model.

Layout (AGENT_CONTRACTS.md, gemini-cli source): `~/.gemini/tmp/<project-id>/chats/session-*.json`
(or `$GEMINI_CLI_HOME/.gemini/…`), where project-id is a sha256 of the project path (older) or a
readable slug with a `.project_root` file naming the path (newer). Four shapes, all read:

- chat recording, one JSON document: `{sessionId, projectHash, startTime, messages: [...]}`;
- chat recording, JSONL: a metadata line, then message records (`{id, type, content, toolCalls}`),
  `{"$set": {...}}` metadata patches and `{"$rewindTo": id}` markers. It is an upsert log: one
  message id is rewritten whenever its tool calls or tokens change, and `$set.messages` replaces the
  whole list (compression, masking of old outputs);
- `/chat save` checkpoint: a bare `Content[]` (or `{history: Content[]}`) of `functionCall` /
  `functionResponse` parts;
- `--output-format stream-json` log: `init`, `message`, `tool_use`, `tool_result`, `result` events.

Facts we rely on: a tool call record carries its own result and a status success | error |
cancelled; a shell command that failed often has status success and "Exit Code: N" in its output;
"User did not allow tool call" is a denial, other cancellations are interruptions; the info message
"Request cancelled." marks an interrupt.

Invariants: never raises on bad input; a call appears once per read, its outcome fixed by the first
record that shows it finished (later rewrites only mask or re-count it); `seq` is the byte offset of
the line that first carried a call in JSONL, and a running index in whole-document JSON. Whole
documents are not incremental, so the store re-reads a changed file from the start
(`incremental = False`); JSONL files read from an offset still work.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import orjson

from forewarn import regexes
from forewarn.model import (
    ERROR,
    INTERRUPTED,
    OK,
    PENDING,
    REJECTED,
    Chunk,
    SessionInfo,
    ToolCall,
    Turn,
    clip,
)
from forewarn.paths import gemini_dir
from forewarn.readers.base import Reader, iter_records, new_chunk, read_head, walk_files
from forewarn.readers.toolfacts import lesson_blocks, parts_text, to_int, trim_input, user_text

MAX_DOCUMENT = 256 * 1024 * 1024  # a whole-document file larger than this is not a session log

_TERMINAL = {"success": OK, "error": ERROR}
_DENIED = "User did not allow tool call"
_EXIT_CODE = regexes.compile(r"^Exit Code: (-?\d+)\s*$", re.M)
_TIMEOUT = "Command was automatically cancelled because it exceeded the timeout"
_USER_CANCELLED = ("Command was cancelled by user", "[Operation Cancelled]")
_SETUP = "This is the Gemini CLI. We are setting up the context for our chat."
_SETUP_CWD = regexes.compile(r"I'm currently working in the directory: ([^\n]+)")
_STREAM_TYPES = frozenset({"init", "message", "tool_use", "tool_result", "error", "result"})
_SNIFF_STREAM = regexes.compile(rb'"type":\s*"(init|tool_use|tool_result)"')


class _State:
    __slots__ = ("assistant_seq", "assistant_text", "calls", "chunk", "document", "live",
                 "pending_by_name", "seq", "session", "turn_ids")

    def __init__(self, chunk: Chunk) -> None:
        self.chunk = chunk
        self.session = chunk.session
        self.calls: dict[str, ToolCall] = {}
        self.turn_ids: set[str] = set()  # message ids already turned into a Turn (rewrites repeat them)
        self.live: list[str] = []  # message ids currently in the conversation (for $rewindTo / $set)
        self.seq = 0  # running index for whole-document formats
        self.document = False  # whole document: seq is st.seq, not a byte offset
        self.pending_by_name: dict[str, list[ToolCall]] = {}  # checkpoint calls without ids
        self.assistant_text: list[str] = []  # stream-json assistant deltas, flushed for lesson tags
        self.assistant_seq = 0


class GeminiReader(Reader):
    agent = "gemini"
    incremental = False  # whole-document .json files are rewritten in place

    def __init__(self, home: Path | None = None) -> None:
        self._home = home

    def _gemini_home(self) -> Path:
        if self._home is not None:
            return self._home
        env = os.environ.get("GEMINI_CLI_HOME")  # gemini-cli's home override: state in $X/.gemini
        return Path(env).expanduser() / ".gemini" if env else gemini_dir()

    def default_roots(self) -> list[Path]:
        return [self._gemini_home() / "tmp"]

    def discover(self, root: Path) -> Iterator[Path]:
        """Sessions and checkpoints under a `.gemini` dir, its `tmp/`, a project dir, or any folder;
        an explicit file is taken as is. Files other than `session-*` / `checkpoint-*` are yielded
        only when their head sniffs as Gemini."""
        if root.is_file():
            yield root
            return
        if (root / "tmp").is_dir():
            root = root / "tmp"
        for path in walk_files(root, (".json", ".jsonl"), frozenset({".git", "node_modules", "tool-outputs"})):
            if path.name == "logs.json":
                continue  # the prompt history, not a session
            if self.claims(path) or self.sniff(path, read_head(path, 8192)):
                yield path

    def claims(self, path: Path) -> bool:
        return path.name.startswith(("session-", "checkpoint-")) and path.name.endswith((".json", ".jsonl"))

    def sniff(self, path: Path, head: bytes) -> bool:
        name = path.name
        text = head.lstrip()
        if name.endswith(".json"):
            if text.startswith(b"{"):
                return (b'"projectHash"' in head and b'"messages"' in head) or b'"history"' in head[:64]
            return text.startswith(b"[") and b'"parts"' in head and b'"role"' in head
        if name.endswith(".jsonl"):
            first = text.split(b"\n", 1)[0]
            if b'"projectHash"' in first and b'"sessionId"' in first:
                return True
            for line in text.split(b"\n", 8)[:8]:
                m = _SNIFF_STREAM.search(line)  # Claude has tool_use blocks too, but no "tool_id"
                if m and (b'"tool_id"' in line or (m.group(1) == b"init" and b'"session_id"' in line)):
                    return True
            return False
        return False

    def project_of(self, path: Path) -> str | None:
        """The project a chats/ or checkpoint file belongs to, from gemini-cli's own records: a
        `.project_root` file in the project's tmp dir, or `projects.json` (path → slug)."""
        for parent in list(path.parents)[:4]:
            marker = parent / ".project_root"
            try:
                text = marker.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError):
                text = ""
            if text:
                return text
            if parent.parent.name == "tmp":
                registry = parent.parent.parent / "projects.json"
                try:
                    data = orjson.loads(registry.read_bytes())
                except (OSError, orjson.JSONDecodeError):
                    return None
                projects = data.get("projects") if isinstance(data, dict) else None
                if isinstance(projects, dict):
                    for project, slug in projects.items():
                        if slug == parent.name and isinstance(project, str):
                            return project
                return None
        return None

    def read(self, path: Path, start: int = 0, context: dict[str, Any] | None = None) -> Chunk:
        chunk = new_chunk(path, self.agent, start, context)
        session = chunk.session
        st = _State(chunk)
        if path.name.endswith(".jsonl"):
            self._read_lines(path, start, st)
        else:
            self._read_document(path, st)
        chunk.calls = sorted(st.calls.values(), key=lambda c: c.seq)
        if session.project is None:
            session.project = self.project_of(path) or _project_from_hash(path, st)
        if session.cwd is None:
            session.cwd = session.project
        if session.project is None:
            session.project = session.cwd
        if session.session_id is None:
            session.session_id = f"{path.parent.name}/{path.stem}"
        if path.parent.parent.name == "chats" and session.parent_session_id is None:
            session.parent_session_id = path.parent.name  # subagent: chats/<parent-id>/<id>.jsonl
        return chunk

    # -- whole documents ---------------------------------------------------------------------

    def _read_document(self, path: Path, st: _State) -> None:
        chunk = st.chunk
        try:
            size = path.stat().st_size
            if size > MAX_DOCUMENT:
                chunk.bad_lines += 1
                return
            data = path.read_bytes()
        except OSError:
            return
        chunk.lines = 1
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError:
            chunk.bad_lines += 1  # half-written or corrupt: nothing consumed, read again later
            return
        chunk.end_offset = len(data)
        st.document = True
        try:
            if isinstance(doc, dict) and isinstance(doc.get("messages"), list):
                self._metadata(doc, st)
                for msg in doc["messages"]:
                    st.seq += 1
                    if isinstance(msg, dict):
                        self._message(msg, st.seq, st, replay=False)
                    else:
                        chunk.unknown_records += 1
            elif isinstance(doc, list) or (isinstance(doc, dict) and isinstance(doc.get("history"), list)):
                history = doc if isinstance(doc, list) else doc["history"]
                for content in history:
                    if isinstance(content, dict):
                        self._content(content, st)
                    else:
                        chunk.unknown_records += 1
            else:
                chunk.unknown_records += 1
        except (AttributeError, TypeError, ValueError, KeyError):
            chunk.bad_lines += 1

    # -- JSONL: chat recordings and stream-json ----------------------------------------------

    def _read_lines(self, path: Path, start: int, st: _State) -> None:
        chunk = st.chunk
        try:
            with open(path, "rb") as f:
                for offset, rec in iter_records(f, start, chunk):
                    try:
                        self._line(rec, offset, st)
                    except (AttributeError, TypeError, ValueError, KeyError):
                        chunk.bad_lines += 1
        except OSError:
            pass  # unreadable, or gone mid-read: keep what was read
        self._flush_assistant(st)

    def _line(self, rec: dict[str, Any], offset: int, st: _State) -> None:
        rtype = rec.get("type")
        if isinstance(rec.get("$rewindTo"), str):
            target = rec["$rewindTo"]
            if target in st.live:
                del st.live[st.live.index(target):]
            else:
                st.live.clear()
        elif isinstance(rec.get("$set"), dict):
            patch = rec["$set"]
            self._metadata(patch, st)
            messages = patch.get("messages")
            if isinstance(messages, list):
                if len(messages) < len(st.live):
                    st.chunk.turns.append(Turn(offset, "compaction", "", _ts(patch.get("lastUpdated"))))
                st.live = [m["id"] for m in messages if isinstance(m, dict) and isinstance(m.get("id"), str)]
                for msg in messages:
                    if isinstance(msg, dict):
                        self._message(msg, offset, st, replay=True)
        elif isinstance(rec.get("id"), str) and rtype in ("user", "gemini", "info", "error", "warning"):
            if rec["id"] not in st.live:
                st.live.append(rec["id"])
            self._message(rec, offset, st, replay=False)
        elif isinstance(rtype, str) and rtype in _STREAM_TYPES:
            self._stream(rec, rtype, offset, st)
        elif isinstance(rec.get("sessionId"), str):
            self._metadata(rec, st)
        else:
            st.chunk.unknown_records += 1

    def _stream(self, rec: dict[str, Any], rtype: str, offset: int, st: _State) -> None:
        """One `--output-format stream-json` event."""
        ts = _ts(rec.get("timestamp"))
        _touch(st.session, ts)
        if rtype != "message" or rec.get("role") != "assistant":
            self._flush_assistant(st)
        if rtype == "init":
            if st.session.session_id is None and isinstance(rec.get("session_id"), str):
                st.session.session_id = rec["session_id"]
            if st.session.model is None and isinstance(rec.get("model"), str):
                st.session.model = rec["model"]
        elif rtype == "message":
            text = parts_text(rec.get("content"))
            if rec.get("role") == "user" and text.strip():
                st.chunk.turns.append(Turn(offset, "user", user_text(text), ts))
            elif rec.get("role") == "assistant" and text:
                if not st.assistant_text:
                    st.assistant_seq = offset
                st.assistant_text.append(text)
        elif rtype == "tool_use":
            call_id, name = rec.get("tool_id"), rec.get("tool_name")
            if isinstance(call_id, str) and isinstance(name, str) and call_id not in st.calls:
                st.calls[call_id] = ToolCall(call_id=call_id, tool=name, input=trim_input(rec.get("parameters")),
                                             seq=offset, timestamp=ts, cwd=st.session.cwd)
        elif rtype == "tool_result":
            tool_id = rec.get("tool_id")
            call = st.calls.get(tool_id) if isinstance(tool_id, str) else None
            if call is not None and call.status == PENDING:
                error = rec.get("error")
                output = rec.get("output")
                if not isinstance(output, str) or (not output and isinstance(error, dict)):
                    output = str(error.get("message", "")) if isinstance(error, dict) else ""
                status = rec.get("status")
                _settle(call, status if isinstance(status, str) else "success", output, offset)

    def _flush_assistant(self, st: _State) -> None:
        if st.assistant_text:
            text = "".join(st.assistant_text)
            st.assistant_text = []
            if "#lesson" in text:
                for block in lesson_blocks(text):
                    st.chunk.turns.append(Turn(st.assistant_seq, "lesson_tag", block))

    # -- chat-recording records --------------------------------------------------------------

    @staticmethod
    def _metadata(meta: dict[str, Any], st: _State) -> None:
        s = st.session
        if s.session_id is None and isinstance(meta.get("sessionId"), str):
            s.session_id = meta["sessionId"]
        if s.started_at is None and isinstance(meta.get("startTime"), str):
            s.started_at = meta["startTime"]
        if isinstance(meta.get("lastUpdated"), str):
            s.ended_at = meta["lastUpdated"]
        dirs = meta.get("directories")
        if s.cwd is None and isinstance(dirs, list) and dirs and isinstance(dirs[0], str):
            s.cwd = dirs[0]

    def _message(self, msg: dict[str, Any], seq: int, st: _State, replay: bool) -> None:
        """One message record. `replay` is set for the copies inside `$set.messages`: they may
        settle calls seen before but never add calls or turns (every message was appended on its
        own before a `$set` repeated it)."""
        mtype = msg.get("type")
        mid = msg.get("id") if isinstance(msg.get("id"), str) else None
        ts = _ts(msg.get("timestamp"))
        if not replay:
            _touch(st.session, ts)
        first_time = not replay and (mid is None or mid not in st.turn_ids)
        if mtype == "user":
            text = parts_text(msg.get("content"))
            if first_time and text.strip():
                st.chunk.turns.append(Turn(seq, "user", user_text(text), ts))
                if mid:
                    st.turn_ids.add(mid)
        elif mtype == "info":
            text = parts_text(msg.get("content"))
            if first_time and text.strip() == "Request cancelled.":
                st.chunk.turns.append(Turn(seq, "interrupt", text.strip(), ts))
                if mid:
                    st.turn_ids.add(mid)
        elif mtype == "gemini":
            if st.session.model is None and isinstance(msg.get("model"), str):
                st.session.model = msg["model"]
            text = parts_text(msg.get("content"))
            if first_time and "#lesson" in text:
                for block in lesson_blocks(text):
                    st.chunk.turns.append(Turn(seq, "lesson_tag", block, ts))
                if mid:
                    st.turn_ids.add(mid)
            calls = msg.get("toolCalls")
            if isinstance(calls, list):
                for index, record in enumerate(calls):
                    if isinstance(record, dict):
                        self._tool_call(record, seq, index, st, replay)
        elif mtype not in ("error", "warning"):
            st.chunk.unknown_records += 1

    @staticmethod
    def _tool_call(record: dict[str, Any], seq: int, index: int, st: _State, replay: bool) -> None:
        call_id = record.get("id")
        name = record.get("name")
        if not isinstance(call_id, str) or not isinstance(name, str):
            return
        call = st.calls.get(call_id)
        if call is None:
            if replay:
                return
            if st.document:
                st.seq += 1
                seq = st.seq
            call = ToolCall(call_id=call_id, tool=name, input=trim_input(record.get("args")),
                            seq=seq, timestamp=_ts(record.get("timestamp")), cwd=st.session.cwd)
            st.calls[call_id] = call
        if call.status != PENDING:
            return  # the outcome is fixed once finished; rewrites only mask or re-count it
        status = record.get("status")
        if status not in ("success", "error", "cancelled"):
            return
        text = _response_text(record.get("result"))
        if not text and isinstance(record.get("resultDisplay"), str):
            text = record["resultDisplay"]
        _settle(call, status, text, seq)

    # -- /chat save checkpoints --------------------------------------------------------------

    def _content(self, content: dict[str, Any], st: _State) -> None:
        """One `Content` of a checkpoint: `{role, parts}`; calls without ids pair by name, in order."""
        role = content.get("role")
        parts = content.get("parts")
        if not isinstance(parts, list):
            st.chunk.unknown_records += 1
            return
        for part in parts:
            st.seq += 1
            if not isinstance(part, dict):
                continue
            if isinstance(part.get("functionCall"), dict):
                fc = part["functionCall"]
                name = fc.get("name")
                if not isinstance(name, str):
                    continue
                call_id = fc.get("id") if isinstance(fc.get("id"), str) else f"{name}#{st.seq}"
                call = ToolCall(call_id=call_id, tool=name, input=trim_input(fc.get("args")), seq=st.seq,
                                cwd=st.session.cwd)
                st.calls[call_id] = call
                st.pending_by_name.setdefault(name, []).append(call)
            elif isinstance(part.get("functionResponse"), dict):
                fr = part["functionResponse"]
                target = st.calls.get(fr["id"]) if isinstance(fr.get("id"), str) else None
                name = fr.get("name")
                queue = st.pending_by_name.get(name, []) if isinstance(name, str) else []
                if target is None and queue:
                    target = queue[0]
                if target is None or target.status != PENDING:
                    continue
                if target in queue:
                    queue.remove(target)
                response = fr.get("response")
                text = _response_text([part])
                status = "success"
                if isinstance(response, dict) and "error" in response:
                    status = "cancelled" if text.startswith("[Operation Cancelled]") else "error"
                _settle(target, status, text, st.seq)
            elif isinstance(part.get("text"), str):
                text = part["text"]
                if role == "user":
                    if text.startswith(_SETUP):
                        m = _SETUP_CWD.search(text)
                        if m and st.session.cwd is None:
                            st.session.cwd = m.group(1).strip().rstrip(".")
                    elif text.strip():
                        st.chunk.turns.append(Turn(st.seq, "user", user_text(text)))
                elif role == "model" and "#lesson" in text and not part.get("thought"):
                    for block in lesson_blocks(text):
                        st.chunk.turns.append(Turn(st.seq, "lesson_tag", block))


# -- pure helpers ----------------------------------------------------------------------------

_HASH_DIR = regexes.compile(r"^[0-9a-f]{64}$")
_CHECKPOINT_HEAD = 4 * 1024 * 1024


def _checkpoint_dirs(project_tmp: Path) -> list[str]:
    """Working directories named in the setup text of the checkpoints beside a session."""
    found: list[str] = []
    try:
        names = sorted(n for n in os.listdir(project_tmp) if n.startswith("checkpoint-") and n.endswith(".json"))
    except OSError:
        return found
    for name in names[:20]:
        try:
            with open(project_tmp / name, "rb") as f:
                data = f.read(_CHECKPOINT_HEAD)
            doc = orjson.loads(data)
        except (OSError, orjson.JSONDecodeError):
            continue
        history = doc.get("history") if isinstance(doc, dict) else doc
        if not isinstance(history, list):
            continue
        for content in history[:3]:
            text = parts_text(content.get("parts")) if isinstance(content, dict) else ""
            m = _SETUP_CWD.search(text) if text.startswith(_SETUP) else None
            if m:
                found.append(m.group(1).strip().rstrip("."))
                break
    return found
_ABS_PATH = regexes.compile(r"^(?:/|[A-Za-z]:[\\/])")


def _project_from_hash(path: Path, st: _State) -> str | None:
    """Older gemini-cli names a project's dir sha256(project path): any absolute path the session
    touched, or an ancestor of it, whose hash is that name is the project, verified not guessed."""
    digest = next((p.name for p in list(path.parents)[:3] if _HASH_DIR.match(p.name)), None)
    if digest is None:
        return None
    from hashlib import sha256  # here: most scans never need it, and hashlib loads OpenSSL

    candidates: list[str] = [st.session.cwd] if st.session.cwd else []
    candidates.extend(_checkpoint_dirs(path.parent if path.parent.name == digest else path.parent.parent))
    for call in st.calls.values():
        for value in call.input.values():
            if isinstance(value, str) and len(value) < 1024 and _ABS_PATH.match(value):
                candidates.append(value)
        if len(candidates) > 200:
            break
    tried: set[str] = set()
    for candidate in candidates:
        pure = PureWindowsPath(candidate) if ":" in candidate[:3] else PurePosixPath(candidate)
        for ancestor in (pure, *pure.parents):
            text = str(ancestor)
            if text in tried:
                continue
            tried.add(text)
            if sha256(text.encode("utf-8")).hexdigest() == digest:
                return text
    return None


def _ts(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _touch(session: SessionInfo, ts: str | None) -> None:
    if ts:
        if session.started_at is None:
            session.started_at = ts
        session.ended_at = ts


def _response_text(result: Any) -> str:
    """The text the model got back: `functionResponse.response.output` or `.error`, plus any
    plain text parts, from a result that is a list of parts (or, rarely, a string)."""
    if isinstance(result, str):
        return result
    if not isinstance(result, list):
        return ""
    out: list[str] = []
    for part in result:
        if not isinstance(part, dict):
            continue
        fr = part.get("functionResponse")
        if isinstance(fr, dict):
            response = fr.get("response")
            if isinstance(response, dict):
                for key in ("output", "error", "llmContent", "content"):
                    value = response.get(key)
                    if isinstance(value, str) and value:
                        out.append(value)
                        break
                    if isinstance(value, list):
                        out.append(parts_text(value))
                        break
            elif isinstance(response, str):
                out.append(response)
        elif isinstance(part.get("text"), str):
            out.append(part["text"])
    return "\n".join(out)


def _settle(call: ToolCall, status: str, text: str, seq: int) -> None:
    """Fill a finished call's result facts from Gemini's status and the result text."""
    body = text
    if body.startswith("<untrusted_context>"):
        body = body[len("<untrusted_context>"):].lstrip()
    call.output = clip(text)
    call.output_bytes = len(text)
    call.result_seq = seq
    codes = _EXIT_CODE.findall(body) if "Exit Code:" in body else []
    call.exit_code = to_int(codes[-1]) if codes else None  # the summary line follows the output
    call.timed_out = _TIMEOUT in body[:300]
    if status == "cancelled":
        call.is_error = None
        if _DENIED in body[:300]:
            call.status = REJECTED
        else:
            call.status = INTERRUPTED
            call.interrupted = True
        return
    call.is_error = status == "error"
    if status == "error" or (call.exit_code not in (None, 0)) or call.timed_out:
        call.status = ERROR
    elif body.startswith(_USER_CANCELLED):
        call.status = INTERRUPTED
        call.interrupted = True
    else:
        call.status = _TERMINAL.get(status, OK)

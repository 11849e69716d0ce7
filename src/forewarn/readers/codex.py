"""Codex CLI rollouts → the agent-neutral model.

Layout (AGENT_CONTRACTS.md): `$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<ts>-<uuid>.jsonl` (and
`archived_sessions/`), CODEX_HOME defaulting to `~/.codex`. Two generations of lines, both read:

- envelope (Sep 2025 on): `{timestamp, type, payload}` with type session_meta | turn_context |
  response_item | event_msg | compacted;
- legacy (Aug 2025): first line `{id, timestamp, instructions, git}`, then `{"record_type":"state"}`
  lines and response items at top level, without timestamps.

Facts we rely on, all checked against real rollouts from the legacy format to 0.139:
- a call is a response item (`function_call` with JSON-string `arguments`, `custom_tool_call` with
  raw `input`, `local_shell_call` with an `action`) whose result is a later `*_output` item with the
  same `call_id`; results are matched by id, never by position;
- the exit status hides in the output text, in one shape per generation, and tool-level failures,
  denials and interrupts have their own texts: all decoded in `codex_facts`; an `exec_command_end`
  event, when present, carries the exit code directly;
- a unified-exec process still running reports its exit through a later `write_stdin` poll;
- user text arrives twice in newer files (a `message` item and a `user_message` event): we keep one.

Invariants: the reader never raises on bad input (corrupt lines are counted in `bad_lines`), never
consumes a partial last line, and reports facts only — a non-zero exit is an ERROR here even when
the analyzers later judge it benign.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from forewarn import regexes
from forewarn.model import (
    ERROR,
    INTERRUPTED,
    OK,
    PENDING,
    Chunk,
    ToolCall,
    ToolResult,
    Turn,
    clip,
)
from forewarn.paths import codex_home
from forewarn.readers.base import (
    MAX_LINE,
    Reader,
    iter_blocks,
    lines_end,
    new_chunk,
    read_head,
    walk_files,
)
from forewarn.readers.codex_facts import (
    ENVELOPE_ACTIONS,
    HEAD,
    HEAD_BYTES,
    LESSON,
    MESSAGE,
    PARSE,
    PAYLOAD_TYPE,
    ROLE_USER,
    SKIP,
    TURN_CONTEXT,
    argv_input,
    classify,
    function_input,
    json_string_after,
    output_text,
    triage,
)
from forewarn.readers.toolfacts import (
    lesson_blocks,
    parts_text,
    patch_first_file,
    to_int,
    user_text,
)

_KNOWN_EVENTS = frozenset(
    {"user_message", "agent_message", "turn_aborted", "exec_command_end", "patch_apply_end",
     "context_compacted", "token_count", "agent_reasoning", "task_started", "task_complete",
     "entered_review_mode", "exited_review_mode", "error", "stream_error", "warning",
     "turn_diff", "plan_update", "exec_approval_request", "apply_patch_approval_request",
     "mcp_tool_call_begin", "mcp_tool_call_end", "web_search_begin", "web_search_end",
     "exec_command_begin", "patch_apply_begin", "view_image_tool_call", "item_started",
     "item_completed", "undo_started", "undo_completed", "shutdown_complete", "session_configured",
     "background_event", "list_custom_prompts_response", "get_history_entry_response",
     "agent_reasoning_section_break", "agent_reasoning_raw_content", "thread_rolled_back",
     "raw_response_item", "deprecation_notice", "terminal_interaction"}
)
_KNOWN_ITEMS = frozenset(
    {"message", "reasoning", "function_call", "function_call_output", "custom_tool_call",
     "custom_tool_call_output", "local_shell_call", "web_search_call", "ghost_snapshot",
     "compaction", "compaction_summary", "tool_search_call", "tool_search_output", "other"}
)

# User-role items Codex injects itself (instructions, environment, markers): not the user's words.
_INJECTED = regexes.compile(
    r"^\s*(?:<(?:environment_context|user_instructions|INSTRUCTIONS|turn_aborted|permissions instructions"
    r"|collaboration_mode|user_shell_command|skill|subagent_notification|model_switch|personality_spec"
    r"|apps_instructions|user_action)>|# AGENTS\.md instructions)"
)
_CWD_TAG = regexes.compile(r"<cwd>([^<\n]+)</cwd>")
_UUID = regexes.compile(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.jsonl$")
_ENVELOPE = regexes.compile(rb'"type":"(?:session_meta|turn_context|response_item|event_msg|compacted)","payload":')


class _State:
    """Everything one read accumulates; `calls` holds the calls first seen in this read."""

    __slots__ = ("calls", "chunk", "compaction_open", "cwd", "exec_sessions", "last_user", "late",
                 "lessons", "session", "start")

    def __init__(self, chunk: Chunk, start: int) -> None:
        self.chunk = chunk
        self.session = chunk.session
        self.start = start
        self.cwd: str | None = chunk.session.cwd
        self.calls: dict[str, ToolCall] = {}
        self.late: dict[str, ToolResult] = {}
        self.exec_sessions: dict[int, str] = {}  # unified-exec session id → exec_command call id
        self.last_user: tuple[str, str] | None = None  # (normalized text, source) for dedup
        self.lessons: set[str] = set()
        self.compaction_open = False


class CodexReader(Reader):
    agent = "codex"
    incremental = True

    def __init__(self, home: Path | None = None) -> None:
        self._home = home

    def default_roots(self) -> list[Path]:
        home = codex_home(self._home)
        return [home / "sessions", home / "archived_sessions"]

    def discover(self, root: Path) -> Iterator[Path]:
        """Rollouts under a CODEX_HOME, its sessions dir, or any folder; an explicit file is taken
        as is. Outside `rollout-*.jsonl` names, a file is yielded only when its head sniffs as Codex
        (so `history.jsonl`, the prompt log, is left out)."""
        if root.is_file():
            yield root
            return
        for path in walk_files(root, (".jsonl",), frozenset({".git", "node_modules", "log"})):
            if self.claims(path) or self.sniff(path, read_head(path, 8192)):
                yield path

    def claims(self, path: Path) -> bool:
        return path.name.startswith("rollout-") and path.name.endswith(".jsonl")

    def sniff(self, path: Path, head: bytes) -> bool:
        if not path.name.endswith(".jsonl"):
            return False
        for line in head[:lines_end(head, 6)].split(b"\n"):
            if _ENVELOPE.search(line, 0, 400) or line.startswith(b'{"record_type":"state"'):
                return True
            if line.startswith(b'{"id":"') and (b'"instructions":' in line or b'"git":' in line):
                return True
        return False

    def project_of(self, path: Path) -> str | None:
        return None  # sessions of one CODEX_HOME span many projects: only the rollout's cwd tells

    def read(self, path: Path, start: int = 0, context: dict[str, Any] | None = None) -> Chunk:
        chunk = new_chunk(path, self.agent, start, context)
        session = chunk.session
        st = _State(chunk, start)
        try:
            with open(path, "rb") as f:
                self._scan(f, start, st)
        except OSError:
            pass  # unreadable, or gone mid-read: keep what was read, the rest comes next time
        chunk.calls = sorted(st.calls.values(), key=lambda c: c.seq)
        chunk.late_results = list(st.late.values())
        if session.session_id is None:
            m = _UUID.search(path.name)
            session.session_id = m.group(1) if m else path.stem
        if session.project is None:
            session.project = session.cwd
        return chunk

    def _scan(self, f: BinaryIO, start: int, st: _State) -> None:
        """Every line of `f` from `start`: triaged where it sits in the block, then parsed and
        recorded when it can matter.

        This is `iter_records` with the same accounts (every line in `lines`; over-long, corrupt
        and non-object lines in `bad_lines`; unparsed ones in `lines_skipped`; `end_offset` the
        first byte not consumed, which after an over-long line is where reading had got to) but
        inlined, because it runs for every line and two lines in three are dropped after one
        regex match: copying each line out and handing it through generator and callback layers
        cost more than the decision. A line is sliced out only when it is parsed. The counters
        reach the chunk in `finally`, so an OSError mid-read leaves the same accounts."""
        chunk = st.chunk
        loads, decode_error = orjson.loads, orjson.JSONDecodeError
        head = HEAD.match
        action = ENVELOPE_ACTIONS.get
        record = self._record
        max_line = MAX_LINE
        skipped = parsed = over_long = 0  # each line lands in exactly one of these
        bad = 0  # parsed lines that were no JSON object or of an unexpected shape
        end = start  # first byte not consumed
        try:
            for base, data in iter_blocks(f, start, max_line):
                if data is None:
                    over_long += 1
                    end = f.tell()
                    continue
                find = data.find
                i = 0  # where the next line starts in `data`
                long_end = -1  # end of the block's last over-long line
                while (j := find(b"\n", i)) >= 0:
                    at, i = i, j + 1  # this line is data[at:i], newline included
                    if j - at > max_line:
                        over_long += 1
                        end = base + at  # the read stops before this line should tell() fail
                        end = f.tell()  # as iter_records reports an over-long line
                        long_end = i
                        continue
                    m = head(data, at, i)
                    if m is not None and (kind := m[3]) is not None:
                        how = action(kind, PARSE)
                        if how is SKIP:
                            skipped += 1
                            continue
                        if how is MESSAGE:  # user text matters; other text only for a #lesson block
                            s = m.start(3)
                            if find(ROLE_USER, s, min(s + 64, i)) < 0 and find(b"#lesson", at, i) < 0:
                                skipped += 1
                                continue
                        elif how is LESSON and find(b"#lesson", at, i) < 0:
                            skipped += 1
                            continue
                        line = data[at:i]
                    elif m is not None and find(PAYLOAD_TYPE, at, min(at + HEAD_BYTES, i)) < 0:
                        _turn_context(data, at, i, st, m)  # what triage says of this head
                        skipped += 1
                        continue
                    else:  # legacy lines and unusual heads: the general rule
                        line = data[at:i]
                        how = triage(line)
                        if how is not PARSE:
                            skipped += 1
                            if how is TURN_CONTEXT:
                                _turn_context(data, at, i, st, None)
                            continue
                    parsed += 1
                    try:
                        rec = loads(line)
                    except decode_error:
                        if line.strip():
                            bad += 1
                        continue
                    if not isinstance(rec, dict):
                        bad += 1
                        continue
                    try:
                        record(rec, base + at, st)
                    except (AttributeError, TypeError, ValueError, KeyError):
                        bad += 1  # a well-formed line of an unexpected shape
                if long_end != i:  # after an over-long last line, `end` is where reading had got to
                    end = base + i
        finally:
            chunk.lines += skipped + parsed + over_long
            chunk.lines_skipped += skipped
            chunk.bad_lines += bad + over_long
            chunk.end_offset = end

    # -- records -----------------------------------------------------------------------------

    def _record(self, rec: dict[str, Any], offset: int, st: _State) -> None:
        kind = rec.get("type")
        payload = rec.get("payload")
        if isinstance(payload, dict) and isinstance(kind, str):
            ts = rec.get("timestamp")
            if not isinstance(ts, str):
                ts = None
            elif ts:
                session = st.session
                if session.started_at is None:
                    session.started_at = ts
                session.ended_at = ts
            if kind == "response_item":
                self._item(payload, offset, ts, st)
            elif kind == "event_msg":
                self._event(payload, offset, ts, st)
            elif kind == "session_meta":
                meta = payload.get("meta")
                self._meta(meta if isinstance(meta, dict) else payload, st)
                if isinstance(payload.get("git"), dict):
                    self._git(payload["git"], st)
            elif kind == "turn_context":
                if isinstance(payload.get("cwd"), str):
                    st.cwd = payload["cwd"]
                    if st.session.cwd is None:
                        st.session.cwd = st.cwd
                if st.session.model is None and isinstance(payload.get("model"), str):
                    st.session.model = payload["model"]
            elif kind == "compacted":
                message = payload.get("message")
                self._compaction(offset, ts, message if isinstance(message, str) else "", st)
            else:
                st.chunk.unknown_records += 1
        elif "record_type" in rec:
            return
        elif isinstance(kind, str):
            self._item(rec, offset, None, st)  # legacy: response items at top level
        elif isinstance(rec.get("id"), str) and ("instructions" in rec or "git" in rec):
            self._meta(rec, st)  # legacy first line
            if isinstance(rec.get("git"), dict):
                self._git(rec["git"], st)
            ts = rec.get("timestamp")
            if isinstance(ts, str) and st.session.started_at is None:
                st.session.started_at = ts
        else:
            st.chunk.unknown_records += 1

    @staticmethod
    def _meta(meta: dict[str, Any], st: _State) -> None:
        s = st.session
        if s.session_id is None and isinstance(meta.get("id"), str):
            s.session_id = meta["id"]
        if s.version is None and isinstance(meta.get("cli_version"), str):
            s.version = meta["cli_version"]
        if isinstance(meta.get("cwd"), str) and s.cwd is None:
            s.cwd = meta["cwd"]
            st.cwd = st.cwd or s.cwd
        if s.model is None and isinstance(meta.get("model"), str):
            s.model = meta["model"]
        if s.started_at is None and isinstance(meta.get("timestamp"), str):
            s.started_at = meta["timestamp"]

    @staticmethod
    def _git(git: dict[str, Any], st: _State) -> None:
        if st.session.git_branch is None and isinstance(git.get("branch"), str):
            st.session.git_branch = git["branch"] or None

    def _item(self, item: dict[str, Any], offset: int, ts: str | None, st: _State) -> None:
        itype = item.get("type")
        if itype == "function_call":
            call_id = item.get("call_id") or item.get("id")
            name = item.get("name")
            if isinstance(call_id, str) and isinstance(name, str):
                inp = function_input(name, item.get("arguments"))
                self._add_call(st, call_id, name, inp, offset, ts)
        elif itype == "function_call_output" or itype == "custom_tool_call_output":
            call_id = item.get("call_id")
            if isinstance(call_id, str):
                self._output(st, call_id, item.get("output"), offset)
        elif itype == "custom_tool_call":
            call_id = item.get("call_id") or item.get("id")
            name = item.get("name")
            if isinstance(call_id, str) and isinstance(name, str):
                raw = item.get("input")
                raw = raw if isinstance(raw, str) else ""
                if name == "apply_patch":
                    custom: dict[str, Any] = {"patch": clip(raw, 2000, 1000), "file_path": patch_first_file(raw)}
                else:
                    custom = {"input": clip(raw, 2000, 1000)}
                self._add_call(st, call_id, name, custom, offset, ts)
        elif itype == "local_shell_call":
            call_id = item.get("call_id") or item.get("id")
            action = item.get("action")
            if not isinstance(action, dict):
                action = {}
            if isinstance(call_id, str):
                inp = argv_input(action.get("command"))
                for key in ("working_directory", "timeout_ms"):
                    if action.get(key) is not None:
                        inp[key] = action[key]
                call = self._add_call(st, call_id, "local_shell", inp, offset, ts)
                if isinstance(action.get("working_directory"), str):
                    call.cwd = action["working_directory"]
        elif itype == "message":
            role = item.get("role")
            text = parts_text(item.get("content"))
            if role == "user":
                if text.lstrip().startswith("<environment_context>"):
                    m = _CWD_TAG.search(text)
                    if m:
                        st.cwd = m.group(1).strip()
                        if st.session.cwd is None:
                            st.session.cwd = st.cwd
                if text and not _INJECTED.match(text):
                    self._user(text, "item", offset, ts, st)
            elif role == "assistant" and "#lesson" in text:
                self._lessons(text, offset, ts, st)
        elif itype in ("compaction", "compaction_summary"):
            self._compaction(offset, ts, "", st)
        elif not isinstance(itype, str) or itype not in _KNOWN_ITEMS:
            st.chunk.unknown_records += 1

    def _event(self, ev: dict[str, Any], offset: int, ts: str | None, st: _State) -> None:
        etype = ev.get("type")
        if etype == "user_message":
            text = ev.get("message")
            if isinstance(text, str) and text.strip() and not _INJECTED.match(text):
                self._user(text, "event", offset, ts, st)
        elif etype == "agent_message":
            text = ev.get("message")
            if isinstance(text, str) and "#lesson" in text:
                self._lessons(text, offset, ts, st)
        elif etype == "turn_aborted":
            reason = ev.get("reason")
            st.chunk.turns.append(Turn(offset, "interrupt", str(reason or "interrupted"), ts))
            for call in st.calls.values():
                if call.status == PENDING:
                    call.status = INTERRUPTED
                    call.interrupted = True
        elif etype == "exec_command_end":
            call_id = ev.get("call_id")
            code = to_int(ev.get("exit_code"))
            if ev.get("status") == "declined":  # exit_code -1 there is not a real exit status
                return
            if isinstance(call_id, str) and code is not None:
                text = ev.get("aggregated_output")
                if not isinstance(text, str):
                    text = "\n".join(x for x in (ev.get("stdout"), ev.get("stderr")) if isinstance(x, str) and x)
                self._exit_fact(st, call_id, code, text, offset)
        elif etype == "patch_apply_end":
            call_id = ev.get("call_id")
            success = ev.get("success")
            if isinstance(call_id, str) and isinstance(success, bool):
                text = "\n".join(x for x in (ev.get("stdout"), ev.get("stderr")) if isinstance(x, str) and x)
                self._exit_fact(st, call_id, 0 if success else 1, text, offset, patch=True)
        elif etype == "context_compacted":
            self._compaction(offset, ts, "", st)
        elif not isinstance(etype, str) or etype not in _KNOWN_EVENTS:
            st.chunk.unknown_records += 1

    # -- calls and results -------------------------------------------------------------------

    def _add_call(self, st: _State, call_id: str, tool: str, inp: dict[str, Any], offset: int,
                  ts: str | None) -> ToolCall:
        workdir = inp.get("workdir")
        cwd = st.cwd
        if isinstance(workdir, str) and workdir:
            cwd = os.path.normpath(os.path.join(st.cwd, workdir)) if st.cwd and not os.path.isabs(workdir) else workdir
        call = ToolCall(call_id, tool, inp, offset, ts, "main", cwd)  # positional: twice as fast
        early = st.late.pop(call_id, None)  # a result written before its call (never seen; cheap)
        if early is not None:
            call.status, call.is_error, call.exit_code = early.status, early.is_error, early.exit_code
            call.output, call.output_bytes, call.result_seq = early.output, early.output_bytes, early.seq
            call.interrupted, call.timed_out = early.interrupted, early.timed_out
        st.calls[call_id] = call
        st.compaction_open = False
        return call

    def _output(self, st: _State, call_id: str, raw: Any, offset: int) -> None:
        text, meta_code, flagged = output_text(raw)
        call = st.calls.get(call_id)
        status, code, timed_out, running = classify(text, meta_code, flagged)
        size = len(text)
        shown = clip(text)
        is_error = True if flagged else None
        if call is not None:
            if code is None and call.exit_code is not None:  # an exec_command_end came first
                code = call.exit_code
                status = OK if code == 0 else ERROR
            call.status = status
            call.exit_code = code
            call.output = shown
            call.output_bytes = size
            call.result_seq = offset
            call.is_error = is_error
            call.timed_out = timed_out
            call.interrupted = status == INTERRUPTED
            if running is not None:
                if call.tool == "write_stdin":
                    call.status = OK  # the poll itself worked; the process it polled runs on
                else:
                    st.exec_sessions[running] = call_id
            if call.tool == "write_stdin" and code is not None:
                self._finish_exec(st, call, code, text)
        else:
            prior = st.late.get(call_id)
            if code is None and prior is not None and prior.exit_code is not None:
                code = prior.exit_code
                status = OK if code == 0 else ERROR
            st.late[call_id] = ToolResult(call_id, offset, status, is_error, code, shown, size,
                                          status == INTERRUPTED, timed_out)

    @staticmethod
    def _finish_exec(st: _State, poll: ToolCall, code: int, text: str) -> None:
        """A write_stdin poll saw the process of an earlier exec_command exit: that call's outcome."""
        sid = to_int(poll.input.get("session_id"))
        origin_id = st.exec_sessions.get(sid) if sid is not None else None
        origin = st.calls.get(origin_id) if origin_id else None
        if origin is None or origin.exit_code is not None:
            return
        origin.exit_code = code
        origin.status = OK if code == 0 else ERROR
        origin.output = clip(f"{origin.output}\n{text}")
        origin.output_bytes += len(text)

    @staticmethod
    def _exit_fact(st: _State, call_id: str, code: int, text: str, offset: int, patch: bool = False) -> None:
        """An end event's exit status: authoritative for the code, the output item still brings the
        text the model saw."""
        status = OK if code == 0 else ERROR
        call = st.calls.get(call_id)
        if call is not None:
            call.exit_code = None if patch else code
            if call.status in (PENDING, OK, ERROR):
                call.status = status
            if not call.output:
                call.output = clip(text)
                call.output_bytes = len(text)
                call.result_seq = offset
            return
        prior = st.late.get(call_id)
        if prior is not None:
            prior.exit_code = None if patch else code
            if prior.status in (OK, ERROR, PENDING):
                prior.status = status
        else:
            st.late[call_id] = ToolResult(call_id, offset, status, None, None if patch else code,
                                          clip(text), len(text))

    # -- turns -------------------------------------------------------------------------------

    @staticmethod
    def _user(text: str, source: str, offset: int, ts: str | None, st: _State) -> None:
        norm = text.strip()
        if st.last_user is not None and st.last_user[0] == norm and st.last_user[1] != source:
            st.last_user = None  # the same words through the other channel: already counted
            return
        st.last_user = (norm, source)
        st.compaction_open = False
        st.chunk.turns.append(Turn(offset, "user", user_text(text), ts))

    @staticmethod
    def _lessons(text: str, offset: int, ts: str | None, st: _State) -> None:
        for block in lesson_blocks(text):
            if block not in st.lessons:  # the item and the agent_message event repeat each other
                st.lessons.add(block)
                st.chunk.turns.append(Turn(offset, "lesson_tag", block, ts))

    @staticmethod
    def _compaction(offset: int, ts: str | None, text: str, st: _State) -> None:
        if st.compaction_open:
            return  # `compacted` record and `context_compacted` event describe one compaction
        st.compaction_open = True
        st.chunk.turns.append(Turn(offset, "compaction", clip(text, 1500, 500), ts))


# -- turn_context lines, read without parsing ------------------------------------------------

def _turn_context(data: bytes, i: int, k: int, st: _State, head: re.Match[bytes] | None) -> None:
    """cwd and model of the turn_context line data[i:k]. `cwd` is the payload's first key and
    `model` a top-level one; nested objects (sandbox policy) carry neither, and keys inside
    instruction text are escaped, so the first unescaped match is the right one. `head`, the
    line's `HEAD` match when it had one, holds the timestamp and usually the cwd as plain ASCII:
    decoding them is all the JSON decoder would do, and the line need not be copied out."""
    line: bytes | None = None
    if head is not None:
        ts: str | None = head[1].decode()
    else:
        line = data[i:k]
        ts = json_string_after(line, b'"timestamp":"')
    if ts:
        if st.session.started_at is None:
            st.session.started_at = ts
        st.session.ended_at = ts
    plain_cwd = head[2] if head is not None else None
    if plain_cwd is not None:
        cwd: str | None = plain_cwd.decode()
    else:
        line = line or data[i:k]
        cwd = json_string_after(line, b'"cwd":"')
    if cwd:
        st.cwd = cwd
        if st.session.cwd is None:
            st.session.cwd = cwd
    if st.session.model is None:
        st.session.model = json_string_after(line or data[i:k], b'"model":"')

"""Claude Code transcripts → the agent-neutral model.

Layout (AGENT_CONTRACTS.md): `<config>/projects/<slug>/<session-id>.jsonl`, subagents in
`<slug>/<session-id>/subagents/agent-*.jsonl` (2.1.x) or `<slug>/agent-*.jsonl` (2.0.x). Every line
is one JSON record; we read `user`, `assistant` and `system` records and skip the rest cheaply.

Facts we rely on, all checked against real transcripts from 1.0.x to 2.1.x:
- a `tool_use` block sits in an assistant line; its `tool_result` comes in a later user line, or
  occasionally an earlier one: results are matched to calls by id, never by position;
- `is_error: true` marks a failed result; absent means success; the text may be wrapped in
  `<tool_use_error>` (validation), start with "Exit code N" (Bash), or say the user rejected it;
- `message` is usually an object but can be a plain string;
- sidechain (subagent) lines can interleave with the main thread in older versions.

Lines: half of a transcript never matters (progress records, file snapshots, bookkeeping records,
assistant lines with only text or thinking) and is recognised from the line's bytes without
parsing: `_skip_line` is the rule, applied where the line sits in the block it was read in. A line
is skipped only where parsing it could change nothing (no call, result, turn or count).

Invariants: the reader never consumes a partial last line, keeps the chunk's line accounts exactly
as `iter_records` keeps them, never raises on a file's contents (corrupt lines count in
`bad_lines`, records of any shape are read or counted), and reports facts only (a failed result is
an ERROR here even when the analyzers later judge it benign).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from forewarn.model import (
    ERROR,
    INTERRUPTED,
    OK,
    REJECTED,
    Chunk,
    SessionInfo,
    ToolCall,
    ToolResult,
    Turn,
    clip,
)
from forewarn.paths import claude_config_dir
from forewarn.readers.base import MAX_LINE, Reader, iter_blocks, lines_end, new_chunk
from forewarn.readers.toolfacts import MAX_INPUT_STR, lesson_blocks

REJECT_PREFIX = "The user doesn't want to proceed with this tool use"
REJECT_SAID = "the user said:\n"
INTERRUPT_TEXT = "[Request interrupted by user"
_EXIT_CODE = re.compile(r"^Exit code (-?\d+)")
_TIMEOUT = re.compile(r"^Command timed out after|^Error: Command timed out|timed out after \d+")
_MAX_USER_TEXT = 4000

# Line types that never carry tool calls, results or user turns: skipped without parsing.
_SKIP_TYPES = re.compile(
    rb'"type":"(?:file-history-snapshot|progress|queue-operation|summary|custom-title|last-prompt)"'
)
_KNOWN_TYPES = frozenset(
    {"user", "assistant", "system", "summary", "file-history-snapshot", "queue-operation",
     "progress", "attachment", "custom-title", "last-prompt", "agent-name", "pr-link", "tag",
     "permission-mode", "ai-title", "mode"}
)
_UNREAD_TYPES = frozenset(t.encode() for t in _KNOWN_TYPES - {"user", "assistant", "system"})
_TYPE_WITHIN = 1024  # the record's own type, when it comes first, is named within this many bytes
_SKIP_WITHIN = 200  # a type of `_SKIP_TYPES` named within this many bytes is the line's own


def _text_of(content: Any) -> str:
    """The text of a tool_result's content: a string, or a list of blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, dict):
                if block.get("type") == "text":
                    parts.append(str(block.get("text", "")))
                elif block.get("type") == "image":
                    parts.append("[image]")
            elif isinstance(block, str):
                parts.append(block)
        return "\n".join(parts)
    if content is None:
        return ""
    return str(content)


def _result_facts(block: dict[str, Any], sibling: Any) -> tuple[str, bool | None, int | None, str, int, bool, bool, str | None]:
    """(status, is_error, exit_code, text, size, interrupted, timed_out, user_note) of a result."""
    content = block.get("content")
    text = content if isinstance(content, str) else _text_of(content)
    is_error = block.get("is_error")
    exit_code = None
    interrupted = timed_out = False
    note = None
    if is_error is None:
        status = OK
    elif is_error:
        is_error = True
        status = ERROR
        if text.startswith(REJECT_PREFIX):
            status = REJECTED
            idx = text.find(REJECT_SAID)
            if idx >= 0:
                note = text[idx + len(REJECT_SAID):].strip()[:_MAX_USER_TEXT] or None
        elif text.startswith(INTERRUPT_TEXT):
            status = INTERRUPTED
            interrupted = True
        m = _EXIT_CODE.match(text)
        if m:
            exit_code = int(m.group(1))
        if _TIMEOUT.search(text[:300]):
            timed_out = True
    else:
        is_error = False
        status = OK
    if isinstance(sibling, dict):
        if sibling.get("interrupted") is True:
            interrupted = True
            if status == OK:
                status = INTERRUPTED
        if exit_code is None:
            code = sibling.get("exitCode", sibling.get("returnCode"))
            if isinstance(code, int):
                exit_code = code
    elif (is_error and isinstance(sibling, str) and "timed out" in sibling[:200]) or (
        not is_error and text.startswith("Command running in background") and "timed out" in text[:300]
    ):
        timed_out = True
    return status, is_error, exit_code, clip(text), len(text), interrupted, timed_out, note


def _input_of(value: Any) -> dict[str, Any]:
    """A tool_use block's input with long strings clipped (as `toolfacts.trim_input` gives it).
    The decoded dict is fresh and ours, so it is kept and only its long strings are replaced."""
    if not isinstance(value, dict):
        return {"value": value} if value is not None else {}
    for key, item in value.items():
        if isinstance(item, str) and len(item) > MAX_INPUT_STR:
            value[key] = clip(item, 2000, 1000)  # same keys: safe while iterating
    return value


class ClaudeReader(Reader):
    agent = "claude"
    incremental = True

    def __init__(self, config_dir: Path | None = None) -> None:
        self._config_dir = config_dir

    def default_roots(self) -> list[Path]:
        return [claude_config_dir(self._config_dir) / "projects"]

    def discover(self, root: Path) -> Iterator[Path]:
        """Transcripts under a config dir (`.claude`), its `projects/` dir, one project dir, or
        any folder; subagent transcripts included."""
        if root.is_file():
            yield root
            return
        if (root / "projects").is_dir():
            root = root / "projects"
        found: list[str] = []
        for dirpath, dirnames, filenames in os.walk(root, onerror=lambda _e: None):
            dirnames[:] = [d for d in dirnames if d not in {"tool-results", "memory", "node_modules", ".git"}]
            found.extend(os.path.join(dirpath, n) for n in filenames if n.endswith(".jsonl"))
        for name in sorted(found):
            yield Path(name)

    def sniff(self, path: Path, head: bytes) -> bool:
        if not path.name.endswith(".jsonl"):
            return False
        end = lines_end(head, 8)  # the first 8 lines
        find = head.find
        if find(b'"projectHash"', 0, end) >= 0:
            return False  # a Gemini CLI chat recording: it has a sessionId too
        return (find(b'"sessionId"', 0, end) >= 0 or find(b'"parentUuid"', 0, end) >= 0
                or find(b'"leafUuid"', 0, end) >= 0
                or head.startswith(b'{"type":"summary"') or find(b'\n{"type":"summary"', 0, end) >= 0)

    def project_of(self, path: Path) -> str | None:
        return None  # the cwd recorded in the transcript is authoritative; see read()

    def read(self, path: Path, start: int = 0, context: dict[str, Any] | None = None) -> Chunk:
        chunk = new_chunk(path, self.agent, start, context)
        session = chunk.session
        calls: dict[str, ToolCall] = {}
        orphans: dict[str, ToolResult] = {}
        with open(path, "rb") as f:  # an unreadable file raises OSError: the scan counts it as skipped
            self._scan(f, start, chunk, calls, orphans, path.name.startswith("agent-"))
        for result in orphans.values():
            chunk.late_results.append(result)
        chunk.calls = sorted(calls.values(), key=lambda c: c.seq)
        if session.project is None:
            session.project = session.cwd
        if session.session_id is None:
            session.session_id = path.stem
        return chunk

    def _scan(self, f: BinaryIO, start: int, chunk: Chunk, calls: dict[str, ToolCall],
              orphans: dict[str, ToolResult], subagent: bool) -> None:
        """Every line of `f` from `start`: judged by `_skip_line` where it sits in the block, and
        parsed and recorded when it can matter.

        This is `iter_records(f, start, chunk, skip)` with the same accounts (every line in
        `lines`; over-long, corrupt and non-object lines in `bad_lines`; unparsed ones in
        `lines_skipped`; `end_offset` the first byte not consumed, which after an over-long line
        is where reading had got to), inlined because it runs for every line and half the lines
        are dropped after a few byte searches: copying each line out and handing it through
        generator and callback layers cost more than the decision. A line is sliced out only
        when it is parsed."""
        session = chunk.session
        loads, decode_error = orjson.loads, orjson.JSONDecodeError
        own_type, nested = _skip_own_type, _skip_nested
        record = self._record
        max_line = MAX_LINE
        skipped = parsed = over_long = 0  # each line lands in exactly one of these
        bad = 0  # parsed lines that were no JSON object
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
                        end = f.tell()  # as iter_records reports an over-long line
                        long_end = i
                        continue
                    # `_skip_line`, its first step inlined
                    k = find(b'"type":"', at, i if j - at < _TYPE_WITHIN else at + _TYPE_WITHIN)
                    if k > at and find(b"{", at + 1, k) < 0 and find(b"[", at, k) < 0:
                        # the two commonest own types decided here: `user` parsed, `progress` not
                        if data.startswith(b'progress"', k + 8, i) or (
                                not data.startswith(b'user"', k + 8, i) and own_type(data, at, i, k)):
                            skipped += 1
                            continue
                    elif nested(data, at, i, k):
                        skipped += 1
                        continue
                    parsed += 1
                    line = data[at:i]
                    try:
                        rec = loads(line)
                    except decode_error:
                        if line.strip():
                            bad += 1
                        continue
                    if not isinstance(rec, dict):
                        bad += 1
                        continue
                    record(rec, base + at, session, chunk, calls, orphans, subagent)
                if long_end != i:  # after an over-long last line, `end` is where reading had got to
                    end = base + i
        finally:
            chunk.lines += skipped + parsed + over_long
            chunk.lines_skipped += skipped
            chunk.bad_lines += bad + over_long
            chunk.end_offset = end

    def _record(self, rec: dict[str, Any], offset: int, session: SessionInfo, chunk: Chunk,
                calls: dict[str, ToolCall], orphans: dict[str, ToolResult], subagent: bool) -> None:
        get = rec.get
        kind = get("type")
        if kind != "assistant" and kind != "user" and kind != "system":
            if not isinstance(kind, str) or kind not in _KNOWN_TYPES:
                chunk.unknown_records += 1
            return
        ts = get("timestamp")
        if not isinstance(ts, str):
            ts = None
        cwd = get("cwd")
        if not isinstance(cwd, str):
            cwd = None
        if session.version is None:  # the first record with metadata fills the session in
            _session_meta(rec, session)
        if cwd and session.cwd is None:
            session.cwd = cwd
        if ts:
            if session.started_at is None:
                session.started_at = ts
            session.ended_at = ts
        thread = "main"
        if get("isSidechain") is True and not subagent:
            thread = "side:" + str(get("agentId") or "sidechain")
        if kind == "system":
            if get("subtype") == "compact_boundary":
                chunk.turns.append(Turn(offset, "compaction", "", ts, thread))
            return
        message = get("message")
        if isinstance(message, str):
            if kind == "user" and not get("isMeta"):
                self._user_text(message, offset, ts, thread, chunk)
            return
        if not isinstance(message, dict):
            return
        content = message.get("content")
        if kind == "assistant":
            if session.model is None:
                model = message.get("model")
                if isinstance(model, str) and model != "<synthetic>":
                    session.model = model
            if not isinstance(content, list):
                return
            for block in content:
                if not isinstance(block, dict):
                    continue
                btype = block.get("type")
                if btype == "tool_use":
                    call_id = block.get("id")
                    if not isinstance(call_id, str):
                        continue
                    # positional: twice as fast as keywords
                    call = ToolCall(call_id, str(block.get("name") or "?"), _input_of(block.get("input")),
                                    offset, ts, thread, cwd)
                    if orphans:
                        early = orphans.pop(call_id, None)
                        if early is not None:
                            _apply(call, early)
                    calls[call_id] = call
                elif btype == "text":
                    text = block.get("text")
                    if isinstance(text, str) and "#lesson" in text:
                        for body in lesson_blocks(text):
                            chunk.turns.append(Turn(offset, "lesson_tag", body[:_MAX_USER_TEXT], ts, thread))
            return
        # user line
        if get("isCompactSummary"):
            return  # the summary text is ours to skip; the boundary marked the compaction
        if isinstance(content, str):
            if not get("isMeta"):
                self._user_text(content, offset, ts, thread, chunk)
            return
        if not isinstance(content, list):
            return
        sibling = get("toolUseResult")
        for block in content:
            if not isinstance(block, dict):
                continue
            btype = block.get("type")
            if btype == "tool_result":
                call_id = block.get("tool_use_id")
                if not isinstance(call_id, str):
                    continue
                facts = _result_facts(block, sibling)
                known = calls.get(call_id)
                if known is not None:
                    (known.status, known.is_error, known.exit_code, known.output, known.output_bytes,
                     known.interrupted, known.timed_out, known.user_note) = facts
                    known.result_seq = offset
                else:
                    orphans[call_id] = ToolResult(call_id, offset, *facts)
            elif btype == "text" and not get("isMeta"):
                text = block.get("text")
                if isinstance(text, str):
                    self._user_text(text, offset, ts, thread, chunk)

    @staticmethod
    def _user_text(text: str, offset: int, ts: str | None, thread: str, chunk: Chunk) -> None:
        stripped = text.lstrip()
        if stripped.startswith(INTERRUPT_TEXT):
            chunk.turns.append(Turn(offset, "interrupt", stripped[:200], ts, thread))
            return
        if stripped.startswith(("<command-", "<local-command-", "<system-reminder>", "Caveat: The messages below")):
            return  # slash-command plumbing and reminders, not the user's words
        chunk.turns.append(Turn(offset, "user", clip(stripped, _MAX_USER_TEXT, 500), ts, thread))


def _session_meta(rec: dict[str, Any], session: SessionInfo) -> None:
    if session.session_id is None and isinstance(rec.get("sessionId"), str):
        session.session_id = rec["sessionId"]
    if isinstance(rec.get("version"), str):
        session.version = rec["version"]
    if session.git_branch is None and isinstance(rec.get("gitBranch"), str):
        session.git_branch = rec["gitBranch"] or None


def _skip_line(data: bytes, at: int, end: int) -> bool:
    """Whether the line data[at:end] need not be parsed: a record type that never carries calls,
    results or user words, or an assistant line with neither a tool call nor a `#lesson` block.

    Only byte searches bounded by the line, so a line is judged where it sits in its block
    (`ClaudeReader._scan` inlines this first step). Most records name their type before any
    nested value: when only plain values come before the first `"type":"`, it is the record's
    own (quotes inside strings are escaped, and a brace inside a string only sends the line to
    the slower `_skip_nested`)."""
    k = data.find(b'"type":"', at, min(at + _TYPE_WITHIN, end))
    if k > at and data.find(b"{", at + 1, k) < 0 and data.find(b"[", at, k) < 0:
        return _skip_own_type(data, at, end, k)
    return _skip_nested(data, at, end, k)


def _skip_own_type(data: bytes, at: int, end: int, k: int) -> bool:
    """`_skip_line` for a line whose own type is named first, at `k`."""
    find = data.find
    q = find(b'"', k + 8, end)
    kind = data[k + 8 : q if q >= 0 else end - 1]
    if kind in _UNREAD_TYPES:
        return True
    if kind != b"assistant":
        return False  # user, system, or unknown (parsed, so that it is counted)
    return (find(b'"role":"assistant"', at, end) >= 0 and find(b'"tool_use"', at, end) < 0
            and not _has_lesson(data, at, end) and find(b'"tool_result"', at, end) < 0)


def _skip_nested(data: bytes, at: int, end: int, k: int) -> bool:
    """`_skip_line` for a line whose first `"type":"`, at `k` (-1: none in the first
    `_TYPE_WITHIN` bytes), may be a nested value's: assistant lines name theirs after the message."""
    find = data.find
    # A type of `_SKIP_TYPES` named in the first `_SKIP_WITHIN` bytes is the line's own. Such a
    # name starts at or after `k` and is at least 16 bytes long (`"type":"summary"`).
    if 0 <= k <= at + _SKIP_WITHIN - 16 and _SKIP_TYPES.search(data, k, min(at + _SKIP_WITHIN, end)):
        return True
    # A line carrying a tool call or result is never skipped, even when its payload nests an
    # assistant message. The `"tool_…` searches start where the first `"tool_` is: one pass over
    # the line when there is none, as in most assistant text.
    t = find(b'"tool_', at, end)
    if t >= 0 and (find(b'"tool_use"', t, end) >= 0 or find(b'"tool_result"', t, end) >= 0):
        return False
    # An assistant line with only text or thinking. Quotes inside JSON strings are escaped, so an
    # unescaped `"role":"assistant"` can only be a message's own.
    if not _has_lesson(data, at, end) and find(b'"role":"assistant"', at, end) >= 0:
        return True
    # Progress records of some versions name their type only after a long `data` payload; they
    # never carry a call or a result of ours (a line that does is always parsed).
    return find(b'"type":"progress"', at, end) >= 0 and (t < 0 or find(b'"tool_use', t, end) < 0)


def _has_lesson(data: bytes, at: int, end: int) -> bool:
    """Whether data[at:end] holds `#lesson`; most lines hold no `#`, which memchr rules out fast."""
    h = data.find(b"#", at, end)
    return h >= 0 and data.find(b"#lesson", h, end) >= 0


def _apply(call: ToolCall, result: ToolResult) -> None:
    call.status = result.status
    call.is_error = result.is_error
    call.exit_code = result.exit_code
    call.output = result.output
    call.output_bytes = result.output_bytes
    call.result_seq = result.seq
    call.interrupted = result.interrupted
    call.timed_out = result.timed_out
    call.user_note = result.user_note

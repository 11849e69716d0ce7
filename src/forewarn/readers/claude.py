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

Lines: most of a transcript's bytes are never needed (tool outputs repeated in `toolUseResult`,
thinking blocks, file snapshots, progress payloads). Each block of lines is decoded in one call
into typed records (`claude_records.Record`) that name only the fields read here: msgspec skips the rest
without building Python objects for it. A block it cannot decode whole (a corrupt line, an
unexpected shape) is read again line by line, so one bad line costs only its own record.

Invariants: the reader never consumes a partial last line, keeps the chunk's line accounts exactly
as `iter_records` keeps them, never raises on a file's contents (corrupt lines count in
`bad_lines`, records of any shape are read or counted), and reports facts only (a failed result is
an ERROR here even when the analyzers later judge it benign).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from forewarn import regexes
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
from forewarn.readers.base import Reader, lines_end, new_chunk, walk_files
from forewarn.readers.toolfacts import MAX_INPUT_STR, lesson_blocks

if TYPE_CHECKING:
    from forewarn.readers.claude_records import Block, Record, ToolUseResult

REJECT_PREFIX = "The user doesn't want to proceed with this tool use"
REJECT_SAID = "the user said:\n"
INTERRUPT_TEXT = "[Request interrupted by user"
_EXIT_CODE = regexes.compile(r"^Exit code (-?\d+)")
_TIMEOUT = regexes.compile(r"^Command timed out after|^Error: Command timed out|timed out after \d+")
_MAX_USER_TEXT = 4000

_KNOWN_TYPES = frozenset(
    {"user", "assistant", "system", "summary", "file-history-snapshot", "queue-operation",
     "progress", "attachment", "custom-title", "last-prompt", "agent-name", "pr-link", "tag",
     "permission-mode", "ai-title", "mode"}
)
_UNREAD_TYPES = _KNOWN_TYPES - {"user", "assistant", "system"}  # known, and never carry what we read
_SKIP_DIRS = frozenset({"tool-results", "memory", "node_modules", ".git"})  # never transcripts


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


def _result_facts(block: Block, sibling: ToolUseResult | str | None) -> tuple[str, bool | None, int | None, str, int, bool, bool, str | None]:
    """(status, is_error, exit_code, text, size, interrupted, timed_out, user_note) of a result."""
    content = block.content
    text = content if isinstance(content, str) else _text_of(content)
    is_error = block.is_error
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
    if sibling is not None and not isinstance(sibling, str):  # a ToolUseResult
        if sibling.interrupted is True:
            interrupted = True
            if status == OK:
                status = INTERRUPTED
        if exit_code is None:
            code = sibling.exitCode if sibling.exitCode is not None else sibling.returnCode
            if isinstance(code, int) and not isinstance(code, bool):
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
        yield from walk_files(root, (".jsonl",), _SKIP_DIRS)

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
        """Every line of `f` from `start`, decoded (`iter_decoded` keeps the line accounts) and
        recorded; records of a type never read count in `lines_skipped`."""
        from forewarn.readers import claude_records
        from forewarn.readers.decoded import iter_decoded

        session = chunk.session
        record = self._record
        unread = _UNREAD_TYPES
        for offset, rec in iter_decoded(f, start, chunk, claude_records.DECODER, claude_records.coerce):
            kind = rec.type
            if kind.__class__ is str and kind in unread:
                chunk.lines_skipped += 1
            else:
                record(rec, offset, session, chunk, calls, orphans, subagent)

    def _record(self, rec: Record, offset: int, session: SessionInfo, chunk: Chunk,
                calls: dict[str, ToolCall], orphans: dict[str, ToolResult], subagent: bool) -> None:
        kind = rec.type
        if kind != "assistant" and kind != "user" and kind != "system":
            if not isinstance(kind, str) or kind not in _KNOWN_TYPES:
                chunk.unknown_records += 1
            return
        ts = rec.timestamp
        if not isinstance(ts, str):
            ts = None
        cwd = rec.cwd
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
        if rec.isSidechain is True and not subagent:
            thread = "side:" + str(rec.agentId or "sidechain")
        if kind == "system":
            if rec.subtype == "compact_boundary":
                chunk.turns.append(Turn(offset, "compaction", "", ts, thread))
            return
        message = rec.message
        if message is None:
            return
        if isinstance(message, str):
            if kind == "user" and not rec.isMeta:
                self._user_text(message, offset, ts, thread, chunk)
            return
        content = message.content
        if kind == "assistant":
            if session.model is None:
                model = message.model
                if isinstance(model, str) and model != "<synthetic>":
                    session.model = model
            if not isinstance(content, list):
                return
            for block in content:
                btype = block.type
                if btype == "tool_use":
                    call_id = block.id
                    if not isinstance(call_id, str):
                        continue
                    # positional: twice as fast as keywords
                    call = ToolCall(call_id, str(block.name or "?"), _input_of(block.input), offset, ts, thread, cwd)
                    if orphans:
                        early = orphans.pop(call_id, None)
                        if early is not None:
                            _apply(call, early)
                    calls[call_id] = call
                elif btype == "text":
                    text = block.text
                    if isinstance(text, str) and "#lesson" in text:
                        for body in lesson_blocks(text):
                            chunk.turns.append(Turn(offset, "lesson_tag", body[:_MAX_USER_TEXT], ts, thread))
            return
        # user line
        if rec.isCompactSummary:
            return  # the summary text is ours to skip; the boundary marked the compaction
        if isinstance(content, str):
            if not rec.isMeta:
                self._user_text(content, offset, ts, thread, chunk)
            return
        if content is None:
            return
        sibling = rec.toolUseResult
        for block in content:
            btype = block.type
            if btype == "tool_result":
                call_id = block.tool_use_id
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
            elif btype == "text" and not rec.isMeta:
                text = block.text
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


def _session_meta(rec: Record, session: SessionInfo) -> None:
    if session.session_id is None and isinstance(rec.sessionId, str):
        session.session_id = rec.sessionId
    if isinstance(rec.version, str):
        session.version = rec.version
    if session.git_branch is None and isinstance(rec.gitBranch, str):
        session.git_branch = rec.gitBranch or None


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

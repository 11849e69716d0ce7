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
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
from forewarn.readers.base import Reader, iter_records, new_chunk
from forewarn.readers.toolfacts import lesson_blocks, trim_input

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
    text = _text_of(block.get("content"))
    is_error = block.get("is_error")
    is_error = bool(is_error) if is_error is not None else None
    status = ERROR if is_error else OK
    exit_code = None
    interrupted = False
    timed_out = False
    note = None
    if is_error:
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
    if isinstance(sibling, dict):
        if sibling.get("interrupted") is True:
            interrupted = True
            if status == OK:
                status = INTERRUPTED
        code = sibling.get("exitCode", sibling.get("returnCode"))
        if isinstance(code, int) and exit_code is None:
            exit_code = code
    elif (is_error and isinstance(sibling, str) and "timed out" in sibling[:200]) or (
        not is_error and text.startswith("Command running in background") and "timed out" in text[:300]
    ):
        timed_out = True
    return status, is_error, exit_code, clip(text), len(text), interrupted, timed_out, note


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
        first = head.split(b"\n", 8)[:8]
        if any(b'"projectHash"' in line for line in first):
            return False  # a Gemini CLI chat recording: it has a sessionId too
        for line in first:
            if b'"sessionId"' in line or b'"parentUuid"' in line:
                return True
            if line.startswith(b'{"type":"summary"') or b'"leafUuid"' in line:
                return True
        return False

    def project_of(self, path: Path) -> str | None:
        return None  # the cwd recorded in the transcript is authoritative; see read()

    def read(self, path: Path, start: int = 0, context: dict[str, Any] | None = None) -> Chunk:
        chunk = new_chunk(path, self.agent, start, context)
        session = chunk.session
        subagent = path.name.startswith("agent-")
        calls: dict[str, ToolCall] = {}
        orphans: dict[str, ToolResult] = {}
        with open(path, "rb") as f:  # an unreadable file raises OSError: the scan counts it as skipped
            for offset, rec in iter_records(f, start, chunk, _uninteresting):
                self._record(rec, offset, session, chunk, calls, orphans, subagent)
        for result in orphans.values():
            chunk.late_results.append(result)
        chunk.calls = sorted(calls.values(), key=lambda c: c.seq)
        if session.project is None:
            session.project = session.cwd
        if session.session_id is None:
            session.session_id = path.stem
        return chunk

    def _record(self, rec: dict[str, Any], offset: int, session: SessionInfo, chunk: Chunk,
                calls: dict[str, ToolCall], orphans: dict[str, ToolResult], subagent: bool) -> None:
        kind = rec.get("type")
        if kind not in ("user", "assistant", "system"):
            if kind not in _KNOWN_TYPES:
                chunk.unknown_records += 1
            return
        ts = rec.get("timestamp")
        if not isinstance(ts, str):
            ts = None
        cwd = rec.get("cwd")
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
        if rec.get("isSidechain") is True and not subagent:
            thread = "side:" + str(rec.get("agentId") or "sidechain")
        if kind == "system":
            if rec.get("subtype") == "compact_boundary":
                chunk.turns.append(Turn(offset, "compaction", "", ts, thread))
            return
        message = rec.get("message")
        if isinstance(message, str):
            if kind == "user" and not rec.get("isMeta"):
                self._user_text(message, offset, ts, thread, chunk)
            return
        if not isinstance(message, dict):
            return
        content = message.get("content")
        if kind == "assistant":
            if session.model is None and isinstance(message.get("model"), str) and message["model"] != "<synthetic>":
                session.model = message["model"]
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
                    call = ToolCall(
                        call_id=call_id,
                        tool=str(block.get("name") or "?"),
                        input=trim_input(block.get("input")),
                        seq=offset,
                        timestamp=ts,
                        thread=thread,
                        cwd=cwd,
                    )
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
        if rec.get("isCompactSummary"):
            return  # the summary text is ours to skip; the boundary marked the compaction
        if isinstance(content, str):
            if not rec.get("isMeta"):
                self._user_text(content, offset, ts, thread, chunk)
            return
        if not isinstance(content, list):
            return
        sibling = rec.get("toolUseResult")
        for block in content:
            if not isinstance(block, dict):
                continue
            btype = block.get("type")
            if btype == "tool_result":
                call_id = block.get("tool_use_id")
                if not isinstance(call_id, str):
                    continue
                status, is_error, code, text, size, interrupted, timed_out, note = _result_facts(block, sibling)
                result = ToolResult(call_id, offset, status, is_error, code, text, size, interrupted, timed_out, note)
                known = calls.get(call_id)
                if known is not None:
                    _apply(known, result)
                else:
                    orphans[call_id] = result
            elif btype == "text" and not rec.get("isMeta"):
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


def _uninteresting(line: bytes) -> bool:
    """A line we need not parse: a record type that never carries calls, results or user words,
    or an assistant line with neither a tool call nor a `#lesson` block."""
    # Most records name their type before any nested value: when only plain values come before
    # the first `"type":"`, it is the record's own (quotes inside strings are escaped, and a brace
    # inside a string only sends the line down the slower path below).
    i = line.find(b'"type":"', 0, 1024)
    if i > 0 and line.find(b"{", 1, i) < 0 and line.find(b"[", 0, i) < 0:
        kind = line[i + 8 : line.find(b'"', i + 8)]
        if kind in _UNREAD_TYPES:
            return True
        if kind != b"assistant":
            return False  # user, system, or unknown (parsed, so that it is counted)
    elif _SKIP_TYPES.search(line, 0, 200):
        return True
    elif b'"type":"progress"' in line and b'"tool_use' not in line and b'"tool_result"' not in line:
        # progress records of some versions name their type only after a long `data` payload;
        # they never carry a call or a result of ours (a line that does is always parsed)
        return True
    # a line carrying tool results is never skipped, even when its payload nests an assistant message
    return (is_plain_assistant(line) and b'"tool_use"' not in line and b"#lesson" not in line
            and b'"tool_result"' not in line)


def is_plain_assistant(line: bytes) -> bool:
    """An assistant line with no tool call: only text or thinking, nothing we need. Quotes inside
    JSON strings are escaped, so an unescaped `"role":"assistant"` can only be the message's own."""
    return b'"role":"assistant"' in line


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

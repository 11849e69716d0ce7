"""The agent-neutral model every reader produces and every analyzer consumes.

A reader turns one agent's log bytes into a `Chunk`: the session it belongs to, the tool calls it
saw (with their results when the result was in the same bytes), results whose call was read
earlier, user turns and compactions. Positions (`seq`) are byte offsets into the session file, so
they stay unique and ordered across incremental reads of a growing file.

Nothing here knows about Claude Code, Codex or Gemini; the canonical tool names in `TOOL_FAMILY`
are the one table that maps every agent's tool names onto the families the analyzers reason about.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Outcome of a tool call as the agent reported it (before any judgement about benign exits).
OK = "ok"
ERROR = "error"  # the agent flagged the result as an error, or an exit code said so
REJECTED = "rejected"  # the user declined the call
INTERRUPTED = "interrupted"  # the user interrupted while it ran
PENDING = "pending"  # no result seen (yet)

# Every agent's tool names mapped onto one family. Analyzers and lessons speak in families, so a
# lesson learned from a Codex `exec_command` fires for a Claude Code `Bash` call and vice versa.
TOOL_FAMILY: dict[str, str] = {
    # shell
    "Bash": "shell",
    "BashOutput": "shell_output",
    "KillShell": "shell_output",
    "shell": "shell",
    "shell_command": "shell",
    "exec_command": "shell",
    "local_shell_call": "shell",
    "local_shell": "shell",
    "write_stdin": "shell_output",
    "run_shell_command": "shell",
    "container.exec": "shell",
    # reading
    "Read": "read",
    "read_file": "read",
    "read_many_files": "read",
    "NotebookRead": "read",
    "view_image": "read",
    # editing
    "Edit": "edit",
    "MultiEdit": "edit",
    "apply_patch": "edit",
    "replace": "edit",
    "edit_file": "edit",
    "NotebookEdit": "edit",
    # writing
    "Write": "write",
    "write_file": "write",
    # searching
    "Grep": "search",
    "search_file_content": "search",
    "grep_search": "search",
    "Glob": "glob",
    "glob": "glob",
    "LS": "glob",
    "list_directory": "glob",
    # web
    "WebFetch": "web",
    "WebSearch": "web",
    "web_fetch": "web",
    "google_web_search": "web",
    "web_search": "web",
}

# The name each family has in Claude Code, used when a lesson names its tools for the Claude hook.
CLAUDE_TOOL_FOR_FAMILY: dict[str, str] = {
    "shell": "Bash",
    "read": "Read",
    "edit": "Edit",
    "write": "Write",
    "search": "Grep",
    "glob": "Glob",
    "web": "WebFetch",
}


def tool_family(name: str) -> str:
    """The family of a tool name; MCP and unknown tools are their own family."""
    family = TOOL_FAMILY.get(name)
    if family is not None:
        return family
    if name.startswith("mcp__"):
        return "mcp"
    return name.lower()


@dataclass(slots=True)
class ToolCall:
    """One tool call and, once seen, its result."""

    call_id: str
    tool: str
    input: dict[str, Any]
    seq: int  # byte offset of the line that carried the call
    timestamp: str | None = None
    thread: str = "main"  # "main", or a sidechain / subagent id: pairing stays within a thread
    cwd: str | None = None
    status: str = PENDING
    is_error: bool | None = None  # the agent's own error flag, when it has one
    exit_code: int | None = None
    output: str = ""  # result text: head and tail kept, middle elided (see `clip`)
    output_bytes: int = 0  # size of the full result text
    result_seq: int | None = None
    interrupted: bool = False
    timed_out: bool = False
    user_note: str | None = None  # what the user said when rejecting the call

    @property
    def family(self) -> str:
        return tool_family(self.tool)


@dataclass(slots=True)
class ToolResult:
    """A result whose call is not in the same chunk (it was read in an earlier incremental pass)."""

    call_id: str
    seq: int
    status: str
    is_error: bool | None
    exit_code: int | None
    output: str
    output_bytes: int
    interrupted: bool = False
    timed_out: bool = False
    user_note: str | None = None


@dataclass(slots=True)
class Turn:
    """Something in the conversation that is not a tool call: user text, an interrupt, a
    compaction, or a `#lesson` block the assistant emitted."""

    seq: int
    kind: str  # "user" | "interrupt" | "compaction" | "lesson_tag"
    text: str = ""
    timestamp: str | None = None
    thread: str = "main"


@dataclass(slots=True)
class SessionInfo:
    session_id: str | None = None
    agent: str = ""
    cwd: str | None = None
    project: str | None = None  # the project directory the session worked in
    version: str | None = None
    model: str | None = None
    git_branch: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    parent_session_id: str | None = None  # for subagent transcripts


@dataclass(slots=True)
class Chunk:
    """What one read of one file produced."""

    path: str
    session: SessionInfo
    calls: list[ToolCall] = field(default_factory=list)
    late_results: list[ToolResult] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)
    end_offset: int = 0  # first byte not consumed (start of an incomplete last line, or EOF)
    lines: int = 0
    lines_skipped: int = 0  # lines of no interest: skipped unparsed, or records of a type never read
    bad_lines: int = 0  # lines skipped: corrupt JSON, binary junk, over-long
    unknown_records: int = 0  # well-formed records of a type the reader does not know


HEAD = 1500
TAIL = 700


def clip(text: str, head: int = HEAD, tail: int = TAIL) -> str:
    """Keep the head and the tail of a long text: errors live at both ends of tool output."""
    if len(text) <= head + tail + 40:
        return text
    return f"{text[:head]}\n[… {len(text) - head - tail} chars elided …]\n{text[-tail:]}"

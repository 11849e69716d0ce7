"""What the analyzers hand on: failures paired with their fixes, aggregated by signature.

`Failure` is one failed tool call as detected in one session, with the call that fixed it (if
any). `Finding` aggregates every failure that shares a normalised signature across sessions and
projects; it is what lessons and instruction-file learnings are made from.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Failure kinds (the labelling guide's vocabulary).
KINDS = (
    "path_not_found",
    "wrong_search_scope",
    "command_not_found",
    "env_runtime",
    "build_or_test_failure",
    "edit_mismatch",
    "user_rejected",
    "user_interrupt",
    "permission_denied",
    "timeout_or_hang",
    "too_large",
    "tool_validation",
    "network",
    "wrong_cli_usage",
    "other",
)

# Learning categories: the headings of the instruction-file section (seed 000's table, extended).
CATEGORIES = {
    "environment": "Environment",
    "paths": "File Path Corrections",
    "search_scope": "Search Scope",
    "commands": "Command Patterns",
    "cli_usage": "CLI Usage",
    "edits": "Editing",
    "large_files": "Known Large Files",
    "user_prefs": "User Preferences",
    "hangs": "Hangs and Timeouts",
    "tools": "Tool Usage",
}


@dataclass(slots=True)
class Failure:
    """One failed call in one session, and what fixed it."""

    file: str
    session_id: str | None
    project: str | None
    agent: str
    call_id: str
    tool: str
    family: str
    kind: str
    signature: str
    seq: int
    timestamp: str | None
    input_text: str  # the call's main input: command, path or pattern (redacted)
    error: str  # head (and tail) of the error text (redacted)
    exit_code: int | None = None
    fix_call_id: str | None = None
    fix_input_text: str | None = None
    fix_reason: str | None = None  # how the fix differs: "path", "interpreter", "flags", "read first"…
    user_corrected: bool = False  # the user said what to do instead
    user_text: str | None = None
    wasted_bytes: int = 0  # output bytes burned by the failure and its repeats before the fix
    repeats: int = 0  # how many times the same failing call was repeated before the fix


@dataclass(slots=True)
class Evidence:
    file: str
    session_id: str | None
    project: str | None
    call_id: str
    fix_call_id: str | None
    timestamp: str | None
    failing_input: str
    fix_input: str | None
    error: str


@dataclass(slots=True)
class Finding:
    """A normalised failure signature seen once or more, with everything a lesson needs."""

    signature: str
    kind: str
    category: str  # a key of CATEGORIES
    family: str  # tool family of the failing call (see forewarn.model.TOOL_FAMILY)
    tools: list[str]
    subject: str  # what it is about: a command family ("python3"), a path, a flag
    wrong: str | None  # the failing form, e.g. "python3 -m pytest"
    right: str | None  # the form that worked, e.g. "uv run pytest"
    reason: str  # why, in a few words: the error head or the user's words
    scope: str = "project"  # "project": true only in this repo/machine; "global": anywhere
    occurrences: int = 0
    sessions: int = 0
    projects: int = 0
    project_paths: list[str] = field(default_factory=list)
    fix_confirmed: bool = False
    retried: bool = False  # most fixes were the very same call run again: a flaky command
    user_corrected: bool = False
    hang: bool = False
    data_loss: bool = False
    causal: bool = False  # the correction text explains the cause ("because", "the issue is")
    wasted_bytes: int = 0
    priority: int = 3
    confidence: float = 0.4
    first_seen: str | None = None
    last_seen: str | None = None
    evidence: list[Evidence] = field(default_factory=list)

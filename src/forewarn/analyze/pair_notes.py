"""What a failure → fix pair says besides which call fixed which: how the fix differs from the
failure (`reason`: `runner`, `interpreter`, `flags`, `path`, `read first`, `retry`, …) and what
the user said about the failure (`user_correction`).

Both read only the two calls (and, for `reason`, the calls between them; for `user_correction`,
the user turns between the failure and the next call): neither takes part in choosing the fix.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from forewarn import regexes
from forewarn.analyze import shell
from forewarn.analyze.signature import main_input, path_of
from forewarn.model import ToolCall, Turn

_CORRECTION = regexes.compile(
    r"^\s*(?:no[,.!\s]|nope|don'?t|do not|stop|wrong|that'?s (?:not|wrong)|instead|actually|use\b|"
    r"please use|you should|not that|why did you|never)", re.I)


def reason(bad: ToolCall, fix: ToolCall, calls: Sequence[ToolCall], i: int, j: int,
           bad_text: str | None = None, fix_text: str | None = None) -> str:
    """How the fix differs from the failure, in one word or two (`bad_text`, `fix_text`: their
    `main_input`, when the caller has them)."""
    if bad.family in ("edit", "write") and fix.family in ("edit", "write"):
        edited = path_of(bad).rstrip("/")
        read_between = any(c.family == "read" and (p := path_of(c)) and p.rstrip("/") == edited for c in calls[i + 1 : j])
        return "read first" if read_between else "changed edit"
    if bad.family == "shell" and fix.family == "shell":
        a = main_input(bad) if bad_text is None else bad_text
        b = main_input(fix) if fix_text is None else fix_text
        if a == b:
            return "retry"
        sa, sb = shell.primary_segment(a), shell.primary_segment(b)
        ra, rb = shell.runner_of(sa), shell.runner_of(sb)
        pa, pb = shell.program(sa), shell.program(sb)
        if ra != rb:
            return "runner"
        if pa != pb:
            if re.fullmatch(r"python[0-9.]*", pa) or re.fullmatch(r"python[0-9.]*", pb):
                return "interpreter"
            return "command"
        if shell.family(sa) != shell.family(sb):
            return "subcommand"
        if _flags(sa) != _flags(sb):
            return "flags"
        if (bad.cwd or "") != (fix.cwd or "") or _cd(a) != _cd(b):
            return "directory"
        return "arguments"
    if bad.family != fix.family:
        return f"used {fix.tool}"
    pa, pb = path_of(bad), path_of(fix)
    if pa and pb and pa != pb:
        return "path"
    return "retry"


def _flags(segment: str) -> tuple[str, ...]:
    return tuple(sorted(w.split("=", 1)[0] for w in shell.program_words(segment) if w.startswith("-")))


def _cd(command: str) -> str:
    m = re.match(r"\s*cd\s+(\S+)", command)
    return m.group(1) if m else ""


def user_correction(bad: ToolCall, calls: Sequence[ToolCall], index: int, turns: Sequence[Turn]) -> str | None:
    """What the user said about this failure: the note attached to a rejection, or a user turn
    between the failure and the next call that reads like a correction ("no, use …")."""
    if bad.user_note:
        return bad.user_note
    if not turns:
        return None
    start = bad.result_seq or bad.seq
    end = calls[index + 1].seq if index + 1 < len(calls) else None
    for turn in turns:
        if turn.kind != "user" or turn.seq <= start:
            continue
        if end is not None and turn.seq > end:
            break
        if _CORRECTION.match(turn.text):
            return turn.text[:500]
    return None

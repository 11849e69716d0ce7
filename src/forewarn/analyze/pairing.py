"""Failure → fix pairing (seed 000's "success correlation").

For each failed call we look forward in the same thread of the same session for the first later
call that *did what the failed call was trying to do* and succeeded. What "the same thing" means
depends on the failure:

| failure                          | the fix is the first later successful…                         |
|----------------------------------|----------------------------------------------------------------|
| shell command (any kind)         | shell call of the same command family (`pytest` ≈ `uv run pytest`), or of the same program when the family itself was wrong (bad subcommand / flags) |
| edit that did not apply          | edit or write of the same file                                  |
| read / glob / search of a path   | call on the same path, or on a path with the same last component (the corrected location) |
| tool parameter mistake           | call of the same tool on the same target                        |
| user rejection / interrupt       | call of the same tool on the same target (the revised attempt)  |

A candidate that is itself a failure is skipped; the search stops after `WINDOW` calls. When no
call qualifies the failure stays unpaired: a wrong fix is worse than none.

Each pair gets a reason (`interpreter`, `runner`, `flags`, `path`, `read first`, `retry`, …)
and the bytes wasted between failure and fix by repeats of the same failing call.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from forewarn.analyze import shell
from forewarn.analyze.signature import main_input, path_of
from forewarn.model import OK, ToolCall, Turn

WINDOW = 80  # calls after the failure we look through
_CORRECTION = re.compile(
    r"^\s*(?:no[,.!\s]|nope|don'?t|do not|stop|wrong|that'?s (?:not|wrong)|instead|actually|use\b|"
    r"please use|you should|not that|why did you|never)", re.I)


@dataclass(slots=True)
class Pairing:
    fix: ToolCall | None
    reason: str | None
    repeats: int
    wasted_bytes: int
    user_text: str | None


def pair(index: int, calls: Sequence[ToolCall], failed: Sequence[bool], kinds: Sequence[str],
         turns: Sequence[Turn] = ()) -> Pairing:
    """Find the fix for `calls[index]`; `failed[i]`/`kinds[i]` are the verdicts of each call."""
    bad = calls[index]
    kind = kinds[index]
    target = _Target.of(bad)
    repeats = 0
    wasted = bad.output_bytes
    user_text = _user_correction(bad, calls, index, turns)
    seen = 0
    for j in range(index + 1, len(calls)):
        cand = calls[j]
        if cand.thread != bad.thread:
            continue
        seen += 1
        if seen > WINDOW:
            break
        if failed[j]:
            if _same_call(bad, cand):
                repeats += 1
                wasted += cand.output_bytes
            continue
        if cand.status != OK:
            continue
        if target.fixed_by(cand, kind):
            return Pairing(cand, _reason(bad, cand, calls, index, j), repeats, wasted, user_text)
    return Pairing(None, None, repeats, wasted, user_text)


def _same_call(a: ToolCall, b: ToolCall) -> bool:
    return a.tool == b.tool and main_input(a) == main_input(b)


@dataclass(slots=True)
class _Target:
    call: ToolCall
    family: str
    command: str
    seg_family: str
    program: str
    path: str
    basename: str

    @classmethod
    def of(cls, call: ToolCall) -> _Target:
        command = main_input(call) if call.family == "shell" else ""
        seg = shell.primary_segment(command) if command else ""
        path = path_of(call)
        return cls(call, call.family, command, shell.family(seg) if seg else "", shell.program(seg) if seg else "",
                   path, _base(path))

    def fixed_by(self, cand: ToolCall, kind: str) -> bool:
        fam = self.family
        if fam == "shell":
            if cand.family != "shell":
                return False
            return self._shell_match(cand, kind)
        if fam in ("edit", "write"):
            return cand.family in ("edit", "write") and bool(self.path) and _same_path(path_of(cand), self.path)
        if fam in ("read", "glob", "search"):
            cpath = path_of(cand)
            if kind == "tool_validation" or kind in ("user_rejected", "user_interrupt"):
                return cand.tool == self.call.tool and (not self.path or _related_path(cpath, self.path))
            if cand.family in ("read", "glob", "search"):
                if self.path and cpath and (_same_path(cpath, self.path) or (self.basename and _base(cpath) == self.basename)):
                    return True
                if fam == cand.family and self.path and cpath and kind == "path_not_found":
                    # the same search/read retried one directory up or down
                    return cpath.startswith(self.path) or self.path.startswith(cpath)
                return False
            if cand.family == "shell" and self.basename and kind == "path_not_found":
                return _mentions(main_input(cand), self.basename)
            return False
        # any other tool (ExitPlanMode, TodoWrite, MCP tools…): the same tool succeeding again
        return cand.tool == self.call.tool

    def _shell_match(self, cand: ToolCall, kind: str) -> bool:
        ccmd = main_input(cand)
        if not ccmd:
            return False
        cseg = shell.primary_segment(ccmd)
        cfam = shell.family(cseg)
        if self.seg_family and cfam == self.seg_family:
            return True
        if kind in ("wrong_cli_usage", "command_not_found", "env_runtime", "user_rejected", "user_interrupt", "other"):
            cprog = shell.program(cseg)
            if self.program and cprog == self.program and kind != "other":
                return True
            # the same thing done with another runner / interpreter: python3 x.py → uv run python x.py
            if kind in ("env_runtime", "command_not_found") and _core_args(self.command) and _core_args(self.command) == _core_args(ccmd):
                return True
        if kind == "path_not_found":
            cprog = shell.program(cseg)
            return bool(self.program) and cprog == self.program
        return False


def _core_args(command: str) -> tuple[str, ...]:
    """The arguments after the program that matters, runners and interpreters removed."""
    seg = shell.primary_segment(command)
    ws = shell.program_words(seg)
    while ws and (ws[0].rsplit("/", 1)[-1] in shell.RUNNERS or ws[0] in {"run", "exec", "-m"}
                  or re.fullmatch(r"(?:.*/)?python[0-9.]*", ws[0])):
        ws = ws[1:]
    return tuple(w for w in ws if not w.startswith("-"))


def _base(path: str) -> str:
    return os.path.basename(path.rstrip("/\\")) if path else ""


def _same_path(a: str, b: str) -> bool:
    return bool(a) and a.rstrip("/") == b.rstrip("/")


def _related_path(a: str, b: str) -> bool:
    if not a or not b:
        return False
    return a.startswith(b.rstrip("/")) or b.startswith(a.rstrip("/")) or _base(a) == _base(b)


def _mentions(command: str, name: str) -> bool:
    return bool(re.search(r"(?:^|[\s/'\"=])" + re.escape(name) + r"(?:$|[\s'\";|&)])", command))


def _reason(bad: ToolCall, fix: ToolCall, calls: Sequence[ToolCall], i: int, j: int) -> str:
    """How the fix differs from the failure, in one word or two."""
    if bad.family in ("edit", "write") and fix.family in ("edit", "write"):
        read_between = any(c.family == "read" and _same_path(path_of(c), path_of(bad)) for c in calls[i + 1 : j])
        return "read first" if read_between else "changed edit"
    if bad.family == "shell" and fix.family == "shell":
        a, b = main_input(bad), main_input(fix)
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


def _user_correction(bad: ToolCall, calls: Sequence[ToolCall], index: int, turns: Sequence[Turn]) -> str | None:
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

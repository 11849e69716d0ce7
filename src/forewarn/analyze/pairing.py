"""Failure → fix pairing (seed 000's "success correlation").

For each failed call we look forward in the same thread of the same session for the first later
call that *did what the failed call was trying to do* and succeeded. What "the same thing" means
depends on the failure (shell lines are read by `forewarn.analyze.intent`):

| failure                         | the fix is the first later successful…                          |
|---------------------------------|-----------------------------------------------------------------|
| shell command                   | run of the same action (program + subcommands; for file tools the same file; for inline scripts mostly the same code) in the same directory, keeping most of the words; in a chain the last step that acts is the target |
| bad invocation (usage, missing command, environment) | same program keeping most words (reordered, a stem changed), the missing tool's stand-in, the script through another interpreter — or that run *failing further on* (its tests fail): the invocation was right |
| build / test run                | *clean* run of the same command (no failure marks, output not grepped), preferring the same flags if one comes within `PREFER_WITHIN` calls |
| call cancelled with its sibling | identical re-run (for the shell, a line containing every step)  |
| edit that did not apply         | edit of the same file touching the same text, a rewrite of the file (Write, a script, `sed -i`); an append is not |
| read / glob / search of a path  | the same kind of lookup (also through the shell: `cat`, `find`, `grep`) on the same file or the same name in a folder of the same name, or on a parent folder; empty results never |
| output or file too large        | the same file read in part                                      |
| read of a directory             | a listing of it                                                 |
| user rejection / interrupt      | revised call on the same target within `REVISION_WINDOW` calls (plans: the next approved plan) |
| web fetch                       | the same page from a corrected address                          |
| any other tool                  | the same tool succeeding                                        |

Never a fix: a call that only looks (status, logs, `--help`, a dry run) for a failure that acted;
a call whose outcome is unknown (sent to the background, no result); a failed call (except the
"failing further on" case). The search stops after `WINDOW` calls (`LONG_WINDOW` for build/test
runs, whose repair may take long). When no call qualifies the failure stays unpaired: a wrong
fix costs more than a missing one.

Each pair gets a reason (`interpreter`, `runner`, `flags`, `path`, `read first`, `retry`, …)
and the bytes wasted between failure and fix by repeats of the same failing call.

A `Pairer` pairs all the failures of one session, finding what they ask of each later call once
(`Candidate`); each failure gets the pairing `pair` would give it alone.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from forewarn import regexes
from forewarn.analyze import intent
from forewarn.analyze.candidate import (
    Candidate,
    Need,
    bare,
    cancelled,
    edit_text,
    first_component,
    mentions,
    norm,
    plain,
    some_parts,
    word_key,
)
from forewarn.analyze.intent import Step
from forewarn.analyze.pair_notes import reason, user_correction
from forewarn.analyze.signature import path_of
from forewarn.model import ToolCall, Turn

WINDOW = 80  # calls after the failure we look through
LONG_WINDOW = 250  # build/test runs: the fix is the next clean run, however long the repair took
REVISION_WINDOW = 8  # a rejected command or edit is revised at once, or what follows is something else
PREFER_WITHIN = 40  # how far past an acceptable fix we look for a better one (same flags)

# Failures of the invocation itself: the command never got to do its work.
_INVOCATION = {"wrong_cli_usage", "command_not_found", "env_runtime"}
_USER = {"user_rejected", "user_interrupt"}
# Lookups whose fix is the same tool again (on the same or a related path).
_AS_IS = frozenset({"tool_validation", *_USER})
_DIRECTORY = regexes.compile(r"EISDIR|is a directory|illegal operation on a directory", re.I)
# Shell programs that do what a read / search / listing tool does.
_SHELL_ACTION = {
    "read": {"cat", "head", "tail", "less", "more", "bat", "sed", "nl", "awk", "jq", "xxd", "od"},
    "search": {"grep", "rg", "egrep", "fgrep", "ag", "ack", "git"},
    "glob": {"ls", "find", "fd", "tree", "du"},
}
# Shell edits of a file in place, and scripts that write a file.
_IN_PLACE = regexes.compile(r"\b(?:sed|gsed)\s+(?:-[\w.]*\s+)*-i|\bperl\s+-\w*i|\bawk\s+-i\s*inplace")
_SCRIPT_WRITE = regexes.compile(r"write_text|write_bytes|\.write\(|open\([^)]*['\"][wa]\+?b?['\"]|writeFileSync|"
                                r"File\.write|fs\.write")
# Programs that show part of a file.
_PART_READERS = {"head", "tail", "sed", "grep", "rg", "awk", "jq", "wc", "less", "cut"}
# Searchers: an empty result found nothing, whatever the exit status.
_SEARCHERS = {"grep", "rg", "egrep", "fgrep", "ag", "ack", "find", "fd", "locate"}
# Programs that stand in for one another when one is missing (`rg: command not found` → grep).
_ALTERNATIVES = [frozenset(g) for g in (
    {"rg", "grep", "egrep", "ag", "ack"}, {"fd", "find"}, {"bat", "cat"}, {"exa", "eza", "ls"},
    {"python", "py"}, {"pip", "pip3", "uv"}, {"node", "nodejs"}, {"vim", "vi", "nano"},
    {"docker-compose", "docker"}, {"podman", "docker"}, {"wget", "curl"}, {"pwsh", "powershell"},
)]
# A user who declines a change and says it should not be made at all has redirected the work:
# the next change to the same target is not a revision of the declined one.
_REDIRECTED = regexes.compile(
    r"\b(?:revert|undo|roll ?back|(?:don'?t|do not) (?:need|want|change|touch|edit|modify)|no need|"
    r"not (?:needed|necessary)|leave (?:it|this|that|them) (?:alone|as is)|without (?:making |any )?changes?)\b", re.I)


@dataclass(slots=True)
class Pairing:
    fix: ToolCall | None
    reason: str | None
    repeats: int
    wasted_bytes: int
    user_text: str | None
    fix_text: str | None = None  # main_input(fix)


def pair(index: int, calls: Sequence[ToolCall], failed: Sequence[bool], kinds: Sequence[str],
         turns: Sequence[Turn] = ()) -> Pairing:
    """Find the fix for `calls[index]`; `failed[i]`/`kinds[i]` are the verdicts of each call."""
    return Pairer(calls, failed, kinds, turns).pair(index)


class Pairer:
    """Pairs the failures of one session. What each failure's search asks of a later call (what
    it did, whether its outcome is known, its place in its thread) is found once per call here,
    not once per failure that looks at it."""

    def __init__(self, calls: Sequence[ToolCall], failed: Sequence[bool], kinds: Sequence[str],
                 turns: Sequence[Turn] = ()) -> None:
        self.calls, self.failed, self.kinds, self.turns = calls, failed, kinds, turns
        self._cands: list[Candidate | None] = [None] * len(calls)
        # each thread's calls in order, and each call's place in its thread's list
        self._threads: dict[str, list[int]] = {}
        self._place: list[int] = []
        threads = {call.thread for call in calls}
        if len(threads) == 1:  # (most sessions: every call's place is its index)
            self._place = list(range(len(calls)))
            self._threads = {threads.pop(): self._place}
            return
        for j, call in enumerate(calls):
            order = self._threads.setdefault(call.thread, [])
            self._place.append(len(order))
            order.append(j)

    def cand(self, j: int) -> Candidate:
        """`calls[j]` with the facts pairing asks for."""
        cand = self._cands[j]
        if cand is None:
            cand = self._cands[j] = Candidate(self.calls[j])
        return cand

    def text(self, j: int) -> str:
        """`main_input(calls[j])`."""
        return self.cand(j).text

    def pair(self, index: int) -> Pairing:
        """Find the fix for `calls[index]`."""
        calls, failed, kinds, cands = self.calls, self.failed, self.kinds, self._cands
        bad = calls[index]
        matcher = _Matcher(bad, kinds[index], self.text(index))
        user_text = user_correction(bad, calls, index, self.turns)
        # the later calls of the same thread, as many as the failure's window allows
        # (no further: the repeats counted below are those before the fix, or the window's end)
        place = self._place[index]
        later = self._threads[bad.thread][place + 1:place + 1 + matcher.window]
        fallback: int | None = None
        chosen: int | None = None
        last = index
        since_fallback = 0
        invocation = matcher.kind in _INVOCATION
        for j in later:
            if fallback is not None and since_fallback >= PREFER_WITHIN:
                break
            since_fallback += fallback is not None
            last = j
            cand = cands[j] or self.cand(j)
            if failed[j]:
                if invocation and matcher.got_further(cand, kinds[j]):
                    chosen = j
                    break
                continue
            if not cand.known:
                continue
            score = matcher.score(cand)
            if score >= 2:
                chosen = j
                break
            if score == 1 and fallback is None:
                fallback = j
        if chosen is None:
            chosen = fallback
        end = chosen if chosen is not None else last + 1
        repeats, wasted = 0, bad.output_bytes
        for j in later:
            if j >= end:
                break
            if failed[j] and _same_call(bad, matcher.text, self.cand(j)):
                repeats += 1
                wasted += calls[j].output_bytes
        if chosen is None:
            return Pairing(None, None, repeats, wasted, user_text)
        fix, fix_text = calls[chosen], self.text(chosen)
        return Pairing(fix, reason(bad, fix, calls, index, chosen, matcher.text, fix_text), repeats, wasted, user_text,
                       fix_text)


def _same_call(bad: ToolCall, bad_text: str, cand: Candidate) -> bool:
    return bad.tool == cand.call.tool and bad_text == cand.text


class _Matcher:
    """How well a later call does what the failed call was trying to do: 0 not at all, 1 it is
    the same attempt but a weaker fix (used only if nothing better comes), 2 the fix."""

    def __init__(self, bad: ToolCall, kind: str, text: str) -> None:
        self.bad = bad
        self.kind = kind
        self.text = text  # main_input(bad)
        self.path = path_of(bad)
        # a patch applied through the shell (`apply_patch <<PATCH`) is an edit of its file
        self.family = "edit" if bad.family == "shell" and bad.input.get("patch") is not None else bad.family
        self.cancelled = cancelled(bad)
        # a lookup refused because its path is a folder
        self.directory = kind == "tool_validation" and self.family in ("read", "glob", "search") \
            and bool(_DIRECTORY.search(bad.output[:500]))
        self.edit_text = edit_text(bad) if self.family in ("edit", "write") else ""
        self.command = text if self.family == "shell" else ""
        self.targets: tuple[Step, ...] = intent.key_steps(self.command) if self.command else ()
        # in a chain the last step that acts is the one that was wanted; a rejected line was
        # declined as a whole, and its revision may keep any of it
        self.wanted = self.targets if kind in _USER else self.targets[-1:]
        self.window = WINDOW
        if kind in _USER and self.family in ("shell", "edit", "write", "read", "glob", "search"):
            self.window = REVISION_WINDOW
            if bad.user_note and _REDIRECTED.search(bad.user_note):
                self.window = 0
        elif kind == "build_or_test_failure":
            self.window = LONG_WINDOW
        # a file too large to show is fixed by showing part of it, with whatever program
        self.part_read = kind == "too_large" and bool(self.wanted) and bool(self.wanted[0].path_args)
        # Every rule of `_shell` but the stand-ins and interpreters of a missing command or
        # runtime (and the partial reads of a file too large) wants a step running the failed
        # program itself; `programs` is those programs for `Candidate.may_run`. A missing
        # command or runtime wants a step running the same program or a stand-in for it, the
        # script the failed interpreter ran, or an interpreter running the failed script or the
        # same script (`_invocation_match`): a step whose program or first argument ends in
        # one of `programs`, found in its line alike. (`programs` is None when any program may
        # do, or when one cannot be told from the text: a `$var`.)
        self.same_program = kind not in ("command_not_found", "env_runtime")
        self.programs: frozenset[str] | None = None
        if self.targets and not self.part_read:
            if self.same_program:
                names = {t.program for t in self.wanted}
            else:
                target = self.wanted[-1]
                names = {target.program}
                if kind == "command_not_found":
                    names.update(*(g for g in _ALTERNATIVES if target.program in g))
                args = intent.core_args(target)
                if args and intent.is_interpreter(target):
                    names.add(args[0].rsplit("/", 1)[-1])
            programs = frozenset(bare(p) for p in names)
            if all(plain(p) for p in programs):
                self.programs = programs
        # What a later line must have in its words to be looked at (worked out on first use:
        # most failures' windows have no line that runs the program at all)
        self._needs: tuple[Need, ...] | None = None
        self._target_texts: tuple[str, ...] | None = None  # (`_identical`)
        self._lookup_needs: tuple[Need, ...] | None = None
        # how a later call is scored, chosen once by what the failed call was (`score` runs for
        # every call the search looks at)
        self.score: Callable[[Candidate], int] = (
            self._identical if self.cancelled else
            self._shell if self.family == "shell" else
            self._edit if self.family in ("edit", "write") else
            self._lookup if self.family in ("read", "glob", "search") else
            self._web if self.family == "web" else
            self._same_tool)

    def got_further(self, cand: Candidate, cand_kind: str) -> bool:
        """A bad invocation is fixed by the corrected run even when that run then fails further
        on: once the tests fail (or, for a missing program or module, anything else goes wrong),
        the invocation itself was right."""
        if self.kind not in _INVOCATION or cand.family != "shell" or self.cancelled:
            return False
        if cand_kind in _USER or cand_kind == "timeout_or_hang" or cand.cancelled:
            return False
        # past the invocation: the program ran and failed further on
        if cand_kind in _INVOCATION:
            return False
        if not self._may_act(cand):
            return False  # a usage error is corrected by the same program
        return any(self._invocation_match(t, s) for t in self.targets[-1:] for s in cand.steps_for(t))

    def _web(self, cand: Candidate) -> int:
        return 2 if cand.call.tool == self.bad.tool and _related_web(self.text, cand.text) else 0

    def _same_tool(self, cand: Candidate) -> int:
        # any other tool (ExitPlanMode, TodoWrite, MCP tools…): the same tool succeeding again
        return 2 if cand.call.tool == self.bad.tool else 0

    # -- shell ---------------------------------------------------------------------------------

    def _shell(self, cand: Candidate) -> int:
        if cand.family != "shell":
            return self._shell_by_tool(cand)
        if not self._may_act(cand):
            return 0  # (first, and without parsing the line: most candidates run something else)
        if not self.targets:
            return 0
        targets = self.wanted
        if self.part_read:
            return 2 if cand.may_run(_PART_READERS) and any(
                s.program in _PART_READERS and any(s.names(f) for f in targets[0].path_args)
                for s in cand.steps) else 0
        kind = self.kind
        best = 0
        for target in targets:
            for step in cand.steps_for(target):
                if self.same_program and step.program != target.program:
                    continue  # (every rule below but a stand-in's or an interpreter's wants it)
                if intent.directories_differ(target, step):
                    continue
                if step.looks and not target.looks:
                    continue  # looking at the state is a diagnostic, not the action that failed
                if kind in _INVOCATION:
                    if kind == "wrong_cli_usage" and step.program in _SEARCHERS and cand.found_nothing:
                        continue  # a corrected search shows it works by finding something
                    ok = self._invocation_match(target, step)
                else:
                    if step.program in _SEARCHERS and cand.found_nothing:
                        continue  # a search that found nothing did not do what was wanted
                    # a build may be re-run more broadly (`cargo test foo` → `cargo test`); any other
                    # action stopping short of the failed one (`gt daemon start` → `gt daemon`) is not it
                    broader = kind == "build_or_test_failure"
                    ok = intent.same_action(target, step, broader=broader) \
                        and (not target.looks or intent.same_question(target, step))
                    if not broader:
                        # the same action on something else altogether (`stow -D a` → `stow -v b`) is
                        # another action; and dropping an argument changes what is done
                        ok = ok and len(intent.core_args(step)) >= len(intent.core_args(target)) \
                            and intent.coverage(target, step) >= 0.3 \
                            and (not target.path_args or any(step.names(f) for f in target.path_args))
                    if kind in _USER:
                        ok = ok and intent.coverage(target, step) >= 0.5
                if not ok and not intent.reordered(target, step):
                    continue
                if kind == "build_or_test_failure":
                    if (step.hidden and not target.hidden) or cand.fail_marks:
                        continue
                    best = max(best, 2 if step.flags == target.flags else 1)
                else:
                    return 2
        return best

    def _may_act(self, cand: Candidate) -> bool:
        """False only if no step of the (shell) candidate's line can be what the failed line
        wanted: a step whose program, or whose script (an interpreter's first argument), is one
        of `programs`, with the words of one of its needs (`_step_needs`). Asked before the line
        is parsed."""
        if self.programs is not None and not cand.may_run(self.programs):
            return False
        needs = self._needs
        if needs is None:
            needs = self._needs = self._step_needs()
        return not needs or cand.has_words(needs)

    def _step_needs(self) -> tuple[Need, ...]:
        """What a later step must have to be the fix, in words of its line (for
        `Candidate.has_words`): for a usage error more than half of the failed step's words
        (`coverage` in `_invocation_match`); for another failed action (not a build: it may be
        re-run more broadly) its subcommands and one of its files (`same_action`, and the
        `path_args` rule of `_shell`); or, either way, all of its words in another order
        (`reordered`). Empty when any line may do."""
        kind = self.kind
        if not self.targets or not self.same_program or self.part_read or kind == "build_or_test_failure":
            return ()
        needs: list[Need] = []
        for t in self.wanted:
            if kind == "wrong_cli_usage":
                units = tuple(word_key(u) for u in t.units)
                if not units:
                    return ()  # (then any line of the program may do)
                needs.append(((units, len(units) // 2 + 1),))
            elif kind not in _INVOCATION:
                path = tuple(word_key(w) for w in t.path[1:])
                # (a step names a file by a word that has its name: see `intent.same_file`)
                names = tuple(word_key(intent.file_name(f)) for f in t.path_args)
                if not path and not names:
                    return ()
                needs.append(((path, len(path)), (names, min(1, len(names)))))
            words = some_parts(t)
            if words:
                needs.append(((words, len(words)),))
        return tuple(needs)

    def _path_needs(self) -> tuple[Need, ...]:
        """A shell lookup of a missing path names its file (`Step.names`), or for a listing or a
        search, a folder above or below it, whose words have the path's first component."""
        if self.kind != "path_not_found" or self.family not in _SHELL_ACTION or not self.path:
            return ()
        names: list[Need] = [(((word_key(intent.file_name(self.path)),), 1),)]
        if self.family in ("glob", "search"):
            names.append((((word_key(first_component(self.path)),), 1),))
        return tuple(names)

    def _invocation_match(self, target: Step, step: Step) -> bool:
        if self.kind == "wrong_cli_usage":
            # the bad word replaced, reordered or dropped: most of the rest kept
            return step.program == target.program and intent.coverage(target, step) > 0.5 and not step.is_help
        if intent.same_action(target, step):
            return True
        if self.kind == "command_not_found" and step.program != target.program \
                and any(target.program in g and step.program in g for g in _ALTERNATIVES):
            return intent.coverage(target, step) >= 0.5  # the missing tool's stand-in, same job
        # the same script run through another interpreter or runner (`python3 x.py` → `./x.py`,
        # `node x.js` → `npx tsx x.js`)
        args, cargs = intent.core_args(target), intent.core_args(step)
        if not args or not cargs:
            return False
        if intent.is_interpreter(target) and intent.is_interpreter(step):
            return args == cargs
        if intent.is_interpreter(target):
            return args[0].rsplit("/", 1)[-1] == step.program and args[1:] == cargs
        if intent.is_interpreter(step):
            return cargs[0].rsplit("/", 1)[-1] == target.program and cargs[1:] == args
        return False

    def _shell_by_tool(self, cand: Candidate) -> int:
        """A shell `cat`/`ls` of a wrong path fixed by the Read/Glob tool on the right one."""
        if self.kind != "path_not_found" or not self.targets:
            return 0
        target = self.targets[-1]
        wanted = next((f for f, progs in _SHELL_ACTION.items() if target.program in progs), None)
        if wanted is None or cand.family != wanted or cand.empty:
            return 0
        return 2 if target.names(cand.path) else 0

    def _identical(self, cand: Candidate) -> int:
        """The re-run of a call cancelled because a sibling failed: the same call, or for the
        shell a line containing every step of the cancelled one."""
        if cand.call.tool != self.bad.tool and not (cand.family == self.family == "shell"):
            return 0
        if cand.text == self.text:
            return 2
        if self.family != "shell" or not self.targets:
            return 0
        if self._target_texts is None:
            self._target_texts = tuple({norm(t.text) for t in self.targets})
        if not cand.has_texts(self._target_texts):
            return 0  # (without parsing the line)
        texts = cand.step_texts
        return 2 if all(text in texts for text in self._target_texts) else 0

    # -- edits ---------------------------------------------------------------------------------

    def _edit(self, cand: Candidate) -> int:
        if not self.path:
            return 0
        call = cand.call
        if self.kind == "tool_validation":
            return 2 if call.tool == self.bad.tool and _same_path(cand.path, self.path) else 0
        if cand.family in ("edit", "write"):
            if not _same_path(cand.path, self.path):
                return 0
        elif cand.family != "shell" or not _writes_file(cand, self.path):
            return 0
        if self.kind in _USER:
            return 2
        if cand.family == "write" or (cand.family == "shell" and call.input.get("patch") is None):
            return 2  # the file rewritten (by the tool or a script): the change made another way
        # another edit of the file is the fix only if it changes the same text
        bad_text, text = self.edit_text, cand.edit_text
        # (by lines either way round: a smaller edit may redo part of a larger one)
        return 2 if intent.token_overlap(bad_text, text) >= 0.3 or _line_overlap(bad_text, text) >= 0.3 \
            or _line_overlap(text, bad_text) >= 0.3 else 0

    # -- reads, listings, searches ---------------------------------------------------------------

    def _lookup(self, cand: Candidate) -> int:
        fam, kind = self.family, self.kind
        cpath = cand.path
        if kind == "tool_validation" and self.directory:
            return 2 if self._lists_directory(cand) else 0
        if kind in _AS_IS:
            return 2 if cand.call.tool == self.bad.tool and (not self.path or _related_path(cpath, self.path)) else 0
        if kind == "too_large":
            return 2 if self._reads_part(cand) else 0
        if cand.empty:
            return 0
        if cand.family == fam:
            if not self.path or not cpath:
                return 2 if kind != "path_not_found" and cand.text == self.text else 0
            if _same_path(cpath, self.path) or intent.same_file(cpath, self.path):
                return 2
            if fam in ("glob", "search") and kind == "path_not_found" and _ancestor_or_descendant(cpath, self.path):
                return 2
            return 0
        if cand.family == "shell" and kind == "path_not_found":
            return 2 if self._shell_lookup(cand) else 0
        return 0

    def _lists_directory(self, cand: Candidate) -> bool:
        if cand.family == "glob":
            return _same_path(cand.path, self.path)
        if cand.family == "shell":
            return cand.may_run(_SHELL_ACTION["glob"]) and any(
                s.program in _SHELL_ACTION["glob"] and s.names(self.path) for s in cand.steps)
        return False

    def _reads_part(self, cand: Candidate) -> bool:
        base = _base(self.path)
        if cand.family == self.family == "read":
            return _same_path(cand.path, self.path) and any(k in cand.call.input for k in ("offset", "limit"))
        if cand.family == "search":
            return _same_path(cand.path, self.path)
        if cand.family == "shell" and base:
            return cand.may_run(_PART_READERS) and any(
                s.program in _PART_READERS and s.names(self.path) for s in cand.steps)
        return False

    def _shell_lookup(self, cand: Candidate) -> bool:
        """The same lookup done in the shell: `cat` of the corrected file, `find` under a parent
        of the missing folder, `grep` in the right place."""
        progs = _SHELL_ACTION[self.family]
        base = _base(self.path)
        if self.family == "search" and "." in base:
            progs = progs | _SHELL_ACTION["read"]  # reading a whole file answers a search in it
        if not cand.may_run(progs):
            return False
        needs = self._lookup_needs
        if needs is None:
            needs = self._lookup_needs = self._path_needs()
        if needs and not cand.has_words(needs):
            return False
        for step in cand.steps:
            if step.program not in progs:
                continue
            if step.names(self.path):
                return True
            if self.family in ("glob", "search"):
                dirs = [w for w in step.args if "/" in w or w.startswith("~")]
                if any(_ancestor_or_descendant(d, self.path) for d in dirs):
                    return True
        return False


def _writes_file(cand: Candidate, path: str) -> bool:
    """A shell call that changes `path`: an apply_patch of it, an in-place edit, a redirect or
    `tee` into it, or an inline script that mentions it and writes a file."""
    base = _base(path)
    if not base:
        return False
    if cand.call.input.get("patch") is not None:
        return _same_path(cand.path, path) or _base(cand.path) == base
    if not mentions(cand.text, base) or not cand.may_write:
        return False
    for step in cand.steps:
        if step.writes and intent.same_file(step.writes, path):
            return not re.search(r">>\s*['\"]?\S*" + re.escape(base), step.text)  # an append adds, it does not fix
        if _IN_PLACE.search(step.text) and step.names(path):
            return True
        if step.inline and _SCRIPT_WRITE.search(step.code):
            return True
    return False


def _related_web(a: str, b: str) -> bool:
    """The same page fetched from a corrected address (same last path component, or the same
    site one level up or down), or the same search asked again in other words (`a`, `b`: what
    the two calls fetched or asked)."""
    ua, ub = urlsplit(a), urlsplit(b)
    if not ua.netloc or not ub.netloc:
        return intent.token_overlap(a, b) >= 0.5
    if _base(ua.path) and _base(ua.path) == _base(ub.path):
        return True
    return ua.netloc == ub.netloc and _ancestor_or_descendant(ua.path or "/", ub.path or "/")


def _line_overlap(a: str, b: str) -> float:
    """Share of `a`'s lines (stripped, not trivially short) that are lines of `b` too."""
    la = _long_lines(a)
    if not la:
        return 0.0
    return len(la & _lines(b)) / len(la)


# (a failed edit is held against each later edit of its file, and edits may be long)
@lru_cache(maxsize=256)
def _lines(text: str) -> frozenset[str]:
    return frozenset(line.strip() for line in text.splitlines())


@lru_cache(maxsize=256)
def _long_lines(text: str) -> frozenset[str]:
    return frozenset(line for line in _lines(text) if len(line) >= 8)


def _base(path: str) -> str:
    return os.path.basename(path.rstrip("/\\")) if path else ""


def _same_path(a: str, b: str) -> bool:
    return bool(a) and a.rstrip("/") == b.rstrip("/")


def _related_path(a: str, b: str) -> bool:
    if not a or not b:
        return False
    return _ancestor_or_descendant(a, b) or _base(a) == _base(b)


def _ancestor_or_descendant(a: str, b: str) -> bool:
    a, b = a.rstrip("/"), b.rstrip("/")
    if not a or not b:
        return False
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")

"""Trigger patterns: synthesised from evidence, compiled the way the hook compiles them, checked.

A lesson fires when one of its patterns matches the call about to run. Two kinds:
- command patterns are Python regexes over the whole shell command, flags "i" by default; leading
  inline flags (`(?s)`) are moved into the flags the manifest records, because Python 3.11+ only
  accepts global inline flags at the very start of a pattern and the hook may prepend its own;
- path patterns are globs (or `re:` + a regex) over a file path, compiled by `glob_to_regex`.

`command_trigger(failing, fixing)` builds the regex an analyzer attaches to a lesson: the failing
command's distinctive head (`\\bpython3\\b`, `\\bgit\\b…\\bpush\\b`), plus a negative lookahead for
the fix's distinguishing tokens, anchored at the start so that a token placed *before* the head in
the fix (`TERM=dumb pytest`, `uv run python3 …`) silences the lesson too. Every synthesised
pattern is linear in the command length (one anchored lookahead, one lazy scan), so it passes the
manifest's catastrophic-backtracking check. `trigger_matches_evidence` is the reusable check that a
lesson fires on its failing call and stays quiet on its fix.
"""

from __future__ import annotations

import os
import re
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from forewarn import regexes
from forewarn.analyze.shell import core_segments, program_words, runner_of, words

if TYPE_CHECKING:
    from forewarn.lessons.model import Lesson

COMMAND_FLAGS = "i"
PATH_FLAGS = ""
ALLOWED_FLAGS = "imsx"
_FLAG_BITS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}
_LEADING_FLAGS = regexes.compile(r"^\(\?([a-zA-Z]+)\)")
_ENV_ASSIGN = regexes.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_SUBCOMMAND = regexes.compile(r"[a-z][a-z0-9_:-]{1,30}")
_SECRETISH = regexes.compile(r"(?i)token|secret|passw|api[_-]?key|auth|bearer|credential|private")
_RANDOMISH = regexes.compile(r"[A-Za-z0-9+/_=-]{24,}")
# segments that only move around or set up: never the head of a lesson
_SETUP = {"cd", "pushd", "popd", "export", "source", ".", "set", "unset", "true", ":", "echo", "sleep"}
_MAX_TOKENS = 4
_MAX_TOKEN_LEN = 80


# --- compiling -------------------------------------------------------------------------------


def split_inline_flags(pattern: str, default_flags: str) -> tuple[str, str]:
    """`(?s)^x` with defaults "i" → (`^x`, "is"). ValueError for flags the hook cannot honour."""
    flags = set(default_flags)
    rest = pattern
    while m := _LEADING_FLAGS.match(rest):
        letters = set(m.group(1))
        if not letters <= set(ALLOWED_FLAGS):
            raise ValueError(f"unsupported inline flags {m.group(0)!r} (allowed: {ALLOWED_FLAGS})")
        flags |= letters
        rest = rest[m.end():]
    return rest, "".join(sorted(flags))


def flag_bits(flags: str) -> int:
    bits = 0
    for letter in flags:
        bits |= _FLAG_BITS[letter]
    return bits


def compile_source(source: str, flags: str) -> re.Pattern[str]:
    return re.compile(source, flag_bits(flags))


def command_regex(pattern: str) -> tuple[str, str]:
    """A lesson's command pattern as the (source, flags) pair the manifest stores."""
    return split_inline_flags(pattern, COMMAND_FLAGS)


def path_regex(pattern: str) -> tuple[str, str]:
    """A lesson's path pattern (glob, or `re:` regex) as the manifest's (source, flags) pair."""
    if pattern.startswith("re:"):
        return split_inline_flags(pattern[3:], PATH_FLAGS)
    return glob_to_regex(pattern), PATH_FLAGS


# --- globs ------------------------------------------------------------------------------------


def _translate(glob: str) -> str:
    out: list[str] = []
    i, n = 0, len(glob)
    while i < n:
        ch = glob[i]
        if ch == "*":
            if glob.startswith("**", i):
                i += 2
                while glob.startswith("*", i):
                    i += 1
                if glob.startswith("/", i):
                    i += 1
                    while glob.startswith("**/", i):  # `**/**/` is `**/`: never stack `.*`
                        i += 3
                    out.append("(?:.*/)?")
                else:
                    out.append(".*")
                continue
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            j = i + 1
            if j < n and glob[j] in "!^":
                j += 1
            if j < n and glob[j] == "]":
                j += 1
            j = glob.find("]", j)
            if j == -1:
                out.append(re.escape(ch))
            else:
                body = glob[i + 1:j]
                negate = body[:1] in ("!", "^")
                out.append(_char_class(body[1:] if negate else body, negate))
                i = j
        elif ch == "{":
            j = glob.find("}", i)
            if j == -1 or "{" in glob[i + 1:j]:
                out.append(re.escape(ch))
            else:
                alternatives = glob[i + 1:j].split(",")
                out.append("(?:" + "|".join(_translate(a) for a in alternatives) + ")")
                i = j
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)


def _char_class(body: str, negate: bool) -> str:
    """A glob `[...]` body as a regex class: every member escaped, reversed ranges dropped (as
    fnmatch does), and `/` never matched (a class stays within one path component)."""
    members: list[str] = []
    k = 0
    while k < len(body):
        if k + 2 < len(body) and body[k + 1] == "-":
            lo, hi = body[k], body[k + 2]
            if lo <= hi:
                members.append(f"{re.escape(lo)}-{re.escape(hi)}")
            k += 3
        else:
            members.append(re.escape(body[k]))
            k += 1
    if negate:
        return f"[^/{''.join(members)}]"
    return f"(?!/)[{''.join(members)}]" if members else "(?!)"


def glob_to_regex(glob: str) -> str:
    """A path glob as a regex anchored at the start (so `re.search` tries one position and stays
    linear). `**` spans directories, `*` and `?` stay within one, `{a,b}` alternates; a glob
    without a leading `/` matches at any directory boundary; a trailing `/` matches the subtree."""
    text = glob.strip()
    if text.startswith("~"):
        text = os.path.expanduser(text)
    subtree = text.endswith("/") and len(text) > 1
    if subtree:
        text = text.rstrip("/")
    if text.startswith("/") or text.startswith("**/"):
        body = "^" + _translate(text)
    else:
        body = "^(?:.*/)?" + _translate(text.removeprefix("./"))
    return body + ("/" if subtree else "$")


_GLOB_SPECIAL = regexes.compile(r"([*?\[\]{}])")


def escape_glob(text: str) -> str:
    return _GLOB_SPECIAL.sub(r"[\1]", text)


def path_glob(wrong_path: str, project_root: str | None = None) -> str:
    """The glob a path lesson stores for a path that failed: relative to the project when it is
    inside it (so the lesson survives a clone elsewhere), else its last two components."""
    path = PurePosixPath(wrong_path.replace("\\", "/"))
    if project_root:
        try:
            return escape_glob(str(path.relative_to(PurePosixPath(project_root))))
        except ValueError:
            pass
    if not path.is_absolute():
        return escape_glob(str(path).removeprefix("./"))
    tail = path.parts[-2:] if len(path.parts) > 2 else path.parts[-1:]
    return escape_glob("/".join(tail))


def path_trigger(wrong_path: str, project_root: str | None = None) -> str:
    """Failing path → glob → regex source."""
    return glob_to_regex(path_glob(wrong_path, project_root))


# --- command triggers from evidence ----------------------------------------------------------


def token_regex(token: str) -> str:
    """A command token as a regex with edges that do not split words or flags; inner
    whitespace matches any run of whitespace."""
    # re.escape also escapes `-`, which is literal outside a class: keep sources readable
    body = r"\s+".join(re.escape(part).replace("\\-", "-") for part in token.split())
    start = r"\b" if re.match(r"\w", token) else r"(?<![\w-])"
    end = r"\b" if re.search(r"\w$", token) else r"(?![\w-])"
    return start + body + end


def _usable(token: str) -> bool:
    if not token or len(token) > _MAX_TOKEN_LEN or "\n" in token:
        return False
    if _SECRETISH.search(token):
        return False
    return not (_RANDOMISH.search(token) and re.search(r"\d", token) and re.search(r"[A-Za-z]", token))


def _basename(word: str) -> str:
    return word.rsplit("/", 1)[-1]


def _segment_program(segment: str) -> str:
    pw = program_words(segment)
    return _basename(pw[0]) if pw else ""


def _pick_segment(fail_segs: list[str], fix_segs: list[str]) -> str:
    """The failing segment that matters: one whose program the fix does not run (the fix
    replaced it), else one the fix changed, else the first that does work."""
    working = [s for s in fail_segs if _segment_program(s) and _segment_program(s) not in _SETUP]
    if not working:
        return fail_segs[0] if fail_segs else ""
    fix_programs = {_segment_program(s) for s in fix_segs}
    for seg in working:
        if _segment_program(seg) not in fix_programs:
            return seg
    fix_set = set(fix_segs)
    for seg in working:
        if seg not in fix_set:
            return seg
    return working[0]


def head_regex(segment: str, with_subcommand: bool) -> str:
    """`\\bpython3\\b`, or with its subcommand `\\bgit\\b[^\\n;&|]*?\\bpush\\b` (same segment)."""
    pw = program_words(segment)
    if not pw:
        return token_regex(segment.split()[0]) if segment.split() else ""
    prog = _basename(pw[0])
    head = token_regex(prog)
    if not with_subcommand:
        return head
    rest = pw[1:]
    sub = ""
    if re.fullmatch(r"python[0-9.]*|py", prog) and len(rest) >= 2 and rest[0] == "-m":
        sub = f"-m {rest[1]}"
    else:
        sub = next((w for w in rest if not w.startswith("-") and not _ENV_ASSIGN.match(w)), "")
        if not _SUBCOMMAND.fullmatch(sub):
            sub = ""
    if not sub:
        return head
    return head + r"[^\n;&|]*?" + token_regex(sub)


def _tokens(segments: list[str]) -> tuple[list[str], list[str], list[str], list[str]]:
    """(env assignments, long flags, short flags, plain arguments) of some segments, in order."""
    env: list[str] = []
    long_flags: list[str] = []
    short_flags: list[str] = []
    args: list[str] = []
    for seg in segments:
        ws = words(seg)
        pw = program_words(seg)
        skip = len(ws) - len(pw)
        for k, w in enumerate(ws):
            if k < skip:
                if _ENV_ASSIGN.match(w):
                    env.append(w)
            elif k == skip:
                continue  # the program itself
            elif w.startswith("--"):
                long_flags.append(w)
            elif w.startswith("-") and len(w) > 1:
                short_flags.append(w)
            else:
                args.append(w)
    return env, long_flags, short_flags, args


def _distinguishing(mine: list[str], theirs: list[str], *, with_args: bool) -> list[str]:
    """My command's tokens the other lacks, most telling first: env assignments, long flags,
    short flags only when no long flag differs, and arguments only when asked (`with_args`) and
    nothing else differs (a path argument is specific to one situation)."""
    env, long_flags, short_flags, args = _tokens(mine)
    other = set(words(" ".join(theirs)))

    def fresh(group: list[str]) -> list[str]:
        seen: list[str] = []
        for token in group:
            if token not in other and token not in seen and _usable(token):
                seen.append(token)
        return seen

    out = fresh(env) + fresh(long_flags)
    if not any(t.startswith("--") for t in out):
        out += fresh(short_flags)
    if not out and with_args:
        out = [t for t in fresh(args) if not t.startswith("$")]
    return out[:_MAX_TOKENS]


def _new_programs(fix_segs: list[str], fail_segs: list[str]) -> list[str]:
    """Programs (or runners: `uv run`) the fix ran that the failing command did not."""
    fail_programs = {_segment_program(s) for s in fail_segs}
    out: list[str] = []
    for seg in fix_segs:
        prog = _segment_program(seg)
        if prog and prog not in fail_programs and prog not in _SETUP:
            runner = runner_of(seg)
            token = runner if runner and not runner.endswith("/") else prog
            if token not in out and _usable(token):
                out.append(token)
    return out


def command_trigger(failing_cmd: str, fixing_cmd: str | None = None) -> str:
    """The regex source of a command lesson learned from a failing command and its fix.

    Fires on the failing command's head. A negative lookahead for what the fix added (env
    assignments, flags, a different program or runner) keeps it quiet once the fix is applied;
    when the fix only removed or changed arguments, a positive lookahead requires what the
    failing command had instead."""
    fail_segs = core_segments(failing_cmd) or [failing_cmd.strip()]
    fix_segs = core_segments(fixing_cmd) if fixing_cmd else []
    segment = _pick_segment(fail_segs, fix_segs)
    fix_programs = {_segment_program(s) for s in fix_segs}
    head = head_regex(segment, with_subcommand=_segment_program(segment) in fix_programs)
    if not fix_segs:
        return head
    negatives = _distinguishing(fix_segs, fail_segs, with_args=False)
    negatives += [t for t in _new_programs(fix_segs, fail_segs) if t not in negatives]
    negatives = negatives[:_MAX_TOKENS]
    if negatives:
        return "(?s)^(?!.*(?:" + "|".join(token_regex(t) for t in negatives) + ")).*?" + head
    positives = _distinguishing([segment], fix_segs, with_args=True)
    if positives:
        return "(?s)^(?=.*(?:" + "|".join(token_regex(t) for t in positives) + ")).*?" + head
    return head


def text_command_regex(trigger: str) -> str:
    """A command pattern from a human's or agent's `trigger:` text: the head (and subcommand) of
    the command it names, its arguments generalised away."""
    text = trigger.strip().strip("`").strip()
    segs = core_segments(text) or [text]
    working = [s for s in segs if _segment_program(s) not in _SETUP] or segs
    return head_regex(working[0], with_subcommand=True)


# --- checks -----------------------------------------------------------------------------------


def _compiled(lesson: Lesson, kind: str) -> list[re.Pattern[str]]:
    out = []
    if kind == "command":
        for pattern in lesson.triggers.command_patterns:
            out.append(compile_source(*command_regex(pattern)))
    else:
        for pattern in lesson.triggers.path_patterns:
            out.append(compile_source(*path_regex(pattern)))
    return out


def trigger_matches_evidence(lesson: Lesson, failing: str, fix: str | None) -> bool:
    """True when the lesson fires on its failing call and stays quiet on its fix (no fix: only
    the first half is checked). Command patterns are used when the lesson has any, else path
    patterns; a lesson with neither, or with a pattern that does not compile, fails."""
    kind = "command" if lesson.triggers.command_patterns else "path"
    try:
        regexes = _compiled(lesson, kind)
    except (re.error, ValueError):
        return False
    if not regexes or not any(r.search(failing) for r in regexes):
        return False
    return fix is None or not any(r.search(fix) for r in regexes)


def lesson_problems(lesson: Lesson) -> list[str]:
    """What would keep a lesson's triggers from working: patterns that do not compile, unknown
    inline flags, a blocking lesson without any pattern."""
    problems = []
    for kind, patterns, convert in (("command", lesson.triggers.command_patterns, command_regex),
                                    ("path", lesson.triggers.path_patterns, path_regex)):
        for pattern in patterns:
            try:
                compile_source(*convert(pattern))
            except (re.error, ValueError) as err:
                problems.append(f"{kind} pattern {pattern!r} does not compile: {err}")
    if lesson.action == "block" and not (lesson.triggers.command_patterns or lesson.triggers.path_patterns):
        problems.append("a blocking lesson needs a command or path pattern")
    return problems

"""Normalised failure signatures: the same mistake in another session gets the same string.

A signature names the pattern, not the instance: numbers, hex ids, quoted names and temp paths
are folded, so `No module named 'requests'` and `No module named 'numpy'` stay apart (different
facts) while two runs of the same failing command with different line numbers meet.
"""

from __future__ import annotations

import re
from functools import lru_cache

from forewarn import regexes
from forewarn.analyze import casefold, shell
from forewarn.model import ToolCall

# (hex digits spelled in both cases rather than through re.I, which matches no other character
# here and is slower)
# `\b[0-9a-fA-F]{7,}\b|\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b`,
# beginning with a hex digit rather than `\b`: the regex engine tries a pattern that begins
# with `\b` at every place of the line, and one that begins with a character class only where
# the class matches. After the digit, `(?<!\w.)` asks what `\b` before it asked: that the
# character before is not a word character.
_HEX = regexes.compile(r"[0-9a-fA-F](?<!\w.)(?:[0-9a-fA-F]{6,}\b|"
                       r"[0-9a-fA-F]{7}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b)")
_NUM = regexes.compile(r"\d+(?:\.\d+)*")
_TMP = regexes.compile(r"/(?:tmp|var/folders)/\S*")
_SPACE = regexes.compile(r"\s+")
# Words that make a line an error line (none spans lines: the first line that has one is the
# line of the first word found). Plain lowercase words: the pattern is only their alternation.
_ERROR_WORDS = ("error", "fatal", "not found", "no such", "denied", "unknown", "invalid", "unrecognized", "cannot",
                "can't", "failed", "refused", "timed out", "usage:", "not recognized", "does not exist", "exception",
                "required")
_ERROR_WORD = casefold.LazyPattern("|".join(_ERROR_WORDS), re.I)
_LONGEST_ERROR_WORD = max(map(len, _ERROR_WORDS))
# A leftmost match never starts inside a run of `[\w.-]` (it would start where the run does), so
# the lookbehind changes no match; it only spares the search a rescan of the run from each of its
# characters.
_PATH_PREFIX = regexes.compile(r"(?<![\w.-])(?:[\w.-]*/)+([\w.-]+)")
# Where a long error line is cut before it is normalised (see `error_key`): three times the
# longest key, the normal form being often shorter than the line.
KEY_CUT = 240
_NOISE_PREFIX = regexes.compile(r"^(?:Exit code -?\d+\s*|<tool_use_error>|\s+)+")


def _error_line_of(body: str) -> str:
    """The first line of `body`'s first 3000 characters that has an error word, else its first line."""
    head = body[:3000]
    start = _first_error_word(head)
    if start < 0:
        return body.strip().split("\n", 1)[0]
    end = head.find("\n", start)  # (after the word too: no error word has a newline)
    return head[head.rfind("\n", 0, start) + 1:end if end >= 0 else len(head)]


def _first_error_word(text: str) -> int:
    """Where `_ERROR_WORD.search(text)` matches, or -1: the first place one of the words is
    found in the lowered text, when the text folds (`casefold`).

    Searched piece by piece, the first 256 characters, the next 512 and so on (most outputs have
    an error word early), with a search for each word that stops where the first found so far
    starts: far less than the alternation costs. Each piece is lowered on its own while it is
    ASCII, where lowering goes letter by letter and matching without case is matching the
    lowered text; text that is not ASCII is searched whole, as `casefold` says."""
    start, size, n = 0, 256, len(text)
    while start < n:
        stop = start + size  # (words that start before `stop`)
        piece = text[start:stop + _LONGEST_ERROR_WORD - 1]
        if not piece.isascii():
            return _first_error_word_folded(text)
        low = piece.lower()
        first = size
        for word in _ERROR_WORDS:
            at = low.find(word, 0, first + len(word) - 1)
            if at >= 0:
                first = at
        if first < size:
            return start + first
        start, size = stop, size * 2
    return -1


def _first_error_word_folded(text: str) -> int:
    low = casefold.folded(text)
    if low is None:
        m = _ERROR_WORD.search(text)
        return m.start() if m else -1
    first = len(low)
    for word in _ERROR_WORDS:
        at = low.find(word, 0, first + len(word) - 1)
        if at >= 0:
            first = at
    return first if first < len(low) else -1


def error_line(text: str, limit: int = 160) -> str:
    """The most telling error line of an output, as written (for people)."""
    body = _NOISE_PREFIX.sub("", text or "").replace("</tool_use_error>", "")
    line = _error_line_of(body)
    line = _SPACE.sub(" ", line).strip(" :")
    return line if len(line) <= limit else line[: limit - 1] + "…"


def launcher(command: str) -> str:
    """What started the program: `uv run`, `poetry run`, `.venv/bin/`, or the interpreter
    (`python3 -m pytest` → `python3`, `python3 x.py` → `python3`); "" for a plain program."""
    seg = shell.primary_segment(command)
    runner = shell.runner_of(seg)
    if runner.endswith(" -m"):
        return runner[:-3]
    if runner:
        return runner
    prog = shell.program(seg)
    return prog if re.fullmatch(r"python[0-9.]*|node|ruby|perl|php|java|bash|sh", prog) else ""


def environment_signature(bad_command: str, fix_command: str) -> str | None:
    """`shell:env_runtime:python3 -> uv run` when the fix ran the same thing another way."""
    a, b = launcher(bad_command), launcher(fix_command)
    if a == b or not (a or b):
        return None
    return f"shell:env_runtime:{a or shell.program(shell.primary_segment(bad_command))} -> {b or shell.program(shell.primary_segment(fix_command))}"


@lru_cache(maxsize=1024)  # a failure repeated gives the same output again
def error_key(text: str, limit: int = 80) -> str:
    """The most telling error line of an output, normalised."""
    body = _NOISE_PREFIX.sub("", text or "")
    body = body.replace("</tool_use_error>", "")
    line = _error_line_of(body)
    # Only the key's first `limit` characters are kept, and a long line (a minified payload, a
    # wide table) costs a lot to normalise: the line is normalised up to a blank past
    # `KEY_CUT` first, and that is its key when it gives enough. None of the rules below matches
    # across a blank or puts one in, and none looks further than one character past its match,
    # so the normal form of the line cut at a blank is the start of the whole line's normal form
    # (stripping `" :"` only takes off its end).
    if len(line) > KEY_CUT:
        blank = _SPACE.search(line, KEY_CUT)
        if blank is not None:
            key = _normal_form(line[:blank.start()])
            if len(key) >= limit:
                return key[:limit].lower()
    return _normal_form(line)[:limit].lower()


def _normal_form(line: str) -> str:
    line = _TMP.sub("<tmp>", line)
    line = _HEX.sub("<id>", line)
    line = _NUM.sub("N", line)
    line = " ".join(line.split()).strip(" :")  # (as `_SPACE.sub(" ", line)` would: `\s` is `isspace`)
    # paths inside the message are facts about this project, keep only their last component
    # (word by word, and only in words with a `/`: a path is all `[\w.-/]`, so none spans a
    # blank, and a word's start is like the line's for the lookbehind)
    if "/" in line:
        line = " ".join(_PATH_PREFIX.sub(r"\1", w) if "/" in w else w for w in line.split(" "))
    return line


def path_of(call: ToolCall) -> str:
    inp = call.input
    for key in ("file_path", "path", "notebook_path", "absolute_path", "dir_path", "directory"):
        value = inp.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def main_input(call: ToolCall) -> str:
    """The one string that says what the call did: its command, path, pattern or URL."""
    inp = call.input
    cmd = inp.get("command")
    if isinstance(cmd, list):
        cmd = " ".join(str(c) for c in cmd)
    if isinstance(cmd, str) and cmd:
        return shell.unwrap_shell(cmd)
    path = path_of(call)
    pattern = inp.get("pattern") or inp.get("query") or inp.get("url")
    if isinstance(pattern, str) and pattern:
        return f"{pattern} in {path}" if path else pattern
    if path:
        return path
    for value in inp.values():
        if isinstance(value, str) and value:
            return value[:300]
    return ""


def signature(call: ToolCall, kind: str, project: str | None = None, text: str | None = None) -> str:
    """`family:kind:subject:error` with every part normalised (`text`: `main_input(call)`, when
    the caller has it)."""
    fam = call.family
    if fam == "shell":
        cmd = main_input(call) if text is None else text
        seg = shell.primary_segment(cmd)
        subject = shell.family(seg) or shell.program(seg) or "?"
        runner = shell.runner_of(seg)
        if runner:
            subject = f"{runner.rstrip('/').rsplit('/', 1)[-1]} {subject}" if runner.endswith("/") else f"{runner} {subject}"
        if kind in ("user_rejected", "user_interrupt"):
            return f"shell:{kind}:{subject}"
        return f"shell:{kind}:{subject}:{error_key(call.output)}"
    if fam in ("read", "glob", "search") and kind in ("path_not_found", "too_large", "wrong_search_scope"):
        return f"{fam}:{kind}:{_project_relative(path_of(call), project)}"
    if fam in ("edit", "write"):
        if kind in ("user_rejected", "user_interrupt"):
            return f"{fam}:{kind}"
        return f"{fam}:{kind}:{error_key(call.output, 60)}"
    if kind in ("user_rejected", "user_interrupt"):
        return f"{call.tool.lower()}:{kind}"
    return f"{fam}:{kind}:{error_key(call.output, 60)}"


def _project_relative(path: str, project: str | None) -> str:
    if project and path.startswith(project.rstrip("/") + "/"):
        return path[len(project.rstrip("/")) + 1:]
    return path

"""A later call as pairing looks at it when it searches for a failure's fix.

Each failure of a session looks through the calls after it, so one call is looked at by many
failures. What they ask of it (what it did, whether its outcome is known, the steps of its
command line, whether its output still reports failures) is found once, on first use, and kept.

Before a line is parsed, pairing asks whether it could hold what a failure wants at all: a step
running one of some programs (`may_run`), with some words (`has_words`) or texts (`has_texts`),
or writing a file (`may_write`). Most lines a failure looks at cannot, and these answers, read
off the line's text, cost far less than its steps.

Invariants: a `Candidate` only remembers; each of its answers is a function of its call alone,
so asking it or working the answer out from the call gives the same result (the call must not
change while its session is being paired). The four answers above may be wrong only one way:
they may say a line could have what it has not, never the reverse (each says why).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from typing import Literal

from forewarn import regexes
from forewarn.analyze import casefold, intent
from forewarn.analyze.intent import Step
from forewarn.analyze.signature import main_input, path_of
from forewarn.model import PENDING, ToolCall

_BACKGROUND = regexes.compile(r"^Command running in background", re.I)
_CANCELLED = casefold.LazyPattern(r"Sibling tool call errored|Cancelled: parallel tool call", re.I)
_CANCELLED_LOW = casefold.lowered(_CANCELLED)
_EMPTY_RESULT = regexes.compile(r"^\s*(?:No files found|No matches found|Found 0 |No results)", re.I)
# A run whose output still reports failures is not the clean run that fixed a build or test.
_FAIL_MARKS = regexes.compile(
    r"^\s*(?:FAIL|FAILED|ERROR|Error:|error(?:\[\w+\])?:|npm ERR!|Traceback \(most recent)|"
    r"\b[1-9]\d* (?:failed|failing|failures?|errors?)\b|\bFAILED\b|--- FAIL|[✖✗❌](?!\s*0\b)|\berror TS\d+", re.M)
# What a fix must have in its line (see `Candidate.has_words`): groups of words, and how many of
# each group it needs.
Need = tuple[tuple[tuple[str, ...], int], ...]
# Pieces of text one of which every match of _FAIL_MARKS has: most clean runs have none, and a
# search for each costs far less than the pattern, which the regex engine tries at every place.
_FAIL_HINTS = ("FAIL", "ERROR", "Error:", "error", "npm ERR!", "Traceback", "failed", "failing", "failure",
               "\u2716", "\u2717", "\u274c")
_HEADER = regexes.compile(r"\A(?:Exit code:? -?\d+\s*\n)?(?:Wall time:[^\n]*\n)?(?:Output:\n)?")
# Where the words of a line end once its quotes and escapes are taken out: blanks (`\s`, which is
# `str.isspace`, as the shell splitters use it) and the characters that end a command.
_WORD_END = regexes.compile(r"[\s;&|]")
_COMMAND_END = frozenset(";&|")
_VERSION_CHARS = frozenset("0123456789.")


class Candidate:
    """A call as a candidate fix: the facts every failure before it asks for, each found once."""

    __slots__ = ("_acting", "_bare", "_cancelled", "_edit_text", "_empty", "_fail_marks", "_found_nothing",
                 "_norm_line", "_path", "_runs", "_step_texts", "_steps", "_text", "_word_text", "call", "family",
                 "known")

    def __init__(self, call: ToolCall) -> None:
        self.call = call
        self.family = call.family
        # the outcome is known: not still running, not sent to the background
        self.known = call.status != PENDING and not unconfirmed(call)
        self._text: str | None = None
        self._runs: dict[str, bool] = {}
        self._norm_line: str | None = None
        self._step_texts: frozenset[str] | None = None
        self._path: str | None = None
        self._steps: tuple[Step, ...] | None = None
        self._acting: tuple[Step, ...] | None = None
        self._fail_marks: bool | None = None
        self._found_nothing: bool | None = None
        self._bare: str | None = None
        self._edit_text: str | None = None
        self._cancelled: bool | None = None
        self._empty: bool | None = None
        self._word_text: str | Literal[False] | None = False  # (False: not read yet)

    @property
    def text(self) -> str:
        """`main_input(call)`: what the call did."""
        if self._text is None:
            self._text = main_input(self.call)
        return self._text

    @property
    def path(self) -> str:
        if self._path is None:
            self._path = path_of(self.call)
        return self._path

    @property
    def steps(self) -> tuple[Step, ...]:
        if self._steps is None:
            self._steps = intent.steps(self.text)
        return self._steps

    @property
    def edit_text(self) -> str:
        """`edit_text(call)`."""
        if self._edit_text is None:
            self._edit_text = edit_text(self.call)
        return self._edit_text

    @property
    def bare(self) -> str:
        """`bare(text)`."""
        if self._bare is None:
            self._bare = bare(self.text)
        return self._bare

    def may_run(self, programs: Collection[str]) -> bool:
        """False only if no step of the line runs one of `programs`, each `plain` (given as
        `bare(program)`). Asked before the line is parsed: most lines a failure looks at run
        something else."""
        if "<<" in self.text:
            return True  # (see `runs`)
        text = self.bare
        for p in programs:
            if p in text:
                # (kept: the failures of a session ask about the same few programs)
                found = self._runs.get(p)
                if found is None:
                    found = self._runs[p] = runs(text, p)
                if found:
                    return True
        return False

    def has_words(self, needs: Iterable[Need]) -> bool:
        """False only if no step of the line meets one of `needs`: has, for each `(words,
        at_least)` of it, at least that many of the words, each a stem (`intent._stem`), a unit
        (`intent._units`), a script's or a file's name (`intent.file_name`) given as
        `word_key(word)`. Asked before the line is parsed.

        A step's words, their parts and the names in them are pieces of the line's words, and
        stemming lowercases a word, reads `:` and `-` as `_` and may drop a last `s`: so where
        the bare text lowercases letter by letter (ASCII) and has no here-document (whose marker
        is blanked out of the words), the `word_key` of each is a piece of the line's own
        `word_key`."""
        if self._word_text is False:
            bare_text = self.bare
            self._word_text = word_key(bare_text) if bare_text.isascii() and "<<" not in self.text else None
        text = self._word_text
        if text is None:
            return True
        # (loops rather than `all`/`any`: this runs for most lines of most failures)
        for need in needs:
            met = True
            for words, at_least in need:
                spare = len(words) - at_least  # how many of them may be missing
                for word in words:
                    if word not in text:
                        spare -= 1
                        if spare < 0:
                            met = False
                            break
                if not met:
                    break
            if met:
                return True
        return False

    @property
    def norm_line(self) -> str:
        """`norm(intent.unwrap(text))`: a piece of it is the `norm` of each step's text."""
        if self._norm_line is None:
            self._norm_line = norm(intent.unwrap(self.text))
        return self._norm_line

    @property
    def step_texts(self) -> frozenset[str]:
        """The `norm` of each step's text."""
        if self._step_texts is None:
            self._step_texts = frozenset(norm(s.text) for s in self.steps)
        return self._step_texts

    @property
    def may_write(self) -> bool:
        """False only if no step of the line writes a file by a rule of pairing's
        `_writes_file`: a redirect (`>`) or `tee`, an in-place edit (`_IN_PLACE`), or an inline
        script (in a here-document or a `-c` word) that writes (`_SCRIPT_WRITE`). Each rule
        needs one of these pieces of text in the step, and so in the line (bare, for words:
        unquoting takes quotes and backslashes out)."""
        text, bare_text = self.text, self.bare
        return ">" in text or "<<" in text or "tee" in bare_text or "write" in bare_text or "open(" in bare_text \
            or ("-i" in text and ("sed" in text or "awk" in text)) or ("perl" in text and "-" in text)

    def has_texts(self, texts: Iterable[str]) -> bool:
        """False only if one of `texts` (`norm`ed) is the text of no step of the line: each
        step's text is a piece of the line (`norm_line`)."""
        line = self.norm_line
        return all(text in line for text in texts)

    def steps_for(self, target: Step) -> tuple[Step, ...]:
        """The steps that could be the retried action of `target` (help lookups never are,
        unless the target was one)."""
        if target.is_help:
            return self.steps
        if self._acting is None:
            all_steps = self.steps
            self._acting = all_steps if not any(s.is_help for s in all_steps) \
                else tuple(s for s in all_steps if not s.is_help)
        return self._acting

    @property
    def fail_marks(self) -> bool:
        """The output still reports failures."""
        if self._fail_marks is None:
            output = self.call.output
            self._fail_marks = any(hint in output for hint in _FAIL_HINTS) and bool(_FAIL_MARKS.search(output))
        return self._fail_marks

    @property
    def cancelled(self) -> bool:
        """`cancelled(call)`."""
        if self._cancelled is None:
            self._cancelled = cancelled(self.call)
        return self._cancelled

    @property
    def empty(self) -> bool:
        """A listing or search that found nothing."""
        if self._empty is None:
            call = self.call
            self._empty = self.family in ("glob", "search") and (
                not call.output.strip() or bool(_EMPTY_RESULT.match(call.output)))
        return self._empty

    @property
    def found_nothing(self) -> bool:
        """Nothing but the result header in the output (for a search: it found nothing)."""
        if self._found_nothing is None:
            self._found_nothing = not _HEADER.sub("", self.call.output).strip()
        return self._found_nothing


def edit_text(call: ToolCall) -> str:
    """What an edit changed: its old and new text, the content written, the patch applied."""
    inp = call.input
    parts = [inp.get(k) for k in ("old_string", "new_string", "content", "new_source", "patch", "input")]
    edits = inp.get("edits")
    if isinstance(edits, list):
        for e in edits:
            if isinstance(e, dict):
                parts += [e.get("old_string"), e.get("new_string")]
    return "\n".join(p for p in parts if isinstance(p, str))


def word_key(word: str) -> str:
    """`word` bare, lowercased, with `:` and `-` read as `_` (see `Candidate.has_words`)."""
    return bare(word).lower().replace(":", "_").replace("-", "_")


def norm(text: str) -> str:
    """`text` with each run of blanks made one space, and none at the ends."""
    return " ".join(text.split())


def bare(text: str) -> str:
    """`text` without quotes and backslashes."""
    return text.replace("'", "").replace('"', "").replace("\\", "") if "'" in text or '"' in text or "\\" in text \
        else text


def plain(program: str) -> bool:
    """`runs` can tell whether a line runs `program` (given as `bare(program)`): it is not
    empty, not a `$var`, and has no `/`, no blank and no `;`, `&` or `|` in it."""
    return bool(program) and program[0] != "$" and "/" not in program and _WORD_END.search(program) is None


def runs(bare_text: str, program: str) -> bool:
    """Whether `program` ends a word of a line (given its `bare` text) where the word starts or
    right after a `/`, maybe followed by a version suffix (`python3.12`).

    Every `plain` program a step of the line runs does (`intent.steps`): the step's program is
    cut from one word of the line, its last path component (an interpreter's without the version
    suffix). The words are the line's text split at blanks and at the characters that end a
    command (`;`, `&`, `|`, newlines), unwrapping (`bash -lc '…'`) only takes text off the ends,
    and unquoting a word takes out only quotes and backslashes, which `bare` takes out of the
    whole line: so in the bare text the program ends a word, right after a `/` or where the word
    starts. Not so when a here-document marker is blanked out of a word (`cat <<'EOF'x`): lines
    with `<<` are always parsed."""
    n, size = len(bare_text), len(program)
    at = bare_text.find(program)
    while at >= 0:
        before = bare_text[at - 1] if at else " "
        if before == "/" or before in _COMMAND_END or before.isspace():
            end = at + size
            while end < n and bare_text[end] in _VERSION_CHARS:
                end += 1
            after = bare_text[end] if end < n else " "
            if after in _COMMAND_END or after.isspace():
                return True
        at = bare_text.find(program, at + 1)
    return False


def cancelled(call: ToolCall) -> bool:
    """Cancelled because a call run beside it failed. (`casefold.found`, with the words both
    messages have looked for in the folded text first.)"""
    head = call.output[:300]
    low = casefold.folded(head)
    if low is None:
        return _CANCELLED.search(head) is not None
    return "tool call" in low and _CANCELLED_LOW.search(low) is not None


def unconfirmed(call: ToolCall) -> bool:
    """Sent to the background: whether it worked is not known from this result."""
    # (the first letter before the pattern: an output rarely begins with a `c`)
    return bool(call.input.get("run_in_background")) or (
        call.output[:1] in ("c", "C") and _BACKGROUND.match(call.output) is not None)


def some_parts(step: Step) -> tuple[str, ...]:
    """Some of the words `reordered` compares (`Step.word_set`), as `word_key`s: a step with all
    of them has all these. The parts of the first few words only: the words of a long line (a
    message, a script) cost much to split and do not tell a line from another any better.
    Empty when `reordered` cannot hold (fewer than two parts in all)."""
    parts: set[str] = set()
    for word in step.words[1:]:
        for w in word.lstrip("-").split("=", 1) if word.startswith("-") else (word,):
            parts |= intent.word_parts(w)
        if len(parts) >= 3:
            break
    return tuple(word_key(p) for p in parts) if len(parts) >= 2 else ()


def first_component(path: str) -> str:
    """What every folder above or below `path` (`_ancestor_or_descendant`) has in it: its first
    component (with the `/` of an absolute path)."""
    path = path.rstrip("/")
    if path.startswith("/"):
        return "/" + path[1:].split("/", 1)[0]
    return path.split("/", 1)[0]


def mentions(command: str, name: str) -> bool:
    """`name` is a word of `command`, or ends a path in it: at the start or after a blank, `/`,
    a quote or `=`, and at the end or before a blank, a quote, `;`, `|`, `&` or `)`. (What
    `re.search(r"(?:^|[\\s/'\"=])" + re.escape(name) + r"(?:$|[\\s'\";|&)])", command)` finds, without
    compiling a pattern for each name: `\\s` is `str.isspace`, and `$` also matching before a
    last newline adds nothing, a newline being a blank.)"""
    if not name:
        return False
    size, n = len(name), len(command)
    at = command.find(name)
    while at >= 0:
        if at == 0 or command[at - 1] in "/'\"=" or command[at - 1].isspace():
            end = at + size
            if end == n or command[end] in "'\";|&)" or command[end].isspace():
                return True
        at = command.find(name, at + 1)
    return False

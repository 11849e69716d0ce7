"""What a shell command line was trying to do, in a form pairing can compare.

A command line is read as a list of `Step`s: the simple commands that do work, each with the
programs its output was piped into and the directory it ran in. Plumbing is left out (`cd`,
`export`, `sleep`, `echo "---"`), and inside a pipeline the step is the first stage that acts
rather than looks (`ps aux | grep x | xargs kill` acts through `kill`; `pytest | tail` runs pytest).

Invariants:
- a step's `path` is its program followed by the subcommand-like words after it, with runners and
  interpreters seen through (`uv run pytest -x` and `.venv/bin/python -m pytest` both have the
  path `pytest`; `python3 tools/gen.py` has `python gen.py`);
- a here-document belongs to the step that reads it (`python3 - <<'PY' … PY` is one step whose
  `code` is the script), and `bash -lc '…'`, `powershell -Command "…"`, `cmd /c …` are unwrapped;
- words are compared by stem (`daemon` ≈ `daemons`, `test:web` ≈ `test_web`), never by project
  knowledge: nothing here names a tool of any particular project;
- parsing never raises: any text gives some (possibly empty) tuple of steps.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from forewarn import regexes
from forewarn.analyze import shell

# Steps that only prepare or decorate a command line.
_SETUP = {"cd", "pushd", "popd", "export", "source", ".", "set", "unset", "true", ":", "sleep", "alias",
          "unalias", "hash", "ulimit", "trap", "wait", "clear", "echo", "printf", "exit", "return", "shift",
          "local", "declare", "readonly"}
# Programs that only look at things: their result is information, never the change a failed
# action was trying to make.
_LOOKERS = shell.VIEWERS | shell.PROBES | {
    "lsblk", "blkid", "lscpu", "lsusb", "lspci", "env", "top", "htop", "history", "man", "tldr", "tree",
    "whereis", "apropos", "info", "less", "more", "bat", "column", "xxd", "stat", "file",
}
# Subcommands that only look, for any CLI (`git log`, `docker ps`, `kubectl get`, `gt daemon status`).
_LOOKING_SUBS = {"status", "list", "ls", "show", "logs", "log", "info", "view", "get", "describe", "inspect",
                 "version", "help", "diff", "search", "ps", "top", "whoami", "explain", "blame", "reflog",
                 "shortlog"}
_LOOKING_STEMS = frozenset(w[:-1] if len(w) > 3 and w.endswith("s") else w for w in _LOOKING_SUBS)
# Tools whose identity is the file they act on: `cat a` and `cat b` are different attempts.
_FILE_TOOLS = _LOOKERS | {"mkdir", "rm", "rmdir", "cp", "mv", "chmod", "chown", "touch", "ln", "open", "xdg-open",
                          "code", "vim", "vi", "nano", "emacs", "tar", "unzip", "zip", "rsync", "scp", "install"}
# Interpreters: the script they run is part of what was run.
_INTERPRETERS = regexes.compile(r"(?:python|pypy)[0-9.]*|py|node|deno|bun|ruby|perl|php|bash|sh|zsh|Rscript|lua|tsx|ts-node")
# The programs of interpreter steps (`is_interpreter`): a step's program has no version suffix.
INTERPRETER_NAMES = frozenset({"python", "pypy", "py", "node", "deno", "bun", "ruby", "perl", "php", "bash", "sh",
                               "zsh", "Rscript", "lua", "tsx", "ts-node"})
# Filters whose output hides whether the run passed (a test run piped into grep shows only what
# matched); `tail` keeps the closing summary and is not one of them.
_HIDING_FILTERS = {"grep", "rg", "egrep", "fgrep", "ag", "head", "awk", "sed", "cut", "jq", "wc", "sort", "uniq"}
_DRY_RUN = {"--dry-run", "--dryrun", "--dry_run", "--what-if", "--just-print", "--recon", "--simulate"}
_REDIRECT_TARGET = regexes.compile(r"(?<![0-9&<])>>?\s*(['\"]?)([^\s'\";|&>]+)\1")
_TOKEN = regexes.compile(r"[A-Za-z_][A-Za-z0-9_-]{3,}")
# Words every script has: they say nothing about what a script does.
_KEYWORDS = frozenset({
    "from", "import", "print", "return", "self", "True", "False", "None", "with", "open", "pass", "else",
    "elif", "while", "lambda", "const", "function", "async", "await", "export", "default", "then", "done",
    "local", "class", "break", "continue", "raise", "except", "finally", "yield", "global", "assert",
    "Path", "pathlib", "json", "sys", "argv", "exit", "text", "read_text", "write_text", "encoding",
    "utf-8", "console", "require", "null", "undefined", "this", "echo", "true", "false",
})
_ARRAY_ASSIGN = regexes.compile(r"^[A-Za-z_]\w*=\(")
_REDIRECT_WORD = regexes.compile(r"^(?:\d*>>?|&>|\d*<|<<<?)")
_VARIABLE = regexes.compile(r"^\$\{?([A-Za-z_]\w*)")
_HELP_FLAGS = {"--help", "-h", "-help", "--usage", "--version", "-V", "help"}
_POWERSHELL = regexes.compile(r"^(?:powershell|pwsh)(?:\.exe)?\s+(?:-\w+\s+)*?-(?:Command|c)\s+(.*)$", re.I | re.S)
_CMD_C = regexes.compile(r"^cmd(?:\.exe)?\s+/[cCkK]\s+(.*)$", re.S)
_TAG = regexes.compile(r"[:@][\w.+-]*$")
_VERSION_SUFFIX = regexes.compile(r"[0-9.]+$")
_PYTHON = regexes.compile(r"(?:python|pypy)[0-9.]*|py")
_PATHISH = regexes.compile(r"[/~]|\.\w{1,6}$")


@dataclass(frozen=True, slots=True)
class Step:
    """One simple command that does work, as pairing compares it."""

    text: str
    words: tuple[str, ...]  # from the (inner) program on, wrappers and runners removed
    program: str
    path: tuple[str, ...]  # program + subcommand words, stemmed
    filters: tuple[str, ...]  # programs the step's output was piped into
    directory: str  # the `cd` target in effect, "" when the line did not change directory
    body: str = ""  # a here-document fed to the step (an inline script, a file's content)
    writes: str = ""  # the file its output was redirected (or tee'd) into
    patterns: tuple[str, ...] = ()  # what its output was grepped for

    # Derived once here, since pairing asks for them for every candidate it looks at:
    # `is_help`: a help or version lookup (`x --help`, `man x`);
    is_help: bool = field(init=False, repr=False, compare=False)
    # `looks`: the step only looks at something (a viewer, a probe, a status/list/log
    # subcommand, a dry run) and writes nothing.
    looks: bool = field(init=False, repr=False, compare=False)
    # What the properties below work out, kept on first use: a failed step is compared with every
    # step of every later line, and each step of a line with every failure before it.
    _memo: dict[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        is_help, looks = _help_and_looks(self.words, self.program, self.path, self.writes)
        object.__setattr__(self, "is_help", is_help)
        object.__setattr__(self, "looks", looks)
        object.__setattr__(self, "_memo", {})

    @property
    def code(self) -> str:
        """The inline script of an interpreter step (its here-document or `-c` argument)."""
        if self.body:
            return self.body
        return self.words[2] if len(self.words) > 2 and self.words[1] in {"-c", "-e"} else ""

    @property
    def interpreter(self) -> bool:
        """The program is an interpreter (`python`, `node`, `bash`…): the script it runs is part
        of what was run."""
        value = self._memo.get("interpreter")
        if value is None:
            value = self._memo["interpreter"] = bool(_INTERPRETERS.fullmatch(self.program))
        return value

    @property
    def inline(self) -> bool:
        """An interpreter running code given on the line (`python3 - <<PY`, `node -e`)."""
        return len(self.path) > 1 and self.path[1] in {"-", "-c", "-e"} and self.interpreter

    @property
    def hidden(self) -> bool:
        """Output filtered so that a failure may not show."""
        return any(f in _HIDING_FILTERS for f in self.filters)

    @property
    def flags(self) -> frozenset[str]:
        value = self._memo.get("flags")
        if value is None:
            value = self._memo["flags"] = frozenset(
                w.split("=", 1)[0] for w in self.words[1:] if w.startswith("-") and len(w) > 1)
        return value

    @property
    def args(self) -> tuple[str, ...]:
        """Non-option words after the program (subcommands, paths, values)."""
        value = self._memo.get("args")
        if value is None:
            value = self._memo["args"] = tuple(w for w in self.words[1:] if not w.startswith("-"))
        return value

    @property
    def path_args(self) -> frozenset[str]:
        """The arguments that look like file paths."""
        value = self._memo.get("path_args")
        if value is None:
            value = self._memo["path_args"] = frozenset(w for w in self.args if _PATHISH.search(w) and _base(w))
        return value

    def names(self, path: str) -> bool:
        """One of the step's arguments is (a spelling of) `path`."""
        return any(same_file(w, path) for w in self.path_args)

    @property
    def file_tool(self) -> bool:
        return self.program in _FILE_TOOLS

    @property
    def units(self) -> frozenset[str]:
        """`_units(words[1:])` (see `coverage`)."""
        value = self._memo.get("units")
        if value is None:
            value = self._memo["units"] = _units(self.words[1:])
        return value

    @property
    def kept_units(self) -> frozenset[str]:
        """`_kept_units(words[1:])` (see `coverage`)."""
        value = self._memo.get("kept_units")
        if value is None:
            value = self._memo["kept_units"] = _kept_units(self.words[1:])
        return value

    @property
    def word_set(self) -> frozenset[str]:
        """`_word_set(words[1:])` (see `reordered`)."""
        value = self._memo.get("word_set")
        if value is None:
            value = self._memo["word_set"] = _word_set(self.words[1:])
        return value


def _help_and_looks(words: tuple[str, ...], program: str, path: tuple[str, ...], writes: str) -> tuple[bool, bool]:
    """`Step.is_help` and `Step.looks`."""
    # (`not S.isdisjoint(ws)`: whether any of the words is in S, without a Python loop)
    is_help = not _HELP_FLAGS.isdisjoint(words[1:4]) or program in {"man", "tldr", "apropos"}
    looks = not writes and (
        program in _LOOKERS or not _LOOKING_STEMS.isdisjoint(path[1:]) or is_help
        or not _DRY_RUN.isdisjoint(words[1:]) or (program == "make" and "-n" in words[1:]))
    return is_help, looks


def unwrap(command: str) -> str:
    """`bash -lc '…'`, `powershell -Command "…"`, `cmd /c …` → the command inside."""
    inner = shell.unwrap_shell(command)
    for pattern in (_POWERSHELL, _CMD_C):
        m = pattern.match(inner.strip())
        if m:
            inner = m.group(1).strip()
            if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
                inner = inner[1:-1].replace('\\"', '"')
    return inner


@lru_cache(maxsize=8192)
def steps(command: str) -> tuple[Step, ...]:
    """The steps of a command line, in order."""
    out: list[Step] = []
    directory = ""
    for pipeline, body in shell.split_pipelines(unwrap(command)):
        progs = [_program(seg) for seg in pipeline]
        if progs[0] in {"echo", "printf"} and all(p in _LOOKERS or p == "tee" for p in progs[1:]):
            continue  # a message printed or logged, however it is piped
        if progs and progs[0] in {"cd", "pushd"}:
            ws = shell.program_words(pipeline[0])
            if len(ws) > 1:
                directory = ws[1]
            continue
        if len(pipeline) == 1:
            main: int | None = None if progs[0] in _SETUP else 0  # (what the rules below pick for one command)
        else:
            # `… | xargs cmd` acts through cmd (unless cmd only looks, `find | xargs grep`)
            xargs = [i for i, seg in enumerate(pipeline)
                     if i and seg.startswith("xargs") and seg.split()[:1] == ["xargs"] and progs[i] not in _LOOKERS]
            main = xargs[-1] if xargs else \
                next((i for i, p in enumerate(progs) if p not in _LOOKERS and p not in _SETUP), None)
            if main is None:
                main = next((i for i, p in enumerate(progs) if p not in _SETUP), None)
        if main is None:
            continue
        if "=(" in pipeline[main] and _ARRAY_ASSIGN.match(pipeline[main]):
            continue  # `cmd=(prog args…)` stores a command; it runs where `"${cmd[@]}"` is used
        words = _inner_words(_without_heredoc(pipeline[main]))
        if not words:
            continue
        program = _program_name(words[0])
        if not program:
            continue
        target = ""
        for seg in pipeline[main:]:
            m = _REDIRECT_TARGET.search(_without_heredoc(seg)) if ">" in seg else None
            if m and not m.group(2).startswith("/dev/"):
                target = m.group(2)
        if progs[-1] == "tee":
            tee_args = [w for w in shell.program_words(pipeline[-1])[1:] if not w.startswith("-")]
            target = tee_args[0] if tee_args else target
        filters = tuple(progs[main + 1:])
        patterns = tuple(w for seg, prog in zip(pipeline[main + 1:], filters, strict=True)
                         if prog in {"grep", "rg", "egrep", "fgrep", "ag"}
                         for w in shell.program_words(seg)[1:] if not w.startswith("-")) if filters else ()
        out.append(Step(pipeline[main], tuple(words), program, _path(program, words, pipeline[main]),
                        filters, directory, body, target, patterns))
    return tuple(out)


def _without_heredoc(segment: str) -> str:
    return shell.HEREDOC.sub(" ", segment) if "<<" in segment else segment


@lru_cache(maxsize=8192)  # the same segments (`cd x`, `git status`) come back in many lines
def _program(segment: str) -> str:
    ws = shell.program_words_of(_without_heredoc(segment))
    return _program_name(ws[0]) if ws else ""


@lru_cache(maxsize=8192)
def _program_name(word: str) -> str:
    m = _VARIABLE.match(word.strip('"')) if "$" in word else None
    if m:
        return "$" + m.group(1)  # `$cmd`, `"${cmd[@]}"`: the same stored command
    program = word.rsplit("/", 1)[-1]
    if _INTERPRETERS.fullmatch(program):
        program = _VERSION_SUFFIX.sub("", program)  # python3.12 ≈ python
    return program


def key_steps(command: str) -> tuple[Step, ...]:
    """The steps that were the point of the line: those that act, or all of them if none does."""
    all_steps = steps(command)
    acting = tuple(s for s in all_steps if not s.looks)
    return acting or all_steps


def same_action(a: Step, b: Step, *, broader: bool = True) -> bool:
    """`b` runs what `a` ran: the same program and subcommands (`b` may go further, `git push` →
    `git push origin main`, and with `broader` stop short, `cargo test foo` → `cargo test`), on
    the same file for tools whose identity is a file."""
    if not a.path or not b.path or a.path[0] != b.path[0]:
        return False
    n = min(len(a.path), len(b.path))
    if a.path[:n] != b.path[:n] or (len(b.path) < len(a.path) and not broader):
        return False
    if a.interpreter:
        if a.path != b.path:
            return False  # `python a.py` and `python b.py` (or a script on stdin) are different runs
        # two inline scripts are the same attempt only when they are mostly the same code
        return not a.inline or token_overlap(a.code, b.code) >= 0.5
    if a.file_tool and a.path_args:
        return any(b.names(w) for w in a.path_args)
    return True


def reordered(a: Step, b: Step) -> bool:
    """The same program with the same words in another order (`gt install --shell` →
    `gt shell install`): a corrected command line, whatever the failure was."""
    if a.program != b.program or a.words[1:] == b.words[1:]:
        return False
    wa, wb = a.word_set, b.word_set
    return len(wa) >= 2 and wa == wb


def same_question(a: Step, b: Step) -> bool:
    """For a step that looks and greps its output, the later look asks for the same thing."""
    if not a.patterns:
        return True
    return bool(_word_set(a.patterns) & (_word_set(b.patterns) | b.word_set))


def token_overlap(a: str, b: str) -> float:
    """Share of `a`'s distinctive tokens (identifiers of 4+ characters) that `b` also has."""
    ta = _distinctive(a)
    if not ta:
        return 1.0 if not b.strip() or a.strip() == b.strip() else 0.0
    return len(ta & _distinctive(b)) / len(ta)


@lru_cache(maxsize=64)  # a failed edit or script is held against each later one (texts may be long)
def _distinctive(text: str) -> frozenset[str]:
    return frozenset(_TOKEN.findall(text)) - _KEYWORDS


def coverage(a: Step, b: Step) -> float:
    """The share of `a`'s words (stemmed, flags without dashes, `test:web` ≈ `test_web`) that `b`
    also has, whole or as a part (`pending` in `trigger-pending`): how much of the failed attempt
    a later call kept (`gt install --shell` → `gt shell install` keeps all). An identifier like
    `hq-x-y` counts once."""
    wa = a.units
    if not wa:
        return 1.0 if a.program == b.program else 0.0
    return len(wa & b.kept_units) / len(wa)


def core_args(step: Step) -> tuple[str, ...]:
    """The arguments after the program, options removed: equal for `python3 x.py a` and
    `uv run python x.py a`, the same run through another interpreter or runner."""
    return step.args


def same_file(a: str, b: str) -> bool:
    """Two spellings of what may be the same file, or a corrected location of it: the same name
    in a folder of the same name (`src/app.py` ≈ `/repo/pkg/src/app.py`), one folder up or down
    the tree (`src/models.py` → `src/core/models.py`), or a bare name. Two `workflow.yaml` in
    sibling folders of different names are different files."""
    a, b = a.rstrip("/\\"), b.rstrip("/\\")
    if not a or not b or _untagged(_base(a)) != _untagged(_base(b)):
        return False  # (a tag or version is not part of the name: `img:1-24` ≈ `img:24`)
    da, db = os.path.dirname(a), os.path.dirname(b)
    if not da or not db or da in (".", "~") or db in (".", "~"):
        return True
    if _base(da) == _base(db):
        return True
    return da.startswith(db + "/") or db.startswith(da + "/")


def file_name(path: str) -> str:
    """What `same_file` compares of a path: its last component without a tag or version."""
    return _untagged(_base(path.rstrip("/\\")))


def _untagged(name: str) -> str:
    return _TAG.sub("", name) if ":" in name or "@" in name else name


def is_interpreter(step: Step) -> bool:
    return step.interpreter


def directories_differ(a: Step, b: Step) -> bool:
    """Both lines `cd` into an absolute directory, and not the same one: different targets."""
    da, db = a.directory, b.directory
    if not da or not db or not da.startswith(("/", "~")) or not db.startswith(("/", "~")):
        return False
    return da.rstrip("/") != db.rstrip("/")


def _inner_words(segment: str) -> list[str]:
    """Program words with runners and `python -m` seen through: `uv run pytest -x` → `pytest -x`."""
    ws = shell.program_words(segment)
    if "<" in segment or ">" in segment:  # (unquoting never makes one: without it no word is a redirection)
        ws = [w for w in ws if not (("<" in w or ">" in w) and _REDIRECT_WORD.match(w))]
    for _ in range(4):
        if not ws:
            break
        base = ws[0].rsplit("/", 1)[-1]
        if base in shell.RUNNERS:
            subs = shell.RUNNERS[base]
            rest = ws[1:]
            if subs:
                if not rest or rest[0] not in subs:
                    break
                rest = rest[1:]
            while rest and rest[0].startswith("-"):
                rest = rest[2:] if rest[0] in {"--with", "--python", "-p", "--directory", "--project", "--package"} \
                    else rest[1:]
            ws = rest
            continue
        if len(ws) > 2 and ws[1] == "-m" and _PYTHON.fullmatch(base):
            ws = ws[2:]
            continue
        break
    return ws


def _path(program: str, words: list[str], text: str = "") -> tuple[str, ...]:
    path = [program]
    if program in INTERPRETER_NAMES:  # (`_INTERPRETERS.fullmatch(program)` for a `_program_name`)
        script = next((w for w in words[1:] if not w.startswith("-")), "")
        if words[1:2] and words[1] in {"-", "-c", "-e"}:
            return (program, words[1])
        return (program, _base(script)) if script else (program,)
    quotes = "'" in text or '"' in text
    for w in words[1:]:
        if len(path) >= 4 or w.startswith("-") or not _SUBCOMMAND_WORD.fullmatch(w) or "." in w:
            break
        if quotes and (f'"{w}"' in text or f"'{w}'" in text):
            break  # a quoted word is a value, not a subcommand
        path.append(_stem(w))
    return tuple(path)


@lru_cache(maxsize=16384)
def _stem(word: str) -> str:
    w = word.lower().replace(":", "_").replace("-", "_")
    return w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w


@lru_cache(maxsize=8192)  # a failed step is compared with every candidate step
def _units(words: tuple[str, ...]) -> frozenset[str]:
    """Words as units: flag names and values apart, paths by their last component, stemmed."""
    out: set[str] = set()
    for word in words:
        for w in (word.lstrip("-").split("=", 1) if word.startswith("-") else [word]):
            if w:
                out.add(_stem(_base(w) if _PATHISH.search(w) else w))
    return frozenset(out)


@lru_cache(maxsize=8192)
def _kept_units(words: tuple[str, ...]) -> frozenset[str]:
    """`_units(words)` and the parts of each (`trigger_pending` → `trigger`, `pending`)."""
    units = _units(words)
    return units | {part for w in units for part in w.split("_") if part}


@lru_cache(maxsize=8192)  # a failed step is compared with every candidate step
def _word_set(words: tuple[str, ...]) -> frozenset[str]:
    out: set[str] = set()
    for word in words:
        parts = word.lstrip("-").split("=", 1) if word.startswith("-") else [word]
        for w in parts:
            out |= _word_parts(w)
    return frozenset(out)


_PART_SEPARATORS = regexes.compile(r"[:_\-/]")
_SUBCOMMAND_WORD = regexes.compile(r"[A-Za-z][\w:.-]{0,40}")


def word_parts(w: str) -> frozenset[str]:
    """The stemmed parts of a word (`test:web` → `test`, `web`; a path → its last component)."""
    return _word_parts(w)


@lru_cache(maxsize=16384)
def _word_parts(w: str) -> frozenset[str]:
    out: set[str] = set()
    if w:
        for part in _PART_SEPARATORS.split(w) if not _PATHISH.search(w) else [_base(w)]:
            if part:
                out.add(_stem(part))
    return frozenset(out)


def _base(word: str) -> str:
    return os.path.basename(word.rstrip("/\\")) if word else ""

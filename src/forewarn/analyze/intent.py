"""What a shell command line was trying to do, in a form pairing can compare.

A command line is read as a list of `Step`s: the simple commands that do work, each with the
programs its output was piped into and the directory it ran in. Plumbing is left out (`cd`,
`export`, `sleep`, `echo "---"`), and inside a pipeline the step is the first stage that acts
rather than looks (`ps aux | grep x | xargs kill` acts through `kill`; `pytest | tail` runs pytest).

Invariants:
- a step's `path` is its program followed by the subcommand-like words after it, with runners and
  interpreters seen through (`uv run pytest -x` and `.venv/bin/python -m pytest` both have the
  path `pytest`; `python3 tools/gen.py` has `python gen.py`);
- words are compared by stem (`daemon` ≈ `daemons`, `test:web` ≈ `test_web`), never by project
  knowledge: nothing here names a tool of any particular project.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache

from forewarn.analyze import shell

# Steps that only prepare or decorate a command line.
_SETUP = {"cd", "pushd", "popd", "export", "source", ".", "set", "unset", "true", ":", "sleep", "alias",
          "ulimit", "trap", "wait", "clear", "echo", "printf"}
# Programs that only look at things: their result is information, never the change a failed
# action was trying to make.
_LOOKERS = shell.VIEWERS | shell.PROBES | {
    "lsblk", "blkid", "lscpu", "lsusb", "lspci", "env", "top", "htop", "history", "man", "tldr", "tree",
    "whereis", "apropos", "info", "less", "more", "bat", "column", "xxd", "stat", "file",
}
# Subcommands that only look, for any CLI (`git log`, `docker ps`, `kubectl get`, `gt daemon status`).
_LOOKING_SUBS = {"status", "list", "ls", "show", "logs", "log", "info", "view", "get", "describe", "inspect",
                 "version", "help", "diff", "search", "ps", "top", "whoami", "doctor", "check", "explain",
                 "blame", "reflog", "shortlog", "config", "remote", "branch", "tag", "stash"}
# Tools whose identity is the file they act on: `cat a` and `cat b` are different attempts.
_FILE_TOOLS = _LOOKERS | {"mkdir", "rm", "rmdir", "cp", "mv", "chmod", "chown", "touch", "ln", "open", "xdg-open",
                          "code", "vim", "vi", "nano", "emacs", "tar", "unzip", "zip", "rsync", "scp", "install"}
# Interpreters: the script they run is part of what was run.
_INTERPRETERS = re.compile(r"(?:python|pypy)[0-9.]*|py|node|deno|bun|ruby|perl|php|bash|sh|zsh|Rscript|lua|tsx|ts-node")
# Filters whose output hides whether the run passed (a test run piped into grep shows only what
# matched); `tail` keeps the closing summary and is not one of them.
_HIDING_FILTERS = {"grep", "rg", "egrep", "fgrep", "ag", "head", "awk", "sed", "cut", "jq", "wc", "sort", "uniq"}
_HELP_FLAGS = {"--help", "-h", "-help", "--usage", "--version", "-V", "help"}
_POWERSHELL = re.compile(r"^(?:powershell|pwsh)(?:\.exe)?\s+(?:-\w+\s+)*?-(?:Command|c)\s+(.*)$", re.I | re.S)
_CMD_C = re.compile(r"^cmd(?:\.exe)?\s+/[cCkK]\s+(.*)$", re.S)
_PATHISH = re.compile(r"[/~]|\.\w{1,6}$")


@dataclass(frozen=True, slots=True)
class Step:
    text: str
    words: tuple[str, ...]  # from the (inner) program on, wrappers and runners removed
    program: str
    path: tuple[str, ...]  # program + subcommand words, stemmed
    filters: tuple[str, ...]  # programs the step's output was piped into
    directory: str  # the `cd` target in effect, "" when the line did not change directory

    @property
    def looks(self) -> bool:
        """The step only looks at something (a viewer, a probe, a status/list/log subcommand)."""
        return self.program in _LOOKERS or (len(self.path) > 1 and self.path[1] in _LOOKING_SUBS) \
            or self.is_help

    @property
    def is_help(self) -> bool:
        return any(w in _HELP_FLAGS for w in self.words[1:4]) or self.program in {"man", "tldr", "apropos"}

    @property
    def hidden(self) -> bool:
        """Output filtered so that a failure may not show."""
        return any(f in _HIDING_FILTERS for f in self.filters)

    @property
    def flags(self) -> frozenset[str]:
        return frozenset(w.split("=", 1)[0] for w in self.words[1:] if w.startswith("-") and len(w) > 1)

    @property
    def args(self) -> tuple[str, ...]:
        """Non-option words after the program (subcommands, paths, values)."""
        return tuple(w for w in self.words[1:] if not w.startswith("-"))

    @property
    def path_args(self) -> frozenset[str]:
        return frozenset(_base(w) for w in self.args if _PATHISH.search(w) and _base(w))

    @property
    def file_tool(self) -> bool:
        return self.program in _FILE_TOOLS


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
    for pipeline in _pipelines(unwrap(command)):
        progs = [shell.program(seg) for seg in pipeline]
        if progs and progs[0] in {"cd", "pushd"}:
            ws = shell.program_words(pipeline[0])
            if len(ws) > 1:
                directory = ws[1]
            continue
        main = next((i for i, p in enumerate(progs) if p not in _LOOKERS and p not in _SETUP), None)
        if main is None:
            main = next((i for i, p in enumerate(progs) if p not in _SETUP), None)
        if main is None:
            continue
        words = _inner_words(pipeline[main])
        if not words:
            continue
        program = words[0].rsplit("/", 1)[-1]
        out.append(Step(pipeline[main], tuple(words), program, _path(program, words),
                        tuple(progs[main + 1:]), directory))
    return tuple(out)


def key_steps(command: str) -> tuple[Step, ...]:
    """The steps that were the point of the line: those that act, or all of them if none does."""
    all_steps = steps(command)
    acting = tuple(s for s in all_steps if not s.looks)
    return acting or all_steps


def same_action(a: Step, b: Step) -> bool:
    """`b` runs what `a` ran: the same program and subcommands (one path may extend the other,
    `git push` ≈ `git push origin main`), on the same file for tools whose identity is a file."""
    if not a.path or not b.path or a.path[0] != b.path[0]:
        return False
    n = min(len(a.path), len(b.path))
    if a.path[:n] != b.path[:n]:
        return False
    if a.file_tool and a.path_args:
        return bool(a.path_args & b.path_args)
    return True


def coverage(a: Step, b: Step) -> float:
    """The share of `a`'s words (stemmed, flags without dashes) that `b` also has: how much of
    the failed attempt a later call kept (`gt install --shell` → `gt shell install` keeps all)."""
    wa = _word_set(a.words[1:])
    if not wa:
        return 1.0 if a.program == b.program else 0.0
    return len(wa & _word_set(b.words[1:])) / len(wa)


def core_args(step: Step) -> tuple[str, ...]:
    """The arguments after the program, options removed: equal for `python3 x.py a` and
    `uv run python x.py a`, the same run through another interpreter or runner."""
    return tuple(w for w in step.words[1:] if not w.startswith("-"))


def directories_differ(a: Step, b: Step) -> bool:
    """Both lines `cd` into an absolute directory, and not the same one: different targets."""
    da, db = a.directory, b.directory
    if not da or not db or not da.startswith(("/", "~")) or not db.startswith(("/", "~")):
        return False
    return da.rstrip("/") != db.rstrip("/")


def _pipelines(command: str) -> list[list[str]]:
    """Split on `&&`, `||`, `;` and newlines into pipelines, each split on `|` (quotes respected)."""
    pipelines: list[list[str]] = [[]]
    buf: list[str] = []
    quote = ""
    i, n = 0, len(command)

    def flush(new_pipeline: bool) -> None:
        seg = "".join(buf).strip()
        buf.clear()
        if seg:
            pipelines[-1].append(seg)
        if new_pipeline and pipelines[-1]:
            pipelines.append([])

    while i < n:
        ch = command[i]
        if quote:
            buf.append(ch)
            if ch == quote:
                quote = ""
            elif ch == "\\" and quote == '"' and i + 1 < n:
                buf.append(command[i + 1])
                i += 1
        elif ch in "'\"":
            quote = ch
            buf.append(ch)
        elif ch == "\\" and i + 1 < n:
            buf.append(ch + command[i + 1])
            i += 1
        elif ch in ";\n" or (ch in "&|" and i + 1 < n and command[i + 1] == ch):
            flush(True)
            if ch in "&|":
                i += 1
        elif ch == "&" and (i + 1 == n or command[i + 1] in " \n") and not (buf and buf[-1] in "<>"):
            flush(True)  # `cmd &`: backgrounded, a pipeline of its own
        elif ch == "|" and not (buf and buf[-1] == ">"):
            flush(False)
        else:
            buf.append(ch)
        i += 1
    flush(False)
    return [p for p in pipelines if p]


def _inner_words(segment: str) -> list[str]:
    """Program words with runners and `python -m` seen through: `uv run pytest -x` → `pytest -x`."""
    ws = shell.program_words(segment)
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
        if re.fullmatch(r"(?:python|pypy)[0-9.]*|py", base) and len(ws) > 2 and ws[1] == "-m":
            ws = ws[2:]
            continue
        break
    return ws


def _path(program: str, words: list[str]) -> tuple[str, ...]:
    path = [program]
    if _INTERPRETERS.fullmatch(program):
        script = next((w for w in words[1:] if not w.startswith("-")), "")
        if words[1:2] and words[1] in {"-c", "-e"}:
            return (program, words[1])
        return (program, _base(script)) if script else (program,)
    for w in words[1:]:
        if len(path) >= 4 or w.startswith("-") or not re.fullmatch(r"[A-Za-z][\w:.-]{0,40}", w) or "." in w:
            break
        path.append(_stem(w))
    return tuple(path)


def _stem(word: str) -> str:
    w = word.lower().replace(":", "_").replace("-", "_")
    return w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w


def _word_set(words: tuple[str, ...] | list[str]) -> set[str]:
    out: set[str] = set()
    for w in words:
        w = w.split("=", 1)[0].lstrip("-") if w.startswith("-") else w
        if not w:
            continue
        for part in re.split(r"[:_\-/]", w) if not _PATHISH.search(w) else [_base(w)]:
            if part:
                out.add(_stem(part))
    return out


def _base(word: str) -> str:
    return os.path.basename(word.rstrip("/\\")) if word else ""

"""Reading shell commands: split them into segments, find the program that matters, normalise.

Agents wrap the command they mean in plumbing: `cd dir && …`, `bash -lc '…'`, `… 2>&1 | tail -20`,
`… || true`, `timeout 60 …`, `uv run …`. Detection and pairing need the *core* command (what was
really run) and its *family* (the program and subcommand), so that `python3 -m pytest -x` and
`uv run pytest -q` are recognised as the same attempt made two ways.
"""

from __future__ import annotations

import re
from functools import lru_cache

from forewarn import regexes

_SPLIT = regexes.compile(r"\s*(?:&&|\|\||;|\n|(?<![|>])\|(?![|]))\s*")
_ENV_ASSIGN = regexes.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_REDIRECT = regexes.compile(r"^\d?>>?&?\d?$|^\d?>&\d$|^&>$|^<$")

# Wrappers that run another command: skipped when looking for the program that matters.
_WRAPPERS = {"sudo", "time", "timeout", "nice", "nohup", "env", "exec", "command", "builtin", "xargs", "stdbuf"}
# Runners whose first argument is the real program (recorded separately as the runner).
RUNNERS = {"uv": {"run"}, "poetry": {"run"}, "pipenv": {"run"}, "pdm": {"run"}, "hatch": {"run"},
           "npx": set(), "bunx": set(), "pnpx": set(), "rye": {"run"}, "pixi": {"run"},
           "conda": {"run"}, "mise": {"exec", "x"}, "bundle": {"exec"}, "dotenv": set()}
# Commands that only look at things. A non-zero exit from a command made only of these is the
# probe's answer ("no such file", "not installed", "no match"), not a failure.
PROBES = {
    "which", "type", "hash", "test", "[", "[[", "ls", "stat", "file", "echo", "printf", "pgrep",
    "pidof", "id", "whoami", "uname", "printenv", "grep", "rg", "egrep", "fgrep", "ag", "diff",
    "cmp", "true", "false", "exit", "readlink", "realpath", "basename", "dirname", "ps", "lsof",
    "ss", "netstat", "wc", "sort", "uniq", "head", "tail", "cut", "awk", "tr", "sleep", "date",
    "df", "du", "free", "hostname", "ssh-add", "locale", "getent", "find", "pwd",
}
# Commands whose output is content (a file, a log, a listing): error words in it are data.
VIEWERS = {
    "cat", "tail", "head", "less", "more", "bat", "grep", "rg", "egrep", "fgrep", "ag", "sed",
    "awk", "jq", "yq", "find", "ls", "tree", "wc", "diff", "strings", "xxd", "hexdump", "od",
    "journalctl", "dmesg", "echo", "printf", "sort", "uniq", "cut", "column", "nl", "fd",
}
_GIT_VIEW = {"log", "show", "diff", "blame", "grep", "status", "reflog", "ls-files"}
# (compiled once: `family` and `runner_of` run for every failure and fix)
_PYTHON = regexes.compile(r"python[0-9.]*|py")
_SUBCOMMAND = regexes.compile(r"[a-z][a-z0-9_:-]{1,30}")


# One simple command and the separator that ends it. A command is a run of tokens: ordinary
# characters, quoted strings (an unterminated quote runs to the end of the line), a backslash with
# the character it escapes, `>|` (a redirection, not a pipe) and a lone `&`. Every character
# belongs to exactly one token or separator (a separator or the end always follows the tokens, so
# the match never has to backtrack), and the commands are the exact text between separators.
_SEGMENT = regexes.compile(r"""
    ((?: [^'"\\;\n&|>]+
       | '[^']*'?
       | "(?:[^"\\]+|\\.?)*"?
       | \\.?
       | >\|(?!\|)
       | >
       | &(?!&)
    )*)
    (?:&&|\|\||[;\n|]|\Z)
""", re.S | re.X)


@lru_cache(maxsize=4096)
def split_segments(command: str) -> tuple[str, ...]:
    """The simple commands of a shell line, split on `&&`, `||`, `;`, `|` and newlines (quotes
    are respected well enough for our purpose: separators inside quotes rarely matter)."""
    if "'" not in command and '"' not in command and "\\" not in command:
        return tuple(p for p in (x.strip() for x in _SPLIT.split(command)) if p)
    return tuple(s for p in _SEGMENT.findall(command) if (s := p.strip()))


_TOKEN = regexes.compile(r"""(?:[^\s'"\\]|\\.|"(?:[^"\\]|\\.)*"?|'[^']*'?)+""")
_QUOTED = regexes.compile(r""""((?:[^"\\]|\\.)*)"?|'([^']*)'?|\\(.)""", re.S)


def _unquote(token: str) -> str:
    q = token[0]
    if q in "'\"" and len(token) > 1 and token[-1] == q and token.count(q) == 2 and "\\" not in token:
        return token[1:-1]  # one quoted string, as `_QUOTED` reads it
    return _QUOTED.sub(lambda m: m.group(1) if m.group(1) is not None else
                       m.group(2) if m.group(2) is not None else m.group(3), token)


@lru_cache(maxsize=8192)
def words(segment: str) -> tuple[str, ...]:
    """Shell words with quotes removed. A regex tokenizer: `shlex` is ~50 times slower and we only need
    programs and arguments, not exact shell semantics."""
    if "'" not in segment and '"' not in segment and "\\" not in segment:
        return tuple(segment.split())  # what `_TOKEN` finds without quotes or escapes (`\s` is `isspace`)
    out = []
    for m in _TOKEN.finditer(segment):
        tok = m.group(0)
        out.append(_unquote(tok) if ("'" in tok or '"' in tok or "\\" in tok) else tok)
    return tuple(out)


@lru_cache(maxsize=8192)
def _program_words(segment: str) -> tuple[str, ...]:
    return tuple(_strip_prefix([w for w in words(segment) if not (("<" in w or ">" in w) and _REDIRECT.match(w))]))


def program_words(segment: str) -> list[str]:
    """The words of a segment from its program on: env assignments, wrappers and redirections
    removed (`FOO=1 sudo timeout 5 pytest -x 2>&1` → `pytest -x`)."""
    return list(_program_words(segment))


def program_words_of(segment: str) -> tuple[str, ...]:
    """`program_words(segment)`, shared: not to be changed."""
    return _program_words(segment)


def _strip_prefix(ws: list[str]) -> list[str]:
    i = 0
    while i < len(ws):
        w = ws[i]
        if _ENV_ASSIGN.match(w):
            i += 1
            continue
        base = w.rsplit("/", 1)[-1]
        if base in _WRAPPERS:
            i += 1
            # skip the wrapper's own options and numeric arguments (timeout 60, nice -n 5)
            while i < len(ws) and (ws[i].startswith("-") or ws[i].replace(".", "").isdigit()
                                   or re.fullmatch(r"\d+[smhd]", ws[i])):
                i += 1
            continue
        break
    return ws[i:]


def program(segment: str) -> str:
    ws = program_words(segment)
    return ws[0].rsplit("/", 1)[-1] if ws else ""


_SHELL_C = regexes.compile(r"^(?:/\S*/)?(?:ba|z|da)?sh\s+-l?c\s+(.*)$", re.S)


@lru_cache(maxsize=8192)  # pairing asks for the same calls' commands over and over
def unwrap_shell(command: str) -> str:
    """`bash -lc 'cmd'` / `sh -c "cmd"` / `powershell -Command "cmd"` → `cmd`."""
    stripped = command.strip()
    m = _SHELL_C.match(stripped)
    if m:
        inner = m.group(1).strip()
        if len(inner) >= 2 and inner[0] == inner[-1] and inner[0] in "'\"":
            inner = inner[1:-1]
        return inner
    return stripped


_PLUMBING = frozenset({"cd", "pushd", "popd", "export", "source", ".", "set", "unset", "true", ":"})


def core_segments(command: str) -> list[str]:
    """Segments that do work: `cd`, `export`, `source`, `set -e` and output filters after a pipe
    (`| tail -20`, `| head`, `| grep x` when something came before) are left out."""
    segs = split_segments(unwrap_shell(command))
    out: list[str] = []
    for seg in segs:
        prog = program(seg)
        if prog in _PLUMBING:
            continue
        out.append(seg)
    return out or list(segs)


def primary_segment(command: str) -> str:
    """The segment that is the point of the command: the first one that does work (the first
    of `core_segments`, found without reading the segments after it)."""
    segs = split_segments(unwrap_shell(command))
    for seg in segs:
        if program(seg) not in _PLUMBING:
            return seg
    return segs[0] if segs else command.strip()


@lru_cache(maxsize=4096)  # (detection asks it of a failed line, and its signature and pairing again)
def family(segment: str) -> str:
    """Program plus subcommand, through runners: `uv run pytest -x` → `pytest`,
    `git commit -m x` → `git commit`, `python3 -m pytest` → `pytest`, `npm run test` → `npm run test`."""
    ws = program_words(segment)
    if not ws:
        return ""
    prog = ws[0].rsplit("/", 1)[-1]
    rest = ws[1:]
    if prog in RUNNERS:
        subs = RUNNERS[prog]
        if subs and rest and rest[0] in subs:
            rest = rest[1:]
        elif subs:
            return f"{prog} {rest[0]}" if rest else prog
        rest = [w for w in rest if not w.startswith("-")] if prog in {"npx", "bunx", "pnpx"} else _skip_options(rest)
        if not rest:
            return prog
        return family(" ".join(_quote(w) for w in rest))
    if _PYTHON.fullmatch(prog):
        if len(rest) >= 2 and rest[0] == "-m":
            return rest[1]
        if rest and rest[0] == "-c":
            return "python -c"
        script = next((w for w in rest if not w.startswith("-")), "")
        return f"python {script.rsplit('/', 1)[-1]}" if script else "python"
    sub = next((w for w in rest if not w.startswith("-") and not _ENV_ASSIGN.match(w)), "")
    if prog in {"npm", "pnpm", "yarn", "bun"} and sub == "run":
        script = next((w for w in rest[rest.index("run") + 1:] if not w.startswith("-")), "")
        return f"{prog} run {script}".strip()
    if sub and _looks_like_subcommand(sub):
        return f"{prog} {sub}"
    return prog


def _quote(word: str) -> str:
    return word if re.fullmatch(r"[\w@%+=:,./-]+", word) else "'" + word.replace("'", "'\"'\"'") + "'"


def _skip_options(ws: list[str]) -> list[str]:
    i = 0
    while i < len(ws) and ws[i].startswith("-"):
        i += 1 if "=" in ws[i] else 2 if ws[i] in {"--with", "--python", "-p", "--directory", "--project"} else 1
    return ws[i:]


def _looks_like_subcommand(word: str) -> bool:
    return bool(_SUBCOMMAND.fullmatch(word)) and "/" not in word and "." not in word


def runner_of(segment: str) -> str:
    """How a program was launched: `uv run`, `poetry run`, `.venv/bin/`, `python3 -m`, `npx`, or ""."""
    ws = program_words(segment)
    if not ws:
        return ""
    prog = ws[0]
    base = prog.rsplit("/", 1)[-1]
    if base in RUNNERS:
        subs = RUNNERS[base]
        return f"{base} {ws[1]}" if subs and len(ws) > 1 and ws[1] in subs else base
    if "/" in prog and ("venv" in prog or "/bin/" in prog):
        return prog.rsplit("/", 1)[0] + "/"
    if _PYTHON.fullmatch(base) and len(ws) > 2 and ws[1] == "-m":
        return f"{base} -m"
    return ""


def is_probe(command: str) -> bool:
    """Every segment only looks at something (which, test, ls of a glob, grep, echo…), or is a
    one-line import check (`python -c "import x; print(x.__version__)"`)."""
    segs = split_segments(unwrap_shell(command))
    if not segs:
        return False
    real = 0
    for seg in segs:
        prog = program(seg)
        if prog in {"cd", "export", "set", ":"}:
            continue
        real += 1
        if prog in PROBES:
            # `ls` included: its "No such file" is the answer to the question it asked
            continue
        if prog in {"pacman", "dpkg", "rpm", "brew", "apt", "snap", "pip", "pip3", "npm", "systemctl", "docker"}:
            ws = program_words(seg)
            if len(ws) > 1 and ws[1] in {"-Q", "-Qs", "-Qi", "-Ss", "-l", "-s", "-q", "list", "show", "info",
                                         "status", "is-active", "is-enabled", "ps", "inspect", "search", "policy"}:
                continue
            return False
        if re.fullmatch(r"python[0-9.]*", prog) and _is_import_probe(seg):
            continue
        if prog == "command" or seg.startswith("command -v"):
            continue
        return False
    return real > 0


def _is_import_probe(segment: str) -> bool:
    ws = program_words(segment)
    if len(ws) < 3 or ws[1] != "-c":
        return False
    code = ws[2]
    stmts = [s.strip() for s in re.split(r"[;\n]", code) if s.strip()]
    return bool(stmts) and all(s.startswith(("import ", "from ", "print(")) for s in stmts) and "import" in code


def is_viewer(command: str) -> bool:
    """The command's output is content (a file, a log, a search result): words like "error" in it
    say nothing about the command itself."""
    segs = core_segments(command)
    if not segs:
        return False
    first = program_words(segs[0])
    if not first:
        return False
    prog = first[0].rsplit("/", 1)[-1]
    if prog in VIEWERS:
        return True
    if prog == "git" and len(first) > 1 and first[1] in _GIT_VIEW:
        return True
    if any(w in {"logs", "log"} for w in first[1:3]):
        return True
    return bool(prog == "sleep" and len(segs) > 1 and program(segs[1]) in VIEWERS)


def has_section_headers(command: str) -> bool:
    """`echo "--- x ---"; …; echo "=== y ==="`: a diagnostic sweep whose parts may fail by design."""
    return len(re.findall(r"echo\s+[\"']?(?:-{2,}|={2,}|#{2,})", command)) >= 1 and len(split_segments(command)) >= 3


# A here-document's marker (`<<EOF`, `<<-'PY'`): its lines go with the command that reads them.
HEREDOC = regexes.compile(r"<<-?\s*(['\"]?)([A-Za-z_][\w-]*)\1")
# The characters that decide how a line splits (`split_pipelines`), and those that end or escape
# inside a double-quoted string: everything else is copied as it is.
_SPECIAL = regexes.compile(r"['\"\\\n;&|]")
_DOUBLE_QUOTED_STOP = regexes.compile(r'["\\]')


def split_pipelines(command: str) -> list[tuple[list[str], str]]:
    """Split on `&&`, `||`, `;` and newlines into pipelines, each split on `|` (quotes respected);
    a here-document's lines go with the pipeline that reads them, as its body.

    Runs of ordinary characters (and quoted strings) are copied as one slice: only the characters
    in `_SPECIAL` decide anything. `last` is the last piece appended to `buf` as the character
    loop would have appended it (one character, or an escape pair outside quotes), because the
    `&` and `|` rules look at it."""
    if _SPECIAL.search(command) is None:  # (a third of all lines: one simple command)
        return [([line], "")] if (line := command.strip()) else []
    pipelines: list[list[str]] = [[]]
    bodies: list[str] = [""]
    buf: list[str] = []
    last = ""
    i, n = 0, len(command)
    special = _SPECIAL.search
    in_double = _DOUBLE_QUOTED_STOP.search
    heredocs = "<<" in command  # (without it no line starts a here-document)

    def flush(new_pipeline: bool) -> None:
        seg = "".join(buf).strip()
        buf.clear()
        if seg:
            pipelines[-1].append(seg)
        if new_pipeline and pipelines[-1]:
            pipelines.append([])
            bodies.append("")

    while i < n:
        m = special(command, i)
        if m is None:
            buf.append(command[i:])
            break
        j = m.start()
        if j > i:
            buf.append(command[i:j])
            last = command[j - 1]
            i = j
        ch = command[i]
        if ch == "'":
            k = command.find("'", i + 1)
            end = n if k < 0 else k + 1
            buf.append(command[i:end])
            last = command[end - 1]
            i = end
        elif ch == '"':
            k = i + 1
            while True:
                q = in_double(command, k)
                if q is None:
                    k = n
                    break
                k = q.start()
                if command[k] == '"':
                    k += 1
                    break
                k += 2  # a backslash keeps the next character, whatever it is
                if k >= n:
                    k = n
                    break
            buf.append(command[i:k])
            last = command[k - 1]
            i = k
        elif ch == "\\":
            if i + 1 < n:
                last = command[i : i + 2]
                i += 2
            else:
                last = ch
                i += 1
            buf.append(last)
        elif ch == "\n" and heredocs and not bodies[-1] and (
                hd := HEREDOC.search("".join(buf)) or HEREDOC.search(" ".join(pipelines[-1]))):
            # the here-document runs to its terminator line; it belongs to this pipeline
            body_start = i + 1
            stop, i = _terminator(command, body_start, hd.group(2)) or (n, n)
            bodies[-1] = command[body_start:stop]
            flush(True)
        elif ch in ";\n" or (i + 1 < n and command[i + 1] == ch):  # `;`, a newline, `&&`, `||`
            flush(True)
            i += 1 if ch in ";\n" else 2
        elif ch == "&" and (i + 1 == n or command[i + 1] in " \n") and not (buf and last in "<>"):
            flush(True)  # `cmd &`: backgrounded, a pipeline of its own
            i += 1
        elif ch == "|" and not (buf and last == ">"):
            flush(False)
            i += 1
        else:
            buf.append(ch)
            last = ch
            i += 1
    flush(False)
    return [(p, b) for p, b in zip(pipelines, bodies, strict=True) if p]


def _terminator(text: str, start: int, name: str) -> tuple[int, int] | None:
    """Where the line that ends a here-document begins and ends: the span of
    `re.search(r"^\\s*" + re.escape(name) + r"\\s*$", text[start:], re.M)`, as places in `text`.

    Found from the places `name` is, rather than by trying the pattern at each place of the
    document: the match is at the first of them that is alone on its line but for blanks, it
    starts at the first line start (or `start`) after the last character before it that is not a
    blank, and it ends at the last line end in the blanks after it (or the end of the text)."""
    n = len(text)
    at = text.find(name, start)
    while at >= 0:
        after = at + len(name)
        first = at
        while first > start and text[first - 1].isspace():
            first -= 1
        if first == start:
            begin = start
        else:
            newline = text.find("\n", first, at)
            begin = newline + 1 if newline >= 0 else -1
        if begin >= 0:
            last = after
            while last < n and text[last].isspace():
                last += 1
            end = n if last == n else text.rfind("\n", after, last)
            if end >= 0:
                return begin, end
        at = text.find(name, at + 1)
    return None

"""The scan's shortcuts give exactly what the plain code gives.

Each shortcut on the scan's hot path (lowercased searches, substring hints before a regex, the
slice-based shell splitter, the regex segment splitter, the gated secret rules) is checked here against the straightforward
version it replaces, or, for hints, against the structure of the regex they guard.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from forewarn import scan as scan_module
from forewarn.analyze import casefold, detect, intent, redact, shell
from forewarn.analyze.candidate import Candidate, bare, norm, plain, word_key
from forewarn.model import OK, ToolCall
from forewarn.store import Store
from tests.claude_builder import Transcript, slug

try:  # Python 3.11+
    from re import _constants as sre_constants  # type: ignore[attr-defined]
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]


# -- hints: every match of the pattern contains one of them ------------------------------------

def _always_contains(items: object, hints: tuple[str, ...], prefix: str = "") -> bool:
    """Whether every match of the parsed sequence `items` (after the literal `prefix`) contains
    one of `hints`: some run of literals it cannot skip holds a hint, or some part it cannot skip
    does (a group, a branch all of whose arms do, a repeat of at least one). The literals just
    before a branch go into each arm: the parser moves a prefix common to all arms out of them.
    Anything else breaks the run, so the check errs towards failing."""
    run: list[str] = [prefix]
    seq = list(items)  # type: ignore[call-overload]
    for i, (op, av) in enumerate([*seq, (None, None)]):
        if op is sre_constants.LITERAL:
            run.append(chr(av))
            continue
        if op is sre_constants.IN and all(o is sre_constants.LITERAL for o, _ in av):
            # a small set of characters (`gh[pousr]_`): each one continues the literal run
            return all(_always_contains(seq[i + 1:], hints, "".join(run) + chr(c)) for _, c in av)
        if any(h in "".join(run) for h in hints):
            return True
        if op is sre_constants.BRANCH and all(_always_contains(arm, hints, "".join(run)) for arm in av[1]):
            return True
        run = []
        if op is sre_constants.SUBPATTERN and _always_contains(av[-1], hints):
            return True
        if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT) and av[0] >= 1 \
                and _always_contains(av[2], hints):
            return True
    return False


def _arms(pattern: re.Pattern[str]) -> list[object]:
    parsed = list(sre_parse.parse(pattern.pattern, pattern.flags))
    if len(parsed) == 1 and parsed[0][0] is sre_constants.BRANCH:
        return list(parsed[0][1][1])
    return [parsed]


def _check_hints(pattern: re.Pattern[str], hints: tuple[str, ...]) -> None:
    assert not pattern.flags & re.IGNORECASE
    for arm in _arms(pattern):
        assert _always_contains(arm, hints), (pattern.pattern[:60], arm)


def test_the_hint_checker_catches_an_arm_without_a_hint() -> None:
    with pytest.raises(AssertionError):
        _check_hints(re.compile(r"not found|denied"), ("not found",))
    _check_hints(re.compile(r"x(?:Error|error): |sudo: a"), ("rror", "sudo: "))


def test_kind_rule_hints_cover_every_alternative() -> None:
    assert len(detect._KIND_CHECKS) == len(detect._KIND_RULES)
    for kind, pattern, hints in detect._KIND_CHECKS:
        assert hints and all(h == h.lower() for h in hints), kind  # searched in lowercased text
        _check_hints(pattern, hints)


def test_hidden_failure_hints_cover_every_alternative() -> None:
    _check_hints(detect._HIDDEN_FAILURE, detect._HIDDEN_FAILURE_HINTS)


def test_detection_hints_cover_every_alternative() -> None:
    _check_hints(detect._USAGE_ERROR_LOW, detect._USAGE_HINTS)
    _check_hints(detect._CANCELLED_SIBLING_LOW, detect._CANCELLED_SIBLING_HINTS)
    _check_hints(detect._OWN_PARSER, (detect._OWN_PARSER_HINT,))
    _check_hints(detect._PROBE_MISUSED, detect._PROBE_MISUSED_HINTS)
    _check_hints(detect._FILTER_ERROR, detect._FILTER_ERROR_HINTS)


def test_secret_rule_needs_cover_every_alternative() -> None:
    for pattern, needs in zip(redact._PATTERNS, redact._NEEDS, strict=True):
        _check_hints(pattern, needs)
    _check_hints(casefold.lowered(redact._BEARER), redact._BEARER_WORDS)
    _check_hints(casefold.lowered(redact._ASSIGNMENT), redact._ASSIGNMENT_WORDS)
    _check_hints(redact._URL_CREDENTIALS, ("://",))


def _spellings(pattern: str) -> set[str]:
    """Every string a regex of literals, alternations, character classes and `?` matches."""
    def expand(items: object) -> set[str]:
        out = {""}
        for op, arg in items:  # type: ignore[attr-defined]
            if op is sre_constants.LITERAL:
                alts = {chr(arg)}
            elif op is sre_constants.IN:
                assert all(o is sre_constants.LITERAL for o, _ in arg), arg
                alts = {chr(a) for _, a in arg}
            elif op is sre_constants.BRANCH:
                alts = set().union(*(expand(arm) for arm in arg[1]))
            elif op is sre_constants.SUBPATTERN:
                alts = expand(arg[-1])
            else:
                assert op is sre_constants.MAX_REPEAT and arg[:2] == (0, 1), (op, arg)
                alts = {""} | expand(arg[2])
            out = {a + b for a in out for b in alts}
        return out

    return expand(sre_parse.parse(pattern))


def test_the_redaction_gate_lets_through_every_text_a_rule_could_change() -> None:
    """`redact` returns a text untouched unless its lowercased form holds one of `_HINTS`: each
    rule's matches must all contain one (a secret behind a missing hint is stored as it is)."""
    for pattern in redact._PATTERNS:  # case-sensitive: the gate sees their matches lowercased
        _check_hints(re.compile(pattern.pattern.replace(r"\S", "").lower()), redact._HINTS)
    # every match of the two case-insensitive rules holds one of their names
    for name in (*_spellings(redact._SECRET_NAME), *_spellings(redact._BEARER_NAME)):
        assert any(h in name for h in redact._HINTS), name
    _check_hints(redact._URL_CREDENTIALS, redact._HINTS)
    for secret in ("accesskey=abcdef123456", "github_pat_" + "a1" * 25, "Authorization: Basic\tdXNlcjpwYXNzd29yZA==", "SESSIONKEY: 0123456789ab"):
        assert redact.MASK in redact.redact(secret), secret


# -- casefold: a lowered search is the case-insensitive one --------------------------------------

_PATTERNS = [re.compile(p, re.I | re.M) for p in (
    r"^.*(?:\berror\b|not found|can't|Traceback).*$", r"unknown (?:command|flag)|Try '[^']+ --help'",
    r"\bkey\b|[A-Z]{3}\d|sk-[\w-]{4,}", r"is\s+a\s+directory|\w+ing\b",
)]
_TEXT = st.text(alphabet=st.sampled_from(
    [*"aeikrsnotfuEIKRSNOTF -'\n:_0129", "\u0130", "\u0131", "\u017f", "\u212a", "\u00df", "\u03a3", "\u00e9",
     "\u01c4", "\ufb05"]), max_size=40)


@settings(max_examples=500, deadline=None)
@given(_TEXT)
def test_a_folded_search_finds_what_the_case_insensitive_one_finds(text: str) -> None:
    low = casefold.folded(text)
    for pattern in _PATTERNS:
        lowered = casefold.lowered(pattern)
        assert casefold.span(pattern, lowered, text) == (m.span() if (m := pattern.search(text)) else None)
        assert casefold.found(pattern, lowered, text) == (pattern.search(text) is not None)
        if low is not None:
            assert [m.span() for m in lowered.finditer(low)] == [m.span() for m in pattern.finditer(text)]


@settings(max_examples=200, deadline=None)
@given(_TEXT)
def test_a_lazy_pattern_is_compiled_only_when_searched_and_then_searches_alike(text: str) -> None:
    for pattern in _PATTERNS:
        lazy = casefold.LazyPattern(pattern.pattern, pattern.flags)
        assert casefold.lowered(lazy).pattern == casefold.lowered(pattern).pattern
        low = casefold.lowered(lazy)
        if casefold.folded(text) is not None:
            casefold.found(lazy, low, text)
            casefold.span(lazy, low, text)
            assert lazy._compiled is None  # text that folds never needs the original
        assert casefold.span(lazy, low, text) == casefold.span(pattern, low, text)
        assert [m.span() for m in (lazy.search(text),) if m] == [m.span() for m in (pattern.search(text),) if m]
        assert lazy.findall(text) == pattern.findall(text)
        assert [m.span() for m in lazy.finditer(text)] == [m.span() for m in pattern.finditer(text)]
        assert lazy.sub("#", text) == pattern.sub("#", text)


def test_texts_that_would_not_fold_exactly_are_refused() -> None:
    assert casefold.folded("\u0130stanbul") is None  # capital I with dot: lowercases to two characters
    assert casefold.folded("\u017fecret") is None  # IGNORECASE equates long s with s, lower() does not
    assert casefold.folded("F\u0131le") is None  # dotless i, likewise
    assert casefold.folded("KELVIN \u212a") == "kelvin k"
    with pytest.raises(ValueError):
        casefold.lowered(re.compile(r"(?i)x"))


# -- the shell splitter against the character loop it replaces --------------------------------

def _reference_pipelines(command: str) -> list[tuple[list[str], str]]:
    pipelines: list[list[str]] = [[]]
    bodies: list[str] = [""]
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
            bodies.append("")

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
        elif ch == "\n" and shell.HEREDOC.search("".join(buf) + " ".join(pipelines[-1])) and not bodies[-1]:
            m = shell.HEREDOC.search("".join(buf)) or shell.HEREDOC.search(" ".join(pipelines[-1]))
            assert m is not None
            end = re.search(r"^\s*" + re.escape(m.group(2)) + r"\s*$", command[i + 1:], re.M)
            stop = i + 1 + end.start() if end else n
            bodies[-1] = command[i + 1:stop]
            i = i + 1 + end.end() if end else n
            flush(True)
            continue
        elif ch in ";\n" or (ch in "&|" and i + 1 < n and command[i + 1] == ch):
            flush(True)
            if ch in "&|":
                i += 1
        elif ch == "&" and (i + 1 == n or command[i + 1] in " \n") and not (buf and buf[-1] in "<>"):
            flush(True)
        elif ch == "|" and not (buf and buf[-1] == ">"):
            flush(False)
        else:
            buf.append(ch)
        i += 1
    flush(False)
    return [(p, b) for p, b in zip(pipelines, bodies, strict=True) if p]


_SHELL = st.lists(st.sampled_from(
    [*"ab c'\"\\\n;&|<>-=$(){}", "<<EOF", "<<'PY'", "\nEOF\n", "PY", " && ", " | ", "cat", "python3 -", "2>&1", ">|",
     "&>", "\\\n", "\\'", '\\"', "\\\\"]), max_size=40).map("".join)


@settings(max_examples=500, deadline=None)
@given(_SHELL)
def test_the_shell_splitter_matches_the_character_loop(command: str) -> None:
    assert shell.split_pipelines(command) == _reference_pipelines(command)


# -- split_segments: the segment regex against the character loop it replaces -------------------

def _reference_split_segments(command: str) -> tuple[str, ...]:
    if "'" not in command and '"' not in command and "\\" not in command:
        return tuple(p for p in (x.strip() for x in shell._SPLIT.split(command)) if p)
    parts: list[str] = []
    buf: list[str] = []
    quote = ""
    i = 0
    n = len(command)
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
            parts.append("".join(buf))
            buf = []
            if ch in "&|":
                i += 1
        elif ch == "|" and not (buf and buf[-1] == ">"):
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
        i += 1
    parts.append("".join(buf))
    return tuple(p.strip() for p in parts if p.strip())


_SHELLISH = st.one_of(
    st.text(alphabet="'\"\\;&|> \n\tab<", max_size=30),
    st.lists(st.sampled_from(
        [*"'\"\\;&|> \nab", ">|", ">>|", "&&", "||", "|&", "2>&1", "\\\n", "\\'", '\\"', "\\>", "\\\\", "echo ",
         "<<'EOF'\nx; y\nEOF\n"]), max_size=40).map("".join),
    st.text(max_size=30),
)


@settings(max_examples=1000, deadline=None)
@given(_SHELLISH)
@example("'a; b")  # unterminated quotes run to the end
@example('"a \\" | b')
@example("x \\")  # a lone trailing backslash
@example("a \\>| b")  # an escaped `>` does not make `>|`
@example("a '>'| b")
def test_the_segment_splitter_matches_the_character_loop(command: str) -> None:
    assert shell.split_segments(command) == _reference_split_segments(command)


@pytest.mark.parametrize(("command", "segments"), [
    ("", ()),
    ("echo 'a; b' && ls", ("echo 'a; b'", "ls")),
    ("'a' |||b", ("'a'", "b")),
    ("'a' &&&b", ("'a'", "&b")),
    ("echo 'x' >| f | wc", ("echo 'x' >| f", "wc")),
    ("echo 'x' >|| y", ("echo 'x' >", "y")),
    ("make \\>| y", ("make \\>", "y")),
    ("cmd 'x' |& tee", ("cmd 'x'", "& tee")),
    ('printf "a\\"b;c" ;d', ('printf "a\\"b;c"', "d")),
    ("python3 -c 'a\nb'\nls", ("python3 -c 'a\nb'", "ls")),
    ("echo \\\nx; 'open", ("echo \\\nx", "'open")),
    ("a 'b \\", ("a 'b \\",)),
    ('a "b \\', ('a "b \\',)),
    ("a \\", ("a \\",)),
])
def test_odd_shell_lines_split_as_the_character_loop_splits_them(command: str, segments: tuple[str, ...]) -> None:
    assert shell.split_segments(command) == _reference_split_segments(command) == segments


# -- secrets: gating the rules changes nothing -------------------------------------------------

def _reference_redact(text: str) -> str:
    if not text:
        return text
    low = text.lower()
    if not any(hint in low for hint in redact._HINTS):
        return text
    for pattern in redact._PATTERNS:
        text = pattern.sub(redact.MASK, text)
    text = redact._URL_CREDENTIALS.sub(lambda m: f"{m.group(1)}{m.group(2)}:{redact.MASK}@", text)
    text = redact._BEARER.sub(lambda m: f"{m.group(1)} {redact.MASK}", text)
    return redact._ASSIGNMENT.sub(redact._mask_value, text)


_SECRETISH = st.lists(st.sampled_from([
    "token", "ToKen ", "Bearer ", "basic ", "password=", "PASSWD:", "api_key=", "Api-Key ", "auth", "secret",
    "credential", "session-key", "sk-", "ant-", "AKIA", "ghp_", "github_pat_", "glpat-", "xoxb-", "AIza", "npm_",
    "pypi-", "eyJ", "-----BEGIN RSA PRIVATE KEY-----", "https://", "user:pw@", "@", ":", "=", " ", "\n", "'",
    "ABCDEFGHIJKLMNOP0123", "abcdefghijklmnopqrstuvwxyz0123456789", ".", "-", "_", "$VAR", "ſecret", "tokın",
    "\u0130", "é"]), max_size=20).map("".join)


@settings(max_examples=500, deadline=None)
@given(_SECRETISH)
def test_gated_redaction_masks_what_running_every_rule_masks(text: str) -> None:
    assert redact.redact(text) == _reference_redact(text)


# -- parallel workers record what one process records ------------------------------------------

def _rows(store: Store) -> dict[str, list[tuple[object, ...]]]:
    out = {}
    for table in ("calls", "turns", "failures", "sessions"):
        out[table] = sorted(store.conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
    out["files"] = sorted(store.conn.execute(
        "SELECT path, agent, size, mtime_ns, offset, head, session_id, lines, bad_lines FROM files").fetchall())
    return out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux only")
def test_parallel_workers_record_what_one_process_records(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / ".claude"
    for i in range(12):
        cwd = f"/work/p{i}"
        t = Transcript(cwd=cwd, session_id=f"s-{i}")
        for j in range(6):
            t.bash(f"c{i}-{j}", f"make t{j}", "make: *** No rule to make target", code=2)
            t.bash(f"d{i}-{j}", f"make t{j}", "ok")
        t.write(config / "projects" / slug(cwd) / f"s-{i}.jsonl")
    monkeypatch.setattr(scan_module, "_PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(scan_module, "_BATCH", 2)
    monkeypatch.setattr(scan_module, "_CHECKPOINT_EVERY", 1)
    monkeypatch.setattr(scan_module, "_WRITE_LOCK", None)
    targets = scan_module.discover([config])
    one = Store.open(tmp_path / "one.db")
    many = Store.open(tmp_path / "many.db")
    report_one = scan_module.scan(one, targets, jobs=1)
    report_many = scan_module.scan(many, targets, jobs=2)
    assert scan_module._WRITE_LOCK is not None  # the workers did run
    assert (report_many.files_read, report_many.calls, report_many.failures, report_many.fixed) == \
        (report_one.files_read, report_one.calls, report_one.failures, report_one.fixed) == (12, 144, 72, 72)
    assert _rows(many) == _rows(one)


# -- pairing: a line whose text lacks a program, or a step's words, has no such step -------------

_LINES = st.lists(st.sampled_from(
    ["py", "thon", "python3.12 ", "/usr/bin/", "pytest", " -m ", "uv run ", "npx ", "git ", "commit", "'", '"', "\\",
     "$", "{", "}", "cmd", "[@]", " ", "|", "&&", ";", "\n", "<<EOF\nx\nEOF\n", "bash -lc ", "sudo ", "FOO=1 ",
     "xargs ", "echo ", "cd /x", ">", "2>&1", "-x", "=", "powershell -Command ", "tee ", "<<'EOF'x", "<<", "\t",
     "Src/App-Main.py", "a:b_c-d", "--Flag=V", "\\ ", "-", "/", "é", "\u212a", "&", "Tests/"]), max_size=25).map("".join)


def _line(command: str) -> Candidate:
    return Candidate(ToolCall("c", "Bash", {"command": command}, 0, status=OK))


@settings(max_examples=800, deadline=None)
@given(_LINES)
def test_every_program_a_line_runs_is_found_in_its_text(command: str) -> None:
    line = _line(command)
    for step in intent.steps(line.text):
        name = bare(step.program)
        if plain(name):
            assert line.may_run(frozenset({name})), (command, step.program)
        if step.interpreter:
            assert step.program in intent.INTERPRETER_NAMES
        script = bare(step.args[0].rsplit("/", 1)[-1]) if step.args else ""
        if plain(script):  # (what an interpreter ran: pairing asks for it as for a program)
            assert line.may_run(frozenset({script})), (command, step.args)


@settings(max_examples=800, deadline=None)
@given(_LINES)
def test_every_word_a_step_compares_is_found_in_its_line(command: str) -> None:
    line = _line(command)

    def has(words: object, at_least: int | None = None) -> bool:
        keys = tuple(word_key(w) for w in words)  # type: ignore[attr-defined]
        return line.has_words((((keys, len(keys) if at_least is None else at_least),),))

    for step in intent.steps(line.text):
        assert has(step.path[1:]) and has(step.units) and has(step.word_set), (command, step)
        assert has({intent.file_name(f) for f in step.path_args}, 1 if step.path_args else 0), (command, step)
        assert line.has_words(((((), 0),),))  # (a need of nothing is met by any line)
        assert all(norm(step.text) in line.norm_line for step in line.steps), command


# -- sniffing: the first lines are searched in place, as the split lines were -------------------

def _reference_claude_sniff(head: bytes) -> bool:
    first = head.split(b"\n", 8)[:8]
    if any(b'"projectHash"' in line for line in first):
        return False
    for line in first:
        if b'"sessionId"' in line or b'"parentUuid"' in line:
            return True
        if line.startswith(b'{"type":"summary"') or b'"leafUuid"' in line:
            return True
    return False


_HEADS = st.lists(st.sampled_from(
    [b"\n", b"\r\n", b'{"type":"summary"', b'"sessionId"', b'"parentUuid"', b'"leafUuid"', b'"projectHash"', b"{",
     b'"type":"session_meta"', b'{"timestamp":"2025-01-01T00:00:00Z","type":"session_meta","payload":{',
     b'{"record_type":"state"', b'{"id":"', b'"instructions":', b'"git":', b'x', b'"', b" "]),
    max_size=30).map(b"".join)


@settings(max_examples=1000, deadline=None)
@given(_HEADS)
def test_sniffers_judge_the_first_lines_as_the_split_lines_did(head: bytes) -> None:
    from forewarn.readers.base import lines_end
    from forewarn.readers.claude import ClaudeReader
    from forewarn.readers.codex import CodexReader

    for n in (1, 6, 8):
        assert head[:lines_end(head, n)].split(b"\n") == head.split(b"\n", n)[:n]
    name = Path("s.jsonl")
    assert ClaudeReader().sniff(name, head) == _reference_claude_sniff(head)
    codex = CodexReader()
    assert codex.sniff(name, head) == any(
        codex.sniff(name, line + b"\n") for line in head.split(b"\n", 6)[:6])


# -- scheduling: the largest files first, in batches that shrink -------------------------------

def test_parallel_batches_take_every_file_once_and_shrink_towards_the_end() -> None:
    sizes = [3_000_000, 50_000, 1_200_000, 700_000, 20_000, 2_500_000] * 8 + [5_000] * 40
    jobs = [scan_module._Job(Path(f"f{i}"), None, size, 0, None, None, 0, False)  # type: ignore[arg-type]
            for i, size in enumerate(sizes)]
    jobs.sort(key=lambda j: j.size, reverse=True)
    batches = scan_module._batches(jobs, workers=2)
    assert [j for b in batches for j in b] == jobs
    weights = [sum(j.size for j in b) for b in batches]
    # nothing left at the end is bigger than a small share of the work
    assert max(weights[-4:]) <= scan_module._BATCH_MIN_BYTES + max(j.size for b in batches[-4:] for j in b)
    assert all(len(b) <= scan_module._BATCH for b in batches)
    # one process: plain batches of at most _BATCH files or about _BATCH_BYTES
    single = scan_module._batches(jobs, workers=1)
    assert [j for b in single for j in b] == jobs
    assert all(sum(j.size for j in b[:-1]) < scan_module._BATCH_BYTES for b in single)


def test_a_worker_that_finds_the_lock_taken_goes_on_and_writes_its_files_later(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from forewarn import forkpool

    config = tmp_path / ".claude"
    for i in range(5):
        t = Transcript(cwd=f"/work/p{i}", session_id=f"s-{i}")
        t.bash(f"c{i}", "make", "make: *** No rule to make target", code=2).bash(f"d{i}", "make all", "ok")
        t.write(config / "projects" / slug(f"/work/p{i}") / f"s-{i}.jsonl")
    db = tmp_path / "db.sqlite"
    Store.open(db).close()
    jobs = [scan_module._Job(p, r, p.stat().st_size, p.stat().st_mtime_ns, None, None, 0, False)
            for p, r in scan_module.discover([config])]
    lock = forkpool.Mutex()
    monkeypatch.setattr(scan_module, "_WORKER_DB", str(db))
    monkeypatch.setattr(scan_module, "_WORKER_NOW", "2026-01-01T00:00:00+00:00")
    monkeypatch.setattr(scan_module, "_WRITE_LOCK", lock)
    monkeypatch.setattr(scan_module, "_worker_store", None)
    monkeypatch.setattr(scan_module, "_worker_pending", [])

    def failures() -> int:
        return Store.open(db).counts()["failures"]

    try:
        assert lock.acquire(timeout=1)  # the other worker is writing: the analysed files wait
        assert scan_module._worker_batch(jobs[:1]).files_read == 0
        assert scan_module._worker_batch(jobs[1:2]).files_read == 0
        assert len(scan_module._worker_pending) == 2 and failures() == 0
        lock.release()  # free again: the next batch takes the waiting files along
        written = scan_module._worker_batch(jobs[2:3])
        assert (written.files_read, written.fixed, failures()) == (3, 3, 3)
        assert lock.acquire(timeout=1)
        assert scan_module._worker_batch(jobs[3:4]).files_read == 0
        lock.release()  # no more batches: `finish` writes what is left
        assert scan_module._worker_finish().files_read == 1 and failures() == 4
        # past _PENDING_MAX_BYTES the worker waits for the lock instead of keeping more
        monkeypatch.setattr(scan_module, "_PENDING_MAX_BYTES", 0)
        assert lock.acquire(timeout=1)
        threading.Timer(0.2, lock.release).start()
        assert scan_module._worker_batch(jobs[4:]).files_read == 1 and failures() == 5
    finally:
        lock.close()
        if scan_module._worker_store is not None:
            scan_module._worker_store.close()

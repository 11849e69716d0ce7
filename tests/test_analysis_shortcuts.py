"""Pairing's and signing's shortcuts give exactly what the plain code gives.

Each shortcut (the error line found through its first error word, the path rule that skips the
middle of words, the whitespace collapsed by `split`, the one-string unquote, the quote-free word
split, the first working segment found without reading the rest, one search per thread) is
checked against the straightforward version it replaces, on generated text. So are pairing's
prefilters (whole sessions paired with and without them) and the pieces of the cheaper parse,
signing and redaction (at the end).
"""

from __future__ import annotations

import random
import re
from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from forewarn.analyze import candidate, casefold, detect, intent, pairing, redact, shell, signature
from forewarn.analyze.pairing import Pairer, pair
from forewarn.model import ERROR, INTERRUPTED, OK, PENDING, REJECTED, ToolCall

# -- signatures: the error line and its normal form ----------------------------------------------

_ERROR_LINE = re.compile(
    r"^.*(?:error|fatal|not found|no such|denied|unknown|invalid|unrecognized|cannot|can't|failed|"
    r"refused|timed out|usage:|not recognized|does not exist|exception|required).*$", re.I | re.M)
_PATH_PREFIX = re.compile(r"(?:[\w.-]*/)+([\w.-]+)")
_HEX = re.compile(r"\b[0-9a-f]{7,}\b|\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)


def _reference_error_line_of(body: str) -> str:
    m = _ERROR_LINE.search(body[:3000])
    return m.group(0) if m else body.strip().split("\n", 1)[0]


def _reference_error_key(text: str, limit: int = 80) -> str:
    body = signature._NOISE_PREFIX.sub("", text or "").replace("</tool_use_error>", "")
    line = _reference_error_line_of(body)
    line = signature._TMP.sub("<tmp>", line)
    line = _HEX.sub("<id>", line)
    line = signature._NUM.sub("N", line)
    line = re.sub(r"\s+", " ", line).strip(" :")
    if "/" in line:
        line = _PATH_PREFIX.sub(r"\1", line)
    return line[:limit].lower()


_OUTPUT = st.lists(st.sampled_from([
    "error", "Error:", "FATAL", "not found", "No such", "usage:", "x", "ok", " ", "  ", "\t", "\n", "\r\n", ":",
    "\u2003", "\x1c", "/tmp/a1", "/var/folders/x/", "src/app.py", "a/b/c", "./x-y.z/", "-", ".", "_", "é", "ſ", "ı",
    "\u0130", "\u212a", "deadbeef", "DEADBEEF0", "12", "3.4.5", "550e8400-e29b-41d4-a716-446655440000", "Exit code 1\n",
    "<tool_use_error>", "</tool_use_error>", "can't", "Exception"]), max_size=30).map("".join)


@settings(max_examples=250, deadline=None)
@given(_OUTPUT)
def test_the_error_line_is_the_line_of_the_first_error_word(body: str) -> None:
    assert signature._error_line_of(body) == _reference_error_line_of(body)


@settings(max_examples=250, deadline=None)
@given(_OUTPUT)
def test_error_keys_are_the_plain_normal_form(text: str) -> None:
    assert signature.error_key.__wrapped__(text) == _reference_error_key(text)
    assert signature.error_key.__wrapped__(text, 60) == _reference_error_key(text, 60)


@settings(max_examples=250, deadline=None)
@given(st.lists(st.sampled_from(["a", "B", "1", ".", "-", "_", "/", "//", " ", ":", "é", "٣", "\n", "x/y"]),
                max_size=20).map("".join))
def test_paths_lose_the_same_prefixes_without_rescanning_words(line: str) -> None:
    assert signature._PATH_PREFIX.sub(r"\1", line) == _PATH_PREFIX.sub(r"\1", line)


# -- shell words -----------------------------------------------------------------------------------

def _reference_words(segment: str) -> tuple[str, ...]:
    return tuple(shell._QUOTED.sub(lambda m: m.group(1) if m.group(1) is not None else
                                   m.group(2) if m.group(2) is not None else m.group(3), tok)
                 for tok in (m.group(0) for m in shell._TOKEN.finditer(segment)))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*"ab '\"\\\n\t", "\u2003", "\x1c", "\xa0", "x'y", '"z"', "''"]),
                max_size=16).map("".join))
def test_words_are_the_tokenizer_s_words(segment: str) -> None:
    assert shell.words.__wrapped__(segment) == _reference_words(segment)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["cd /x", " && ", "; ", " | ", "export A=1", "set -e", "true", ":", "git status",
                                 "bash -lc '", "'", "pytest -q", "source env", " ", "\n"]), max_size=8).map("".join))
def test_the_primary_segment_is_the_first_core_segment(command: str) -> None:
    segments = shell.core_segments(command)
    assert shell.primary_segment(command) == (segments[0] if segments else command.strip())


# -- pairing: a session's other threads change nothing -------------------------------------------

_RUNS = [  # (command, output, exit code)
    ("make build", "make: *** [all] Error 2", 2), ("make build", "built", None), ("make test", "ok", None),
    ("pytest -x", "1 failed", 1), ("pytest -x", "3 passed", None), ("uv run pytest", "3 passed", None),
    ("gt daemon start", "Error: unknown flag --x", 1), ("gt daemon start", "started", None),
    ("rg foo src", "bash: rg: command not found", 127), ("grep -rn foo src", "src/a.py:1:foo", None),
    ("cat src/a.py", "cat: src/a.py: No such file or directory", 1), ("cat src/app/a.py", "text", None),
]


def _session(runs: list[tuple[str, tuple[str, str, int | None]]]) -> list[ToolCall]:
    calls = []
    for n, (thread, (command, output, code)) in enumerate(runs):
        status = ERROR if code else OK
        calls.append(ToolCall(f"c{n}", "Bash", {"command": command}, n * 10, thread=thread, status=status,
                              is_error=status == ERROR, exit_code=code, output=output, output_bytes=len(output)))
    return calls


def _pairings(calls: list[ToolCall]) -> list[tuple[str, str | None, str | None, int, int]]:
    verdicts = [detect.judge(c) for c in calls]
    failed, kinds = [v.failed for v in verdicts], [v.kind for v in verdicts]
    pairer = Pairer(calls, failed, kinds)
    out = []
    for i, c in enumerate(calls):
        if c.thread == "main" and failed[i]:
            p = pairer.pair(i)
            assert p == pair(i, calls, failed, kinds)  # one search per session gives what one per failure gives
            out.append((c.output, p.fix.output if p.fix else None, p.reason, p.repeats, p.wasted_bytes))
    return out


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(_RUNS), min_size=1, max_size=12), st.lists(st.sampled_from(_RUNS), max_size=12),
       st.randoms(use_true_random=False))
def test_calls_of_other_threads_change_no_pairing(main: list[tuple[str, str, int | None]],
                                                  other: list[tuple[str, str, int | None]],
                                                  rnd: random.Random) -> None:
    alone = [("main", run) for run in main]
    mixed = list(alone)
    for run in other:
        mixed.insert(rnd.randrange(len(mixed) + 1), ("agent-1", run))
    assert _pairings(_session(alone)) == _pairings(_session(mixed))


# -- detection: hints, the error-line search and the newline-led search change no verdict --------
# The reference is detection as written before those shortcuts: every rule searched, error lines
# found by `^.*(?:words).*$`, hidden-failure lines by the `^`-led pattern.

_REF_ERROR_LINE = re.compile(r"^.*(?:" + detect._ERROR_WORD.pattern + r").*$", re.I | re.M)
_REF_ERROR_LINE_LOW = casefold.lowered(_REF_ERROR_LINE)
_REF_HIDDEN = re.compile(detect._HIDDEN_FAILURE_LINE, re.M)
_REF_CRASH = re.compile(r"Traceback \(most recent|panic:|Segmentation fault|command not found")
_REF_FILTER_ERROR = re.compile(r"^(?:grep|rg|diff): .*(?:No such file|Is a directory|error)", re.M)


def _reference_focus(text: str) -> str:
    if len(text) <= detect._FOCUS_HEAD:
        return text
    low = casefold.folded(text)
    if low is None:
        lines = _REF_ERROR_LINE.findall(text, detect._FOCUS_HEAD, detect._FOCUS_SCAN)
    else:
        lines = [text[m.start():m.end()]
                 for m in _REF_ERROR_LINE_LOW.finditer(low, detect._FOCUS_HEAD, detect._FOCUS_SCAN)]
    return text[:detect._FOCUS_HEAD] + "\n" + "\n".join(lines[:20])


def _reference_classify(call: ToolCall) -> str:
    if call.status == REJECTED:
        return "user_rejected"
    if call.status == INTERRUPTED or call.interrupted:
        return "user_interrupt"
    text = call.output
    head = text if len(text) <= 1500 else text[:1200] + "\n" + text[-300:]
    if detect._KIND_CHECKS[0][1].search(head.lower()):
        return "permission_denied"
    if call.timed_out:
        return "timeout_or_hang"
    if casefold.found(detect._CANCELLED_SIBLING, detect._CANCELLED_SIBLING_LOW, head[:300]):
        return "other"
    if call.exit_code == 127:
        return "command_not_found"
    if call.exit_code in (124, 137) and call.family == "shell":
        return "timeout_or_hang"
    if detect._USAGE_FIRST.match(text) or casefold.found(detect._USAGE_ERROR, detect._USAGE_ERROR_LOW, text[:400]):
        return "wrong_cli_usage"
    focus = _reference_focus(text).lower()
    for kind, pattern, _ in detect._KIND_CHECKS:
        if pattern.search(focus):
            if kind == "too_large" and call.family == "shell" and not detect._PERSISTED_TOO_LARGE.search(head):
                continue
            if kind == "edit_mismatch" and call.family not in ("edit", "write") \
                    and not head.lstrip().startswith("<tool_use_error>") and call.input.get("patch") is None:
                continue
            return kind
    if call.family == "shell":
        cmd = detect.command_of(call)
        if cmd and detect._BUILD_TEST.match(shell.family(shell.primary_segment(cmd)) or ""):
            return "build_or_test_failure"
    if call.family in ("read", "glob", "search") and "not exist" in head:
        return "path_not_found"
    return "other"


def _reference_benign_exit(call: ToolCall) -> bool:
    cmd = detect.command_of(call)
    if not cmd:
        return False
    code, text = call.exit_code, call.output
    if code is not None and code >= 124:
        return False
    if casefold.found(detect._CANCELLED_SIBLING, detect._CANCELLED_SIBLING_LOW, text[:300]):
        return False
    if detect._OWN_PARSER.search(text[:3000]):
        return True
    if _REF_CRASH.search(text[:3000]) and not shell.is_probe(cmd):
        return False
    segs = shell.core_segments(cmd)
    last = shell.program(segs[-1]) if segs else ""
    if detect._PROBE_MISUSED.search(text[:500]):
        return False
    if shell.is_probe(cmd) or detect._is_sweep(cmd):
        return True
    if code in (1, None) and last in detect._ANSWERING and not _REF_FILTER_ERROR.search(text[:2000]) \
            and not (len(segs) > 1 and detect._PRODUCER_ERROR.search(text[:2000])):
        return True
    return code == 1 and shell.family(segs[-1] if segs else "") == "git diff" and "--exit-code" in cmd


def _reference_hidden_failure(call: ToolCall) -> bool:
    text = call.output
    if not text:
        return False
    if detect._PERSISTED_TOO_LARGE.search(text[:200]):
        return True
    if call.output_bytes > 20000 or text.count("\n") >= 40 or not _REF_HIDDEN.search(text):
        return False
    cmd = detect.command_of(call)
    if not cmd or (call.exit_code == 0 and not detect._HIDES_STATUS.search(detect._QUOTED.sub("''", cmd))):
        return False
    return not (shell.is_viewer(cmd) or detect._is_sweep(cmd) or shell.is_probe(cmd))


def _reference_judge(call: ToolCall) -> tuple[bool, str]:
    if call.status == PENDING:
        return False, "benign"
    if call.status == REJECTED:
        return True, "user_rejected"
    if call.status == INTERRUPTED:
        return True, "user_interrupt"
    if call.status == ERROR or call.exit_code not in (None, 0):
        if call.family == "shell" and _reference_benign_exit(call):
            return False, "benign"
        return True, _reference_classify(call)
    if call.status == OK and call.family == "shell" and call.timed_out:
        return True, "timeout_or_hang"
    if call.status == OK and call.family == "shell" and _reference_hidden_failure(call):
        return True, _reference_classify(call)
    return False, "benign"


# Pieces of outputs: every rule's words in several cases, words glued to others (for `\b`), line
# starts, characters that lowercase unusually, and filler that pushes outputs past the lengths at
# which detection reads only parts of them.
_DETECT_PIECES = [
    "Error: ", "error", "errors", "_error", "ERROR", "fatal: ", "FATAL", "failed", "Permission denied", "EACCES",
    "sudo: a terminal is required", "could not read Username", "timed out", "Command timed out", "hung",
    "Output too large", "<persisted-output>", "String to replace not found", "old_string", "hunk", "did not match",
    "InputValidationError", "is a directory", "not a valid", "bash: foo: command not found", "command not found",
    ": not found", "exit code 127", "ModuleNotFoundError: No module named 'x'", "version `GLIBC_2' not found",
    "sandbox denied", "blocked by the sandbox", "403", "Could not resolve host", "SSL", "No such file or directory",
    "does not exist", "not found: /x", "unknown flag", "invalid choice", "accepts 1 arg(s)", "Try 'x --help'",
    "usage: ", "Usage: grep ", "usage: - [", "grep: x: No such file", "grep: unrecognized option", "Traceback",
    "Traceback (most recent call last):", "panic:", "make: *** [all] Error 2", "Sibling tool call errored",
    "Cancelled: parallel tool call", "<tool_use_error>", "maximum file size", "exceeds maximum allowed tokens",
    "wrong ELF class", "Failed to spawn: `x`", "safe.directory", "ECONNREFUSED", "ENOENT", "pathspec 'x' did not match",
    "Unknown command: 'x'", "x", "\n", "\n", " ", "İ", "ı", "ſ", "Σ", "K", "é",
    "y" * 300, "z\n" * 30, "w " * 450,
]
_DETECT_COMMANDS = [
    "grep -rn x src", "rg x | head", "pytest -x", "make build", "ls *.pid", "cat log.txt", "git diff --exit-code",
    "python3 -c 'import argparse'", 'echo "--- a ---"; which x; ls /opt', "tool run 2>&1 | tail -5",
    "psql -c 'select 1' || echo failed", "sudo pacman -S x", "bash -lc 'npm test'", "curl x | grep y", "",
    'echo "--- a ---"; pytest; make', "gh pr view 1 | diff - a.txt",
]


@st.composite
def _detect_calls(draw: st.DrawFn) -> ToolCall:
    output = "".join(draw(st.lists(st.sampled_from(_DETECT_PIECES), max_size=6)))
    tool = draw(st.sampled_from(["Bash", "Bash", "Edit", "Read", "apply_patch", "WebFetch"]))
    status = draw(st.sampled_from([OK, OK, ERROR, ERROR, REJECTED, INTERRUPTED, PENDING]))
    call = ToolCall("c", tool, {"command": draw(st.sampled_from(_DETECT_COMMANDS))}, 0, status=status,
                    exit_code=draw(st.sampled_from([None, 0, 1, 2, 124, 127, 137])), output=output,
                    output_bytes=draw(st.sampled_from([len(output), len(output), 30000])))
    call.timed_out = draw(st.booleans()) and draw(st.booleans())
    call.interrupted = draw(st.booleans()) and draw(st.booleans())
    return call


@settings(max_examples=200, deadline=None)
@given(_detect_calls())
def test_detection_gives_the_verdicts_of_the_plain_rules(call: ToolCall) -> None:
    assert tuple(detect.judge(call)) == _reference_judge(call)
    assert detect._focus(call.output) == _reference_focus(call.output)


def test_each_piece_alone_gets_the_verdict_of_the_plain_rules() -> None:
    # (the generated calls above rarely hold one rule's words alone, or past the output's head)
    for piece in _DETECT_PIECES:
        for lead in ("", "w " * 250, "z\n" * 450):
            for tool in ("Bash", "Edit", "Read"):
                call = ToolCall("c", tool, {"command": "tool run"}, 0, status=ERROR, exit_code=1,
                                output=lead + piece, output_bytes=len(lead + piece))
                assert detect.classify(call) == _reference_classify(call), (piece, lead[:2], tool)
        for command in _DETECT_COMMANDS:
            for code in (None, 0, 1):
                call = ToolCall("c", "Bash", {"command": command}, 0, status=OK, exit_code=code, output=piece,
                                output_bytes=len(piece))
                assert detect._hidden_failure(call) == _reference_hidden_failure(call), (piece, command, code)
                assert detect._benign_exit(call) == _reference_benign_exit(call), (piece, command, code)


# Text that each rule matches, written by hypothesis from the rule itself: every alternative, in
# any case, amid any characters, after a lead that moves it past the parts of the output read first.
_LEADS = st.sampled_from(["", "w " * 250, "z\n" * 450])
_KIND_MATCHES = st.one_of([st.from_regex(pattern.compiled()) for _, pattern, _ in detect._KIND_RULES]
                          + [st.from_regex(detect._CANCELLED_SIBLING.compiled())])
_EXIT_MATCHES = st.one_of([st.from_regex(pattern) for pattern in (
    detect._PROBE_MISUSED, _REF_FILTER_ERROR, _REF_CRASH, detect._OWN_PARSER, detect._PRODUCER_ERROR,
    detect._CANCELLED_SIBLING.compiled())])


@settings(max_examples=200, deadline=None)
@given(_LEADS, _KIND_MATCHES, st.sampled_from(["Bash", "Edit", "Read", "apply_patch"]), st.sampled_from([1, 2, 127]))
def test_what_each_kind_rule_matches_gets_the_kind_of_the_plain_rules(lead: str, text: str, tool: str,
                                                                     code: int) -> None:
    call = ToolCall("c", tool, {"command": "tool run"}, 0, status=ERROR, exit_code=code, output=lead + text,
                    output_bytes=len(lead + text))
    assert detect.classify(call) == _reference_classify(call)


@settings(max_examples=200, deadline=None)
@given(st.from_regex(_REF_HIDDEN), st.sampled_from(_DETECT_COMMANDS), st.sampled_from([None, 0]))
def test_what_the_hidden_failure_rule_matches_gets_the_plain_verdict(text: str, command: str,
                                                                    code: int | None) -> None:
    call = ToolCall("c", "Bash", {"command": command}, 0, status=OK, exit_code=code, output=text,
                    output_bytes=len(text))
    assert tuple(detect.judge(call)) == _reference_judge(call)


@settings(max_examples=250, deadline=None)
@given(_EXIT_MATCHES, st.sampled_from(_DETECT_COMMANDS), st.sampled_from([None, 1, 2]))
def test_what_the_exit_rules_match_gets_the_plain_verdict(text: str, command: str, code: int | None) -> None:
    call = ToolCall("c", "Bash", {"command": command}, 0, status=ERROR, exit_code=code, output=text,
                    output_bytes=len(text))
    assert detect._benign_exit(call) == _reference_benign_exit(call)


_LINE_TEXT = st.lists(st.sampled_from([
    "error", "Error", "errors", "_error", "xerror", "error_", "fatal", "failed", "FAILED", "not found", "cannot",
    "Traceback", "Exception", "does not exist", "ok", "a", "_", "1", " ", "-", "\n", "\n", "\r", "İ", "ı", "ſ",
    "Σ", "\u212a", "é"]), max_size=30).map("".join)


@settings(max_examples=300, deadline=None)
@given(_LINE_TEXT, st.integers(0, 40), st.integers(0, 60), st.integers(1, 4))
def test_error_lines_are_the_lines_the_line_pattern_finds(text: str, start: int, end: int, limit: int) -> None:
    expected = _REF_ERROR_LINE.findall(text, start, end)[:limit]
    assert detect._error_lines(text, start, end, limit) == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([
    "Error: x", "error", "ERROR foo bar: ", "fatal:", "x: error: y", "a.b: fatal[E1]: z", "sudo: a password is required",
    "bash: line 3: foo: command not found", ": command not found", "make[2]: *** [x] Error 1", "make: *** y",
    "Traceback (most recent call last):", "Error: unknown flag", "ls: unrecognized option", "\n", "\n", " ", ":", "\t",
    "x"]), max_size=12).map("".join))
def test_hidden_failure_lines_are_found_after_a_newline_as_from_a_line_start(text: str) -> None:
    assert bool(detect._HIDDEN_FAILURE.search("\n" + text)) == bool(_REF_HIDDEN.search(text))


# -- pairing's prefilters change no pairing -------------------------------------------------------

_ACTS = [  # (tool, input, output, exit code or None, failed by the tool's own flag)
    ("Bash", {"command": "git push origin main"}, "error: failed to push some refs", 1, False),
    ("Bash", {"command": "git push -u origin main"}, "pushed", None, False),
    ("Bash", {"command": "cd /r && git status"}, "clean", None, False),
    ("Bash", {"command": "rg foo src"}, "bash: rg: command not found", 127, False),
    ("Bash", {"command": "grep -rn foo src | head"}, "src/a.py:1:foo", None, False),
    ("Bash", {"command": "python3 tools/gen.py --all"}, "python3: command not found", 127, False),
    ("Bash", {"command": "uv run python tools/gen.py --all"}, "ok", None, False),
    ("Bash", {"command": "./tools/gen.py --all"}, "ok", None, False),
    ("Bash", {"command": "cat src/app.py"}, "cat: src/app.py: No such file or directory", 1, False),
    ("Bash", {"command": "cat 'src/core/app.py'"}, "text", None, False),
    ("Bash", {"command": "sed -n '1,20p' src/core/App.py"}, "text", None, False),
    ("Bash", {"command": "sed -i 's/a/b/' src/app.py"}, "", None, False),
    ("Bash", {"command": "python3 - <<'PY'\nfrom pathlib import Path\nPath('src/app.py').write_text('x')\nPY"}, "", None,
     False),
    ("Bash", {"command": "cat > src/app.py <<'EOF'\ndef a():\n    return 2\nEOF"}, "", None, False),
    ("Bash", {"command": "gt install --shell"}, "Error: unknown flag: --shell", 1, False),
    ("Bash", {"command": "gt shell install"}, "installed", None, False),
    ("Bash", {"command": "gt Shell-Install"}, "installed", None, False),
    ("Bash", {"command": "pytest -x tests/test_a.py"}, "1 failed, 2 passed", 1, False),
    ("Bash", {"command": "pytest -x tests/test_a.py"}, "3 passed", None, False),
    ("Bash", {"command": "uv run pytest 2>&1 | tail -3"}, "3 passed", None, False),
    ("Bash", {"command": "bash -lc 'make test'"}, "make: *** [test] Error 2", 2, False),
    ("Bash", {"command": "make test"}, "FAILED x", None, False),
    ("Bash", {"command": "make test"}, "ok", None, False),
    ("Bash", {"command": "ls /r/src"}, "app.py", None, False),
    ("Bash", {"command": "find /r -name app.py"}, "/r/src/core/app.py", None, False),
    ("Bash", {"command": "tail -n 50 /r/big.log"}, "last lines", None, False),
    ("Bash", {"command": "echo x > /r/notes.md && cat /r/notes.md"}, "x", None, False),
    ("Read", {"file_path": "/r/src/app.py"}, "File does not exist.", None, True),
    ("Read", {"file_path": "/r/src/core/app.py"}, "1\tx", None, False),
    ("Read", {"file_path": "/r/big.log"}, "File content (300KB) exceeds maximum allowed size", None, True),
    ("Read", {"file_path": "/r/src"}, "EISDIR: illegal operation on a directory, read", None, True),
    ("Glob", {"pattern": "**/*.py", "path": "/r/lib"}, "No files found", None, False),
    ("Grep", {"pattern": "foo", "path": "/r/src/app.py"}, "Path does not exist: /r/src/app.py", None, True),
    ("Grep", {"pattern": "foo", "path": "/r/src"}, "src/core/app.py", None, False),
    ("Edit", {"file_path": "/r/src/app.py", "old_string": "def a():\n    return 1", "new_string": "def a():\n    return 2"},
     "String to replace not found in file.", None, True),
    ("Edit", {"file_path": "/r/src/app.py", "old_string": "def a():\n    return 1", "new_string": "def a():\n    return 3"},
     "updated", None, False),
    ("Write", {"file_path": "/r/src/app.py", "content": "def a():\n    return 2\n"}, "ok", None, False),
    ("Bash", {"command": "npm test && git push"}, "Cancelled: parallel tool call Bash(x) errored", None, True),
    ("Bash", {"command": "cd /r && npm   test && git push && ls"}, "ok", None, False),
    ("Bash", {"command": "npm test"}, "ok", None, False),
    ("Bash", {"command": "tool daemon start"}, "daemon: could not connect", 1, False),
    ("Bash", {"command": "tool start daemon"}, "started", None, False),
    ("Bash", {"command": "tool daemon start --port 9"}, "started", None, False),
    ("Bash", {"command": "tool sync:web"}, "tool: could not connect", 1, False),
    ("Bash", {"command": "tool web-sync"}, "ran", None, False),
    ("Bash", {"command": "node scripts/x.js"}, "node: command not found", 127, False),
    ("Bash", {"command": "npx tsx scripts/x.js"}, "ok", None, False),
]


def _acts_session(acts: list[tuple[str, dict[str, str], str, int | None, bool]]) -> list[ToolCall]:
    calls = []
    for n, (tool, inp, output, code, tool_error) in enumerate(acts):
        status = ERROR if code or tool_error else OK
        calls.append(ToolCall(f"c{n}", tool, dict(inp), n * 10, status=status, is_error=status == ERROR, exit_code=code,
                              output=output, output_bytes=len(output)))
    return calls


def _all_pairings(calls: list[ToolCall]) -> list[tuple[str | None, str | None, int, int]]:
    verdicts = [detect.judge(c) for c in calls]
    failed, kinds = [v.failed for v in verdicts], [v.kind for v in verdicts]
    pairer = Pairer(calls, failed, kinds)
    out = []
    for i in range(len(calls)):
        if failed[i]:
            p = pairer.pair(i)
            out.append((p.fix.call_id if p.fix else None, p.reason, p.repeats, p.wasted_bytes))
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_ACTS), min_size=1, max_size=14))
def test_the_prefilters_before_parsing_change_no_pairing(acts: list[tuple[str, dict[str, str], str, int | None, bool]]
                                                          ) -> None:
    calls = _acts_session(acts)
    with patch.object(candidate.Candidate, "may_run", lambda self, programs: True), \
            patch.object(candidate.Candidate, "has_words", lambda self, needs: True), \
            patch.object(candidate, "_FAIL_HINTS", ("",)), \
            patch.object(candidate.Candidate, "may_write", True), \
            patch.object(candidate.Candidate, "has_texts", lambda self, texts: True):
        plain = _all_pairings(calls)
    assert _all_pairings(calls) == plain


# -- the pieces of the cheaper parse, signing and redaction ---------------------------------------

@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(["EOF", "EOF", "PY", " ", "  ", "\t", "\n", "\n", "x", "EOFX", "XEOF", "\r", "\u2003",
                                 "\x1c", "a b", " EOF ", "E", "OF"]), max_size=14).map("".join),
       st.integers(0, 40), st.sampled_from(["EOF", "PY", "E"]))
def test_a_here_document_ends_where_its_terminator_pattern_matches(text: str, start: int, name: str) -> None:
    start = min(start, len(text))
    m = re.search(r"^\s*" + re.escape(name) + r"\s*$", text[start:], re.M)
    assert shell._terminator(text, start, name) == ((start + m.start(), start + m.end()) if m else None)


_ERROR_TEXT = st.lists(st.sampled_from([
    "error", "ERROR", "Error:", "fatal", "not found", "No such", "usage:", "x", "ok", " ", "\n", "é", "ſ", "ı", "\u0130",
    "\u212a", "can't", "Exception", "timed out", "does not exist", "a" * 250, "b" * 120, "FAILED", "required",
    "erro", "r"]), max_size=25).map("".join)


@settings(max_examples=400, deadline=None)
@given(_ERROR_TEXT)
def test_the_first_error_word_is_where_the_case_insensitive_alternation_matches(text: str) -> None:
    m = re.compile(signature._ERROR_WORD.pattern, re.I).search(text)
    assert signature._first_error_word(text) == (m.start() if m else -1)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["error: x", " ", "  ", "\t", "a", "/tmp/x y", "src/a/b.py", "deadbeef0", "12.5", ":",
                                 "Ab-C", "\u2003", "é", "z/", "1"]), max_size=40).map("".join),
       st.integers(1, 12))
def test_a_long_line_cut_at_a_blank_keys_like_the_whole_line(text: str, cut: int) -> None:
    with patch.object(signature, "KEY_CUT", cut):
        assert signature.error_key.__wrapped__(text, 8) == _reference_error_key(text, 8)
        assert signature.error_key.__wrapped__(text, 30) == _reference_error_key(text, 30)


_SECRET_TEXT = st.lists(st.sampled_from([
    "token", "Token ", "secret", "api_key", "api-key", "apikey", "access-key", "auth", "credential", "session_key",
    "passwd", "password", "bearer", "basic", " ", "  ", "=", ":", '"', "'", "-", "_", "abcdefgh", "x1y2z3w4ABCDEFGH", "é",
    "\n", ",", ";", "&", "|", "$VAR", "tokentoken", "my-token", "-auth-", "a", "1", "ß", "٣"]), max_size=16).map("".join)


@settings(max_examples=500, deadline=None)
@given(_SECRET_TEXT)
def test_matches_found_from_their_names_are_the_pattern_s_matches(text: str) -> None:
    for low, name, in_word in ((redact._ASSIGNMENT_LOW, redact._SECRET_NAME_LOW, True),
                               (redact._BEARER_LOW, redact._BEARER_NAME_LOW, False)):
        assert [(m.span(), m.groups()) for m in redact._anchored(low, name, text, in_word=in_word)] == \
            [(m.span(), m.groups()) for m in low.finditer(text)]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["app.py", "x", " ", "/", "'", '"', "=", ";", "|", "&", ")", "(", "\n", "\t", "\u2003",
                                 "-", "b"]), max_size=12).map("".join), st.sampled_from(["app.py", "x", "b"]))
def test_a_name_is_mentioned_where_the_mention_pattern_finds_it(command: str, name: str) -> None:
    found = re.search(r"(?:^|[\s/'\"=])" + re.escape(name) + r"(?:$|[\s'\";|&)])", command)
    assert candidate.mentions(command, name) == bool(found)


_SCRIPT_LINES = st.lists(st.sampled_from([
    "sed ", "-i ", "-n ", "gsed ", "perl ", "-pi ", "-e ", "awk ", "-i inplace ", "python3 ", "node ", "-c ", "- ",
    "'open(\"f\", \"w\")' ", "'x.write(1)' ", "writeFileSync ", "<<'PY'\nopen('a', 'w')\nPY\n", "> out.txt ",
    ">> out.txt ", "| tee out.txt ", "cat ", "out.txt ", "&& ", "\\", "'", '"']), max_size=10).map("".join)


@settings(max_examples=500, deadline=None)
@given(_SCRIPT_LINES)
def test_a_line_that_writes_by_a_rule_may_write(command: str) -> None:
    line = candidate.Candidate(ToolCall("c", "Bash", {"command": command}, 0, status=OK))
    if any(step.writes or pairing._IN_PLACE.search(step.text) or (step.inline and pairing._SCRIPT_WRITE.search(step.code))
           for step in line.steps):
        assert line.may_write, command


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from([
    "FAIL", "FAILED", "ERROR", "Error:", "error[E1]:", "npm ERR!", "Traceback (most recent", " 2 failed", "1 failing",
    "3 errors", "--- FAIL", "✖ 1", "✗", "❌ 0", "error TS123", "\n", " ", "ok", "passed", "0", "x", "  "]),
    max_size=10).map("".join))
def test_outputs_without_a_fail_hint_have_no_fail_mark(output: str) -> None:
    if not any(hint in output for hint in candidate._FAIL_HINTS):
        assert candidate._FAIL_MARKS.search(output) is None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["Command running in background", "command running in background", "C", "c", "x", "é",
                                 "Sibling tool call errored", "CANCELLED: PARALLEL TOOL CALL", "tool", " ", "ſ", "\u0130"]),
                max_size=5).map("".join))
def test_cheaper_outcome_checks_say_what_the_plain_ones_say(output: str) -> None:
    call = ToolCall("c", "Bash", {"command": "x"}, 0, status=OK, output=output)
    assert candidate.unconfirmed(call) == bool(candidate._BACKGROUND.match(output))
    assert candidate.cancelled(call) == casefold.found(candidate._CANCELLED, candidate._CANCELLED_LOW, output[:300])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["git ", "push", " --force ", "a:b", "x-y_z", "src/App.py", "--k=v", "-", "'q r' ",
                                 "python3 ", "uv run ", "pytest ", "-m ", " && ", " | ", "; ", "cd /x", " ", "=",
                                 "npm ", "test", "\n", "<<EOF\nx\nEOF\n"]),
                max_size=12).map("".join))
def test_derived_step_facts_match_their_definitions(command: str) -> None:
    for step in intent.steps(command):
        assert step.interpreter == bool(intent._INTERPRETERS.fullmatch(step.program))
        some = candidate.some_parts(step)
        assert set(some) <= {candidate.word_key(w) for w in step.word_set}
        assert bool(some) == (len(step.word_set) >= 2)

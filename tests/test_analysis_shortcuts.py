"""Pairing's and signing's shortcuts give exactly what the plain code gives.

Each shortcut (the error line found through its first error word, the path rule that skips the
middle of words, the whitespace collapsed by `split`, the one-string unquote, the quote-free word
split, the first working segment found without reading the rest, one search per thread) is
checked against the straightforward version it replaces, on generated text.
"""

from __future__ import annotations

import random
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from forewarn.analyze import detect, shell, signature
from forewarn.analyze.pairing import Pairer, pair
from forewarn.model import ERROR, OK, ToolCall

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

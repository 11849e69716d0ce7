"""Catastrophic-backtracking guards: structural detection and the timed child process."""

from __future__ import annotations

from pathlib import Path

import pytest

from forewarn.lessons import regex_safety
from forewarn.lessons.regex_safety import check_patterns, structural_problem


@pytest.mark.parametrize("pattern", [
    r"(a+)+$", r"(.*)*x", r"^(x|x)*y", r"(a{1,5})+b", r"(?:\s*,\s*\w+)*;", r"((ab)*c?)+d",
    r"(?:a|b|ab)*c",
])
def test_nested_quantifiers_and_ambiguous_alternations_are_rejected(pattern: str) -> None:
    assert structural_problem(pattern) is not None


@pytest.mark.parametrize("pattern", [
    r"\bpytest\b(?!.*(--no-header|-p no:faulthandler|TERM=dumb))",
    r"(?s)^(?!.*(?:\buv\s+run\b)).*?\bpython3\b",
    r"^(?:.*/)?src/(?:.*/)?[^/]*\.py$",
    r"(?:[^/]+/)*x",
    r"(\d|x)+y",
    r"(\w|\d)+!",  # single-character alternatives: Python parses them as one class
    r"(ab){2}c",
    r"(?:a+){2}",
])
def test_safe_patterns_pass_the_structural_check(pattern: str) -> None:
    assert structural_problem(pattern) is None


def test_timing_drops_slow_and_hanging_patterns_in_a_child_process(tmp_path: Path) -> None:
    cache = tmp_path / "cache.json"
    fast = (r"\bpytest\b", "i")
    hang = (r"\d*\d*\d*\d*x", "")  # polynomial, not nested: only the clock catches it
    verdicts = check_patterns([fast, hang, ("(", ""), (r"(a+)+$", "")], kill_after=0.5, cache_path=cache)
    assert verdicts[fast].ok
    assert not verdicts[hang].ok and "still running" in verdicts[hang].reason
    assert "does not compile" in verdicts[("(", "")].reason
    assert "nested quantifier" in verdicts[(r"(a+)+$", "")].reason


def test_verdicts_are_cached_so_rebuilds_do_not_time_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "cache.json"
    pair = (r"\bnpm\s+install\b", "i")
    assert check_patterns([pair], cache_path=cache)[pair].ok

    def no_timing(*args: object, **kwargs: object) -> dict[object, object]:
        raise AssertionError("timed again")

    monkeypatch.setattr(regex_safety, "_time_patterns", no_timing)
    assert check_patterns([pair], cache_path=cache)[pair].ok


def test_a_slow_but_finished_pattern_is_dropped_and_not_cached(tmp_path: Path) -> None:
    cache = tmp_path / "cache.json"
    slow = (r"\d*x", "")  # quadratic under re.search: measurable, finishes
    verdict = check_patterns([slow], budget_ms=0.001, cache_path=cache)[slow]
    assert not verdict.ok and "budget" in verdict.reason
    assert "\\d*x" not in cache.read_text()

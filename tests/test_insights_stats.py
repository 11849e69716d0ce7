"""Success rates, windows, breakdowns, trends and waste (`forewarn.insights.stats`)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forewarn.errors import ForewarnError
from forewarn.insights.stats import Z95, compute_stats, parse_when, wilson
from forewarn.scan import discover, scan
from forewarn.store import Store
from tests.claude_builder import Transcript
from tests.insights_helpers import C, add_session, at

# -- Wilson ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("k", "n", "lo", "hi"), [
    (0, 10, 0.0, 0.2775),
    (1, 10, 0.0179, 0.4042),
    (5, 10, 0.2366, 0.7634),
    (10, 10, 0.7225, 1.0),
    (81, 263, 0.2553, 0.3662),
])
def test_wilson_matches_published_values(k: int, n: int, lo: float, hi: float) -> None:
    got = wilson(k, n)
    assert got[0] == pytest.approx(lo, abs=1e-4)
    assert got[1] == pytest.approx(hi, abs=1e-4)


@given(st.integers(min_value=1, max_value=5000).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))))
def test_wilson_bounds_solve_the_score_equation(kn: tuple[int, int]) -> None:
    k, n = kn
    lo, hi = wilson(k, n)
    p = k / n
    assert 0.0 <= lo <= p <= hi <= 1.0
    mirrored = wilson(n - k, n)
    assert lo == pytest.approx(1 - mirrored[1], abs=1e-9) and hi == pytest.approx(1 - mirrored[0], abs=1e-9)
    for bound in (lo, hi):
        if 0.0 < bound < 1.0:  # interior bounds are exactly where the score statistic equals z
            assert (p - bound) ** 2 == pytest.approx(Z95**2 * bound * (1 - bound) / n, rel=1e-6, abs=1e-12)


def test_wilson_edge_cases() -> None:
    assert wilson(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson(3, 2)
    assert not math.isnan(wilson(1, 1)[0])


# -- windows -----------------------------------------------------------------------------------


def _daily(store: Store, days: int, failing_days: set[int] = frozenset()) -> None:  # type: ignore[assignment]
    """One session a day with four calls; on `failing_days` two of them fail."""
    for d in range(days):
        fails = d in failing_days
        add_session(store, [C(at(d, 0, 1)), C(at(d, 0, 2)), C(at(d, 0, 3), failed=fails), C(at(d, 0, 4), failed=fails)])


def test_window_is_relative_to_the_newest_call_and_offsets_shift_it() -> None:
    store = Store.memory()
    _daily(store, 21, failing_days={15, 16})
    last = compute_stats(store, days=7, min_samples=10)
    assert last.window.now_source == "store"
    assert last.window.until == at(20, 0, 4)[:19]
    assert last.overall.n == 7 * 4  # days 14..20 (the window is (now - 7d, now])
    assert last.overall.failures == 4
    before = compute_stats(store, days=7, offset=7, min_samples=10)
    assert before.overall.n == 28 and before.overall.failures == 0
    pinned = compute_stats(store, days=2, now="2026-03-04", min_samples=10)  # end of day 2
    assert pinned.window.now_source == "given"
    assert pinned.overall.n == 8
    everything = compute_stats(store, days=None, min_samples=10)
    assert everything.overall.n == 84 and everything.window.since is None


def test_empty_store_uses_the_clock_and_reports_no_rate() -> None:
    stats = compute_stats(Store.memory(), days=7, min_samples=10)
    assert stats.window.now_source == "clock"
    assert stats.overall.n == 0 and stats.overall.success_rate is None and stats.overall.ci_low is None


def test_parse_when_rejects_garbage_with_one_line() -> None:
    with pytest.raises(ForewarnError, match="cannot read the time"):
        parse_when("last tuesday")
    assert parse_when("2026-01-31").hour == 23
    assert parse_when("2026-01-31T12:00:00+02:00").hour == 10


def test_weekly_trend_reports_each_week_and_its_change() -> None:
    store = Store.memory()
    _daily(store, 21, failing_days={0, 1, 2, 3, 4, 5, 6})  # the first week is bad
    stats = compute_stats(store, days=7, weeks=3, min_samples=10)
    rates = [p.rate.success_rate for p in stats.trend]
    assert [p.rate.n for p in stats.trend] == [28, 28, 28]
    assert rates == [0.5, 1.0, 1.0]
    assert stats.trend[1].delta == pytest.approx(0.5)
    assert stats.trend[0].delta is None


# -- breakdowns --------------------------------------------------------------------------------


def test_by_tool_flags_only_big_enough_groups_whose_interval_excludes_the_rate() -> None:
    store = Store.memory()
    calls = [C(at(0, 0, i), tool="Bash", failed=i % 2 == 0) for i in range(40)]
    calls += [C(at(0, 1, i), tool="Read", failed=i == 0) for i in range(60)]
    calls += [C(at(0, 2, i), tool="Grep", failed=True) for i in range(4)]  # striking but tiny
    add_session(store, calls)
    stats = compute_stats(store, days=None, by="tool", min_samples=10)
    groups = {g.key: g for g in stats.groups}
    assert stats.overall.failures == 25
    assert groups["Bash"].significant and groups["Bash"].lift == pytest.approx(0.5 / (25 / 104), rel=1e-3)
    assert groups["Read"].significant and groups["Read"].lift < 1
    assert not groups["Grep"].significant  # 4 calls < min_samples
    assert groups["Bash"].ci_low is not None and groups["Bash"].ci_low < 0.5 < groups["Bash"].ci_high  # type: ignore[operator]


def test_by_project_model_and_kind() -> None:
    store = Store.memory()
    add_session(store, [C(at(0), failed=True, kind="path_not_found"), C(at(0, 0, 1))], project="/a", model="m1")
    add_session(store, [C(at(1), failed=True, kind="env_runtime"), C(at(1, 0, 1), failed=True, kind="env_runtime")],
                project="/b", model="m2")
    by_project = {g.key: (g.calls, g.failures) for g in compute_stats(store, days=None, by="project", min_samples=1).groups}
    assert by_project == {"/a": (2, 1), "/b": (2, 2)}
    by_model = {g.key: g.calls for g in compute_stats(store, days=None, by="model", min_samples=1).groups}
    assert by_model == {"m1": 2, "m2": 2}
    kinds = compute_stats(store, days=None, by="kind", min_samples=1).groups
    assert [(g.key, g.failures, round(g.share_of_failures, 2)) for g in kinds] == [("env_runtime", 2, 0.67),
                                                                                    ("path_not_found", 1, 0.33)]
    with pytest.raises(ForewarnError, match="unknown dimension"):
        compute_stats(store, by="colour", min_samples=1)


def test_waste_counts_failures_repeats_and_identical_refetches() -> None:
    store = Store.memory()
    add_session(store, [
        C(at(0), failed=True, output_bytes=400, wasted=1200, repeats=2),
        C(at(0, 0, 1), failed=True, output_bytes=100),
        C(at(0, 0, 2), tool="Read", path="/work/app/big.py", output_bytes=5000),
        C(at(0, 0, 3), tool="Read", path="/work/app/big.py", output_bytes=5000),  # the same read again
        C(at(0, 0, 4), tool="Read", path="/work/app/other.py", output_bytes=700),
    ])
    w = compute_stats(store, days=None, min_samples=1).waste
    assert (w.failed_calls, w.wasted_bytes, w.repeats, w.loops, w.loop_bytes) == (2, 1300, 2, 1, 1200)
    assert (w.refetch_calls, w.refetch_bytes) == (1, 5000)
    assert w.total_bytes == 6300 and w.est_tokens == 6300 // 4


def test_stats_over_a_real_scan_with_a_compaction(tmp_path: Path) -> None:
    t = Transcript(cwd="/work/shop", session_id="s-9")
    t.bash("a1", "python3 -m pytest -q", "ModuleNotFoundError: No module named 'httpx'", code=1)
    t.bash("a2", "uv run pytest -q", "3 passed")
    t.compact()
    t.bash("a3", "make build", "make: *** No rule to make target 'build'.  Stop.", code=2)
    t.bash("a4", "make all", "ok")
    path = t.write(tmp_path / "projects" / "-work-shop" / "s-9.jsonl")
    store = Store.open(tmp_path / "db.sqlite")
    scan(store, discover([path]))
    stats = compute_stats(store, days=None, by="compaction", min_samples=1)
    assert (stats.overall.n, stats.overall.failures) == (4, 2)
    phases = {g.key: (g.calls, g.failures) for g in stats.groups}
    assert phases == {"before compaction": (2, 1), "after compaction": (2, 1)}
    commands = {g.key for g in compute_stats(store, days=None, by="command", min_samples=1).groups}
    assert {"pytest", "make build", "make all"} <= commands


def test_command_families_are_cached_in_the_store(monkeypatch: pytest.MonkeyPatch) -> None:
    from forewarn.insights import stats as stats_module
    from forewarn.store import analytics as sql

    store = Store.memory()
    add_session(store, [C(at(0), command="cd /x && uv run pytest -q"), C(at(0, 0, 1), command="git commit -m x")])
    store.conn.execute("INSERT INTO command_families VALUES ('oldversion:abc', 'stale')")
    monkeypatch.setattr(stats_module, "_FAMILIES", {})
    stats_module.prime_command_families(store, sql.events(store))
    rows = dict(store.conn.execute("SELECT key, family FROM command_families").fetchall())
    assert sorted(rows.values()) == ["git commit", "pytest"]  # and the other parser version's entry is gone

    def no_parsing(raw: str) -> str:
        raise AssertionError(f"parsed {raw!r} again")

    monkeypatch.setattr(stats_module, "_FAMILIES", {})
    monkeypatch.setattr(stats_module, "_parse_family", no_parsing)
    groups = {g.key for g in compute_stats(store, days=None, by="command", min_samples=1).groups}
    assert groups == {"pytest", "git commit"}

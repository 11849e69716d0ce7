"""Seed 001's Python API (OperationTracker, AnalyticsCollector, InsightsGenerator), manual failure
reports, and the schema migration they need."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from forewarn.errors import ForewarnError
from forewarn.insights import AnalyticsCollector, InsightsGenerator, OperationTracker
from forewarn.insights.manual import report_failure
from forewarn.insights.stats import compute_stats
from forewarn.store import Store
from forewarn.store import analytics as sql
from forewarn.store.migrations import MIGRATIONS, m001_initial, migrate
from tests.insights_helpers import C, add_session, at


def test_tracking_round_trip_and_rates(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "fw.db")
    tracker = OperationTracker(store, project="/work/orchestrator")
    for i in range(10):
        op = tracker.start_operation("process_issue", f"issue-{i}")
        if i < 7:
            tracker.complete_operation(op, success=True)
        else:
            tracker.complete_operation(op, success=False, error_type="TestFailure",
                                       error_message="Unit tests failed; api_key=abcdef1234567890")
    running = tracker.start_operation("deploy", "v1")  # never completed: not an outcome
    collector = AnalyticsCollector(store)
    assert collector.get_success_rate(days=7) == pytest.approx(0.7)
    assert collector.get_success_rate(days=7, offset=7) == 0.0  # nothing the week before
    assert collector.get_success_rate_by_type(days=7) == {"process_issue": pytest.approx(0.7)}
    stats = compute_stats(store, days=7, by="agent", min_samples=1)
    assert stats.agents == {"api": 10}
    stored = sql.operation(store, 8)
    assert stored is not None and stored.signature == "operation:testfailure:process_issue"
    assert stored.error_message is not None and "abcdef1234567890" not in stored.error_message
    assert stored.duration_ms is not None and stored.project == "/work/orchestrator"
    assert sql.operation(store, running) is not None and sql.operation(store, running).success is None  # type: ignore[union-attr]
    with pytest.raises(ForewarnError, match="already completed"):
        tracker.complete_operation(8, success=True)
    with pytest.raises(ForewarnError, match="no operation"):
        tracker.complete_operation(999, success=True)


def test_track_context_manager_records_the_exception() -> None:
    store = Store.memory()
    tracker = OperationTracker(store)
    with tracker.track("build", "main"):
        pass
    with pytest.raises(KeyError), tracker.track("deploy", "prod"):
        raise KeyError("region")
    ops = [sql.operation(store, i) for i in (1, 2)]
    assert [(o.success, o.error_type) for o in ops if o] == [(True, None), (False, "KeyError")]


def test_operations_and_tool_calls_share_the_statistics() -> None:
    store = Store.memory()
    add_session(store, [C(at(0, 0, i), failed=i < 2) for i in range(10)])
    tracker = OperationTracker(store)
    op = tracker.start_operation("review", "pr-1")
    tracker.complete_operation(op, success=False, error_type="Rejected")
    # the operation is stamped with the wall clock; pin "now" there so both are in the window
    collector = AnalyticsCollector(store, now=datetime.now(timezone.utc) + timedelta(minutes=1))
    everything = collector.get_stats(days=None, by="agent")
    assert everything.agents == {"claude": 10, "api": 1}
    assert (everything.overall.n, everything.overall.failures) == (11, 3)
    only_api = AnalyticsCollector(store, agent="api", now=datetime.now(timezone.utc) + timedelta(minutes=1))
    assert only_api.get_success_rate(days=None) == 0.0 and only_api.get_stats(days=None).overall.n == 1


def test_summary_has_the_seed_keys_and_recommendations(isolated_home: Path) -> None:
    store = Store.memory()
    for s in range(3):
        add_session(store, [C(at(s, 0, i), failed=i < 3, kind="env_runtime", signature="shell:env_runtime:python3:x",
                              error="ModuleNotFoundError: No module named 'yaml'", fix="uv run t.py")
                            for i in range(20)])
    generator = InsightsGenerator(AnalyticsCollector(store))
    assert generator.analysis_due() is True
    summary = generator.generate_summary(days=7)
    assert summary["success_rate"] == pytest.approx(51 / 60)
    assert summary["total_operations"] == 60 and summary["failures"] == 9
    assert summary["failure_patterns"][0]["pattern"] == "shell:env_runtime:python3:x"
    assert any("Recurring failure with no lesson" in r and "uv run t.py" in r for r in summary["recommendations"])
    assert {a["action"] for a in summary["actions"]} >= {"create_lesson"}
    assert len(summary["trend"]) == 4
    assert generator.analysis_due() is False  # just analysed; the interval is a day
    from forewarn.config import set_value

    set_value("learning.enabled", "false")
    assert generator.generate_summary(days=7)["recommendations"] == []
    with pytest.raises(ForewarnError, match="unknown threshold"):
        generator.recommend_threshold_adjustment("max_complexity")


def test_collector_opens_a_path_or_the_default_store(isolated_home: Path, tmp_path: Path) -> None:
    OperationTracker(tmp_path / "x.db").start_operation("a")
    assert (tmp_path / "x.db").exists()
    AnalyticsCollector().get_success_rate()
    assert (isolated_home / "forewarn.db").exists()


def test_manual_reports_are_validated_redacted_and_markable() -> None:
    store = Store.memory()
    r = report_failure(store, failure_type="integration_error", description="Duplicated the parser",
                       context="password=hunter2hunter2", task="Import workflows", project="/p")
    assert r.id == 1 and r.context is not None and "hunter2hunter2" not in r.context
    with pytest.raises(ForewarnError, match="unknown failure type"):
        report_failure(store, failure_type="typo_error", description="x")
    with pytest.raises(ForewarnError, match="needs a description"):
        report_failure(store, failure_type="other", description="  ")
    assert [x.id for x in sql.reported_failures(store, unhandled_only=True)] == [1]
    assert sql.mark_reported_failures_handled(store, [1], "2026-01-01T00:00:00Z") == 1
    assert sql.reported_failures(store, unhandled_only=True) == []


def test_migrations_blank_and_upgrade_from_the_first_schema(tmp_path: Path) -> None:
    blank = sqlite3.connect(":memory:", isolation_level=None)
    assert migrate(blank) == len(MIGRATIONS)
    tables = {r[0] for r in blank.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"operations", "reported_failures", "analysis_runs", "calls"} <= tables
    old = tmp_path / "old.db"
    conn = sqlite3.connect(old, isolation_level=None)
    conn.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    conn.execute("BEGIN")
    m001_initial(conn)
    conn.execute("INSERT INTO migrations VALUES ('m001_initial', '2026-01-01')")
    conn.execute("COMMIT")
    conn.close()
    store = Store.open(old)
    names = [r[0] for r in store.conn.execute("SELECT name FROM migrations ORDER BY name")]
    assert names == sorted(fn.__name__ for fn in MIGRATIONS)
    OperationTracker(store).start_operation("after-upgrade")

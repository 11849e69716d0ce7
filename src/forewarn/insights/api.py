"""The operation-tracking API for any Python program (seed 001's names and behaviour).

    from forewarn.insights import OperationTracker, AnalyticsCollector, InsightsGenerator

    tracker = OperationTracker(store)              # a Store, a database path, or None (the default)
    op_id = tracker.start_operation("process_issue", "issue-123")
    tracker.complete_operation(op_id, success=False, error_type="TestFailure", error_message="…")

    collector = AnalyticsCollector(store)
    collector.get_success_rate(days=7, offset=7)   # last week but one
    collector.get_success_rate_by_type(days=7)     # {"process_issue": 0.8, "Bash": 0.93, …}

    insights = InsightsGenerator(collector)
    summary = insights.generate_summary(days=7)    # success_rate, failure_patterns, recommendations…
    if insights.recommend_threshold_adjustment("minConfidence"):
        config.set_values({"injection.minConfidence": insights.get_recommended_threshold("minConfidence")})

Operations are stored in their own table and count in every statistic as agent "api", next to
the agents' tool calls. Each tracker is one session (for "position in the session" patterns).

Invariants: error messages are redacted and clipped before they are stored; a rate over an empty
window is 0.0 (`get_stats` gives the sample size); windows end at the newest recorded outcome
unless `now` is given, like `forewarn stats`.
"""

from __future__ import annotations

import logging
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forewarn.errors import ForewarnError
from forewarn.insights.lesson_effect import LessonsReport, ThresholdAdvice, lessons_report
from forewarn.insights.patterns import Patterns, find_patterns
from forewarn.insights.report import recommendations as recommend
from forewarn.insights.stats import (
    Stats,
    compute_stats,
    make_window,
    prime_command_families,
    resolve_now,
)
from forewarn.store import Store
from forewarn.store import analytics as sql

if TYPE_CHECKING:
    from forewarn.config import Config

StoreLike = Store | str | os.PathLike[str] | None
MESSAGE_MAX = 2000
THRESHOLD_NAMES = {"minconfidence": "minConfidence", "min_confidence": "minConfidence",
                   "injection.minconfidence": "minConfidence", "minpriority": "minPriority",
                   "min_priority": "minPriority", "injection.minpriority": "minPriority"}


def now_iso() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def open_store(store: StoreLike) -> Store:
    if isinstance(store, Store):
        return store
    if store is None:
        from forewarn.paths import default_db_path

        return Store.open(default_db_path())
    return Store.open(Path(store))


def operation_signature(op_type: str, error_type: str | None) -> str:
    """`operation:<error type>:<operation type>`, shaped like the analyzers' `family:kind:subject`."""
    kind = "_".join((error_type or "failure").split()).lower()
    return f"operation:{kind}:{op_type}"


class OperationTracker:
    """Records the start and outcome of a program's operations."""

    def __init__(self, store: StoreLike = None, logger: logging.Logger | None = None, *, agent: str = "api",
                 project: str | None = None, session_id: str | None = None) -> None:
        self.store = open_store(store)
        self.logger = logger
        self.agent = agent
        self.project = project if project is not None else os.getcwd()
        self.session_id = session_id or uuid.uuid4().hex
        self._clock: dict[int, float] = {}

    def start_operation(self, op_type: str, op_ref: str | None = None) -> int:
        if not op_type or not op_type.strip():
            raise ForewarnError("an operation needs a type, e.g. 'process_issue'")
        op_id = sql.start_operation(self.store, op_type.strip(), op_ref, agent=self.agent,
                                    session_id=self.session_id, project=self.project, started_at=now_iso())
        self._clock[op_id] = time.monotonic()
        if self.logger:
            self.logger.debug("operation %s started: %s %s", op_id, op_type, op_ref or "")
        return op_id

    def complete_operation(self, op_id: int, success: bool, error_type: str | None = None,
                           error_message: str | None = None) -> None:
        from forewarn.analyze.redact import redact

        started = self._clock.pop(op_id, None)
        duration = None if started is None else int((time.monotonic() - started) * 1000)
        existing = sql.operation(self.store, op_id)
        if existing is None:
            raise ForewarnError(f"no operation with id {op_id}")
        message = redact(error_message)[:MESSAGE_MAX] if error_message else None
        sig = None if success else operation_signature(existing.op_type, error_type)
        if not sql.complete_operation(self.store, op_id, success=bool(success), error_type=error_type,
                                      error_message=message, signature=sig, completed_at=now_iso(),
                                      duration_ms=duration):
            raise ForewarnError(f"operation {op_id} was already completed")
        if self.logger:
            if success:
                self.logger.debug("operation %s succeeded", op_id)
            else:
                self.logger.info("operation %s failed: %s %s", op_id, error_type or "", message or "")

    @contextmanager
    def track(self, op_type: str, op_ref: str | None = None) -> Iterator[int]:
        """`with tracker.track("deploy", "v1.2"):` records success, or the exception that escaped."""
        op_id = self.start_operation(op_type, op_ref)
        try:
            yield op_id
        except BaseException as exc:
            self.complete_operation(op_id, False, type(exc).__name__, str(exc))
            raise
        self.complete_operation(op_id, True)


class AnalyticsCollector:
    """Success rates over windows, for tool calls and tracked operations alike."""

    def __init__(self, store: StoreLike = None, logger: logging.Logger | None = None, *,
                 now: str | datetime | None = None, agent: str | None = None, project: str | None = None,
                 home: Path | None = None) -> None:
        self.store = open_store(store)
        self.logger = logger
        self.now = now
        self.agent = agent
        self.project = project
        self.home = home

    def get_stats(self, days: int | None = 7, offset: int = 0, *, by: str | None = None,
                  weeks: int | None = None) -> Stats:
        return compute_stats(self.store, days=days, offset=offset, now=self.now, by=by, weeks=weeks,
                             project=self.project, agent=self.agent, min_samples=self.min_samples())

    def get_success_rate(self, days: int | None = 7, offset: int = 0) -> float:
        """Share of successful outcomes in the window (0.0 when nothing was recorded)."""
        rate = self.get_stats(days, offset).overall.success_rate
        return 0.0 if rate is None else rate

    def get_success_rate_by_type(self, days: int | None = 7, offset: int = 0) -> dict[str, float]:
        """Success rate per operation type (tool name for agents' calls), most used first."""
        return {g.key: g.success_rate for g in self.get_stats(days, offset, by="tool").groups
                if g.success_rate is not None}

    def get_failure_patterns(self, days: int | None = 7, offset: int = 0) -> Patterns:
        now, source = resolve_now(self.store, self.now)
        window = make_window(now, source, days, offset)
        events = sql.events(self.store, window.since, window.until, project=self.project, agent=self.agent)
        prime_command_families(self.store, events)
        return find_patterns(events, window, self.min_samples())

    def get_lessons_report(self) -> LessonsReport:
        now = resolve_now(self.store, self.now)[0]
        return lessons_report(self.store, home=self.home, now=now)

    def min_samples(self) -> int:
        from forewarn.config import load_config

        return load_config(self.home).learning.min_samples


class InsightsGenerator:
    """Turns analytics into a summary with failure patterns and recommendations."""

    def __init__(self, collector: AnalyticsCollector, logger: logging.Logger | None = None) -> None:
        self.collector = collector
        self.logger = logger
        self._lessons: LessonsReport | None = None

    def _config(self) -> Config:
        from forewarn.config import load_config

        return load_config(self.collector.home)

    def lessons(self) -> LessonsReport:
        if self._lessons is None:
            self._lessons = self.collector.get_lessons_report()
        return self._lessons

    def generate_summary(self, days: int | None = 7) -> dict[str, Any]:
        config = self._config()
        stats = self.collector.get_stats(days, weeks=4)
        patterns = self.collector.get_failure_patterns(days)
        self._lessons = None
        lessons = self.lessons()
        recommendations, actions = (recommend(patterns, lessons) if config.learning.enabled else ([], []))
        success_rate = stats.overall.success_rate or 0.0
        summary: dict[str, Any] = {
            "window": asdict(stats.window),
            "success_rate": success_rate,
            "success_ci": [stats.overall.ci_low, stats.overall.ci_high],
            "total_operations": stats.overall.n,
            "failures": stats.overall.failures,
            "trend": [{"week_ending": p.label, "success_rate": p.rate.success_rate, "n": p.rate.n, "delta": p.delta}
                      for p in stats.trend],
            "failure_patterns": [
                {"pattern": c.label, "kind": c.kind, "count": c.count, "share": round(c.share, 4),
                 "sessions": c.sessions, "example": c.example_error, "usual_fix": c.usual_fix}
                for c in patterns.clusters[:10]],
            "insights": [i.text for i in patterns.insights],
            "recommendations": recommendations,
            "actions": actions,
            "thresholds": {a.name: {"current": a.current, "recommended": a.recommended, "change": a.change,
                                    "reason": a.reason} for a in lessons.thresholds},
            "wasted_tokens": stats.waste.est_tokens,
            "learning_enabled": config.learning.enabled,
        }
        sql.record_analysis_run(self.collector.store, ran_at=now_iso(), days=days, events=stats.overall.n,
                                success_rate=stats.overall.success_rate)
        if self.logger:
            self.logger.info("insights: success rate %.1f%% over %d outcomes, %d recommendations",
                             100 * success_rate, stats.overall.n, len(recommendations))
        return summary

    def _advice(self, name: str) -> ThresholdAdvice:
        key = THRESHOLD_NAMES.get(name.strip().lower())
        if key is None:
            raise ForewarnError(f"unknown threshold {name!r}: use minConfidence or minPriority")
        return next(a for a in self.lessons().thresholds if a.name == key)

    def recommend_threshold_adjustment(self, name: str) -> bool:
        """True when the evidence supports a value other than the configured one."""
        return bool(self._advice(name).change)

    def get_recommended_threshold(self, name: str) -> float | int | None:
        advice = self._advice(name)
        return advice.recommended if advice.recommended is not None else advice.current

    def analysis_due(self) -> bool:
        """True when `learning.analysisInterval` seconds have passed since the last summary."""
        last = sql.last_analysis_run(self.collector.store)
        if last is None:
            return True
        then = datetime.fromisoformat(last.replace("Z", "+00:00"))
        elapsed = (datetime.now(timezone.utc) - then).total_seconds()
        return elapsed >= self._config().learning.analysis_interval

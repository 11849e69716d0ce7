"""Failures reported by hand (seed 002): mistakes no log shows, such as a wrong plan.

Invariants: the type is one of FAILURE_TYPES; description, context and task are redacted before
they are stored; a report is never changed afterwards except for `handled_at`, which whatever
learns from it (the teacher loop) sets through `forewarn.store.analytics`.
"""

from __future__ import annotations

from forewarn.analyze.redact import redact
from forewarn.errors import ForewarnError
from forewarn.store import Store
from forewarn.store import analytics as sql
from forewarn.store.analytics import ReportedFailure

FAILURE_TYPES = ("planning_error", "integration_error", "workflow_error", "architecture_error", "scope_error",
                 "config_error", "other")
TEXT_MAX = 4000


def _clean(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    return redact(text.strip())[:TEXT_MAX]


def report_failure(store: Store, *, failure_type: str, description: str, context: str | None = None,
                   task: str | None = None, project: str | None = None, agent: str | None = None,
                   source: str = "manual", ts: str | None = None) -> ReportedFailure:
    """Store one report and return it as stored."""
    if failure_type not in FAILURE_TYPES:
        raise ForewarnError(f"unknown failure type {failure_type!r}: use one of {', '.join(FAILURE_TYPES)}")
    text = _clean(description)
    if text is None:
        raise ForewarnError("a failure report needs a description")
    from forewarn.insights.api import now_iso

    new_id = sql.add_reported_failure(store, ts=ts or now_iso(), failure_type=failure_type, description=text,
                                      context=_clean(context), task=_clean(task), project=project, agent=agent,
                                      source=source)
    stored = sql.reported_failure(store, new_id)
    assert stored is not None  # just inserted, in the same connection
    return stored

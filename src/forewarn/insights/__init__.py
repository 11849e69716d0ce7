"""Analytics and insights: success rates, failure patterns, lesson effectiveness, reports.

Modules, in the order data flows through them:
- `stats`: windows, success rates by dimension, Wilson intervals, waste, weekly trends;
- `patterns`: signature clusters, temporal patterns, context correlation, plain-language insights;
- `sources` and `lesson_effect`: lesson stores and the hook's injection log; recurrence before and
  after each lesson, archiving flags, adaptive confidence/priority thresholds;
- `report`: everything above for one window, and its Markdown rendering; `render_html`: the
  same as one self-contained HTML page (charts from `svg`); `text`: shared formatting;
- `manual`: failures reported by hand (`forewarn report-failure`);
- `api`: seed 001's `OperationTracker`, `AnalyticsCollector` and `InsightsGenerator`.

The package touches the database only through `forewarn.store.analytics`; it never prints and never
imports click or rich.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from forewarn.insights.api import AnalyticsCollector, InsightsGenerator, OperationTracker

__all__ = ["AnalyticsCollector", "InsightsGenerator", "OperationTracker"]


def __getattr__(name: str) -> Any:
    # imported on first use, so `forewarn report-failure` and friends need not load the analytics
    if name in __all__:
        from forewarn.insights import api

        return getattr(api, name)
    raise AttributeError(f"module 'forewarn.insights' has no attribute {name!r}")

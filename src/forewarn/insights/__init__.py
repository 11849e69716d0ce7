"""Analytics and insights: success rates, failure patterns, lesson effectiveness, reports.

Modules, in the order data flows through them:
- `stats`: windows, success rates by dimension, Wilson intervals, waste, weekly trends;
- `patterns`: signature clusters, temporal patterns, context correlation, plain-language insights;
- `sources` and `lesson_effect`: lesson stores and the hook's injection log; recurrence before and
  after each lesson, archiving flags, adaptive confidence/priority thresholds;
- `report`: everything above for one window, rendered as Markdown (`render_md`) or one
  self-contained HTML page (`render_html`, charts from `svg`);
- `api`: seed 001's `OperationTracker`, `AnalyticsCollector` and `InsightsGenerator`.

The library only reads the store through `forewarn.store.analytics`; it never prints and never
imports click or rich.
"""

from __future__ import annotations

from forewarn.insights.api import AnalyticsCollector, InsightsGenerator, OperationTracker

__all__ = ["AnalyticsCollector", "InsightsGenerator", "OperationTracker"]

"""`forewarn stats`: success rate over a window, by a dimension, with trends, waste and patterns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from forewarn.cli.context import Context, json_option, pass_context

F = TypeVar("F", bound=Callable[..., Any])
DIMENSION_HELP = "tool, kind, project, agent, model, version, family, command, hour, weekday, position, compaction"


def window_options(default_days: int) -> Callable[[F], F]:
    """--days/--all/--now/--project/--agent, shared by stats, report and dashboard."""
    def wrap(f: F) -> F:
        f = click.option("--agent", help="Only this agent's outcomes (claude, codex, gemini, api…).")(f)
        f = click.option("--project", help="Only this project (and the directories under it).")(f)
        f = click.option("--now", "now", metavar="WHEN",
                         help="End windows here (YYYY-MM-DD or ISO time; 'clock' for the wall clock). "
                              "Default: the newest recorded outcome.")(f)
        f = click.option("--all", "all_history", is_flag=True, help="The whole history instead of --days.")(f)
        f = click.option("--days", type=click.IntRange(min=1), default=default_days, show_default=True,
                         help="Window length in days.")(f)
        return f
    return wrap


@click.command("stats")
@window_options(7)
@click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True,
              help="Shift the window this many days back (--days 7 --offset 7: the week before last).")
@click.option("--weeks", type=click.IntRange(min=1), help="Add a week-by-week trend of this many weeks.")
@click.option("--by", "by", metavar="DIM", help=f"Break down by: {DIMENSION_HELP}.")
@click.option("--patterns", is_flag=True, help="Add failure clusters and insights.")
@click.option("--lessons", is_flag=True, help="Add lesson effectiveness (before/after, injected/not).")
@json_option
@pass_context
def command(ctx: Context, days: int, all_history: bool, now: str | None, project: str | None, agent: str | None,
            offset: int, weeks: int | None, by: str | None, patterns: bool, lessons: bool, as_json: bool) -> None:
    """Success rate of tool calls (and tracked operations) over a time window.

    Every rate comes with its sample size and a Wilson 95% interval; --by marks groups whose
    failure rate differs significantly from the window's overall rate. Wasted bytes count failed
    calls, their repeats before a fix, and identical re-fetches; tokens are estimated at 4 bytes each.
    """
    from forewarn.insights.stats import compute_stats
    from forewarn.store import analytics as sql

    store = ctx.store()
    span = None if all_history else days
    stats = compute_stats(store, days=span, offset=offset, now=now, by=by, weeks=weeks, project=project, agent=agent)
    found = None
    lesson_report = None
    if patterns:
        from forewarn.insights.patterns import find_patterns
        from forewarn.insights.stats import prime_command_families

        w = stats.window
        events = sql.events(store, w.since, w.until, project=project, agent=agent)
        prime_command_families(store, events)
        found = find_patterns(events, w, stats.min_samples)
    if lessons:
        from forewarn.insights.lesson_effect import lessons_report
        from forewarn.insights.stats import resolve_now

        lesson_report = lessons_report(store, now=resolve_now(store, now)[0])
    if as_json:
        from forewarn.cli.render import print_json
        from forewarn.insights.text import plain

        data: dict[str, Any] = {"stats": plain(stats)}
        if found is not None:
            data["patterns"] = plain(found)
        if lesson_report is not None:
            data["lessons"] = plain(lesson_report)
        print_json(data)
        return
    from forewarn.cli import insights_view as view
    from forewarn.cli.render import console

    out = console()
    view.print_stats(out, stats)
    if found is not None:
        view.print_patterns(out, found, limit=15)
    if lesson_report is not None:
        view.print_lessons(out, lesson_report)

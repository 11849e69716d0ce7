"""`forewarn dashboard`: the report's essentials in the terminal, with sparklines."""

from __future__ import annotations

import click

from forewarn.cli.commands.stats import window_options
from forewarn.cli.context import Context, json_option, pass_context


@click.command("dashboard")
@window_options(7)
@click.option("--weeks", type=click.IntRange(min=2), default=12, show_default=True, help="Weeks in the sparklines.")
@json_option
@pass_context
def command(ctx: Context, days: int, all_history: bool, now: str | None, project: str | None, agent: str | None,
            weeks: int, as_json: bool) -> None:
    """Current success rate, weekly trend, the tools that fail most, patterns, lessons, recommendations."""
    from forewarn.insights.report import build_report, dashboard_data

    report = build_report(ctx.store(), days=None if all_history else days, now=now, weeks=weeks,
                          project=project, agent=agent)
    data = dashboard_data(report)
    if as_json:
        from forewarn.cli.render import print_json

        print_json(data)
        return
    from forewarn.cli.insights_view import print_dashboard
    from forewarn.cli.render import console

    print_dashboard(console(), report)

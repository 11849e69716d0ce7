"""`forewarn report`: the window's analytics as Markdown or one self-contained HTML file."""

from __future__ import annotations

from pathlib import Path

import click

from forewarn.cli.commands.stats import window_options
from forewarn.cli.context import Context, json_option, pass_context


@click.command("report")
@window_options(30)
@click.option("--weeks", type=click.IntRange(min=1), default=8, show_default=True, help="Weeks in the trend.")
@click.option("--detailed", is_flag=True, help="Every row, plus hour/weekday/family/model/command breakdowns.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write here; .html/.htm gives the HTML report, anything else Markdown. Default: Markdown on stdout.")
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), help="Override the format the suffix implies.")
@json_option
@pass_context
def command(ctx: Context, days: int, all_history: bool, now: str | None, project: str | None, agent: str | None,
            weeks: int, detailed: bool, output: Path | None, fmt: str | None, as_json: bool) -> None:
    """Success rate, trend, failure patterns, insights, lessons and recommendations for a window.

    The HTML report is one file with inline CSS and SVG charts (failure-rate trend, per-tool
    failure rates, per-lesson before/after); it needs nothing else to open.
    """
    from forewarn.insights.report import build_report

    report = build_report(ctx.store(), days=None if all_history else days, now=now, detailed=detailed,
                          weeks=weeks, project=project, agent=agent)
    if as_json:
        from forewarn.cli.render import print_json
        from forewarn.insights.text import plain

        print_json(plain(report))
        return
    if fmt is None:
        fmt = "html" if output is not None and output.suffix.lower() in (".html", ".htm") else "md"
    if fmt == "html":
        from forewarn.insights.render_html import render_html

        text = render_html(report)
    else:
        from forewarn.insights.report import render_md

        text = render_md(report)
    if output is None:
        click.echo(text, nl=False)
        return
    from forewarn.errors import ForewarnError
    from forewarn.insights.report import write_text

    try:
        write_text(output, text)
    except OSError as exc:
        raise ForewarnError(f"cannot write {output}: {exc.strerror}") from None
    if not ctx.quiet:
        click.echo(f"Wrote {output} ({len(text.encode()) / 1024:.0f} KB, {fmt}).")

"""`forewarn teach`: learn rules from reported failures (`report-failure`, the pytest plugin)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from forewarn.cli.context import Context, json_option, pass_context


@click.command("teach")
@click.argument("ids", nargs=-1, type=int)
@click.option("--project", type=click.Path(file_okay=False, path_type=Path),
              help="Only failures reported for this project.")
@click.option("--limit", type=click.IntRange(1), help="Teach at most this many failures (groups).")
@click.option("--agent", "agents", multiple=True,
              help="Write rules for these agents' instruction files (default: detected per project).")
@click.option("--teacher", help="Teacher backend (overrides teacher.backend in config).")
@click.option("--dry-run", is_flag=True, help="Print exactly what would be sent; send and change nothing.")
@json_option
@pass_context
def command(ctx: Context, ids: tuple[int, ...], project: Path | None, limit: int | None, agents: tuple[str, ...],
            teacher: str | None, dry_run: bool, as_json: bool) -> None:
    """Ask the teacher for a preventive rule for each unhandled reported failure (or the given IDS).

    Manual reports (`forewarn report-failure`) are taught one by one, with the prompt of their
    failure type; the failing tests of one pytest run (recorded with `pytest --forewarn-record`)
    are taught together, with the project's uncommitted diff. Rules become project lessons and
    bullets in the instruction files, and the reports are marked handled.
    """
    from forewarn.teach.base import teacher_for
    from forewarn.teach.reported import teach_reported

    chosen = teacher_for(teacher, dry_run=dry_run)
    root = project.expanduser().resolve() if project is not None else None
    result = teach_reported(ctx.store(), chosen, project=root, ids=ids, limit=limit, dry_run=dry_run,
                            agents=list(agents) or None)
    if as_json or dry_run:
        from forewarn.cli.render import print_json

        print_json(result.as_json() if as_json else [g.payload for g in result.groups])
        return
    _summary(ctx, result)


def _summary(ctx: Context, result: Any) -> None:
    if not result.groups:
        click.echo("Nothing to teach: no unhandled reported failures.")
        return
    for group in result.groups:
        ids = ", ".join(f"#{i}" for i in group.ids)
        if group.error:
            click.echo(f"{ids}: no rule: {group.error}")
            continue
        recorded = group.recorded
        click.echo(f"{ids}: {recorded.rule.markdown()}")
        if recorded.lesson is not None:
            click.echo(f"  lesson {recorded.lesson.slug}; wrote {', '.join(map(str, recorded.written)) or 'nothing'}")
    if not ctx.quiet:
        for warning in result.warnings:
            click.echo(f"warning: {warning}", err=True)

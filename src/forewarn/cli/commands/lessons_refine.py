"""`forewarn lessons refine`: the teacher cleans lessons waiting for review (seed 003 §12)."""

from __future__ import annotations

import click

from forewarn.cli.context import Context, json_option, pass_context


@click.command("refine")
@click.option("--dry-run", is_flag=True, help="Print exactly the payloads that would be sent; send nothing.")
@click.option("--limit", type=click.IntRange(1), help="Refine at most this many lessons.")
@click.option("--again", is_flag=True, help="Include lessons the teacher already refined.")
@click.option("--project", "project", type=click.Path(file_okay=False), help="Also read this project's store.")
@click.option("--teacher", help="Teacher backend (overrides teacher.backend in config).")
@json_option
@pass_context
def refine(ctx: Context, dry_run: bool, limit: int | None, again: bool, project: str | None, teacher: str | None,
           as_json: bool) -> None:
    """Send lessons waiting for review, with their evidence, to the teacher for cleaner text and
    tighter triggers.

    Everything sent is redacted first. An answer is stored only if its triggers still fire on
    the failing calls of the evidence and not on their fixes; refined lessons still wait for
    `forewarn lessons approve`.
    """
    from pathlib import Path

    from forewarn.lessons.store import find_project_root
    from forewarn.teach.base import teacher_for
    from forewarn.teach.refine import refine_lessons

    chosen = teacher_for(teacher, dry_run=dry_run)
    roots = (find_project_root(Path(project) if project else None),)
    result = refine_lessons(chosen, extra_roots=roots, limit=limit, dry_run=dry_run, include_refined=again)
    from forewarn.cli.render import print_json

    if as_json:
        print_json(result.as_json())
        return
    if dry_run:
        print_json([item.payload for item in result.items])
        return
    if not result.items:
        click.echo("Nothing to refine: no lessons are waiting for review.")
        return
    for item in result.items:
        if item.error:
            click.echo(f"{item.original.lesson.slug}: unchanged: {item.error}")
        elif item.refined is not None:
            click.echo(f"{item.original.lesson.slug}: refined: {item.refined.summary}")
    if not ctx.quiet:
        for warning in result.warnings:
            click.echo(f"warning: {warning}", err=True)

"""`forewarn report-failure`: record a failure that no log shows (seed 002's manual reports)."""

from __future__ import annotations

from pathlib import Path

import click

from forewarn.cli.context import Context, json_option, pass_context
from forewarn.insights.manual import FAILURE_TYPES


@click.command("report-failure")
@click.option("--failure-type", "failure_type", type=click.Choice(FAILURE_TYPES), required=True,
              help="What kind of mistake it was.")
@click.option("--description", required=True, help="What went wrong.")
@click.option("--context", "context_text", help="What should have been done instead, or why it happened.")
@click.option("--task", help="The task the agent was working on.")
@click.option("--project", type=click.Path(file_okay=False, path_type=Path),
              help="Project it happened in (default: the current directory).")
@click.option("--agent", help="Agent that made the mistake (claude, codex, gemini…).")
@json_option
@pass_context
def command(ctx: Context, failure_type: str, description: str, context_text: str | None, task: str | None,
            project: Path | None, agent: str | None, as_json: bool) -> None:
    """Report a planning, integration, workflow, architecture, scope or config mistake by hand.

    It is stored with the scanned failures (secrets redacted), counted in `forewarn stats` and
    reports, and kept for the teacher loop to turn into a rule.
    """
    from forewarn.insights.manual import report_failure

    root = (project or Path.cwd()).expanduser().resolve()
    record = report_failure(ctx.store(), failure_type=failure_type, description=description, context=context_text,
                            task=task, project=str(root), agent=agent)
    if as_json:
        from forewarn.cli.render import print_json
        from forewarn.insights.text import plain

        print_json(plain(record))
        return
    if not ctx.quiet:
        click.echo(f"Recorded {record.failure_type} #{record.id} for {record.project}.")

"""`forewarn doctor`: check the hook end to end (installed, manifest, index, a live probe, retention)."""

from __future__ import annotations

from pathlib import Path

import click

from forewarn.cli.context import Context, json_option, pass_context

_MARKS = {"ok": "ok", "warn": "WARN", "fail": "FAIL", "info": "info"}


def _scan_times(ctx: Context) -> object:
    """file -> last scan time, from the store when there is one (never creates a database)."""
    from forewarn.paths import default_db_path

    db = Path(ctx.db_path).expanduser() if ctx.db_path else default_db_path()
    if not db.exists():
        return None
    try:
        hint = ctx.store().oldest_unscanned_hint()
    except Exception:  # an unreadable or older store: retention then counts everything unscanned
        return None
    return lambda path: hint[str(path)] / 1e9 if str(path) in hint else None


@click.command("doctor")
@click.option(
    "--project-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Project whose .claude/.codex/.gemini settings to check (default: current directory).",
)
@click.option("--no-probe", is_flag=True, help="Do not run the installed hook commands.")
@json_option
@pass_context
def command(ctx: Context, project_dir: Path | None, no_probe: bool, as_json: bool) -> None:
    """Check that agents run forewarn's hook, that it has fresh lessons, answers valid JSON in
    time, and that transcripts get scanned before Claude Code's cleanup deletes them.

    Exits 1 when a check fails.
    """
    from forewarn.hook.doctor import diagnose

    report = diagnose(project_dir=project_dir, scanned_at=_scan_times(ctx), probe=not no_probe)  # type: ignore[arg-type]
    if as_json:
        from forewarn.cli.render import print_json

        print_json(report.to_dict())
    elif not ctx.quiet or not report.ok:
        from forewarn.cli.render import console, table

        rows = [(c.name, _MARKS.get(c.status, c.status), c.detail) for c in report.checks]
        console().print(table(None, ["check", "status", "detail"], rows))
    if not report.ok:
        raise click.exceptions.Exit(1)

"""`forewarn scan [PATH…]`: read session logs into the store; `--json` prints one failure per line."""

from __future__ import annotations

from pathlib import Path

import click

from forewarn.cli.context import Context, json_option, pass_context
from forewarn.cli.progress import progress_bar
from forewarn.readers import get_reader
from forewarn.scan import discover, scan


def failure_record(f: object) -> dict[str, object]:
    """The documented JSON Lines shape of `forewarn scan --json` (see docs/scan-json.md)."""
    from forewarn.analyze.findings import Failure

    assert isinstance(f, Failure)
    return {
        "file": f.file,
        "call_id": f.call_id,
        "tool": f.tool,
        "kind": f.kind,
        "fix_call_id": f.fix_call_id,
        "signature": f.signature,
        "agent": f.agent,
        "session_id": f.session_id,
        "project": f.project,
        "timestamp": f.timestamp,
        "input": f.input_text,
        "error": f.error,
        "exit_code": f.exit_code,
        "fix_input": f.fix_input_text,
        "fix_reason": f.fix_reason,
        "user_corrected": f.user_corrected,
        "repeats": f.repeats,
        "wasted_bytes": f.wasted_bytes,
    }


@click.command("scan")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--agent", "agents", multiple=True, help="Only these agents (claude, codex, gemini…).")
@click.option("--claude-dir", type=click.Path(path_type=Path), help="Claude Code config dir (default ~/.claude or $CLAUDE_CONFIG_DIR).")
@json_option
@pass_context
def command(ctx: Context, paths: tuple[Path, ...], agents: tuple[str, ...], claude_dir: Path | None, as_json: bool) -> None:
    """Read agents' session logs and record every failed tool call and its fix.

    With no PATH, scans every agent's default history (~/.claude/projects, $CODEX_HOME/sessions,
    ~/.gemini/tmp). A PATH may be a session file, an agent's config dir, or any folder. Only new
    bytes are read on later runs.

    With --json, prints JSON Lines: one object per failed tool call in the scanned files, with
    at least file, call_id, tool, kind, fix_call_id (null if none) and signature.
    """
    for name in agents:
        get_reader(name)  # a helpful error for an unknown agent name
    if claude_dir is not None:
        if not claude_dir.exists():
            from forewarn.errors import ForewarnError

            raise ForewarnError(f"no such directory: {claude_dir}")
        paths = (*paths, claude_dir)
    targets = discover(list(paths) or None, list(agents) or None)
    if not targets and not paths and not as_json:
        from forewarn.readers import registry

        wanted = [r for name, r in registry().items() if not agents or name in agents]
        looked = ", ".join(str(root) for r in wanted for root in r.default_roots())
        click.echo(f"No session logs found (looked in {looked}). Pass a PATH, or --claude-dir DIR.", err=True)
    store = ctx.store()
    show_bar = not (as_json or ctx.quiet) and len(targets) > 20
    with progress_bar("Scanning", len(targets), enabled=show_bar) as advance:
        report = scan(store, targets, progress=advance)
    if as_json:
        from forewarn.cli.render import print_jsonl

        files = [str(p) for p, _ in targets]
        print_jsonl(failure_record(f) for f in store.failures(files=files))
        return
    if ctx.quiet:
        return
    from forewarn.cli.render import console

    out = console()
    out.print(
        f"Scanned {report.files_read} of {report.files_seen} session files "
        f"({report.bytes_read / 1e6:.1f} MB in {report.seconds:.2f}s, {report.files_unchanged} unchanged): "
        f"{report.calls} tool calls, {report.failures} failures, {report.fixed} paired with a fix."
    )
    if report.bad_lines or report.unknown_records:
        out.print(f"Skipped {report.bad_lines} unreadable lines and {report.unknown_records} unknown records.")
    for path, message in report.errors[: 10 if ctx.verbose else 3]:
        out.print(f"[yellow]skipped[/] {path}: {message}")
    if len(report.errors) > 3 and not ctx.verbose:
        out.print(f"… and {len(report.errors) - 3} more unreadable files (-v to list)")

"""`forewarn learn`: write what the history teaches into the agents' instruction files."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from forewarn.cli.context import Context, json_option, pass_context


@click.command("learn")
@click.option("--project", "project", type=click.Path(path_type=Path), help="Project directory (default: the current directory).")
@click.option("--all", "all_projects", is_flag=True, help="Every project seen in the history.")
@click.option("--apply", is_flag=True, help="Write the changes (default: show them as a diff).")
@click.option("--agent", "agents", multiple=True, help="Write for these agents (claude, codex, gemini, cursor, copilot, opencode). Default: detected.")
@click.option("--target", type=click.Path(path_type=Path), help="Write every learning into this one file instead.")
@click.option("--claude-dir", type=click.Path(path_type=Path), help="Claude Code config dir (default ~/.claude or $CLAUDE_CONFIG_DIR).")
@click.option("--retire", "retire_keys", multiple=True, metavar="KEY",
              help="Remove the learning with this key (the fw:KEY in the file) and never write it again.")
@click.option("--no-scan", is_flag=True, help="Use what is already in the store; do not read new history first.")
@click.option("--demo", is_flag=True, help="Run on a built-in example history in a temporary directory.")
@json_option
@pass_context
def command(ctx: Context, project: Path | None, all_projects: bool, apply: bool, agents: tuple[str, ...],
            target: Path | None, claude_dir: Path | None, retire_keys: tuple[str, ...], no_scan: bool, demo: bool,
            as_json: bool) -> None:
    """Turn recurring failure→fix pairs into specific learnings in CLAUDE.md & co.

    Dry-run by default: shows the change as a diff. Learnings live between
    <!-- forewarn:start --> and <!-- forewarn:end -->; nothing outside the markers is touched.
    Stable team facts go to CLAUDE.md, personal ones to CLAUDE.local.md, volatile ones to the
    project's auto-memory MEMORY.md.
    """
    from forewarn.errors import ForewarnError

    if project is not None and all_projects:
        raise ForewarnError("use either --project or --all, not both")
    if demo:
        with tempfile.TemporaryDirectory(prefix="forewarn-demo-") as tmp:
            _demo(ctx, Path(tmp), apply, as_json)
        return
    from forewarn.learn import known_projects, learn
    from forewarn.paths import claude_config_dir
    from forewarn.scan import discover, scan

    store = ctx.store()
    config = claude_config_dir(claude_dir)
    if claude_dir is not None and not config.is_dir():
        raise ForewarnError(f"no such directory: {claude_dir}")
    if not no_scan:
        roots = [config] if claude_dir is not None else None
        scan(store, discover(roots))
    if all_projects:
        projects = known_projects(store)
    else:
        root = (project or Path.cwd()).expanduser()
        if not root.is_dir():
            raise ForewarnError(f"no such directory: {project}")
        projects = [str(root.resolve())]
    results = learn(store, projects, agents=list(agents) or None, target=str(target) if target else None,
                    config_dirs={"claude": str(config)}, retire_keys=retire_keys, apply=apply)
    _render(ctx, results, apply, as_json)


def _demo(ctx: Context, tmp: Path, apply: bool, as_json: bool) -> None:
    from forewarn import demo

    project, config = demo.build(tmp)
    # everything the demo stores (lessons, manifest) stays in the temporary directory
    previous = os.environ.get("FOREWARN_HOME")
    os.environ["FOREWARN_HOME"] = str(tmp / "forewarn-home")
    try:
        _demo_run(ctx, tmp, project, config, apply, as_json)
    finally:
        if previous is None:
            os.environ.pop("FOREWARN_HOME", None)
        else:
            os.environ["FOREWARN_HOME"] = previous


def _demo_run(ctx: Context, tmp: Path, project: Path, config: Path, apply: bool, as_json: bool) -> None:
    from forewarn.learn import learn
    from forewarn.scan import discover, scan
    from forewarn.store import Store

    store = Store.memory()
    report = scan(store, discover([config]))
    results = learn(store, [str(project)], agents=["claude"], config_dirs={"claude": str(config)}, apply=apply)
    if not (as_json or ctx.quiet):
        click.echo(f"Demo history: {report.files_read} sessions, {report.calls} tool calls, "
                   f"{report.failures} failures, {report.fixed} paired with their fix.\n")
    _render(ctx, results, apply, as_json)
    if apply and not as_json:
        for r in results:
            for path in r.written:
                click.echo(f"\n--- {os.path.relpath(path, tmp)} after --apply ---")
                click.echo(Path(path).read_text(encoding="utf-8"))


def _render(ctx: Context, results: list, apply: bool, as_json: bool) -> None:
    if as_json:
        from forewarn.cli.render import print_json

        print_json([{
            "project": r.project,
            "findings": len(r.findings),
            "learnings": [{"category": e.category, "key": e.key, "text": e.text, "route": e.route} for e in r.entries],
            "files": [{"path": str(p.path), "action": p.action, "changed": p.changed} for p in r.plans],
            "written": [str(p) for p in r.written],
            "lessons": {"candidates": len(r.lessons), "added": r.lessons_added, "merged": r.lessons_merged},
            "applied": apply,
        } for r in results])
        return
    if ctx.quiet and not apply:
        for r in results:
            for p in r.plans:
                if p.changed:
                    click.echo(p.diff(), nl=False)
        return
    for r in results:
        changed = [p for p in r.plans if p.changed]
        click.echo(f"{r.project}: {len(r.findings)} failure patterns, {len(r.entries)} learnings, "
                   f"{len(changed)} file{'s' if len(changed) != 1 else ''} to {'update' if not apply else 'updated'}")
        if not apply:
            for p in changed:
                click.echo(p.diff(), nl=False)
            if r.lessons:
                click.echo(f"{len(r.lessons)} hook lesson candidate{'s' if len(r.lessons) != 1 else ''} "
                           "would be stored (see `forewarn lessons` after --apply).")
        else:
            for path in r.written:
                click.echo(f"  wrote {path}")
            if r.lessons:
                click.echo(f"  lessons: {r.lessons_added} added, {r.lessons_merged} merged with existing ones")
    if not apply and any(p.changed for r in results for p in r.plans):
        click.echo("\nDry run: nothing was written. Run again with --apply to write these changes.")

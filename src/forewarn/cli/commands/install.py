"""`forewarn install AGENT` / `forewarn uninstall AGENT`: register forewarn's hooks with an agent.

Thin shells over `forewarn.hook.install`; `uninstall` lives in `uninstall.py` as its own command
module (the CLI imports one module per command) and reuses the renderer here.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from forewarn.cli.context import Context, json_option, pass_context

AGENT_CHOICE = click.Choice(["claude", "codex", "gemini"])


F = TypeVar("F", bound=Callable[..., Any])


def scope_options(func: F) -> F:
    """--user / --project / --local (one scope flag, --user by default), --project-dir, --dry-run."""
    decorators = (
        click.option(
            "--user",
            "scope",
            flag_value="user",
            default=True,
            help="The user's settings (all projects; default).",
        ),
        click.option(
            "--project",
            "scope",
            flag_value="project",
            help="The project's shared settings (.claude/settings.json, .codex/hooks.json, .gemini/settings.json).",
        ),
        click.option(
            "--local",
            "scope",
            flag_value="local",
            help="Claude Code only: .claude/settings.local.json (personal, not committed).",
        ),
        click.option(
            "--project-dir",
            type=click.Path(file_okay=False, path_type=Path),
            help="Project root for --project/--local (default: the current directory).",
        ),
        click.option("--dry-run", is_flag=True, help="Show what would change, write nothing."),
    )
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def render(result: object, as_json: bool, quiet: bool) -> None:
    from forewarn.hook.install import InstallResult

    assert isinstance(result, InstallResult)
    if as_json:
        from forewarn.cli.render import print_json

        print_json(result)
        return
    if quiet:
        return
    if not result.changed:
        verb = "already installed in" if result.action == "installed" else "no forewarn hook in"
        click.echo(f"forewarn: {result.agent} hooks {verb} {result.path}")
    elif result.action == "installed":
        click.echo(
            f"forewarn: installed {result.agent} hooks ({', '.join(result.events)}) in {result.path}"
        )
    else:
        click.echo(f"forewarn: removed {result.removed} {result.agent} hook(s) from {result.path}")
    if result.backup:
        click.echo(f"  previous version kept as {result.backup}")
    for note in result.notes:
        click.echo(f"  note: {note}")


@click.command("install")
@click.argument("agent", type=AGENT_CHOICE)
@scope_options
@click.option(
    "--python",
    "python",
    type=click.Path(dir_okay=False),
    help="Interpreter the hook runs with (default: the one running forewarn).",
)
@json_option
@pass_context
def command(
    ctx: Context,
    agent: str,
    scope: str,
    project_dir: Path | None,
    dry_run: bool,
    python: str | None,
    as_json: bool,
) -> None:
    """Make AGENT (claude, codex or gemini) run forewarn's hook before tool calls.

    Merges forewarn's entries into the agent's settings without touching any other hook or key;
    running it again changes nothing. The previous file is kept as <name>.forewarn.bak.
    """
    from forewarn.hook.index import MANIFEST_NAME, forewarn_home
    from forewarn.hook.install import install

    result = install(agent, scope, project_dir, python=python, dry_run=dry_run)
    if not dry_run and (Path(forewarn_home()) / MANIFEST_NAME).exists():
        from forewarn.hook.indexer import build_index

        build_index(forewarn_home())  # so the agent's first tool call does not pay for it
    render(result, as_json, ctx.quiet)


@click.command("uninstall")
@click.argument("agent", type=AGENT_CHOICE)
@scope_options
@json_option
@pass_context
def uninstall_command(
    ctx: Context, agent: str, scope: str, project_dir: Path | None, dry_run: bool, as_json: bool
) -> None:
    """Remove forewarn's hooks (and nothing else) from AGENT's settings."""
    from forewarn.hook.install import uninstall

    render(uninstall(agent, scope, project_dir, dry_run=dry_run), as_json, ctx.quiet)

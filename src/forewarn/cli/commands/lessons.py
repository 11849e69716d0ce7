"""`forewarn lessons`: list, show, add, edit, review and trust the lessons the hook delivers.

A thin shell over `forewarn.lessons.ops`: each subcommand parses its options, calls one library
function and renders the result (rich text, or JSON with --json). Lesson references may be a
ULID, a slug, or a unique prefix of either; the current project's store is always searched, as
are the global store and every project forewarn knows.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from forewarn.cli.context import Context, json_option, pass_context

REVIEW_EVIDENCE = 3  # evidence pairs shown per lesson in `review`


def _roots(project: str | None = None) -> tuple[Path, ...]:
    from forewarn.lessons.store import find_project_root

    return (find_project_root(Path(project) if project else None),)


def _warn(ctx: Context, warnings: list[str]) -> None:
    if ctx.quiet or not warnings:
        return
    from forewarn.cli.render import console

    err = console(stderr=True)
    for warning in warnings:
        err.print(f"[yellow]warning:[/] {warning}", markup=True, highlight=False)


def _outcome_json(outcome: Any) -> dict[str, Any]:
    manifest = outcome.manifest
    return {
        "lessons": [x.as_json() for x in outcome.lessons],
        "added": outcome.added,
        "merged": outcome.merged,
        "warnings": outcome.warnings,
        "manifest": None if manifest is None else {"path": str(manifest.path), "lessons": manifest.count},
    }


def _report(ctx: Context, outcome: Any, as_json: bool, verb: str) -> None:
    if as_json:
        from forewarn.cli.render import print_json

        print_json(_outcome_json(outcome))
        return
    _warn(ctx, outcome.warnings)
    if ctx.quiet:
        return
    for x in outcome.lessons:
        click.echo(f"{verb} {x.lesson.slug} ({x.lesson.id}, {x.scope})")
    if outcome.manifest is not None:
        click.echo(f"manifest: {outcome.manifest.count} lesson(s) in {outcome.manifest.path}")


def _state(lesson: Any) -> str:
    if lesson.status != "active":
        return lesson.status
    return "review" if lesson.needs_review else "active"


@click.group("lessons")
def command() -> None:
    """Lessons the hook injects: the global store ($FOREWARN_HOME/lessons.json) and project
    stores (<repo>/.forewarn/lessons.json, used only once trusted)."""


@command.command("list")
@click.option("--all", "include_all", is_flag=True, help="Include archived and rejected lessons.")
@click.option("--status", type=click.Choice(["active", "archived", "rejected"]), help="Only this status.")
@click.option("--scope", type=click.Choice(["global", "project"]), help="Only this scope.")
@click.option("--tag", help="Only lessons with this tag (category:value).")
@click.option("--review", "review_only", is_flag=True, help="Only lessons waiting for review.")
@click.option("--project", "project", type=click.Path(file_okay=False), help="Also read this project's store.")
@json_option
@pass_context
def list_(ctx: Context, include_all: bool, status: str | None, scope: str | None, tag: str | None,
          review_only: bool, project: str | None, as_json: bool) -> None:
    """List lessons (active ones unless --all or --status)."""
    from forewarn.lessons.ops import list_lessons

    found, warnings = list_lessons(extra_roots=_roots(project), status=status, scope=scope, tag=tag,
                                   needs_review=True if review_only else None, include_inactive=include_all)
    if as_json:
        from forewarn.cli.render import print_json

        print_json({"lessons": [x.as_json() for x in found], "warnings": warnings})
        return
    _warn(ctx, warnings)
    from rich.table import Table

    from forewarn.cli.render import console

    out = console()
    if not found:
        out.print("no lessons")
        return
    # the slug is what people type: never wrap it; the summary takes what is left
    t = Table(show_edge=False, header_style="bold")
    t.add_column("slug", no_wrap=True)
    for name in ("scope", "pri", "conf", "state"):
        t.add_column(name, no_wrap=True)
    t.add_column("summary", overflow="fold", ratio=1)
    for x in found:
        state = _state(x.lesson) + ("/block" if x.lesson.action == "block" else "")
        t.add_row(x.lesson.slug, x.scope, str(x.lesson.priority), f"{x.lesson.confidence:.2f}", state,
                  x.lesson.summary)
    out.print(t)


@command.command("show")
@click.argument("ref")
@json_option
def show(ref: str, as_json: bool) -> None:
    """Show one lesson in full."""
    from forewarn.lessons.ops import find

    found = find(ref, extra_roots=_roots())
    if as_json:
        from forewarn.cli.render import print_json

        print_json(found.as_json())
        return
    _print_lesson(found, evidence=REVIEW_EVIDENCE)


def _print_lesson(found: Any, evidence: int) -> None:
    lesson = found.lesson
    t = lesson.triggers
    lines = [
        f"[bold]{lesson.summary}[/]",
        f"id {lesson.id}  slug {lesson.slug}  {found.scope}{' ' + str(found.root) if found.root else ''}",
        f"priority {lesson.priority}  confidence {lesson.confidence:.2f}  {_state(lesson)}  action {lesson.action}"
        f"  source {lesson.provenance.source}  seen {lesson.provenance.occurrence_count}x",
    ]
    for label, value in (("mistake", lesson.mistake), ("fix", lesson.remediation), ("tools", ", ".join(t.tool_names)),
                         ("commands", "  ".join(t.command_patterns)), ("paths", "  ".join(t.path_patterns)),
                         ("tags", ", ".join(lesson.tags)), ("signature", lesson.signature or "")):
        if value:
            lines.append(f"[dim]{label}:[/] {value}")
    lines.append("[dim]injection:[/] " + lesson.injection.replace("\n", " / "))
    for ev in lesson.provenance.evidence[-evidence:] if evidence else ():
        lines.append(f"[dim]evidence[/] {ev.file} {ev.call_id}")
        for label, value in (("failed", ev.failing), ("error", ev.error), ("fixed by", ev.fix)):
            if value:
                lines.append(f"    {label}: {' '.join(value.split())[:200]}")
    from forewarn.cli.render import console

    out = console()
    for line in lines:
        out.print(line, markup=True, highlight=False)


@command.command("add")
@click.option("--summary", required=True, help="One line (about 100 chars): what to know.")
@click.option("--remediation", "--fix", "remediation", required=True, help="The concrete fix.")
@click.option("--mistake", default="", help="What goes wrong, and why.")
@click.option("--tool", "tools", multiple=True, help="Tool name (Bash, Read, exec_command…); repeatable.")
@click.option("--command-pattern", "command_patterns", multiple=True, help="Regex over shell commands; repeatable.")
@click.option("--path-pattern", "path_patterns", multiple=True, help="Glob over file paths (re: for a regex); repeatable.")
@click.option("--tag", "tags", multiple=True, help="category:value, e.g. tool:pytest; repeatable.")
@click.option("--priority", type=click.IntRange(1, 10), default=7, show_default=True)
@click.option("--confidence", type=click.FloatRange(0, 1), default=0.9, show_default=True)
@click.option("--action", type=click.Choice(["warn", "block"]), default="warn", show_default=True,
              help="block denies the matching call with the fix as reason.")
@click.option("--project/--global", "project_scope", default=False,
              help="Store in the current project's .forewarn/lessons.json (default: global).")
@click.option("--root", type=click.Path(file_okay=False), help="The project directory (default: the current repo).")
@json_option
@pass_context
def add(ctx: Context, summary: str, remediation: str, mistake: str, tools: tuple[str, ...],
        command_patterns: tuple[str, ...], path_patterns: tuple[str, ...], tags: tuple[str, ...],
        priority: int, confidence: float, action: str, project_scope: bool, root: str | None,
        as_json: bool) -> None:
    """Add a lesson by hand (merged into an existing one if it is the same)."""
    from forewarn.errors import ForewarnError
    from forewarn.lessons.ops import add_lessons, new_manual_lesson

    if not (command_patterns or path_patterns):
        raise ForewarnError("give at least one --command-pattern or --path-pattern: a lesson without a "
                            "trigger is never injected")
    lesson = new_manual_lesson(summary, remediation, mistake=mistake, tools=tools,
                               command_patterns=command_patterns, path_patterns=path_patterns, tags=tags,
                               priority=priority, confidence=confidence, action=action,
                               scope="project" if project_scope else "global")
    outcome = add_lessons([lesson], project_root=_roots(root)[0] if project_scope else None)
    _report(ctx, outcome, as_json, "merged into" if outcome.merged else "added")


@command.command("edit")
@click.argument("ref")
@click.option("--set", "settings", multiple=True, metavar="FIELD=VALUE",
              help="Change a field (FIELD+=VALUE / FIELD-=VALUE for lists); repeatable. "
                   "Without --set, $EDITOR opens the lesson's JSON.")
@json_option
@pass_context
def edit(ctx: Context, ref: str, settings: tuple[str, ...], as_json: bool) -> None:
    """Change a lesson: --set fields, or edit its JSON in $EDITOR."""
    from forewarn.errors import ForewarnError
    from forewarn.lessons.ops import find, replace_lesson, update_lesson

    if settings:
        outcome = update_lesson(ref, list(settings), extra_roots=_roots())
    else:
        found = find(ref, extra_roots=_roots())
        from forewarn.lessons.schema import to_json

        original = json.dumps(to_json(found.lesson), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        edited = click.edit(original, extension=".json")
        if edited is None or edited.strip() == original.strip():
            if not ctx.quiet:
                click.echo("no change")
            return
        try:
            data = json.loads(edited)
        except ValueError as err:
            raise ForewarnError(f"the edited lesson is not valid JSON ({err}); nothing changed") from None
        outcome = replace_lesson(found.lesson.id, data, extra_roots=_roots())
    _report(ctx, outcome, as_json, "updated")


def _status_command(name: str, verb: str, help_text: str) -> None:
    @command.command(name, help=help_text)
    @click.argument("refs", nargs=-1, required=True)
    @json_option
    @pass_context
    def run(ctx: Context, refs: tuple[str, ...], as_json: bool) -> None:
        from forewarn.lessons import ops

        outcome = getattr(ops, name)(list(refs), extra_roots=_roots())
        _report(ctx, outcome, as_json, verb)


_status_command("approve", "approved", "Approve lessons: no longer pending review, injected from now on.")
_status_command("reject", "rejected", "Reject lessons: never injected, and re-detection does not revive them.")
_status_command("archive", "archived", "Archive lessons: kept for the record, no longer injected.")


@command.command("import")
@click.argument("file", type=click.Path(dir_okay=False, exists=True))
@click.option("--project/--global", "project_scope", default=False, help="Import into the current project's store.")
@click.option("--root", type=click.Path(file_okay=False), help="The project directory (default: the current repo).")
@json_option
@pass_context
def import_(ctx: Context, file: str, project_scope: bool, root: str | None, as_json: bool) -> None:
    """Import lessons from FILE (forewarn's format, or seed 003's lessons-learned-store)."""
    from forewarn.lessons.ops import import_lessons

    outcome = import_lessons(Path(file), project_root=_roots(root)[0] if project_scope else None)
    if as_json:
        _report(ctx, outcome, True, "")
        return
    _warn(ctx, outcome.warnings)
    if not ctx.quiet:
        click.echo(f"imported {outcome.added} new lesson(s), merged {outcome.merged}")


@command.command("export")
@click.option("--scope", type=click.Choice(["global", "project"]), help="Only this scope.")
@click.option("--all", "include_all", is_flag=True, help="Include archived and rejected lessons.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to this file instead of stdout.")
def export(scope: str | None, include_all: bool, output: str | None) -> None:
    """Export lessons as a forewarn lessons file (JSON)."""
    from forewarn.lessons.jsonfile import dumps, write_text_atomic
    from forewarn.lessons.ops import export_lessons

    data = export_lessons(extra_roots=_roots(), scope=scope, include_inactive=include_all)
    if output:
        write_text_atomic(Path(output), dumps(data))
    else:
        click.echo(dumps(data), nl=False)


@command.command("trust")
@click.option("--project", "project", type=click.Path(file_okay=False), help="The project (default: the current repo).")
@click.option("--revoke", is_flag=True, help="Stop trusting the project's lessons.")
@json_option
@pass_context
def trust(ctx: Context, project: str | None, revoke: bool, as_json: bool) -> None:
    """Allow a project's .forewarn/lessons.json into the manifest (until the file changes)."""
    from forewarn.lessons import ops
    from forewarn.lessons.trust import trust_status

    root = _roots(project)[0]
    outcome = ops.revoke(root) if revoke else ops.trust(root)
    status = trust_status(root)
    if as_json:
        from forewarn.cli.render import print_json

        print_json({"project": str(root), "status": status, **_outcome_json(outcome)})
        return
    _warn(ctx, outcome.warnings)
    if not ctx.quiet:
        click.echo(f"{root}: {status}")


@command.command("review")
@click.option("--approve-all-above", "threshold", type=click.FloatRange(0, 1), metavar="CONFIDENCE",
              help="Approve, without asking, every pending lesson at or above CONFIDENCE.")
@json_option
@pass_context
def review(ctx: Context, threshold: float | None, as_json: bool) -> None:
    """Walk the lessons waiting for review: approve, reject or skip each."""
    from forewarn.lessons import ops

    if threshold is not None:
        _report(ctx, ops.approve_above(threshold, extra_roots=_roots()), as_json, "approved")
        return
    pending = ops.pending_review(extra_roots=_roots())
    if as_json:
        from forewarn.cli.render import print_json

        print_json({"lessons": [x.as_json() for x in pending]})
        return
    if not pending:
        click.echo("nothing to review")
        return
    decisions: dict[str, list[str]] = {"approve": [], "reject": []}
    for i, found in enumerate(pending, 1):
        click.echo(f"\n[{i}/{len(pending)}]")
        _print_lesson(found, evidence=REVIEW_EVIDENCE)
        answer = click.prompt("approve, reject, skip or quit", type=click.Choice(["a", "r", "s", "q"]),
                              default="s", show_choices=True)
        if answer == "q":
            break
        if answer in ("a", "r"):
            decisions["approve" if answer == "a" else "reject"].append(found.lesson.id)
    for name, ids in decisions.items():
        if ids:
            _report(ctx, getattr(ops, name)(ids, extra_roots=_roots()), False, name + "d")


@command.command("manifest")
@json_option
@pass_context
def manifest(ctx: Context, as_json: bool) -> None:
    """Rebuild $FOREWARN_HOME/manifest.json from the stores (done after every change anyway)."""
    from forewarn.lessons.manifest import rebuild_manifest

    result = rebuild_manifest()
    if as_json:
        from forewarn.cli.render import print_json

        print_json({"path": str(result.path), "lessons": result.count, "excluded": result.excluded,
                    "sources": result.sources, "warnings": result.warnings})
        return
    _warn(ctx, result.warnings)
    if not ctx.quiet:
        click.echo(f"manifest: {result.count} lesson(s) in {result.path} "
                   f"({result.excluded} not eligible: pending review, inactive or below the floors)")


from forewarn.cli.commands.lessons_refine import refine as _refine  # noqa: E402 - the teacher's subcommand

command.add_command(_refine)

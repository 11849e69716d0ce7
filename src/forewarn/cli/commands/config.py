"""`forewarn config`: show, get, set and unset settings in $FOREWARN_HOME/config.json, and apply
the thresholds the lesson evidence recommends."""

from __future__ import annotations

import click

from forewarn.cli.context import Context, json_option, pass_context


@click.group("config")
def command() -> None:
    """Show or change forewarn's settings (one validated file: $FOREWARN_HOME/config.json).

    Keys are dotted: learning.minSamples, injection.minConfidence, scoring.multiSessionBonus,
    teacher.model… (snake_case and seed 003's bare names such as minConfidence work too).
    """


@command.command("show")
@json_option
def show(as_json: bool) -> None:
    """Every setting with its value, default, and whether config.json sets it."""
    from forewarn.config import describe, read_config

    cf = read_config()
    rows = describe()
    if as_json:
        from forewarn.cli.render import print_json
        from forewarn.lessons.schema import to_json

        print_json({"path": str(cf.path), "exists": cf.exists, "problems": list(cf.problems),
                    "config": to_json(cf.config), "settings": rows})
        return
    from forewarn.cli.render import console, table

    out = console()
    out.print(f"{cf.path}{'' if cf.exists else ' (not created yet: all defaults)'}")
    out.print(table(None, ["key", "value", "default", "meaning"],
                    [[r["key"] + (" *" if r["set"] else ""), _show(r["value"]), _show(r["default"]), r["description"]]
                     for r in rows]))
    out.print("* set in config.json")
    for problem in cf.problems:
        out.print(f"[yellow]ignored[/] {problem}")


def _show(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value or '""'
    return str(value)


def _echo_setting(ctx: Context | None, key: str, as_json: bool, suffix: str = "") -> None:
    from forewarn.config import get_value, resolve_key

    section, name = resolve_key(key)
    full = f"{section}.{name}"
    value = get_value(full)
    if as_json:
        from forewarn.cli.render import print_json

        print_json({"key": full, "value": value})
    elif ctx is None or not ctx.quiet:
        click.echo(f"{full} = {_show(value)}{suffix}")


@command.command("get")
@click.argument("key")
@json_option
def get(key: str, as_json: bool) -> None:
    """Print one setting's effective value."""
    from forewarn.config import get_value

    if as_json:
        _echo_setting(None, key, True)
    else:
        click.echo(_show(get_value(key)))


@command.command("set")
@click.argument("key")
@click.argument("value")
@json_option
@pass_context
def set_(ctx: Context, key: str, value: str, as_json: bool) -> None:
    """Set KEY to VALUE (typed and validated; the file is replaced atomically)."""
    from forewarn.config import set_value

    set_value(key, value)
    _echo_setting(ctx, key, as_json)


@command.command("unset")
@click.argument("key")
@json_option
@pass_context
def unset(ctx: Context, key: str, as_json: bool) -> None:
    """Forget KEY: it takes its default again."""
    from forewarn.config import unset_value

    unset_value(key)
    _echo_setting(ctx, key, as_json, " (default)")


@command.command("path")
def path() -> None:
    """Print where config.json lives."""
    from forewarn.config import config_path

    click.echo(str(config_path()))


@command.command("recommend")
@click.option("--apply", is_flag=True, help="Write the recommended thresholds into config.json.")
@click.option("--now", metavar="WHEN", help="Judge lessons as of this time (default: the newest recorded outcome).")
@json_option
@pass_context
def recommend(ctx: Context, apply: bool, now: str | None, as_json: bool) -> None:
    """Recommend injection.minConfidence and injection.minPriority from the measured precision of
    lessons by confidence and priority band (a lesson is confirmed when its failure recurred after
    it was created or one of its injections was relevant)."""
    from forewarn.insights.lesson_effect import apply_thresholds, lessons_report
    from forewarn.insights.stats import resolve_now

    store = ctx.store()
    report = lessons_report(store, now=resolve_now(store, now)[0])
    applied = apply_thresholds(report) if apply else {}
    if as_json:
        from forewarn.cli.render import print_json
        from forewarn.insights.text import plain

        print_json({"thresholds": plain(report.thresholds), "applied": applied})
        return
    from forewarn.cli.render import console, table
    from forewarn.insights.text import pct

    out = console()
    for a in report.thresholds:
        rec = f"→ {a.recommended:g}" if a.change and a.recommended is not None else "keep"
        out.print(f"[bold]{a.name}[/]: {a.current:g} {rec} ({a.reason})")
        rows = [[b.label, b.lessons, b.confirmed, pct(b.precision, 0),
                 "—" if b.ci_low is None else f"{b.ci_low * 100:.0f}–{(b.ci_high or 0) * 100:.0f}%",
                 "yes" if b.measured else "no"] for b in a.bands]
        out.print(table(None, ["band", "judged lessons", "confirmed", "precision", "95% CI", "enough"], rows))
    if apply:
        out.print("Applied: " + (", ".join(f"{k} = {v:g}" for k, v in applied.items()) if applied else "nothing to change"))
    elif any(a.change for a in report.thresholds):
        out.print("Run with --apply to write these into config.json.")

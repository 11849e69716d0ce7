"""`forewarn eval labels|backtest`: measure forewarn against labelled or later sessions."""

from __future__ import annotations

from pathlib import Path

import click

from forewarn.cli.context import Context, json_option, pass_context


@click.group("eval")
def command() -> None:
    """Measure accuracy: against hand labels, or by replaying later sessions."""


@command.command("labels")
@click.argument("labels_file", type=click.Path(path_type=Path))
@click.option("--root", type=click.Path(path_type=Path), default=None,
              help="Folder the labels' `file` paths are relative to (default: the labels file's parent's parent).")
@click.option("--mistakes", is_flag=True, help="List every miss, false alarm and wrong fix.")
@json_option
@pass_context
def labels_cmd(ctx: Context, labels_file: Path, root: Path | None, mistakes: bool, as_json: bool) -> None:
    """Failure-detection and fix-pairing precision/recall against LABELS_FILE (JSON Lines)."""
    from forewarn.errors import ForewarnError
    from forewarn.eval.labels import evaluate, load_labels

    root = root or labels_file.resolve().parent.parent
    if not root.is_dir():
        raise ForewarnError(f"no such directory: {root}")
    result = evaluate(load_labels(labels_file), root)
    data = result.as_dict()
    if as_json:
        from forewarn.cli.render import print_json

        if not mistakes:
            data.pop("mistakes")
        print_json(data)
        return
    from forewarn.cli.render import console, table

    out = console()
    rows = []
    for agent, scores in [("all", {"detection": result.detection, "pairing": result.pairing}),
                          *sorted(result.by_agent.items())]:
        for what, s in scores.items():
            rows.append((agent, what, s.tp, s.fp, s.fn, f"{s.precision:.3f}", f"{s.recall:.3f}"))
    out.print(table(f"{result.labels} labels in {result.files} files", ["agent", "measure", "tp", "fp", "fn", "precision", "recall"], rows))
    if result.missing_files:
        out.print(f"[yellow]{len(result.missing_files)} labelled files not found under {root}[/]")
    if result.unlabelled_detections:
        out.print(f"{result.unlabelled_detections} failures reported on calls the labels do not cover.")
    if mistakes:
        for m in result.mistakes:
            out.print(f"- {m['error']}: {m['file']} {m['call_id']} "
                      + " ".join(f"{k}={m[k]}" for k in ("kind", "expected", "got") if k in m))


@command.command("backtest")
@click.argument("root", type=click.Path(path_type=Path, exists=True))
@click.option("--split", default="0.5", show_default=True,
              help="Learn from this fraction of sessions (by start time), or from sessions before this date.")
@click.option("--lessons", "show_lessons", is_flag=True, help="Also list each lesson's injections.")
@json_option
@pass_context
def backtest_cmd(ctx: Context, root: Path, split: str, show_lessons: bool, as_json: bool) -> None:
    """Learn from the sessions before the split, replay every later tool call through the hook,
    and report coverage and irrelevant injections."""
    from forewarn.eval.backtest import backtest

    result = backtest(root, split)
    data = result.as_dict()
    if as_json:
        from forewarn.cli.render import print_json

        if not show_lessons:
            data.pop("by_lesson")
        print_json(data)
        return
    click.echo(f"Learned from {result.train_sessions} sessions ({result.split}); "
               f"{result.lessons} lessons from {result.candidates} candidates.")
    click.echo(f"Replayed {result.replayed_calls} tool calls of {result.test_sessions} later sessions: "
               f"{result.later_failures} failures, {result.covered_failures} with an applicable lesson.")
    click.echo(f"coverage        {result.coverage:.3f}  ({result.caught} of {result.covered_failures} got "
               "their lesson before the failing call)")
    click.echo(f"irrelevant_rate {result.irrelevant_rate:.3f}  ({result.injections - result.relevant_injections} "
               f"of {result.injections} injections not followed by their failure)")
    if show_lessons:
        for row in data["by_lesson"]:
            click.echo(f"  {row['slug']}: {row['injections']} injected, {row['relevant']} relevant, "
                       f"{row['caught']} caught  [{row['signature']}]")

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

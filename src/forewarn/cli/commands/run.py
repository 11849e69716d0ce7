"""`forewarn run`: the prompt-learning loop (seed 002) — agent, tests, teacher, rule, retry."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from forewarn.cli.context import Context, json_option, pass_context


@click.command("run")
@click.argument("task")
@click.option("--project-dir", "project", type=click.Path(file_okay=False, path_type=Path), default=".",
              show_default=True, help="The project the agent works in.")
@click.option("--agent", type=click.Choice(["claude", "codex", "gemini"]), default="claude", show_default=True,
              help="The coding agent to run headless.")
@click.option("--test-cmd", help="Shell command that checks the work (default: detected pytest or npm test).")
@click.option("--max-retries", type=click.IntRange(0, 20), default=3, show_default=True,
              help="Attempts after the first one.")
@click.option("--no-auto-retry", is_flag=True,
              help="Stop after a failure (the rule is still learned) and say what the retry would do.")
@click.option("--agent-timeout", type=click.FloatRange(1), default=1800, show_default=True,
              help="Seconds one agent attempt may take.")
@click.option("--test-timeout", type=click.FloatRange(1), default=600, show_default=True,
              help="Seconds one test run may take.")
@click.option("--agent-arg", "agent_args", multiple=True, metavar="ARG",
              help="Extra argument for the agent CLI (e.g. --agent-arg=--max-turns --agent-arg=15); repeatable.")
@click.option("--teacher", help="Teacher backend for this run (overrides teacher.backend in config).")
@click.option("--no-write", is_flag=True, help="Keep learned rules as lessons only; do not edit instruction files.")
@json_option
@pass_context
def command(ctx: Context, task: str, project: Path, agent: str, test_cmd: str | None, max_retries: int,
            no_auto_retry: bool, agent_timeout: float, test_timeout: float, agent_args: tuple[str, ...],
            teacher: str | None, no_write: bool, as_json: bool) -> None:
    """Run an agent on TASK until the tests pass, learning a rule from every failure.

    Each attempt runs the agent headless, then the tests. On failure the diff (read from git
    without committing anything) and the failing output go, redacted, to the teacher
    (`forewarn config set teacher.backend …`); its rule is stored as a project lesson and in
    the agent's instruction file (CLAUDE.md, AGENTS.md or GEMINI.md), and the task is retried
    with it. Without a teacher the retry gets the failing output only. Exit status 0 when the
    tests pass, 1 otherwise.
    """
    from forewarn.errors import EXIT_ERROR
    from forewarn.loop.run import RunOptions, run_loop

    opts = RunOptions(task=task, project=project, agent=agent, test_cmd=test_cmd, max_retries=max_retries,
                      auto_retry=not no_auto_retry, agent_timeout=agent_timeout, test_timeout=test_timeout,
                      agent_args=agent_args, teacher=teacher, write_instructions=not no_write)
    progress = None if (as_json or ctx.quiet) else (lambda msg: click.echo(msg, err=True))
    result = run_loop(opts, store=ctx.store(), progress=progress)
    if as_json:
        from forewarn.cli.render import print_json

        print_json(result.as_json())
    else:
        _summary(ctx, result)
    if result.status != "passed":
        raise click.exceptions.Exit(EXIT_ERROR)


def _summary(ctx: Context, result: Any) -> None:
    from forewarn.cli.render import console

    err = console(stderr=True)
    for warning in result.warnings:
        if not ctx.quiet:
            err.print(f"[yellow]warning:[/] {warning}", markup=True, highlight=False)
    out = console()
    verdict = {"passed": "[green]tests pass[/]", "failed": "[red]tests still fail[/]",
               "stopped": "[yellow]stopped after a failure[/]", "agent_error": "[red]the agent failed[/]"}
    tries = len(result.attempts)
    out.print(f"{verdict.get(result.status, result.status)} after {tries} attempt{'s' * (tries != 1)} "
              f"({result.agent}, tests: {result.test_command})", markup=True, highlight=False)
    for a in result.attempts:
        if not a.agent_ok:
            state = f"agent failed: {a.agent_message}"
        elif a.tests_passed:
            state = "tests passed"
        else:
            state = "tests timed out" if a.test_timed_out else f"tests failed (exit {a.test_exit})"
        line = f"  #{a.number}: {state}"
        if a.rule is not None:
            line += f"; learned: {a.rule.rule}"
        elif a.teacher_error:
            line += f"; no rule: {a.teacher_error}"
        out.print(line, markup=False, highlight=False)
    if result.rules:
        out.print(f"{len(result.rules)} rule(s) learned:", highlight=False)
        for rule in result.rules:
            out.print(rule.markdown(), markup=False, highlight=False)
    if result.lessons:
        out.print("lessons: " + ", ".join(result.lessons), markup=False, highlight=False)
    for path in result.written:
        out.print(f"wrote {path}", markup=False, highlight=False)
    if result.next_step:
        out.print(f"next: {result.next_step}", markup=False, highlight=False)

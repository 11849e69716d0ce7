"""`forewarn run`: the learning loop of seed 002, one attempt at a time.

Each attempt: run the agent headless on the task (with the rules learned so far), run the tests.
Green ends the run. Red: snapshot the work tree (`forewarn.loop.gitsnap`, no commits), take the
diff since the run started and the failing output, ask the teacher for the root cause and one
preventive rule, keep it (a project lesson plus a bullet in the agent's instruction file, see
`forewarn.teach.record`), and retry while retries remain. With `auto_retry` off the run stops
after the first failure, having learned its rule, and says what the next attempt would do.

Invariants:
- the user's git history, index and refs are never changed (snapshots are trees);
- the loop works without a teacher: it then retries with the failing output alone and says so;
- a teacher that fails (unreachable, malformed answers) costs that attempt its rule, not the run;
- an agent that fails by itself (exit status, error result) stops the run: that is not a
  mistake in the code to learn from;
- every failed attempt is recorded in the store's reported failures (source "run"), marked
  handled when a rule was learned from it, so analytics count it and `forewarn teach` skips it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forewarn.analyze.redact import redact
from forewarn.errors import ForewarnError
from forewarn.lessons.model import EvidenceRef, now_iso
from forewarn.loop import gitsnap
from forewarn.loop.agents import AgentAdapter, get_agent
from forewarn.loop.proc import run_process
from forewarn.loop.testcmd import TestCommand, detect_test_command
from forewarn.model import clip
from forewarn.teach.rules import Rule

if TYPE_CHECKING:
    from forewarn.store import Store
    from forewarn.teach.base import Teacher

OUTPUT_HEAD, OUTPUT_TAIL = 2_000, 6_000  # failing test output kept per attempt
PROMPT_TAIL = 3_000  # failing output quoted in the retry prompt
FORWARD_EXCLUDES = (".forewarn",)  # forewarn's own files are never part of "the agent's change"


@dataclass
class RunOptions:
    task: str
    project: Path
    agent: str = "claude"
    test_cmd: str | None = None
    max_retries: int = 3
    auto_retry: bool = True
    agent_timeout: float = 1800.0
    test_timeout: float = 600.0
    agent_args: tuple[str, ...] = ()
    teacher: str | None = None  # overrides teacher.backend
    write_instructions: bool = True


@dataclass
class Attempt:
    number: int
    prompt: str
    agent_ok: bool = True
    agent_message: str = ""
    agent_timed_out: bool = False
    agent_seconds: float = 0.0
    tests_passed: bool = False
    test_exit: int | None = None
    test_timed_out: bool = False
    test_seconds: float = 0.0
    test_output: str = ""
    changed: list[str] = field(default_factory=list)
    rule: Rule | None = None
    teacher_error: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"number": self.number, "agentOk": self.agent_ok, "agentMessage": self.agent_message,
                "agentTimedOut": self.agent_timed_out, "agentSeconds": self.agent_seconds,
                "testsPassed": self.tests_passed, "testExit": self.test_exit, "testTimedOut": self.test_timed_out,
                "testSeconds": self.test_seconds, "testOutput": self.test_output, "changed": self.changed,
                "rule": None if self.rule is None else self.rule.as_json(), "teacherError": self.teacher_error}


@dataclass
class RunResult:
    task: str
    project: Path
    agent: str
    test_command: str
    teacher: str | None
    status: str = "failed"  # passed | failed | stopped | agent_error
    attempts: list[Attempt] = field(default_factory=list)
    lessons: list[str] = field(default_factory=list)  # slugs
    written: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    next_step: str | None = None

    @property
    def rules(self) -> list[Rule]:
        return [a.rule for a in self.attempts if a.rule is not None]

    def as_json(self) -> dict[str, Any]:
        return {"task": self.task, "project": str(self.project), "agent": self.agent,
                "testCommand": self.test_command, "teacher": self.teacher, "status": self.status,
                "attempts": [a.as_json() for a in self.attempts], "rules": [r.as_json() for r in self.rules],
                "lessons": self.lessons, "written": [str(p) for p in self.written], "warnings": self.warnings,
                "nextStep": self.next_step}


def retry_prompt(task: str, rules: list[Rule], last: Attempt | None, instructions: str) -> str:
    """The task, and on a retry what failed and the rules learned so far."""
    if last is None:
        return task
    parts = [task, "", f"A previous attempt (#{last.number}) did not pass the tests."]
    tail = redact(last.test_output)[-PROMPT_TAIL:].strip()
    if tail:
        parts += ["The failing output ended with:", "```", tail, "```"]
    if rules:
        parts += ["", f"Rules learned from the failures so far (also in {instructions}):"]
        parts += [f"- {r.bullet()}" for r in rules]
    parts += ["", "Follow them and make the tests pass."]
    return "\n".join(parts)


def _teacher(backend: str | None, home: Path | None, warnings: list[str]) -> Teacher | None:
    from forewarn.teach.base import TeacherUnavailable, get_teacher
    from forewarn.teach.settings import load_teacher_settings

    settings = load_teacher_settings(home, backend=backend)
    try:
        teacher = get_teacher(settings)
        teacher.check()
    except TeacherUnavailable as err:
        warnings.append(f"{err}; failures will be retried without a learned rule")
        return None
    return teacher


class _Recorder:
    """Failed attempts → the store's reported failures (best effort: the loop never dies of it)."""

    def __init__(self, store: Store | None, project: Path, agent: str, task: str, warnings: list[str]) -> None:
        self.store, self.project, self.agent, self.task, self.warnings = store, project, agent, task, warnings

    def failed(self, attempt: Attempt, learned: bool) -> None:
        if self.store is None:
            return
        from forewarn.store import analytics as sql

        try:
            when = now_iso()
            row = sql.add_reported_failure(
                self.store, ts=when, failure_type="test_failure",
                description=f"attempt {attempt.number}: tests failed (exit {attempt.test_exit})",
                context=redact(clip(attempt.test_output, 1_500, 2_500)), task=redact(self.task)[:4_000],
                project=str(self.project), agent=self.agent, source="run")
            if learned:
                sql.mark_reported_failures_handled(self.store, [row], when)
        except Exception as err:  # the store is a record, not a precondition of the loop
            self.warnings.append(f"failure not recorded in the database: {err}")


def _teach(teacher: Teacher, opts: RunOptions, result: RunResult, attempt: Attempt, *, diff: str,
           run_id: str, home: Path | None, adapter: AgentAdapter) -> None:
    from forewarn.teach.ask import FailureContext, ask_rule
    from forewarn.teach.base import TeacherError
    from forewarn.teach.record import record_rule

    failure = FailureContext(
        failure_type="test_failure", task=opts.task, diff=diff,
        error_logs=(f"$ {result.test_command}\n" + attempt.test_output
                    + (f"\n[the agent did not finish: {attempt.agent_message}]" if attempt.agent_timed_out else "")),
        source="test failure", known_rules=tuple(r.rule for r in result.rules))
    try:
        rule = ask_rule(teacher, failure, home)
    except TeacherError as err:
        attempt.teacher_error = str(err)
        return
    evidence = [EvidenceRef(file=f"forewarn-run:{run_id}", call_id=f"attempt-{attempt.number}",
                            failing=path, error=attempt.test_output[-400:]) for path in attempt.changed[:5]]
    if not evidence:
        evidence = [EvidenceRef(file=f"forewarn-run:{run_id}", call_id=f"attempt-{attempt.number}",
                                error=attempt.test_output[-400:])]
    try:
        recorded = record_rule(rule, opts.project, agents=[adapter.name], changed=attempt.changed,
                               evidence=evidence, home=home, write_instructions=opts.write_instructions)
    except ForewarnError as err:
        attempt.teacher_error = f"the rule could not be stored: {err}"
        return
    attempt.rule = rule
    result.warnings += [w for w in recorded.warnings if w not in result.warnings]
    if recorded.lesson is not None and recorded.lesson.slug not in result.lessons:
        result.lessons.append(recorded.lesson.slug)
    result.written += [p for p in recorded.written if p not in result.written]


def _excludes(root: Path | None, written: list[Path]) -> list[str]:
    out = list(FORWARD_EXCLUDES)
    if root is None:
        return out
    for path in written:
        try:
            out.append(path.resolve().relative_to(root.resolve()).as_posix())
        except ValueError:
            continue
    return out


def run_loop(opts: RunOptions, *, home: Path | None = None, store: Store | None = None,
             progress: Callable[[str], None] | None = None) -> RunResult:
    """Run the loop; see the module docstring. Raises `ForewarnError` for what stops it before
    the first attempt (no such directory or agent, no test command, unknown teacher backend)."""
    say = progress or (lambda _msg: None)
    project = opts.project.expanduser().resolve()
    if not project.is_dir():
        raise ForewarnError(f"{project} is not a directory")
    if not opts.task.strip():
        raise ForewarnError("the task is empty")
    if opts.max_retries < 0:
        raise ForewarnError("--max-retries cannot be negative")
    adapter = get_agent(opts.agent)
    tests: TestCommand = detect_test_command(project, opts.test_cmd)
    result = RunResult(task=opts.task, project=project, agent=adapter.name, test_command=tests.label, teacher=None)
    teacher = _teacher(opts.teacher, home, result.warnings)
    result.teacher = None if teacher is None else teacher.name
    root = gitsnap.repo_root(project)
    if root is None:
        result.warnings.append(f"{project} is not in a git repository: the teacher gets no diff")
    baseline = gitsnap.snapshot(root) if root is not None else None
    recorder = _Recorder(store, project, adapter.name, opts.task, result.warnings)
    run_id = uuid.uuid4().hex[:12]

    last: Attempt | None = None
    for number in range(1, opts.max_retries + 2):
        attempt = Attempt(number, retry_prompt(opts.task, result.rules, last, adapter.instructions))
        result.attempts.append(attempt)
        say(f"attempt {number}: running {adapter.program}…")
        try:
            ran = run_process(adapter.argv(attempt.prompt, opts.agent_args), cwd=project, timeout=opts.agent_timeout)
        except FileNotFoundError:
            raise ForewarnError(f"`{adapter.program}` is not on PATH: install {adapter.name} or pick another --agent") from None
        outcome = adapter.outcome(ran)
        attempt.agent_ok, attempt.agent_message = outcome.ok, outcome.message
        attempt.agent_timed_out, attempt.agent_seconds = ran.timed_out, ran.seconds
        if not outcome.ok:
            result.status = "agent_error"
            break
        say(f"attempt {number}: running {tests.label}…")
        tested = tests.run(project, opts.test_timeout)
        attempt.test_exit, attempt.test_timed_out, attempt.test_seconds = tested.exit_code, tested.timed_out, tested.seconds
        output = tested.output() + (f"\n[timed out after {opts.test_timeout:g}s]" if tested.timed_out else "")
        attempt.test_output = clip(output, OUTPUT_HEAD, OUTPUT_TAIL)
        if tested.ok:
            attempt.tests_passed = True
            result.status = "passed"
            break
        now = gitsnap.snapshot(root) if root is not None else None
        excludes = _excludes(root, result.written)
        diff = gitsnap.diff(root, baseline, now, within=project, exclude=excludes) if root else ""
        attempt.changed = gitsnap.changed_files(root, baseline, now, within=project, exclude=excludes) if root else []
        if teacher is not None:
            say(f"attempt {number}: tests failed; asking the {teacher.name} teacher…")
            _teach(teacher, opts, result, attempt, diff=diff, run_id=run_id, home=home, adapter=adapter)
        recorder.failed(attempt, learned=attempt.rule is not None)
        last = attempt
        if not opts.auto_retry:
            result.status = "stopped"
            rules = len(result.rules)
            result.next_step = (f"would retry (attempt {number + 1}) with the failing output"
                                + (f" and {rules} learned rule{'s' * (rules != 1)}" if rules else "")
                                + "; run the same command again to retry")
            break
    return result

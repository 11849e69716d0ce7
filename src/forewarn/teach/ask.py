"""Asking the teacher for a rule: the failure → a redacted, clipped request → a parsed `Rule`.

`build_request` is the only place a failure's text becomes a teacher request, so it is where
redaction happens: every text field is passed through `redact` (secrets) and `home_relative`
(personal paths) and clipped (head and tail: errors live at both ends) before anything is sent.
`ask_rule` asks once, and once more if the answer is malformed, telling the teacher why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forewarn.analyze.redact import home_relative, redact
from forewarn.model import clip
from forewarn.teach.base import Teacher, TeacherRequest
from forewarn.teach.router import load_prompt, route
from forewarn.teach.rules import ANSWER_FORMAT, MalformedAnswer, Rule, parse_rule

DIFF_HEAD, DIFF_TAIL = 12_000, 4_000
LOG_HEAD, LOG_TAIL = 5_000, 7_000
TEXT_HEAD, TEXT_TAIL = 3_000, 1_000


@dataclass(frozen=True)
class FailureContext:
    """One failure to learn from, from any source (seed 002: pytest, manual, …)."""

    failure_type: str
    task: str = ""
    description: str = ""  # what went wrong, in a person's words (manual reports)
    context: str = ""  # what should have happened instead
    diff: str = ""
    error_logs: str = ""
    source: str = "test failure"  # for the rule's Source line
    known_rules: tuple[str, ...] = field(default=())  # already learned: do not repeat them


def clean(text: str, head: int, tail: int) -> str:
    """Redacted, personal paths shortened, clipped: what may leave the machine."""
    return clip(home_relative(redact(text or "")), head, tail)


def build_request(failure: FailureContext, home: Path | None = None) -> TeacherRequest:
    kind = route(failure.failure_type)
    prompt = load_prompt(kind, home)
    task = clean(failure.task, TEXT_HEAD, TEXT_TAIL)
    description = clean(failure.description, TEXT_HEAD, TEXT_TAIL)
    context = clean(failure.context, TEXT_HEAD, TEXT_TAIL)
    diff = clean(failure.diff, DIFF_HEAD, DIFF_TAIL)
    logs = clean(failure.error_logs, LOG_HEAD, LOG_TAIL)
    sections = [f"Failure type: {kind}"]
    if task:
        sections.append(f"## Task given to the agent\n{task}")
    if description:
        sections.append(f"## What went wrong\n{description}")
    if context:
        sections.append(f"## Context\n{context}")
    if diff:
        sections.append(f"## The agent's changes (diff)\n```diff\n{diff}\n```")
    if logs:
        sections.append(f"## Failing output\n```\n{logs}\n```")
    if failure.known_rules:
        known = "\n".join(f"- {clean(r, 400, 0)}" for r in failure.known_rules)
        sections.append(f"## Rules already learned (give a different, more specific one)\n{known}")
    fields: dict[str, Any] = {"diff": diff, "error_logs": logs, "task_description": task, "failure_type": kind}
    if description:
        fields["description"] = description
    if context:
        fields["context"] = context
    return TeacherRequest(system=f"{prompt.text}\n\n{ANSWER_FORMAT}", prompt="\n\n".join(sections), fields=fields)


def reask_request(request: TeacherRequest, reason: str) -> TeacherRequest:
    note = (f"\n\nYour previous answer could not be used: {reason}. Answer again with only the JSON "
            "object described in your instructions.")
    return TeacherRequest(system=request.system, prompt=request.prompt + note, fields=request.fields)


def ask_rule(teacher: Teacher, failure: FailureContext, home: Path | None = None,
             *, reasks: int = 1) -> Rule:
    """The teacher's rule for this failure; `MalformedAnswer` after `reasks` failed re-asks."""
    request = build_request(failure, home)
    for attempt in range(reasks + 1):
        answer = teacher.ask(request)
        try:
            return parse_rule(answer, failure.failure_type, source=failure.source)
        except MalformedAnswer as err:
            if attempt == reasks:
                raise MalformedAnswer(f"{err} (after {reasks + 1} answers)") from None
            request = reask_request(request, str(err))
    raise AssertionError("unreachable")  # pragma: no cover


def payloads(teacher: Teacher | None, requests: Sequence[TeacherRequest]) -> list[dict[str, Any]]:
    """What would be sent for each request (for dry runs): the backend's exact payload, or the
    request itself when no teacher is configured."""
    if teacher is None:
        return [{"system": r.system, "prompt": r.prompt, "fields": r.fields} for r in requests]
    return [teacher.payload(r) for r in requests]

"""Keeping what the teacher taught: a `Rule` becomes a project lesson and an instruction-file bullet.

The lesson goes to the project's store through `forewarn.lessons.ops.add_lessons` (source
"teacher", scope project; ops redacts it, dedups it and rebuilds the manifest). Its triggers are
path globs, because a rule learned from a change is about the files the change touched: the
teacher's globs are kept only when they match a file of the failing change (the lessons package's
`trigger_matches_evidence` decides), else the changed files themselves are used; with no change
to check against (a manual report) the teacher's globs are taken as given. A rule with no files
at all (a planning mistake) gets no lesson, since the hook could never fire it: it lives in the
instruction file, which the agent reads at every start.

The bullet goes to the agent's instruction file inside forewarn's marker section (seed 002's
"append the rule to CLAUDE.md"), keyed by the rule, so learning the same rule twice keeps one.

Invariants: a rule is never lost silently: a lesson stored while the instruction file cannot be
written (damaged markers, a file changed meanwhile) gives a warning; a rule kept nowhere raises.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forewarn.errors import ForewarnError
from forewarn.lessons import model
from forewarn.lessons.model import EvidenceRef, Lesson, Provenance, Triggers
from forewarn.lessons.triggers import escape_glob, trigger_matches_evidence
from forewarn.teach.rules import Rule

TEACHER_PRIORITY = 6
TEACHER_CONFIDENCE = 0.7  # a model's reading of one failure: above the injection floor, below a person's
MAX_TRIGGER_PATHS = 5


@dataclass
class Recorded:
    rule: Rule
    lesson: Lesson | None = None
    store: Path | None = None
    written: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"rule": self.rule.as_json(),
                "lesson": None if self.lesson is None else {"id": self.lesson.id, "slug": self.lesson.slug},
                "store": None if self.store is None else str(self.store),
                "written": [str(p) for p in self.written], "warnings": self.warnings}


def _probe(globs: Sequence[str]) -> Lesson:
    return Lesson(id="0" * 26, slug="probe", summary="probe", triggers=Triggers(path_patterns=tuple(globs)))


def trigger_paths(rule: Rule, changed: Sequence[str]) -> tuple[str, ...]:
    """The path globs of the rule's lesson (see the module docstring)."""
    if not changed:
        return rule.paths
    kept = [g for g in rule.paths if any(trigger_matches_evidence(_probe([g]), path, None) for path in changed)]
    if kept:
        return tuple(kept[:MAX_TRIGGER_PATHS])
    return tuple(escape_glob(path) for path in changed[:MAX_TRIGGER_PATHS])


def rule_lesson(rule: Rule, *, changed: Sequence[str] = (), evidence: Iterable[EvidenceRef] = ()) -> Lesson:
    globs = trigger_paths(rule, changed)
    injection = model.clip_bytes(f"Rule: {rule.rule}\nWhen: {rule.when}", model.INJECTION_MAX_BYTES)
    return model.make_lesson(
        rule.rule,
        f"{rule.rule} (When: {rule.when})",
        mistake=rule.root_cause or rule.why,
        injection=injection,
        triggers=Triggers(path_patterns=globs),
        priority=TEACHER_PRIORITY,
        confidence=TEACHER_CONFIDENCE,
        tags=[f"kind:{rule.failure_type.replace('_', '-')}"],
        scope="project",
        signature="teacher:" + hashlib.blake2b(rule.key.encode(), digest_size=8).hexdigest(),
        provenance=Provenance(source="teacher", evidence=tuple(evidence)),
    )


def record_rule(rule: Rule, project: Path, *, agents: Sequence[str] | None = None, changed: Sequence[str] = (),
                evidence: Iterable[EvidenceRef] = (), home: Path | None = None,
                write_instructions: bool = True) -> Recorded:
    """Keep the rule: a project lesson when it has files to trigger on, and (unless told not to)
    a bullet in the instruction file of each of `agents` (default: the agents the project shows
    signs of using). Raises `ForewarnError` when it could be kept nowhere."""
    from forewarn.lessons.ops import add_lessons
    from forewarn.writers import Entry, apply_plans, plan_learnings, suggest_route

    out = Recorded(rule)
    lesson = rule_lesson(rule, changed=changed, evidence=evidence)
    if lesson.triggers.path_patterns:
        outcome = add_lessons([lesson], project_root=project, home=home)
        out.warnings += outcome.warnings
        if outcome.lessons:
            out.lesson = outcome.lessons[0].lesson
            out.store = outcome.lessons[0].path
    if not write_instructions:
        if out.lesson is None:
            out.warnings.append("the rule names no files, so it was kept as neither a lesson nor a bullet")
        return out
    text = rule.bullet()
    entry = Entry(rule.category, rule.key, text, suggest_route("teacher", text))
    try:
        out.written = apply_plans(plan_learnings(project, [entry], agents=agents))
    except ForewarnError as err:
        if out.lesson is None:
            raise ForewarnError(f"the rule could not be written to the instruction file: {err}") from None
        out.warnings.append(f"the rule was stored as a lesson but not written to the instruction file: {err}")
    return out

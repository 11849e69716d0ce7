"""`forewarn teach`: turn reported failures into rules (seed 002's manual source, and the pytest one).

Reads the unhandled rows of the store's reported failures: those from `forewarn report-failure`
(planning, integration, workflow, architecture, scope, config errors…) and the failing tests the
pytest plugin recorded. Manual reports are taught one by one; the failing tests of one pytest
session (same project, same timestamp) are taught together, as one failure, with the project's
uncommitted diff (working tree against HEAD, read without touching the index) when it is a git
repository. Each lesson learned is kept like the loop's (`forewarn.teach.record`) and its rows
are marked handled, so a second `teach` does not repeat them.

Invariants: `dry_run` sends nothing and marks nothing (it returns the exact payloads); a group
whose teacher call fails stays unhandled for the next run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from forewarn.errors import ForewarnError
from forewarn.lessons.model import EvidenceRef, now_iso
from forewarn.teach.ask import FailureContext, build_request
from forewarn.teach.base import Teacher, TeacherRequest
from forewarn.teach.record import Recorded, record_rule
from forewarn.teach.router import route

if TYPE_CHECKING:
    from forewarn.store import Store
    from forewarn.store.analytics import ReportedFailure

GROUPED_SOURCES = ("pytest",)
LOGS_PER_TEST = 2_500


@dataclass
class Group:
    reports: list[ReportedFailure]
    failure: FailureContext
    project: Path | None
    changed: list[str] = field(default_factory=list)
    request: TeacherRequest | None = None
    payload: dict[str, Any] | None = None
    recorded: Recorded | None = None
    error: str | None = None

    @property
    def ids(self) -> list[int]:
        return [r.id for r in self.reports]

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ids": self.ids, "failureType": route(self.failure.failure_type),
                               "project": None if self.project is None else str(self.project),
                               "source": self.reports[0].source}
        if self.payload is not None:
            out["payload"] = self.payload
        if self.recorded is not None:
            out.update(self.recorded.as_json())
        if self.error is not None:
            out["error"] = self.error
        return out


@dataclass
class TeachResult:
    dry_run: bool
    teacher: str | None
    groups: list[Group] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"dryRun": self.dry_run, "teacher": self.teacher,
                "taught": sum(1 for g in self.groups if g.recorded is not None),
                "failed": sum(1 for g in self.groups if g.error), "groups": [g.as_json() for g in self.groups],
                "warnings": self.warnings}


def _project_diff(project: Path) -> tuple[str, list[str]]:
    from forewarn.loop import gitsnap

    root = gitsnap.repo_root(project)
    if root is None:
        return "", []
    now = gitsnap.snapshot(root)
    base = gitsnap.head_tree(root)
    excludes = [".forewarn"]
    return (gitsnap.diff(root, base, now, within=project, exclude=excludes),
            gitsnap.changed_files(root, base, now, within=project, exclude=excludes))


def _group_reports(reports: Sequence[ReportedFailure]) -> list[list[ReportedFailure]]:
    groups: dict[tuple[Any, ...], list[ReportedFailure]] = {}
    for r in reports:
        key: tuple[Any, ...] = (r.source, r.project, r.ts) if r.source in GROUPED_SOURCES else ("one", r.id)
        groups.setdefault(key, []).append(r)
    return list(groups.values())


def _context(reports: list[ReportedFailure], with_diff: bool) -> tuple[FailureContext, Path | None, list[str]]:
    first = reports[0]
    project = Path(first.project) if first.project else None
    kind = route(first.failure_type)
    if first.source in GROUPED_SOURCES:
        logs = "\n\n".join(f"{r.description}\n{(r.context or '')[:LOGS_PER_TEST]}" for r in reports)
        diff, changed = _project_diff(project) if with_diff and project and project.is_dir() else ("", [])
        failure = FailureContext(failure_type=kind, task=first.task or "",
                                 description=f"{len(reports)} test(s) failed in a pytest run",
                                 diff=diff, error_logs=logs, source="pytest failures")
        return failure, project, changed
    failure = FailureContext(failure_type=kind, task=first.task or "", description=first.description,
                             context=first.context or "", source=f"manual report ({kind})")
    return failure, project, []


def collect(store: Store, *, project: Path | None = None, ids: Sequence[int] = (), limit: int | None = None,
            with_diff: bool = True) -> list[Group]:
    """The groups `teach` would handle: the given report ids (handled or not), else every
    unhandled report (of `project` when given), oldest first."""
    from forewarn.store import analytics as sql

    if ids:
        reports = []
        for report_id in ids:
            found = sql.reported_failure(store, report_id)
            if found is None:
                raise ForewarnError(f"no reported failure #{report_id}")
            reports.append(found)
    else:
        reports = sql.reported_failures(store, project=None if project is None else str(project),
                                        unhandled_only=True)
    grouped = _group_reports(reports)
    if limit is not None:
        grouped = grouped[:limit]
    out = []
    for reps in grouped:
        failure, proj, changed = _context(reps, with_diff)
        out.append(Group(reps, failure, proj, changed))
    return out


def teach_reported(store: Store, teacher: Teacher | None, *, project: Path | None = None, ids: Sequence[int] = (),
                   limit: int | None = None, dry_run: bool = False, home: Path | None = None,
                   agents: Sequence[str] | None = None) -> TeachResult:
    from forewarn.store import analytics as sql
    from forewarn.teach.ask import ask_rule

    result = TeachResult(dry_run=dry_run, teacher=None if teacher is None else teacher.name)
    for group in collect(store, project=project, ids=ids, limit=limit):
        result.groups.append(group)
        group.request = build_request(group.failure, home)
        if dry_run:
            group.payload = teacher.payload(group.request) if teacher is not None else {
                "system": group.request.system, "prompt": group.request.prompt, "fields": group.request.fields}
            continue
        assert teacher is not None, "a real run needs a teacher"
        if group.project is None or not group.project.is_dir():
            group.error = f"the project of report #{group.ids[0]} ({group.project}) is not a directory here"
            continue
        try:
            rule = ask_rule(teacher, group.failure, home)
            evidence = [EvidenceRef(file="reported-failures", call_id=f"report-{r.id}",
                                    failing=(group.changed[0] if group.changed else None),
                                    error=r.description[:400]) for r in group.reports[:5]]
            group.recorded = record_rule(rule, group.project, agents=agents, changed=group.changed,
                                         evidence=evidence, home=home)
        except ForewarnError as err:
            group.error = str(err)
            continue
        result.warnings += [w for w in group.recorded.warnings if w not in result.warnings]
        sql.mark_reported_failures_handled(store, group.ids, now_iso())
    return result

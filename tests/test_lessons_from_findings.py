"""Findings → lesson candidates whose triggers separate each failure from its fix."""

from __future__ import annotations

from forewarn.analyze.findings import Evidence, Finding
from forewarn.lessons import ops
from forewarn.lessons.from_findings import lesson_from_finding
from forewarn.lessons.store import load_global
from forewarn.lessons.triggers import trigger_matches_evidence


def evidence(n: int, failing: str, fix: str | None, session: str = "s1") -> Evidence:
    return Evidence(file=f"{session}.jsonl", session_id=session, project="/p", call_id=f"c{n}",
                    fix_call_id=f"f{n}" if fix else None, timestamp=None, failing_input=failing,
                    fix_input=fix, error="ModuleNotFoundError: No module named 'httpx'")


def finding(**kwargs: object) -> Finding:
    base: dict[str, object] = dict(
        signature="shell:pytest:env", kind="env_runtime", category="environment", family="shell",
        tools=["Bash"], subject="pytest", wrong="python3 -m pytest -q", right="uv run pytest -q",
        reason="No module named 'httpx'", scope="global", occurrences=3, sessions=2, projects=1,
        project_paths=["/p"], priority=6, confidence=0.75,
        evidence=[evidence(1, "python3 -m pytest -q", "uv run pytest -q"),
                  evidence(2, "cd /p && python3 -m pytest tests/x.py", "uv run pytest tests/x.py", "s2")])
    base.update(kwargs)
    return Finding(**base)  # type: ignore[arg-type]


def test_a_shell_finding_becomes_a_lesson_that_fires_on_failures_only() -> None:
    f = finding()
    lesson = lesson_from_finding(f)
    assert lesson is not None
    assert lesson.signature == f.signature and lesson.provenance.source == "heuristic"
    assert lesson.priority == 6 and lesson.confidence == 0.75 and lesson.action == "warn"
    assert lesson.scope == "global" and not lesson.needs_review
    assert "uv run pytest -q" in lesson.remediation and "httpx" in lesson.mistake
    assert {"kind:env_runtime", "topic:environment", "tool:python3"} <= set(lesson.tags)
    assert lesson.provenance.source_session_ids == ("s1", "s2") and lesson.provenance.occurrence_count == 3
    for ev in f.evidence:
        assert trigger_matches_evidence(lesson, ev.failing_input, ev.fix_input)


def test_a_path_finding_gets_a_project_relative_glob() -> None:
    f = finding(signature="read:path", kind="path_not_found", category="paths", family="read", tools=["Read"],
                subject="src/models.py", wrong="/p/src/models.py", right="/p/src/core/models.py", scope="project",
                evidence=[evidence(1, "/p/src/models.py", "/p/src/core/models.py")])
    lesson = lesson_from_finding(f)
    assert lesson is not None and lesson.triggers.path_patterns == ("src/models.py",)
    assert lesson.scope == "project"
    assert trigger_matches_evidence(lesson, "/clone/src/models.py", "/clone/src/core/models.py")


def test_no_lesson_when_nothing_separates_failure_from_fix() -> None:
    assert lesson_from_finding(finding(wrong="make", right="make", evidence=[evidence(1, "make", "make")])) is None
    assert lesson_from_finding(finding(family="web", tools=["WebFetch"])) is None


def test_a_finding_without_a_known_fix_waits_for_review_and_relearning_merges() -> None:
    lesson = lesson_from_finding(finding(right=None, evidence=[evidence(1, "python3 -m pytest -q", None)]))
    assert lesson is not None and lesson.needs_review and lesson.remediation == ""
    first = lesson_from_finding(finding())
    again = lesson_from_finding(finding(occurrences=5, evidence=[evidence(3, "python3 -m pytest", "uv run pytest", "s3")]))
    assert first is not None and again is not None
    ops.add_lessons([first])
    assert ops.add_lessons([again]).merged == 1
    (stored,) = load_global().lessons
    assert stored.provenance.occurrence_count == 5 and len(stored.provenance.evidence) == 3

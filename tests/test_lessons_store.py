"""Lesson files: round trip, permissive reads, damaged files, upgrades, dedup, review gating."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest

from forewarn.errors import ForewarnError
from forewarn.lessons import model, ops
from forewarn.lessons.model import EvidenceRef, Provenance, Triggers
from forewarn.lessons.schema import definition, validate
from forewarn.lessons.store import (
    find_project_root,
    global_store_path,
    load_global,
    load_lesson_file,
    project_store_path,
    registered_projects,
    save_lesson_file,
)

PYTEST = Triggers(tool_names=("Bash",), command_patterns=(r"\bpytest\b(?!.*--no-header)",))


def lesson(summary: str = "pytest hangs without a tty", **kwargs: object) -> model.Lesson:
    kwargs.setdefault("triggers", PYTEST)
    kwargs.setdefault("confidence", 0.9)
    return model.make_lesson(summary, kwargs.pop("remediation", "use --no-header"), **kwargs)  # type: ignore[arg-type]


def evidence(call: str, session: str = "s1") -> Provenance:
    return Provenance(source="heuristic", source_session_ids=(session,), occurrence_count=1,
                      evidence=(EvidenceRef(file=f"{session}.jsonl", call_id=call, fix_call_id=call + "-fix",
                                            failing="pytest -v", fix="pytest --no-header", error="hung"),))


def test_round_trip_keeps_everything_in_id_order_with_stable_formatting() -> None:
    added = ops.add_lessons([lesson("b lesson", remediation="b"), lesson("a lesson", remediation="a")])
    assert added.added == 2
    path = global_store_path()
    text = path.read_text()
    data = json.loads(text)
    assert data["type"] == "forewarn-lessons" and data["version"] == 1 and data["$schema"].endswith("lessons.schema.json")
    assert [x["id"] for x in data["lessons"]] == sorted(x["id"] for x in data["lessons"])
    assert text == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    loaded = load_global()
    assert loaded.warnings == [] and {x.summary for x in loaded.lessons} == {"a lesson", "b lesson"}
    save_lesson_file(loaded)
    assert path.read_text() == text  # loading and saving changes nothing
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_bad_lesson_is_skipped_with_a_warning_and_written_back_verbatim() -> None:
    ops.add_lessons([lesson()])
    path = global_store_path()
    data = json.loads(path.read_text())
    bad = {"id": "not-a-ulid", "summary": "hand written", "note": "mine"}
    data["lessons"].append(bad)
    path.write_text(json.dumps(data))
    loaded = load_global()
    assert len(loaded.lessons) == 1 and loaded.kept == [bad]
    assert any("lesson not-a-ulid skipped" in w for w in loaded.warnings)
    ops.add_lessons([lesson("another one", remediation="x")])
    after = json.loads(path.read_text())["lessons"]
    assert bad in after and len(after) == 3


def test_a_file_that_is_not_json_raises_and_is_never_overwritten() -> None:
    path = global_store_path()
    path.parent.mkdir(parents=True)
    path.write_text('{"lessons": [ oops')
    with pytest.raises(ForewarnError, match="not valid JSON"):
        load_global()
    with pytest.raises(ForewarnError, match="not valid JSON"):
        ops.add_lessons([lesson()])
    assert path.read_text() == '{"lessons": [ oops'
    path.write_text('{"something": "else"}')
    with pytest.raises(ForewarnError, match="not a lessons file"):
        ops.add_lessons([lesson()])
    assert path.read_text() == '{"something": "else"}'


def test_a_newer_format_is_refused() -> None:
    path = global_store_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"type": "forewarn-lessons", "version": 2, "lessons": []}))
    with pytest.raises(ForewarnError, match="upgrade forewarn"):
        load_global()


SEED_STORE = {
    "$schema": "./schemas/lessons.schema.json",
    "type": "lessons-learned-store",
    "version": 1,
    "lessons": [
        {
            "id": "01JQXYZ0000000000000000000",
            "slug": "pytest-tty-hanging-x7k2",
            "summary": "pytest hangs in non-interactive envs due to TTY detection",
            "mistake": "Running bare pytest hangs.",
            "remediation": "Use `python -m pytest --no-header -rN -p no:faulthandler` or prepend `TERM=dumb`.",
            "injection": "## Lesson: pytest TTY hanging\npytest hangs. Use --no-header.",
            "triggers": {"toolNames": ["Bash"],
                         "commandPatterns": ["\\bpytest\\b(?!.*(--no-header|-p no:faulthandler|TERM=dumb))"],
                         "pathPatterns": [], "contentPatterns": []},
            "priority": 8, "confidence": 0.95, "needsReview": False,
            "tags": ["lang:python", "tool:pytest", "Not A Tag"],
            "sourceSessionIds": ["abc-123"], "occurrenceCount": 5,
            "createdAt": "2026-03-28T14:00:00Z", "updatedAt": "2026-03-28T14:00:00Z",
            "contentHash": "sha256:a1b2c3",
        },
        {"id": "bad", "summary": "", "triggers": {}},
    ],
}


def test_import_of_the_seed_003_store_format(tmp_path: Path) -> None:
    src = tmp_path / "seed.json"
    src.write_text(json.dumps(SEED_STORE))
    outcome = ops.import_lessons(src)
    assert outcome.added == 1
    assert any("skipped" in w for w in outcome.warnings)  # the empty-summary lesson
    (imported,) = load_global().lessons
    assert imported.id == "01JQXYZ0000000000000000000" and imported.slug == "pytest-tty-hanging-x7k2"
    assert imported.provenance.source == "import"
    assert imported.provenance.source_session_ids == ("abc-123",) and imported.provenance.occurrence_count == 5
    assert imported.tags == ("lang:python", "tool:pytest")
    assert imported.content_hash == model.content_hash(imported.mistake, imported.remediation, imported.triggers)
    assert imported.injection.startswith("## Lesson: pytest TTY hanging")
    assert imported.priority == 8 and imported.confidence == 0.95
    # importing again merges instead of duplicating; our own export imports back too
    assert ops.import_lessons(src).merged == 1
    out = tmp_path / "export.json"
    out.write_text(json.dumps(ops.export_lessons()))
    assert ops.import_lessons(out).merged == 1 and len(load_global().lessons) == 1


def test_a_seed_format_file_in_place_is_upgraded_on_load() -> None:
    path = global_store_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(SEED_STORE))
    loaded = load_global()
    assert loaded.upgraded_from == "lessons-learned-store v1"
    assert len(loaded.lessons) == 1 and len(loaded.kept) == 1


def test_dedup_by_content_hash_merges_evidence_counts_and_sessions() -> None:
    first = lesson(priority=4, confidence=0.6, provenance=evidence("c1", "s1"), tags=["tool:pytest"])
    ops.add_lessons([first])
    again = lesson("worded differently", priority=7, confidence=0.8, provenance=evidence("c2", "s2"),
                   tags=["lang:python"])
    outcome = ops.add_lessons([again])
    assert outcome.merged == 1 and outcome.added == 0
    (merged,) = load_global().lessons
    assert merged.id == first.id and merged.summary == first.summary  # the existing text is kept
    assert merged.priority == 7 and merged.confidence == 0.8
    assert merged.provenance.source_session_ids == ("s1", "s2")
    assert [e.call_id for e in merged.provenance.evidence] == ["c1", "c2"]
    assert merged.provenance.occurrence_count == 2
    assert merged.tags == ("lang:python", "tool:pytest")
    # re-adding the same evidence (a rescan) does not inflate the count
    ops.add_lessons([replace(again, provenance=evidence("c2", "s2"))])
    assert load_global().lessons[0].provenance.occurrence_count == 2


def test_dedup_by_signature_and_rejected_lessons_stay_rejected() -> None:
    first = lesson(signature="shell:pytest:hang")
    ops.add_lessons([first])
    ops.reject([first.id])
    other = lesson("different text", remediation="different fix", signature="shell:pytest:hang", confidence=0.99)
    assert ops.add_lessons([other]).merged == 1
    (kept,) = load_global().lessons
    assert kept.status == "rejected" and kept.confidence == 0.99


def test_below_min_confidence_is_stored_for_review_and_left_out_of_the_manifest() -> None:
    low = lesson(confidence=0.3)
    outcome = ops.add_lessons([low])
    (stored,) = load_global().lessons
    assert stored.needs_review is True
    assert outcome.manifest is not None and outcome.manifest.count == 0
    assert [x.lesson.id for x in ops.pending_review()] == [low.id]
    # approving lifts it to the floor so it reaches the manifest
    approved = ops.approve([low.id])
    assert approved.manifest is not None and approved.manifest.count == 1
    assert load_global().lessons[0].confidence == 0.5 and not load_global().lessons[0].needs_review


def test_a_low_confidence_duplicate_does_not_demote_an_approved_lesson() -> None:
    ops.add_lessons([lesson()])
    ops.add_lessons([lesson(confidence=0.2)])
    (stored,) = load_global().lessons
    assert stored.needs_review is False and stored.confidence == 0.9


def test_secrets_and_home_paths_are_redacted_before_storing() -> None:
    secret = "ghp_" + "a1B2" * 9
    prov = Provenance(evidence=(EvidenceRef(file="/home/alice/.claude/x.jsonl", call_id="c",
                                            failing=f"curl -H 'Authorization: Bearer {secret}' x"),))
    ops.add_lessons([lesson(mistake=f"token {secret} leaked", provenance=prov)])
    text = global_store_path().read_text()
    assert secret not in text and "[REDACTED]" in text and "/home/alice" not in text


def test_project_store_lives_in_the_repo_and_is_registered(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "src" / "deep").mkdir(parents=True)
    assert find_project_root(repo / "src" / "deep") == repo.resolve()
    ops.add_lessons([lesson(scope="project")], project_root=repo)
    lf = load_lesson_file(project_store_path(repo), "project", repo)
    assert lf.lessons[0].scope == "project"
    assert registered_projects() == [repo.resolve()]
    assert not list((repo / ".forewarn").glob("*.lock"))  # locks live in FOREWARN_HOME
    with pytest.raises(ForewarnError, match="project directory"):
        ops.add_lessons([lesson(scope="project")])


def test_written_files_keep_their_permissions() -> None:
    ops.add_lessons([lesson()])
    path = global_store_path()
    os.chmod(path, 0o640)
    ops.add_lessons([lesson("second", remediation="y")])
    assert path.stat().st_mode & 0o777 == 0o640


def test_every_stored_lesson_validates_against_the_schema() -> None:
    ops.add_lessons([lesson(provenance=evidence("c1")), lesson("x", remediation="y", confidence=0.1)])
    for raw in json.loads(global_store_path().read_text())["lessons"]:
        assert validate(raw, definition(model.Lesson)) == []

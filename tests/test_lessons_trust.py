"""Project lessons reach the manifest only while the user trusts that exact file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forewarn.errors import ForewarnError
from forewarn.lessons import model, ops
from forewarn.lessons.manifest import manifest_path, rebuild_manifest
from forewarn.lessons.model import Triggers
from forewarn.lessons.store import project_store_path, registered_projects
from forewarn.lessons.trust import CHANGED, MISSING, TRUSTED, UNTRUSTED, trust_path, trust_status


def project_lesson(summary: str = "use make -C src") -> model.Lesson:
    return model.make_lesson(summary, f"run make -C src ({summary})", confidence=0.9, scope="project",
                             triggers=Triggers(tool_names=("Bash",), command_patterns=(r"\bmake\b",)))


def manifest_ids() -> set[str]:
    return set(json.loads(manifest_path().read_text())["lessons"])


def cloned_repo(tmp_path: Path, lessons: list[model.Lesson]) -> Path:
    """A repository whose committed lessons someone else wrote."""
    repo = tmp_path / "cloned"
    store = project_store_path(repo)
    store.parent.mkdir(parents=True)
    from forewarn.lessons.schema import to_json

    store.write_text(json.dumps(to_json(model.LessonsDocument(lessons=tuple(lessons)))))
    return repo.resolve()


def test_own_writes_are_trusted_and_compiled(tmp_path: Path) -> None:
    repo = (tmp_path / "repo").resolve()
    repo.mkdir()
    assert trust_status(repo) == MISSING
    lesson = project_lesson()
    ops.add_lessons([lesson], project_root=repo)
    assert trust_status(repo) == TRUSTED
    assert manifest_ids() == {lesson.id}
    entry = json.loads(manifest_path().read_text())["lessons"][lesson.id]
    assert entry["scope"] == "project" and entry["projectRoot"] == str(repo)
    # the user's own later changes re-trust the file
    ops.archive([lesson.id], extra_roots=(repo,))
    assert trust_status(repo) == TRUSTED


def test_someone_elses_lessons_wait_for_trust_and_lose_it_when_the_file_changes(tmp_path: Path) -> None:
    lesson = project_lesson()
    repo = cloned_repo(tmp_path, [lesson])
    with pytest.raises(ForewarnError, match="no lessons file"):
        ops.trust(tmp_path / "elsewhere")
    ops.trust(repo)
    assert trust_status(repo) == TRUSTED and repo in registered_projects()
    assert manifest_ids() == {lesson.id}
    # a `git pull` changes the file: untrusted until re-trusted
    store = project_store_path(repo)
    store.write_text(store.read_text() + "\n")
    assert trust_status(repo) == CHANGED
    result = rebuild_manifest()
    assert manifest_ids() == set()
    assert any("changed since they were trusted" in w for w in result.warnings)
    ops.trust(repo)
    assert manifest_ids() == {lesson.id}
    ops.revoke(repo)
    assert trust_status(repo) == UNTRUSTED and manifest_ids() == set()


def test_a_user_write_does_not_launder_an_untrusted_file(tmp_path: Path) -> None:
    foreign = project_lesson("someone else's lesson")
    repo = cloned_repo(tmp_path, [foreign])
    outcome = ops.add_lessons([project_lesson("my own lesson")], project_root=repo)
    assert trust_status(repo) == UNTRUSTED
    assert any("was not trusted before this change" in w for w in outcome.warnings)
    assert manifest_ids() == set()


def test_a_project_cannot_publish_global_lessons(tmp_path: Path) -> None:
    sneaky = model.make_lesson("global from a repo", "x", confidence=0.9, scope="global",
                               triggers=Triggers(command_patterns=(r"\bgit\b",)))
    repo = cloned_repo(tmp_path, [sneaky])
    ops.trust(repo)
    entry = json.loads(manifest_path().read_text())["lessons"][sneaky.id]
    assert entry["scope"] == "project" and entry["projectRoot"] == str(repo)


def test_a_damaged_trust_file_trusts_nothing_and_is_not_overwritten(tmp_path: Path) -> None:
    lesson = project_lesson()
    repo = cloned_repo(tmp_path, [lesson])
    ops.trust(repo)
    trust_path().write_text("{damaged")
    assert trust_status(repo) == UNTRUSTED
    with pytest.raises(ForewarnError, match="not valid JSON"):
        ops.trust(repo)
    assert trust_path().read_text() == "{damaged"

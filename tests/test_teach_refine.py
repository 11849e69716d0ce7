"""`forewarn lessons refine`: heuristic candidates cleaned by a (loopback) teacher, validated against
their evidence before they are stored; `--dry-run` prints exactly what would be sent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from forewarn.cli.main import cli
from forewarn.lessons import model, ops
from forewarn.lessons.model import EvidenceRef, Provenance, Triggers
from forewarn.teach.base import get_teacher
from forewarn.teach.refine import REFINED_TAG, apply_answer, candidates
from forewarn.teach.rules import MalformedAnswer
from forewarn.teach.settings import load_teacher_settings
from tests.teach_fixtures import Reply, ScriptedServer, openai_answer, serve, write_config

TOKEN = "ghp_" + "A1b2C3d4" * 5
GOOD = {"summary": "pytest hangs here unless faulthandler is off",
        "mistake": "pytest's faulthandler stalls in this non-interactive shell.",
        "remediation": "Run `pytest -p no:faulthandler`.",
        "commandPatterns": [r"^(?!.*no:faulthandler).*\bpytest\b"], "tags": ["tool:pytest", "Bad Tag"]}


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    yield from serve()


@pytest.fixture
def candidate(isolated_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> model.Lesson:
    monkeypatch.chdir(tmp_path)  # the CLI also reads the current project's store: keep it empty
    lesson = model.make_lesson(
        "pytest stalls", "use the other flag", mistake="it hangs",
        triggers=Triggers(tool_names=("Bash",), command_patterns=(r"\bpytest\b",)), confidence=0.3,
        provenance=Provenance(source="heuristic", evidence=(EvidenceRef(
            file="s.jsonl", call_id="c1", failing="pytest -v tests/", fix="pytest -p no:faulthandler -v tests/",
            error=f"Timeout; GITHUB_TOKEN={TOKEN}"),)))
    outcome = ops.add_lessons([lesson], home=isolated_home)
    stored = outcome.lessons[0].lesson
    assert stored.needs_review
    return stored


def configure(home: Path, server: ScriptedServer) -> None:
    write_config(home, {"backend": "openai", "model": "m", "url": server.url, "retries": 0})


def test_dry_run_prints_exactly_the_payload_and_sends_nothing(candidate: model.Lesson, server: ScriptedServer,
                                                              isolated_home: Path) -> None:
    configure(isolated_home, server)
    res = CliRunner().invoke(cli, ["lessons", "refine", "--dry-run"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    (payload,) = json.loads(res.stdout)
    teacher = get_teacher(load_teacher_settings(isolated_home))
    from forewarn.teach.refine import build_refine_request

    assert payload == teacher.payload(build_refine_request(candidate, isolated_home))
    assert server.requests == []
    assert TOKEN not in res.stdout and "pytest -p no:faulthandler -v tests/" in res.stdout
    assert payload["messages"][0]["content"].endswith('"tags": ["category:value"]}')


def test_dry_run_without_a_teacher_shows_the_request(candidate: model.Lesson) -> None:
    res = CliRunner().invoke(cli, ["lessons", "refine", "--dry-run"], catch_exceptions=False)
    (payload,) = json.loads(res.stdout)
    assert set(payload) == {"system", "prompt", "fields"} and candidate.slug not in res.stdout
    res = CliRunner().invoke(cli, ["lessons", "refine"])
    assert res.exit_code != 0 and "no teacher is configured" in str(res.exception)


def test_refine_stores_a_validated_answer(candidate: model.Lesson, server: ScriptedServer,
                                         isolated_home: Path) -> None:
    configure(isolated_home, server)
    server.reply(Reply(body=openai_answer("```json\n" + json.dumps(GOOD) + "\n```")))
    res = CliRunner().invoke(cli, ["lessons", "refine", "--json"], catch_exceptions=False)
    out = json.loads(res.stdout)
    assert out["refined"] == 1 and out["failed"] == 0
    found, _ = ops.list_lessons(isolated_home)
    (lesson,) = [x.lesson for x in found]
    assert lesson.id == candidate.id and lesson.summary == GOOD["summary"]
    assert lesson.triggers.command_patterns == tuple(GOOD["commandPatterns"])
    assert lesson.triggers.tool_names == ("Bash",)
    assert lesson.needs_review  # refined is not approved
    assert {"tool:pytest", REFINED_TAG} <= set(lesson.tags) and "bad tag" not in " ".join(lesson.tags)
    assert candidates(isolated_home) == []  # done once
    assert CliRunner().invoke(cli, ["lessons", "refine"]).stdout.startswith("Nothing to refine")


def test_answers_that_break_the_evidence_are_rejected(candidate: model.Lesson, server: ScriptedServer,
                                                      isolated_home: Path) -> None:
    configure(isolated_home, server)
    loose = {**GOOD, "commandPatterns": [r"\bpytest\b.*\btests/"]}  # also fires on the fix
    server.reply(Reply(body=openai_answer(json.dumps(loose))))
    res = CliRunner().invoke(cli, ["lessons", "refine", "--json"], catch_exceptions=False)
    (item,) = json.loads(res.stdout)["items"]
    assert "fire on none of the failing calls" in item["error"]
    found, _ = ops.list_lessons(isolated_home)
    assert found[0].lesson == candidate  # untouched
    assert len(server.requests) == 1  # a rejected answer is not re-asked


def test_validation_rules(candidate: model.Lesson) -> None:
    with pytest.raises(MalformedAnswer, match="no remediation"):
        apply_answer(candidate, json.dumps({"summary": "s"}))
    with pytest.raises(Exception, match="unsafe"):
        apply_answer(candidate, json.dumps({**GOOD, "commandPatterns": ["(a+)+pytest"]}))
    with pytest.raises(Exception, match="does not compile"):
        apply_answer(candidate, json.dumps({**GOOD, "commandPatterns": ["pytest("]}))
    # no patterns in the answer: the original triggers are kept
    kept = apply_answer(candidate, json.dumps({**GOOD, "commandPatterns": []}))
    assert kept.triggers == candidate.triggers and kept.summary == GOOD["summary"]

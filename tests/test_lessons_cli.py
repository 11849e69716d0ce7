"""`forewarn lessons …` through click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from forewarn.cli.main import cli, main
from forewarn.lessons import model, ops
from forewarn.lessons.manifest import manifest_path
from forewarn.lessons.model import Triggers
from forewarn.lessons.store import global_store_path, project_store_path
from forewarn.lessons.ulid import new_ulid


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    monkeypatch.chdir(root)
    return root.resolve()


def run(*args: str, input: str | None = None) -> str:
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def add_pytest(*extra: str) -> dict:
    out = run("lessons", "add", "--summary", "pytest hangs without a TTY", "--fix", "use pytest --no-header",
              "--tool", "Bash", "--command-pattern", r"\bpytest\b(?!.*--no-header)", "--tag", "tool:pytest",
              *extra, "--json")
    return json.loads(out)["lessons"][0]


def test_add_list_show_and_the_manifest(repo: Path) -> None:
    added = add_pytest()
    assert added["priority"] == 7 and added["provenance"]["source"] == "manual"
    listed = json.loads(run("lessons", "list", "--json"))["lessons"]
    assert [x["id"] for x in listed] == [added["id"]] and listed[0]["projectRoot"] is None
    shown = json.loads(run("lessons", "show", added["slug"][:12], "--json"))
    assert shown["id"] == added["id"]
    assert "pytest hangs without a TTY" in run("lessons", "show", added["id"])
    assert "pytest-hangs" in run("lessons", "list")
    assert added["id"] in json.loads(manifest_path().read_text())["lessons"]


def test_add_to_the_project_store(repo: Path) -> None:
    added = add_pytest("--project")
    assert added["scope"] == "project" and added["projectRoot"] == str(repo)
    assert project_store_path(repo).exists() and not global_store_path().exists()
    entry = json.loads(manifest_path().read_text())["lessons"][added["id"]]
    assert entry["projectRoot"] == str(repo)


def test_add_rejects_bad_input_with_one_line(repo: Path) -> None:
    for args, message in (
        (["--tag", "not a tag"], "bad tag"),
        (["--command-pattern", "(unclosed"], "does not compile"),
    ):
        code = main(["lessons", "add", "--summary", "s", "--fix", "f", "--command-pattern", r"\bx\b", *args])
        assert code == 1, message
    assert main(["lessons", "add", "--summary", "s", "--fix", "f"]) == 1  # no trigger at all
    assert not global_store_path().exists()


def test_edit_with_set_and_with_the_editor(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    added = add_pytest()
    out = json.loads(run("lessons", "edit", added["id"], "--set", "priority=9", "--set", "tags+=lang:python",
                         "--set", "toolNames=Bash,exec_command", "--set", "action=block", "--json"))
    edited = out["lessons"][0]
    assert edited["priority"] == 9 and edited["tags"] == ["lang:python", "tool:pytest"]
    assert edited["triggers"]["toolNames"] == ["Bash", "exec_command"] and edited["action"] == "block"
    assert main(["lessons", "edit", added["id"], "--set", "priority=11"]) == 1
    assert main(["lessons", "edit", added["id"], "--set", "nonsense=1"]) == 1

    def fake_edit(text: str, extension: str = "") -> str:
        data = json.loads(text)
        data["summary"] = "edited in the editor"
        return json.dumps(data)

    monkeypatch.setattr("click.edit", fake_edit)
    run("lessons", "edit", added["slug"])
    (stored,) = json.loads(global_store_path().read_text())["lessons"]
    assert stored["summary"] == "edited in the editor" and stored["id"] == added["id"]
    monkeypatch.setattr("click.edit", lambda text, extension="": text.replace(added["id"], new_ulid()))
    assert main(["lessons", "edit", added["id"]]) == 1  # the id cannot change


def test_approve_reject_archive_and_ambiguous_references(repo: Path) -> None:
    low = model.make_lesson("low one", "x", confidence=0.3, triggers=Triggers(command_patterns=(r"\blow\b",)))
    other = model.make_lesson("low two", "y", confidence=0.3, triggers=Triggers(command_patterns=(r"\bother\b",)))
    ops.add_lessons([low, other])
    assert main(["lessons", "approve", "low"]) == 1  # matches both slugs
    out = json.loads(run("lessons", "approve", low.id, "--json"))
    assert out["lessons"][0]["needsReview"] is False and out["manifest"]["lessons"] == 1
    run("lessons", "reject", other.slug)
    run("lessons", "archive", low.id)
    assert json.loads(run("lessons", "list", "--json"))["lessons"] == []
    everything = json.loads(run("lessons", "list", "--all", "--json"))["lessons"]
    assert {x["status"] for x in everything} == {"archived", "rejected"}
    assert main(["lessons", "show", "zzz-no-such"]) == 1


def test_review_walks_pending_lessons_and_approves_above_a_threshold(repo: Path) -> None:
    from forewarn.lessons.model import EvidenceRef, Provenance

    prov = Provenance(source="heuristic", evidence=(EvidenceRef(
        file="s.jsonl", call_id="c1", fix_call_id="c2", failing="python3 -m pytest", fix="uv run pytest",
        error="ModuleNotFoundError: No module named 'httpx'"),))
    first = model.make_lesson("first pending", "a", confidence=0.45, provenance=prov,
                              triggers=Triggers(command_patterns=(r"\bfirst\b",)))
    second = model.make_lesson("second pending", "b", confidence=0.3, triggers=Triggers(command_patterns=(r"\bsecond\b",)))
    third = model.make_lesson("third pending", "c", confidence=0.2, triggers=Triggers(command_patterns=(r"\bthird\b",)))
    ops.add_lessons([first, second, third])
    pending = json.loads(run("lessons", "review", "--json"))["lessons"]
    assert len(pending) == 3
    out = run("lessons", "review", input="a\nr\ns\n")
    assert "No module named 'httpx'" in out and "uv run pytest" in out
    states = {x["id"]: (x["status"], x["needsReview"]) for x in
              json.loads(run("lessons", "list", "--all", "--json"))["lessons"]}
    assert states == {first.id: ("active", False), second.id: ("rejected", False), third.id: ("active", True)}
    run("lessons", "review", "--approve-all-above", "0.1")
    assert json.loads(run("lessons", "review", "--json"))["lessons"] == []


def test_import_export_round_trip(repo: Path, tmp_path: Path) -> None:
    added = add_pytest()
    exported = tmp_path / "out.json"
    run("lessons", "export", "-o", str(exported))
    data = json.loads(exported.read_text())
    assert data["type"] == "forewarn-lessons" and [x["id"] for x in data["lessons"]] == [added["id"]]
    assert json.loads(run("lessons", "export"))["lessons"][0]["id"] == added["id"]
    out = json.loads(run("lessons", "import", str(exported), "--project", "--json"))
    assert out["added"] == 1 and out["lessons"][0]["scope"] == "project"
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    assert main(["lessons", "import", str(bad)]) == 1


def test_trust_and_revoke(repo: Path) -> None:
    add_pytest("--project")
    status = json.loads(run("lessons", "trust", "--revoke", "--json"))
    assert status["status"] == "untrusted" and status["manifest"]["lessons"] == 0
    status = json.loads(run("lessons", "trust", "--project", str(repo), "--json"))
    assert status["status"] == "trusted" and status["manifest"]["lessons"] == 1
    assert "trusted" in run("lessons", "trust")


def test_manifest_command_and_a_damaged_store_exit_cleanly(repo: Path) -> None:
    add_pytest()
    report = json.loads(run("lessons", "manifest", "--json"))
    assert report["lessons"] == 1 and report["warnings"] == []
    global_store_path().write_text("{broken")
    assert main(["lessons", "list"]) == 1
    assert main(["lessons", "add", "--summary", "s", "--fix", "f", "--command-pattern", "x"]) == 1
    assert global_store_path().read_text() == "{broken"


def test_every_subcommand_has_help() -> None:
    from forewarn.cli.commands.lessons import command

    for name in command.list_commands(None):  # type: ignore[arg-type]
        assert "Usage" in run("lessons", name, "--help")

"""`forewarn teach`: manual reports (`forewarn report-failure`) become rules, through the domain prompt
of their failure type, here with the agent-CLI teacher (a stand-in `claude` on PATH)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from forewarn.cli.main import cli
from tests.teach_fixtures import put_first_on_path, write_config, write_program

TEACHER_CLI = """
import json, os, sys
from pathlib import Path
prompt = sys.argv[sys.argv.index("-p") + 1]
log = Path(os.environ["TEACHER_LOG"])
log.write_text(log.read_text() + json.dumps(prompt) + "\\n" if log.exists() else json.dumps(prompt) + "\\n")
if os.environ.get("TEACHER_MODE") == "fail":
    print(json.dumps({"type": "result", "is_error": True, "result": "Credit balance is too low"}))
    sys.exit(0)
rule = {"rule": "List existing workflows before creating one", "when": "Adding automation",
        "why": "A second workflow duplicates the Command Parser", "category": "search_scope"}
print(json.dumps({"type": "result", "is_error": False, "result": json.dumps(rule)}))
"""


@pytest.fixture
def setup(tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    write_program(bin_dir, "claude", TEACHER_CLI)
    put_first_on_path(monkeypatch, bin_dir)
    monkeypatch.setenv("TEACHER_LOG", str(tmp_path / "teacher.log"))
    write_config(isolated_home, {"backend": "claude-cli", "retries": 0})
    project = tmp_path / "proj"
    project.mkdir()
    for failure_type, text in (("integration_error", "Created a redundant workflow; token=abcdef1234567890"),
                               ("planning_error", "Started coding before reading the spec")):
        res = CliRunner().invoke(cli, ["report-failure", "--failure-type", failure_type, "--description", text,
                                       "--context", "Should have checked first", "--task", "Import workflows",
                                       "--project", str(project)], catch_exceptions=False)
        assert res.exit_code == 0, res.output
    return project


def prompts(tmp_path: Path) -> list[str]:
    return [json.loads(line) for line in (tmp_path / "teacher.log").read_text().splitlines()]


def handled(home: Path) -> list[int]:
    return [r[0] for r in sqlite3.connect(home / "forewarn.db").execute(
        "SELECT handled_at IS NOT NULL FROM reported_failures ORDER BY id")]


def test_dry_run_sends_and_marks_nothing(setup: Path, tmp_path: Path, isolated_home: Path) -> None:
    res = CliRunner().invoke(cli, ["teach", "--dry-run"], catch_exceptions=False)
    payloads = json.loads(res.stdout)
    assert [p["argv"][:2] for p in payloads] == [["claude", "-p"]] * 2
    assert "abcdef1234567890" not in res.stdout  # redacted before it could be sent
    assert not (tmp_path / "teacher.log").exists() and handled(isolated_home) == [0, 0]


def test_manual_reports_become_rules_with_their_domain_prompt(setup: Path, tmp_path: Path,
                                                              isolated_home: Path) -> None:
    (isolated_home / "prompts").mkdir()
    (isolated_home / "prompts" / "planning_error.md").write_text("CUSTOM PLANNING TEACHER")
    res = CliRunner().invoke(cli, ["teach", "--json", "--agent", "claude"], catch_exceptions=False)
    out = json.loads(res.stdout)
    assert out["taught"] == 2 and out["failed"] == 0
    integration, planning = prompts(tmp_path)
    assert "failed to\nintegrate with what already exists" in integration and "Failure type: integration_error" in integration
    assert "CUSTOM PLANNING TEACHER" in planning  # the user's prompt won
    assert "Should have checked first" in planning and "Import workflows" in planning
    assert handled(isolated_home) == [1, 1]
    claude_md = (setup / "CLAUDE.md").read_text()
    assert claude_md.count("List existing workflows before creating one") == 1  # same rule, one bullet
    assert "### Search Scope" in claude_md and "from manual report (planning_error)" in claude_md  # latest wins
    assert not (setup / ".forewarn").exists()  # a rule naming no files gets no hook lesson
    assert CliRunner().invoke(cli, ["teach"]).stdout.startswith("Nothing to teach")


def test_teacher_errors_leave_reports_for_the_next_run(setup: Path, isolated_home: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEACHER_MODE", "fail")
    res = CliRunner().invoke(cli, ["teach", "1"], catch_exceptions=False)
    assert "#1: no rule: claude-cli teacher: Credit balance is too low" in res.stdout
    assert handled(isolated_home) == [0, 0]
    res = CliRunner().invoke(cli, ["teach", "99"])
    assert "no reported failure #99" in str(res.exception)

"""`forewarn run`: a stand-in agent CLI in a temp git repo goes from red to green once the rule the
(loopback) teacher taught reaches CLAUDE.md; and the loop never commits to the user's history."""

from __future__ import annotations

import json
import shlex
import sqlite3
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from forewarn.cli.main import cli, main
from forewarn.errors import ForewarnError
from forewarn.loop import gitsnap
from forewarn.loop.agents import get_agent
from forewarn.loop.run import RunOptions, run_loop
from forewarn.loop.testcmd import detect_test_command
from tests.teach_fixtures import (
    AGENT_SCRIPT,
    RULE,
    Reply,
    ScriptedServer,
    git,
    make_project,
    openai_answer,
    put_first_on_path,
    serve,
    write_config,
    write_program,
)

TASK = "Fix safe_divide to return None when dividing by zero"
CHECK = f"{shlex.quote(sys.executable)} check.py"


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    yield from serve()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    bin_dir = tmp_path / "bin"
    for name in ("claude", "codex", "gemini"):
        write_program(bin_dir, name, AGENT_SCRIPT)
    put_first_on_path(monkeypatch, bin_dir)
    monkeypatch.setenv("AGENT_LOG", str(tmp_path / "agent.jsonl"))
    return make_project(tmp_path / "proj")


def agent_calls(tmp_path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (tmp_path / "agent.jsonl").read_text().splitlines()]


def teacher_config(home: Path, server: ScriptedServer) -> None:
    write_config(home, {"backend": "openai", "model": "teacher-model", "url": server.url + "/v1", "retries": 0})


def test_red_to_green_with_a_learned_rule(project: Path, tmp_path: Path, server: ScriptedServer,
                                          isolated_home: Path) -> None:
    teacher_config(isolated_home, server)
    server.reply(Reply(body=openai_answer(json.dumps(RULE))))
    head_before, log_before = git(project, "rev-parse", "HEAD"), git(project, "log", "--all", "--oneline")
    index_before = (project / ".git" / "index").read_bytes()

    runner = CliRunner()
    res = runner.invoke(cli, ["run", TASK, "--project-dir", str(project), "--test-cmd", CHECK, "--json"],
                        catch_exceptions=False)
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["status"] == "passed" and [a["testsPassed"] for a in out["attempts"]] == [False, True]
    assert out["teacher"] == "openai" and len(out["rules"]) == 1

    # the agent ran headless with the documented flags; the retry carried the rule and the failure
    first, second = agent_calls(tmp_path)
    assert first["argv"][:1] == ["-p"] and "--dangerously-skip-permissions" in first["argv"]
    assert first["argv"][-1] == TASK
    assert RULE["rule"] in second["argv"][-1] and "did not pass the tests" in second["argv"][-1]

    # the teacher saw the agent's diff and the failing output, redacted, and not forewarn's own files
    (asked,) = server.requests
    prompt = asked.body["messages"][1]["content"]
    assert "return 0  # nothing to divide by" in prompt and "FAILED test_safe_divide_by_zero" in prompt
    assert "notes.txt" in prompt  # untracked files are part of the change
    assert "sk-ant-abcdefghijklmnopqrstuvwxyz123" not in prompt
    assert "Failure type: test_failure" in prompt

    # the rule is in CLAUDE.md's marker section and in the project's lesson store
    claude_md = (project / "CLAUDE.md").read_text()
    assert "forewarn:start" in claude_md and f"**Rule**: {RULE['rule']}" in claude_md
    store = json.loads((project / ".forewarn" / "lessons.json").read_text())
    (lesson,) = store["lessons"]
    assert lesson["provenance"]["source"] == "teacher" and lesson["scope"] == "project"
    assert lesson["triggers"]["pathPatterns"] == ["calc.py"]  # the teacher's glob fits the change
    assert lesson["slug"] in out["lessons"]

    # no commit, no new ref, the user's index untouched
    assert git(project, "rev-parse", "HEAD") == head_before
    assert git(project, "log", "--all", "--oneline") == log_before
    assert (project / ".git" / "index").read_bytes() == index_before
    assert git(project, "diff", "--cached", "--name-only") == ""
    assert git(project, "stash", "list") == ""

    # the failed attempt is in the store for analytics, already handled by the teacher
    db = sqlite3.connect(isolated_home / "forewarn.db")
    rows = db.execute("SELECT failure_type, source, handled_at IS NOT NULL FROM reported_failures").fetchall()
    assert rows == [("test_failure", "run", 1)]


def test_without_teacher_retries_with_the_failure_only(project: Path, tmp_path: Path) -> None:
    result = run_loop(RunOptions(TASK, project, test_cmd=CHECK, max_retries=1))
    assert result.status == "failed" and len(result.attempts) == 2 and result.rules == []
    assert any("no teacher is configured" in w for w in result.warnings)
    calls = agent_calls(tmp_path)
    assert "FAILED test_safe_divide_by_zero" in calls[1]["argv"][-1]
    assert "[REDACTED]" in calls[1]["argv"][-1]  # the quoted failure is redacted too
    assert not (project / "CLAUDE.md").exists()


def test_cli_exit_status_and_summary_when_still_red(project: Path) -> None:
    res = CliRunner().invoke(cli, ["run", TASK, "--project-dir", str(project), "--test-cmd", CHECK,
                                   "--max-retries", "0"], catch_exceptions=False)
    assert res.exit_code == 1
    assert "tests still fail after 1 attempt" in res.stdout and "#1: tests failed (exit 1)" in res.stdout
    # the console entry point keeps the status too (click returns it instead of exiting)
    assert main(["-q", "run", TASK, "--project-dir", str(project), "--test-cmd", CHECK, "--max-retries", "0"]) == 1


def test_no_auto_retry_stops_after_learning(project: Path, server: ScriptedServer, isolated_home: Path) -> None:
    teacher_config(isolated_home, server)
    server.reply(Reply(body=openai_answer(json.dumps(RULE))))
    result = run_loop(RunOptions(TASK, project, test_cmd=CHECK, auto_retry=False))
    assert result.status == "stopped" and len(result.attempts) == 1 and len(result.rules) == 1
    assert result.next_step is not None and "1 learned rule" in result.next_step
    assert RULE["rule"] in (project / "CLAUDE.md").read_text()


def test_teacher_failure_costs_the_rule_not_the_run(project: Path, server: ScriptedServer,
                                                     isolated_home: Path) -> None:
    teacher_config(isolated_home, server)
    server.reply(Reply(body=openai_answer("no idea")))
    result = run_loop(RunOptions(TASK, project, test_cmd=CHECK, max_retries=1))
    assert result.status == "failed" and len(result.attempts) == 2
    assert all(a.teacher_error and "after 2 answers" in a.teacher_error for a in result.attempts)
    assert len(server.requests) == 4  # asked, re-asked, for each attempt


def test_agent_error_stops_the_run(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_MODE", "fail")
    result = run_loop(RunOptions(TASK, project, test_cmd=CHECK))
    assert result.status == "agent_error" and len(result.attempts) == 1
    assert "exited with 1: not logged in" in result.attempts[0].agent_message
    assert result.attempts[0].test_exit is None  # the tests were not run


def test_timeouts(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_MODE", "sleep")
    result = run_loop(RunOptions(TASK, project, test_cmd=f"{shlex.quote(sys.executable)} -c 'import time; time.sleep(5)'",
                                 max_retries=0, agent_timeout=0.2, test_timeout=0.2))
    (attempt,) = result.attempts
    assert attempt.agent_timed_out and attempt.test_timed_out and not attempt.tests_passed
    assert "[timed out after 0.2s]" in attempt.test_output


@pytest.mark.parametrize("agent", ["codex", "gemini"])
def test_other_agents_run_headless(project: Path, tmp_path: Path, agent: str) -> None:
    result = run_loop(RunOptions(TASK, project, agent=agent, test_cmd=CHECK, max_retries=0))
    assert result.attempts[0].agent_ok
    (call,) = agent_calls(tmp_path)
    if agent == "codex":
        assert call["argv"][:5] == ["exec", "--sandbox", "workspace-write", "--skip-git-repo-check", TASK]
    else:
        assert call["argv"][-2:] == ["-p", TASK] and "yolo" in call["argv"]


def test_user_mistakes_are_one_line_errors(project: Path, tmp_path: Path, isolated_home: Path) -> None:
    with pytest.raises(ForewarnError, match="not a directory"):
        run_loop(RunOptions(TASK, tmp_path / "missing", test_cmd="true"))
    with pytest.raises(ForewarnError, match="no test command found"):
        run_loop(RunOptions(TASK, tmp_path / "bin"))
    write_config(isolated_home, {"backend": "gpt9"})
    with pytest.raises(ForewarnError, match="unknown teacher backend"):
        run_loop(RunOptions(TASK, project, test_cmd="true"))


def test_test_command_detection(tmp_path: Path) -> None:
    py = tmp_path / "py"
    (py / "tests").mkdir(parents=True)
    assert "pytest" in detect_test_command(py).label
    (py / ".venv" / "bin").mkdir(parents=True)
    (py / ".venv" / "bin" / "python").write_text("")
    assert detect_test_command(py).argv[:3] == (str(py / ".venv" / "bin" / "python"), "-m", "pytest")
    js = tmp_path / "js"
    js.mkdir()
    (js / "package.json").write_text(json.dumps({"scripts": {"test": "vitest run"}}))
    assert detect_test_command(js).argv == ("npm", "test")
    (js / "package.json").write_text(json.dumps({"scripts": {"test": "echo \"Error: no test specified\""}}))
    with pytest.raises(ForewarnError):
        detect_test_command(js)
    assert detect_test_command(js, "make check").label == "make check"


def test_snapshots_diff_without_touching_the_repo(tmp_path: Path) -> None:
    repo = make_project(tmp_path / "r")
    assert gitsnap.repo_root(tmp_path) is None and gitsnap.snapshot(tmp_path) is None
    index = (repo / ".git" / "index").read_bytes()
    before = gitsnap.snapshot(repo)
    (repo / "calc.py").write_text("changed\n")
    (repo / "new.txt").write_text("new\n")
    (repo / ".gitignore").write_text("ignored.log\n")
    (repo / "ignored.log").write_text("noise\n")
    after = gitsnap.snapshot(repo)
    assert before and after and before != after
    assert gitsnap.changed_files(repo, before, after) == [".gitignore", "calc.py", "new.txt"]
    assert gitsnap.changed_files(repo, before, after, exclude=["new.txt"]) == [".gitignore", "calc.py"]
    assert "+changed" in gitsnap.diff(repo, before, after)
    assert (repo / ".git" / "index").read_bytes() == index
    assert git(repo, "status", "--porcelain").splitlines() == [" M calc.py", "?? .gitignore", "?? new.txt"]
    assert gitsnap.changed_files(repo, gitsnap.head_tree(repo), after) == [".gitignore", "calc.py", "new.txt"]


def test_agent_adapters_know_their_instruction_files() -> None:
    assert [get_agent(n).instructions for n in ("claude", "codex", "gemini")] == ["CLAUDE.md", "AGENTS.md", "GEMINI.md"]
    with pytest.raises(ForewarnError, match="unknown agent"):
        get_agent("cursor")

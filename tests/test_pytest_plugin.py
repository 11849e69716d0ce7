"""The pytest plugin: inactive unless asked; then failing tests (clipped, redacted) land in the store,
where analytics count them and `forewarn teach` teaches one rule per failing run."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from click.testing import CliRunner

from forewarn.cli.main import cli
from tests.teach_fixtures import RULE, Reply, ScriptedServer, serve, write_config

SECRET = "sk-ant-api03-" + "q" * 40
TESTS = f'''
import pytest

def test_ok():
    pass

def test_bad():
    token = "{SECRET}"
    assert token == "nope", "leaked " + token

@pytest.fixture
def broken():
    raise RuntimeError("setup boom")

def test_setup_error(broken):
    pass

@pytest.mark.xfail
def test_expected():
    assert 0

@pytest.mark.skip
def test_skipped():
    assert 0
'''


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    yield from serve()


def run_pytest(project: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    installed = any(ep.name == "forewarn" for ep in entry_points(group="pytest11"))
    load = [] if installed else ["-p", "forewarn.pytest_plugin"]  # the entry point loads it when installed
    return subprocess.run([sys.executable, "-m", "pytest", *load, "-q", "-p", "no:cacheprovider", *args],
                          cwd=project, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=60)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "test_sample.py").write_text(TESTS)
    return root


def rows(db: Path) -> list[tuple[str, ...]]:
    conn = sqlite3.connect(db)
    return conn.execute("SELECT failure_type, source, description, context, project, ts FROM reported_failures"
                        " ORDER BY id").fetchall()


def test_entry_point_is_declared() -> None:
    data = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    assert data["project"]["entry-points"]["pytest11"] == {"forewarn": "forewarn.pytest_plugin"}


def test_inactive_unless_enabled(project: Path, tmp_path: Path) -> None:
    db = tmp_path / "off.db"
    done = run_pytest(project, "--forewarn-db", str(db), env={"FOREWARN_RECORD": ""})
    assert done.returncode == 1, done.stdout + done.stderr
    assert not db.exists() and "forewarn:" not in done.stdout


def test_records_failures_clipped_and_redacted(project: Path, tmp_path: Path, server: ScriptedServer,
                                               isolated_home: Path) -> None:
    db = isolated_home / "forewarn.db"
    done = run_pytest(project, env={"FOREWARN_RECORD": "1"})
    assert done.returncode == 1
    assert f"forewarn: recorded 2 failing test(s) in {db}" in done.stdout
    found = rows(db)
    assert [(r[0], r[1]) for r in found] == [("test_failure", "pytest")] * 2
    assert found[0][2].startswith("test_sample.py::test_bad failed: AssertionError: leaked")
    assert found[1][2].startswith("test_sample.py::test_setup_error error in setup")
    assert "RuntimeError: setup boom" in found[1][3]
    assert all(SECRET not in r[2] and SECRET not in r[3] for r in found)
    assert {r[4] for r in found} == {str(project)} and len({r[5] for r in found}) == 1

    # one pytest run → one teaching request, with both failures
    res = CliRunner().invoke(cli, ["teach", "--dry-run", "--json"], catch_exceptions=False)
    (group,) = json.loads(res.stdout)["groups"]
    assert group["ids"] == [1, 2] and group["source"] == "pytest" and group["failureType"] == "test_failure"
    assert "test_setup_error" in group["payload"]["prompt"] and SECRET not in res.stdout

    # taught for real through the webhook backend: a rule, a lesson, the rows handled
    write_config(isolated_home, {"backend": "webhook", "url": server.url + "/hook", "retries": 0})
    server.reply(Reply(body={"output": json.dumps(RULE)}))
    res = CliRunner().invoke(cli, ["teach", "--agent", "claude"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "#1, #2: - **Rule**: Return None" in res.stdout
    assert server.requests[0].body["failure_type"] == "test_failure"
    assert "test_sample.py::test_bad" in server.requests[0].body["error_logs"]
    assert RULE["rule"] in (project / "CLAUDE.md").read_text()
    assert json.loads((project / ".forewarn" / "lessons.json").read_text())["lessons"][0]["provenance"]["source"] == "teacher"
    assert CliRunner().invoke(cli, ["teach"]).stdout.startswith("Nothing to teach")


def test_cli_option_and_database_option(project: Path, tmp_path: Path) -> None:
    db = tmp_path / "chosen.db"
    done = run_pytest(project, "--forewarn-record", "--forewarn-db", str(db), "-k", "bad")
    assert done.returncode == 1 and f"recorded 1 failing test(s) in {db}" in done.stdout
    assert len(rows(db)) == 1

"""The pytest plugin: inactive unless asked; then failing tests (clipped, redacted) land in the store,
where analytics count them and `forewarn teach` teaches one rule per failing run."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from click.testing import CliRunner

from forewarn.cli.main import cli
from tests.teach_fixtures import RULE, Reply, ScriptedServer, serve, write_config

pytest_plugins = ["pytester"]

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


def run_pytest(pytester: pytest.Pytester, *args: str) -> tuple[int, str]:
    """pytest run in-process on the sample project (pytester: a real session, fast)."""
    installed = any(ep.name == "forewarn" for ep in entry_points(group="pytest11"))
    load = [] if installed else ["-p", "forewarn.pytest_plugin"]  # the entry point loads it when installed
    # hypothesis's plugin would import all of hypothesis afresh in every in-process run
    result = pytester.runpytest(*load, "-q", "-p", "no:cacheprovider", "-p", "no:hypothesispytest", *args)
    return int(result.ret), result.stdout.str()


@pytest.fixture
def project(pytester: pytest.Pytester) -> Path:
    pytester.makepyfile(test_sample=TESTS)
    return pytester.path


def rows(db: Path) -> list[tuple[str, ...]]:
    conn = sqlite3.connect(db)
    return conn.execute("SELECT failure_type, source, description, context, project, ts FROM reported_failures"
                        " ORDER BY id").fetchall()


def test_entry_point_is_declared() -> None:
    text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    assert '[project.entry-points.pytest11]\nforewarn = "forewarn.pytest_plugin"' in text


def test_inactive_unless_enabled(pytester: pytest.Pytester, project: Path, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOREWARN_RECORD", "0")
    db = tmp_path / "off.db"
    code, out = run_pytest(pytester, "--forewarn-db", str(db))
    assert code == 1, out
    assert not db.exists() and "forewarn:" not in out


def test_records_failures_clipped_and_redacted(pytester: pytest.Pytester, project: Path, server: ScriptedServer,
                                               isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOREWARN_RECORD", "1")
    db = isolated_home / "forewarn.db"
    code, out = run_pytest(pytester)
    monkeypatch.delenv("FOREWARN_RECORD")
    assert code == 1
    assert f"forewarn: recorded 2 failing test(s) in {db}" in out
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


def test_cli_option_and_database_option(pytester: pytest.Pytester, project: Path, tmp_path: Path) -> None:
    db = tmp_path / "chosen.db"
    code, out = run_pytest(pytester, "--forewarn-record", "--forewarn-db", str(db), "-k", "bad")
    assert code == 1 and f"recorded 1 failing test(s) in {db}" in out
    assert len(rows(db)) == 1

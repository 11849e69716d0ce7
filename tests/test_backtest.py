from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from forewarn.cli.main import cli
from forewarn.eval.backtest import backtest
from tests.claude_builder import Transcript, slug


def history(root: Path, project: str, sessions: int) -> None:
    """A project whose agent keeps running `python3` where only `uv run` works."""
    for n in range(sessions):
        t = Transcript(cwd=project, session_id=f"{slug(project)}-{n}")
        t.lines.clear()
        t._n = n * 100  # later sessions start later
        t.bash(f"{n}a", "python3 -m pytest -q", "ModuleNotFoundError: No module named 'httpx'", code=1)
        t.bash(f"{n}b", "uv run pytest -q", "3 passed")
        t.bash(f"{n}c", "git status", "clean")
        t.write(root / ".claude" / "projects" / slug(project) / f"s{n}.jsonl")


def test_lessons_learned_early_catch_later_failures(tmp_path: Path) -> None:
    history(tmp_path, "/work/shop", 6)
    result = backtest(tmp_path, "0.5")
    assert (result.train_sessions, result.test_sessions) == (3, 3)
    assert result.lessons == 1
    assert result.later_failures == 3 and result.covered_failures == 3
    assert result.caught == 3 and result.coverage == 1.0
    assert result.injections == 3 and result.irrelevant_rate == 0.0  # one per session, each followed by its failure


def test_a_lesson_never_fires_in_another_project(tmp_path: Path) -> None:
    history(tmp_path, "/work/shop", 4)
    other = Transcript(cwd="/work/other", session_id="o-1")
    other._n = 10_000
    other.bash("o1", "python3 -m pytest -q", "5 passed")
    other.write(tmp_path / ".claude" / "projects" / "-work-other" / "o.jsonl")
    result = backtest(tmp_path, "0.5")
    assert result.injections == 2  # the two later /work/shop sessions only


def test_backtest_cli_json(tmp_path: Path) -> None:
    history(tmp_path, "/work/shop", 4)
    out = CliRunner().invoke(cli, ["eval", "backtest", str(tmp_path), "--split", "0.5", "--json"],
                             catch_exceptions=False).output
    data = json.loads(out)
    assert data["coverage"] == 1.0 and data["irrelevant_rate"] == 0.0
    assert CliRunner().invoke(cli, ["eval", "backtest", str(tmp_path), "--split", "nope"]).exit_code != 0

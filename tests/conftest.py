"""Shared test setup: every test gets its own forewarn home and agent dirs, never the user's."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

import pytest

# Test modules import forewarn while they are collected, before any fixture runs, and forewarn
# reads its home then (the regex cache, `forewarn.regexes`): not the user's either.
_COLLECTION_HOME = tempfile.mkdtemp(prefix="forewarn-tests-")
os.environ["FOREWARN_HOME"] = _COLLECTION_HOME
atexit.register(shutil.rmtree, _COLLECTION_HOME, True)

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "forewarn-home"
    monkeypatch.setenv("FOREWARN_HOME", str(home))
    monkeypatch.setenv("CLAUDE_CONFIG_DIR", str(tmp_path / "claude-config"))
    monkeypatch.setenv("CODEX_HOME", str(tmp_path / "codex-home"))
    monkeypatch.setenv("HOME", str(tmp_path / "user-home"))
    monkeypatch.delenv("FOREWARN_DB", raising=False)
    return home


@pytest.fixture
def corpus() -> Path:
    if not CORPUS.is_dir():
        pytest.skip("../shared/corpus is not available")
    return CORPUS

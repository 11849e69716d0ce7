"""Where forewarn keeps its state and where the agents keep theirs.

All of forewarn's state lives under one directory: `$FOREWARN_HOME` if set, else the platform data
dir (`~/.local/share/forewarn` on Linux). `--db PATH` overrides just the database file.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_HOME = "FOREWARN_HOME"
DB_NAME = "forewarn.db"


def forewarn_home() -> Path:
    env = os.environ.get(ENV_HOME)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_path

    return user_data_path("forewarn", appauthor=False)


def default_db_path() -> Path:
    return forewarn_home() / DB_NAME


def claude_config_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Claude Code's config dir: `--claude-dir`, else `$CLAUDE_CONFIG_DIR`, else `~/.claude`."""
    if override:
        return Path(override).expanduser()
    env = os.environ.get("CLAUDE_CONFIG_DIR")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".claude"


def codex_home(override: str | os.PathLike[str] | None = None) -> Path:
    if override:
        return Path(override).expanduser()
    env = os.environ.get("CODEX_HOME")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".codex"


def gemini_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Gemini CLI's state dir: `$GEMINI_CLI_HOME/.gemini` when set, else `~/.gemini`."""
    if override:
        return Path(override).expanduser()
    env = os.environ.get("GEMINI_CLI_HOME")
    if env:
        return Path(env).expanduser() / ".gemini"
    return Path.home() / ".gemini"

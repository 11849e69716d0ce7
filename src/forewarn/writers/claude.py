"""Claude Code's instruction files, and where each kind of learning goes (seed 000's table).

- team (stable, version-controllable project facts: environment, paths, search scope, commands,
  large files) -> `<project>/CLAUDE.md`, or `<project>/.claude/CLAUDE.md` when only that exists;
- personal (true for this user or machine only: home paths, machine facts) ->
  `<project>/CLAUDE.local.md`, which Claude Code loads but is not meant to be committed;
- volatile (missing paths, retry patterns, permissions: may change, agent-specific) -> auto memory
  `<claude config dir>/projects/<slug>/memory/MEMORY.md`.

Auto memory belongs to the repository, not the subdirectory: Claude Code keys it by the canonical
git root (the main worktree's root, shared by all worktrees), or the project dir outside git.
"""

from __future__ import annotations

from pathlib import Path

from forewarn.errors import RefusedError
from forewarn.paths import claude_config_dir
from forewarn.writers.base import Writer

# Claude Code cuts longer slugs to this many characters and appends a hash of the path whose
# function depends on the runtime (Bun or Node): we look such a directory up instead of computing it.
MAX_SLUG = 200


def project_slug(path: str | Path) -> str:
    """Claude Code's directory name for a project: the absolute path with every character that is
    not an ASCII letter or digit replaced by `-`.

    Claude Code does this on UTF-16 code units (JavaScript strings), so a character outside the
    Basic Multilingual Plane (an emoji) becomes two dashes."""
    return "".join(
        ch if ch.isascii() and ch.isalnum() else ("--" if ord(ch) > 0xFFFF else "-")
        for ch in str(path)
    )


def canonical_git_root(start: Path) -> Path | None:
    """The root of the main worktree of the repository containing `start`, or None outside git.

    A linked worktree's `.git` is a file pointing into the main repository's `.git/worktrees/`,
    whose `commondir` leads back to the shared `.git`; a submodule's has no `commondir` and is its
    own root."""
    for directory in (start, *start.parents):
        dotgit = directory / ".git"
        if dotgit.is_dir():
            return directory
        if not dotgit.is_file():
            continue
        try:
            content = dotgit.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:
            return directory
        if not content.startswith("gitdir:"):
            return directory
        gitdir = Path(content[len("gitdir:") :].strip())
        if not gitdir.is_absolute():
            gitdir = directory / gitdir
        try:
            common = (gitdir / (gitdir / "commondir").read_text(encoding="utf-8").strip()).resolve()
        except OSError:
            return directory  # a submodule, or a worktree whose main repository has gone
        return common.parent if common.name == ".git" else directory
    return None


def memory_file(project_dir: Path, config_dir: Path | None = None) -> Path:
    """Claude Code's auto-memory index (`MEMORY.md`) for a project."""
    project = project_dir.expanduser().resolve()
    root = canonical_git_root(project) or project
    projects = (config_dir or claude_config_dir()) / "projects"
    slug = project_slug(root)
    if len(slug) > MAX_SLUG:
        prefix = slug[:MAX_SLUG] + "-"
        try:
            matches = sorted(
                p for p in projects.iterdir() if p.name.startswith(prefix) and p.is_dir()
            )
        except OSError:
            matches = []
        if len(matches) != 1:
            raise RefusedError(
                f"{root}: path too long to know Claude Code's memory folder "
                f"({len(matches)} candidates under {projects}); use an explicit target file"
            )
        return matches[0] / "memory" / "MEMORY.md"
    return projects / slug / "memory" / "MEMORY.md"


class ClaudeWriter(Writer):
    """Claude Code: CLAUDE.md (team), CLAUDE.local.md (personal), auto-memory MEMORY.md (volatile)."""

    name = "claude"

    def route_file(self, project_dir: Path, route: str) -> Path:
        if route == "personal":
            return project_dir / "CLAUDE.local.md"
        if route == "volatile":
            return memory_file(project_dir, self.config_dir)
        root_file = project_dir / "CLAUDE.md"
        nested = project_dir / ".claude" / "CLAUDE.md"
        return nested if nested.is_file() and not root_file.exists() else root_file

    def detect(self, project_dir: Path) -> bool:
        return any(
            (project_dir / name).exists() for name in ("CLAUDE.md", "CLAUDE.local.md", ".claude")
        )

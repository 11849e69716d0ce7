"""Writers for agents that read one project instruction file: Codex, opencode, Gemini, Cursor, Copilot.

Every route (team, personal, volatile) goes to that one file. None of these agents loads a
per-user, uncommitted file from the project next to the shared one the way Claude Code loads
CLAUDE.local.md (Codex's AGENTS.override.md *replaces* AGENTS.md instead of adding to it), so a
second file would simply never be read. A user who does not want personal learnings in a committed
file passes an explicit target file instead.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from forewarn.writers.base import Writer


class SingleFileWriter(Writer):
    """An agent with one instruction file at `relpath`, detected by any of `signs`."""

    relpath: ClassVar[str] = ""
    signs: ClassVar[tuple[str, ...]] = ()

    def route_file(self, project_dir: Path, route: str) -> Path:
        return project_dir / self.relpath

    def detect(self, project_dir: Path) -> bool:
        return any((project_dir / sign).exists() for sign in self.signs)


class CodexWriter(SingleFileWriter):
    """Codex CLI reads AGENTS.md from the repository root down to the working directory."""

    name = "codex"
    relpath = "AGENTS.md"
    signs = ("AGENTS.md", ".codex")


class OpencodeWriter(SingleFileWriter):
    """opencode reads AGENTS.md too; detected by its own config, since AGENTS.md alone means Codex."""

    name = "opencode"
    relpath = "AGENTS.md"
    signs = ("opencode.json", "opencode.jsonc", ".opencode")


class GeminiWriter(SingleFileWriter):
    """Gemini CLI reads GEMINI.md in the workspace and its parents."""

    name = "gemini"
    relpath = "GEMINI.md"
    signs = ("GEMINI.md", ".gemini")


class CursorWriter(SingleFileWriter):
    """Cursor reads project rules from `.cursor/rules/*.mdc`; ours is always applied.

    The MDC frontmatter is written once, when the file is created, and then left to the user."""

    name = "cursor"
    relpath = ".cursor/rules/forewarn.mdc"
    signs = (".cursor", ".cursorrules")
    new_file_prefix = (
        "---\n"
        "description: Lessons forewarn learned from past agent sessions in this project\n"
        "globs:\n"
        "alwaysApply: true\n"
        "---\n"
    )


class CopilotWriter(SingleFileWriter):
    """GitHub Copilot reads `.github/copilot-instructions.md` for the whole repository."""

    name = "copilot"
    relpath = ".github/copilot-instructions.md"
    signs = (".github/copilot-instructions.md", ".github/instructions")

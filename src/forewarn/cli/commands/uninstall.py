"""`forewarn uninstall AGENT`: defined next to `install` (same options, same renderer)."""

from __future__ import annotations

from forewarn.cli.commands.install import uninstall_command as command

__all__ = ["command"]

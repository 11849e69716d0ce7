"""Readers: one per agent, each turning that agent's logs into the agent-neutral model.

Readers are found through the `forewarn.readers` entry-point group; forewarn's own readers are
registered there too, like any third-party one (see docs/adapters.md). `get_reader` gives a helpful
error for an unknown name.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from forewarn.errors import ForewarnError
from forewarn.plugins import discover
from forewarn.readers.base import Reader, read_head

# Built-ins, used when the package's entry points are not installed (running from a source tree).
_BUILTIN = {
    "claude": "forewarn.readers.claude:ClaudeReader",
    "codex": "forewarn.readers.codex:CodexReader",
    "gemini": "forewarn.readers.gemini:GeminiReader",
}


@lru_cache(maxsize=1)
def registry() -> dict[str, Reader]:
    """Every available reader by agent name: built-ins first, then entry points (which may
    replace a built-in of the same name)."""
    return {name: cls() for name, cls in discover("forewarn.readers", _BUILTIN).items()}


def get_reader(name: str) -> Reader:
    readers = registry()
    try:
        return readers[name]
    except KeyError:
        known = ", ".join(sorted(readers))
        raise ForewarnError(f"unknown agent {name!r} (known: {known})") from None


def reader_for(path: Path, agents: list[str] | None = None) -> Reader | None:
    """The reader that recognises this file, or None.

    Sniffers look at a file's first lines. Most files tell within `_SNIFF_BYTES`; when none
    recognises so short a head, a longer one is tried, for a first line too long to show what
    tells (a Claude record names its session after a long first message)."""
    head = read_head(path, _SNIFF_BYTES)
    found = _sniff(path, head, agents)
    if found is None and len(head) == _SNIFF_BYTES:
        found = _sniff(path, read_head(path, _SNIFF_MORE), agents)
    return found


_SNIFF_BYTES = 16 * 1024
_SNIFF_MORE = 64 * 1024


def _sniff(path: Path, head: bytes, agents: list[str] | None) -> Reader | None:
    """The first reader that recognises `head`, trying first those whose name for a session log
    `path` has (`Reader.claims`): most files are then sniffed once, not by every reader before."""
    if not head:
        return None
    readers = [r for name, r in registry().items() if not agents or name in agents]
    for reader in sorted(readers, key=lambda r: not r.claims(path)):  # (stable: claimers first, in order)
        if reader.sniff(path, head):
            return reader
    return None

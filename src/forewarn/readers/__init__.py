"""Readers: one per agent, each turning that agent's logs into the agent-neutral model.

Readers are found through the `forewarn.readers` entry-point group; forewarn's own readers are
registered there too, like any third-party one (see docs/adapters.md). `get_reader` gives a helpful
error for an unknown name.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.metadata import entry_points
from pathlib import Path

from forewarn.errors import ForewarnError
from forewarn.readers.base import Reader, read_head

# Built-ins, used when the package's entry points are not installed (running from a source tree).
_BUILTIN = {
    "claude": "forewarn.readers.claude:ClaudeReader",
    "codex": "forewarn.readers.codex:CodexReader",
    "gemini": "forewarn.readers.gemini:GeminiReader",
}


def _load(spec: str) -> type[Reader]:
    module_name, _, attr = spec.partition(":")
    module = __import__(module_name, fromlist=[attr])
    cls: type[Reader] = getattr(module, attr)
    return cls


@lru_cache(maxsize=1)
def registry() -> dict[str, Reader]:
    """Every available reader by agent name: built-ins first, then entry points (which may
    replace a built-in of the same name)."""
    found: dict[str, Reader] = {}
    for name, spec in _BUILTIN.items():
        found[name] = _load(spec)()
    for ep in entry_points(group="forewarn.readers"):
        if ep.value in _BUILTIN.values():
            continue
        try:
            cls = ep.load()
            found[ep.name] = cls()
        except Exception as exc:  # a broken plugin must not take forewarn down with it
            import warnings

            warnings.warn(f"forewarn: reader plugin {ep.name!r} failed to load: {exc}", stacklevel=2)
    return found


def get_reader(name: str) -> Reader:
    readers = registry()
    try:
        return readers[name]
    except KeyError:
        known = ", ".join(sorted(readers))
        raise ForewarnError(f"unknown agent {name!r} (known: {known})") from None


def reader_for(path: Path, agents: list[str] | None = None) -> Reader | None:
    """The reader that recognises this file, or None."""
    head = read_head(path)
    if not head:
        return None
    for name, reader in registry().items():
        if agents and name not in agents:
            continue
        if reader.sniff(path, head):
            return reader
    return None

"""Writers: deliver learnings into agents' instruction files, inside forewarn's marker section.

Writers are found through the `forewarn.writers` entry-point group; forewarn's own are registered
there too, like any third-party one. `get_writer` gives a helpful error for an unknown name.

The CLI's `learn` calls `plan_learnings` (a dry run: plans with diffs, nothing written) and then
`apply_plans`. Invariants: each file is planned once even when several agents share it (Codex and
opencode both read AGENTS.md; CLAUDE.md may be a symlink to it); `apply_plans` checks every file
before writing any, so a file changed since planning stops the run before anything is written.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

from forewarn.errors import ForewarnError, RefusedError
from forewarn.plugins import discover, load_spec
from forewarn.writers.base import ROUTES, Entry, Writer, drops_for, merge_section, suggest_route
from forewarn.writers.section import WritePlan, apply, plan_update

__all__ = [
    "ROUTES",
    "Entry",
    "WritePlan",
    "Writer",
    "apply_plans",
    "detect_agents",
    "get_writer",
    "plan_file",
    "plan_learnings",
    "registry",
    "suggest_route",
]

# Built-ins, used when the package's entry points are not installed (running from a source tree).
# Their order is the order of `detect_agents`' answer.
_BUILTIN = {
    "claude": "forewarn.writers.claude:ClaudeWriter",
    "codex": "forewarn.writers.agents:CodexWriter",
    "opencode": "forewarn.writers.agents:OpencodeWriter",
    "gemini": "forewarn.writers.agents:GeminiWriter",
    "cursor": "forewarn.writers.agents:CursorWriter",
    "copilot": "forewarn.writers.agents:CopilotWriter",
}
DEFAULT_AGENT = "claude"
_CURSOR = "forewarn.writers.agents:CursorWriter"  # its frontmatter serves any .mdc target


def _load(spec: str) -> type[Writer]:
    cls: type[Writer] = load_spec(spec)
    return cls


@lru_cache(maxsize=1)
def registry() -> dict[str, type[Writer]]:
    """Every available writer class by agent name: built-ins first, then entry points (which may
    replace a built-in of the same name)."""
    return discover("forewarn.writers", _BUILTIN)


def get_writer(name: str, config_dir: str | os.PathLike[str] | None = None) -> Writer:
    """The writer for agent `name`; `config_dir` is the agent's config dir (e.g. `--claude-dir`)."""
    writers = registry()
    try:
        return writers[name](config_dir)
    except KeyError:
        known = ", ".join(writers)
        raise ForewarnError(f"unknown agent {name!r} (known: {known})") from None


def detect_agents(project_dir: str | os.PathLike[str]) -> list[str]:
    """The agents a project shows signs of using (CLAUDE.md/.claude, AGENTS.md/.codex,
    GEMINI.md/.gemini, .cursor, .github/copilot-instructions.md…); `["claude"]` when none."""
    project = Path(project_dir)
    found = [name for name, cls in registry().items() if cls().detect(project)]
    return found or [DEFAULT_AGENT]


def plan_file(
    path: str | os.PathLike[str],
    entries: Iterable[Entry],
    *,
    drop: Iterable[str] = (),
    new_file_prefix: str = "",
) -> WritePlan:
    """Plan merging `entries` into the section of one file (see `base.merge_section`).

    A file that has no section and gets no entries is left alone (no empty section is created)."""
    items = list(entries)
    dropped = set(drop)

    def update(old: str | None) -> str | None:
        if old is None and not items:
            return None
        return merge_section(old, items, drop=dropped)

    return plan_update(path, update, new_file_prefix=new_file_prefix)


def plan_learnings(
    project_dir: str | os.PathLike[str],
    entries: Iterable[Entry],
    *,
    agents: Iterable[str] | None = None,
    retire: Iterable[str] = (),
    target: str | os.PathLike[str] | None = None,
    config_dirs: Mapping[str, str | os.PathLike[str]] | None = None,
) -> list[WritePlan]:
    """Plan writing `entries` for a project: one plan per file that has or gets a section.

    `agents` defaults to `detect_agents`. Each entry goes to the file its writer routes its
    `route` to; a file that already has a section is re-planned even without new entries, so
    `retire` (keys to remove) reaches it. `target` sends every entry to that one file instead.
    `config_dirs` maps agent names to their config dir (`{"claude": "~/.claude"}`)."""
    project = Path(project_dir).expanduser().absolute()
    items = list(entries)
    if target is not None:
        path = Path(target).expanduser()
        prefix = _load(_CURSOR).new_file_prefix if path.suffix == ".mdc" else ""
        plans = [plan_file(path, items, drop=retire, new_file_prefix=prefix)]
        return [p for p in plans if p.new is not None]

    assigned: dict[Path, list[Entry]] = {}
    prefixes: dict[Path, str] = {}
    canonical: dict[str, Path] = {}  # realpath -> the first path naming it
    dirs = config_dirs or {}
    for name in agents if agents is not None else detect_agents(project):
        writer = get_writer(name, dirs.get(name))
        for path, routed in writer.assign(project, items).items():
            path = canonical.setdefault(os.path.realpath(path), path)
            bucket = assigned.setdefault(path, [])
            have = {e.key for e in bucket}
            bucket.extend(e for e in routed if e.key not in have)
            prefixes.setdefault(path, writer.new_file_prefix)

    drops = drops_for(assigned, retire)
    plans = [
        plan_file(path, routed, drop=drops[path], new_file_prefix=prefixes[path])
        for path, routed in assigned.items()
    ]
    return [p for p in plans if p.new is not None]


def apply_plans(plans: Iterable[WritePlan]) -> list[Path]:
    """Write every changed plan; returns the paths written.

    Every file is checked against what its plan read before the first write, so a file edited
    meanwhile refuses the whole run rather than leaving it half done."""
    todo = [p for p in plans if p.changed]
    for p in todo:
        try:
            current: bytes | None = Path(os.path.realpath(p.path)).read_bytes()
        except FileNotFoundError:
            current = None
        if current != p.old:
            raise RefusedError(
                f"{p.path}: changed on disk since it was read; nothing written, run again"
            )
    return [p.path for p in todo if apply(p)]

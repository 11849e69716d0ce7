"""What every writer shares: `Entry`, the section's rendering and merge rules, and `Writer`.

A learning reaches an instruction file as an `Entry`: a category (a key of
`forewarn.analyze.findings.CATEGORIES`, whose value is the `###` heading), a stable key, one
markdown bullet line and a route (who the fact is for: "team", "personal" or "volatile").

Merge rules (`merge_section`), applied to the section already in a file:
- each generated bullet carries its key invisibly (a trailing `<!-- fw:KEY -->`);
- a keyed bullet whose key is in the new set is rewritten in place (under the new category's
  heading if the category changed); one whose key is not in the new set is KEPT as it is —
  nothing learned before is silently dropped — unless its key is in `drop` (retired, or moved to
  another file);
- anything a human wrote under a `###` heading (bullets without a key, notes, and lines indented
  under a generated bullet) is kept in place; the `## Learned by forewarn` heading and the note
  line above the first `###` are regenerated, other lines there are kept;
- headings come in `CATEGORIES` order, then any heading a human added, in their old order; new
  bullets go at the end of their heading in the caller's order; blank lines are normalised.
Rendering is deterministic, so running again with the same input gives the same bytes.
"""

from __future__ import annotations

import os
import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from forewarn import regexes
from forewarn.analyze.findings import CATEGORIES
from forewarn.errors import RefusedError

ROUTES = ("team", "personal", "volatile")

HEADING = "## Learned by forewarn"
NOTE = (
    "_Maintained by `forewarn learn`: bullets tagged `fw:` are regenerated (retire a key to remove"
    " one for good); lines you add under a heading are kept; other edits here are lost._"
)
_NOTE_PREFIX = "_Maintained by `forewarn learn`"

_KEY = regexes.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+=#-]*")
_KEYED = regexes.compile(r"(?P<line>.*?)[ \t]*<!-- fw:(?P<key>" + _KEY.pattern + r") -->[ \t]*")
_TITLE_TO_CATEGORY = {title: cat for cat, title in CATEGORIES.items()}
_HOME_PATH = regexes.compile(r"(?:^|[\s`'\"(=])(?:~/|/home/[^/\s]+|/Users/[^/\s]+|[A-Za-z]:\\Users\\)")


@dataclass(frozen=True, slots=True)
class Entry:
    """One learning for an instruction file.

    `text` is one markdown bullet line ("- " is added when missing; line breaks become spaces).
    `key` is a stable id (letters, digits and `._:/@+=#-`) that lets a re-run find the bullet."""

    category: str
    key: str
    text: str
    route: str = "team"

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"unknown category {self.category!r} (known: {', '.join(CATEGORIES)})")
        if not _KEY.fullmatch(self.key):
            raise ValueError(f"bad entry key {self.key!r}: use letters, digits and ._:/@+=#-")
        if self.route not in ROUTES:
            raise ValueError(f"unknown route {self.route!r} (known: {', '.join(ROUTES)})")
        if not self.text.strip():
            raise ValueError(f"entry {self.key!r} has no text")

    def bullet(self) -> str:
        """The rendered line, key included."""
        text = re.sub(r"\s*[\r\n]+\s*", " ", self.text).strip()
        # an HTML comment opener could be read as a marker or hide the rest of the line
        text = text.replace("<!--", "&lt;!--")
        if not text.startswith(("- ", "* ", "+ ")):
            text = "- " + text
        return f"{text} <!-- fw:{self.key} -->"


def suggest_route(kind: str, text: str, *, fix_known: bool = True) -> str:
    """Seed 000's table: where a learning of failure `kind` with this `text` belongs.

    - "personal": it names a home directory, so it is true for this user on this machine only;
    - "volatile": permissions, network retries, and missing paths with no known right location
      may change soon and are agent memory rather than project documentation;
    - "team": everything else (environment, paths, search scope, commands, large files) is a
      stable, version-controllable project fact."""
    if _HOME_PATH.search(text):
        return "personal"
    if kind in ("permission_denied", "network") or (kind == "path_not_found" and not fix_known):
        return "volatile"
    return "team"


@dataclass
class _Item:
    key: str | None  # None: written by a human
    lines: list[str]  # the bullet (or human line) and the lines indented under it


@dataclass
class _Parsed:
    top: list[str] = field(default_factory=list)  # human lines above the first ### heading
    groups: dict[str, list[_Item]] = field(default_factory=dict)  # heading title -> items


def _parse(body: str) -> _Parsed:
    parsed = _Parsed()
    items: list[_Item] | None = None
    for line in body.split("\n"):
        if not line.strip():
            continue
        if line.startswith("### "):
            items = parsed.groups.setdefault(line[4:].strip(), [])
            continue
        if items is None:
            if line.rstrip() != HEADING and not line.startswith(_NOTE_PREFIX):
                parsed.top.append(line)
            continue
        m = _KEYED.fullmatch(line)
        if m:
            items.append(_Item(m.group("key"), [line]))
        elif line[:1] in (" ", "\t") and items:
            items[-1].lines.append(line)  # indented under the previous bullet: belongs to it
        else:
            items.append(_Item(None, [line]))
    return parsed


def merge_section(old: str | None, entries: Iterable[Entry], *, drop: Iterable[str] = ()) -> str:
    """The new inner lines of a section: `entries` merged into the `old` inner lines (see the
    module docstring). `drop` holds keys to remove: retired ones and ones now routed elsewhere."""
    dropped = set(drop)
    new = [e for e in entries if e.key not in dropped]  # a retired key stays retired
    by_key: dict[str, Entry] = {}
    for e in new:
        if e.key in by_key:
            raise ValueError(f"duplicate entry key {e.key!r}")
        by_key[e.key] = e
    parsed = _parse(old) if old else _Parsed()

    groups: dict[str, list[_Item]] = {title: [] for title in CATEGORIES.values()}
    seen: set[str] = set()
    carried: dict[str, list[str]] = {}  # key -> lines a human indented under it, when it moves
    for title, items in parsed.groups.items():
        out = groups.setdefault(title, [])
        for item in items:
            key = item.key
            if key is None:
                out.append(item)
                continue
            if key in seen or key in dropped:
                continue
            seen.add(key)
            entry = by_key.get(key)
            if entry is None:
                out.append(item)
            elif CATEGORIES[entry.category] == title:
                out.append(_Item(key, [entry.bullet(), *item.lines[1:]]))
            else:
                carried[key] = item.lines[1:]
    for e in new:
        if e.key not in seen or e.key in carried:
            groups[CATEGORIES[e.category]].append(
                _Item(e.key, [e.bullet(), *carried.get(e.key, [])])
            )

    out_lines = [HEADING, "", NOTE, ""]
    if parsed.top:
        out_lines += [*parsed.top, ""]
    for title, items in groups.items():
        if not items:
            continue
        out_lines += [f"### {title}", ""]
        for item in items:
            out_lines += item.lines
        out_lines.append("")
    return "\n".join(out_lines[:-1]) + "\n"


class Writer(ABC):
    """Delivers entries to one agent's instruction files, by route.

    Subclasses set `name`, implement `route_file` and `detect`, and may set `new_file_prefix`
    (text put above the section when the file is created, e.g. MDC frontmatter)."""

    name: ClassVar[str] = ""
    new_file_prefix: ClassVar[str] = ""

    def __init__(self, config_dir: str | os.PathLike[str] | None = None) -> None:
        #: the agent's own config dir when it keeps files there (Claude Code's auto memory)
        self.config_dir = Path(config_dir).expanduser() if config_dir else None

    @abstractmethod
    def route_file(self, project_dir: Path, route: str) -> Path:
        """The file that entries with this route go to, for a project."""

    @abstractmethod
    def detect(self, project_dir: Path) -> bool:
        """Whether the project shows signs of using this agent."""

    def files(self, project_dir: Path) -> list[Path]:
        """Every file this writer may write for a project, team file first."""
        found: list[Path] = []
        for route in ROUTES:
            path = self.route_file(project_dir, route)
            if path not in found:
                found.append(path)
        return found

    def assign(self, project_dir: Path, entries: Iterable[Entry]) -> dict[Path, list[Entry]]:
        """Entries grouped by the file they go to; every file of `files` is a key.

        A route whose file cannot be known (`RefusedError`, e.g. Claude Code's memory folder for a
        very long path) is skipped when no entry takes it, and refused when one does."""
        items = list(entries)
        out: dict[Path, list[Entry]] = {}
        for route in ROUTES:
            try:
                path = self.route_file(project_dir, route)
            except RefusedError:
                if any(e.route == route for e in items):
                    raise
                continue
            out.setdefault(path, []).extend(e for e in items if e.route == route)
        return out


def drops_for(assigned: Mapping[Path, list[Entry]], retire: Iterable[str]) -> dict[Path, set[str]]:
    """For each file, the keys to remove from it: retired keys, and keys of this run that were
    routed to another file (a learning whose route changed moves instead of being duplicated)."""
    every = {e.key for entries in assigned.values() for e in entries}
    retired = set(retire)
    return {
        path: retired | (every - {e.key for e in entries}) for path, entries in assigned.items()
    }

"""The hook's view of the manifest: a per-family index it can read in well under a millisecond.

`$FOREWARN_HOME/manifest.json` (written by `forewarn.lessons`) holds every lesson with its regex
sources and texts. Parsing all of it and compiling every regex on every tool call would cost tens
of milliseconds with a thousand lessons, so the hook reads a derived index instead
(`forewarn.hook.indexer` builds it):

    $FOREWARN_HOME/hook-index/<stamp>/
        f-<family>.json   the family's lessons in rank order (priority, then confidence, descending):
                          {"config": {...},
                           "lessons": [n, ...],          detail number of each rank position
                           "block": [pos, ...],          positions whose action is "block"
                           "roots": [[pos, root], ...],  project lessons and their project root
                           "cs": {literal: [pos, ...]},  case-sensitive required literals
                           "ci": {literal: [pos, ...]},  lower-cased, for case-insensitive patterns
                           "always": [pos, ...]}         patterns with no required literal
        l/<n>.json        one lesson: texts and its patterns precompiled for this interpreter
        config.json       the manifest's config

`<stamp>` is the manifest's (mtime, size, inode) plus the interpreter's version, so a rebuilt
manifest or another Python never reads a stale or foreign index: it simply finds no directory and
builds its own. The directory appears by an atomic rename, so when it exists it is complete, and a
missing `f-<family>.json` inside it means "no lesson for this family" (the fast way out).

The literal maps are the prefilter: a lesson is a candidate only if one of the literals it is
listed under occurs in the text (or it is in "always"); only candidates have their regexes run.
The layout is inverted (literal -> positions) because the hook's cost is dominated by how many
JSON objects it parses, not by the substring tests.

This module is on the hot path: standard library only, nothing imported that `python -I -S` does
not already have loaded except `_json` (through `fastjson`).
"""

from __future__ import annotations

import os
import sys

from forewarn.hook import fastjson

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

MANIFEST_NAME = "manifest.json"
INDEX_DIR_NAME = "hook-index"
INDEX_FORMAT = 2  # 2: family tables and lesson details in marshal format

DEFAULT_CONFIG: dict[str, Any] = {
    "injectionBudgetBytes": 4096,
    "maxLessonsPerInjection": 3,
    "minConfidence": 0.5,
    "minPriority": 1,
    "compactionReinjectionThreshold": 7,
    "hookDeadlineMs": 150,
}

# Under IGNORECASE, `re` lets these match ASCII letters although str.lower() does not map them
# onto one ASCII letter (İ lowers to "i" plus a combining dot); the Kelvin sign lowers to "k".
_FOLD_TO_ASCII = {0x130: "i", 0x131: "i", 0x17F: "s"}


def fold_case(text: str) -> str:
    """Lower-case `text` so that every character `re.IGNORECASE` matches with an ASCII letter
    becomes that letter (the prefilter's case-insensitive literals are ASCII and lower-cased)."""
    if text.isascii():
        return text.lower()
    return text.translate(_FOLD_TO_ASCII).lower()


def forewarn_home() -> str:
    """`$FOREWARN_HOME`, else the same directory `platformdirs.user_data_path("forewarn")` names.

    Computed by hand: importing platformdirs would cost more than the rest of the hook."""
    env = os.environ.get("FOREWARN_HOME")
    if env:
        return os.path.expanduser(env)
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.expanduser("~\\AppData\\Local")
    elif sys.platform == "darwin":
        base = os.path.expanduser("~/Library/Application Support")
    else:
        base = os.environ.get("XDG_DATA_HOME", "")
        if not base.strip():
            base = os.path.expanduser("~/.local/share")
    return os.path.join(base, "forewarn")


def interpreter_tag() -> str:
    """Which interpreter an index was built for (precompiled regex code is version-specific)."""
    return f"{sys.implementation.name}{sys.hexversion:x}"


def index_dir_for(home: str, manifest_stat: os.stat_result) -> str:
    st = manifest_stat
    stamp = f"{st.st_mtime_ns:x}-{st.st_size:x}-{st.st_ino:x}-{INDEX_FORMAT}-{interpreter_tag()}"
    return os.path.join(home, INDEX_DIR_NAME, stamp)


def family_file_name(family: str) -> str:
    safe = family.isascii() and all(c.isalnum() or c in "_.-" for c in family) and family[:1] != "."
    return f"f-{family}.bin" if safe and family else f"f-x{family.encode().hex()}.bin"


def read_json(path: str) -> Any:
    with open(path, "rb") as f:
        return fastjson.loads(f.read())


def read_table(path: str) -> Any:
    """An index file. `marshal` loads ten times faster than JSON, and the index directory is
    keyed by the interpreter that built it; files are renamed into place whole, and anything
    unreadable raises, which the pipeline turns into `{}`."""
    import marshal

    with open(path, "rb") as f:
        return marshal.loads(f.read())


class FamilyIndex:
    """One family's prefilter tables plus where to find each lesson's details."""

    __slots__ = (
        "always",
        "block",
        "config",
        "directory",
        "lessons",
        "literals_ci",
        "literals_cs",
        "roots",
    )

    def __init__(self, directory: str, data: dict[str, Any]) -> None:
        self.directory = directory
        config = data.get("config")
        self.config: dict[str, Any] = config if isinstance(config, dict) else {}
        self.lessons: list[int] = data["lessons"]
        self.block: list[int] = data.get("block") or []
        self.roots: dict[int, str] = {pos: root for pos, root in data.get("roots") or ()}
        self.literals_cs: dict[str, list[int]] = data.get("cs") or {}
        self.literals_ci: dict[str, list[int]] = data.get("ci") or {}
        self.always: list[int] = data.get("always") or []

    def setting(self, name: str) -> Any:
        value = self.config.get(name)
        default = DEFAULT_CONFIG[name]
        # a hand-edited manifest may hold anything: fall back rather than misbehave
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            return default
        return type(default)(value)

    def candidates(self, targets: list[str]) -> list[int]:
        """Rank positions whose required literals occur in one of `targets`, best first."""
        found = set(self.always)
        for literal, positions in self.literals_cs.items():
            for text in targets:
                if literal in text:
                    found.update(positions)
                    break
        if self.literals_ci:
            lowered = [fold_case(text) for text in targets]
            for literal, positions in self.literals_ci.items():
                for text in lowered:
                    if literal in text:
                        found.update(positions)
                        break
        return sorted(found)

    def lesson(self, position: int) -> dict[str, Any]:
        n = self.lessons[position]
        detail = read_table(os.path.join(self.directory, "l", f"{n}.bin"))
        if not isinstance(detail, dict):
            raise ValueError(f"lesson detail {n} is not an object")
        return detail


def load_family(
    home: str, family: str, before_build: Callable[[], None] | None = None
) -> FamilyIndex | None:
    """The index of `family`, building the whole index first if the manifest changed.

    None when there is no manifest or no lesson for this family. Raises on a corrupt index or
    manifest; the caller answers `{}`. `before_build` runs before a (slow) build: the pipeline
    lifts its deadline there, which covers matching, not the once-per-manifest build."""
    try:
        st = os.stat(os.path.join(home, MANIFEST_NAME))
    except OSError:
        return None
    directory = index_dir_for(home, st)
    path = os.path.join(directory, family_file_name(family))
    for attempt in (0, 1):
        try:
            data = read_table(path)
        except FileNotFoundError:
            if os.path.isdir(directory):
                return None  # complete index without this family
            if attempt:
                return None
            if before_build is not None:
                before_build()
            from forewarn.hook.indexer import build_index

            built = build_index(home)
            if built is None:
                return None
            directory = built
            path = os.path.join(directory, family_file_name(family))
            continue
        if not isinstance(data, dict) or not isinstance(data.get("lessons"), list):
            raise ValueError(f"malformed hook index file {path}")
        return FamilyIndex(directory, data)
    return None  # pragma: no cover - the loop always returns


def load_config(home: str) -> dict[str, Any]:
    """The manifest's config merged over the defaults (for the rare session events)."""
    config = dict(DEFAULT_CONFIG)
    try:
        st = os.stat(os.path.join(home, MANIFEST_NAME))
        data = read_json(os.path.join(index_dir_for(home, st), "config.json"))
    except (OSError, ValueError):
        try:
            data = read_json(os.path.join(home, MANIFEST_NAME)).get("config")
        except (OSError, ValueError, AttributeError):
            data = None
    if isinstance(data, dict):
        for key, default in DEFAULT_CONFIG.items():
            value = data.get(key)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
                config[key] = type(default)(value)
    return config

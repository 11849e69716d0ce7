"""Regular expressions compiled once per interpreter, not once per process.

`re.compile` ends with `_sre.compile(source, flags, code, …)`. Everything before that call is a
compiler written in Python, and for forewarn's ~100 fixed patterns it takes ~22 ms of every
command's start-up. Its output, the SRE code, is a list of integers. Kept in a file, the code goes
straight to `_sre.compile` the next time, and all the patterns load in well under a millisecond.

- `compile(source, flags)` is for forewarn's own fixed patterns (module constants, never text from
  a session or a lesson). The first call loads this interpreter's cache file from forewarn's home.
  A pattern missing from it is compiled by `re.compile` and noted, and `save()` adds the noted
  patterns to the file. The CLI calls `save()` as a command ends.
- `code_record` and `from_record` make and use the same records for the hook's index, which keeps
  its lessons' patterns this way.

SRE code belongs to one interpreter version and build. The cache file's name carries the
interpreter's version and `_sre`'s magic number and code size. A record is rebuilt only by
`_sre.compile`, which validates the code it is given. Anything that fails (another interpreter's
record, a damaged file) falls back to `re.compile`. So the cache can cost speed, but it never
gives a different pattern. A test compares every cached forewarn pattern with `re.compile`'s.

Standard library only, and `re` is imported only for the slow path: the hook imports this module.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from pathlib import Path
    from typing import Any, AnyStr

    Key = tuple[str | bytes, int]

_CACHES_KEPT = 4  # cache files (one per forewarn version and interpreter) kept in the cache folder
_loaded: dict[Key, dict[str, Any]] | None = None  # this interpreter's cache file, once read
_missed: dict[Key, None] = {}  # compiled the slow way in this process, in order


def compile(source: AnyStr, flags: int = 0) -> re.Pattern[AnyStr]:
    """`re.compile(source, flags)`, from the cached SRE code when this interpreter has it."""
    key = (source, int(flags))
    cached = (_loaded if _loaded is not None else _load()).get(key)
    if cached is not None:
        pattern = from_record(cached)
        if pattern is not None:
            return pattern
    import re

    pattern = re.compile(source, flags)
    _missed[key] = None
    return pattern


def save() -> None:
    """Add the patterns compiled the slow way in this process to the cache file. A file that
    cannot be written only costs the next process the same compile time."""
    if not _missed:
        return
    records = dict(_loaded or {})
    for source, flags in _missed:
        record = code_record(source, flags)
        if record.get("code") is not None:
            records[(source, flags)] = record
    _missed.clear()
    try:
        import marshal

        from forewarn.fsutil import prune_oldest, write_bytes_atomic

        path = _cache_path()
        write_bytes_atomic(path, marshal.dumps(records))
        prune_oldest(path.parent, "regex-*.marshal", _CACHES_KEPT)
    except Exception:  # no writable home, no home at all…: the cache is only ever a shortcut
        pass


def code_record(source: str | bytes, flags: int, parsed: Any = None) -> dict[str, Any]:
    """What `_sre.compile` needs to rebuild `re.compile(source, flags)` (`parsed`: the pattern as
    `re`'s parser returns it, when the caller has it already). `code` is None when the pattern
    cannot be precompiled: `re.compile` is then the way (and says whether it compiles at all)."""
    record: dict[str, Any] = {"source": source, "flags": int(flags), "code": None}
    try:
        import _sre  # type: ignore[import-not-found,unused-ignore]

        if sys.version_info >= (3, 11):
            from re import _compiler as sre_compile
            from re import _parser as sre_parse
        else:  # pragma: no cover - Python 3.10
            import sre_compile
            import sre_parse
        if parsed is None:
            parsed = sre_parse.parse(source, flags)  # type: ignore[arg-type]  # bytes parse too
        code = [int(op) for op in sre_compile._code(parsed, flags)]  # type: ignore[attr-defined]
        groupindex = {str(name): int(i) for name, i in parsed.state.groupdict.items()}
        indexgroup: list[str | None] = [None] * parsed.state.groups
        for name, i in groupindex.items():
            indexgroup[i] = name
        all_flags = int(flags | parsed.state.flags)
        groups = parsed.state.groups - 1
        _sre.compile(source, all_flags, code, groups, groupindex, tuple(indexgroup))
    except Exception:
        return record
    record.update(code=code, all_flags=all_flags, groups=groups, groupindex=groupindex,
                  indexgroup=indexgroup)
    return record


def from_record(record: dict[str, Any]) -> re.Pattern[Any] | None:
    """The pattern `record` describes, or None when its code is missing or not this interpreter's."""
    code = record.get("code")
    if code is None:
        return None
    try:
        import _sre  # type: ignore[import-not-found,unused-ignore]

        pattern: re.Pattern[Any] = _sre.compile(record["source"], record["all_flags"], code, record["groups"],
                                                record["groupindex"], tuple(record["indexgroup"]))
        return pattern
    except Exception:
        return None


def _load() -> dict[Key, dict[str, Any]]:
    global _loaded
    _loaded = {}
    try:
        import marshal

        with open(_cache_path(), "rb") as f:
            records = marshal.loads(f.read())
        if isinstance(records, dict):
            _loaded = records
    except Exception:
        pass  # none yet, unreadable, no home: compile the slow way, and `save` writes a new one
    return _loaded


def _cache_path() -> Path:
    import _sre  # type: ignore[import-not-found,unused-ignore]

    from forewarn import __version__
    from forewarn.paths import forewarn_home

    tag = f"{sys.implementation.name}-{sys.hexversion:x}-{_sre.MAGIC}-{_sre.CODESIZE}"
    return forewarn_home() / "cache" / f"regex-{__version__}-{tag}.marshal"


def _reset() -> None:
    """Forget the loaded cache and what was missed, as a new process would (tests)."""
    global _loaded
    _loaded = None
    _missed.clear()


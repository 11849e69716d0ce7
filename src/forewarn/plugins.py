"""Adapters found through entry points: readers, writers and teachers share this one mechanism.

forewarn's own adapters are listed as built-in import specs (so a source tree works without the
package's entry points installed) and registered as entry points too, like any third-party one;
an entry point may replace a built-in of the same name. A plugin that fails to load is skipped
with a warning: it never takes forewarn down.

Reading every installed distribution's metadata costs ~25 ms per command (most of a short
command's start-up), so the `forewarn.*` entry points are cached under forewarn's home. The
cache is keyed by `sys.path` and the modification time of each of its entries: installing,
upgrading or removing a distribution adds or removes a `*.dist-info` folder, which changes its
parent's time, so a stale cache is never used. A cache that cannot be read or written only costs
the full lookup. The caches of the few environments used last are kept; older ones are removed.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from pathlib import Path
from typing import Any

import orjson

from forewarn import regexes
from forewarn.hashes import blake2b

_GROUP_PREFIX = "forewarn."
_CACHE_VERSION = 1
# `module.path:attr.path [extras]`, as importlib.metadata reads an entry point's value
_SPEC = regexes.compile(r"(?P<module>[\w.]+)\s*(?::\s*(?P<attr>[\w.]+)\s*)?(?:\[.*\])?\s*$")


def load_spec(spec: str) -> Any:
    """The object named by an import spec `module.path:attribute` (or a bare module)."""
    m = _SPEC.match(spec)
    if m is None:
        raise ValueError(f"not an import spec: {spec!r}")
    obj: Any = __import__(m["module"], fromlist=["_"])
    for part in (m["attr"] or "").split(".") if m["attr"] else ():
        obj = getattr(obj, part)
    return obj


def discover(group: str, builtins: dict[str, str], *, load_builtins: bool = True) -> dict[str, Any]:
    """name -> adapter for every built-in and every entry point of `group`, built-ins first.

    With `load_builtins=False` built-ins stay import specs (strings), loaded only when chosen, so
    that e.g. picking the webhook teacher never imports the Anthropic SDK."""
    found: dict[str, Any] = {name: load_spec(spec) if load_builtins else spec for name, spec in builtins.items()}
    own = set(builtins.values())
    for name, value in entry_points(group):
        if value in own:
            continue
        try:
            found[name] = load_spec(value)
        except Exception as exc:  # a broken plugin must not take forewarn down with it
            warnings.warn(f"forewarn: {group} plugin {name!r} failed to load: {exc}", stacklevel=3)
    return found


def entry_points(group: str) -> list[tuple[str, str]]:
    """(name, value) of each installed entry point of `group` (one of forewarn's groups)."""
    key = _environment_key()
    path = _cache_path()
    with contextlib.suppress(OSError, ValueError, TypeError, KeyError):  # unreadable: look again
        cached = orjson.loads(path.read_bytes())
        if cached["version"] == _CACHE_VERSION and cached["key"] == key:
            return [(str(n), str(v)) for n, v in cached["groups"].get(group, [])]
    groups = _scan_installed()
    with contextlib.suppress(OSError):
        from forewarn.fsutil import prune_oldest, write_bytes_atomic

        write_bytes_atomic(path, orjson.dumps({"version": _CACHE_VERSION, "key": key, "groups": groups}))
        prune_oldest(path.parent, "entry-points-*.json", _CACHES_KEPT)
    return [(n, v) for n, v in groups.get(group, [])]


_CACHES_KEPT = 8  # environments (interpreter and sys.path) whose entry points stay cached


def _scan_installed() -> dict[str, list[tuple[str, str]]]:
    from importlib.metadata import entry_points as installed

    found = installed()  # `.groups` and `.select` work alike on Python 3.10 to 3.13
    return {group: [(ep.name, ep.value) for ep in found.select(group=group)]
            for group in sorted(found.groups) if group.startswith(_GROUP_PREFIX)}


def _environment_key() -> list[list[Any]]:
    """What the installed distributions depend on: each `sys.path` entry and its mtime."""
    key: list[list[Any]] = []
    for entry in sys.path:
        try:
            mtime = os.stat(entry or ".").st_mtime_ns
        except OSError:
            mtime = None
        key.append([entry, mtime])
    return key


def _cache_path() -> Path:
    from forewarn.paths import forewarn_home

    # one file per interpreter and path: two environments sharing a home don't evict each other
    tag = blake2b(repr((sys.executable, sys.path)).encode(), digest_size=6).hexdigest()
    return forewarn_home() / "cache" / f"entry-points-{tag}.json"

"""Small JSON files under forewarn's control: strict reads, atomic writes, an advisory lock.

Invariants:
- `write_json_atomic` never leaves a half-written file: it writes a temporary file in the same
  directory, fsyncs it and `os.replace`s it over the target, keeping the target's permissions.
  Output has sorted keys, two-space indent and a final newline, so files diff well in git.
- `read_json` returns None for a missing file and raises `ForewarnError` (naming the file and the
  position) for one that is not JSON; callers then refuse to write over it.
- `locked(path)` serialises read-modify-write cycles between forewarn processes (POSIX `flock` on
  a file under `$FOREWARN_HOME/locks/`; a no-op where `fcntl` does not exist).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from forewarn.errors import ForewarnError
from forewarn.fsutil import write_text_atomic  # re-exported: the lesson stores use it from here


def read_json(path: Path, what: str = "file") -> Any | None:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as err:
        raise ForewarnError(f"{what} {path} is not UTF-8 text ({err.reason}); fix or move it") from None
    except OSError as err:
        raise ForewarnError(f"cannot read {what} {path}: {err.strerror or err}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ForewarnError(
            f"{what} {path} is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg}); "
            "fix or move it, forewarn will not overwrite it") from None


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_json_atomic(path: Path, data: Any) -> None:
    write_text_atomic(path, dumps(data))




def lock_path(path: Path) -> Path:
    """Where the lock for `path` lives: under `$FOREWARN_HOME/locks/`, never beside the file
    (a project store sits in a git work tree, where a stray `.lock` file would show up)."""
    from forewarn.paths import forewarn_home

    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:24]
    return forewarn_home() / "locks" / f"{path.name}-{digest}.lock"


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock for `path` while the block runs."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no lock, last writer wins
        yield
        return
    lock = lock_path(path)
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

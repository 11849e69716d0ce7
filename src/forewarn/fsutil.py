"""Replacing a file atomically: a reader sees the old content or the new, never half of either.
Also removing the oldest of a set of cache files.

The new content goes to a temporary file in the same directory, is flushed to disk and renamed over
the target, which keeps its permissions (a new file gets what a plain `open` would give it). On
any error the temporary file is removed and the target is untouched.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path


def write_text_atomic(path: Path, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode: int | None = path.stat().st_mode & 0o777
    except FileNotFoundError:
        mode = None
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask  # what a plain open() would have created
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def prune_oldest(folder: Path, pattern: str, keep: int) -> None:
    """Remove all but the `keep` most recently modified files of `folder` matching `pattern`:
    caches written one per environment would otherwise pile up. Best effort."""
    files = []
    for path in folder.glob(pattern):
        with contextlib.suppress(OSError):
            files.append((path.stat().st_mtime_ns, path))
    files.sort(reverse=True)
    for _, stale in files[keep:]:
        with contextlib.suppress(OSError):
            stale.unlink()

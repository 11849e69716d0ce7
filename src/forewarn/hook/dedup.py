"""Per-session memory of which lessons were already injected, shared by parallel subagents.

Claude Code has no hook output that carries state to the next hook call (the seed's `LESSONS_SEEN`
environment layer does not exist), so the state lives in files keyed by the session id:

    $TMPDIR/forewarn-<sha256(session_id)[:16]>/
        claims/<key>   created with O_CREAT|O_EXCL; holds the lesson's priority
        seen           one key per line, appended after each successful claim

Invariants:
- a claim file is the truth: of any number of processes claiming the same key at once, exactly one
  gets `True` (the kernel's O_EXCL guarantees it); `seen` is only a cache that spares a syscall per
  candidate and may lag behind the claims, never run ahead of them (it is written after them);
- a compaction removes the claims of lessons at or above the re-injection threshold and rewrites
  `seen` from the claims left, so those lessons inject again; `clear` removes the whole directory;
- the directory is private (0700) and must belong to us; anything else counts as unwritable, and
  an unwritable state means "cannot deduplicate": the pipeline then injects no warnings at all
  (answers `{}`) rather than repeat the same lesson on every call. Block lessons need no state.
"""

from __future__ import annotations

import os
import sys

_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
_MAX_KEY = 120


def _sha256_hex(text: str) -> str:
    try:  # the bare C module: hashlib would load OpenSSL, a few milliseconds we do not need
        # Python <= 3.11
        from _sha256 import sha256  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        try:
            # Python >= 3.12
            from _sha2 import sha256  # type: ignore[import-not-found,unused-ignore]
        except ImportError:  # pragma: no cover
            from hashlib import sha256
    return sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def temp_root() -> str:
    """The system temp dir, found the way `tempfile.gettempdir` does, without importing it."""
    names = ("TMPDIR", "TEMP", "TMP")
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    if sys.platform == "win32":
        root = os.environ.get("SYSTEMROOT")
        return os.path.join(root, "Temp") if root else "C:\\Temp"
    return "/tmp"


def session_dir(session_id: str, root: str | None = None) -> str:
    return os.path.join(root or temp_root(), "forewarn-" + _sha256_hex(session_id)[:16])


def claim_key(slug: str) -> str:
    """A file name standing for `slug` (slugs are kebab-case; anything else is hashed)."""
    if slug and len(slug) <= _MAX_KEY and slug[0] != "." and all(c in _KEY_CHARS for c in slug):
        return slug
    return "h-" + _sha256_hex(slug)[:32]


class SessionState:
    """The dedup state of one session. Construct with `open`, which returns None when unusable."""

    __slots__ = ("claims", "path", "seen_path")

    def __init__(self, path: str) -> None:
        self.path = path
        self.claims = os.path.join(path, "claims")
        self.seen_path = os.path.join(path, "seen")

    @classmethod
    def open(cls, session_id: str, root: str | None = None) -> SessionState | None:
        if not session_id:
            return None
        state = cls(session_dir(session_id, root))
        try:
            for directory in (state.path, state.claims):
                try:
                    os.mkdir(directory, 0o700)
                except FileExistsError:
                    pass
            if not _private_and_ours(state.path):
                return None
        except OSError:
            return None
        return state

    def seen(self) -> set[str]:
        try:
            with open(self.seen_path, "rb") as f:
                return set(f.read().decode("utf-8", "replace").split())
        except OSError:
            return set()

    def claim(self, key: str, priority: int) -> bool:
        """True if this process is the one that injects `key` (exactly one caller wins)."""
        try:
            fd = os.open(
                os.path.join(self.claims, key), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600
            )
        except FileExistsError:
            return False
        try:
            os.write(fd, str(int(priority)).encode())
        finally:
            os.close(fd)
        return True

    def mark_seen(self, keys: list[str]) -> None:
        if not keys:
            return
        # one O_APPEND write: concurrent appenders interleave whole lines, never bytes
        fd = os.open(self.seen_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, "".join(k + "\n" for k in keys).encode())
        finally:
            os.close(fd)

    def release_for_compaction(self, threshold: int) -> list[str]:
        """Forget every claim whose priority is >= `threshold`; return the keys released."""
        released = []
        for key in self._claim_keys():
            path = os.path.join(self.claims, key)
            try:
                with open(path, "rb") as f:
                    priority = int(f.read().strip() or b"0")
            except (OSError, ValueError):
                continue
            if priority >= threshold:
                try:
                    os.unlink(path)
                    released.append(key)
                except FileNotFoundError:
                    pass
        self._rewrite_seen()
        return released

    def wipe(self) -> None:
        for key in self._claim_keys():
            _unlink_quietly(os.path.join(self.claims, key))
        _unlink_quietly(self.seen_path)
        for directory in (self.claims, self.path):
            try:
                os.rmdir(directory)
            except OSError:
                pass  # a concurrent call re-created something: it belongs to the new context

    def _claim_keys(self) -> list[str]:
        try:
            return os.listdir(self.claims)
        except OSError:
            return []

    def _rewrite_seen(self) -> None:
        tmp = f"{self.seen_path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            f.write("".join(k + "\n" for k in self._claim_keys()).encode())
        os.replace(tmp, self.seen_path)


def _private_and_ours(path: str) -> bool:
    if not hasattr(os, "getuid"):
        return os.path.isdir(path)  # Windows: per-user temp dirs already
    st = os.stat(path)
    return st.st_uid == os.getuid() and (st.st_mode & 0o077) == 0 and os.access(path, os.W_OK)


def _unlink_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass

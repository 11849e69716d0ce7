"""A tiny ULID generator (stdlib only): 26 Crockford base32 characters, time-ordered.

Layout: 48 bits of Unix milliseconds then 80 random bits, so sorting IDs as strings sorts lessons
by creation time (the store keeps its lessons in id order for stable git diffs).

Invariant: within one process IDs are strictly increasing even when several are made in the same
millisecond (the random part is incremented, as the ULID spec's monotonic mode does), so a batch of
lessons added together keeps its order.
"""

from __future__ import annotations

import secrets
import threading
import time

from forewarn import regexes

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ULID_RE = regexes.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$")  # first char <= 7: 48-bit timestamp

_RANDOM_BITS = 80
_lock = threading.Lock()
_last_ms = -1
_last_rand = 0


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def new_ulid(now_ms: int | None = None) -> str:
    """A fresh ULID; `now_ms` pins the timestamp (tests, imports that keep a creation time)."""
    global _last_ms, _last_rand
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    if not 0 <= ms < 1 << 48:
        raise ValueError(f"ULID timestamp out of range: {ms}")
    with _lock:
        if ms == _last_ms and _last_rand + 1 < 1 << _RANDOM_BITS:
            rand = _last_rand + 1
        else:
            rand = secrets.randbits(_RANDOM_BITS)
        _last_ms, _last_rand = ms, rand
    return _encode(ms, 10) + _encode(rand, 16)


def is_ulid(text: str) -> bool:
    return bool(ULID_RE.match(text))


def ulid_time_ms(ulid: str) -> int:
    """The creation time (Unix ms) carried in the first ten characters."""
    value = 0
    for ch in ulid[:10].upper():
        value = value * 32 + CROCKFORD.index(ch)
    return value

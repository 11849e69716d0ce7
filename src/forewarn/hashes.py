"""BLAKE2b without `hashlib`'s start-up cost.

`hashlib` loads OpenSSL's bindings when imported (about 3 ms), which every `forewarn` command
would pay for two short fingerprints: a scanned file's first bytes and the key of the
entry-point cache. `hashlib.blake2b` is the `_blake2` module's own type, so it is taken from there.
"""

from __future__ import annotations

try:
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - an interpreter built without it
    from hashlib import blake2b

__all__ = ["blake2b"]

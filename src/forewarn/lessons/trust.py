"""Trusting a project's lessons before they reach the hook (like `direnv allow`).

A project's `.forewarn/lessons.json` is committed to its repository, so anyone with push access
could put a lesson there that the user's agent would then be told, or that would block its calls.
Its lessons are therefore compiled into the manifest only while the file's sha256 equals the one
recorded by `forewarn lessons trust` in `$FOREWARN_HOME/trust.json`. Any change to the file (a
`git pull`, a hand edit) makes it untrusted again until the user re-trusts it.

forewarn's own writes on the user's behalf (`lessons add`, `learn`, `approve`…) re-trust the file
they wrote, but only if it was trusted (or did not exist) just before: otherwise a user command
would silently launder someone else's unreviewed changes.

Invariants: trust.json is written atomically; a damaged trust.json raises `ForewarnError` on
write and reads as "nothing trusted" (failing closed).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from forewarn.errors import ForewarnError
from forewarn.lessons.jsonfile import read_json, write_json_atomic
from forewarn.lessons.model import now_iso
from forewarn.lessons.store import project_store_path, register_project
from forewarn.paths import forewarn_home

TRUST_NAME = "trust.json"
TRUST_TYPE = "forewarn-trust"

TRUSTED = "trusted"
UNTRUSTED = "untrusted"  # never trusted
CHANGED = "changed"  # trusted once, changed since
MISSING = "missing"  # the project has no lessons file


def trust_path(home: Path | None = None) -> Path:
    return (home or forewarn_home()) / TRUST_NAME


def file_digest(path: Path) -> str | None:
    try:
        return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def _entries(home: Path | None) -> dict[str, Any]:
    try:
        data = read_json(trust_path(home), "trust file")
    except ForewarnError:
        return {}  # fail closed: nothing is trusted while the file is damaged
    if not isinstance(data, dict) or not isinstance(data.get("projects"), dict):
        return {}
    return data["projects"]


def trusted_digest(root: Path, home: Path | None = None) -> str | None:
    entry = _entries(home).get(str(root))
    if isinstance(entry, dict) and isinstance(entry.get("sha256"), str):
        return entry["sha256"]
    return None


def trust_status(root: Path, home: Path | None = None) -> str:
    current = file_digest(project_store_path(root))
    if current is None:
        return MISSING
    recorded = trusted_digest(root, home)
    if recorded is None:
        return UNTRUSTED
    return TRUSTED if recorded == current else CHANGED


def is_trusted(root: Path, home: Path | None = None) -> bool:
    return trust_status(root, home) == TRUSTED


def _write(entries: dict[str, Any], home: Path | None) -> None:
    read_json(trust_path(home), "trust file")  # raises on a damaged file: never overwrite it
    write_json_atomic(trust_path(home), {"type": TRUST_TYPE, "version": 1, "projects": entries})


def trust_project(root: Path, home: Path | None = None) -> str:
    """Record the current digest of the project's lessons file; returns it. The project is also
    registered, so its lessons are compiled from now on."""
    digest = file_digest(project_store_path(root))
    if digest is None:
        raise ForewarnError(f"{root} has no lessons file ({project_store_path(root)}): nothing to trust")
    entries = dict(_entries(home))
    entries[str(root)] = {"sha256": digest, "trustedAt": now_iso()}
    _write(entries, home)
    register_project(root, home)
    return digest


def revoke_trust(root: Path, home: Path | None = None) -> bool:
    """Forget the project's trust; True if it was recorded."""
    entries = dict(_entries(home))
    if entries.pop(str(root), None) is None:
        return False
    _write(entries, home)
    return True

"""A third-party reader and writer, installed through entry points, work without touching the core."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from forewarn import readers, writers
from forewarn.cli.main import main

READER = '''
from pathlib import Path
import orjson
from forewarn.model import ERROR, OK, Chunk, SessionInfo, ToolCall
from forewarn.readers.base import Reader, iter_lines, walk_files

class AcmeReader(Reader):
    agent = "acme"
    def default_roots(self):
        return []
    def discover(self, root):
        yield from walk_files(root, (".jsonl",))
    def sniff(self, path, head):
        return b'"acme"' in head
    def read(self, path, start=0, context=None):
        chunk = Chunk(path=str(path), session=SessionInfo(agent="acme"), end_offset=start)
        with open(path, "rb") as f:
            for offset, line in iter_lines(f, start):
                chunk.end_offset = offset + len(line or b"")
                rec = orjson.loads(line)
                chunk.session.session_id = rec["session"]
                chunk.session.cwd = chunk.session.project = rec["cwd"]
                chunk.calls.append(ToolCall(rec["id"], rec["tool"], rec["args"], offset,
                                            status=ERROR if rec["exit"] else OK, exit_code=rec["exit"],
                                            output=rec["out"], output_bytes=len(rec["out"])))
        return chunk
'''

WRITER = '''
from forewarn.writers.base import Writer

class AcmeWriter(Writer):
    name = "acme"
    def route_file(self, project_dir, route):
        return project_dir / "ACME.md"
    def detect(self, project_dir):
        return (project_dir / "ACME.md").exists()
'''


@pytest.fixture
def acme_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    site = tmp_path / "site"
    pkg = site / "acme_forewarn"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "reader.py").write_text(READER)
    (pkg / "writer.py").write_text(WRITER)
    dist = site / "acme_forewarn-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-forewarn\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[forewarn.readers]\nacme = acme_forewarn.reader:AcmeReader\n\n"
        "[forewarn.writers]\nacme = acme_forewarn.writer:AcmeWriter\n")
    monkeypatch.syspath_prepend(str(site))
    readers.registry.cache_clear()
    writers.registry.cache_clear()
    yield
    readers.registry.cache_clear()
    writers.registry.cache_clear()
    sys.modules.pop("acme_forewarn", None)


def test_a_plugin_agent_is_scanned_and_written(acme_plugin: None, tmp_path: Path, capsys) -> None:
    project = tmp_path / "shop"
    project.mkdir()
    (project / "ACME.md").write_text("# Acme rules\n")
    logs = tmp_path / "logs"
    logs.mkdir()
    rows = [
        {"acme": 1, "session": "a", "cwd": str(project), "id": f"c{i}", "tool": "shell",
         "args": {"command": cmd}, "exit": code, "out": out}
        for i, (cmd, code, out) in enumerate([
            ("python3 -m pytest", 1, "ModuleNotFoundError: No module named 'x'"),
            ("uv run pytest", 0, "ok"),
        ] * 2)
    ]
    (logs / "s.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert "acme" in readers.registry() and "acme" in writers.registry()

    assert main(["scan", str(logs), "--agent", "acme", "--json"]) == 0
    found = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(f["call_id"], f["fix_call_id"], f["agent"]) for f in found] == [("c0", "c1", "acme"), ("c2", "c3", "acme")]

    assert main(["learn", "--project", str(project), "--agent", "acme", "--no-scan", "--apply"]) == 0
    text = (project / "ACME.md").read_text()
    assert text.startswith("# Acme rules\n") and "uv run" in text and "<!-- forewarn:start -->" in text


def test_unknown_agent_names_get_a_helpful_error(capsys) -> None:
    assert main(["scan", "--agent", "nope"]) == 1
    assert "unknown agent 'nope' (known: claude, codex, gemini" in capsys.readouterr().err


def _dist(site: Path, name: str, body: str) -> None:
    dist = site / f"{name}-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(body)


def test_entry_points_are_cached_until_something_is_installed(tmp_path: Path, isolated_home: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata

    from forewarn import plugins

    site = tmp_path / "site"
    _dist(site, "one", "[forewarn.readers]\none = one_mod:Reader\n")
    monkeypatch.syspath_prepend(str(site))
    assert ("one", "one_mod:Reader") in plugins.entry_points("forewarn.readers")

    # a second command reads the cache: no metadata is scanned
    def no_scan(**_kw: object) -> None:
        raise AssertionError("installed metadata read again")

    monkeypatch.setattr(importlib.metadata, "entry_points", no_scan)
    assert ("one", "one_mod:Reader") in plugins.entry_points("forewarn.readers")
    monkeypatch.undo()
    monkeypatch.syspath_prepend(str(site))

    # installing another distribution changes its folder: the cache is not used
    _dist(site, "two", "[forewarn.writers]\ntwo = two_mod:Writer\n")
    assert ("two", "two_mod:Writer") in plugins.entry_points("forewarn.writers")

    # a damaged cache costs only a fresh look
    caches = list((isolated_home / "cache").glob("entry-points-*.json"))
    assert caches
    for cache in caches:
        cache.write_bytes(b"\x00not json")
    assert ("one", "one_mod:Reader") in plugins.entry_points("forewarn.readers")


def test_entry_point_caches_of_environments_not_used_lately_are_removed(
        tmp_path: Path, isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One cache per environment (interpreter and sys.path): a script run from many folders must
    not leave a file behind for each."""
    from forewarn import plugins

    for n in range(plugins._CACHES_KEPT + 5):
        monkeypatch.syspath_prepend(str(tmp_path / f"folder-{n}"))  # another sys.path each time
        plugins.entry_points("forewarn.readers")
    caches = list((isolated_home / "cache").glob("entry-points-*.json"))
    assert len(caches) == plugins._CACHES_KEPT
    assert plugins._cache_path() in caches  # the one in use is kept


def test_load_spec_reads_entry_point_values() -> None:
    from forewarn.plugins import load_spec
    from forewarn.readers.claude import ClaudeReader

    assert load_spec("forewarn.readers.claude:ClaudeReader") is ClaudeReader
    assert load_spec("forewarn.readers.claude:ClaudeReader.read") is ClaudeReader.read
    assert load_spec("forewarn.readers.claude : ClaudeReader [extra]") is ClaudeReader
    assert load_spec("forewarn.readers.claude").__name__ == "forewarn.readers.claude"
    with pytest.raises(ValueError):
        load_spec("not a spec!")


def test_the_fingerprint_hash_is_hashlibs_blake2b() -> None:
    import hashlib

    from forewarn.hashes import blake2b

    for data in (b"", b"x", bytes(range(256)) * 3):
        assert blake2b(data, digest_size=8).hexdigest() == hashlib.blake2b(data, digest_size=8).hexdigest()

"""The regex cache: forewarn's fixed patterns load from stored SRE code exactly as `re` compiles
them, and a missing, damaged or foreign cache only costs the slow path."""

from __future__ import annotations

import marshal
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from forewarn import regexes

SAMPLES = [
    "",
    "Error: ENOENT: no such file or directory, open '/home/user/project/src/app.py'",
    "bash: uv: command not found\nExit code 127",
    "Traceback (most recent call last):\n  File \"x.py\", line 1\nModuleNotFoundError: No module named 'yaml'",
    "<tool_use_error>String to replace not found in file.</tool_use_error>",
    "FAILED tests/test_a.py::test_b - AssertionError: assert 1 == 2\n1 failed, 3 passed in 0.2s",
    "git push --force origin main && rm -rf build/ ; python3 -m pytest -x -q",
    "AKIAABCDEFGHIJKLMNOP sk-ant-api03-abcdefghijklmnopqrstuvwx ghp_0123456789abcdefghijklmnopqrstuvwxyz",
    "<!-- forewarn:start -->\n## Lessons\n- use `uv run pytest`\n<!-- forewarn:end -->",
    "Usage: grep [OPTION]... PATTERNS [FILE]...\ngrep: invalid option -- 'Z'",
    "{\"type\":\"response_item\",\"payload\":{\"type\":\"function_call\"}}",
    "ÜNICODE İstanbul ſtraße \u212a",
]


@pytest.fixture
def fresh_cache() -> Iterator[None]:
    """The module's state for one test (the test's own forewarn home), restored afterwards."""
    loaded, missed = regexes._loaded, dict(regexes._missed)
    regexes._reset()
    yield
    regexes._loaded, regexes._missed = loaded, missed


# Lists every pattern forewarn's modules compile through `regexes.compile`, in a fresh interpreter
# (re-importing modules here would replace classes other tests hold).
_LIST_PATTERNS = """
import importlib, marshal, pkgutil, sys
import forewarn
from forewarn import regexes
seen = {}
compile_ = regexes.compile
def spy(source, flags=0):
    seen[(source, int(flags))] = None
    return compile_(source, flags)
regexes.compile = spy
for info in pkgutil.walk_packages(forewarn.__path__, "forewarn."):
    if not info.name.endswith(("__main__", "hook.run")):
        importlib.import_module(info.name)
sys.stdout.buffer.write(marshal.dumps(list(seen)))
"""


def _forewarn_patterns(home: Path) -> list[tuple[str | bytes, int]]:
    done = subprocess.run([sys.executable, "-c", _LIST_PATTERNS], capture_output=True, check=True,
                          env={**os.environ, "FOREWARN_HOME": str(home)})
    return [tuple(key) for key in marshal.loads(done.stdout)]  # type: ignore[misc]


def test_every_cached_forewarn_pattern_is_the_pattern_re_compiles(isolated_home: Path) -> None:
    patterns = _forewarn_patterns(isolated_home)
    assert len(patterns) > 80  # the analysers, readers, lessons and writers all use it
    for source, flags in patterns:
        record = marshal.loads(marshal.dumps(regexes.code_record(source, flags)))  # as stored
        cached = regexes.from_record(record)
        assert cached is not None, source
        reference = re.compile(source, flags)
        assert (cached.pattern, cached.flags, cached.groups, cached.groupindex) == (
            reference.pattern, reference.flags, reference.groups, reference.groupindex), source
        for text in SAMPLES:
            subject = text.encode() if isinstance(source, bytes) else text
            for pos in (0, 1):
                a, b = cached.search(subject, pos), reference.search(subject, pos)  # type: ignore[arg-type]
                assert (a and (a.span(), a.groups())) == (b and (b.span(), b.groups())), (source, text)


def test_a_pattern_compiled_once_is_loaded_from_the_cache_by_the_next_process(
        fresh_cache: None, isolated_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = regexes.compile(r"(?P<tool>\w+): command not found", re.I)
    regexes.save()
    [cache] = (isolated_home / "cache").glob("regex-*.marshal")
    regexes._reset()  # a new process

    def no_compiler(*args: object) -> None:
        raise AssertionError("compiled again")

    monkeypatch.setattr(re, "compile", no_compiler)
    again = regexes.compile(r"(?P<tool>\w+): command not found", re.I)
    assert again.search("Bash: UV: command not found")["tool"] == "UV"  # type: ignore[index]
    assert (again.pattern, again.flags, again.groupindex) == (first.pattern, first.flags, first.groupindex)
    assert not regexes._missed
    assert cache.stat().st_size > 0


def test_save_keeps_what_other_commands_cached(fresh_cache: None, isolated_home: Path) -> None:
    regexes.compile("alpha")
    regexes.save()
    regexes._reset()
    regexes.compile("beta")
    regexes.save()
    regexes._reset()
    assert set(regexes._load()) == {("alpha", 0), ("beta", 0)}


def test_a_damaged_cache_file_falls_back_to_re(fresh_cache: None, isolated_home: Path) -> None:
    regexes.compile("x+y")
    regexes.save()
    [cache] = (isolated_home / "cache").glob("regex-*.marshal")
    cache.write_bytes(b"\x00garbage")
    regexes._reset()
    assert regexes.compile("x+y").search("axxyb")
    assert regexes._missed  # compiled the slow way, and saved again at the end
    regexes.save()
    regexes._reset()
    assert ("x+y", 0) in regexes._load()


def test_code_from_another_interpreter_is_not_used(fresh_cache: None, isolated_home: Path) -> None:
    record = regexes.code_record(r"\bx\b", re.I)
    record["code"] = [999, 1, 2]  # not code this interpreter's `_sre` accepts
    assert regexes.from_record(record) is None
    (isolated_home / "cache").mkdir(parents=True)
    regexes._cache_path().write_bytes(marshal.dumps({(r"\bx\b", int(re.I)): record}))
    assert regexes.compile(r"\bx\b", re.I).search("a X b")


def test_an_unwritable_home_costs_only_speed(fresh_cache: None, isolated_home: Path) -> None:
    isolated_home.parent.mkdir(parents=True, exist_ok=True)
    isolated_home.write_text("a file where the home folder should be")
    assert regexes.compile("y+").search("ayy")
    regexes.save()  # no error
    assert isolated_home.read_text().startswith("a file")


def test_no_home_at_all_costs_only_speed(fresh_cache: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr("forewarn.paths.forewarn_home", no_home)
    assert regexes.compile("w+").search("aww")
    regexes.save()  # no error


def test_old_cache_files_are_pruned(fresh_cache: None, isolated_home: Path) -> None:
    folder = isolated_home / "cache"
    folder.mkdir(parents=True)
    for n in range(regexes._CACHES_KEPT + 3):
        (folder / f"regex-0.0.{n}-old.marshal").write_bytes(b"")
    regexes.compile("z+")
    regexes.save()
    files = list(folder.glob("regex-*.marshal"))
    assert len(files) == regexes._CACHES_KEPT
    assert regexes._cache_path() in files

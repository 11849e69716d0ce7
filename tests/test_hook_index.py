"""The hook's index: prefilter soundness, precompiled regexes, layout, and the tables it copies."""

from __future__ import annotations

import json
import marshal
import os
import re
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forewarn.hook import index as hook_index
from forewarn.hook import indexer
from forewarn.hook.pipeline import compile_pattern
from forewarn.regexes import code_record
from tests.hook_fixtures import lesson, write_manifest

# (source, flags, words a matching text is likely made of)
PATTERNS = [
    (
        r"\bpytest\b(?!.*(--no-header|TERM=dumb))",
        "i",
        ["pytest", "PyTest", "PYTEST", "--no-header", "-x"],
    ),
    (
        r"git\s+push\b.*--force(?!-with-lease)",
        "",
        ["git", "push", "--force", "-with-lease", "origin"],
    ),
    (r"(?:npm|yarn|pnpm)\s+install", "", ["npm", "yarn", "pnpm", "install", "i"]),
    (r"kubectl\s+(apply|delete)\s+-f", "i", ["kubectl", "KUBECTL", "apply", "DELETE", "-f", "-F"]),
    (r"(?i:sudo)\s+pip", "", ["sudo", "SUDO", "pip", "PIP", "ſudo", "ſUDO"]),
    (r"(?i)ssh(?-i:Key)", "", ["ssh", "SSH", "ſſh", "Key", "key", "KEY"]),
    (r"docker (compose|-compose) up(?=.*-d)", "", ["docker", "compose", "-compose", "up", "-d"]),
    (r"(^|/)pyproject\.toml$", "", ["/", "pyproject", ".toml", "src", "PYPROJECT"]),
    (r"^(?:ab)+c{2,}$", "", ["ab", "c", "cc", "AB"]),
    (r"x*y?", "", ["x", "y"]),
    (r"risk", "i", ["risk", "RISK", "rİsk", "rıſK", "RıSK", "riſk"]),
    (r"café\s+crème", "i", ["café", "CAFÉ", "crème", "CRÈME"]),
    (r"make (?#comment)test", "x", ["make", "test", "maketest"]),
    (r"a[bc]d|e.f", "", ["abd", "acd", "e", "f", "exf"]),
]
_SEPARATORS = [" ", "  ", "\t", "/", ";", "&&", "İ", "ı", "ſ", "K", "ß", ""]


def _table(source: str, flags: str) -> hook_index.FamilyIndex:
    compiled = indexer.compile_manifest(
        {
            "lessons": {
                "01X": lesson("t-1", commandRegexSources=[{"source": source, "flags": flags}])
            }
        }
    )
    return hook_index.FamilyIndex("/nonexistent", compiled.families["shell"])


@pytest.mark.parametrize(("source", "flags", "words"), PATTERNS, ids=[p[0] for p in PATTERNS])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_prefilter_never_rejects_a_text_the_regex_matches(
    source: str, flags: str, words: list[str], data: st.DataObject
) -> None:
    table = _table(source, flags)
    regex = re.compile(source, indexer.regex_flags(flags))
    parts = data.draw(st.lists(st.sampled_from(words + _SEPARATORS), max_size=8))
    text = "".join(parts)
    if regex.search(text):
        assert table.candidates([text]) == [0], (text, table.literals_cs, table.literals_ci)


def test_prefilter_literals_are_the_selective_ones() -> None:
    assert _table(r"\bpytest\b(?!.*--no-header)", "").literals_cs == {"pytest": [0]}
    assert _table(r"\bpytest\b", "i").literals_ci == {"pytest": [0]}
    assert set(_table(r"(?:npm|yarn)\s+ci", "").literals_cs) == {"npm", "yarn"}
    assert _table(r"\w+\s*=", "").literals_cs == {"=": [0]}
    assert _table(r"\w+\s*\d", "").always == [0]
    assert _table(r"café", "i").literals_ci == {
        "caf": [0]
    }  # non-ASCII cut out of case-insensitive literals
    table = _table(r"git\s+push\b.*--force(?!-with-lease)", "")
    assert table.candidates(["git status"]) == []
    assert table.candidates(["git push --force"]) == [0]


def test_fold_case_matches_re_ignorecase_on_ascii_letters() -> None:
    for char in map(chr, range(0x250)):
        for letter in "iks":
            if re.fullmatch(letter, char, re.IGNORECASE):
                assert letter in hook_index.fold_case(char), repr(char)
    assert hook_index.fold_case("PİP ıſK") == "pip isk"
    assert hook_index.fold_case("\u212a") == "k"


@pytest.mark.parametrize(("source", "flags", "words"), PATTERNS, ids=[p[0] for p in PATTERNS])
def test_precompiled_patterns_behave_like_re_compile(
    source: str, flags: str, words: list[str]
) -> None:
    bits = indexer.regex_flags(flags)
    record = code_record(source, bits, indexer.sre_parse.parse(source, bits))
    assert record["code"] is not None
    pattern = compile_pattern(json.loads(json.dumps(record)))  # as read back from the index
    reference = re.compile(source, bits)
    assert (pattern.pattern, pattern.flags, pattern.groups) == (
        reference.pattern,
        reference.flags,
        reference.groups,
    )
    for text in [*words, " ".join(words), "".join(words).upper(), ""]:
        assert bool(pattern.search(text)) == bool(reference.search(text)), text


def test_records_from_another_interpreter_fall_back_to_re() -> None:
    record = {
        "source": r"\bx\b",
        "flags": 2,
        "code": [999, 1, 2],
        "all_flags": 34,
        "groups": 0,
        "groupindex": {},
        "indexgroup": [None],
    }
    assert compile_pattern(record).search("a X b")


def test_index_layout_and_ranking(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_manifest(
        home,
        lesson("make-b", priority=5, confidence=0.6),
        lesson("make-a", priority=5, confidence=0.9, action="block"),
        lesson(
            "lock-c",
            families=["edit", "write"],
            commandRegexSources=[],
            pathRegexSources=[{"source": r"\.lock$", "flags": ""}],
            scope="project",
            projectRoot="/p/./q",
        ),
        lesson("bad-regex", commandRegexSources=[{"source": "(unclosed", "flags": ""}]),
        lesson("orphan-project", scope="project", projectRoot=None),
        {"slug": 5},
        minConfidence=0.5,
    )
    directory = Path(indexer.build_index(home))  # type: ignore[arg-type]
    assert directory.parent == home / "hook-index"
    assert sorted(p.name for p in directory.iterdir()) == [
        "config.json",
        "f-edit.bin",
        "f-shell.bin",
        "f-write.bin",
        "l",
    ]
    shell = marshal.loads((directory / "f-shell.bin").read_bytes())
    details = [marshal.loads((directory / "l" / f"{n}.bin").read_bytes()) for n in shell["lessons"]]
    assert [d["slug"] for d in details] == ["make-a", "make-b"]  # same priority: confidence decides
    assert shell["block"] == [0]
    edit = hook_index.FamilyIndex(
        str(directory), marshal.loads((directory / "f-edit.bin").read_bytes())
    )
    assert edit.roots == {0: os.path.normpath("/p/q")}
    assert indexer.build_index(home) == str(directory)  # up to date: nothing rebuilt


def test_a_new_manifest_gets_a_new_index_and_the_old_one_goes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_manifest(home, lesson("make-1"))
    first = indexer.build_index(home)
    write_manifest(home, lesson("make-1"), lesson("cargo-2"))
    os.utime(home / "manifest.json", ns=(1, 1))  # a different stamp even within one clock tick
    second = indexer.build_index(home)
    assert second != first and not os.path.exists(first)  # type: ignore[arg-type]
    assert hook_index.load_family(str(home), "shell").lessons == [1, 0]  # type: ignore[union-attr]  # cargo < make
    assert hook_index.load_family(str(home), "read") is None


def test_load_family_builds_lazily_and_reports_missing_manifest(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert hook_index.load_family(str(home), "shell") is None
    write_manifest(home, lesson("make-1"))
    calls: list[int] = []
    table = hook_index.load_family(str(home), "shell", before_build=lambda: calls.append(1))
    assert table is not None and calls == [1]
    assert (
        hook_index.load_family(str(home), "shell", before_build=lambda: calls.append(1)) is not None
    )
    assert calls == [1]


def test_settings_fall_back_on_nonsense() -> None:
    table = hook_index.FamilyIndex(
        "/x",
        {
            "lessons": [],
            "config": {
                "maxLessonsPerInjection": "7",
                "injectionBudgetBytes": -1,
                "hookDeadlineMs": True,
            },
        },
    )
    assert table.setting("maxLessonsPerInjection") == 3
    assert table.setting("injectionBudgetBytes") == 4096
    assert table.setting("hookDeadlineMs") == 150


def test_home_matches_platformdirs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from platformdirs import user_data_path

    monkeypatch.delenv("FOREWARN_HOME", raising=False)
    for xdg in (None, "", "  ", str(tmp_path / "xdg")):
        if xdg is None:
            monkeypatch.delenv("XDG_DATA_HOME", raising=False)
        else:
            monkeypatch.setenv("XDG_DATA_HOME", xdg)
        assert hook_index.forewarn_home() == str(user_data_path("forewarn", appauthor=False))
    monkeypatch.setenv("FOREWARN_HOME", "~/fw")
    assert hook_index.forewarn_home() == os.path.expanduser("~/fw")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX layout")
def test_home_on_macos(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FOREWARN_HOME", raising=False)
    monkeypatch.setattr(hook_index.sys, "platform", "darwin")
    assert hook_index.forewarn_home() == os.path.expanduser(
        "~/Library/Application Support/forewarn"
    )


def test_family_table_is_the_models() -> None:
    from forewarn import model
    from forewarn.hook import targets

    assert targets.TOOL_FAMILY == model.TOOL_FAMILY
    for name in [*model.TOOL_FAMILY, "mcp__github__create_issue", "SomeNewTool", "Task"]:
        assert targets.tool_family(name) == model.tool_family(name)


def test_targets() -> None:
    from forewarn.hook.targets import command_text, path_values

    assert command_text({"command": ["git", "status"]}) == "git status"
    assert command_text({"cmd": "ls"}) == "ls"
    assert command_text({"command": 3}) is None
    assert path_values({"file_path": "/a/b.py"}, "/a") == ["/a/b.py"]
    assert path_values({"path": "src", "pattern": "**/*.py"}, "/repo") == [
        "src",
        "**/*.py",
        "/repo/src",
    ]
    patch = "*** Begin Patch\n*** Add File: new.py\n*** Update File: /abs/x.py\n*** Move to: y.py\n"
    assert path_values({"command": patch}, "/r") == [
        "new.py",
        "/abs/x.py",
        "y.py",
        "/r/new.py",
        "/r/y.py",
    ]
    assert path_values({"paths": ["a", 3, "b"]}, None) == ["a", "b"]

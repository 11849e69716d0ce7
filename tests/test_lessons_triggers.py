"""Trigger synthesis from evidence, globs, and the evidence check."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forewarn.lessons import model
from forewarn.lessons.model import Triggers
from forewarn.lessons.regex_safety import structural_problem
from forewarn.lessons.triggers import (
    command_regex,
    command_trigger,
    compile_source,
    glob_to_regex,
    lesson_problems,
    path_glob,
    path_trigger,
    split_inline_flags,
    text_command_regex,
    trigger_matches_evidence,
)

PAIRS = [
    # (failing, fix)
    ("python3 -m pytest tests/", "uv run pytest tests/"),
    ("pytest -v tests/", "pytest --no-header -p no:faulthandler -v tests/"),
    ("pytest -v tests/", "TERM=dumb pytest -v tests/"),
    ("cd /repo && git push", "git push -u origin main"),
    ("npm install", "npm install --legacy-peer-deps"),
    ("pytest -v --tb=long tests/", "pytest tests/"),
    ("cat /wrong/a.txt", "cat /right/a.txt"),
    ("grep -r foo .", "rg foo"),
    ("python foo.py", "python3 foo.py"),
    ("bash -lc 'cd src && make'", "make -C src"),
    ("docker compose up", "docker compose up -d"),
    ("cargo test 2>&1 | tail -20", "cargo test --workspace 2>&1 | tail -20"),
]


def command_lesson(pattern: str) -> model.Lesson:
    return model.make_lesson("s", "r", triggers=Triggers(tool_names=("Bash",), command_patterns=(pattern,)))


@pytest.mark.parametrize(("failing", "fix"), PAIRS)
def test_synthesised_trigger_fires_on_the_failure_and_not_on_the_fix(failing: str, fix: str) -> None:
    pattern = command_trigger(failing, fix)
    assert trigger_matches_evidence(command_lesson(pattern), failing, fix), pattern
    assert structural_problem(*command_regex(pattern)) is None


def test_the_fix_token_is_a_negative_lookahead_anywhere_in_the_command() -> None:
    pattern = command_trigger("pytest -v tests/", "pytest --no-header tests/")
    regex = compile_source(*command_regex(pattern))
    assert "(?!" in pattern and r"\bpytest\b" in pattern
    assert regex.search("cd x && pytest -q")
    assert not regex.search("pytest -q --no-header")
    runner = compile_source(*command_regex(command_trigger("python3 -m pytest", "uv run pytest")))
    assert runner.search("python3 -m pytest -x") and not runner.search("uv run python3 -m pytest")
    assert runner.search("PYTHON3 -m pytest")  # commands match case-insensitively by default
    assert not runner.search("mypython3x -m pytest")  # word edges: not inside another name


def test_head_is_the_distinctive_program_with_its_subcommand_when_shared() -> None:
    assert command_trigger("python3 -m pytest", None) == r"\bpython3\b"
    assert r"\bgit\b[^\n;&|]*?\bpush\b" in command_trigger("git push", "git push -u origin x")
    assert text_command_regex("pytest -v tests/") == r"\bpytest\b"
    assert text_command_regex("`git push --force`") == r"\bgit\b[^\n;&|]*?\bpush\b"
    multi = compile_source(*command_regex(command_trigger("make\nmake install", "make -j4\nmake install")))
    assert multi.search("cd x\nmake") and not multi.search("make -j4")


def test_secret_looking_tokens_never_become_patterns() -> None:
    pattern = command_trigger("deploy", "API_TOKEN=abc123def456ghi789jkl deploy --fast")
    assert "abc123" not in pattern and "--fast" in pattern


@pytest.mark.parametrize(("glob", "hits", "misses"), [
    ("src/**/*.py", ["/r/src/a.py", "/r/src/x/y/b.py", "src/c.py"], ["/r/src/a.pyc", "/r/lib/a.py", "/r/xsrc/a.py"]),
    ("/abs/{a,b}/x?.txt", ["/abs/a/x1.txt", "/abs/b/xz.txt"], ["/abs/c/x1.txt", "/abs/a/x12.txt", "/r/abs/a/x1.txt"]),
    ("node_modules/", ["/r/node_modules/p/i.js"], ["/r/node_modules_x/i.js"]),
    ("*.lock", ["/r/poetry.lock", "uv.lock"], ["/r/lock", "/r/a.lock/x"]),
    ("[!.]*.md", ["/r/README.md"], ["/r/.hidden.md"]),
    ("**/generated/**", ["/r/generated/a/b.ts"], ["/r/gen/a.ts"]),
    ("re:\\.env$", ["/r/.env"], ["/r/.envrc"]),
])
def test_globs_compile_to_anchored_regexes(glob: str, hits: list[str], misses: list[str]) -> None:
    lesson = model.make_lesson("s", "r", triggers=Triggers(tool_names=("Read",), path_patterns=(glob,)))
    for path in hits:
        assert trigger_matches_evidence(lesson, path, None), (glob, path)
    for path in misses:
        assert not trigger_matches_evidence(lesson, path, None), (glob, path)


def test_path_trigger_generalises_a_wrong_path() -> None:
    assert path_glob("/home/u/proj/src/x.py", "/home/u/proj") == "src/x.py"
    assert path_glob("/elsewhere/deep/dir/x.py", "/home/u/proj") == "dir/x.py"
    assert path_glob("./a/b[1].py") == "a/b[[]1[]].py"
    regex = re.compile(path_trigger("/home/u/proj/src/utils/helpers.py", "/home/u/proj"))
    assert regex.search("/other/clone/src/utils/helpers.py")
    assert not regex.search("/home/u/proj/src/lib/helpers.py")
    lesson = model.make_lesson("s", "r", triggers=Triggers(path_patterns=(path_glob("/p/src/old.py", "/p"),)))
    assert trigger_matches_evidence(lesson, "/p/src/old.py", "/p/src/new.py")


def test_trigger_matches_evidence_requires_a_hit_and_silence_on_the_fix() -> None:
    assert not trigger_matches_evidence(command_lesson(r"\bls\b"), "ls", "ls")  # the fix would fire too
    assert not trigger_matches_evidence(command_lesson(r"\bnpm\b"), "yarn add x", None)  # no hit
    assert not trigger_matches_evidence(command_lesson("("), "(", None)  # does not compile
    assert not trigger_matches_evidence(model.make_lesson("s", "r"), "ls", None)  # no pattern at all


def test_inline_flags_move_into_the_flags_field() -> None:
    assert split_inline_flags("(?s)(?x)^a", "i") == ("^a", "isx")
    assert command_regex(r"\bx\b") == (r"\bx\b", "i")
    with pytest.raises(ValueError):
        split_inline_flags("(?L)x", "")


def test_lesson_problems_reports_broken_patterns_and_unguarded_blocks() -> None:
    broken = model.make_lesson("s", "r", triggers=Triggers(command_patterns=("(unclosed",), path_patterns=("re:[",)))
    assert len(lesson_problems(broken)) == 2
    assert lesson_problems(model.make_lesson("s", "r", action="block")) == [
        "a blocking lesson needs a command or path pattern"]


commands = st.lists(st.sampled_from(["git", "push", "-u", "--force", "python3", "-m", "pytest", "uv", "run",
                                     "X=1", "&&", "|", "cd", "/tmp", "'a b'", "$(x)", "\n", ";", "\\"]),
                    min_size=1, max_size=8).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(commands, st.one_of(st.none(), commands))
def test_command_trigger_always_compiles_safely(failing: str, fix: str | None) -> None:
    pattern = command_trigger(failing, fix)
    source, flags = command_regex(pattern)
    compile_source(source, flags)
    assert structural_problem(source, flags) is None


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet="ab/*?[]{},.!^-\\~", max_size=20))
def test_any_glob_compiles(glob: str) -> None:
    re.compile(glob_to_regex(glob))

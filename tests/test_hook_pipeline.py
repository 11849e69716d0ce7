"""The PreToolUse pipeline, end to end: the real run.py in a subprocess, crafted manifests."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.hook_fixtures import bash, file_call, hook_env, lesson, run_hook, write_manifest


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def env(tmp_path: Path, home: Path) -> dict[str, str]:
    return hook_env(home, tmp_path / "tmp")


def injected(run: object) -> list[str]:
    context = run.context  # type: ignore[attr-defined]
    return re.findall(r"<!-- forewarn:lesson (\S+) -->", context)


def meta(run: object) -> dict[str, list[str]]:
    found = re.search(r"<!-- forewarn:meta (\{.*\}) -->", run.context)  # type: ignore[attr-defined]
    assert found, run.context  # type: ignore[attr-defined]
    return json.loads(found.group(1))


def test_matching_lesson_is_injected_with_markers_and_metadata(
    home: Path, env: dict[str, str]
) -> None:
    write_manifest(
        home,
        lesson(
            "pytest-tty-x7k2",
            commandRegexSources=[{"source": r"\bpytest\b(?!.*--no-header)", "flags": "i"}],
        ),
    )
    run = run_hook("pre-tool-use", bash("python -m PYTEST -v tests/"), env)
    assert run.returncode == 0, run.stderr
    out = run.answer["hookSpecificOutput"]
    assert out["hookEventName"] == "PreToolUse"
    assert "permissionDecision" not in out
    assert injected(run) == ["pytest-tty-x7k2"]
    assert "<!-- /forewarn:lesson -->" in run.context
    assert meta(run) == {"v": 1, "injected": ["pytest-tty-x7k2"], "summarized": [], "dropped": []}


def test_same_tool_twice_in_a_session_injects_once(home: Path, env: dict[str, str]) -> None:
    write_manifest(home, lesson("pytest-a1"))
    assert injected(run_hook("pre-tool-use", bash("pytest -x"), env)) == ["pytest-a1"]
    assert run_hook("pre-tool-use", bash("pytest -x"), env).answer == {}
    # another session has its own memory
    assert injected(run_hook("pre-tool-use", bash("pytest -x", session="sess-2"), env)) == [
        "pytest-a1"
    ]


def test_fix_already_in_the_command_means_no_injection(home: Path, env: dict[str, str]) -> None:
    write_manifest(
        home,
        lesson(
            "pytest-b2",
            commandRegexSources=[
                {"source": r"\bpytest\b(?!.*(--no-header|TERM=dumb))", "flags": ""}
            ],
        ),
    )
    assert run_hook("pre-tool-use", bash("pytest --no-header -x"), env).answer == {}
    assert run_hook("pre-tool-use", bash("pytest -x | TERM=dumb cat"), env).answer == {}
    assert injected(run_hook("pre-tool-use", bash("pytest -x"), env)) == ["pytest-b2"]


def test_unrelated_command_and_tool_without_lessons_answer_nothing(
    home: Path, env: dict[str, str]
) -> None:
    write_manifest(home, lesson("pytest-c3"))
    assert run_hook("pre-tool-use", bash("ls -la"), env).answer == {}
    assert (
        run_hook(
            "pre-tool-use",
            {"session_id": "s", "tool_name": "WebSearch", "tool_input": {"query": "pytest"}},
            env,
        ).answer
        == {}
    )
    assert run_hook("pre-tool-use", file_call("Read", "/work/proj/pytest.ini"), env).answer == {}


def test_ranking_and_cap(home: Path, env: dict[str, str]) -> None:
    lessons = [
        lesson(f"make-{name}", priority=p, confidence=c)
        for name, p, c in [("low", 2, 0.9), ("top", 9, 0.6), ("mid", 5, 0.9), ("mid2", 5, 0.95)]
    ]
    write_manifest(home, *lessons, maxLessonsPerInjection=3)
    run = run_hook("pre-tool-use", bash("make all"), env)
    assert injected(run) == ["make-top", "make-mid2", "make-mid"]
    # the one over the cap was not claimed: it comes with the next matching call
    assert injected(run_hook("pre-tool-use", bash("make test"), env)) == ["make-low"]


def test_low_confidence_and_priority_lessons_stay_out(home: Path, env: dict[str, str]) -> None:
    write_manifest(
        home, lesson("make-unsure", confidence=0.3), lesson("make-minor", priority=1), minPriority=2
    )
    assert run_hook("pre-tool-use", bash("make"), env).answer == {}


def test_oversized_injection_falls_back_to_summary_or_is_dropped(
    home: Path, env: dict[str, str]
) -> None:
    big = "x" * 5000
    write_manifest(
        home,
        lesson("make-first", priority=9, injection="short and useful"),
        lesson("make-huge", priority=8, injection=big, summary="make-huge in one line"),
        lesson("make-nosummary", priority=7, injection=big, summary=""),
    )
    run = run_hook("pre-tool-use", bash("make"), env)
    assert injected(run) == ["make-first", "make-huge"]
    assert "make-huge in one line" in run.context
    assert big not in run.context
    assert meta(run)["summarized"] == ["make-huge"]
    assert meta(run)["dropped"] == ["make-nosummary"]
    # dropped lessons were not claimed: they are still deliverable later in the session
    assert injected(run_hook("pre-tool-use", bash("make"), env)) == ["make-nosummary"]


def test_first_lesson_always_fits_even_when_larger_than_the_budget(
    home: Path, env: dict[str, str]
) -> None:
    write_manifest(
        home, lesson("make-huge", injection="y" * 6000, summary=""), injectionBudgetBytes=1000
    )
    run = run_hook("pre-tool-use", bash("make"), env)
    assert injected(run) == ["make-huge"]
    body = run.context.split("<!-- forewarn:lesson make-huge -->\n")[1].split("\n<!-- /forewarn")[0]
    assert len(body.encode()) <= 1000


def test_block_lesson_denies_with_the_remedy_every_time(home: Path, env: dict[str, str]) -> None:
    write_manifest(
        home,
        lesson(
            "force-push-d4",
            action="block",
            commandRegexSources=[{"source": r"git\s+push\b.*--force(?!-with-lease)", "flags": ""}],
            remedy="use git push --force-with-lease",
            summary="a force push overwrote a teammate's commits",
        ),
    )
    for _ in range(2):  # not deduplicated: the call is stopped each time
        out = run_hook("pre-tool-use", bash("git push --force origin main"), env).answer[
            "hookSpecificOutput"
        ]
        assert out["hookEventName"] == "PreToolUse"
        assert out["permissionDecision"] == "deny"
        assert "use git push --force-with-lease" in out["permissionDecisionReason"]
        assert "force-push-d4" in out["permissionDecisionReason"]
    assert (
        run_hook("pre-tool-use", bash("git push --force-with-lease origin main"), env).answer == {}
    )


def test_block_wins_over_warnings_which_stay_unclaimed(home: Path, env: dict[str, str]) -> None:
    write_manifest(
        home,
        lesson("git-warn", priority=9),
        lesson("git-block", priority=3, action="block", remedy="do not"),
    )
    out = run_hook("pre-tool-use", bash("git reset --hard"), env).answer["hookSpecificOutput"]
    assert out["permissionDecision"] == "deny"
    assert "git-block" in out["permissionDecisionReason"]


def test_project_lesson_fires_only_under_its_root(
    home: Path, env: dict[str, str], tmp_path: Path
) -> None:
    root = tmp_path / "proj"
    write_manifest(
        home,
        lesson(
            "pyproject-e5",
            families=["edit", "write"],
            toolNames=["Edit"],
            commandRegexSources=[],
            pathRegexSources=[{"source": r"(^|/)pyproject\.toml$", "flags": ""}],
            scope="project",
            projectRoot=str(root),
        ),
    )
    outside = [str(tmp_path / "proj2"), str(tmp_path), "/elsewhere"]
    for cwd in outside:
        assert (
            run_hook(
                "pre-tool-use", file_call("Edit", f"{cwd}/pyproject.toml", cwd=cwd), env
            ).answer
            == {}
        )
    run = run_hook(
        "pre-tool-use", file_call("Write", f"{root}/pyproject.toml", cwd=str(root / "sub")), env
    )
    assert injected(run) == ["pyproject-e5"]


def test_path_lessons_see_relative_and_patch_paths(home: Path, env: dict[str, str]) -> None:
    write_manifest(
        home,
        lesson(
            "lockfile-f6",
            families=["edit"],
            commandRegexSources=[],
            pathRegexSources=[{"source": r"^/repo/package-lock\.json$", "flags": ""}],
        ),
    )
    patch = "*** Begin Patch\n*** Update File: package-lock.json\n@@\n-a\n+b\n*** End Patch"
    payload = {
        "session_id": "s",
        "cwd": "/repo",
        "tool_name": "apply_patch",
        "tool_input": {"command": patch},
    }
    assert injected(run_hook("pre-tool-use", payload, env, "--agent", "codex")) == ["lockfile-f6"]


@pytest.mark.parametrize(
    "raw", [b"", b"not json", b"[1, 2]", b'{"tool_name": 3}', b"\xff\xfe", b'{"a": NaN}']
)
def test_malformed_stdin_answers_empty(raw: bytes, home: Path, env: dict[str, str]) -> None:
    write_manifest(home, lesson("pytest-g7"))
    run = run_hook("pre-tool-use", None, env, raw=raw)
    assert (run.returncode, run.stdout) == (0, "{}\n")


def test_missing_manifest_answers_empty(env: dict[str, str]) -> None:
    run = run_hook("pre-tool-use", bash("pytest"), env)
    assert (run.returncode, run.answer) == (0, {})


@pytest.mark.parametrize(
    "content", ["{not json", "[]", '{"lessons": 5}', '{"lessons": {"x": 1}}', ""]
)
def test_corrupt_manifest_answers_empty(content: str, home: Path, env: dict[str, str]) -> None:
    home.mkdir()
    (home / "manifest.json").write_text(content)
    run = run_hook("pre-tool-use", bash("pytest"), env)
    assert (run.returncode, run.answer) == (0, {})


def test_corrupt_index_answers_empty(home: Path, env: dict[str, str]) -> None:
    write_manifest(home, lesson("pytest-h8"))
    run_hook("pre-tool-use", bash("ls"), env)  # builds the index
    (shell_table,) = home.glob("hook-index/*/f-shell.bin")
    shell_table.write_text('{"lessons": [0], "cs": {"pytest": "oops"}')
    run = run_hook("pre-tool-use", bash("pytest"), env)
    assert (run.returncode, run.answer) == (0, {})


def test_unwritable_temp_dir_answers_empty_but_still_blocks(home: Path, tmp_path: Path) -> None:
    write_manifest(
        home, lesson("pytest-i9"), lesson("rm-block", action="block", remedy="use trash")
    )
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    env = hook_env(home, tmp_path / "unused")
    env["TMPDIR"] = str(not_a_dir / "sub")
    run = run_hook("pre-tool-use", bash("pytest"), env)
    assert (run.returncode, run.answer) == (0, {})
    # a block needs no session state
    assert (
        run_hook("pre-tool-use", bash("rm -rf build"), env).answer["hookSpecificOutput"][
            "permissionDecision"
        ]
        == "deny"
    )


def test_catastrophic_regex_is_stopped_by_the_deadline(home: Path, env: dict[str, str]) -> None:
    write_manifest(
        home,
        lesson("evil-j0", commandRegexSources=[{"source": r"^(a+)+$", "flags": ""}]),
        hookDeadlineMs=100,
    )
    run_hook("pre-tool-use", bash("ls"), env)  # build the index outside the measured call
    run = run_hook("pre-tool-use", bash("a" * 40 + "b"), env, timeout=30)
    assert (run.returncode, run.answer) == (0, {})
    assert run.elapsed < 3.0  # without the deadline this regex runs for hours


def test_agent_payload_without_session_id_injects_nothing(home: Path, env: dict[str, str]) -> None:
    write_manifest(home, lesson("pytest-k1"))
    payload = bash("pytest")
    del payload["session_id"]
    assert run_hook("pre-tool-use", payload, env).answer == {}


def test_event_from_payload_when_no_argument(home: Path, env: dict[str, str]) -> None:
    write_manifest(home, lesson("pytest-l2"))
    assert injected(run_hook("", bash("pytest"), env)) == ["pytest-l2"]


def test_package_entry_point_behaves_like_the_script(home: Path, env: dict[str, str]) -> None:
    import subprocess
    import sys

    write_manifest(home, lesson("pytest-m3"))
    src = str(Path(__file__).resolve().parents[1] / "src")
    done = subprocess.run(
        [sys.executable, "-m", "forewarn.hook", "pre-tool-use"],
        input=json.dumps(bash("pytest")).encode(),
        capture_output=True,
        check=True,
        env={**env, "PYTHONPATH": src},
    )
    assert (
        "forewarn:lesson pytest-m3"
        in json.loads(done.stdout)["hookSpecificOutput"]["additionalContext"]
    )


def test_each_delivery_is_logged_for_lesson_effectiveness(home: Path, env: dict[str, str]) -> None:
    write_manifest(home, lesson("pytest-log1"), lesson("rm-block", action="block",
                   commandRegexSources=[{"source": r"\brm -rf /", "flags": ""}]))
    run_hook("pre-tool-use", bash("pytest -x"), env)
    run_hook("pre-tool-use", bash("pytest -x"), env)  # deduplicated: not delivered, not logged
    run_hook("pre-tool-use", bash("rm -rf /tmp/x"), env)
    rows = [json.loads(line) for line in (home / "injections.jsonl").read_text().splitlines()]
    assert [(r["slug"], r["action"], r["tool_name"]) for r in rows] == [
        ("pytest-log1", "warn", "Bash"), ("rm-block", "block", "Bash")]
    assert all(r["session_id"] and r["agent"] == "claude" and r["ts"].endswith("Z") for r in rows)

    from forewarn.insights.sources import read_injections

    injections, problems = read_injections(home / "injections.jsonl")
    assert [i.slug for i in injections] == ["pytest-log1", "rm-block"] and not problems


@pytest.mark.parametrize("damage", ["truncate", "garbage"])
def test_damaged_binary_index_answers_empty(home: Path, env: dict[str, str], damage: str) -> None:
    write_manifest(home, lesson("pytest-h9"))
    run_hook("pre-tool-use", bash("ls"), env)  # builds the index
    (shell_table,) = home.glob("hook-index/*/f-shell.bin")
    data = shell_table.read_bytes()
    shell_table.write_bytes(data[: len(data) // 2] if damage == "truncate" else bytes(range(256)) * 4)
    run = run_hook("pre-tool-use", bash("pytest"), env)
    assert (run.returncode, run.answer) == (0, {})

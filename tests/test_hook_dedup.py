"""Session dedup across processes: parallel subagents, compaction re-injection, clear, protocol."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from forewarn.hook.dedup import SessionState, claim_key, session_dir
from tests.hook_fixtures import bash, hook_env, lesson, run_hook, start_hook, write_manifest


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def env(tmp_path: Path, home: Path) -> dict[str, str]:
    return hook_env(home, tmp_path / "tmp")


def injected(context: str) -> list[str]:
    return re.findall(r"<!-- forewarn:lesson (\S+) -->", context)


def session_event(source: str, env: dict[str, str], session: str = "sess-1") -> dict[str, object]:
    payload = {
        "session_id": session,
        "hook_event_name": "SessionStart",
        "source": source,
        "cwd": "/x",
    }
    run = run_hook("session-start", payload, env)
    assert run.returncode == 0, run.stderr
    return run.answer


def _run_parallel(n: int, env: dict[str, str], command: str) -> list[dict[str, object]]:
    procs = [start_hook("pre-tool-use", None, env) for _ in range(n)]
    payload = json.dumps(bash(command)).encode()
    # feed them all before reading any, so they race for the same claim
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write(payload)
        proc.stdin.close()
    answers = []
    for proc in procs:
        assert proc.stdout is not None and proc.stderr is not None
        out, err = proc.stdout.read(), proc.stderr.read()
        assert proc.wait(timeout=30) == 0, err
        answers.append(json.loads(out))
    return answers


@pytest.mark.parametrize(
    "prebuilt_index", [True, False], ids=["index-built", "index-built-concurrently"]
)
def test_eight_parallel_calls_inject_exactly_once(
    home: Path, env: dict[str, str], prebuilt_index: bool
) -> None:
    write_manifest(home, lesson("pytest-par1"), lesson("pytest-par2", priority=9))
    if prebuilt_index:
        from forewarn.hook.indexer import build_index

        build_index(home)
    answers = _run_parallel(8, env, "pytest -q")
    deliveries: list[str] = []
    for answer in answers:
        if answer:
            deliveries += injected(answer["hookSpecificOutput"]["additionalContext"])  # type: ignore[index]
    assert sorted(deliveries) == ["pytest-par1", "pytest-par2"]


def test_compaction_reinjects_high_priority_lessons_only(home: Path, env: dict[str, str]) -> None:
    write_manifest(
        home,
        lesson("pytest-high", priority=8),
        lesson("pytest-low", priority=3),
        compactionReinjectionThreshold=7,
    )
    first = run_hook("pre-tool-use", bash("pytest"), env)
    assert injected(first.context) == ["pytest-high", "pytest-low"]
    assert run_hook("pre-tool-use", bash("pytest"), env).answer == {}

    answer = session_event("compact", env)
    assert "#lesson" in answer["hookSpecificOutput"]["additionalContext"]  # type: ignore[index]
    assert injected(run_hook("pre-tool-use", bash("pytest"), env).context) == ["pytest-high"]
    assert run_hook("pre-tool-use", bash("pytest"), env).answer == {}


def test_clear_wipes_the_session_state(home: Path, env: dict[str, str]) -> None:
    write_manifest(home, lesson("pytest-c1", priority=2))
    assert injected(run_hook("pre-tool-use", bash("pytest"), env).context) == ["pytest-c1"]
    answer = session_event("clear", env)
    assert "#lesson" in answer["hookSpecificOutput"]["additionalContext"]  # type: ignore[index]
    assert not os.path.exists(session_dir("sess-1", env["TMPDIR"]))
    assert injected(run_hook("pre-tool-use", bash("pytest"), env).context) == ["pytest-c1"]


def test_startup_injects_the_protocol_and_resume_does_nothing(
    home: Path, env: dict[str, str]
) -> None:
    write_manifest(home, lesson("pytest-s1"))
    answer = session_event("startup", env)
    out = answer["hookSpecificOutput"]
    assert out["hookEventName"] == "SessionStart"  # type: ignore[index]
    context = out["additionalContext"]  # type: ignore[index]
    assert "#lesson" in context and "#/lesson" in context
    for field in ("tool:", "trigger:", "mistake:", "fix:", "tags:"):
        assert field in context
    assert run_hook("pre-tool-use", bash("pytest"), env).context
    assert session_event("resume", env) == {}
    assert run_hook("pre-tool-use", bash("pytest"), env).answer == {}  # resume kept the claims


def test_subagent_start_gets_the_protocol(env: dict[str, str]) -> None:
    payload = {
        "session_id": "s",
        "hook_event_name": "SubagentStart",
        "agent_id": "a1",
        "agent_type": "Explore",
    }
    out = run_hook("subagent-start", payload, env).answer["hookSpecificOutput"]
    assert out["hookEventName"] == "SubagentStart"
    assert "#lesson" in out["additionalContext"]


def test_session_events_work_without_a_manifest_or_temp_dir(tmp_path: Path) -> None:
    env = hook_env(tmp_path / "nohome", tmp_path / "t")
    env["TMPDIR"] = str(tmp_path / "missing" / "deeper")
    assert (
        "#lesson" in run_hook("session-start", {"session_id": "s", "source": "compact"}, env).stdout
    )
    assert (
        "#lesson" in run_hook("session-start", {"session_id": "s", "source": "clear"}, env).stdout
    )


# -- the state object itself ----------------------------------------------------------------------


def test_claim_is_exclusive_and_seen_follows(tmp_path: Path) -> None:
    state = SessionState.open("abc", str(tmp_path))
    assert state is not None
    assert state.claim("k1", 8) is True
    assert state.claim("k1", 8) is False
    state.mark_seen(["k1"])
    assert state.seen() == {"k1"}
    assert SessionState.open("abc", str(tmp_path)).seen() == {"k1"}  # type: ignore[union-attr]


def test_release_for_compaction_keeps_low_priority_claims(tmp_path: Path) -> None:
    state = SessionState.open("abc", str(tmp_path))
    assert state is not None
    for key, priority in (("hi", 9), ("edge", 7), ("lo", 6)):
        assert state.claim(key, priority)
    state.mark_seen(["hi", "edge", "lo"])
    assert sorted(state.release_for_compaction(7)) == ["edge", "hi"]
    assert state.seen() == {"lo"}
    assert state.claim("hi", 9) and not state.claim("lo", 6)


def test_foreign_or_shared_state_dir_is_refused(tmp_path: Path) -> None:
    path = Path(session_dir("abc", str(tmp_path)))
    path.mkdir(mode=0o777)
    path.chmod(0o777)  # someone made it world-writable: do not trust it
    assert SessionState.open("abc", str(tmp_path)) is None
    assert SessionState.open("", str(tmp_path)) is None


def test_claim_keys_are_safe_file_names() -> None:
    assert claim_key("pytest-tty-x7k2") == "pytest-tty-x7k2"
    for odd in ("../../etc/passwd", "a/b", ".hidden", "x" * 500, "ünïcode", ""):
        key = claim_key(odd)
        assert key.startswith("h-") and "/" not in key and len(key) < 100
    assert claim_key("a/b") != claim_key("a/c")

"""Codex and Gemini dialects of the hook, and the adapters' parse/render contracts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from forewarn.hook.agents import ADAPTERS, BLOCK_ONLY, TOOL, WARN_ONLY, Answer, get_adapter
from tests.hook_fixtures import hook_env, lesson, run_hook, write_manifest


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    write_manifest(
        home,
        lesson("pytest-warn1"),
        lesson(
            "rm-block1",
            action="block",
            remedy="move it to a trash dir instead",
            commandRegexSources=[{"source": r"\brm\s+-rf\b", "flags": ""}],
        ),
    )
    return hook_env(home, tmp_path / "tmp")


def gemini_call(command: str, event: str) -> dict[str, object]:
    return {
        "session_id": "g1",
        "cwd": "/p",
        "hook_event_name": event,
        "timestamp": "2026-01-01T00:00:00Z",
        "tool_name": "run_shell_command",
        "tool_input": {"command": command},
    }


def test_codex_pre_tool_use_injects_and_denies(env: dict[str, str]) -> None:
    call = {
        "session_id": "c1",
        "cwd": "/p",
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": ["pytest", "-q"]},
    }
    out = run_hook("pre-tool-use", call, env, "--agent", "codex").answer["hookSpecificOutput"]
    assert out["hookEventName"] == "PreToolUse"
    assert "forewarn:lesson pytest-warn1" in out["additionalContext"]
    call["tool_input"] = {"command": "rm -rf build"}
    out = run_hook("pre-tool-use", call, env, "--agent", "codex").answer["hookSpecificOutput"]
    assert out["permissionDecision"] == "deny"
    assert "trash" in out["permissionDecisionReason"]


def test_codex_session_start_protocol(env: dict[str, str]) -> None:
    out = run_hook(
        "session-start", {"session_id": "c1", "source": "startup"}, env, "--agent", "codex"
    ).answer
    assert out["hookSpecificOutput"]["hookEventName"] == "SessionStart"
    assert "#lesson" in out["hookSpecificOutput"]["additionalContext"]


def test_gemini_before_tool_only_blocks(env: dict[str, str]) -> None:
    deny = run_hook(
        "before-tool", gemini_call("rm -rf build", "BeforeTool"), env, "--agent", "gemini"
    ).answer
    assert deny["decision"] == "deny"
    assert "trash" in deny["reason"]
    # a warning cannot be delivered before a Gemini tool runs, and must not be claimed there
    assert (
        run_hook(
            "before-tool", gemini_call("pytest", "BeforeTool"), env, "--agent", "gemini"
        ).answer
        == {}
    )


def test_gemini_after_tool_carries_warnings_only(env: dict[str, str]) -> None:
    out = run_hook(
        "after-tool", gemini_call("pytest", "AfterTool"), env, "--agent", "gemini"
    ).answer
    assert out["hookSpecificOutput"]["hookEventName"] == "AfterTool"
    assert re.search(
        r"forewarn:lesson pytest-warn1", out["hookSpecificOutput"]["additionalContext"]
    )
    assert (
        run_hook("after-tool", gemini_call("pytest", "AfterTool"), env, "--agent", "gemini").answer
        == {}
    )
    assert (
        run_hook(
            "after-tool", gemini_call("rm -rf x", "AfterTool"), env, "--agent", "gemini"
        ).answer
        == {}
    )


def test_gemini_session_start_and_pre_compress(env: dict[str, str], tmp_path: Path) -> None:
    out = run_hook(
        "session-start", {"session_id": "g1", "source": "startup"}, env, "--agent", "gemini"
    ).answer
    assert "#lesson" in out["hookSpecificOutput"]["additionalContext"]
    # PreCompress is advisory: no output, but it releases the claims of high-priority lessons
    write_manifest(
        tmp_path / "home", lesson("pytest-high", priority=9), lesson("make-low", priority=2)
    )
    for command in ("pytest", "make"):
        assert run_hook(
            "after-tool", gemini_call(command, "AfterTool"), env, "--agent", "gemini"
        ).answer
    assert (
        run_hook(
            "pre-compress", {"session_id": "g1", "trigger": "auto"}, env, "--agent", "gemini"
        ).answer
        == {}
    )
    assert (
        "pytest-high"
        in run_hook(
            "after-tool", gemini_call("pytest", "AfterTool"), env, "--agent", "gemini"
        ).stdout
    )
    assert (
        run_hook("after-tool", gemini_call("make", "AfterTool"), env, "--agent", "gemini").answer
        == {}
    )


def test_parse_tolerates_any_shape() -> None:
    for adapter in ADAPTERS.values():
        for payload in (
            {},
            {"tool_input": "x", "tool_name": 3, "session_id": None},
            {"cwd": ["a"]},
        ):
            hook = adapter.parse("", payload)
            assert hook.tool_input == {} and hook.tool_name == "" and hook.session_id == ""
            assert adapter.render(hook, Answer()) == {}


def test_modes_and_unknown_events() -> None:
    gemini = get_adapter("gemini")
    assert (gemini.parse("before-tool", {}).kind, gemini.parse("before-tool", {}).mode) == (
        TOOL,
        BLOCK_ONLY,
    )
    assert gemini.parse("after-tool", {}).mode == WARN_ONLY
    assert get_adapter("claude").parse("bogus", {}).kind == "none"
    assert get_adapter("no-such-agent") is ADAPTERS["claude"]
    claude = get_adapter("claude")
    hook = claude.parse("", {"hook_event_name": "SubagentStart"})
    assert claude.render(hook, Answer(context="c")) == {
        "hookSpecificOutput": {"hookEventName": "SubagentStart", "additionalContext": "c"}
    }
    # a deny only makes sense for a tool call
    session = claude.parse("session-start", {})
    assert "permissionDecision" not in str(
        claude.render(session, Answer(deny_reason="r", context="c"))
    )

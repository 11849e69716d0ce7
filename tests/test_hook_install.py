"""`forewarn install` / `uninstall`: merging hooks into agents' settings without disturbing them."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from forewarn.cli.main import cli
from forewarn.errors import RefusedError
from forewarn.hook import install as inst
from tests.hook_fixtures import bash, lesson, write_manifest

REPO = Path(__file__).resolve().parents[1]

EXISTING = {
    "model": "opus",
    "permissions": {"allow": ["Bash(ls:*)"]},
    "hooks": {
        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "audit.sh"}]}],
        "Stop": [{"hooks": [{"type": "command", "command": "notify.sh"}]}],
    },
}


def claude_settings() -> Path:
    return Path(os.environ["CLAUDE_CONFIG_DIR"]) / "settings.json"


def test_install_merges_and_is_idempotent() -> None:
    path = claude_settings()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(EXISTING))
    first = inst.install("claude")
    assert first.changed and first.path == str(path)
    data = json.loads(path.read_text())
    assert data["model"] == "opus" and data["permissions"] == EXISTING["permissions"]
    assert data["hooks"]["Stop"] == EXISTING["hooks"]["Stop"]
    pre = data["hooks"]["PreToolUse"]
    assert pre[0] == EXISTING["hooks"]["PreToolUse"][0]  # theirs first, untouched
    assert pre[1]["matcher"] == inst.CLAUDE_TOOL_MATCHER
    command = pre[1]["hooks"][0]["command"]
    assert command == inst.hook_command("pre-tool-use")
    assert data["hooks"]["SessionStart"][0]["matcher"] == "startup|resume|clear|compact"
    assert "SubagentStart" in data["hooks"]
    assert json.loads(Path(first.backup).read_text()) == EXISTING  # type: ignore[arg-type]

    before = path.read_text()
    second = inst.install("claude")
    assert not second.changed and path.read_text() == before

    removed = inst.uninstall("claude")
    assert removed.changed and removed.removed == 3
    assert json.loads(path.read_text()) == EXISTING


def test_install_replaces_an_older_command_instead_of_adding_one(tmp_path: Path) -> None:
    inst.install("claude", python="/old/python")
    result = inst.install("claude")
    assert result.changed and result.removed == 3
    hooks = json.loads(claude_settings().read_text())["hooks"]
    assert [len(groups) for groups in hooks.values()] == [1, 1, 1]
    assert "/old/python" not in json.dumps(hooks)


def test_scopes_and_agents_write_where_the_agents_read(tmp_path: Path) -> None:
    project = tmp_path / "repo"
    project.mkdir()
    expected = {
        ("claude", "project"): project / ".claude" / "settings.json",
        ("claude", "local"): project / ".claude" / "settings.local.json",
        ("codex", "user"): Path(os.environ["CODEX_HOME"]) / "hooks.json",
        ("codex", "project"): project / ".codex" / "hooks.json",
        ("gemini", "user"): Path(os.environ["HOME"]) / ".gemini" / "settings.json",
        ("gemini", "project"): project / ".gemini" / "settings.json",
    }
    for (agent, scope), path in expected.items():
        result = inst.install(agent, scope, project_dir=project)
        assert Path(result.path) == path and path.exists()
    codex = json.loads(expected["codex", "user"].read_text())["hooks"]
    assert set(codex) == {"PreToolUse", "SessionStart"}
    assert codex["PreToolUse"][0]["matcher"] == "Bash|apply_patch"
    assert codex["PreToolUse"][0]["hooks"][0]["command"].endswith("pre-tool-use --agent codex")
    gemini = json.loads(expected["gemini", "project"].read_text())["hooks"]
    assert set(gemini) == {"BeforeTool", "AfterTool", "SessionStart", "PreCompress"}
    handler = gemini["AfterTool"][0]["hooks"][0]
    assert handler["timeout"] == inst.HOOK_TIMEOUT_SECONDS * 1000  # Gemini counts milliseconds
    assert handler["command"].endswith("after-tool --agent gemini")


def test_unknown_scope_or_agent_is_a_user_error() -> None:
    from forewarn.errors import ForewarnError

    with pytest.raises(ForewarnError):
        inst.settings_path("codex", "local")
    with pytest.raises(ForewarnError):
        inst.settings_path("cursor", "user")


@pytest.mark.parametrize(
    "content", ["{not json", "[1]", '{"hooks": []}', '{"hooks": {"PreToolUse": {}}}']
)
def test_invalid_settings_are_refused_untouched(content: str) -> None:
    path = claude_settings()
    path.parent.mkdir(parents=True)
    path.write_text(content)
    with pytest.raises(RefusedError):
        inst.install("claude")
    assert path.read_text() == content
    assert not path.with_name("settings.json.forewarn.bak").exists()


def test_uninstall_without_file_or_hooks_changes_nothing() -> None:
    assert not inst.uninstall("claude").changed
    path = claude_settings()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(EXISTING))
    assert not inst.uninstall("claude").changed
    assert json.loads(path.read_text()) == EXISTING


def test_installed_command_runs_the_hook(tmp_path: Path) -> None:
    home = Path(os.environ["FOREWARN_HOME"])
    write_manifest(home, lesson("pytest-inst1"))
    inst.install("claude")
    command = json.loads(claude_settings().read_text())["hooks"]["PreToolUse"][0]["hooks"][0][
        "command"
    ]
    done = subprocess.run(
        command,
        shell=True,
        input=json.dumps(bash("pytest")).encode(),
        capture_output=True,
        env={**os.environ, "TMPDIR": str(tmp_path)},
        check=True,
    )
    assert "pytest-inst1" in json.loads(done.stdout)["hookSpecificOutput"]["additionalContext"]


def test_shell_quoting_survives_odd_paths() -> None:
    odd = '/tmp/we ird/$HOME/"q"/`x`/back\\slash/py'
    done = subprocess.run(
        f"printf %s {inst.shell_quote(odd)}", shell=True, capture_output=True, check=True
    )
    assert done.stdout.decode() == odd
    assert shlex.split(inst.shell_quote("/plain path/py")) == ["/plain path/py"]


def test_plugin_hooks_file_matches_the_generator() -> None:
    assert json.loads((REPO / "hooks" / "hooks.json").read_text()) == inst.plugin_hooks()
    plugin = json.loads((REPO / ".claude-plugin" / "plugin.json").read_text())
    assert plugin["name"] == "forewarn"
    commands = [
        h["command"]
        for groups in inst.plugin_hooks()["hooks"].values()
        for g in groups
        for h in g["hooks"]
    ]
    assert all(
        "${CLAUDE_PLUGIN_ROOT}/src/forewarn/hook/run.py" in c and inst.OUR_COMMAND.search(c)
        for c in commands
    )
    assert (REPO / "src" / "forewarn" / "hook" / "run.py").exists()


def test_cli_install_uninstall_and_json() -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["install", "codex"], catch_exceptions=False)
    assert result.exit_code == 0
    assert "installed codex hooks" in result.output and "/hooks" in result.output
    result = runner.invoke(cli, ["install", "codex", "--json"], catch_exceptions=False)
    assert json.loads(result.output)["changed"] is False
    result = runner.invoke(cli, ["uninstall", "codex", "--json"], catch_exceptions=False)
    assert json.loads(result.output)["removed"] == 2
    result = runner.invoke(
        cli, ["install", "claude", "--local", "--dry-run"], catch_exceptions=False
    )
    assert result.exit_code == 0 and not Path(".claude/settings.local.json").exists()


def test_cli_refusal_is_one_line_and_exit_code() -> None:
    from forewarn.cli.main import main
    from forewarn.errors import EXIT_REFUSED

    path = claude_settings()
    path.parent.mkdir(parents=True)
    path.write_text("{oops")
    assert main(["install", "claude"]) == EXIT_REFUSED


def test_install_leaves_bytecode_for_the_hook_modules() -> None:
    import importlib.util

    from forewarn.hook import install as install_mod

    assert install_mod.precompile_hook() is True
    pipeline = install_mod.run_script().parent / "pipeline.py"
    cached = Path(importlib.util.cache_from_source(str(pipeline)))
    assert cached.exists() and cached.stat().st_mtime >= pipeline.stat().st_mtime

"""Register (and remove) forewarn's hooks in Claude Code, Codex CLI and Gemini CLI settings.

Each agent keeps its hooks in a JSON file of the shape `{"hooks": {EVENT: [{"matcher": …,
"hooks": [{"type": "command", "command": …, "timeout": …}]}]}}` (Codex in `hooks.json`, the others
inside their `settings.json`). We add one matcher group per event we use, running

    "<python>" -I -S "<abs path>/forewarn/hook/run.py" <event> [--agent codex|gemini]

(absolute and quoted: the agent runs it from any directory, and `-I -S` halves interpreter start-up).

Invariants:
- only our entries change: ours are recognised by the `forewarn/hook/run.py` (or
  `-m forewarn.hook`) in their command, every other key, hook and matcher group keeps its place;
- installing twice changes nothing the second time (ours are replaced, not duplicated);
- a file that is not valid JSON, or whose `hooks` is not an object of lists, is refused untouched;
- writes are atomic (temp file in the same directory, then replace) and the previous content is
  kept next to the file as `<name>.forewarn.bak`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forewarn.errors import ForewarnError, RefusedError
from forewarn.fsutil import write_text_atomic

AGENTS = ("claude", "codex", "gemini")
SCOPES = {
    "claude": ("user", "project", "local"),
    "codex": ("user", "project"),
    "gemini": ("user", "project"),
}

# Claude Code tools whose family can carry lessons (the hook turns the others away at once anyway)
CLAUDE_TOOL_MATCHER = "Bash|Read|Edit|MultiEdit|Write|NotebookEdit|Glob|Grep"
CODEX_TOOL_MATCHER = "Bash|apply_patch"
GEMINI_TOOL_MATCHER = "run_shell_command|read_file|read_many_files|write_file|replace|glob|search_file_content|grep_search"
HOOK_TIMEOUT_SECONDS = (
    10  # the hook answers within its own deadline; this only bounds a wedged Python
)

# recognises our commands whatever interpreter or install location they name
OUR_COMMAND = re.compile(r"forewarn[\\/]+hook[\\/]+run\.py|-m\s+forewarn\.hook\b")


@dataclass(frozen=True)
class HookSpec:
    event: str  # the agent's event name
    matcher: str | None  # None: the group has no matcher (every occurrence)
    argument: str  # our event argument to run.py


HOOK_SPECS: dict[str, tuple[HookSpec, ...]] = {
    "claude": (
        HookSpec("PreToolUse", CLAUDE_TOOL_MATCHER, "pre-tool-use"),
        HookSpec("SessionStart", "startup|resume|clear|compact", "session-start"),
        HookSpec("SubagentStart", None, "subagent-start"),
    ),
    "codex": (
        HookSpec("PreToolUse", CODEX_TOOL_MATCHER, "pre-tool-use"),
        HookSpec("SessionStart", "startup|resume|clear", "session-start"),
    ),
    "gemini": (
        HookSpec("BeforeTool", GEMINI_TOOL_MATCHER, "before-tool"),
        HookSpec("AfterTool", GEMINI_TOOL_MATCHER, "after-tool"),
        HookSpec("SessionStart", None, "session-start"),
        HookSpec("PreCompress", None, "pre-compress"),
    ),
}

NOTES = {
    "codex": [
        "Codex runs a new or changed hook only once you trust it: open /hooks in Codex and approve forewarn's.",
        "Codex versions before hooks were on by default also need `[features] codex_hooks = true` in config.toml.",
    ],
    "gemini": [],
    "claude": [],
}


@dataclass
class InstallResult:
    agent: str
    scope: str
    path: str
    action: str  # "installed" | "uninstalled"
    changed: bool
    events: list[str] = field(default_factory=list)
    removed: int = 0  # our hook entries taken out (old versions on install, all on uninstall)
    backup: str | None = None
    commands: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def run_script() -> Path:
    """The absolute path of the hook's entry script."""
    return Path(__file__).resolve().with_name("run.py")


def shell_quote(text: str) -> str:
    """Double-quote for the POSIX shell the agents run hook commands with."""
    escaped = re.sub(r'(["\\$`])', r"\\\1", text)
    return f'"{escaped}"'


def hook_command(argument: str, agent: str = "claude", python: str | None = None) -> str:
    """The exact command `install` writes for one event (also what the benchmark times)."""
    command = (
        f"{shell_quote(python or sys.executable)} -I -S {shell_quote(str(run_script()))} {argument}"
    )
    if agent != "claude":
        command += f" --agent {agent}"
    return command


def settings_path(
    agent: str, scope: str, project_dir: str | os.PathLike[str] | None = None
) -> Path:
    from forewarn.paths import claude_config_dir, codex_home, gemini_dir

    if agent not in AGENTS:
        raise ForewarnError(f"unknown agent {agent!r}: choose one of {', '.join(AGENTS)}")
    if scope not in SCOPES[agent]:
        raise ForewarnError(
            f"{agent} has no {scope!r} scope: choose one of {', '.join(SCOPES[agent])}"
        )
    project = Path(project_dir or os.getcwd()).expanduser().resolve()
    if agent == "claude":
        if scope == "user":
            return claude_config_dir() / "settings.json"
        name = "settings.local.json" if scope == "local" else "settings.json"
        return project / ".claude" / name
    if agent == "codex":
        return (codex_home() if scope == "user" else project / ".codex") / "hooks.json"
    return (gemini_dir() if scope == "user" else project / ".gemini") / "settings.json"


def install(
    agent: str,
    scope: str = "user",
    project_dir: str | os.PathLike[str] | None = None,
    python: str | None = None,
    dry_run: bool = False,
) -> InstallResult:
    """Merge forewarn's hooks into the agent's settings file (idempotent)."""
    path = settings_path(agent, scope, project_dir)
    original, settings = _read_settings(path)
    removed = remove_our_hooks(settings)
    hooks = settings.setdefault("hooks", {})
    commands = {}
    for spec in HOOK_SPECS[agent]:
        command = hook_command(spec.argument, agent, python)
        commands[spec.event] = command
        handler: dict[str, Any] = {"type": "command", "command": command}
        if agent == "gemini":
            handler = {
                "name": f"forewarn-{spec.argument}",
                **handler,
                "timeout": HOOK_TIMEOUT_SECONDS * 1000,
            }
        else:
            handler["timeout"] = HOOK_TIMEOUT_SECONDS
        group: dict[str, Any] = {"matcher": spec.matcher} if spec.matcher is not None else {}
        group["hooks"] = [handler]
        hooks.setdefault(spec.event, []).append(group)
    changed = settings != original
    result = InstallResult(
        agent=agent,
        scope=scope,
        path=str(path),
        action="installed",
        changed=changed,
        events=[s.event for s in HOOK_SPECS[agent]],
        removed=removed,
        commands=commands,
        notes=list(NOTES[agent]),
    )
    if agent == "claude" and scope == "project":
        result.notes.append(
            "The command names this machine's Python and checkout: if .claude/settings.json is "
            "committed, prefer --local (or --user)."
        )
    if changed and not dry_run:
        result.backup = _write_settings(path, settings)
    if not dry_run:
        precompile_hook(python)
    return result


def precompile_hook(python: str | None = None) -> bool:
    """Write bytecode for the hook's modules with the interpreter the hook runs with.

    The hook is started for every tool call: without up-to-date `.pyc` files (an editable
    install, or PYTHONDONTWRITEBYTECODE set in the agent's environment) each call would compile
    its modules from source first. Failing to precompile only costs speed, so it never raises."""
    package = run_script().parent.parent  # …/forewarn
    targets = [str(package / "__init__.py"), str(package / "hook")]
    try:
        proc = subprocess.run(
            [python or sys.executable, "-m", "compileall", "-q", *targets],
            capture_output=True, timeout=60, check=False,
            env={k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return proc.returncode == 0


def uninstall(
    agent: str,
    scope: str = "user",
    project_dir: str | os.PathLike[str] | None = None,
    dry_run: bool = False,
) -> InstallResult:
    """Remove forewarn's hooks (and only them) from the agent's settings file."""
    path = settings_path(agent, scope, project_dir)
    result = InstallResult(
        agent=agent, scope=scope, path=str(path), action="uninstalled", changed=False
    )
    if not path.exists():
        return result
    original, settings = _read_settings(path)
    result.removed = remove_our_hooks(settings)
    result.changed = settings != original
    if result.changed and not dry_run:
        result.backup = _write_settings(path, settings)
    return result


def remove_our_hooks(settings: dict[str, Any]) -> int:
    """Take our handlers out of `settings` in place; drop groups and events that only we filled."""
    hooks = settings.get("hooks")
    if not isinstance(hooks, dict):
        return 0
    removed = 0
    for event in list(hooks):
        groups = hooks[event]
        kept_groups = []
        for group in groups:
            handlers = group.get("hooks") if isinstance(group, dict) else None
            if not isinstance(handlers, list):
                kept_groups.append(group)
                continue
            kept = [h for h in handlers if not is_our_handler(h)]
            removed += len(handlers) - len(kept)
            if kept or not handlers:
                kept_groups.append(
                    {**group, "hooks": kept} if len(kept) != len(handlers) else group
                )
        if kept_groups or not groups:
            hooks[event] = kept_groups
        else:
            del hooks[event]
    if not hooks and removed:
        del settings["hooks"]
    return removed


def is_our_handler(handler: Any) -> bool:
    return (
        isinstance(handler, dict)
        and isinstance(handler.get("command"), str)
        and bool(OUR_COMMAND.search(handler["command"]))
    )


def our_commands(settings: dict[str, Any]) -> dict[str, list[str]]:
    """event -> our commands registered for it (used by `doctor`)."""
    found: dict[str, list[str]] = {}
    hooks = settings.get("hooks")
    if not isinstance(hooks, dict):
        return found
    for event, groups in hooks.items():
        for group in groups if isinstance(groups, list) else []:
            for handler in group.get("hooks") or [] if isinstance(group, dict) else []:
                if is_our_handler(handler):
                    found.setdefault(event, []).append(handler["command"])
    return found


def plugin_hooks() -> dict[str, Any]:
    """The Claude Code plugin's `hooks/hooks.json` (the repo's copy is checked against this)."""
    command = 'python3 -I -S "${CLAUDE_PLUGIN_ROOT}/src/forewarn/hook/run.py"'
    hooks: dict[str, Any] = {}
    for spec in HOOK_SPECS["claude"]:
        group: dict[str, Any] = {"matcher": spec.matcher} if spec.matcher is not None else {}
        group["hooks"] = [
            {
                "type": "command",
                "command": f"{command} {spec.argument}",
                "timeout": HOOK_TIMEOUT_SECONDS,
            }
        ]
        hooks[spec.event] = [group]
    return {
        "description": "forewarn: lessons from earlier sessions, before the mistake repeats",
        "hooks": hooks,
    }


def read_settings(path: Path) -> dict[str, Any]:
    """A settings file as a dict ({} when missing); RefusedError when it is not usable JSON."""
    return _read_settings(path)[1]


def _read_settings(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(original, working copy); RefusedError rather than guess at a damaged file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, {}
    except OSError as err:
        raise ForewarnError(f"cannot read {path}: {err.strerror or err}") from err
    if not text.strip():
        return {}, {}
    try:
        data = json.loads(text)
    except ValueError as err:
        raise RefusedError(f"{path} is not valid JSON ({err}); nothing was written") from err
    if not isinstance(data, dict):
        raise RefusedError(f"{path} does not hold a JSON object; nothing was written")
    hooks = data.get("hooks")
    if hooks is not None and (
        not isinstance(hooks, dict)
        or not all(isinstance(groups, list) for groups in hooks.values())
    ):
        raise RefusedError(f"{path}: 'hooks' is not an object of lists; nothing was written")
    return data, json.loads(text)


def _write_settings(path: Path, settings: dict[str, Any]) -> str | None:
    path.parent.mkdir(parents=True, exist_ok=True)
    backup = None
    if path.exists():
        backup_path = path.with_name(path.name + ".forewarn.bak")
        shutil.copy2(path, backup_path)
        backup = str(backup_path)
    write_text_atomic(path, json.dumps(settings, indent=2, ensure_ascii=False) + "\n")
    return backup

"""What a tool call offers to match lessons against: its family, its command, its paths.

The family table is a copy of `forewarn.model.TOOL_FAMILY`: `forewarn.model` imports
`dataclasses`, which imports `re` and `inspect`, far too much for a process that starts before every
tool call. `tests/test_hook_imports.py` asserts the two tables (and `tool_family`) agree.

Invariants:
- the shell family offers only its command text; every other family offers only paths;
- a value that is not a string (or a list of strings) is ignored, never an error;
- paths are returned as the agent gave them, plus the cwd-joined form when relative (Claude Code
  sends absolute paths; Codex patches name files relative to the workspace).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

TOOL_FAMILY: dict[str, str] = {
    # shell
    "Bash": "shell",
    "BashOutput": "shell_output",
    "KillShell": "shell_output",
    "shell": "shell",
    "shell_command": "shell",
    "exec_command": "shell",
    "local_shell_call": "shell",
    "local_shell": "shell",
    "write_stdin": "shell_output",
    "run_shell_command": "shell",
    "container.exec": "shell",
    # reading
    "Read": "read",
    "read_file": "read",
    "read_many_files": "read",
    "NotebookRead": "read",
    "view_image": "read",
    # editing
    "Edit": "edit",
    "MultiEdit": "edit",
    "apply_patch": "edit",
    "replace": "edit",
    "edit_file": "edit",
    "NotebookEdit": "edit",
    # writing
    "Write": "write",
    "write_file": "write",
    # searching
    "Grep": "search",
    "search_file_content": "search",
    "grep_search": "search",
    "Glob": "glob",
    "glob": "glob",
    "LS": "glob",
    "list_directory": "glob",
    # web
    "WebFetch": "web",
    "WebSearch": "web",
    "web_fetch": "web",
    "google_web_search": "web",
    "web_search": "web",
}

SHELL = "shell"

# tool_input keys that hold a path (or a glob / search root) in the agents we know
_PATH_KEYS = ("file_path", "path", "notebook_path", "absolute_path", "pattern", "dir_path", "paths")
# tool_input keys that may hold an apply_patch body
_PATCH_KEYS = ("command", "input", "patch")
_PATCH_FILE_MARKERS = ("*** Add File: ", "*** Update File: ", "*** Delete File: ", "*** Move to: ")


def tool_family(name: str) -> str:
    """The family of a tool name; MCP and unknown tools are their own family."""
    family = TOOL_FAMILY.get(name)
    if family is not None:
        return family
    if name.startswith("mcp__"):
        return "mcp"
    return name.lower()


def command_text(tool_input: dict[str, Any]) -> str | None:
    """The shell command of a shell-family call (Codex may send an argv list)."""
    for key in ("command", "cmd"):
        value = tool_input.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return " ".join(value)
    return None


def path_values(tool_input: dict[str, Any], cwd: str | None) -> list[str]:
    """Every path-like value of a file-family call, relative ones also joined to `cwd`."""
    found: list[str] = []
    for key in _PATH_KEYS:
        value = tool_input.get(key)
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, list):
            found.extend(v for v in value if isinstance(v, str))
    for key in _PATCH_KEYS:
        value = tool_input.get(key)
        if isinstance(value, str) and "*** " in value:
            found.extend(_patch_paths(value))
    if cwd:
        for value in list(found):
            if value and not _is_absolute(value) and "*" not in value:
                found.append(cwd.rstrip("/\\") + "/" + value)
    return found


def _patch_paths(patch: str) -> list[str]:
    paths = []
    for line in patch.splitlines():
        for marker in _PATCH_FILE_MARKERS:
            if line.startswith(marker):
                paths.append(line[len(marker) :].strip())
    return paths


def _is_absolute(path: str) -> bool:
    # POSIX absolute, Windows drive or UNC path: no os.path needed for this
    return path.startswith(("/", "\\")) or (len(path) > 2 and path[1] == ":" and path[2] in "/\\")

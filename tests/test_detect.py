from __future__ import annotations

import pytest

from forewarn.analyze.detect import judge
from forewarn.model import ERROR, OK, REJECTED, ToolCall


def bash(command: str, output: str = "", *, code: int | None = None, status: str | None = None) -> ToolCall:
    st = status or (ERROR if code else OK)
    return ToolCall("c", "Bash", {"command": command}, 0, status=st, is_error=st == ERROR, exit_code=code,
                    output=output, output_bytes=len(output))


@pytest.mark.parametrize("command,output,code", [
    ("grep -rn TODO src", "", 1),                                   # no match is the answer
    ("rg --files-with-matches needle", "", 1),
    ("test -f setup.cfg", "", 1),
    ("which ventoy 2>/dev/null || pacman -Qs ventoy", "", 1),
    ("ls -la .beads/*.pid 2>&1", "ls: .beads/*.pid: No such file or directory", 1),
    ("diff a.txt b.txt", "1c1\n< a\n---\n> b", 1),
    ('echo "--- which ---"; which foo; ls /opt/foo', "--- which ---\nls: cannot access", 2),
])
def test_benign_non_zero_exits_are_not_failures(command: str, output: str, code: int) -> None:
    assert judge(bash(command, output, code=code)).failed is False


@pytest.mark.parametrize("command,output,code,kind", [
    ("python3 -m pytest", "ModuleNotFoundError: No module named 'httpx'", 1, "env_runtime"),
    ("figlet hi", "/bin/bash: line 1: figlet: command not found", 127, "command_not_found"),
    ("git push", "fatal: could not read Username for 'https://github.com'", 128, "permission_denied"),
    ("gt config show prefix", 'Error: unknown command "show" for "gt config"', 1, "wrong_cli_usage"),
    ("cat nope.txt", "cat: nope.txt: No such file or directory", 1, "path_not_found"),
    ("file x.json", "/bin/bash: line 1: file: command not found", 127, "command_not_found"),
])
def test_real_failures_are_found_and_classified(command: str, output: str, code: int, kind: str) -> None:
    verdict = judge(bash(command, output, code=code))
    assert verdict.failed and verdict.kind == kind


def test_hidden_failure_behind_a_pipe_is_found() -> None:
    out = "Note: running in direct mode\nError: activity command requires daemon\nHint: start it"
    assert judge(bash("bd activity 2>&1 | head -20", out)).failed
    assert judge(bash("psql -c 'select 1' 2>&1 || echo failed",
                      'psql: error: connection to server failed: FATAL:  database "x" does not exist')).failed
    assert judge(bash("sudo pacman -S x 2>&1 | tail -3",
                      "sudo: a terminal is required to read the password")).failed


def test_error_words_in_successful_output_are_not_failures() -> None:
    assert not judge(bash("tail -50 daemon.log", "12:00 Error: retrying\n12:01 Error: retrying")).failed
    assert not judge(bash("cat state.json", '{"failure_reason": "fatal: boom"}')).failed
    assert not judge(bash("bd config set x y", "Set x = y\nAuto-import failed: database is locked")).failed
    assert not judge(bash("npm test", "Found 0 errors. 12 passing")).failed


def test_tool_flags_rejections_and_validation_errors() -> None:
    edit = ToolCall("e", "Edit", {"file_path": "/p/a.py"}, 0, status=ERROR, is_error=True,
                    output="<tool_use_error>File has not been read yet. Read it first before writing to it.</tool_use_error>")
    assert judge(edit).kind == "edit_mismatch"
    read = ToolCall("r", "Read", {"file_path": "/p/missing.py"}, 0, status=ERROR, is_error=True,
                    output="<tool_use_error>File does not exist.</tool_use_error>")
    assert judge(read).kind == "path_not_found"
    rejected = ToolCall("x", "Write", {"file_path": "/p/a"}, 0, status=REJECTED, is_error=True)
    assert judge(rejected).kind == "user_rejected"
    pending = ToolCall("p", "Bash", {"command": "sleep 5"}, 0)
    assert not judge(pending).failed


def test_timeouts_are_hangs() -> None:
    call = bash("npm run dev", "Command timed out after 2m 0.0s", code=None, status=ERROR)
    call.timed_out = True
    assert judge(call).kind == "timeout_or_hang"


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from forewarn.analyze import detect  # noqa: E402

_SNIPPETS = ["Permission denied", "ModuleNotFoundError: No module named 'x'", "command not found", "Usage: x",
             "No such file or directory", "ECONNREFUSED", "timed out", "Unknown flag --x", "\n", " ", "Error: ",
             "String to replace not found", "InputValidationError", "fatal: could not read Username", "X-Y", "ÄÖ"]


@settings(max_examples=300)
@given(st.lists(st.one_of(st.sampled_from(_SNIPPETS), st.text(alphabet=st.characters(max_codepoint=127), max_size=12)),
                max_size=8))
def test_lowercased_kind_rules_match_exactly_what_the_originals_match(parts: list[str]) -> None:
    text = "".join(parts)
    for (kind, original, _), (_, lowered, _) in zip(detect._KIND_RULES, detect._KIND_CHECKS, strict=True):
        assert bool(original.search(text)) == bool(lowered.search(text.lower())), (kind, text)


def test_an_unknown_tool_name_is_a_tool_parameter_mistake() -> None:
    call = ToolCall("g", "replace", {"file_path": "a.json"}, 0, status=ERROR, is_error=True,
                    output='Tool "replace" not found in registry. Tools must use the exact names that are registered.')
    assert judge(call).kind == "tool_validation"

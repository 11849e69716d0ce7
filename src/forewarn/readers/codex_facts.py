"""How Codex CLI encodes a tool call's input and outcome, as pure functions.

Inputs: `function_call.arguments` is a JSON string; shell calls of older versions give `command`
as a vector (["bash", "-lc", "script"]) whose script is what really ran; `apply_patch` comes as a
vector, a heredoc, a function argument or a custom call's raw input.

Outcomes: the exit status hides in the output text, in one shape per generation — a JSON string
`{"output", "metadata": {"exit_code"}}` (legacy `shell`), an "Exit code: N" header
(`shell_command`), a unified-exec header with "Process exited with code N" or "Process running
with session ID N" (`exec_command` / `write_stdin`), or "failed in sandbox … exit code: N".
Tool-level failures carry no code ("apply_patch verification failed", "failed to parse function
arguments"); denials read "exec command rejected by user" / "patch rejected by user"; a call cut
by an interrupt gets the synthetic output "aborted".

Lines: most lines of a rollout never matter (reasoning, token counts, assistant text without a
`#lesson` block) and are recognised from their first bytes without parsing: `triage` is the rule,
and the `HEAD` regex gives the same verdict for the usual envelope head in one match. Their
agreement is an invariant: a line is skipped only where parsing it could change nothing.

Every function is total: any input gives an answer, never an exception.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from forewarn import regexes
from forewarn.model import ERROR, INTERRUPTED, OK, PENDING, REJECTED, clip
from forewarn.readers.toolfacts import (
    MAX_INPUT_STR,
    parts_text,
    patch_first_file,
    shell_script,
    to_int,
    trim_input,
)

# Exit status in the many shapes Codex gives it (see module docstring).
_EXIT_HEADER = regexes.compile(r"^Exit code: (-?\d+)")
_UNIFIED_HEADER = regexes.compile(
    r"^Wall time: [^\n]*\n(?:Process exited with code (-?\d+)|Process running with session ID (\d+))", re.M
)
_SANDBOX_EXIT = regexes.compile(r"^failed in sandbox[^\n]*?exit code:? (-?\d+)")
_TIMEOUT = regexes.compile(r"(?:^|\n)command timed out after \d+|execution error: command timed out")
_TIMEOUT_HINT = "command timed out"  # cheap substring test before the regex
_REJECTIONS = ("exec command rejected by user", "patch rejected by user", "rejected by user")
_TOOL_ERRORS = (
    "apply_patch verification failed", "error: ", "failed to parse function arguments",
    "unsupported call", "unsupported custom tool call", "execution error", "failed in sandbox",
    "sandbox error", "This action was rejected", "unknown tool", "invalid patch",
)
_is_str = str.__instancecheck__  # isinstance(x, str) as a function, for map()


def argv_input(command: Any) -> dict[str, Any]:
    """Input of a call whose command is a vector: the vector kept as `argv`, the script that ran as
    `command`, and for `apply_patch` vectors or heredocs the patch and its first file."""
    if not (isinstance(command, list) and command and all(map(_is_str, command))):
        return {"command": command} if command is not None else {}
    script = shell_script(command)
    argv = command.copy()
    if max(map(len, argv)) > 4000:
        argv = [clip(a, 2000, 1000) if len(a) > 4000 else a for a in command]
    inp: dict[str, Any] = {
        "argv": argv,
        "command": clip(script, 2000, 1000) if len(script) > 4000 else script,
    }
    patch: str | None = None
    if command[0] == "apply_patch" and len(command) >= 2:
        patch = command[1]
    elif script.lstrip().startswith("apply_patch") and "*** Begin Patch" in script:
        patch = script[script.find("*** Begin Patch"):]
    if patch is not None:
        inp["patch"] = clip(patch, 2000, 1000)
        inp["file_path"] = patch_first_file(patch)
    return inp


def function_input(name: str, arguments: Any) -> dict[str, Any]:
    args: Any = arguments
    if isinstance(arguments, str):
        try:
            args = orjson.loads(arguments)
        except orjson.JSONDecodeError:
            return {"arguments": clip(arguments, 2000, 1000)}
        # A decoded string is never longer than the JSON text that encodes it, so arguments this
        # short hold nothing `trim_input` would clip: a plain copy is what it would return.
        inp = args.copy() if type(args) is dict and len(arguments) <= MAX_INPUT_STR else trim_input(args)
    else:
        inp = trim_input(args)
    if not isinstance(args, dict):
        return inp
    command = args.get("command")
    if isinstance(command, list):
        del inp["command"]  # `inp` is a fresh copy of `args`; keys keep their order
        inp.update(argv_input(command))
    elif isinstance(args.get("cmd"), str) and "command" not in inp:
        inp["command"] = inp["cmd"]  # exec_command: analyzers look for `command` in every agent
    if name == "apply_patch" and isinstance(args.get("input"), str):
        inp["patch"] = inp.pop("input")
        inp["file_path"] = patch_first_file(args["input"])
    return inp


def output_text(raw: Any) -> tuple[str, int | None, bool]:
    """(text the model saw, exit code from structured metadata, agent's own failure flag)."""
    if not isinstance(raw, str):
        if isinstance(raw, dict):  # structured payload of some versions
            flagged = raw.get("success") is False
            while isinstance(raw, dict):  # a loop, not recursion: nesting of any depth reads
                raw = raw.get("content", raw.get("output"))
            text, code, _ = output_text(raw)
            return text, code, flagged
        if isinstance(raw, list):  # content items: input_text / output_text / input_image
            return parts_text(raw), None, False
        return "", None, False
    if raw.startswith('{"output":'):  # legacy shell: a JSON string with metadata.exit_code
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return raw, None, False
        if isinstance(obj, dict) and isinstance(obj.get("output"), str):
            meta = obj.get("metadata")
            code = to_int(meta.get("exit_code")) if isinstance(meta, dict) else None
            return obj["output"], code, False
    elif raw.startswith('[{"') and raw.endswith("}]"):  # MCP content serialised as a string
        try:
            obj = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return raw, None, False
        if isinstance(obj, list):
            return parts_text(obj), None, False
    return raw, None, False


def classify(text: str, meta_code: int | None, flagged: bool) -> tuple[str, int | None, bool, int | None]:
    """(status, exit code, timed out, running unified-exec session id) of one output text."""
    head = text[:400]
    timed_out = _TIMEOUT_HINT in head and _TIMEOUT.search(head) is not None
    if text == "aborted" or text.startswith("aborted by user"):
        return INTERRUPTED, None, False, None
    if head.startswith(_REJECTIONS):
        return REJECTED, None, False, None
    code = meta_code
    running: int | None = None
    if code is None:
        # each regex only after the cheap test its match implies
        m = _EXIT_HEADER.match(text) if text.startswith("Exit code: ") else None
        if m:
            code = int(m.group(1))
        else:
            m2 = _UNIFIED_HEADER.search(text, 0, 20000) if "Wall time: " in head or text.startswith("Command: ") else None
            if m2:
                if m2.group(1) is not None:
                    code = int(m2.group(1))
                else:
                    running = int(m2.group(2))
            else:
                m3 = _SANDBOX_EXIT.match(text) if text.startswith("failed in sandbox") else None
                if m3:
                    code = int(m3.group(1))
    if code is not None:
        status = OK if code == 0 and not flagged else ERROR
    elif running is not None:
        status = PENDING  # still running: its exit comes through a later write_stdin poll
    elif flagged or text.startswith(_TOOL_ERRORS):
        status = ERROR
    else:
        status = OK
    if timed_out and status == OK and code is None:
        status = ERROR
    return status, code, timed_out, running


# -- which lines matter, before parsing ---------------------------------------------------------

# Record types that never carry calls, results or turns, recognised without parsing: the type tag
# sits in the first ~120 bytes (`{"timestamp":…,"type":…,"payload":{"type":"X"` or, legacy,
# `{"type":"X"`). Quotes inside JSON strings are escaped, so an unescaped match is a real key.
SKIP_TYPES = frozenset(
    {b"reasoning", b"token_count", b"agent_reasoning", b"agent_reasoning_delta",
     b"agent_reasoning_raw_content", b"ghost_snapshot", b"task_started", b"task_complete",
     b"web_search_call", b"agent_message_delta", b"exec_command_begin", b"exec_command_output_delta",
     b"patch_apply_begin", b"mcp_tool_call_begin", b"mcp_tool_call_end", b"turn_diff", b"plan_update",
     b"background_event", b"entered_review_mode", b"exited_review_mode"}
)
PAYLOAD_TYPE = b'"payload":{"type":"'
ROLE_USER = b'"role":"user"'
SKIP, TURN_CONTEXT, PARSE, MESSAGE, LESSON = object(), object(), object(), object(), object()
HEAD_BYTES = 200
# What an envelope line's payload type says before parsing: MESSAGE and LESSON lines matter only
# for user text or a `#lesson` block; a type not listed is parsed.
ENVELOPE_ACTIONS: dict[bytes, object] = {
    **dict.fromkeys(SKIP_TYPES, SKIP), b"message": MESSAGE, b"agent_message": LESSON,
}
# The usual envelope head, matched in one go; its verdict is the one `triage` gives, only cheaper.
# A plain timestamp (printable ASCII, no quote or backslash, at most 40 bytes) keeps every key
# below within the byte windows `triage` searches, and leaves no room for an earlier
# `"payload":{"type":"` or `"cwd":"`. Groups: 1 timestamp, 2 a plain leading cwd of a
# turn_context, 3 the payload type (None for turn_context). Any other head goes to `triage`.
_PLAIN = rb'[ !#-\[\]-~]'
HEAD = regexes.compile(
    rb'\{"timestamp":"(' + _PLAIN + rb'{1,40})","type":"(?:turn_context","payload":\{(?:"cwd":"('
    + _PLAIN + rb'*)")?|[a-z_]{1,24}","payload":\{"type":"([^"]{0,47})")'
)


def json_string_after(line: bytes, key: bytes) -> str | None:
    """The JSON string value that follows the first `key` (like b'"cwd":"'), decoded, or None."""
    i = line.find(key)
    if i < 0:
        return None
    i += len(key)
    j = i
    while True:
        j = line.find(b'"', j)
        if j < 0:
            return None
        k = j - 1
        while line[k] == 0x5C:  # count the backslashes before the quote: odd means escaped
            k -= 1
        if (j - 1 - k) % 2 == 0:
            break
        j += 1
    try:
        value = orjson.loads(line[i - 1 : j + 1])
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, str) else None


def triage(line: bytes) -> object:
    """SKIP for a line that can be dropped unparsed (a type that never matters, assistant text
    without a `#lesson` block), TURN_CONTEXT, or PARSE."""
    i = line.find(PAYLOAD_TYPE, 0, HEAD_BYTES)
    if i >= 0:
        i += len(PAYLOAD_TYPE)
    elif line.startswith(b'{"type":"'):
        i = 9
    elif line.startswith(b'{"record_type":'):
        return SKIP
    elif line.find(b'"type":"turn_context"', 0, 80) > 0:
        return TURN_CONTEXT
    else:
        return PARSE
    j = line.find(b'"', i, i + 48)
    kind = line[i:j]
    if kind in SKIP_TYPES:
        return SKIP
    if kind == b"agent_message" or (kind == b"message" and line.find(b'"role":"user"', i, i + 64) < 0):
        return PARSE if b"#lesson" in line else SKIP  # assistant/developer text
    return PARSE

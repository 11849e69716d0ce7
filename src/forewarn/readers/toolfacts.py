"""Small text helpers shared by the Codex and Gemini readers.

They turn an agent's raw tool arguments and result text into the facts the model carries: clipped
inputs, the shell script a command vector really ran, the first file a patch touches, `#lesson`
blocks in assistant text. Everything here is pure and total: any input gives an answer, never an
exception, because readers must survive whatever bytes a log holds.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from typing import Any

from forewarn import regexes
from forewarn.model import clip

MAX_INPUT_STR = 4000  # long string inputs (file contents, big patches) are clipped in the model
MAX_TEXT = 4000  # user turns and lesson blocks

# Flags after which a shell takes its script as the next (last) argument.
_SCRIPT_FLAGS = frozenset({"-c", "-lc", "-ic", "-lic", "-cl", "/c", "/C", "-Command", "-command", "-EncodedCommand"})
_PATCH_FILE = regexes.compile(r"^\*\*\* (?:Add|Update|Delete) File: (.+?)\s*$", re.M)


def trim_input(value: Any) -> dict[str, Any]:
    """Tool arguments as a dict whose long strings are clipped (head and tail kept)."""
    if not isinstance(value, dict):
        return {"value": value} if value is not None else {}
    out: dict[str, Any] = {}
    for key, item in value.items():
        if isinstance(item, str) and len(item) > MAX_INPUT_STR:
            out[str(key)] = clip(item, 2000, 1000)
        else:
            out[str(key)] = item
    return out


def shell_script(argv: list[str]) -> str:
    """The command a vector like ["bash", "-lc", "cmd"] actually ran: the script after the shell's
    script flag, else the whole vector quoted back into one line."""
    if len(argv) >= 3 and argv[-2] in _SCRIPT_FLAGS:
        return argv[-1]
    if len(argv) == 1:
        return argv[0]
    return shlex.join(argv)


def patch_first_file(patch: str) -> str | None:
    """The first file an apply_patch envelope (`*** Update File: path`) touches."""
    m = _PATCH_FILE.search(patch)
    return m.group(1) if m else None


def lesson_blocks(text: str) -> Iterator[str]:
    """Each `#lesson … #/lesson` block in assistant text, markers included (as the Claude reader
    reports them), clipped to MAX_TEXT."""
    start = 0
    while True:
        i = text.find("#lesson", start)
        if i < 0:
            return
        j = text.find("#/lesson", i)
        if j < 0:
            return
        yield text[i : j + len("#/lesson")][:MAX_TEXT]
        start = j + 1


def user_text(text: str) -> str:
    return clip(text.strip(), MAX_TEXT, 500)


def parts_text(content: Any) -> str:
    """Text of a message content that is a string or a list of parts/blocks with `text`."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        out = []
        for part in content:
            if isinstance(part, str):
                out.append(part)
            elif isinstance(part, dict):
                text = part.get("text")
                if isinstance(text, str):
                    out.append(text)
        return "\n".join(out)
    return ""


def to_int(value: Any) -> int | None:
    """An exit code given as int or numeric string; booleans and junk are not codes."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None

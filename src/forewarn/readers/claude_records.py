"""The fields the Claude reader reads from a transcript line, as msgspec Structs.

msgspec skips every other field without decoding it; in real transcripts that is most of the
bytes (the output repeated in `toolUseResult`, thinking blocks, file snapshots, progress payloads).
`Any` fields take whatever JSON holds and are checked where used, as a plain dict's values would
be; a value of another shape than the typed ones (a `message` that is a list, say) fails its
block's decoding, and the line-by-line path reads that line as a plain dict through `coerce`.
Imported when the reader first reads (see `forewarn.readers.decoded`).
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec


class Block(msgspec.Struct):
    """A content block: tool_use, tool_result, text (thinking blocks keep only their type)."""

    type: Any = None
    id: Any = None
    name: Any = None
    input: Any = None
    text: Any = None
    tool_use_id: Any = None
    content: Any = None
    is_error: Any = None


class Message(msgspec.Struct):
    content: list[Block] | str | None = None
    model: Any = None


class ToolUseResult(msgspec.Struct):
    """The few facts read from a result's `toolUseResult` (its output, repeated, is skipped)."""

    interrupted: Any = None
    exitCode: Any = None  # Claude Code's field names
    returnCode: Any = None


class Record(msgspec.Struct):
    type: Any = None
    timestamp: Any = None
    cwd: Any = None
    sessionId: Any = None
    version: Any = None
    gitBranch: Any = None
    isSidechain: Any = None
    agentId: Any = None
    subtype: Any = None
    message: Message | str | None = None
    isMeta: Any = None
    isCompactSummary: Any = None
    toolUseResult: ToolUseResult | str | None = None


DECODER = msgspec.json.Decoder(Record)
S = TypeVar("S", bound=msgspec.Struct)


def coerce(obj: dict[str, Any]) -> Record:
    """A record of any shape as a `Record`: what does not fit a typed field is dropped, as the
    reader would ignore it (a non-object content block, a `message` that is a list…)."""
    fields = {name: obj.get(name) for name in Record.__struct_fields__}
    message = fields["message"]
    if isinstance(message, dict):
        content = message.get("content")
        if isinstance(content, list):
            content = [_of(Block, b) for b in content if isinstance(b, dict)]
        elif not isinstance(content, str):
            content = None
        fields["message"] = Message(content=content, model=message.get("model"))
    elif not isinstance(message, str):
        fields["message"] = None
    sibling = fields["toolUseResult"]
    if isinstance(sibling, dict):
        fields["toolUseResult"] = _of(ToolUseResult, sibling)
    elif not isinstance(sibling, str):
        fields["toolUseResult"] = None
    return Record(**fields)


def _of(kind: type[S], obj: dict[str, Any]) -> S:
    """A Struct of `kind` with the values `obj` has for its fields (None for the others)."""
    return kind(**{name: obj.get(name) for name in kind.__struct_fields__})

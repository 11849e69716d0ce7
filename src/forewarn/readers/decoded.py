"""Lines decoded a block at a time into typed records (msgspec Structs).

A reader whose records are mostly bytes it never reads (the Claude reader: outputs repeated in
`toolUseResult`, thinking blocks, file snapshots) names the fields it reads in a Struct; msgspec
then skips the rest of each line without building Python objects for it. This module is imported
when a reader first reads, not when readers are listed or files sniffed: a command that reads no
such file never loads msgspec.

Invariants: the same line accounts as `base.iter_records` (every line in `lines`; over-long,
corrupt and non-object lines in `bad_lines`; `end_offset` the first byte not consumed, which after
an over-long line is where reading had got to); a partial last line is never consumed; a line
decodes to the same record whether its block was decoded whole or line by line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, BinaryIO, TypeVar

import msgspec
import orjson

from forewarn.model import Chunk
from forewarn.readers.base import MAX_LINE, iter_blocks

R = TypeVar("R")
_OPEN_BRACE = ord("{")
_DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError)


def iter_decoded(f: BinaryIO, start: int, chunk: Chunk, decoder: msgspec.json.Decoder[R],
                 coerce: Callable[[dict[str, Any]], R]) -> Iterator[tuple[int, R]]:
    """(offset, record) for each JSON-object line of `f` from `start`, decoded into the type of
    `decoder`: a msgspec Struct that names only the fields its reader reads, so that the rest of
    each line (most of its bytes, in agents' logs) is skipped, not turned into Python objects.

    A block whose lines all open an object is decoded in one call, the line offsets found
    meanwhile giving each record its position. Any other block, or one that does not decode whole
    (a corrupt line, a value of a shape the typed fields do not take), is read line by line: a
    line of valid JSON but an unusual shape goes through orjson and `coerce`, which makes the same
    record type of a plain dict. The accounts are `iter_records`'s: every line in `lines`;
    over-long, corrupt and non-object lines in `bad_lines`; `end_offset` the first byte not
    consumed, which after an over-long line is where reading had got to."""
    decode_lines = decoder.decode_lines
    max_line = MAX_LINE
    for base, data in iter_blocks(f, start, max_line):
        if data is None:
            chunk.lines += 1
            chunk.bad_lines += 1
            chunk.end_offset = f.tell()
            continue
        find = data.find
        offsets: list[int] = []
        i = 0  # where the next line starts in `data`
        whole = True  # every line opens an object and is within the limit
        while (j := find(b"\n", i)) >= 0:
            if data[i] != _OPEN_BRACE or j - i > max_line:
                whole = False
                break
            offsets.append(base + i)
            i = j + 1
        records = _decode_block(decode_lines, memoryview(data)[:i]) if whole else None
        # Two values on one line would also decode: then which record is whose is unknown.
        if records is not None and len(records) == len(offsets):
            yield from zip(offsets, records, strict=True)
            chunk.lines += len(records)
            chunk.end_offset = base + i
            continue
        i = 0
        while (j := find(b"\n", i)) >= 0:
            at, i = i, j + 1
            chunk.lines += 1
            if j - at > max_line:
                chunk.bad_lines += 1
                chunk.end_offset = f.tell()  # as iter_records reports an over-long line
                continue
            chunk.end_offset = base + i
            line = data[at:i]
            rec = decode_line(line, decoder, coerce)
            if rec is not None:
                yield base + at, rec
            elif line.strip():
                chunk.bad_lines += 1


def _decode_block(decode_lines: Callable[[memoryview], list[R]], lines: memoryview) -> list[R] | None:
    try:
        return decode_lines(lines)
    except _DECODE_ERRORS:
        return None


def decode_line(line: bytes, decoder: msgspec.json.Decoder[R], coerce: Callable[[dict[str, Any]], R]) -> R | None:
    """One line as `decoder`'s record type, or None when it holds no JSON object."""
    try:
        return decoder.decode(line)
    except msgspec.ValidationError:
        pass  # valid JSON of a shape the typed fields do not take
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return coerce(obj) if isinstance(obj, dict) else None

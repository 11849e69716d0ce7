"""What every reader shares: safe incremental line reading and the `Reader` interface.

Invariants of `iter_lines` and of `iter_blocks`, which it cuts into lines:
- it never yields a partial last line (a line without its newline): a writer may still be
  appending to it, so the caller's saved offset stops just before it;
- a line longer than `max_line` is skipped (reported as `None`) without ever being held whole in
  memory, so memory stays flat whatever the input;
- offsets are byte offsets into the file, so they stay valid across incremental reads.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import orjson

from forewarn.model import Chunk, SessionInfo

MAX_LINE = 8 * 1024 * 1024  # a longer line is skipped and counted: no real record is that large
_BLOCK = 4 * 1024 * 1024


def iter_blocks(f: BinaryIO, start: int = 0, max_line: int = MAX_LINE) -> Iterator[tuple[int, bytes | None]]:
    """Yield (offset, data) for runs of complete lines from `start`: each line of `data` that ends
    in a newline is complete and sits at file offset `offset` + its index; what follows the last
    newline is incomplete and comes again at the front of a later block. `data` is None for a
    line too long to keep (over `max_line` and still unfinished at the end of a block), given at
    its offset; a complete line of `data` may be over-long too, which its reader checks
    (`j - i > max_line` for a line data[i:j+1]).

    `iter_lines` cuts these blocks into lines; a reader that drops most lines unread can look at
    each line where it sits instead of copying it out first."""
    f.seek(start)
    next_read = start  # file offset of the next byte to read
    base = start  # file offset of data[0]
    data = b""
    skip_from: int | None = None  # start of an over-long line being discarded
    while True:
        block = f.read(_BLOCK)
        if not block:
            return  # `data` holds an incomplete last line: not consumed
        block_at = next_read
        next_read += len(block)
        if skip_from is not None:
            j = block.find(b"\n")
            if j < 0:
                continue  # still inside the over-long line: keep nothing of it
            yield skip_from, None
            skip_from = None
            data, base = block[j + 1 :], block_at + j + 1
        else:
            data = data + block if data else block
        i = data.rfind(b"\n") + 1  # just past the last complete line
        if i:
            yield base, data
        if len(data) - i > max_line:
            skip_from, data = base + i, b""
        else:
            base, data = base + i, data[i:]


def iter_lines(f: BinaryIO, start: int = 0, max_line: int = MAX_LINE) -> Iterator[tuple[int, bytes | None]]:
    """Yield (offset, line) for each complete line from `start` (the line keeps its newline);
    `line` is None when over-long.

    Reads in large blocks and cuts lines out of them (far cheaper than a `readline` per line).
    Stops before an incomplete last line; the caller learns where it stopped from the last
    offset plus the length of the last line."""
    for base, data in iter_blocks(f, start, max_line):
        if data is None:
            yield base, None
            continue
        i = 0
        find = data.find
        while (j := find(b"\n", i)) >= 0:
            yield base + i, (data[i : j + 1] if j - i <= max_line else None)
            i = j + 1


def new_chunk(path: Path, agent: str, start: int, context: dict[str, Any] | None) -> Chunk:
    """An empty chunk for a read of `path` from `start`, its session seeded with what an earlier
    read stored (`context`: session_id, cwd, project)."""
    context = context or {}
    session = SessionInfo(
        session_id=context.get("session_id"),
        agent=agent,
        cwd=context.get("cwd"),
        project=context.get("project"),
    )
    return Chunk(path=str(path), session=session, end_offset=start)


def iter_records(f: BinaryIO, start: int, chunk: Chunk,
                 skip: Callable[[bytes], bool] | None = None) -> Iterator[tuple[int, dict[str, Any]]]:
    """(offset, record) for each JSON-object line of `f` from `start`.

    Keeps the chunk's accounts as it goes: every line counts in `lines`; over-long, corrupt and
    non-object lines in `bad_lines`; `end_offset` is always the first byte not yet consumed.
    `skip(line)` may return True for a line that needs no parsing (it has been handled cheaply
    or is of no interest); such lines count in `lines_skipped`."""
    loads = orjson.loads
    for offset, line in iter_lines(f, start):
        chunk.lines += 1
        if line is None:
            chunk.bad_lines += 1
            chunk.end_offset = f.tell()
            continue
        chunk.end_offset = offset + len(line)
        if skip is not None and skip(line):
            chunk.lines_skipped += 1
            continue
        try:
            rec = loads(line)
        except orjson.JSONDecodeError:
            if line.strip():
                chunk.bad_lines += 1
            continue
        if not isinstance(rec, dict):
            chunk.bad_lines += 1
            continue
        yield offset, rec


class Reader(ABC):
    """Turns one agent's session files into `Chunk`s of the agent-neutral model."""

    #: short name used on the command line and in the store (`claude`, `codex`, `gemini`)
    agent: str = ""
    #: True when a file can be read from a byte offset (JSONL); False for whole-document formats
    incremental: bool = True

    @abstractmethod
    def default_roots(self) -> list[Path]:
        """Where this agent keeps its sessions on this machine (may not exist)."""

    @abstractmethod
    def discover(self, root: Path) -> Iterator[Path]:
        """Session files under `root`, which may be a config dir, a project dir or any folder."""

    @abstractmethod
    def sniff(self, path: Path, head: bytes) -> bool:
        """Whether a file whose first bytes are `head` is this agent's session log."""

    def claims(self, path: Path) -> bool:
        """Whether the file's name is one this agent gives its session logs (`rollout-*.jsonl`):
        such a file is offered to this reader's `sniff` before the others', and this reader's
        `discover` takes it without sniffing. The name alone never decides for another reader."""
        return False

    @abstractmethod
    def read(self, path: Path, start: int = 0, context: dict[str, Any] | None = None) -> Chunk:
        """Read `path` from byte `start`. `context` is what an earlier read stored for the file
        (session id, cwd…) so a continuation knows its session."""

    def project_of(self, path: Path) -> str | None:
        """Best guess of the project directory from the path alone (before reading)."""
        return None


def lines_end(data: bytes, n: int) -> int:
    """Where the first `n` lines of `data` end (the index of its n-th newline), or `len(data)`:
    sniffers look at a file's first lines without splitting (copying) its whole head."""
    end = -1
    for _ in range(n):
        end = data.find(b"\n", end + 1)
        if end < 0:
            return len(data)
    return end


def read_head(path: Path, size: int = 65536) -> bytes:
    """The first `size` bytes of a file (fewer if it is shorter), or b"" if it cannot be read.
    A raw descriptor read: no buffered file object is set up for the one read."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return b""
    try:
        return os.read(fd, size)
    except OSError:
        return b""
    finally:
        os.close(fd)


_SKIP_DIRS = frozenset({".git", "node_modules"})


def walk_files(root: Path, suffixes: tuple[str, ...], skip: frozenset[str] = _SKIP_DIRS) -> Iterator[Path]:
    """Files under `root` whose names end with one of `suffixes`, in path order; folders named in
    `skip` are not entered, symlinked folders are not followed (as `os.walk` does), unreadable
    ones are passed over. `os.scandir` by hand: each entry tells a folder from a file itself, and
    no path object is made for what is not kept."""
    if root.is_file():
        if root.name.endswith(suffixes):
            yield root
        return
    found: list[str] = []
    todo = [os.fspath(root)]
    while todo:
        try:
            with os.scandir(todo.pop()) as entries:
                for entry in entries:
                    name = entry.name
                    try:
                        if entry.is_dir():
                            if name not in skip and not entry.is_symlink():
                                todo.append(entry.path)
                        elif name.endswith(suffixes):
                            found.append(entry.path)
                    except OSError:
                        continue
        except OSError:
            continue
    found.sort()
    for name in found:
        yield Path(name)

"""The marker-section engine: rewrite one `<!-- forewarn:start -->` … `<!-- forewarn:end -->` block.

Every instruction file forewarn writes (CLAUDE.md, AGENTS.md, MEMORY.md, …) belongs to a person
first. This module changes exactly one delimited block in it and nothing else.

Invariants:
- Bytes outside the block are never touched: a UTF-8 BOM, CRLF/LF/CR line endings, trailing
  whitespace and a missing final newline all survive byte for byte. The marker lines themselves are
  kept as they were too; only the lines strictly between them are replaced. The new lines use the
  dominant line ending of the text outside them, so a rewrite cannot change it (idempotence).
- A file without markers gets the block appended, separated by one blank line (the only bytes
  added outside an existing block); a new file gets just the block (after `new_file_prefix`).
- A marker is a line holding only the marker text (up to 3 spaces of indent, trailing blanks
  allowed). Marker text inside a ``` or ~~~ fenced code block, inside an inline `code span`, or on
  a line indented like code (4+ spaces or a tab) is plain text. Marker text sharing a line with
  other text is ambiguous and refused.
- Damaged markers (start without end, end before start, two blocks…), non-UTF-8 files and files
  ending inside an unclosed code fence raise `RefusedError` with a one-line reason. Nothing is
  written: we refuse rather than guess.
- `apply` is atomic (temp file in the same directory + `os.replace`, keeping the file's mode,
  writing through a symlink to its target) and refuses when the file changed since `plan` read it.
- Every planned text is parsed back before it is accepted, so a body that would break the block
  (marker text, an unclosed fence) is refused instead of written.

Limits (deliberate, documented): code spans and fences are recognised per line at top level; a
fence inside a block quote or a code span running over several lines is not tracked.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import re
import secrets
import stat
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from forewarn import regexes
from forewarn.errors import RefusedError

START = "<!-- forewarn:start -->"
END = "<!-- forewarn:end -->"

_BOM = b"\xef\xbb\xbf"
_LINE = regexes.compile(r"([^\r\n]*)(\r\n|\n|\r)?")
_FENCE_OPEN = regexes.compile(r" {0,3}(`{3,}|~{3,})(.*)")
_FENCE_CLOSE = regexes.compile(r" {0,3}(`{3,}|~{3,})[ \t]*")
_MARKER_LINE = regexes.compile(r" {0,3}(" + re.escape(START) + "|" + re.escape(END) + r")[ \t]*")
_BACKTICKS = regexes.compile(r"`+")


@dataclass(frozen=True, slots=True)
class _Line:
    start: int  # offset of the first character
    end: int  # offset just past the content (before the line ending)
    next: int  # offset just past the line ending
    number: int  # 1-based, for messages


@dataclass(frozen=True, slots=True)
class _Scan:
    """Where the section is in a text, if anywhere."""

    inner_start: int | None  # offset just past the start marker's line ending
    inner_end: int | None  # offset of the end marker line's first character
    block_start: int | None  # offset of the start marker line
    block_end: int | None  # offset just past the end marker's line (and its ending)
    open_fence_line: int | None  # the text ends inside a fence opened on this line
    eol: str  # the dominant line ending ("\n" when the text has none)

    @property
    def found(self) -> bool:
        return self.inner_start is not None


def _lines(text: str) -> list[_Line]:
    lines: list[_Line] = []
    pos, number = 0, 0
    while pos < len(text):
        m = _LINE.match(text, pos)
        assert m is not None and m.end() > pos  # the pattern always consumes at least one char here
        number += 1
        lines.append(_Line(pos, m.end(1), m.end(), number))
        pos = m.end()
    return lines


def _code_spans(line: str) -> list[tuple[int, int]]:
    """Inline code spans of one line: a run of N backticks up to the next run of exactly N."""
    runs = [(m.start(), m.end()) for m in _BACKTICKS.finditer(line)]
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(runs):
        start, end = runs[i]
        width = end - start
        closing = next(
            (j for j in range(i + 1, len(runs)) if runs[j][1] - runs[j][0] == width), None
        )
        if closing is None:
            i += 1  # an unmatched run is literal backticks
            continue
        spans.append((start, runs[closing][1]))
        i = closing + 1
    return spans


def _has_bare_marker(line: str) -> bool:
    """Whether marker text occurs in `line` outside inline code spans."""
    spans = _code_spans(line) if "`" in line else []
    for marker in (START, END):
        at = line.find(marker)
        while at != -1:
            if not any(s <= at and at + len(marker) <= e for s, e in spans):
                return True
            at = line.find(marker, at + 1)
    return False


def _dominant_eol(text: str) -> str:
    counts = Counter(m.group(2) for m in _LINE.finditer(text) if m.group(2))
    if not counts:
        return "\n"
    order = {"\n": 0, "\r\n": 1, "\r": 2}  # ties go to LF, then CRLF
    return max(counts, key=lambda eol: (counts[eol], -order[eol]))


def _scan(text: str, where: str) -> _Scan:
    """Find the one section in `text`, or refuse with a one-line reason naming `where`."""
    hits: list[tuple[str, _Line]] = []
    fence: tuple[str, int, int] | None = None  # (char, width, line number)
    for ln in _lines(text):
        content = text[ln.start : ln.end]
        if fence is not None:
            m = _FENCE_CLOSE.fullmatch(content)
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= fence[1]:
                fence = None
            continue
        m = _FENCE_OPEN.fullmatch(content)
        if m and not (m.group(1)[0] == "`" and "`" in m.group(2)):
            fence = (m.group(1)[0], len(m.group(1)), ln.number)
            continue
        if "forewarn:" not in content:
            continue
        if content.startswith(("\t", "    ")):
            continue  # indented like code: forewarn always writes its markers at column 0
        m = _MARKER_LINE.fullmatch(content)
        if m:
            hits.append(("start" if m.group(1) == START else "end", ln))
        elif _has_bare_marker(content):
            raise RefusedError(
                f"{where}: line {ln.number} has forewarn marker text mixed with other text; "
                "put the marker on a line of its own (or in `code`)"
            )
    open_fence = fence[2] if fence is not None else None
    if not hits:
        return _Scan(None, None, None, None, open_fence, _dominant_eol(text))
    kinds = [k for k, _ in hits]
    if kinds == ["start", "end"]:
        start, end = hits[0][1], hits[1][1]
        # judged outside the section only, so rewriting the section cannot change it (idempotence)
        eol = _dominant_eol(text[: start.next] + text[end.start :])
        return _Scan(start.next, end.start, start.start, end.next, open_fence, eol)
    raise RefusedError(f"{where}: damaged forewarn markers ({_describe(hits)}); fix them by hand")


def _describe(hits: list[tuple[str, _Line]]) -> str:
    first_kind, first = hits[0]
    if first_kind == "end":
        return f"end marker on line {first.number} comes before any start marker"
    if len(hits) == 1:
        return f"start marker on line {first.number} has no end marker"
    second_kind, second = hits[1]
    if second_kind == "start":
        return f"two start markers, on lines {first.number} and {second.number}"
    return f"more than one forewarn section (a second marker on line {hits[2][1].number})"


def _normalize_body(body: str, eol: str) -> str:
    body = body.replace("\r\n", "\n").replace("\r", "\n")
    if body and not body.endswith("\n"):
        body += "\n"
    return body.replace("\n", eol)


def _decode(data: bytes, where: str) -> tuple[bytes, str]:
    bom = _BOM if data.startswith(_BOM) else b""
    try:
        return bom, data[len(bom) :].decode("utf-8")
    except UnicodeDecodeError as err:
        raise RefusedError(
            f"{where}: not UTF-8 text (bad byte at offset {err.start + len(bom)}); refusing to rewrite it"
        ) from None


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise RefusedError(f"{path}: is a directory, not an instruction file") from None


# --- pure text operations -------------------------------------------------------------------


def extract(text: str, where: str = "<text>") -> str | None:
    """The lines between the markers of `text` (LF line endings), or None when it has no section."""
    scan = _scan(text, where)
    if not scan.found:
        return None
    assert scan.inner_start is not None and scan.inner_end is not None
    inner = text[scan.inner_start : scan.inner_end]
    return inner.replace("\r\n", "\n").replace("\r", "\n")


def replace_section(text: str, body: str, *, where: str = "<text>", prefix: str = "") -> str:
    """`text` with its section's inner lines replaced by `body` (or the section appended).

    `prefix` is put before the section only when `text` is empty (a new file's frontmatter)."""
    scan = _scan(text, where)
    eol = scan.eol
    inner = _normalize_body(body, eol)
    if scan.found:
        assert scan.inner_start is not None and scan.inner_end is not None
        if text[scan.inner_start - 1] == "\r" and inner.startswith("\n"):
            # a lone CR ending the start line would fuse with a leading LF into one CRLF
            inner = _normalize_body(body, "\r")
        new = text[: scan.inner_start] + inner + text[scan.inner_end :]
    else:
        if scan.open_fence_line is not None:
            raise RefusedError(
                f"{where}: ends inside a code fence opened on line {scan.open_fence_line}; "
                "close it before forewarn appends its section"
            )
        block = START + eol + inner + END + eol
        if not text:
            head = prefix.replace("\r\n", "\n").rstrip("\n")
            new = (head.replace("\n", eol) + eol + eol if head else "") + block
        else:
            lines = _lines(text)
            last = lines[-1]
            if last.next == last.end:  # no final newline
                separator = eol + eol
            elif text[last.start : last.end].strip(" \t") == "":
                separator = ""  # already ends with a blank line
            elif text.endswith("\r") and eol == "\n":
                separator = "\r"  # an LF after a lone CR would fuse with it into one CRLF
            else:
                separator = eol
            new = text + separator + block
    try:
        check = _scan(new, where)
        intact = check.found and new[check.inner_start : check.inner_end] == inner
    except RefusedError:
        intact = False
    if not intact:
        raise RefusedError(
            f"{where}: the new section would not read back intact "
            "(marker text or an unclosed code fence in the generated content)"
        )
    return new


def remove_section(text: str, *, where: str = "<text>") -> str:
    """`text` without its section (markers included); unchanged when it has none.

    When the section ends the file, the blank line that separated it is removed as well, undoing
    what appending added."""
    scan = _scan(text, where)
    if not scan.found:
        return text
    assert scan.block_start is not None and scan.block_end is not None
    before, after = text[: scan.block_start], text[scan.block_end :]
    if not after:
        lines = _lines(before)
        if len(lines) >= 2 and lines[-1].start == lines[-1].end:
            before = before[: lines[-1].start]
    return before + after


# --- plans on files ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WritePlan:
    """What writing one file would do. `old` is None for a file that does not exist yet; `new` is
    None only when the file is absent and stays absent."""

    path: Path
    old: bytes | None
    new: bytes | None

    @property
    def changed(self) -> bool:
        return self.old != self.new

    @property
    def action(self) -> str:
        """`create`, `update` or `unchanged`."""
        if not self.changed:
            return "unchanged"
        return "create" if self.old is None else "update"

    def diff(self) -> str:
        """A unified diff of the change (empty when unchanged), for dry runs."""
        if not self.changed:
            return ""
        old = _display_lines(self.old)
        new = _display_lines(self.new)
        name = str(self.path)
        lines = difflib.unified_diff(
            old, new, fromfile="/dev/null" if self.old is None else name, tofile=name, lineterm=""
        )
        return "\n".join(lines) + "\n"


def _display_lines(data: bytes | None) -> list[str]:
    if not data:
        return []
    text = data.decode("utf-8", errors="replace")
    return [text[ln.start : ln.end] for ln in _lines(text)]


def plan_update(
    path: str | os.PathLike[str],
    update: Callable[[str | None], str | None],
    *,
    new_file_prefix: str = "",
) -> WritePlan:
    """Plan rewriting the section of `path` with `update(old_inner)`, reading the file once.

    `update` gets the current inner lines (LF endings; None when there is no section or no file)
    and returns the new inner lines, or None to leave the file as it is. `new_file_prefix` goes
    above the section when the file is created (e.g. MDC frontmatter) and is never rewritten."""
    path = Path(path)
    where = str(path)
    old = _read(path)
    bom, text = _decode(old, where) if old is not None else (b"", "")
    body = update(extract(text, where))
    if body is None:
        return WritePlan(path, old, old)
    new_text = replace_section(
        text, body, where=where, prefix=new_file_prefix if old is None else ""
    )
    return WritePlan(path, old, bom + new_text.encode("utf-8"))


def plan(path: str | os.PathLike[str], body: str, *, new_file_prefix: str = "") -> WritePlan:
    """Plan writing `body` (LF line endings) between the markers of `path`."""
    return plan_update(path, lambda _old: body, new_file_prefix=new_file_prefix)


def plan_remove(path: str | os.PathLike[str]) -> WritePlan:
    """Plan removing the section (markers included) from `path`; unchanged when it has none."""
    path = Path(path)
    old = _read(path)
    if old is None:
        return WritePlan(path, None, None)
    bom, text = _decode(old, str(path))
    return WritePlan(path, old, bom + remove_section(text, where=str(path)).encode("utf-8"))


def read_section(path: str | os.PathLike[str]) -> str | None:
    """The inner lines of the section of `path` (LF endings); None when it has none or is absent."""
    path = Path(path)
    data = _read(path)
    if data is None:
        return None
    return extract(_decode(data, str(path))[1], str(path))


def apply(plan: WritePlan) -> bool:
    """Carry out `plan` atomically. Returns whether anything was written.

    Refuses (nothing written) when the file is no longer what `plan` read. Writes through a
    symlink to its target, so a CLAUDE.md -> AGENTS.md link stays a link."""
    if not plan.changed or plan.new is None:
        return False
    target = Path(os.path.realpath(plan.path))
    if _read(target) != plan.old:
        raise RefusedError(
            f"{plan.path}: changed on disk since it was read; nothing written, run again"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    mode = stat.S_IMODE(target.stat().st_mode) if plan.old is not None else None
    _atomic_write(target, plan.new, mode)
    return True


def _atomic_write(target: Path, data: bytes, mode: int | None) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = target.with_name(f".{target.name}.{secrets.token_hex(4)}.forewarn-tmp")
        try:
            # 0o666 lets the umask decide a new file's mode, as for any file the user creates
            fd = os.open(tmp, flags, 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as f:
            if mode is not None:
                with contextlib.suppress(OSError, AttributeError):  # no fchmod on Windows
                    os.fchmod(f.fileno(), mode)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(target.parent)


def _fsync_dir(directory: Path) -> None:
    """Make the rename durable where the platform allows it (POSIX); best effort elsewhere."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

"""The marker-section engine: preservation byte for byte, refusals, atomic apply."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forewarn.errors import RefusedError
from forewarn.writers import section
from forewarn.writers.section import END, START, apply, plan, plan_remove, read_section

BODY = "## Learned\n\n- one\n"


def write(tmp_path: Path, data: bytes | str, name: str = "CLAUDE.md") -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def run(path: Path, body: str = BODY) -> bytes:
    p = plan(path, body)
    apply(p)
    return path.read_bytes()


# --- creating and appending -------------------------------------------------------------------


def test_new_file_gets_just_the_section(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "dir" / "CLAUDE.md"
    p = plan(path, BODY)
    assert p.old is None and p.action == "create"
    assert not path.exists()  # planning writes nothing
    assert apply(p) is True
    assert path.read_text() == f"{START}\n{BODY}{END}\n"


def test_new_file_prefix_goes_above_the_section(tmp_path: Path) -> None:
    path = tmp_path / "r.mdc"
    apply(plan(path, BODY, new_file_prefix="---\nalwaysApply: true\n---\n"))
    assert path.read_text() == f"---\nalwaysApply: true\n---\n\n{START}\n{BODY}{END}\n"


@pytest.mark.parametrize(
    ("before", "joined"),
    [
        ("# T\n", "# T\n\n"),  # one blank line is added
        ("# T\n\n", "# T\n\n"),  # already there: nothing added
        ("# T", "# T\n\n"),  # no final newline: the line is ended first
        ("", ""),  # empty file: just the section
    ],
)
def test_section_is_appended_after_one_blank_line(tmp_path: Path, before: str, joined: str) -> None:
    path = write(tmp_path, before)
    assert run(path).decode() == f"{joined}{START}\n{BODY}{END}\n"


def test_append_uses_the_files_dominant_line_ending(tmp_path: Path) -> None:
    path = write(tmp_path, "a\r\nb\r\nc\n")
    out = run(path)
    assert out.startswith(
        b"a\r\nb\r\nc\n\r\n" + START.encode() + b"\r\n## Learned\r\n\r\n- one\r\n"
    )
    assert out.endswith(END.encode() + b"\r\n")


# --- replacing, byte for byte -----------------------------------------------------------------


def test_only_lines_between_the_markers_change(tmp_path: Path) -> None:
    before = b"\xef\xbb\xbf# Title  \r\n\r\ntext\t\r\n"
    markers_in = b"  " + START.encode() + b" \r\nold\r\n" + END.encode() + b"\t"
    path = write(tmp_path, before + markers_in)  # no final newline after the end marker
    out = run(path)
    assert (
        out
        == before
        + b"  "
        + START.encode()
        + b" \r\n## Learned\r\n\r\n- one\r\n"
        + END.encode()
        + b"\t"
    )


def test_lone_cr_files_keep_cr(tmp_path: Path) -> None:
    path = write(tmp_path, f"x\r{START}\rold\r{END}\ry")
    assert run(path, "a\nb\n") == f"x\r{START}\ra\rb\r{END}\ry".encode()


def test_markers_in_fences_and_code_spans_are_text(tmp_path: Path) -> None:
    doc = (
        "# Docs\n"
        f"```\n{START}\n```\n"
        f"~~~~ md\n{END}\n~~~\nstill fenced\n~~~~~\n"
        f"Write `{START}` and ``{END}`` yourself.\n"
        f"    {START}\n"  # indented like code
        f"\t{END}\n"
    )
    path = write(tmp_path, doc)
    out = run(path).decode()
    assert out == doc + f"\n{START}\n{BODY}{END}\n"
    assert read_section(path) == BODY


def test_a_backtick_info_string_does_not_open_a_fence(tmp_path: Path) -> None:
    # "``` a`b" is inline code, not a fence, so the markers after it are real
    path = write(tmp_path, f"``` a`b\n{START}\nold\n{END}\n")
    assert run(path) == f"``` a`b\n{START}\n{BODY}{END}\n".encode()


def test_markers_after_a_closed_fence_are_found(tmp_path: Path) -> None:
    path = write(tmp_path, f"```py\ncode\n````\n{START}\nold\n{END}\nafter\n")
    assert read_section(path) == "old\n"
    assert run(path) == f"```py\ncode\n````\n{START}\n{BODY}{END}\nafter\n".encode()


# --- refusals: nothing is written -------------------------------------------------------------


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        (f"a\n{START}\nb\n", "start marker on line 2 has no end marker"),
        (f"a\n{END}\n", "end marker on line 2 comes before any start marker"),
        (f"{END}\n{START}\n", "comes before any start marker"),
        (f"{START}\n{START}\n{END}\n", "two start markers, on lines 1 and 2"),
        (f"{START}\n{END}\n{START}\n{END}\n", "more than one forewarn section"),
        (f"{START}\n{END}\n{END}\n", "more than one forewarn section"),
        (f"see {START} here\n", "mixed with other text"),
        ("intro\n```\nnever closed\n", "ends inside a code fence opened on line 2"),
    ],
)
def test_damaged_files_are_refused(tmp_path: Path, doc: str, reason: str) -> None:
    path = write(tmp_path, doc)
    with pytest.raises(RefusedError, match=reason) as err:
        plan(path, BODY)
    assert "\n" not in str(err.value)
    assert path.read_text() == doc
    assert sorted(os.listdir(tmp_path)) == ["CLAUDE.md"]


def test_non_utf8_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, b"caf\xe9\n")
    with pytest.raises(RefusedError, match=r"not UTF-8 text \(bad byte at offset 3\)"):
        plan(path, BODY)
    with pytest.raises(RefusedError, match="not UTF-8"):
        read_section(path)


@pytest.mark.parametrize("body", [f"- oops\n{END}\n", "```\nunclosed fence\n", f"{START}\n"])
def test_a_body_that_would_break_the_section_is_refused(tmp_path: Path, body: str) -> None:
    path = write(tmp_path, "# T\n")
    with pytest.raises(RefusedError, match="would not read back intact"):
        plan(path, body)


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RefusedError, match="is a directory"):
        plan(tmp_path, BODY)


# --- idempotence and apply --------------------------------------------------------------------


def test_second_run_is_a_no_op(tmp_path: Path) -> None:
    path = write(tmp_path, "# T\r\n")
    first = run(path)
    os.utime(path, (1_000_000, 1_000_000))
    again = plan(path, BODY)
    assert again.action == "unchanged" and again.diff() == ""
    assert apply(again) is False
    assert path.read_bytes() == first and path.stat().st_mtime == 1_000_000


def test_apply_refuses_when_the_file_changed_since_planning(tmp_path: Path) -> None:
    path = write(tmp_path, "# T\n")
    p = plan(path, BODY)
    path.write_text("# T edited\n")
    with pytest.raises(RefusedError, match="changed on disk since it was read"):
        apply(p)
    assert path.read_text() == "# T edited\n"


def test_apply_refuses_when_a_new_file_appeared_since_planning(tmp_path: Path) -> None:
    path = tmp_path / "AGENTS.md"
    p = plan(path, BODY)
    path.write_text("mine\n")
    with pytest.raises(RefusedError):
        apply(p)
    assert path.read_text() == "mine\n"


def test_apply_keeps_mode_and_leaves_no_temp_files(tmp_path: Path) -> None:
    path = write(tmp_path, "# T\n")
    path.chmod(0o640)
    run(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert os.listdir(tmp_path) == ["CLAUDE.md"]


def test_failed_write_leaves_the_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "# T\n")
    p = plan(path, BODY)

    def boom(src: object, dst: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(section.os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        apply(p)
    assert path.read_text() == "# T\n"
    assert os.listdir(tmp_path) == ["CLAUDE.md"]


def test_apply_writes_through_a_symlink(tmp_path: Path) -> None:
    real = write(tmp_path, "# shared\n", "AGENTS.md")
    link = tmp_path / "CLAUDE.md"
    link.symlink_to("AGENTS.md")
    apply(plan(link, BODY))
    assert link.is_symlink()
    assert real.read_text() == f"# shared\n\n{START}\n{BODY}{END}\n"


def test_diff_shows_the_change(tmp_path: Path) -> None:
    path = write(tmp_path, "# T\n")
    diff = plan(path, BODY).diff()
    assert diff.startswith(f"--- {path}\n+++ {path}\n")
    assert f"+{START}\n" in diff and "+- one\n" in diff and "\n # T\n" in diff
    assert plan(tmp_path / "new.md", BODY).diff().startswith("--- /dev/null\n")


def test_remove_undoes_an_append(tmp_path: Path) -> None:
    original = "# T\r\n\r\nkeep me\r\n"
    path = write(tmp_path, original)
    run(path)
    apply(plan_remove(path))
    assert path.read_bytes() == original.encode()
    assert plan_remove(path).action == "unchanged"
    assert plan_remove(tmp_path / "absent.md").new is None


# --- properties -------------------------------------------------------------------------------

EOLS = st.sampled_from(["\n", "\r\n", "\r"])
LINE_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\r\n"), max_size=30)
FENCE_LIKE = st.sampled_from(
    ["```", "~~~", "````x", "  ```", "`` a ``", "``` a`b`", "    ```", "> ```", "`", "~~", "```~~~"]
)


def _opens_fence(line: str) -> bool:
    m = re.fullmatch(r" {0,3}(`{3,}|~{3,})(.*)", line)
    return bool(m) and not (m.group(1)[0] == "`" and "`" in m.group(2))


def _closes_fence(line: str, char: str, width: int) -> bool:
    m = re.fullmatch(r" {0,3}(`{3,}|~{3,})[ \t]*", line)
    return bool(m) and m.group(1)[0] == char and len(m.group(1)) >= width


@st.composite
def plain_line(draw: st.DrawFn) -> str:
    """Any line that does not open a fence: text, inline code, fence-looking non-fences."""
    text = draw(st.one_of(LINE_TEXT, FENCE_LIKE, LINE_TEXT.map(lambda s: "`" + s + "`")))
    if "forewarn:" in text or _opens_fence(text):
        text = "x" + text.replace("forewarn:", "fw")
    return text + draw(EOLS)


@st.composite
def fenced_block(draw: st.DrawFn) -> str:
    """A fence that closes, whose content may hold marker text that must stay text."""
    char = draw(st.sampled_from("`~"))
    width = draw(st.integers(3, 5))
    info = " " + draw(LINE_TEXT)
    if char == "`":
        info = info.replace("`", "")
    content = draw(
        st.lists(st.one_of(LINE_TEXT, st.sampled_from([START, END, " " + START])), max_size=4)
    )
    body = "".join(("x" + c if _closes_fence(c, char, width) else c) + draw(EOLS) for c in content)
    closer = char * draw(st.integers(width, width + 2))
    return char * width + info + draw(EOLS) + body + closer + draw(EOLS)


BEFORE = st.lists(st.one_of(plain_line(), fenced_block()), max_size=6).map("".join)
AFTER = st.text(st.characters(codec="utf-8"), max_size=80).filter(lambda s: "forewarn:" not in s)
BODIES = st.lists(
    LINE_TEXT.filter(lambda s: "forewarn:" not in s and "`" not in s and "~" not in s), max_size=4
)
FAST = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@FAST
@given(
    bom=st.booleans(),
    before=BEFORE,
    old=BODIES,
    eol=EOLS,
    end_eol=st.sampled_from(["", "\n", "\r\n", "\r"]),
    after=AFTER,
    body=BODIES,
)
def test_outside_the_markers_survives_byte_for_byte(
    tmp_path: Path,
    bom: bool,
    before: str,
    old: list[str],
    eol: str,
    end_eol: str,
    after: str,
    body: list[str],
) -> None:
    if not end_eol and after:
        end_eol = "\n"  # text on the end marker's line would be refused, as it should be
    head = ("\ufeff" if bom else "") + before + START + eol
    tail = END + end_eol + after
    path = write(tmp_path, head + "".join(line + eol for line in old) + tail)
    new_body = "".join(line + "\n" for line in body)
    p = plan(path, new_body)
    apply(p)
    out = path.read_bytes()
    assert out.startswith(head.encode()) and out.endswith(tail.encode())
    assert read_section(path) == new_body
    assert plan(path, new_body).action == "unchanged"


@FAST
@given(
    doc=st.text(st.characters(codec="utf-8"), max_size=120).filter(lambda s: "forewarn:" not in s),
    body=BODIES,
)
def test_appending_keeps_any_text_as_a_prefix_or_refuses(
    tmp_path: Path, doc: str, body: list[str]
) -> None:
    path = write(tmp_path, doc)
    new_body = "".join(line + "\n" for line in body)
    try:
        p = plan(path, new_body)
    except RefusedError as err:  # only an unclosed fence may stop an append
        assert "code fence" in str(err)
        return
    apply(p)
    assert path.read_bytes().startswith(doc.encode())
    assert read_section(path) == new_body
    assert plan(path, new_body).action == "unchanged"


def test_line_ending_is_judged_outside_the_section(tmp_path: Path) -> None:
    # inside, CRLF outnumbers LF; judged on the whole file, a rewrite would flip it and the next
    # run would rewrite again
    path = write(tmp_path, f"\n\n{START}\r\n\r\n\r\n{END}")
    first = run(path, "\n")
    assert first == f"\n\n{START}\r\n\n{END}".encode()
    assert plan(path, "\n").action == "unchanged"


def test_a_lone_cr_start_line_does_not_fuse_with_the_body(tmp_path: Path) -> None:
    path = write(tmp_path, f"\n{START}\r{END}")
    assert run(path, "\nx\n") == f"\n{START}\r\rx\r{END}".encode()
    assert read_section(path) == "\nx\n"

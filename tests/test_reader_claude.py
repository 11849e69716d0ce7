from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forewarn.model import ERROR, INTERRUPTED, OK, PENDING, REJECTED
from forewarn.readers import reader_for
from forewarn.readers.claude import ClaudeReader
from tests.claude_builder import Transcript


def read(path: Path, start: int = 0):
    return ClaudeReader().read(path, start)


def test_calls_results_and_session_facts(tmp_path: Path) -> None:
    t = Transcript(cwd="/work/shop", session_id="abc")
    t.user("fix the tests")
    t.bash("t1", "pytest -q", "1 failed", code=1)
    t.call("t2", "Read", {"file_path": "/work/shop/a.py"}, [{"type": "text", "text": "print(1)"}])
    chunk = read(t.write(tmp_path / "abc.jsonl"))
    assert chunk.session.session_id == "abc"
    assert chunk.session.cwd == chunk.session.project == "/work/shop"
    assert chunk.session.version == "2.1.3"
    first, second = chunk.calls
    assert (first.call_id, first.tool, first.status, first.exit_code) == ("t1", "Bash", ERROR, 1)
    assert first.input == {"command": "pytest -q"}
    assert (second.status, second.output) == (OK, "print(1)")
    assert [turn.kind for turn in chunk.turns] == ["user"]


def test_the_session_spans_every_record_and_its_model_is_the_first_reply(tmp_path: Path) -> None:
    """The session ends with its last record, here the assistant's closing reply (text only,
    no call), and its model is the first reply's; bulky fields never read (thinking, the output
    repeated in `toolUseResult`) change nothing."""
    t = Transcript()
    t.user("tidy up")
    t.raw({**t._base("assistant"), "timestamp": "2026-01-01T00:00:01Z", "message": {
        "role": "assistant", "model": "claude-opus-4-5",
        "content": [{"type": "thinking", "thinking": "x" * 5000, "signature": "s"}, {"type": "text", "text": "Sure."}]}})
    t.use("t1", "Bash", {"command": "make"})  # by claude-sonnet-4-5
    t.result("t1", "ok", sibling={"stdout": "ok" * 4000, "stderr": "", "interrupted": False, "exitCode": 0})
    t.raw({**t._base("assistant"), "timestamp": "2026-01-01T09:00:00Z",
           "message": {"role": "assistant", "content": [{"type": "text", "text": "All done."}]}})
    path = tmp_path / "s.jsonl"
    path.write_text("".join(json.dumps(line, separators=(",", ":")) + "\n" for line in t.lines))  # as Claude writes
    chunk = read(path)
    assert chunk.session.ended_at == "2026-01-01T09:00:00Z"
    assert chunk.session.model == "claude-opus-4-5"
    (call,) = chunk.calls
    assert (call.status, call.exit_code, call.output) == (OK, 0, "ok")


def test_result_before_call_is_matched_by_id(tmp_path: Path) -> None:
    t = Transcript()
    t.result("t1", "Exit code 2\nboom", error=True)
    t.use("t1", "Bash", {"command": "make"})
    (call,) = read(t.write(tmp_path / "s.jsonl")).calls
    assert call.status == ERROR and call.exit_code == 2


def test_rejection_with_user_words_and_interrupt(tmp_path: Path) -> None:
    t = Transcript()
    t.call("t1", "Bash", {"command": "npm publish"},
           "The user doesn't want to proceed with this tool use. The tool use was rejected. "
           "To tell you how to proceed, the user said:\nrelease from CI only", error=True)
    t.call("t2", "Bash", {"command": "sleep 100"}, "[Request interrupted by user for tool use]", error=True)
    t.use("t3", "Bash", {"command": "ls"})
    t.user("[Request interrupted by user]")
    c1, c2, c3 = read(t.write(tmp_path / "s.jsonl")).calls
    assert c1.status == REJECTED and c1.user_note == "release from CI only"
    assert c2.status == INTERRUPTED
    assert c3.status == PENDING


def test_result_details_exit_codes_and_flags(tmp_path: Path) -> None:
    t = Transcript()
    t.use("t1", "Bash", {"command": "grep x f"}).result("t1", "", error=False, sibling={"returnCode": 1})
    t.use("t2", "Bash", {"command": "make"}).result("t2", "Exit code 2\nboom", error=True, sibling={"exitCode": 5})
    t.use("t3", "Bash", {"command": "top"}).result("t3", "partial", sibling={"interrupted": True, "exitCode": None})
    t.use("t4", "Bash", {"command": "sleep 999"}).result("t4", "Error", error=True, sibling="Command timed out")
    t.use("t5", "Write", {"file_path": "/w/a", "content": "x" * 5000})
    path = t.write(tmp_path / "s.jsonl")
    c1, c2, c3, c4, c5 = read(path).calls
    assert (c1.status, c1.is_error, c1.exit_code) == (OK, False, 1)
    assert (c2.status, c2.is_error, c2.exit_code) == (ERROR, True, 2)  # the text's code wins
    assert (c3.status, c3.is_error, c3.interrupted, c3.exit_code) == (INTERRUPTED, None, True, None)
    assert c4.timed_out and not c3.timed_out
    offsets = [i for i in range(len(path.read_bytes())) if i == 0 or path.read_bytes()[i - 1] == 10]
    assert (c1.seq, c1.result_seq) == (offsets[0], offsets[1])
    assert c5.input["file_path"] == "/w/a" and 3000 < len(c5.input["content"]) < 3100  # head and tail kept


def test_session_model_skips_synthetic_and_odd_types_are_counted(tmp_path: Path) -> None:
    t = Transcript()
    t.raw({"type": "assistant", "message": {"model": "<synthetic>", "role": "assistant", "content": "x"}})
    t.raw({"type": "assistant", "message": {"model": "claude-x", "role": "assistant", "content": "y"}})
    for odd in ({"no_type": 1}, {"type": 5}, {"type": [1]}, {"type": "brand-new"}, {"type": "attachment"}):
        t.raw(odd)
    chunk = read(t.write(tmp_path / "s.jsonl"))
    assert chunk.session.model == "claude-x"
    assert chunk.unknown_records == 4 and chunk.bad_lines == 0


def test_message_as_plain_string_and_compaction(tmp_path: Path) -> None:
    t = Transcript()
    t.raw({"type": "user", "message": "hello as a string", "sessionId": "s", "cwd": "/p"})
    t.compact()
    t.raw({"type": "user", "isCompactSummary": True, "message": {"role": "user", "content": "summary…"}})
    chunk = read(t.write(tmp_path / "s.jsonl"))
    assert [(x.kind, x.text) for x in chunk.turns] == [("user", "hello as a string"), ("compaction", "")]


def test_sidechain_lines_get_their_own_thread(tmp_path: Path) -> None:
    t = Transcript()
    t.use("t1", "Bash", {"command": "ls"}, isSidechain=True)
    t.use("t2", "Bash", {"command": "ls"})
    c1, c2 = read(t.write(tmp_path / "s.jsonl")).calls
    assert c1.thread != c2.thread == "main"


def test_partial_last_line_is_left_for_the_next_read(tmp_path: Path) -> None:
    t = Transcript().bash("t1", "ls", "a")
    path = t.write(tmp_path / "s.jsonl")
    full = path.read_bytes()
    path.write_bytes(full + b'{"type":"user","message":{"role":"us')
    chunk = read(path)
    assert chunk.end_offset == len(full)
    assert len(chunk.calls) == 1


def test_incremental_read_reports_results_of_earlier_calls(tmp_path: Path) -> None:
    t = Transcript().use("t1", "Bash", {"command": "make"})
    path = t.write(tmp_path / "s.jsonl")
    first = read(path)
    assert first.calls[0].status == PENDING
    t2 = Transcript().result("t1", "Exit code 2\nmake: *** [all] Error 2", error=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(t2.text())
    second = read(path, first.end_offset)
    assert second.calls == []
    (late,) = second.late_results
    assert (late.call_id, late.status, late.exit_code) == ("t1", ERROR, 2)


def test_bad_input_is_skipped_and_counted(tmp_path: Path) -> None:
    good = Transcript().bash("t1", "ls", "a").text().encode()
    junk = b"\x00\xff\xfe not json\n" + b"{broken\n" + b'"a string"\n' + b'{"type":"brand-new-record"}\n'
    huge = b'{"type":"user","pad":"' + b"x" * (9 * 1024 * 1024) + b'"}\n'
    path = tmp_path / "s.jsonl"
    path.write_bytes(junk + huge + good)
    chunk = read(path)
    assert [c.call_id for c in chunk.calls] == ["t1"]
    assert chunk.bad_lines == 4  # binary, broken, non-object, over-long
    assert chunk.unknown_records == 1
    assert chunk.end_offset == path.stat().st_size


def test_non_utf8_inside_a_record_does_not_crash(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_bytes(b'{"type":"user","message":{"role":"user","content":"caf\xe9"}}\n')
    assert read(path).bad_lines == 1


def test_lesson_tags_are_collected(tmp_path: Path) -> None:
    text = "Fixed.\n#lesson\ntool: Bash\ntrigger: pytest\nmistake: hangs\nfix: use -p no:cacheprovider\n#/lesson"
    msg = {"role": "assistant", "content": [{"type": "text", "text": text}]}
    t = Transcript().raw({"type": "assistant", "message": msg, "sessionId": "s"})
    (turn,) = read(t.write(tmp_path / "s.jsonl")).turns
    assert turn.kind == "lesson_tag" and turn.text.startswith("#lesson") and turn.text.endswith("#/lesson")


def test_sniffing_recognises_transcripts_only(tmp_path: Path) -> None:
    path = Transcript().bash("t1", "ls", "a").write(tmp_path / "s.jsonl")
    assert isinstance(reader_for(path), ClaudeReader)
    other = tmp_path / "data.jsonl"
    other.write_text(json.dumps({"name": "x"}) + "\n")
    assert reader_for(other) is None


def test_a_transcript_whose_first_line_is_long_is_still_recognised(tmp_path: Path) -> None:
    """Newer records name their session after the message: behind a long first message, what
    tells lies past the first bytes a sniffer is shown."""
    first = {"type": "user", "message": {"role": "user", "content": "x" * 40_000}, "uuid": "u1",
             "timestamp": "2026-01-01T00:00:00Z", "sessionId": "s", "version": "2.1.90"}
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps(first, separators=(",", ":")) + "\n")
    assert isinstance(reader_for(path), ClaudeReader)
    (tmp_path / "long.jsonl").write_text(json.dumps({"name": "y" * 40_000}) + "\n")
    assert reader_for(tmp_path / "long.jsonl") is None


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=3000))
def test_any_byte_stream_reads_without_exception(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(data)
    chunk = read(path)
    assert 0 <= chunk.end_offset <= len(data)


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from([
    '{"type":"assistant","message":{"role":"assistant","content":[{"type":"tool_use","id":"a","name":"Bash","input":{}}]}}',
    '{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"a","is_error":true,"content":null}]}}',
    '{"type":"user","message":{"role":"user","content":[{"type":"tool_result"}]}}',
    '{"type":"assistant","message":{"content":"x"}}', '{"type":"user","message":[]}', '{"type":"system"}', "[]", "null",
]), max_size=12))
def test_odd_but_valid_records_never_crash(tmp_path: Path, lines: list[str]) -> None:
    path = tmp_path / "odd.jsonl"
    path.write_text("\n".join(lines) + "\n")
    read(path)


@settings(max_examples=300)
@given(st.binary(max_size=400).map(lambda b: b.replace(b"\r", b"\n")), st.integers(1, 40), st.integers(1, 64),
       st.integers(0, 20))
def test_block_line_reader_matches_a_reference(data: bytes, max_line: int, block: int, start_at: int) -> None:
    """iter_lines cuts lines out of blocks; whatever the block size it must give exactly what a
    naive line splitter gives: complete lines only, over-long ones as None, offsets exact."""
    import io

    from forewarn.readers import base

    start = min(start_at, len(data))
    expected = []
    pos = start
    while (j := data.find(b"\n", pos)) >= 0:
        line = data[pos : j + 1]
        expected.append((pos, line if len(line) - 1 <= max_line else None))
        pos = j + 1
    old = base._BLOCK
    base._BLOCK = block
    try:
        got = list(base.iter_lines(io.BytesIO(data), start, max_line))
    finally:
        base._BLOCK = old
    assert got == expected


def test_a_result_whose_payload_nests_an_assistant_message_is_not_skipped(tmp_path: Path) -> None:
    t = Transcript()
    t.use("t1", "Task", {"prompt": "look around"})
    t.result("t1", "subagent failed", error=True,
             sibling={"messages": [{"role": "assistant", "content": [{"type": "text", "text": "hi"}]}]})
    (call,) = read(t.write(tmp_path / "s.jsonl")).calls
    assert call.status == ERROR and call.output == "subagent failed"


_TEXTS = st.sampled_from(["ok", "see #lesson: use uv run", 'say "type":"progress"', "{[", "role"])
_BLOCKS = st.one_of(
    st.builds(lambda i: {"type": "tool_use", "id": f"t{i}", "name": "Bash", "input": {"command": "ls"}},
              st.integers(0, 3)),
    st.builds(lambda i, e, t: {"type": "tool_result", "tool_use_id": f"t{i}", "is_error": e, "content": t},
              st.integers(0, 3), st.booleans(), _TEXTS),
    st.builds(lambda t: {"type": "text", "text": t}, _TEXTS),
    st.just({"type": "thinking", "thinking": "hmm"}),
)


@st.composite
def _records(draw: st.DrawFn) -> bytes:
    kind = draw(st.sampled_from(["user", "assistant", "system", "progress", "attachment", "mode",
                                 "file-history-snapshot", "brand-new-type"]))
    # a user or assistant record's message has its role; a progress record may nest either
    role = kind if kind in ("user", "assistant") else draw(st.sampled_from(["user", "assistant"]))
    message = {"role": role, "content": draw(st.one_of(_TEXTS, st.lists(_BLOCKS, max_size=3)))}
    if role == "assistant":
        message = {"model": "m", "id": "x", "type": "message", **message}
    meta = {"parentUuid": None, "isSidechain": False,
            "cwd": draw(st.sampled_from(["/w/shop", "/w/{odd}", "/w/[x]"])), "sessionId": "s", "version": "2.1.3"}
    body: dict = {"message": message} if kind in ("user", "assistant") else \
        {"data": {"message": {"type": kind, "message": message}}} if kind == "progress" else \
        {"subtype": draw(st.sampled_from(["compact_boundary", "info"])), "content": draw(_TEXTS)}
    order = draw(st.sampled_from(["type first", "type last"]))
    rec = {**meta, "type": kind, **body} if order == "type first" else {**meta, **body, "type": kind}
    rec["timestamp"] = "2026-01-01T00:00:00Z"
    return json.dumps(rec, separators=(",", ":")).encode() + b"\n"


def _reference_read(path: Path, start: int = 0, context: dict | None = None):
    """`ClaudeReader.read` done the straightforward way: `iter_lines` cuts the lines, each line is
    decoded on its own into the same `_record`."""
    from forewarn.readers.base import iter_lines, new_chunk
    from forewarn.readers.claude import _UNREAD_TYPES
    from forewarn.readers.claude_records import DECODER, coerce
    from forewarn.readers.decoded import decode_line

    chunk = new_chunk(path, "claude", start, context)
    reader = ClaudeReader()
    calls: dict = {}
    orphans: dict = {}
    with open(path, "rb") as f:
        for offset, line in iter_lines(f, start):
            chunk.lines += 1
            if line is None:
                chunk.bad_lines += 1
                chunk.end_offset = f.tell()
                continue
            chunk.end_offset = offset + len(line)
            rec = decode_line(line, DECODER, coerce)
            if rec is None:
                chunk.bad_lines += bool(line.strip())
            elif isinstance(rec.type, str) and rec.type in _UNREAD_TYPES:
                chunk.lines_skipped += 1
            else:
                reader._record(rec, offset, chunk.session, chunk, calls, orphans, path.name.startswith("agent-"))
    chunk.late_results.extend(orphans.values())
    chunk.calls = sorted(calls.values(), key=lambda c: c.seq)
    if chunk.session.project is None:
        chunk.session.project = chunk.session.cwd
    if chunk.session.session_id is None:
        chunk.session.session_id = path.stem
    return chunk


@contextmanager
def _limits(block: int | None, max_line: int | None) -> Iterator[None]:
    """Read in blocks of `block` bytes, and take lines over `max_line` as over-long, in both the
    reader and the reference (whose `iter_lines` default was fixed when base was imported)."""
    from forewarn.readers import base, decoded

    saved = base._BLOCK, base.iter_lines, decoded.MAX_LINE
    if block is not None:
        base._BLOCK = block
    if max_line is not None:
        base.iter_lines = functools.partial(saved[1], max_line=max_line)
        decoded.MAX_LINE = max_line
    try:
        yield
    finally:
        base._BLOCK, base.iter_lines, decoded.MAX_LINE = saved


_PAD = "p" * 1100
_ODD = [
    b"\n", b"   \n", b"[]\n", b"null\n", b'"a string"\n', b"{broken\n", b"\x00\xff\xfe junk\n",
    b'"type":"progress","data":{}}\n',  # the type at the very start
    b'{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"hi"}]}}\n',
    b'{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"#lesson x #/lesson"}]}}\n',
    b'{"type":"assistant","message":{"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"Bash","input":{}}]}}\n',
    b'{"a":"{","type":"user","message":"brace in a value"}\n',
    b'{"a":["x"],"type":"progress"}\n',
    b'{"type":"user\n', b'{"type":"progress\n', b'{"type":"assistant\n',  # types never closed
    b'{{"type":"user","message":{"role":"assistant"}}\n', b'[{"type":"user"},{"role":"assistant"}]\n',
    b'{"x":1,"data":{"tool_name":"Bash"},"type":"progress"}\n', b'"type":"summary"}\n', b'{"a":{"type":"x"}}\n',
    b'{"pad":"' + _PAD[:200].encode() + b'","data":{"tool_name":"Bash"},"type":"progress"}\n',
    b'{"x":1,"data":{"tool_use_id":"t1"},"type":"progress"}\n',
    b'{"type":"user","message":"abcdefghijkl"}\n',  # exactly 40 bytes before its newline
    b'{"type":"' + _PAD.encode() + b'"}\n',  # a type closed past the first bytes
    b'{"pad":"' + _PAD.encode() + b'","type":"progress"}\n',  # a type named past the first bytes
    b'{"pad":"' + _PAD.encode() + b'","type":"user","message":"late type"}\n',
    b'{"type":"progressive"}\n', b'{"type":"username"}\n', b'{"type":[1],"message":"x"}\n', b'{"type":7}\n', b'{"type":"brand-new"}\n',
    b'{"parentUuid":null,"isSidechain":false,"attachment":{"type":"x"},"type":"attachment"}\n',
    b'{"x":1,"data":{"type":"progress","message":{"role":"assistant"}},"type":"progress"}\n',
    b'{"x":1,"data":{"message":{"type":"tool_result"}},"type":"progress"}\n',
    b'{"type":"summary","summary":"s","leafUuid":"u"}\n', b'{"type":"mode","mode":"normal"}\n',
    b'{"type":"system","subtype":"compact_boundary","timestamp":"2026-01-01T00:00:00Z"}\n',
    b'{"type":"user","message":"one"} {"type":"user","message":"two"}\n',  # two values, one line
    b'{"type":"user","message":{"role":"user","content":[1,{"type":"text","text":"odd block"}]}}\n',
    b'{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t1","content":"x"}]},'
    b'"toolUseResult":[{"type":"text"}]}\n',  # toolUseResult of neither usual shape
    b'{"type":"user","pad":"\xff\xfe","message":"bytes that are no UTF-8 in a field never read"}\n',
]
_ODD_LINES = st.sampled_from(_ODD)


@st.composite
def _transcript(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(st.one_of(_records(), _records(), _ODD_LINES), min_size=1, max_size=10))
    out = []
    for line in lines:
        if draw(st.integers(0, 9)) == 0:  # cut short: corrupt, but still judged by its bytes
            line = line[: draw(st.integers(0, len(line) - 1))] + b"\n"
        out.append(line)
    tail = draw(st.sampled_from([b"", b'{"type":"user","message":{"role":"us']))  # an unfinished last line
    return b"".join(out) + tail


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_transcript(), block=st.sampled_from([None, 1, 5, 64, 300]),
       max_line=st.sampled_from([None, 40, 200, 1500]), start_at=st.integers(0, 10**6),
       at_line=st.booleans(), with_context=st.booleans())
def test_the_block_walk_reads_as_the_line_by_line_reference(
        tmp_path: Path, data: bytes, block: int | None, max_line: int | None, start_at: int, at_line: bool,
        with_context: bool) -> None:
    """Every field of the chunk (calls, results, turns, session, line accounts, end offset) is what
    decoding each line on its own gives, whatever the block size, line limit and start: blocks
    decoded whole and blocks read line by line agree."""
    path = tmp_path / "walk.jsonl"  # one file, rewritten per example
    path.write_bytes(data)
    start = start_at % (len(data) + 1)
    if at_line:  # where an earlier read would have stopped
        start = data.rfind(b"\n", 0, start) + 1
    context = {"session_id": "s0", "cwd": "/w/earlier", "project": "/w/earlier"} if with_context else None
    with _limits(block, max_line):
        expected = _reference_read(path, start, context)
        got = ClaudeReader().read(path, start, context)
    assert repr(got) == repr(expected)


@pytest.mark.parametrize("odd", _ODD)
def test_each_odd_line_reads_as_the_line_by_line_reference(tmp_path: Path, odd: bytes) -> None:
    """Each odd shape, between usual lines, for several block sizes and line limits (the property
    test above mixes them, this one sees every one)."""
    before = b'{"type":"user","message":"hi","timestamp":"2026-01-01T00:00:00Z"}\n'
    after = b'{"type":"summary","summary":"s"}\n{"x":1,"type":"progress"}\n'
    path = tmp_path / "odd.jsonl"
    path.write_bytes(before + odd + after)
    for block in (None, 1, 7):
        for max_line in (None, 40):
            with _limits(block, max_line):
                assert repr(ClaudeReader().read(path)) == repr(_reference_read(path)), (block, max_line)
                assert repr(ClaudeReader().read(path, len(before))) == repr(_reference_read(path, len(before)))


@pytest.mark.parametrize("block", [1, 7, 64, 1000])
def test_block_size_and_line_limit_change_nothing_but_over_long_lines(tmp_path: Path, block: int) -> None:
    """Lines are cut out of blocks where they sit: a line split over blocks reads as a whole, and
    one over the limit is counted, not read, whichever block it ends in."""
    t = Transcript(cwd="/w/shop")
    t.user("fix the build")
    t.bash("t1", "make", "make: *** [all] Error 2", code=2)
    t.call("t2", "Read", {"file_path": "/w/shop/Makefile"}, [{"type": "text", "text": "all:\n\tcc x.c"}])
    t.raw({"type": "progress", "data": {"type": "hook_progress"}, "timestamp": "2026-01-01T00:05:00Z"})
    t.use("t3", "Bash", {"command": "sleep 9"})
    t.compact()
    t.result("t3", "[Request interrupted by user for tool use]", error=True)
    t.raw({"type": "assistant", "message": {"role": "assistant", "content": [{"type": "text", "text": "done"}]}})
    data = b"".join(json.dumps(line, separators=(",", ":")).encode() + b"\n" for line in t.lines)  # as Claude writes
    path = tmp_path / "b.jsonl"
    path.write_bytes(data + b'{"type":"user"')  # and an unfinished last line
    whole = ClaudeReader().read(path)
    assert [c.status for c in whole.calls] == [ERROR, OK, INTERRUPTED] and whole.lines_skipped == 1  # progress
    with _limits(block, None):
        assert repr(ClaudeReader().read(path)) == repr(whole)
    limit = 300
    with _limits(block, limit):
        small = ClaudeReader().read(path)
    long = [line for line in data.splitlines(keepends=True) if len(line) - 1 > limit]
    assert long and small.bad_lines == whole.bad_lines + len(long)
    assert small.lines == whole.lines and small.end_offset == whole.end_offset == len(data)


_JSON_KEYS = st.sampled_from(["type", "message", "content", "id", "name", "input", "tool_use_id", "is_error",
                              "text", "role", "toolUseResult", "interrupted", "exitCode", "model", "isMeta"])
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.sampled_from(
        ["", "x", "tool_use", "tool_result", "text", "image", "user", "assistant", "Exit code 1",
         "[Request interrupted by user", "#lesson a #/lesson", "timed out"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_JSON_KEYS, inner, max_size=4),
    max_leaves=10,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.fixed_dictionaries(
    {"type": st.sampled_from(["user", "assistant", "system"]) | _JSON},
    optional={"message": _JSON, "toolUseResult": _JSON, "isSidechain": _JSON, "timestamp": _JSON,
              "cwd": _JSON, "version": _JSON, "subtype": _JSON, "isMeta": _JSON}), min_size=1, max_size=6))
def test_any_json_records_read_without_exception(tmp_path: Path, records: list[dict]) -> None:
    """Records of any shape, types of any JSON value included, are read or counted, never raised on."""
    path = tmp_path / "shapes.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    chunk = read(path)
    assert chunk.lines == len(records) and chunk.bad_lines == 0


def test_msgspec_is_loaded_by_the_first_read_not_by_listing_or_sniffing(tmp_path: Path) -> None:
    """Commands that read no transcript (a Codex-only scan, a re-run with nothing new) do not pay
    for importing the decoder."""
    import subprocess
    import sys

    path = Transcript().bash("t1", "ls", "a").write(tmp_path / "s.jsonl")
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from forewarn.readers import reader_for\n"
        f"reader = reader_for(Path({str(path)!r}))\n"
        "before = 'msgspec' in sys.modules\n"
        f"calls = reader.read(Path({str(path)!r})).calls\n"
        "print(reader.agent, before, 'msgspec' in sys.modules, len(calls))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["claude", "False", "True", "1"]

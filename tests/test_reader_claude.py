from __future__ import annotations

import json
from pathlib import Path

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


@settings(max_examples=400, deadline=None)
@given(_records())
def test_a_line_skipped_unparsed_would_have_added_nothing(line: bytes) -> None:
    """The prefilter only skips lines whose parsing yields no call, result, turn or count."""
    from forewarn.readers.base import new_chunk
    from forewarn.readers.claude import _uninteresting

    if not _uninteresting(line):
        return
    chunk = new_chunk(Path("s.jsonl"), "claude", 0, None)
    calls: dict = {}
    orphans: dict = {}
    ClaudeReader()._record(json.loads(line), 0, chunk.session, chunk, calls, orphans, False)
    assert (calls, orphans, chunk.turns, chunk.unknown_records) == ({}, {}, [], 0)

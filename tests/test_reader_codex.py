"""The Codex CLI reader on small synthetic rollouts of each format generation, and on the corpus."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forewarn.model import ERROR, INTERRUPTED, OK, PENDING, REJECTED
from forewarn.readers import get_reader, reader_for
from forewarn.readers.base import MAX_LINE
from forewarn.readers.codex import CodexReader
from forewarn.readers.codex_facts import PARSE, TURN_CONTEXT, json_string_after, triage

FIXTURES = Path(__file__).parent / "fixtures" / "codex"
CORPUS = Path("/work/shared/corpus")


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOREWARN_HOME", str(tmp_path / "fw"))


def read(name: str):
    return CodexReader().read(FIXTURES / name)


def by_id(chunk):
    return {c.call_id: c for c in chunk.calls}


def test_legacy_rollout():
    chunk = read("legacy.jsonl")
    s = chunk.session
    assert (s.session_id, s.agent, s.git_branch) == ("11111111-aaaa-4bbb-8ccc-000000000001", "codex", "main")
    assert s.cwd == s.project == "/home/dev/app"  # from the injected <environment_context>
    assert s.started_at == "2025-08-20T10:00:00.000Z"
    calls = by_id(chunk)
    test = calls["call_leg_test"]
    assert test.input["command"] == "cargo test --workspace"  # the script after -lc
    assert test.input["argv"] == ["bash", "-lc", "cargo test --workspace"]
    assert (test.status, test.exit_code) == (ERROR, 101)  # "failed in sandbox … exit code: 101"
    ls = calls["call_leg_ls"]
    assert (ls.status, ls.exit_code, ls.cwd) == (ERROR, 2, "/home/dev/app/sub")  # metadata.exit_code
    assert ls.input["command"] == "ls -la 'missing dir'"
    assert ls.output.startswith("ls: cannot access")  # the text inside the JSON string
    patch = calls["call_leg_patch"]
    assert (patch.status, patch.exit_code, patch.input["file_path"]) == (OK, 0, "src/lib.rs")
    plan = calls["call_leg_plan"]
    assert (plan.status, plan.exit_code) == (ERROR, None)
    assert plan.input["explanation"] == "y"
    sleep = calls["call_leg_sleep"]
    assert (sleep.status, sleep.exit_code, sleep.timed_out) == (ERROR, 124, True)
    assert [t.kind for t in chunk.turns] == ["user"]  # instructions and environment are not user words
    assert chunk.turns[0].text == "run the tests please"
    assert (chunk.bad_lines, chunk.unknown_records, chunk.late_results) == (0, 0, [])


def test_envelope_rollout():
    chunk = read("envelope.jsonl")
    s = chunk.session
    assert (s.version, s.model, s.cwd, s.project, s.git_branch) == (
        "0.63.0", "gpt-5.1-codex-max", "/work/shop", "/work/shop", "feature/cart")
    assert s.ended_at == "2025-11-24T19:40:19.000Z"
    calls = by_id(chunk)
    assert (calls["call_env_pytest"].status, calls["call_env_pytest"].exit_code) == (ERROR, 1)
    assert calls["call_env_pytest"].output_bytes == len(
        "Exit code: 1\nWall time: 0.4 seconds\nOutput:\n/usr/bin/python: No module named pytest\n")
    rg = calls["call_env_rg"]
    assert (rg.status, rg.exit_code, rg.cwd) == (OK, 0, "/work/shop/src")
    patch = calls["call_env_patch"]
    assert (patch.tool, patch.status, patch.input["file_path"]) == ("apply_patch", ERROR, "src/cart.py")
    assert patch.input["patch"].startswith("*** Begin Patch")
    assert calls["call_env_rm"].status == REJECTED
    long = calls["call_env_long"]
    assert (long.status, long.interrupted) == (INTERRUPTED, True)  # no output before turn_aborted
    kinds = [t.kind for t in chunk.turns]
    # user text comes as an item and as an event: counted once; the aborted marker is not user text
    assert kinds == ["user", "lesson_tag", "interrupt", "compaction", "user"]
    lesson = chunk.turns[1].text
    assert lesson.startswith("#lesson") and lesson.endswith("#/lesson") and "uv run pytest" in lesson
    assert chunk.unknown_records == 1  # the made-up event kind, counted and skipped


def test_unified_exec_rollout():
    chunk = read("unified.jsonl")
    assert chunk.session.model == "gpt-5.4"
    assert chunk.session.cwd == "/srv/api"  # not fooled by an escaped "cwd" inside instructions
    calls = by_id(chunk)
    missing = calls["call_u_127"]
    assert (missing.status, missing.exit_code, missing.input["command"]) == (ERROR, 127, "/speckit.specify")
    serve = calls["call_u_serve"]
    assert (serve.status, serve.exit_code) == (ERROR, 2)  # its exit came through the write_stdin poll
    assert "Error 2" in serve.output
    assert (calls["call_u_poll"].tool, calls["call_u_poll"].exit_code) == ("write_stdin", 2)
    local = calls["call_u_local"]
    assert (local.tool, local.status, local.exit_code) == ("local_shell", ERROR, 1)  # exec_command_end
    assert local.input["command"] == "cat missing.txt"
    assert (calls["call_u_mcp"].status, calls["call_u_mcp"].output) == (OK, "no results")
    assert calls["call_u_abort"].status == INTERRUPTED
    assert calls["call_u_patch"].status == REJECTED


def test_still_running_exec_is_pending(tmp_path: Path):
    lines = (FIXTURES / "unified.jsonl").read_text().splitlines(keepends=True)
    path = tmp_path / "rollout-x.jsonl"
    path.write_text("".join(lines[:7]))  # up to the "Process running" output
    serve = by_id(CodexReader().read(path))["call_u_serve"]
    assert (serve.status, serve.exit_code) == (PENDING, None)
    assert "Process running" in serve.output


def test_incremental_read_puts_results_of_earlier_calls_in_late_results(tmp_path: Path):
    path = tmp_path / "rollout-2025-11-24T19-40-00-22222222-aaaa-4bbb-8ccc-000000000002.jsonl"
    shutil.copy(FIXTURES / "envelope.jsonl", path)
    data = path.read_bytes()
    split = data.index(b'"type":"function_call_output","call_id":"call_env_pytest"')
    split = data.rindex(b"\n", 0, split) + 1
    path.write_bytes(data[:split])
    reader = CodexReader()
    first = reader.read(path)
    assert first.end_offset == split
    assert by_id(first)["call_env_pytest"].status == PENDING
    path.write_bytes(data)
    context = {"session_id": first.session.session_id, "cwd": first.session.cwd, "project": first.session.project}
    second = reader.read(path, first.end_offset, context)
    assert "call_env_pytest" not in by_id(second)
    late = {r.call_id: r for r in second.late_results}
    assert (late["call_env_pytest"].status, late["call_env_pytest"].exit_code) == (ERROR, 1)
    assert late["call_env_pytest"].seq == split
    assert second.session.session_id == first.session.session_id
    assert by_id(second)["call_env_rg"].cwd == "/work/shop/src"  # the cwd carried by the context
    assert second.end_offset == len(data)


def test_partial_last_line_is_left_for_the_next_read(tmp_path: Path):
    data = (FIXTURES / "envelope.jsonl").read_bytes()
    last = data.rindex(b"\n", 0, len(data) - 1) + 1
    path = tmp_path / "rollout-p.jsonl"
    path.write_bytes(data[: last + 10])  # half of the final line, no newline
    chunk = CodexReader().read(path)
    assert chunk.end_offset == last
    assert chunk.bad_lines == 0
    path.write_bytes(data)
    rest = CodexReader().read(path, chunk.end_offset)
    assert rest.end_offset == len(data) and rest.unknown_records == 1


def test_corrupt_binary_and_overlong_lines_are_counted_not_raised(tmp_path: Path):
    good = (FIXTURES / "legacy.jsonl").read_bytes()
    path = tmp_path / "rollout-c.jsonl"
    with open(path, "wb") as f:
        f.write(good[: good.index(b"\n") + 1])
        f.write(b'{"type":"function_call","name":"shell","argum\n')  # truncated JSON
        f.write(b"\x00\xff\xfe binary junk \x81\n")
        f.write(b'{"type":"message","content":"' + b"x" * (MAX_LINE + 10) + b'"}\n')
        f.write(b"[1, 2, 3]\n")
        f.write(good[good.index(b"\n") + 1 :])
    chunk = CodexReader().read(path)
    assert chunk.bad_lines == 4
    assert len(chunk.calls) == 5
    assert chunk.end_offset == path.stat().st_size


def test_missing_file_gives_an_empty_chunk(tmp_path: Path):
    chunk = CodexReader().read(tmp_path / "nope.jsonl", 0)
    assert chunk.calls == [] and chunk.end_offset == 0


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2000))
def test_any_bytes_never_raise(tmp_path: Path, data: bytes):
    path = tmp_path / "rollout-f.jsonl"  # one file, rewritten per example
    path.write_bytes(data)
    chunk = CodexReader().read(path)
    assert 0 <= chunk.end_offset <= len(data)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(
        ["type", "payload", "call_id", "name", "arguments", "output", "role", "content", "command",
         "exit_code", "message", "cwd", "id", "input", "action", "session_id", "metadata"]), inner, max_size=5),
    max_leaves=10,
)
_types = st.sampled_from(["response_item", "event_msg", "session_meta", "turn_context", "compacted", "x"])
_item_types = st.sampled_from(["function_call", "function_call_output", "custom_tool_call", "message",
                               "custom_tool_call_output", "local_shell_call", "exec_command_end",
                               "user_message", "turn_aborted", "patch_apply_end", "agent_message"])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(st.tuples(_types, _item_types, _json), max_size=8))
def test_any_well_formed_records_never_raise(tmp_path: Path, records):
    lines = []
    for kind, item, body in records:
        payload = dict(body) if isinstance(body, dict) else {"value": body}
        payload["type"] = item
        lines.append(json.dumps({"timestamp": "t", "type": kind, "payload": payload}))
        lines.append(json.dumps(payload))  # the same item in the legacy, top-level shape
    path = tmp_path / "rollout-r.jsonl"
    path.write_text("\n".join(lines) + "\n")
    CodexReader().read(path)


def test_discover_and_sniff_honour_codex_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path / "codexhome"
    day = home / "sessions" / "2025" / "11" / "24"
    day.mkdir(parents=True)
    shutil.copy(FIXTURES / "envelope.jsonl", day / "rollout-2025-11-24T19-40-00-x.jsonl")
    (day / "notes.jsonl").write_text('{"hello": "world"}\n')
    shutil.copy(FIXTURES / "legacy.jsonl", day / "renamed.jsonl")
    (home / "history.jsonl").write_text('{"session_id":"s","ts":1,"text":"hi"}\n')  # prompt log
    backup = home / "backup" / "sessions"
    backup.mkdir(parents=True)
    shutil.copy(FIXTURES / "unified.jsonl", backup / "rollout-old.jsonl")
    monkeypatch.setenv("CODEX_HOME", str(home))
    reader = CodexReader()
    assert reader.default_roots()[0] == home / "sessions"
    found = [p.name for p in reader.discover(home)]
    assert found == ["rollout-old.jsonl", "renamed.jsonl", "rollout-2025-11-24T19-40-00-x.jsonl"]
    assert list(reader.discover(day / "notes.jsonl")) == [day / "notes.jsonl"]  # explicit file: as is
    assert get_reader("codex") is not None
    for name in ("legacy.jsonl", "envelope.jsonl", "unified.jsonl"):
        picked = reader_for(FIXTURES / name)
        assert picked is not None and picked.agent == "codex"
    assert not reader.sniff(day / "notes.jsonl", b'{"hello": "world"}\n')


def test_a_rollout_name_is_offered_to_the_codex_sniffer_first(tmp_path: Path) -> None:
    """A head two sniffers accept goes to the reader whose file name it has; by the name alone,
    to none."""
    head = ('{"timestamp":"2025-11-24T19:40:00Z","type":"session_meta","payload":'
            '{"id":"x","cwd":"/p","note":"sessionId"}}\n{"sessionId":"y"}\n')
    rollout, other = tmp_path / "rollout-2025-11-24-x.jsonl", tmp_path / "other.jsonl"
    for path in (rollout, other):
        path.write_text(head)
    assert {r.agent for r in map(reader_for, (rollout, other)) if r} == {"codex", "claude"}
    assert reader_for(rollout).agent == "codex"  # type: ignore[union-attr]
    assert reader_for(other).agent == "claude"  # type: ignore[union-attr]  # (the readers' order)
    (tmp_path / "rollout-junk.jsonl").write_text('{"hello": "world"}\n')
    assert reader_for(tmp_path / "rollout-junk.jsonl") is None


# -- the line triage: the fast head match must agree with the general rule ---------------------

# mostly the usual head, which the fast path takes, and now and then one it must hand on
_TIMESTAMPS = st.sampled_from(["2025-10-06T08:21:03.230Z"] * 6 + ["", 'x"y', "t" * 41, "é"])
_CWDS = st.sampled_from(["/home/dev/app"] * 3 + ["/home/dév", 'a\\"b', "", None])
_PAYLOAD_TYPES = st.sampled_from(["token_count", "reasoning", "message", "message", "agent_message", "function_call",
                                  "user_message", "x" * 50, "", 'a"b'])
_TEXTS = st.sampled_from(["hi", "#lesson: x #/lesson", "<environment_context>"])


@st.composite
def _rollout_line(draw: st.DrawFn) -> bytes:
    ts = draw(_TIMESTAMPS)
    if draw(st.integers(0, 3)) == 0:  # turn_context, its cwd first or not, sometimes a nested payload type
        payload: dict = {}
        if draw(st.integers(0, 3)) == 0:
            payload["type"] = "x"
        cwd = draw(_CWDS)
        if cwd is not None:
            payload["cwd"] = cwd
        payload["model"] = draw(st.sampled_from(["gpt-5", "m\\x"]))
        rec: dict = {"timestamp": ts, "type": "turn_context", "payload": payload}
    else:
        payload = {"type": draw(_PAYLOAD_TYPES)}
        if draw(st.booleans()):
            payload["role"] = draw(st.sampled_from(["user", "assistant"]))
        payload["content"] = draw(_TEXTS)
        if draw(st.integers(0, 4)) == 0:  # the legacy shape: the item at top level
            rec = payload
        else:
            rec = {"timestamp": ts, "type": draw(st.sampled_from(["event_msg", "response_item", "compacted"])),
                   "payload": payload}
    keys = list(rec)
    if draw(st.integers(0, 5)) == 0:
        keys = draw(st.permutations(keys))
    line = json.dumps({k: rec[k] for k in keys}, ensure_ascii=draw(st.booleans()), separators=(",", ":")).encode()
    if draw(st.integers(0, 7)) == 0:  # cut short: corrupt, but still triaged by its head
        line = line[: draw(st.integers(0, len(line)))]
    return line + b"\n"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(_rollout_line(), min_size=1, max_size=12))
def test_lines_are_skipped_and_turn_contexts_read_as_the_general_rule_says(tmp_path: Path, lines):
    """The reader decides most lines from one regex match on their head; `triage` is the rule it
    must agree with, and `json_string_after` how a skipped turn_context's keys are read."""
    path = tmp_path / "rollout-t.jsonl"  # one file, rewritten per example
    path.write_bytes(b"".join(lines))
    chunk = CodexReader().read(path)
    verdicts = [triage(line) for line in lines]
    assert chunk.lines_skipped == sum(v is not PARSE for v in verdicts)
    cwds = [json_string_after(line, b'"cwd":"') for line, v in zip(lines, verdicts, strict=True) if v is TURN_CONTEXT]
    if not any(v is PARSE for v in verdicts):  # then turn_context lines alone set the cwd
        assert chunk.session.cwd == next((c for c in cwds if c), None)


def test_a_line_is_triaged_on_its_own_bytes_not_on_the_next_line(tmp_path: Path) -> None:
    """Lines are looked at where they sit in the block: no search may run on into the next line."""
    path = tmp_path / "rollout-n.jsonl"
    path.write_bytes(
        b'{"timestamp":"2025-10-06T08:21:03.230Z","type":"response_item","payload":{"type":"message"}}\n'
        b'{"type":"message","role":"user","content":"hi"}\n'
        b'{"timestamp":"2025-10-06T08:21:04.000Z","type":"event_msg","payload":{"type":"agent_message"}}\n'
        b'{"type":"message","role":"user","content":"#lesson: x #/lesson"}\n'
    )
    chunk = CodexReader().read(path)
    assert chunk.lines_skipped == 2  # the assistant-side lines, though user text follows at once
    assert chunk.session.ended_at is None  # they were not parsed: their timestamps are not read
    assert [t.kind for t in chunk.turns] == ["user", "user"]


@pytest.mark.parametrize("block", [1, 7, 64, 1000])
def test_block_size_and_line_limit_change_nothing_but_over_long_lines(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, block: int) -> None:
    """Lines are cut out of blocks where they sit: a line split over blocks reads as a whole, and
    one over the limit is counted, not read, whichever block it ends in."""
    from forewarn.readers import base, codex

    data = b"".join((FIXTURES / name).read_bytes() for name in ("envelope.jsonl", "unified.jsonl"))
    path = tmp_path / "rollout-b.jsonl"
    path.write_bytes(data + b'{"type":"message"')  # and an unfinished last line
    whole = CodexReader().read(path)
    monkeypatch.setattr(base, "_BLOCK", block)
    assert repr(CodexReader().read(path)) == repr(whole)
    limit = 300
    monkeypatch.setattr(codex, "MAX_LINE", limit)
    small = CodexReader().read(path)
    long = [line for line in data.splitlines(keepends=True) if len(line) - 1 > limit]
    assert long and small.bad_lines == whole.bad_lines + len(long)
    assert small.lines == whole.lines and small.end_offset == whole.end_offset == len(data)


# -- the real corpus (skipped when absent) ------------------------------------------------------

corpus = pytest.mark.skipif(not (CORPUS / "codex").is_dir(), reason="shared corpus not available")


@corpus
def test_corpus_reads_every_codex_rollout():
    reader = CodexReader()
    files = sorted((CORPUS / "codex").rglob("*.jsonl"))
    total_calls = 0
    for path in files:
        assert reader.sniff(path, path.read_bytes()[:65536]), path
        chunk = reader.read(path)
        assert chunk.bad_lines == 0, path
        assert chunk.end_offset == path.stat().st_size, path
        total_calls += len(chunk.calls)
        assert all(c.call_id and c.tool for c in chunk.calls)
    assert len(files) > 100 and total_calls > 5000


@corpus
def test_corpus_labelled_codex_calls_come_out_with_their_ids():
    labels = [json.loads(line) for line in (CORPUS / "labels" / "dev_labels.jsonl").read_text().splitlines()]
    labels = [lab for lab in labels if lab["file"].startswith("codex/")]
    reader = CodexReader()
    calls: dict[str, dict] = {}
    flagged = 0
    for lab in labels:
        if lab["file"] not in calls:
            calls[lab["file"]] = by_id(reader.read(CORPUS / lab["file"]))
        call = calls[lab["file"]].get(lab["call_id"])
        assert call is not None, lab["call_id"]
        assert call.tool == lab["tool"]
        if lab["is_failure"] and (call.status != OK or call.exit_code not in (None, 0)):
            flagged += 1
    failures = sum(1 for lab in labels if lab["is_failure"])
    # the rest hide their exit status (`|| true`, `; exit 0`): facts, left to the analyzers
    assert flagged >= failures - 8


def test_a_deeply_nested_output_is_read_not_a_crash(tmp_path: Path) -> None:
    """A structured output nested far deeper than Python's recursion limit still reads."""
    from forewarn.readers.codex_facts import output_text

    raw: object = "Exit code: 2\nboom"
    for _ in range(5000):
        raw = {"output": raw}
    assert output_text(raw) == ("Exit code: 2\nboom", None, False)
    assert output_text({"success": False, "content": {"output": "x"}}) == ("x", None, True)

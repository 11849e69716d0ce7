"""The Gemini CLI reader on small synthetic recordings of each shape, and on the corpus."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forewarn.model import ERROR, INTERRUPTED, OK, PENDING, REJECTED
from forewarn.readers import reader_for
from forewarn.readers.gemini import GeminiReader

FIXTURES = Path(__file__).parent / "fixtures" / "gemini"
CORPUS = Path("/work/shared/corpus")
JSON_SESSION = "session-2025-09-26T15-33-44444444.json"
JSONL_SESSION = "session-2026-02-01T10-00-55555555.jsonl"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FOREWARN_HOME", str(tmp_path / "fw"))


def by_id(chunk):
    return {c.call_id: c for c in chunk.calls}


def test_whole_document_recording():
    chunk = GeminiReader().read(FIXTURES / JSON_SESSION)
    s = chunk.session
    assert (s.session_id, s.agent, s.model) == ("44444444-aaaa-4bbb-8ccc-000000000004", "gemini", "gemini-2.5-pro")
    assert (s.started_at, s.ended_at) == ("2025-09-26T15:33:00.000Z", "2025-09-26T15:37:00.000Z")
    assert s.project is None  # nothing names the project: unknown, not guessed
    calls = by_id(chunk)
    build = calls["run_shell_command-1-a"]
    assert (build.status, build.exit_code, build.is_error) == (ERROR, 127, False)  # "success" + Exit Code
    assert build.input == {"command": "npm run build", "description": "build"}
    assert (calls["run_shell_command-1-b"].status, calls["run_shell_command-1-b"].exit_code) == (OK, 0)
    replace = calls["replace-2"]
    assert (replace.status, replace.is_error) == (ERROR, True)
    assert replace.output == "Failed to edit, could not find the string to replace."
    assert calls["write_file-3"].status == REJECTED
    assert (calls["run_shell_command-4"].status, calls["run_shell_command-4"].interrupted) == (INTERRUPTED, True)
    timeout = calls["run_shell_command-5"]
    assert (timeout.status, timeout.timed_out) == (ERROR, True)
    assert [t.kind for t in chunk.turns] == ["user", "interrupt", "user", "lesson_tag"]
    seqs = [c.seq for c in chunk.calls]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)  # a running index, unique
    assert chunk.end_offset == (FIXTURES / JSON_SESSION).stat().st_size


def test_jsonl_upsert_log():
    chunk = GeminiReader().read(FIXTURES / JSONL_SESSION)
    s = chunk.session
    assert (s.session_id, s.cwd, s.project, s.model) == (
        "55555555-aaaa-4bbb-8ccc-000000000005", "/home/dev/blog", "/home/dev/blog", "gemini-3-pro")
    calls = by_id(chunk)
    assert len(chunk.calls) == 2  # the message g1 was written four times: one call
    deploy = calls["run_shell_command_1_0"]
    assert (deploy.status, deploy.exit_code) == (ERROR, 1)
    assert "not logged in" in deploy.output  # the later masked copy in $set does not overwrite it
    data = (FIXTURES / JSONL_SESSION).read_bytes()
    first_line = data.rindex(b"\n", 0, data.index(b'"status":"executing"')) + 1
    assert deploy.seq == first_line  # the offset of the line that first carried the call
    retry = calls["run_shell_command_2_0"]
    assert (retry.status, retry.exit_code) == (OK, None)  # kept though the user rewound past it
    assert [t.text for t in chunk.turns if t.kind == "user"] == ["deploy it", "try again", "summarise"]
    assert chunk.bad_lines == 1  # the half-written record line


def test_jsonl_compression_is_a_compaction_and_partial_lines_wait(tmp_path: Path):
    path = tmp_path / JSONL_SESSION
    data = (FIXTURES / JSONL_SESSION).read_bytes()
    summary = {"$set": {"messages": [{"id": "s1", "type": "user", "content": "summary of it all"}]}}
    tail = json.dumps(summary).encode() + b"\n" + b'{"id":"u4","type":"user","conte'
    path.write_bytes(data + tail)
    chunk = GeminiReader().read(path)
    assert [t.kind for t in chunk.turns][-1] == "compaction"
    assert chunk.end_offset == len(data) + tail.index(b"\n") + 1  # the partial line is not consumed
    assert "summary of it all" not in [t.text for t in chunk.turns]  # replayed copies add no turns


def test_checkpoint_content_list():
    chunk = GeminiReader().read(FIXTURES / "checkpoint-notes.json")
    assert chunk.session.cwd == chunk.session.project == "/home/dev/notes"  # from the setup text
    statuses = [(c.tool, c.status) for c in chunk.calls]
    assert statuses == [("run_shell_command", REJECTED), ("read_file", OK), ("read_file", ERROR)]
    assert chunk.calls[2].input == {"absolute_path": "/home/dev/notes/b.md"}  # paired in order by name
    assert [t.kind for t in chunk.turns] == ["user", "lesson_tag"]  # the setup text is not a user turn


def test_stream_json_log():
    chunk = GeminiReader().read(FIXTURES / "stream.jsonl")
    s = chunk.session
    assert (s.session_id, s.model) == ("66666666-aaaa-4bbb-8ccc-000000000006", "gemini-3-pro-preview")
    calls = by_id(chunk)
    skill = calls["activate_skill-1"]
    assert (skill.status, skill.output) == (ERROR, 'Skill "figma" not found.')
    assert (calls["run_shell_command-2"].status, calls["run_shell_command-2"].exit_code) == (OK, 0)
    lessons = [t.text for t in chunk.turns if t.kind == "lesson_tag"]
    assert lessons == ["#lesson\ntool: activate_skill\n#/lesson"]  # joined across streamed deltas


def test_pending_call_without_result(tmp_path: Path):
    lines = (FIXTURES / "stream.jsonl").read_text().splitlines(keepends=True)
    path = tmp_path / "stream.jsonl"
    path.write_text("".join(lines[:7]))
    assert by_id(GeminiReader().read(path))["run_shell_command-2"].status == PENDING


def test_half_written_document_is_retried_not_raised(tmp_path: Path):
    path = tmp_path / JSON_SESSION
    path.write_bytes((FIXTURES / JSON_SESSION).read_bytes()[:700])
    chunk = GeminiReader().read(path)
    assert (chunk.bad_lines, chunk.end_offset, chunk.calls) == (1, 0, [])


def test_project_from_gemini_records(tmp_path: Path):
    reader = GeminiReader()
    slug_dir = tmp_path / ".gemini" / "tmp" / "blog"
    (slug_dir / "chats").mkdir(parents=True)
    shutil.copy(FIXTURES / JSON_SESSION, slug_dir / "chats" / JSON_SESSION)
    (slug_dir / ".project_root").write_text("/home/dev/blog\n")
    assert reader.read(slug_dir / "chats" / JSON_SESSION).session.project == "/home/dev/blog"
    (slug_dir / ".project_root").unlink()
    (tmp_path / ".gemini" / "projects.json").write_text(json.dumps({"projects": {"/home/dev/blog2": "blog"}}))
    assert reader.project_of(slug_dir / "chats" / JSON_SESSION) == "/home/dev/blog2"
    # older hashed dirs: an ancestor of a path the session touched whose sha256 is the dir name
    hashed = tmp_path / ".gemini" / "tmp" / hashlib.sha256(b"/tmp/x").hexdigest() / "chats"
    hashed.mkdir(parents=True)
    shutil.copy(FIXTURES / JSON_SESSION, hashed / JSON_SESSION)
    assert reader.read(hashed / JSON_SESSION).session.project == "/tmp/x"  # replace touched /tmp/x/a.js


def test_discover_sniff_and_gemini_cli_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("GEMINI_CLI_HOME", str(tmp_path))
    reader = GeminiReader()
    assert reader.default_roots() == [tmp_path / ".gemini" / "tmp"]
    chats = tmp_path / ".gemini" / "tmp" / "abc" / "chats"
    chats.mkdir(parents=True)
    for name in (JSON_SESSION, JSONL_SESSION):
        shutil.copy(FIXTURES / name, chats / name)
    shutil.copy(FIXTURES / "checkpoint-notes.json", chats.parent / "checkpoint-notes.json")
    (chats.parent / "logs.json").write_text('[{"sessionId": "x", "type": "user", "message": "hi"}]')
    (chats.parent / "other.json").write_text('{"a": 1}')
    found = sorted(p.name for p in reader.discover(tmp_path / ".gemini"))
    assert found == ["checkpoint-notes.json", JSON_SESSION, JSONL_SESSION]
    for name in (JSON_SESSION, JSONL_SESSION, "checkpoint-notes.json", "stream.jsonl"):
        picked = reader_for(FIXTURES / name, ["codex", "gemini"])
        assert picked is not None and picked.agent == "gemini", name
    codex = Path(__file__).parent / "fixtures" / "codex" / "envelope.jsonl"
    assert not reader.sniff(codex, codex.read_bytes())
    claude_like = b'{"type":"assistant","message":{"content":[{"type":"tool_use","id":"t","name":"Bash"}]}}\n'
    assert not reader.sniff(Path("x.jsonl"), claude_like)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2000), suffix=st.sampled_from([".json", ".jsonl"]))
def test_any_bytes_never_raise(tmp_path: Path, data: bytes, suffix: str):
    path = tmp_path / f"session-x{suffix}"
    path.write_bytes(data)
    chunk = GeminiReader().read(path)
    assert 0 <= chunk.end_offset <= len(data)


_value = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(
        ["id", "type", "content", "toolCalls", "name", "args", "result", "status", "functionResponse",
         "response", "output", "error", "messages", "$set", "$rewindTo", "sessionId", "parts", "role",
         "functionCall", "tool_id", "tool_name", "directories", "text"]), inner, max_size=5),
    max_leaves=12,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(_value, max_size=8))
def test_any_json_records_never_raise(tmp_path: Path, records):
    (tmp_path / "session-r.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    GeminiReader().read(tmp_path / "session-r.jsonl")
    (tmp_path / "session-r.json").write_text(json.dumps({"sessionId": "s", "projectHash": "h", "messages": records}))
    GeminiReader().read(tmp_path / "session-r.json")
    (tmp_path / "checkpoint-r.json").write_text(json.dumps(records))
    GeminiReader().read(tmp_path / "checkpoint-r.json")


corpus = pytest.mark.skipif(not (CORPUS / "gemini").is_dir(), reason="shared corpus not available")


@corpus
def test_corpus_reads_every_gemini_file():
    reader = GeminiReader()
    files = sorted(p for p in (CORPUS / "gemini").rglob("*") if p.is_file())
    total = 0
    for path in files:
        assert reader.sniff(path, path.read_bytes()[:65536]), path
        chunk = reader.read(path)
        assert chunk.bad_lines == 0, path
        total += len(chunk.calls)
    assert len(files) > 100 and total > 500

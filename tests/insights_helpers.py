"""Build small analytics histories straight into a store, through the store's own API.

Each `C` is one tool call with a timestamp; `add_session` records a session file holding them as
a scan would (session row, calls with their verdicts, failure rows, compaction turns).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from forewarn.analyze.findings import Failure
from forewarn.model import Chunk, SessionInfo, ToolCall, Turn, tool_family
from forewarn.store import Store

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)  # a Monday


def at(days: float = 0, hours: float = 0, minutes: float = 0) -> str:
    """An ISO timestamp `days`/`hours`/`minutes` after T0, in the logs' millisecond shape."""
    t = T0 + timedelta(days=days, hours=hours, minutes=minutes)
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class C:
    ts: str
    tool: str = "Bash"
    failed: bool = False
    kind: str = "other"
    signature: str | None = None
    command: str = "ls"
    output_bytes: int = 100
    wasted: int = 0
    repeats: int = 0
    fix: str | None = None
    error: str = "Error: something failed"
    path: str | None = None


_counter = [0]


def add_session(store: Store, calls: list[C], *, project: str = "/work/app", model: str = "claude-x",
                agent: str = "claude", session_id: str | None = None, file: str | None = None,
                version: str = "2.0.0", compaction_after: int | None = None) -> str:
    """Record one session; `compaction_after=i` puts a compaction between call i-1 and call i."""
    _counter[0] += 1
    file = file or f"/logs/{agent}/session-{_counter[0]}.jsonl"
    session_id = session_id or f"sess-{_counter[0]}"
    tool_calls = []
    verdicts = []
    failures = []
    turns = []
    for i, c in enumerate(calls):
        seq = (i + 1) * 100
        inp = {"command": c.command} if tool_family(c.tool) == "shell" else {"file_path": c.path or "/work/app/x.py"}
        call = ToolCall(call_id=f"{file}#{i}", tool=c.tool, input=inp, seq=seq, timestamp=c.ts, cwd=project,
                        status="error" if c.failed else "ok", is_error=c.failed, output=c.error if c.failed else "ok",
                        output_bytes=c.output_bytes, result_seq=seq + 1)
        tool_calls.append(call)
        verdicts.append((c.failed, c.kind if c.failed else "benign"))
        if c.failed:
            failures.append(Failure(
                file=file, session_id=session_id, project=project, agent=agent, call_id=call.call_id, tool=c.tool,
                family=call.family, kind=c.kind, signature=c.signature or f"{call.family}:{c.kind}:x", seq=seq,
                timestamp=c.ts, input_text=c.command if call.family == "shell" else (c.path or ""), error=c.error,
                fix_call_id=f"{file}#fix" if c.fix else None, fix_input_text=c.fix,
                wasted_bytes=c.wasted or c.output_bytes, repeats=c.repeats))
        if compaction_after is not None and i == compaction_after:
            turns.append(Turn(seq - 50, "compaction", "Conversation compacted", c.ts))
    info = SessionInfo(session_id=session_id, agent=agent, cwd=project, project=project, version=version, model=model,
                       started_at=calls[0].ts if calls else None)
    chunk = Chunk(path=file, session=info, calls=tool_calls, turns=turns, end_offset=1000)
    store.begin()
    store.record_file(file, agent, 1000, 1, "head", chunk, "2026-01-01T00:00:00+00:00")
    store.add_calls(file, session_id, tool_calls, verdicts)
    store.add_turns(file, turns)
    store.replace_failures(file, failures)
    store.commit()
    return file

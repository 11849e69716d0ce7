"""The SQL behind forewarn's analytics: outcome events, operations, reported failures.

Everything the insights package reads or writes in the database goes through here, so the SQL
stays inside the store package.

Invariants:
- An *event* is one outcome: a tool call read from a session log (calls joined with its session,
  its failure record and its session's first compaction) or an operation recorded through the
  Python API (agent "api"). Running operations (no outcome yet) are not events.
- Time windows are half-open, `since < ts <= until`, compared on the first 19 characters of the
  ISO 8601 UTC timestamp (`YYYY-MM-DDTHH:MM:SS`), so second- and millisecond-precision stamps mix
  safely. Events without a timestamp are returned only when neither bound is given (statistics
  always bound their windows, so they leave such events out).
- Positions (`pos` of `n`) count every call of the session, not only those inside the window, so
  "early in the session" means the same thing whatever the window.
- Nothing here deletes scanned data; reported failures and operations are only ever added to or
  completed.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from typing import Any, NamedTuple

from forewarn.store import Store


class Event(NamedTuple):
    session: str  # the session file for calls, "api:<session id>" for operations
    seq: int
    ts: str | None
    agent: str
    project: str | None
    model: str | None
    version: str | None
    tool: str
    family: str
    kind: str | None
    failed: bool
    output_bytes: int
    command: str | None  # raw `command` input of shell calls (a string or a JSON list)
    pos: int  # 1-based position among the session's events
    n: int  # events in the session
    session_id: str | None
    first_compaction: int | None  # seq of the session's first compaction, if any
    signature: str | None
    error: str | None
    wasted_bytes: int
    repeats: int
    input_text: str | None
    fix_input: str | None
    fix_reason: str | None


class ReportedFailure(NamedTuple):
    id: int
    ts: str
    failure_type: str
    description: str
    context: str | None
    task: str | None
    project: str | None
    agent: str | None
    source: str
    handled_at: str | None


class Operation(NamedTuple):
    id: int
    op_type: str
    op_ref: str | None
    agent: str
    session_id: str | None
    project: str | None
    started_at: str
    completed_at: str | None
    success: bool | None
    error_type: str | None
    error_message: str | None
    signature: str | None
    duration_ms: int | None


_CALL_EVENTS = """
SELECT c.file, c.seq, c.ts, COALESCE(s.agent, fl.agent, '?'), s.project, s.model, s.version, c.tool, c.family,
       c.kind, c.failed, c.output_bytes,
       CASE WHEN c.family = 'shell' AND json_valid(c.input) THEN json_extract(c.input, '$.command') END,
       COALESCE(s.session_id, c.session_id), cp.first_compaction,
       f.signature, f.error, f.wasted_bytes, f.repeats, f.input_text, f.fix_input_text, f.fix_reason
FROM calls c
LEFT JOIN sessions s ON s.file = c.file
LEFT JOIN files fl ON fl.path = c.file
LEFT JOIN (SELECT file, MIN(seq) AS first_compaction FROM turns WHERE kind = 'compaction' GROUP BY file) cp
       ON cp.file = c.file
LEFT JOIN failures f ON f.file = c.file AND f.call_id = c.call_id
"""

_OPERATION_EVENTS = """
SELECT 'api:' || COALESCE(o.session_id, ''), o.id, o.started_at, o.agent, o.project, NULL, NULL, o.op_type,
       'operation', o.error_type, 1 - o.success, 0, NULL, o.session_id, NULL,
       o.signature, o.error_message, 0, 0, o.op_ref, NULL, NULL
FROM operations o WHERE o.success IS NOT NULL
"""

# Every session's positions, to rank events inside a window among all their session's events (a
# window function over `calls` would sort the wide rows; this reads two narrow columns).
_POSITIONS = """
SELECT file, seq FROM calls
UNION ALL SELECT 'api:' || COALESCE(session_id, ''), id FROM operations WHERE success IS NOT NULL
"""


def _window_sql(column: str, since: str | None, until: str | None) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    args: list[Any] = []
    if since is not None:
        where.append(f"substr({column}, 1, 19) > ?")
        args.append(since[:19])
    if until is not None:
        where.append(f"substr({column}, 1, 19) <= ?")
        args.append(until[:19])
    return where, args


def _project_sql(column: str, project: str | None) -> tuple[list[str], list[Any]]:
    if project is None:
        return [], []
    return [f"({column} = ? OR {column} LIKE ?)"], [project, project.rstrip("/") + "/%"]


def events(store: Store, since: str | None = None, until: str | None = None, *,
           project: str | None = None, agent: str | None = None,
           include_operations: bool = True) -> list[Event]:
    """Every outcome in the window, calls and API operations alike, oldest first."""
    rows: list[tuple[Any, ...]] = []
    parts = [(_CALL_EVENTS, "c.ts", "s.project", "COALESCE(s.agent, fl.agent)", " WHERE ")]
    if include_operations:
        parts.append((_OPERATION_EVENTS, "o.started_at", "o.project", "o.agent", " AND "))
    for sql, ts_col, project_col, agent_col, glue in parts:
        where, args = _window_sql(ts_col, since, until)
        w2, a2 = _project_sql(project_col, project)
        where += w2
        args += a2
        if agent is not None:
            where.append(f"{agent_col} = ?")
            args.append(agent)
        rows += store.conn.execute(sql + (glue + " AND ".join(where) if where else ""), args).fetchall()
    if not rows:
        return []
    positions: dict[str, list[int]] = {}
    for key, seq in store.conn.execute(_POSITIONS):
        positions.setdefault(key, []).append(seq)
    for seqs in positions.values():
        seqs.sort()
    out: list[Event] = []
    for r in rows:
        seqs = positions.get(r[0]) or [r[1]]
        out.append(Event(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], bool(r[10]), r[11] or 0,
                         r[12], bisect_left(seqs, r[1]) + 1, len(seqs), r[13], r[14], r[15], r[16], r[17] or 0,
                         r[18] or 0, r[19], r[20], r[21]))
    out.sort(key=lambda e: (e.ts or "", e.session, e.seq))
    return out


def newest_timestamp(store: Store) -> str | None:
    """The latest call or operation recorded: the default 'now' of every window (history may be
    old). Reports made by hand do not move it: filing one today says nothing about the history."""
    row = store.conn.execute(
        "SELECT MAX(t) FROM (SELECT MAX(substr(ts, 1, 19)) AS t FROM calls"
        " UNION ALL SELECT MAX(substr(started_at, 1, 19)) FROM operations WHERE success IS NOT NULL)").fetchone()
    return row[0] if row else None


def refetches(store: Store, since: str | None, until: str | None, *, project: str | None = None,
              agent: str | None = None) -> tuple[int, int]:
    """(calls, output bytes) of successful reads, searches and fetches that repeat an identical
    earlier call in the same session: context spent twice on the same bytes."""
    where, args = _window_sql("c.ts", since, until)
    w2, a2 = _project_sql("s.project", project)
    where += w2
    args += a2
    if agent is not None:
        where.append("s.agent = ?")
        args.append(agent)
    cond = (" AND " + " AND ".join(where)) if where else ""
    row = store.conn.execute(
        "SELECT COUNT(*), COALESCE(SUM(output_bytes), 0) FROM ("
        " SELECT c.output_bytes, ROW_NUMBER() OVER (PARTITION BY c.file, c.tool, c.input ORDER BY c.seq) AS k"
        " FROM calls c LEFT JOIN sessions s ON s.file = c.file"
        " WHERE c.failed = 0 AND c.family IN ('read', 'search', 'glob', 'web')" + cond +
        ") WHERE k > 1", args).fetchone()
    return int(row[0]), int(row[1])


def projects_seen(store: Store) -> list[str]:
    return [r[0] for r in store.conn.execute(
        "SELECT DISTINCT project FROM sessions WHERE project IS NOT NULL"
        " UNION SELECT DISTINCT project FROM operations WHERE project IS NOT NULL ORDER BY 1")]


# -- operations (the Python tracking API) ------------------------------------------------------

def start_operation(store: Store, op_type: str, op_ref: str | None, *, agent: str, session_id: str | None,
                    project: str | None, started_at: str) -> int:
    cur = store.conn.execute(
        "INSERT INTO operations(op_type, op_ref, agent, session_id, project, started_at) VALUES(?,?,?,?,?,?)",
        (op_type, op_ref, agent, session_id, project, started_at))
    return int(cur.lastrowid or 0)


def complete_operation(store: Store, op_id: int, *, success: bool, error_type: str | None,
                       error_message: str | None, signature: str | None, completed_at: str,
                       duration_ms: int | None) -> bool:
    """Record an outcome; False when no running operation has that id (unknown or completed)."""
    cur = store.conn.execute(
        "UPDATE operations SET success = ?, error_type = ?, error_message = ?, signature = ?, completed_at = ?,"
        " duration_ms = ? WHERE id = ? AND success IS NULL",
        (int(success), error_type, error_message, signature, completed_at, duration_ms, op_id))
    return cur.rowcount > 0


def operation(store: Store, op_id: int) -> Operation | None:
    r = store.conn.execute(
        "SELECT id, op_type, op_ref, agent, session_id, project, started_at, completed_at, success, error_type,"
        " error_message, signature, duration_ms FROM operations WHERE id = ?", (op_id,)).fetchone()
    if r is None:
        return None
    return Operation(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], None if r[8] is None else bool(r[8]),
                     r[9], r[10], r[11], r[12])


# -- failures reported by hand -----------------------------------------------------------------

def add_reported_failure(store: Store, *, ts: str, failure_type: str, description: str, context: str | None,
                         task: str | None, project: str | None, agent: str | None, source: str = "manual") -> int:
    cur = store.conn.execute(
        "INSERT INTO reported_failures(ts, failure_type, description, context, task, project, agent, source)"
        " VALUES(?,?,?,?,?,?,?,?)", (ts, failure_type, description, context, task, project, agent, source))
    return int(cur.lastrowid or 0)


def reported_failures(store: Store, since: str | None = None, until: str | None = None, *,
                      project: str | None = None, unhandled_only: bool = False) -> list[ReportedFailure]:
    where, args = _window_sql("ts", since, until)
    w2, a2 = _project_sql("project", project)
    where += w2
    args += a2
    if unhandled_only:
        where.append("handled_at IS NULL")
    sql = ("SELECT id, ts, failure_type, description, context, task, project, agent, source, handled_at"
           " FROM reported_failures" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY ts, id")
    return [ReportedFailure(*r) for r in store.conn.execute(sql, args)]


def reported_failure(store: Store, report_id: int) -> ReportedFailure | None:
    row = store.conn.execute(
        "SELECT id, ts, failure_type, description, context, task, project, agent, source, handled_at"
        " FROM reported_failures WHERE id = ?", (report_id,)).fetchone()
    return ReportedFailure(*row) if row else None


def mark_reported_failures_handled(store: Store, ids: Sequence[int], when: str) -> int:
    """For the teacher loop: these reports have been learned from."""
    if not ids:
        return 0
    cur = store.conn.execute(
        f"UPDATE reported_failures SET handled_at = ? WHERE id IN ({','.join('?' * len(ids))})", (when, *ids))
    return cur.rowcount


# -- the command-family cache -----------------------------------------------------------------

def cached_command_families(store: Store, prefix: str) -> dict[str, str]:
    """key -> family for every cached key starting with `prefix` (the parser version)."""
    return dict(store.conn.execute("SELECT key, family FROM command_families WHERE key >= ? AND key < ?",
                                   (prefix, prefix + "\uffff")))


def cache_command_families(store: Store, rows: Sequence[tuple[str, str]], stale_prefix: str) -> None:
    """Add rows; drop the entries of other parser versions (they can never be hit again)."""
    store.conn.execute("BEGIN IMMEDIATE")
    try:
        store.conn.execute("DELETE FROM command_families WHERE NOT (key >= ? AND key < ?)",
                           (stale_prefix, stale_prefix + "\uffff"))
        store.conn.executemany("INSERT OR REPLACE INTO command_families(key, family) VALUES(?, ?)", rows)
        store.conn.execute("COMMIT")
    except BaseException:
        store.conn.execute("ROLLBACK")
        raise


# -- analysis runs -----------------------------------------------------------------------------

def record_analysis_run(store: Store, *, ran_at: str, days: int | None, events: int,
                        success_rate: float | None) -> None:
    store.conn.execute("INSERT INTO analysis_runs(ran_at, days, events, success_rate) VALUES(?,?,?,?)",
                       (ran_at, days, events, success_rate))


def last_analysis_run(store: Store) -> str | None:
    row = store.conn.execute("SELECT MAX(ran_at) FROM analysis_runs").fetchone()
    return row[0] if row else None

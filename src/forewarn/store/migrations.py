"""Versioned schema migrations: named functions, each applied once in its own transaction.

To change the schema, append a new function to MIGRATIONS; never edit one that has shipped.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime, timezone


def _script(conn: sqlite3.Connection, sql: str) -> None:
    """Run DDL statement by statement: `executescript` would commit the migration's transaction."""
    for statement in sql.split(";"):
        if statement.strip():
            conn.execute(statement)


def m001_initial(conn: sqlite3.Connection) -> None:
    _script(
        conn,
        """
        CREATE TABLE files (
            path TEXT PRIMARY KEY,
            agent TEXT,
            size INTEGER NOT NULL,
            mtime_ns INTEGER NOT NULL,
            offset INTEGER NOT NULL,          -- first byte not yet consumed
            head TEXT,                        -- fingerprint of the first bytes: a rewritten file starts over
            session_id TEXT,
            lines INTEGER NOT NULL DEFAULT 0,
            bad_lines INTEGER NOT NULL DEFAULT 0,
            unknown_records INTEGER NOT NULL DEFAULT 0,
            scanned_at TEXT
        );
        CREATE TABLE sessions (
            file TEXT PRIMARY KEY,            -- one row per session file (subagents have their own)
            session_id TEXT,
            agent TEXT,
            cwd TEXT,
            project TEXT,
            version TEXT,
            model TEXT,
            git_branch TEXT,
            started_at TEXT,
            ended_at TEXT,
            parent_session_id TEXT
        );
        CREATE INDEX sessions_project ON sessions(project);
        CREATE TABLE calls (
            file TEXT NOT NULL,
            call_id TEXT NOT NULL,
            session_id TEXT,
            seq INTEGER NOT NULL,
            ts TEXT,
            tool TEXT NOT NULL,
            family TEXT NOT NULL,
            thread TEXT NOT NULL DEFAULT 'main',
            cwd TEXT,
            input TEXT,                       -- JSON, long strings clipped
            status TEXT NOT NULL,
            is_error INTEGER,
            exit_code INTEGER,
            output TEXT,                      -- head+tail for failures, a short head otherwise
            output_bytes INTEGER NOT NULL DEFAULT 0,
            result_seq INTEGER,
            interrupted INTEGER NOT NULL DEFAULT 0,
            timed_out INTEGER NOT NULL DEFAULT 0,
            user_note TEXT,
            failed INTEGER NOT NULL DEFAULT 0,
            kind TEXT,
            PRIMARY KEY (file, call_id)
        );
        CREATE INDEX calls_ts ON calls(ts);
        CREATE TABLE turns (
            file TEXT NOT NULL,
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL,
            text TEXT,
            ts TEXT,
            thread TEXT NOT NULL DEFAULT 'main',
            PRIMARY KEY (file, seq, kind)
        );
        CREATE TABLE failures (
            file TEXT NOT NULL,
            call_id TEXT NOT NULL,
            session_id TEXT,
            project TEXT,
            agent TEXT,
            tool TEXT,
            family TEXT,
            kind TEXT NOT NULL,
            signature TEXT NOT NULL,
            seq INTEGER,
            ts TEXT,
            input_text TEXT,
            error TEXT,
            exit_code INTEGER,
            fix_call_id TEXT,
            fix_input_text TEXT,
            fix_reason TEXT,
            user_corrected INTEGER NOT NULL DEFAULT 0,
            user_text TEXT,
            wasted_bytes INTEGER NOT NULL DEFAULT 0,
            repeats INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (file, call_id)
        );
        CREATE INDEX failures_signature ON failures(signature);
        CREATE INDEX failures_project ON failures(project);
        """
    )



def m002_operations_and_reports(conn: sqlite3.Connection) -> None:
    """Operations tracked through the Python API (forewarn.insights.OperationTracker), failures
    reported by hand (`forewarn report-failure`), a log of insight analyses, and a cache of shell
    command families (parsing every command again on each report is the slowest part of it)."""
    _script(
        conn,
        """
        CREATE TABLE operations (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            op_type TEXT NOT NULL,
            op_ref TEXT,
            agent TEXT NOT NULL DEFAULT 'api',
            session_id TEXT,                  -- one tracker's operations form one session
            project TEXT,
            started_at TEXT NOT NULL,         -- ISO 8601 UTC, same shape as calls.ts
            completed_at TEXT,
            success INTEGER,                  -- NULL while the operation runs
            error_type TEXT,
            error_message TEXT,
            signature TEXT,                   -- operation:<error_type>:<op_type> for failures
            duration_ms INTEGER
        );
        CREATE INDEX operations_started ON operations(started_at);
        CREATE TABLE reported_failures (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            ts TEXT NOT NULL,
            failure_type TEXT NOT NULL,
            description TEXT NOT NULL,
            context TEXT,
            task TEXT,
            project TEXT,
            agent TEXT,
            source TEXT NOT NULL DEFAULT 'manual',
            handled_at TEXT                   -- set by whatever learned from it (the teacher loop)
        );
        CREATE INDEX reported_failures_ts ON reported_failures(ts);
        CREATE TABLE analysis_runs (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            ran_at TEXT NOT NULL,
            days INTEGER,
            events INTEGER NOT NULL,
            success_rate REAL
        );
        CREATE TABLE command_families (       -- a cache: shell command text -> `git commit`, `pytest`…
            key TEXT PRIMARY KEY,             -- <parser version>:<hash of the command text>
            family TEXT NOT NULL
        )
        """
    )


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [m001_initial, m002_operations_and_reports]


def migrate(conn: sqlite3.Connection) -> int:
    """Apply every migration not yet recorded; return the schema version."""
    conn.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    done = {r[0] for r in conn.execute("SELECT name FROM migrations")}
    for fn in MIGRATIONS:
        if fn.__name__ in done:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            # another process may have applied it while we waited for the lock
            if conn.execute("SELECT 1 FROM migrations WHERE name = ?", (fn.__name__,)).fetchone():
                conn.execute("COMMIT")
                continue
            fn(conn)
            conn.execute("INSERT INTO migrations(name, applied_at) VALUES(?, ?)",
                         (fn.__name__, datetime.now(timezone.utc).isoformat(timespec="seconds")))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return len(MIGRATIONS)

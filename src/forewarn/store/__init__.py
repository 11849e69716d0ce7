"""The SQLite store: all SQL lives here.

Invariants:
- One database file, WAL mode, `busy_timeout` so concurrent `forewarn scan` runs wait for each
  other instead of failing; every scan of one file is one transaction, so a crash or a second
  process never leaves a file half-recorded: its scan state and its rows move together.
- The schema is versioned by named migrations (`forewarn.store.migrations`), each applied in its
  own transaction and recorded in `migrations`.
- Nothing is deleted except when a file is re-read from the start (it shrank or was replaced):
  then that file's rows are replaced in the same transaction as its new scan state.
- Stored text is already clipped (head + tail) and redacted by the analyzers; a successful call
  keeps a shorter head and tail (a test summary sits at the end of its output).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from forewarn.analyze.findings import Failure
from forewarn.errors import ForewarnError
from forewarn.model import Chunk, ToolCall, Turn, clip
from forewarn.store.migrations import migrate

_CALL_COLS = (
    "file, call_id, session_id, seq, ts, tool, family, thread, cwd, input, status, is_error, exit_code, "
    "output, output_bytes, result_seq, interrupted, timed_out, user_note, failed, kind"
)


_INSERT_CALL = f"INSERT OR REPLACE INTO calls({_CALL_COLS}) VALUES({','.join('?' * 21)})"


def call_rows(path: str, session_id: str | None, calls: Sequence[ToolCall],
              verdicts: Sequence[tuple[bool, str]]) -> list[tuple[Any, ...]]:
    """The `calls` rows of one file's calls: a successful call keeps a shorter output.

    Flags go in as ints: sqlite3 stores a bool as the same integer, but only after looking for an
    adapter, a lookup that raises and catches an AttributeError per value."""
    dumps = orjson.dumps
    return [
        (path, c.call_id, session_id, c.seq, c.timestamp, c.tool, c.family, c.thread, c.cwd,
         dumps(c.input).decode(), c.status, None if c.is_error is None else int(c.is_error), c.exit_code,
         c.output if failed else clip(c.output, 400, 300), c.output_bytes,
         c.result_seq, int(c.interrupted), int(c.timed_out), c.user_note, int(failed), kind)
        for c, (failed, kind) in zip(calls, verdicts, strict=True)
    ]


class FileState(NamedTuple):
    size: int
    mtime_ns: int
    offset: int
    head: str | None


class Store:
    def __init__(self, conn: sqlite3.Connection, path: Path | None) -> None:
        self.conn = conn
        self.path = path

    # -- opening -------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path | str) -> Store:
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ForewarnError(f"cannot create the data directory {path.parent}: {exc.strerror}") from None
        if path.exists() and path.is_dir():
            raise ForewarnError(f"database path {path} is a directory")
        try:
            conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA busy_timeout = 30000")
            # Only a new database takes it: with 16 KiB pages a scan's inserts cost ~17% less than
            # with the default 4 KiB (fewer, larger WAL frames: fewer system calls for the same rows).
            conn.execute("PRAGMA page_size = 16384")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()
            if mode is None:
                raise sqlite3.DatabaseError("no journal mode")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            migrate(conn)
        except sqlite3.DatabaseError as exc:
            raise ForewarnError(f"cannot use database {path}: {exc}") from None
        return cls(conn, path)

    @classmethod
    def memory(cls) -> Store:
        conn = sqlite3.connect(":memory:", isolation_level=None)
        migrate(conn)
        return cls(conn, None)

    def close(self) -> None:
        self.conn.close()

    # -- transactions --------------------------------------------------------------------------
    def begin(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        if self.conn.in_transaction:
            self.conn.execute("ROLLBACK")

    def manual_checkpoints(self) -> None:
        """Stop copying the WAL into the database inside commits: the caller calls `checkpoint`
        when it suits it (a scan worker, once it has handed the write lock on)."""
        self.conn.execute("PRAGMA wal_autocheckpoint = 0")

    def checkpoint(self) -> None:
        """Copy the committed WAL pages into the database, waiting for no one (PASSIVE)."""
        self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    # -- scan state ----------------------------------------------------------------------------
    def file_states(self) -> dict[str, FileState]:
        """The scan state of every file scanned before."""
        rows = self.conn.execute("SELECT path, size, mtime_ns, offset, head FROM files")
        return {r[0]: FileState(r[1], r[2], r[3], r[4]) for r in rows}

    def file_state(self, path: str) -> FileState | None:
        r = self.conn.execute("SELECT size, mtime_ns, offset, head FROM files WHERE path = ?", (path,)).fetchone()
        return FileState(*r) if r else None

    def file_context(self, path: str) -> dict[str, Any]:
        row = self.conn.execute(
            "SELECT f.session_id, s.cwd, s.project FROM files f LEFT JOIN sessions s ON s.file = f.path "
            "WHERE f.path = ?", (path,)).fetchone()
        if row is None:
            return {}
        return {"session_id": row[0], "cwd": row[1], "project": row[2]}

    def forget_file(self, path: str) -> None:
        """Drop everything recorded for a file (it is about to be re-read from the start)."""
        for table in ("failures", "calls", "turns", "sessions"):
            self.conn.execute(f"DELETE FROM {table} WHERE file = ?", (path,))
        self.conn.execute("DELETE FROM files WHERE path = ?", (path,))

    def record_file(self, path: str, agent: str, size: int, mtime_ns: int, head: str, chunk: Chunk,
                    scanned_at: str) -> None:
        s = chunk.session
        self.conn.execute(
            "INSERT INTO files(path, agent, size, mtime_ns, offset, head, session_id, lines, bad_lines, unknown_records, scanned_at)"
            " VALUES(?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(path) DO UPDATE SET agent=excluded.agent, size=excluded.size,"
            " mtime_ns=excluded.mtime_ns, offset=excluded.offset, head=excluded.head, session_id=excluded.session_id,"
            " lines=files.lines+excluded.lines, bad_lines=files.bad_lines+excluded.bad_lines,"
            " unknown_records=files.unknown_records+excluded.unknown_records, scanned_at=excluded.scanned_at",
            (path, agent, size, mtime_ns, chunk.end_offset, head, s.session_id, chunk.lines, chunk.bad_lines,
             chunk.unknown_records, scanned_at),
        )
        self.conn.execute(
            "INSERT INTO sessions(file, session_id, agent, cwd, project, version, model, git_branch, started_at, ended_at, parent_session_id)"
            " VALUES(?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(file) DO UPDATE SET"
            " session_id=COALESCE(sessions.session_id, excluded.session_id), cwd=COALESCE(sessions.cwd, excluded.cwd),"
            " project=COALESCE(sessions.project, excluded.project), version=COALESCE(excluded.version, sessions.version),"
            " model=COALESCE(sessions.model, excluded.model), git_branch=COALESCE(sessions.git_branch, excluded.git_branch),"
            " started_at=COALESCE(sessions.started_at, excluded.started_at), ended_at=COALESCE(excluded.ended_at, sessions.ended_at),"
            " parent_session_id=COALESCE(sessions.parent_session_id, excluded.parent_session_id)",
            (path, s.session_id, s.agent, s.cwd, s.project, s.version, s.model, s.git_branch, s.started_at,
             s.ended_at, s.parent_session_id),
        )

    def bump_file(self, path: str, size: int, mtime_ns: int) -> None:
        """The file was touched but has nothing new: remember its size and mtime."""
        self.conn.execute("UPDATE files SET size=?, mtime_ns=? WHERE path=?", (size, mtime_ns, path))

    # -- calls and turns -----------------------------------------------------------------------
    def add_calls(self, path: str, session_id: str | None, calls: Sequence[ToolCall],
                  verdicts: Sequence[tuple[bool, str]]) -> None:
        self.add_call_rows(call_rows(path, session_id, calls, verdicts))

    def add_call_rows(self, rows: list[tuple[Any, ...]]) -> None:
        """Rows made by `call_rows` (ahead of the transaction, to hold the write lock less long)."""
        self.conn.executemany(_INSERT_CALL, rows)

    def apply_late_result(self, path: str, call_id: str, values: dict[str, Any]) -> bool:
        cols = ", ".join(f"{k} = ?" for k in values)
        cur = self.conn.execute(f"UPDATE calls SET {cols} WHERE file = ? AND call_id = ?",
                                (*values.values(), path, call_id))
        return cur.rowcount > 0

    def add_turns(self, path: str, turns: Iterable[Turn]) -> None:
        self.conn.executemany(
            "INSERT OR REPLACE INTO turns(file, seq, kind, text, ts, thread) VALUES(?,?,?,?,?,?)",
            [(path, t.seq, t.kind, t.text, t.timestamp, t.thread) for t in turns])

    def load_calls(self, path: str) -> list[tuple[ToolCall, bool, str]]:
        rows = self.conn.execute(
            f"SELECT {_CALL_COLS} FROM calls WHERE file = ? ORDER BY seq", (path,))
        out = []
        for r in rows:
            call = ToolCall(
                call_id=r[1], tool=r[5], input=orjson.loads(r[9]) if r[9] else {}, seq=r[3], timestamp=r[4],
                thread=r[7], cwd=r[8], status=r[10], is_error=None if r[11] is None else bool(r[11]),
                exit_code=r[12], output=r[13] or "", output_bytes=r[14] or 0, result_seq=r[15],
                interrupted=bool(r[16]), timed_out=bool(r[17]), user_note=r[18],
            )
            out.append((call, bool(r[19]), r[20] or "benign"))
        return out

    def load_turns(self, path: str) -> list[Turn]:
        rows = self.conn.execute("SELECT seq, kind, text, ts, thread FROM turns WHERE file = ? ORDER BY seq", (path,))
        return [Turn(r[0], r[1], r[2] or "", r[3], r[4]) for r in rows]

    # -- failures ------------------------------------------------------------------------------
    def replace_failures(self, path: str, failures: Sequence[Failure]) -> None:
        self.conn.execute("DELETE FROM failures WHERE file = ?", (path,))
        self.conn.executemany(
            "INSERT INTO failures(file, call_id, session_id, project, agent, tool, family, kind, signature, seq, ts,"
            " input_text, error, exit_code, fix_call_id, fix_input_text, fix_reason, user_corrected, user_text,"
            " wasted_bytes, repeats) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [(f.file, f.call_id, f.session_id, f.project, f.agent, f.tool, f.family, f.kind, f.signature, f.seq,
              f.timestamp, f.input_text, f.error, f.exit_code, f.fix_call_id, f.fix_input_text, f.fix_reason,
              int(f.user_corrected), f.user_text, f.wasted_bytes, f.repeats) for f in failures])

    def failures(self, *, project: str | None = None, files: Sequence[str] | None = None,
                 agent: str | None = None) -> Iterator[Failure]:
        sql = ("SELECT file, session_id, project, agent, call_id, tool, family, kind, signature, seq, ts, input_text,"
               " error, exit_code, fix_call_id, fix_input_text, fix_reason, user_corrected, user_text, wasted_bytes,"
               " repeats FROM failures")
        where: list[str] = []
        args: list[Any] = []
        if project is not None:
            where.append("(project = ? OR project LIKE ?)")
            args += [project, project.rstrip("/") + "/%"]
        if agent is not None:
            where.append("agent = ?")
            args.append(agent)
        if files is not None:
            where.append(f"file IN ({','.join('?' * len(files))})")
            args += list(files)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY ts, file, seq"
        for r in self.conn.execute(sql, args):
            yield Failure(file=r[0], session_id=r[1], project=r[2], agent=r[3], call_id=r[4], tool=r[5], family=r[6],
                          kind=r[7], signature=r[8], seq=r[9], timestamp=r[10], input_text=r[11], error=r[12],
                          exit_code=r[13], fix_call_id=r[14], fix_input_text=r[15], fix_reason=r[16],
                          user_corrected=bool(r[17]), user_text=r[18], wasted_bytes=r[19] or 0, repeats=r[20] or 0)

    def files_of_project(self, project: str) -> list[str]:
        """Session files whose project is `project` or lies under it."""
        rows = self.conn.execute("SELECT file FROM sessions WHERE project = ? OR project LIKE ? ORDER BY file",
                                 (project, project.rstrip("/") + "/%"))
        return [r[0] for r in rows]

    def lesson_tags(self, project: str | None = None) -> list[tuple[str, str | None]]:
        """(text, session_id) of every `#lesson` block the agents emitted, optionally for one project."""
        sql = ("SELECT t.text, s.session_id FROM turns t JOIN sessions s ON s.file = t.file"
               " WHERE t.kind = 'lesson_tag'")
        args: list[Any] = []
        if project is not None:
            sql += " AND (s.project = ? OR s.project LIKE ?)"
            args += [project, project.rstrip("/") + "/%"]
        return [(r[0], r[1]) for r in self.conn.execute(sql + " ORDER BY t.ts, t.file, t.seq", args)]

    # -- queries used by reports ---------------------------------------------------------------
    def projects(self) -> list[tuple[str, int, int]]:
        """(project, sessions, failures) for every project seen."""
        rows = self.conn.execute(
            "SELECT s.project, COUNT(DISTINCT s.file), (SELECT COUNT(*) FROM failures f WHERE f.project = s.project)"
            " FROM sessions s WHERE s.project IS NOT NULL GROUP BY s.project ORDER BY 2 DESC")
        return [(r[0], r[1], r[2]) for r in rows]

    def counts(self) -> dict[str, int]:
        c = self.conn
        return {
            "files": c.execute("SELECT COUNT(*) FROM files").fetchone()[0],
            "sessions": c.execute("SELECT COUNT(DISTINCT COALESCE(session_id, file)) FROM sessions").fetchone()[0],
            "calls": c.execute("SELECT COUNT(*) FROM calls").fetchone()[0],
            "failures": c.execute("SELECT COUNT(*) FROM failures").fetchone()[0],
            "fixed": c.execute("SELECT COUNT(*) FROM failures WHERE fix_call_id IS NOT NULL").fetchone()[0],
        }

    def files_in(self, paths: Sequence[str]) -> list[str]:
        """Stored file paths equal to, or under, any of `paths`."""
        out: list[str] = []
        for p in paths:
            p = p.rstrip("/")
            out += [r[0] for r in self.conn.execute(
                "SELECT path FROM files WHERE path = ? OR path LIKE ?", (p, p + "/%"))]
        return sorted(set(out))

    def oldest_unscanned_hint(self) -> dict[str, int]:
        """path -> mtime_ns for every scanned file (doctor compares with files on disk)."""
        return {r[0]: r[1] for r in self.conn.execute("SELECT path, mtime_ns FROM files")}

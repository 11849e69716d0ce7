"""`forewarn scan`: find session files, read what is new, detect failures, pair fixes, store.

Incremental by construction: each file's size, mtime, consumed offset and a fingerprint of its
first bytes are stored. An unchanged file is skipped after one `stat`; a grown file is read from
its offset (its earlier calls are loaded back from the store so a failure in old bytes can be
paired with a fix in new ones); a file that shrank, was rewritten, or cannot be read
incrementally (whole-document JSON) is read again from the start.

Each file is recorded in one transaction, and the stored state is re-checked inside it: when two
scans run at once, the second one to reach a file sees that the first already moved it on and
leaves it alone.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import orjson

from forewarn.analyze.detect import judge
from forewarn.analyze.findings import Failure
from forewarn.analyze.session import analyze_session
from forewarn.errors import ForewarnError
from forewarn.hashes import blake2b
from forewarn.model import Chunk, ToolCall, clip
from forewarn.readers import reader_for, registry
from forewarn.readers.base import Reader, walk_files
from forewarn.store import FileState, Store, call_rows

_HEAD_BYTES = 512
_SESSION_SUFFIXES = (".jsonl", ".json")


@dataclass
class ScanReport:
    files_seen: int = 0
    files_read: int = 0
    files_unchanged: int = 0
    files_restarted: int = 0  # re-read from the start (shrank, rewritten, not incremental)
    files_skipped: int = 0  # not a session file we know, or unreadable
    bytes_read: int = 0
    calls: int = 0
    failures: int = 0
    fixed: int = 0
    bad_lines: int = 0
    unknown_records: int = 0
    seconds: float = 0.0
    errors: list[tuple[str, str]] = field(default_factory=list)

    @property
    def mb_per_s(self) -> float:
        return self.bytes_read / 1e6 / self.seconds if self.seconds > 0 else 0.0


Progress = Callable[[int, int, str], None]


def discover(paths: Sequence[Path] | None = None, agents: Sequence[str] | None = None) -> list[tuple[Path, Reader]]:
    """Session files to scan, each with the reader that understands it.

    With no `paths`, every known agent's default locations. A path may be a session file, an
    agent's config dir (`~/.claude`, `$CODEX_HOME`), or any folder (everything inside that some
    reader recognises)."""
    readers = registry()
    wanted = [readers[a] for a in agents] if agents else list(readers.values())
    found: dict[str, tuple[Path, Reader]] = {}
    if not paths:
        for reader in wanted:
            for root in reader.default_roots():
                if root.exists():
                    for p in reader.discover(root):
                        found.setdefault(str(p), (p, reader))
        return sorted(found.values(), key=lambda t: str(t[0]))
    names = [r.agent for r in wanted]
    for raw in paths:
        path = Path(raw).expanduser()
        if not path.exists():
            raise ForewarnError(f"no such file or directory: {raw}")
        if path.is_file():
            sole = reader_for(path, names)
            if sole is None:
                raise ForewarnError(f"{raw} is not a session log forewarn can read")
            found[str(path.resolve())] = (path.resolve(), sole)
            continue
        for p in walk_files(path.resolve(), _SESSION_SUFFIXES, _SKIP_DIRS):
            key = str(p)
            if key in found:
                continue
            candidate = reader_for(p, names)
            if candidate is not None:
                found[key] = (p, candidate)
    return sorted(found.values(), key=lambda t: str(t[0]))


_SKIP_DIRS = frozenset({".git", "node_modules", "tool-results", "__pycache__"})


def _fingerprint(path: Path, size: int) -> str:
    with open(path, "rb") as f:
        return blake2b(f.read(min(size, _HEAD_BYTES)), digest_size=8).hexdigest()


@dataclass
class _Job:
    path: Path
    reader: Reader
    size: int
    mtime_ns: int
    head: str | None  # the fingerprint; None until a worker takes it (files never seen)
    prev: FileState | None
    start: int
    restart: bool


@dataclass
class _Result:
    chunk: Chunk
    verdicts: list[tuple[bool, str]]
    failures: list[Failure]
    call_rows: list[tuple[Any, ...]]  # made before the transaction, which then only inserts
    head: str  # the file's fingerprint


_BATCH = 16  # files per transaction when recording fresh files…
_BATCH_BYTES = 4 * 1024 * 1024  # …or fewer, so analysed results held in memory stay small
# Batches shrink towards the end of a parallel scan, down to this, so that the workers finish
# together: when one worker is given the last large batch, the other idles until it is done.
_BATCH_MIN_BYTES = 512 * 1024
_BATCH_SHARE = 4  # a batch is at most 1/(workers * this) of what remains
_PARALLEL_MIN_BYTES = 8 * 1024 * 1024  # below this, starting workers costs more than it saves


def scan(store: Store, targets: Sequence[tuple[Path, Reader]], progress: Progress | None = None,
         jobs: int | None = None) -> ScanReport:
    """Bring the store up to date with `targets`. Files never seen (or to be re-read whole) are
    read and analysed in parallel worker processes where the platform forks cheaply; files that
    grew are continued one by one, since they need what the store already holds."""
    report = ScanReport(files_seen=len(targets))
    started = time.perf_counter()
    states = store.file_states()
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    fresh: list[_Job] = []
    grown: list[_Job] = []
    for path, reader in targets:
        key = str(path)
        try:
            st = os.stat(path)
            prev = states.get(key)
            if prev is not None and prev.size == st.st_size and prev.mtime_ns == st.st_mtime_ns:
                report.files_unchanged += 1
                continue
            # a file never seen has its fingerprint taken by the worker that reads it
            head = _fingerprint(path, st.st_size) if prev is not None else None
        except OSError as exc:
            report.files_skipped += 1
            report.errors.append((key, exc.strerror or str(exc)))
            continue
        start, restart = 0, False
        if prev is not None:
            if reader.incremental and prev.head == head and st.st_size >= prev.offset:
                start = prev.offset
            else:
                restart = True
        job = _Job(path, reader, st.st_size, st.st_mtime_ns, head, prev, start, restart)
        (grown if start else fresh).append(job)
    done = report.files_unchanged + report.files_skipped
    total = len(targets)

    def tick(job: _Job) -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress(done, total, str(job.path))

    _record_fresh(store, fresh, now, report, tick, jobs)
    for job in grown:
        try:
            _scan_grown(store, job, now, report)
        except OSError as exc:
            store.rollback()
            report.files_skipped += 1
            report.errors.append((str(job.path), exc.strerror or str(exc)))
        tick(job)
    report.seconds = time.perf_counter() - started
    return report


def _analyze_fresh(job: _Job) -> _Result:
    """Read a whole file and analyse it: everything but the store. Runs in a worker process."""
    head = job.head if job.head is not None else _fingerprint(job.path, job.size)
    chunk = job.reader.read(job.path, 0, None)
    verdicts = [tuple(judge(c)) for c in chunk.calls]
    calls, failed, kinds, turns = _in_memory(chunk, verdicts)  # type: ignore[arg-type]
    failures = analyze_session(file=str(job.path), agent=job.reader.agent, session_id=chunk.session.session_id,
                               project=chunk.session.project, calls=calls, failed=failed, kinds=kinds, turns=turns)
    rows = call_rows(str(job.path), chunk.session.session_id, chunk.calls, verdicts)  # type: ignore[arg-type]
    return _Result(chunk, verdicts, failures, rows, head)  # type: ignore[arg-type]


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _can_fork() -> bool:
    import sys

    return sys.platform.startswith("linux")  # fork is unsafe on macOS and absent on Windows


def _batches(jobs_list: list[_Job], workers: int = 1) -> list[list[_Job]]:
    """Files grouped for one transaction each: a few files, or a few MB, whichever comes first.

    With several workers, batches get smaller as the work left shrinks (guided scheduling): the
    last ones are small, so no worker is still busy with a large one while the others are done."""
    out: list[list[_Job]] = []
    batch: list[_Job] = []
    size = 0
    remaining = sum(j.size for j in jobs_list)
    limit = _batch_limit(remaining, workers)
    for job in jobs_list:
        batch.append(job)
        size += job.size
        if len(batch) >= _BATCH or size >= limit:
            out.append(batch)
            remaining -= size
            limit = _batch_limit(remaining, workers)
            batch, size = [], 0
    if batch:
        out.append(batch)
    return out


def _batch_limit(remaining: int, workers: int) -> int:
    if workers <= 1:
        return _BATCH_BYTES
    return max(_BATCH_MIN_BYTES, min(_BATCH_BYTES, remaining // (workers * _BATCH_SHARE)))


def _record_fresh(store: Store, jobs_list: list[_Job], now: str, report: ScanReport,
                  tick: Callable[[_Job], None], jobs: int | None) -> None:
    """Analyse and record new (or restarted) files, in batches of one transaction each.

    With several cores, worker processes each analyse a batch and write it through their own
    connection: only counts come back, so nothing large crosses a process boundary and the main
    process is never the bottleneck. A worker writes what it has analysed when the write lock is
    free, and otherwise goes on with its next batch (see `_worker_batch`)."""
    workers = jobs if jobs is not None else _cpu_count()
    total = sum(j.size for j in jobs_list)
    parallel = (workers > 1 and len(jobs_list) > 1 and total >= _PARALLEL_MIN_BYTES and _can_fork()
                and store.path is not None)
    if parallel:  # largest first, so that what is left at the end is small files
        jobs_list = sorted(jobs_list, key=lambda j: j.size, reverse=True)
    batches = _batches(jobs_list, workers if parallel else 1)
    parallel = parallel and len(batches) > 1
    if parallel:
        from forewarn import forkpool

        global _WORKER_DB, _WORKER_NOW, _WRITE_LOCK
        _WORKER_DB, _WORKER_NOW, _WRITE_LOCK = str(store.path), now, forkpool.Mutex()
        # What the workers inherit is frozen for the run, so that their garbage collector never
        # walks it: that work would find nothing, and writing to the objects' headers would copy
        # the parent's memory pages into each worker (the recipe of the `gc.freeze` docs). And
        # the young generation is collected less often: most of what a worker allocates is freed
        # by reference counting anyway, and the default threshold (700) runs the collector ~30
        # times per worker for almost nothing. Cyclic garbage stays bounded all the same.
        gc.freeze()
        threshold = gc.get_threshold()
        gc.set_threshold(10_000, *threshold[1:])
        try:
            tasks = forkpool.run(lambda i: _encode(_worker_batch(batches[i])), len(batches),
                                 min(workers, len(batches)), finish=lambda: _encode(_worker_finish()))
            for index, delta in tasks:
                _merge(report, _decode(delta))
                if index != forkpool.FINISH:
                    for job in batches[index]:
                        tick(job)
        finally:
            gc.set_threshold(*threshold)
            gc.unfreeze()
            _WRITE_LOCK.close()
        return
    for batch in batches:
        _merge(report, _process_batch(store, batch, now))
        for job in batch:
            tick(job)


_WORKER_DB: str | None = None  # set before forking: the database workers open for themselves
_WORKER_NOW = ""  # set before forking: the scan's time, recorded with each file
# Also set before forking: taken by a worker around its transaction. SQLite alone would make the
# other worker poll for the write lock, sleeping 1, 2, 5, 10… ms between tries; this lock hands
# over the moment the transaction ends. (Other processes are still kept out by SQLite's lock.)
_WRITE_LOCK: Any = None
_LOCK_PATIENCE = 60.0  # seconds; past that, go ahead and leave the waiting to SQLite
# A worker that finds the lock taken keeps its analysed files and goes on with the next batch,
# writing them all with a later one (or when there are no more batches): it never sits idle while
# the other writes. Up to this much (of session files read) is kept; past it, the worker waits.
_PENDING_MAX_BYTES = 8 * 1024 * 1024
# A worker copies the WAL into the database itself every few commits (not inside a commit, SQLite's
# default), before it hands the lock on: the next writer then finds the WAL copied and starts it
# over, so the WAL stays a few MB instead of growing to the size of everything written (which cost
# more writes and reads, and ~12 ms at the end to delete a 20 MB file).
_CHECKPOINT_EVERY = 3
_worker_store: Store | None = None
_worker_commits = 0
_worker_pending: list[tuple[_Job, _Result]] = []  # analysed, not yet written


def _worker_batch(batch: list[_Job]) -> ScanReport:
    """A worker's task: analyse a batch, then write what it has analysed if the lock is free."""
    delta = ScanReport()
    _worker_pending.extend(_analyze_batch(batch, delta))
    waiting = sum(job.size for job, _ in _worker_pending)
    _write_pending(delta, wait=waiting >= _PENDING_MAX_BYTES)
    return delta


def _worker_finish() -> ScanReport:
    """A worker's last step, once there are no more batches: write what is still pending, and
    copy the WAL into the database while the other worker may still be busy (rather than leave
    it all to the main process closing the store, when nothing else runs)."""
    delta = ScanReport()
    _write_pending(delta, wait=True)
    if _worker_store is not None:
        _worker_store.checkpoint()
    return delta


def _write_pending(delta: ScanReport, *, wait: bool) -> None:
    global _worker_store, _worker_commits
    if not _worker_pending:
        return
    locked = _WRITE_LOCK.acquire(timeout=_LOCK_PATIENCE if wait else 0)
    if not locked and not wait:
        return  # the other worker is writing: these files go with a later write
    try:
        if _worker_store is None:
            assert _WORKER_DB is not None
            _worker_store = Store.open(Path(_WORKER_DB))
            _worker_store.manual_checkpoints()
        _record_batch(_worker_store, _worker_pending, _WORKER_NOW, delta)
        _worker_commits += 1
        if _worker_commits % _CHECKPOINT_EVERY == 0:
            _worker_store.checkpoint()
    finally:
        if locked:
            _WRITE_LOCK.release()
    _worker_pending.clear()


def _encode(report: ScanReport) -> bytes:
    return orjson.dumps(report)


def _decode(data: bytes) -> ScanReport:
    fields = orjson.loads(data)
    fields["errors"] = [tuple(e) for e in fields["errors"]]
    return ScanReport(**fields)


def _process_batch(store: Store, batch: list[_Job], now: str) -> ScanReport:
    """Analyse each file of the batch, then record them all in one transaction."""
    delta = ScanReport()
    _record_batch(store, _analyze_batch(batch, delta), now, delta)
    return delta


def _analyze_batch(batch: list[_Job], delta: ScanReport) -> list[tuple[_Job, _Result]]:
    """Each readable file of the batch with its analysis; unreadable ones are counted in `delta`."""
    done: list[tuple[_Job, _Result]] = []
    for job in batch:
        try:
            done.append((job, _analyze_fresh(job)))
        except OSError as exc:
            delta.files_skipped += 1
            delta.errors.append((str(job.path), exc.strerror or str(exc)))
    return done


def _record_batch(store: Store, done: list[tuple[_Job, _Result]], now: str, delta: ScanReport) -> None:
    store.begin()
    try:
        for job, result in done:
            key = str(job.path)
            if store.file_state(key) != job.prev:
                continue  # another scan recorded this file meanwhile
            if job.restart or job.prev is not None:
                store.forget_file(key)
                delta.files_restarted += 1
            chunk = result.chunk
            store.record_file(key, job.reader.agent, job.size, job.mtime_ns, result.head, chunk, now)
            store.add_call_rows(result.call_rows)
            store.add_turns(key, chunk.turns)
            store.replace_failures(key, result.failures)
            _count(delta, chunk, 0, result.verdicts, result.failures)
        store.commit()
    except BaseException:
        store.rollback()
        raise


def _merge(report: ScanReport, delta: ScanReport) -> None:
    for name in ("files_read", "files_restarted", "files_skipped", "bytes_read", "calls", "failures", "fixed",
                 "bad_lines", "unknown_records"):
        setattr(report, name, getattr(report, name) + getattr(delta, name))
    report.errors += delta.errors


def _count(report: ScanReport, chunk: Chunk, start: int, verdicts: Sequence[tuple[bool, str]],
           failures: Sequence[Failure]) -> None:
    report.files_read += 1
    report.bytes_read += chunk.end_offset - start
    report.calls += len(chunk.calls)
    report.failures += sum(1 for v in verdicts if v[0])
    report.fixed += sum(1 for f in failures if f.fix_call_id and f.seq >= start)
    report.bad_lines += chunk.bad_lines
    report.unknown_records += chunk.unknown_records


def _scan_grown(store: Store, job: _Job, now: str, report: ScanReport) -> None:
    """Continue a file that grew: read the new bytes, then re-pair the whole session from the store."""
    key = str(job.path)
    start = job.start
    assert job.head is not None  # a file seen before had its fingerprint taken by `scan`
    context = store.file_context(key)
    chunk = job.reader.read(job.path, start, context)
    verdicts = [tuple(judge(c)) for c in chunk.calls]
    store.begin()
    try:
        if store.file_state(key) != job.prev:
            store.rollback()  # another scan got here first and recorded this file
            return
        if not chunk.calls and not chunk.late_results and not chunk.turns and chunk.end_offset == start:
            store.bump_file(key, job.size, job.mtime_ns)
            store.commit()
            report.files_unchanged += 1
            return
        store.record_file(key, job.reader.agent, job.size, job.mtime_ns, job.head, chunk, now)
        session_id = chunk.session.session_id or context.get("session_id")
        store.add_calls(key, session_id, chunk.calls, verdicts)  # type: ignore[arg-type]
        store.add_turns(key, chunk.turns)
        _apply_late_results(store, key, chunk)
        loaded = store.load_calls(key)
        calls = [c for c, _, _ in loaded]
        failed = [f for _, f, _ in loaded]
        kinds = [k for _, _, k in loaded]
        project = chunk.session.project or context.get("project")
        failures = analyze_session(file=key, agent=job.reader.agent, session_id=session_id, project=project,
                                   calls=calls, failed=failed, kinds=kinds, turns=store.load_turns(key))
        store.replace_failures(key, failures)
        store.commit()
    except BaseException:
        store.rollback()
        raise
    _count(report, chunk, start, verdicts, failures)  # type: ignore[arg-type]


def _in_memory(chunk: Chunk, verdicts: Sequence[tuple[bool, str]]) -> tuple[list[ToolCall], list[bool], list[str], list]:
    order = sorted(range(len(chunk.calls)), key=lambda i: chunk.calls[i].seq)
    calls = [chunk.calls[i] for i in order]
    failed = [verdicts[i][0] for i in order]
    kinds = [verdicts[i][1] for i in order]
    return calls, failed, kinds, sorted(chunk.turns, key=lambda t: t.seq)


def _apply_late_results(store: Store, key: str, chunk: Chunk) -> None:
    """Results that arrived in this read for calls recorded in an earlier one."""
    if not chunk.late_results:
        return
    stored = {c.call_id: c for c, _, _ in store.load_calls(key)}
    for res in chunk.late_results:
        call = stored.get(res.call_id)
        if call is None:
            continue
        call.status, call.is_error, call.exit_code = res.status, res.is_error, res.exit_code
        call.output, call.output_bytes, call.result_seq = res.output, res.output_bytes, res.seq
        call.interrupted, call.timed_out, call.user_note = res.interrupted, res.timed_out, res.user_note
        verdict = judge(call)
        store.apply_late_result(key, res.call_id, {
            "status": res.status, "is_error": res.is_error, "exit_code": res.exit_code,
            "output": res.output if verdict.failed else clip(res.output, 400, 300), "output_bytes": res.output_bytes,
            "result_seq": res.seq, "interrupted": res.interrupted, "timed_out": res.timed_out,
            "user_note": res.user_note, "failed": verdict.failed, "kind": verdict.kind,
        })

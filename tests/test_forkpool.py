"""The scan's forked worker pool: every task once, errors and dead workers reported, never a hang."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from pathlib import Path

import pytest

from forewarn import forkpool

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux only")


def _no_children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_every_task_runs_once_and_answers_arrive_as_they_finish() -> None:
    def task(i: int) -> bytes:
        time.sleep(0.05 if i == 0 else 0.001)  # the first task is slow: the other worker takes the rest
        return f"{i}:{os.getpid()}".encode()

    got = list(forkpool.run(task, 12, 2))
    assert sorted(i for i, _ in got) == list(range(12))
    assert all(payload.decode().split(":")[0] == str(i) for i, payload in got)
    assert got[-1][0] == 0  # the slow one came last, nothing waited for it
    assert len({payload.decode().split(":")[1] for _, payload in got}) == 2
    assert os.getpid() not in {int(p.decode().split(":")[1]) for _, p in got}
    assert _no_children_left()


def test_large_answers_arrive_whole() -> None:
    big = bytes(range(256)) * 4096  # 1 MB, far more than a pipe holds
    assert [p for _, p in forkpool.run(lambda i: big, 3, 3)] == [big] * 3


def test_a_failing_task_ends_the_run_with_its_traceback() -> None:
    def task(i: int) -> bytes:
        if i == 3:
            raise ValueError("bad batch")
        return b"ok"

    with pytest.raises(forkpool.WorkerError, match="ValueError: bad batch"):
        list(forkpool.run(task, 8, 2))
    assert _no_children_left()


def test_a_worker_that_dies_is_reported_not_waited_for() -> None:
    def task(i: int) -> bytes:
        if i == 1:
            os.kill(os.getpid(), signal.SIGKILL)  # as the kernel's OOM killer would
        return b"ok"

    with pytest.raises(forkpool.WorkerError, match="killed by signal 9"):
        list(forkpool.run(task, 4, 2))
    assert _no_children_left()


def test_each_worker_finishes_once_after_the_last_task_with_what_it_kept() -> None:
    kept: list[int] = []  # each child's own copy

    def task(i: int) -> bytes:
        kept.append(i)
        return b"t"

    def finish() -> bytes:
        return json.dumps([os.getpid(), sorted(kept)]).encode()

    got = list(forkpool.run(task, 10, 2, finish=finish))
    tasks = [i for i, _ in got if i != forkpool.FINISH]
    finals = [json.loads(p) for i, p in got if i == forkpool.FINISH]
    assert sorted(tasks) == list(range(10)) and [i for i, _ in got[-2:]] == [forkpool.FINISH] * 2
    assert len(finals) == 2 and len({pid for pid, _ in finals}) == 2  # once per worker
    assert sorted(i for _, kept in finals for i in kept) == list(range(10))
    assert _no_children_left()


def test_a_failing_finish_ends_the_run_with_its_traceback() -> None:
    def finish() -> bytes:
        raise OSError("disk full")

    with pytest.raises(forkpool.WorkerError, match="OSError: disk full"):
        list(forkpool.run(lambda i: b"", 3, 2, finish=finish))
    assert _no_children_left()


def test_stopping_early_kills_and_reaps_the_workers() -> None:
    runs = forkpool.run(lambda i: (time.sleep(0.01), b"x")[1], 50, 2)
    next(runs)
    runs.close()
    assert _no_children_left()


def test_the_mutex_keeps_read_modify_write_whole_across_processes(tmp_path: Path) -> None:
    counter = tmp_path / "n"
    counter.write_text("0")
    lock = forkpool.Mutex()

    def task(i: int) -> bytes:
        for _ in range(25):
            assert lock.acquire(timeout=10)
            n = int(counter.read_text())
            time.sleep(0.0005)  # widen the window a lost update would need
            counter.write_text(str(n + 1))
            lock.release()
        return b""

    list(forkpool.run(task, 4, 4))
    assert counter.read_text() == "100"
    assert lock.acquire(timeout=1)
    assert not lock.acquire(timeout=0.05)  # held: a second taker times out
    lock.release()
    lock.close()

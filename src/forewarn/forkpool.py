"""Forked worker processes for the scan: a pool with nothing to import.

`multiprocessing.Pool` costs ~15-20 ms of imports (pickle, sockets, tempfile, subprocess…) and a
few ms of threads before the first task: a noticeable part of a scan that takes half a second.
And a worker the system kills (out of memory, say) leaves `Pool.imap` waiting forever. This pool
does what the scan needs and no more:

- Linux only (fork): children inherit everything the parent imported and set up.
- Tasks are numbers. The parent hands each child one task at a time on the child's own pipe and
  the next one when its answer arrives, so a child that drew a large task does not hold up work.
- A child answers on its own pipe: the task number and `b"R" + result`, or `b"E" + traceback`.
- A child whose pipe closes without an answer died: that is an error, never a hang.
- With `finish`, each child runs it once there are no more tasks and answers with its result
  (task number `FINISH`): a child may put work off (a write it could not make at once) and do it
  at the end.
- On an error or an interrupt in the parent, the children are killed; they are always reaped.
- `Mutex` is a one-token pipe shared by parent and children: `acquire` takes the token,
  `release` puts it back, and a waiting process is woken the moment it is put back.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
from collections.abc import Callable, Iterator

_HEADER = 12  # task number (4 bytes) + payload length (8 bytes), little-endian
FINISH = 0xFFFFFFFF  # the task number of a child's answer from `finish`


class WorkerError(RuntimeError):
    """A task raised in a child (the message carries its traceback), or a child died."""


class Mutex:
    """A lock for forked processes: create it before forking."""

    def __init__(self) -> None:
        self._r, self._w = os.pipe()
        os.set_blocking(self._r, False)  # every process waits in `select`, never in `read`
        os.write(self._w, b".")

    def acquire(self, timeout: float | None = None) -> bool:
        while True:
            ready, _, _ = select.select([self._r], [], [], timeout)
            if not ready:
                return False
            try:
                os.read(self._r, 1)
                return True
            except BlockingIOError:
                continue  # another process took the token first: wait again

    def release(self) -> None:
        os.write(self._w, b".")

    def close(self) -> None:
        os.close(self._r)
        os.close(self._w)


def run(task: Callable[[int], bytes], count: int, workers: int,
        finish: Callable[[], bytes] | None = None) -> Iterator[tuple[int, bytes]]:
    """Run `task(i)` for i in range(count) in `workers` forked children; yield (i, result) as
    each finishes, in the order they finish, then (FINISH, result of `finish()`) once for each
    child when `finish` is given. A task that raises ends the run with `WorkerError`."""
    children: dict[int, tuple[int, int]] = {}  # result fd -> (pid, task fd)
    next_task = 0
    try:
        for _ in range(min(workers, count)):
            task_r, task_w = os.pipe()
            out_r, out_w = os.pipe()
            pid = os.fork()
            if pid == 0:  # the child never returns from here
                os.close(task_w)
                os.close(out_r)
                for fd, (_, other) in children.items():
                    os.close(fd)
                    os.close(other)
                _child(task, finish, task_r, out_w)
            os.close(task_r)
            os.close(out_w)
            children[out_r] = (pid, task_w)
            _send(task_w, next_task)
            next_task += 1
        done = 0
        while done < count:
            ready, _, _ = select.select(list(children), [], [])
            for fd in ready:
                index, payload = _answer(fd, children[fd][0])
                done += 1
                if next_task < count:
                    _send(children[fd][1], next_task)
                    next_task += 1
                yield index, payload
        if finish is not None:
            for fd, (pid, task_w) in children.items():
                os.close(task_w)  # no more tasks: the child finishes and answers once more
                children[fd] = (pid, -1)
            for fd, (pid, _) in children.items():
                yield _answer(fd, pid)
    except BaseException:
        for pid, _ in children.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        raise
    finally:
        for fd, (pid, task_w) in children.items():
            if task_w >= 0:
                os.close(task_w)  # an idle child reads the end of its pipe and exits
            os.close(fd)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)


def _answer(fd: int, pid: int) -> tuple[int, bytes]:
    """A child's next answer: (task number, result); a failed task or a dead child raises."""
    header = _read_exactly(fd, _HEADER)
    if len(header) < _HEADER:
        raise WorkerError(f"a scan worker (pid {pid}) died: {_exit_reason(pid)}")
    payload = _read_exactly(fd, int.from_bytes(header[4:], "little"))
    if payload[:1] != b"R":
        raise WorkerError(payload[1:].decode("utf-8", "replace"))
    return int.from_bytes(header[:4], "little"), payload[1:]


def _child(task: Callable[[int], bytes], finish: Callable[[], bytes] | None, task_r: int, out_w: int) -> None:
    code = 0
    try:
        while len(data := _read_exactly(task_r, 4)) == 4:
            index = int.from_bytes(data, "little")
            _write_all(out_w, _result(index, task, index))
        if finish is not None:
            _write_all(out_w, _result(FINISH, finish))
    except KeyboardInterrupt:
        code = 130  # the parent saw the interrupt too and is cleaning up
    except BaseException:
        code = 1
    finally:
        os._exit(code)  # no cleanup of what the parent owns (its open files, its database)


def _result(index: int, fn: Callable[..., bytes], *args: int) -> bytes:
    """The framed answer to task `index`: `fn(*args)`, or the traceback of what it raised."""
    try:
        payload = b"R" + fn(*args)
    except Exception:
        import traceback

        payload = b"E" + traceback.format_exc().encode()
    return index.to_bytes(4, "little") + len(payload).to_bytes(8, "little") + payload


def _send(fd: int, index: int) -> None:
    _write_all(fd, index.to_bytes(4, "little"))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_exactly(fd: int, n: int) -> bytes:
    """`n` bytes, or fewer if the pipe closed first."""
    parts = []
    while n > 0:
        chunk = os.read(fd, n)
        if not chunk:
            break
        parts.append(chunk)
        n -= len(chunk)
    return b"".join(parts)


def _exit_reason(pid: int) -> str:
    try:
        _, status = os.waitpid(pid, 0)
    except ChildProcessError:
        return "already reaped"
    if os.WIFSIGNALED(status):
        return f"killed by signal {os.WTERMSIG(status)}"
    return f"exit status {os.WEXITSTATUS(status)}"

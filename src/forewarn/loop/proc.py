"""Running a child process with a deadline and capturing its output, for agents, tests and teachers.

Invariants: the child gets no terminal input (stdin is /dev/null, so an agent CLI that reads
stdin when it is not a TTY cannot hang waiting for it); it runs in its own process group, and on
timeout the whole group is killed (test runners and agents spawn children that would otherwise
outlive us); output is decoded leniently and kept whole here (callers clip).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProcResult:
    argv: tuple[str, ...]
    exit_code: int | None  # None when it timed out
    stdout: str
    stderr: str
    timed_out: bool
    seconds: float

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    def output(self) -> str:
        """stdout and stderr together (stderr last: that is where tracebacks end up)."""
        parts = [p for p in (self.stdout.rstrip(), self.stderr.rstrip()) if p]
        return "\n".join(parts)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, OSError):
        proc.kill()


def run_process(argv: Sequence[str] | str, *, cwd: Path | str, timeout: float,
                env: Mapping[str, str] | None = None, shell: bool = False) -> ProcResult:
    """Run `argv` (a shell string when `shell`) in `cwd`; never raises for the child's failure.
    FileNotFoundError propagates when the program does not exist."""
    started = time.monotonic()
    proc = subprocess.Popen(
        argv, cwd=str(cwd), env=None if env is None else dict(env), shell=shell,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True)
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_group(proc)
        out, err = proc.communicate()
    except BaseException:
        _kill_group(proc)
        proc.wait()
        raise
    shown = (argv,) if isinstance(argv, str) else tuple(argv)
    return ProcResult(
        argv=shown,
        exit_code=None if timed_out else proc.returncode,
        stdout=out.decode("utf-8", "replace"),
        stderr=err.decode("utf-8", "replace"),
        timed_out=timed_out,
        seconds=round(time.monotonic() - started, 3),
    )

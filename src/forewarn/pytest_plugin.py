"""pytest plugin: record failing tests as failures forewarn can learn from (seed 002's "pytest" source).

Registered through the `pytest11` entry point, so it is loaded in every pytest run of every
project where forewarn is installed; it therefore does NOTHING unless asked: `--forewarn-record`
or `FOREWARN_RECORD=1` (`-p forewarn.pytest_plugin` loads it where the entry point is not
installed). When on, each failing test (a failed call, or an error in setup/teardown) is kept
with its traceback, clipped and redacted, and at the end of the session all of them are written
in one transaction to the store's reported failures: type `test_failure`, source `pytest`, one
shared timestamp per session (so `forewarn teach` can learn one rule per failing run), the
project being pytest's rootdir. `forewarn stats`/`report` count them; `forewarn teach` teaches
them.

Invariants: importing this module costs only the standard library (it is imported on every
pytest start); nothing is recorded for passing, skipped or xfailed tests; recording problems
(locked or unwritable database) are reported as one warning line and never fail the test run;
`--forewarn-db` / `FOREWARN_DB` choose the database like the CLI's `--db`.
"""

from __future__ import annotations

import os
from typing import Any

ENV_RECORD = "FOREWARN_RECORD"
TRACE_HEAD, TRACE_TAIL = 1_500, 2_500  # characters of a traceback kept
MAX_RECORDED = 200  # failures per session: a broken import failing every test says it once enough


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("forewarn", "forewarn: learn from failing tests")
    group.addoption("--forewarn-record", action="store_true", default=None,
                    help=f"record failing tests in forewarn's database (or set {ENV_RECORD}=1)")
    group.addoption("--forewarn-db", default=None, metavar="PATH",
                    help="forewarn database to record into (default: $FOREWARN_DB, else forewarn's own)")


def _enabled(config: Any) -> bool:
    if config.getoption("forewarn_record"):
        return True
    return os.environ.get(ENV_RECORD, "").strip().lower() in ("1", "true", "yes", "on")


def pytest_configure(config: Any) -> None:
    if _enabled(config) and not hasattr(config, "workerinput"):  # xdist workers report to the controller
        config.pluginmanager.register(FailureRecorder(config), "forewarn-recorder")


class FailureRecorder:
    def __init__(self, config: Any) -> None:
        self.config = config
        self.failures: list[tuple[str, str]] = []  # (description, traceback)
        self.dropped = 0
        self.message: str | None = None

    def pytest_runtest_logreport(self, report: Any) -> None:
        if not report.failed or getattr(report, "wasxfail", None) is not None:
            return
        if len(self.failures) >= MAX_RECORDED:
            self.dropped += 1
            return
        crash = getattr(getattr(report, "longrepr", None), "reprcrash", None)
        head = getattr(crash, "message", "") or ""
        phase = "failed" if report.when == "call" else f"error in {report.when}"
        first = head.strip().splitlines()[0] if head.strip() else ""
        description = f"{report.nodeid} {phase}" + (f": {first}" if first else "")
        self.failures.append((description[:500], report.longreprtext or head))

    def pytest_sessionfinish(self, session: Any) -> None:
        if not self.failures:
            return
        try:
            self.message = self._write(str(session.config.rootpath))
        except Exception as err:  # never fail a test run because the record could not be kept
            self.message = f"forewarn: failing tests NOT recorded: {err}"

    def _write(self, project: str) -> str:
        from pathlib import Path

        from forewarn.analyze.redact import redact
        from forewarn.insights.api import now_iso
        from forewarn.model import clip
        from forewarn.paths import default_db_path
        from forewarn.store import Store
        from forewarn.store import analytics as sql

        target = self.config.getoption("forewarn_db") or os.environ.get("FOREWARN_DB")
        path = Path(target).expanduser() if target else default_db_path()
        store = Store.open(path)
        try:
            when = now_iso()
            store.begin()
            try:
                for description, trace in self.failures:
                    sql.add_reported_failure(
                        store, ts=when, failure_type="test_failure", description=redact(description),
                        context=redact(clip(trace, TRACE_HEAD, TRACE_TAIL)), task=None, project=project,
                        agent=os.environ.get("FOREWARN_AGENT") or None, source="pytest")
                store.commit()
            except BaseException:
                store.rollback()
                raise
        finally:
            store.close()
        extra = f" ({self.dropped} more not kept)" if self.dropped else ""
        return f"forewarn: recorded {len(self.failures)} failing test(s) in {path}{extra}"

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.message:
            terminalreporter.write_line(self.message)

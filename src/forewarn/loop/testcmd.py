"""Which command verifies the agent's work: `--test-cmd`, else detected from the project.

Detection, first match wins:
- a `package.json` whose `scripts.test` is not npm's placeholder → `npm test`;
- a Python project (pyproject.toml, setup.py, setup.cfg, pytest.ini, tox.ini, conftest.py, or a
  `tests/` directory) → pytest, run by the project's own virtualenv when it has one
  (`.venv/`, `venv/`), else `pytest` on PATH, else this interpreter's `-m pytest`.
Otherwise the user must say (`--test-cmd`): guessing wrong would teach rules from noise.

Invariants: a user-given command runs through the shell exactly as typed; detected ones run
without a shell. Tests run with FOREWARN_RECORD=0, so the pytest plugin does not also record the
failures the loop is handling itself.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from forewarn.errors import ForewarnError
from forewarn.loop.proc import ProcResult, run_process

NPM_PLACEHOLDER = "no test specified"
PYTHON_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", "pytest.ini", "tox.ini", "conftest.py")
PYTEST_ARGS = ("-q", "--tb=short", "-p", "no:cacheprovider")


@dataclass(frozen=True)
class TestCommand:
    __test__ = False  # not a pytest test class, whatever its name says

    argv: tuple[str, ...] | None  # None: `shell` holds a shell command line
    shell: str | None = None

    @property
    def label(self) -> str:
        return self.shell if self.shell is not None else " ".join(self.argv or ())

    def run(self, project: Path, timeout: float) -> ProcResult:
        env = {**os.environ, "FOREWARN_RECORD": "0"}
        if self.shell is not None:
            return run_process(self.shell, cwd=project, timeout=timeout, env=env, shell=True)
        return run_process(list(self.argv or ()), cwd=project, timeout=timeout, env=env)


def _npm_test(project: Path) -> bool:
    try:
        data = json.loads((project / "package.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    script = data.get("scripts", {}).get("test") if isinstance(data, dict) else None
    return isinstance(script, str) and bool(script.strip()) and NPM_PLACEHOLDER not in script


def _python_project(project: Path) -> bool:
    return any((project / name).exists() for name in PYTHON_MARKERS) or (project / "tests").is_dir()


def _pytest_argv(project: Path) -> tuple[str, ...]:
    for venv in (".venv", "venv"):
        for python in (project / venv / "bin" / "python", project / venv / "Scripts" / "python.exe"):
            if python.is_file():
                return (str(python), "-m", "pytest", *PYTEST_ARGS)
    found = shutil.which("pytest")
    if found:
        return (found, *PYTEST_ARGS)
    return (sys.executable, "-m", "pytest", *PYTEST_ARGS)


def detect_test_command(project: Path, given: str | None = None) -> TestCommand:
    if given is not None:
        if not given.strip():
            raise ForewarnError("--test-cmd is empty")
        return TestCommand(None, given)
    if (project / "package.json").is_file() and _npm_test(project):
        return TestCommand(("npm", "test"))
    if _python_project(project):
        return TestCommand(_pytest_argv(project))
    raise ForewarnError(f"no test command found for {project} (no pytest project, no npm test script): "
                        "pass --test-cmd \"…\"")

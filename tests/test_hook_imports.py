"""The hook's import graph stays tiny: standard library only, and not even most of that.

Every tool call starts a fresh interpreter running `run.py`, so each import is paid on every call.
These tests run the real script in `python -I -S` and look at `sys.modules` when it is done.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from forewarn.hook.indexer import build_index
from tests.hook_fixtures import RUN_PY, bash, lesson, write_manifest

# never on the hook path: third-party packages and heavy stdlib
FORBIDDEN = {
    "click",
    "rich",
    "pydantic",
    "sqlite3",
    "orjson",
    "platformdirs",
    "forewarn.model",
    "forewarn.cli",
    "forewarn.store",
    "forewarn.lessons",
}
# not on the warm path either: each of these alone costs more than the whole pipeline
SLOW_STDLIB = {
    "json",
    "re",
    "typing",
    "dataclasses",
    "hashlib",
    "tempfile",
    "signal",
    "enum",
    "pathlib",
    "subprocess",
    "threading",
}

# runs run.py as `__main__`, then reports sys.modules on stderr (the driver itself imports nothing)
DRIVER = """
import sys
path = sys.argv[1]
sys.argv = [path] + sys.argv[2:]
code = compile(open(path, "rb").read(), path, "exec")
try:
    exec(code, {"__name__": "__main__", "__file__": path})
except SystemExit:
    pass
sys.stderr.write("\\n".join(sorted(sys.modules)))
"""


def modules_after(
    event: str, payload: dict[str, object], env: dict[str, str]
) -> tuple[dict[str, object], set[str]]:
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", DRIVER, str(RUN_PY), event],
        input=json.dumps(payload).encode(),
        capture_output=True,
        env=env,
        check=True,
    )
    return json.loads(done.stdout), set(done.stderr.decode().split())


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    write_manifest(home, lesson("pytest-imp1"), lesson("rm-imp2", action="block", remedy="no"))
    build_index(home)  # the warm state: what nearly every call sees
    (tmp_path / "tmp").mkdir()
    return {"FOREWARN_HOME": str(home), "TMPDIR": str(tmp_path / "tmp"), "PATH": "/usr/bin:/bin"}


@pytest.mark.parametrize(
    ("event", "payload", "expect"),
    [
        ("pre-tool-use", bash("ls -la"), "nothing"),
        ("pre-tool-use", bash("pytest -q"), "context"),
        ("pre-tool-use", bash("rm -rf x"), "deny"),
        (
            "pre-tool-use",
            {"session_id": "s", "tool_name": "WebFetch", "tool_input": {"url": "x"}},
            "nothing",
        ),
        ("session-start", {"session_id": "s", "source": "startup"}, "context"),
        ("session-start", {"session_id": "s", "source": "compact"}, "context"),
    ],
)
def test_hook_path_imports_only_light_stdlib(
    event: str, payload: dict[str, object], expect: str, env: dict[str, str]
) -> None:
    answer, modules = modules_after(event, payload, env)
    out = answer.get("hookSpecificOutput", {})
    assert {
        "nothing": answer == {},
        "context": "additionalContext" in out,
        "deny": out.get("permissionDecision") == "deny",
    }[expect], answer
    assert not modules & FORBIDDEN, modules & FORBIDDEN
    assert not modules & SLOW_STDLIB, modules & SLOW_STDLIB


def test_package_init_stays_empty() -> None:
    import forewarn.hook

    source = Path(forewarn.hook.__file__).read_text()  # type: ignore[arg-type]
    assert "import" not in source.split('"""')[-1]
    root = Path(forewarn.hook.__file__).parents[1] / "__init__.py"  # type: ignore[arg-type]
    assert "import" not in root.read_text().split('"""')[-1].replace("__version__", "")


def test_run_py_answers_on_an_old_python_without_importing_the_package(tmp_path: Path) -> None:
    # the version guard is plain old syntax: simulate an old interpreter by faking version_info
    driver = (
        "import sys; sys.version_info = (3, 8, 0); path = sys.argv[1]; "
        "exec(compile(open(path).read(), path, 'exec'), {'__name__': '__main__', '__file__': path})"
    )
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", driver, str(RUN_PY), "pre-tool-use"],
        input=b"{}",
        capture_output=True,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, b"{}\n")

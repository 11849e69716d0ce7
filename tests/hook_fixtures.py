"""Helpers for the hook tests: hand-written manifests and running the real hook script.

The tests run `src/forewarn/hook/run.py` exactly as an agent would (`python -I -S run.py EVENT`,
payload on stdin) with FOREWARN_HOME and TMPDIR pointing into the test's tmp_path.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

RUN_PY = Path(__file__).resolve().parents[1] / "src" / "forewarn" / "hook" / "run.py"

CONFIG = {
    "injectionBudgetBytes": 4096,
    "maxLessonsPerInjection": 3,
    "minConfidence": 0.5,
    "minPriority": 1,
    "compactionReinjectionThreshold": 7,
    "hookDeadlineMs": 3000,  # generous: tests share a loaded machine; the deadline test sets its own
}


def lesson(slug: str, **overrides: Any) -> dict[str, Any]:
    """A valid manifest lesson; a shell `warn` lesson on `\\b<first word of slug>\\b` by default."""
    word = slug.split("-")[0]
    data: dict[str, Any] = {
        "slug": slug,
        "priority": 5,
        "confidence": 0.9,
        "action": "warn",
        "families": ["shell"],
        "toolNames": ["Bash"],
        "commandRegexSources": [{"source": rf"\b{word}\b", "flags": ""}],
        "pathRegexSources": [],
        "tags": [],
        "injection": f"## {word}\n`{word}` failed in earlier sessions; what worked is in the remedy.",
        "summary": f"{word} failed before",
        "remedy": f"run {word} differently",
        "scope": "global",
        "projectRoot": None,
    }
    data.update(overrides)
    return data


def write_manifest(home: Path, *lessons: dict[str, Any], **config: Any) -> Path:
    """Write `home/manifest.json` holding `lessons` (ids assigned in order) and `config` overrides."""
    home.mkdir(parents=True, exist_ok=True)
    manifest = {
        "type": "forewarn-manifest",
        "version": 1,
        "generatedAt": "2026-01-01T00:00:00Z",
        "config": {**CONFIG, **config},
        "lessons": {f"01J{i:023d}": data for i, data in enumerate(lessons)},
    }
    path = home / "manifest.json"
    path.write_text(json.dumps(manifest))
    return path


def bash(
    command: str, session: str = "sess-1", cwd: str = "/work/proj", **extra: Any
) -> dict[str, Any]:
    return {
        "session_id": session,
        "transcript_path": "/tmp/t.jsonl",
        "cwd": cwd,
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": command},
        "tool_use_id": "toolu_1",
        **extra,
    }


def file_call(
    tool: str, path: str, session: str = "sess-1", cwd: str = "/work/proj"
) -> dict[str, Any]:
    return {
        "session_id": session,
        "cwd": cwd,
        "hook_event_name": "PreToolUse",
        "tool_name": tool,
        "tool_input": {"file_path": path},
    }


class HookRun:
    def __init__(self, returncode: int, stdout: str, stderr: str, elapsed: float) -> None:
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.elapsed = elapsed

    @property
    def answer(self) -> Any:
        return json.loads(self.stdout)

    @property
    def context(self) -> str:
        return self.answer.get("hookSpecificOutput", {}).get("additionalContext", "")


def hook_env(home: Path, tmpdir: Path) -> dict[str, str]:
    tmpdir.mkdir(parents=True, exist_ok=True)
    return {
        "FOREWARN_HOME": str(home),
        "TMPDIR": str(tmpdir),
        "PATH": "/usr/bin:/bin",
        "FOREWARN_HOOK_DEBUG": "1",
    }


def run_hook(
    event: str,
    payload: Any,
    env: dict[str, str],
    *args: str,
    raw: bytes | None = None,
    timeout: float = 20.0,
) -> HookRun:
    data = raw if raw is not None else json.dumps(payload).encode()
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-I", "-S", str(RUN_PY), event, *args],
        input=data,
        capture_output=True,
        env=env,
        timeout=timeout,
        check=False,
    )
    elapsed = time.perf_counter() - start
    return HookRun(done.returncode, done.stdout.decode(), done.stderr.decode(), elapsed)


def start_hook(
    event: str, payload: Any, env: dict[str, str], *args: str
) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-I", "-S", str(RUN_PY), event, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    return proc

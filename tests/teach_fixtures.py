"""Test helpers for the teacher and the loop: a scripted loopback HTTP server, stand-in agent CLIs,
teacher configuration and a small git project that goes from red to green."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list → JSON, str → text
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    body: Any


class ScriptedServer:
    """Answers POSTs with queued replies (the last one repeats), recording every request."""

    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[Seen] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body: Any = json.loads(raw)
                except ValueError:
                    body = raw.decode()
                server.requests.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                reply = server.replies.popleft() if len(server.replies) > 1 else (
                    server.replies[0] if server.replies else Reply(500, {"error": "no reply scripted"}))
                if reply.delay:
                    time.sleep(reply.delay)
                data = (json.dumps(reply.body) if not isinstance(reply.body, str) else reply.body).encode()
                try:
                    self.send_response(reply.status)
                    ctype = "text/plain" if isinstance(reply.body, str) else "application/json"
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def reply(self, *replies: Reply) -> ScriptedServer:
        self.replies.extend(replies)
        return self


def serve() -> Iterator[ScriptedServer]:
    """Body of each test module's `server` fixture: a running server, shut down afterwards."""
    s = ScriptedServer()
    s.thread.start()
    try:
        yield s
    finally:
        s.httpd.shutdown()
        s.httpd.server_close()


# -- answers -----------------------------------------------------------------------------------

RULE = {
    "root_cause": "safe_divide returned 0 for a zero divisor, which callers read as a valid result.",
    "rule": "Return None, not 0, when a safe_* helper has no valid result.",
    "when": "Writing fallback versions of operations that can fail.",
    "why": "0 looks like a real result; None clearly says there is none.",
    "category": "edits",
    "paths": ["calc.py", "/etc/passwd"],
}


def openai_answer(content: str) -> dict[str, Any]:
    return {"id": "c1", "object": "chat.completion",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}]}


def anthropic_answer(text: str) -> dict[str, Any]:
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test",
            "content": [{"type": "text", "text": text}], "stop_reason": "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 10}}


def write_config(home: Path, teacher: dict[str, Any]) -> None:
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.json").write_text(json.dumps({"teacher": teacher}), encoding="utf-8")


# -- stand-in programs -------------------------------------------------------------------------

def write_program(bin_dir: Path, name: str, body: str) -> Path:
    """A Python script called `name` in `bin_dir` (put bin_dir first on PATH to use it)."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    path = bin_dir / name
    path.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body), encoding="utf-8")
    path.chmod(0o755)
    return path


def put_first_on_path(monkeypatch: pytest.MonkeyPatch, bin_dir: Path) -> None:
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")


# The stand-in agent: it logs its argv, then edits calc.py. It writes the right fix only once the
# learned rule is in CLAUDE.md (so the tests go green exactly when the rule reached the agent).
AGENT_SCRIPT = """
import json, os, sys
from pathlib import Path
log = Path(os.environ["AGENT_LOG"])
with log.open("a") as f:
    f.write(json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd()}) + "\\n")
mode = os.environ.get("AGENT_MODE", "learn")
if mode == "fail":
    print("not logged in", file=sys.stderr)
    sys.exit(1)
if mode == "sleep":
    import time
    time.sleep(10)
rules = Path("CLAUDE.md").read_text() if Path("CLAUDE.md").exists() else ""
fixed = "Return None, not 0" in rules
body = "        return None" if fixed else "        return 0  # nothing to divide by"
Path("calc.py").write_text("def safe_divide(a, b):\\n    if b == 0:\\n" + body + "\\n    return a / b\\n")
Path("notes.txt").write_text("scratch file the agent created\\n")
print(json.dumps({"type": "result", "subtype": "success", "is_error": False, "result": "edited calc.py"}))
"""

CHECK_SCRIPT = """\
import sys
sys.path.insert(0, ".")
from calc import safe_divide
got = safe_divide(1, 0)
if got is not None:
    print(f"FAILED test_safe_divide_by_zero: expected None, got {got!r}  (token sk-ant-abcdefghijklmnopqrstuvwxyz123)")
    sys.exit(1)
print("1 passed")
"""


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def make_project(root: Path) -> Path:
    """A git repository with a buggy calc.py and a check script, one commit."""
    root.mkdir(parents=True)
    (root / "calc.py").write_text("def safe_divide(a, b):\n    return a / b\n")
    (root / "check.py").write_text(CHECK_SCRIPT)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "t@example.com")
    git(root, "config", "user.name", "t")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root

"""A small, made-up Claude Code history for `forewarn learn --demo` and for tests.

Three sessions in one project show the mistakes forewarn is built for: `python3` where the
project needs `uv run`, a guessed path, an edit before a read, a command the user keeps rejecting,
and two things that must NOT count as failures (a grep with no match, a log that mentions errors).
The transcripts follow Claude Code 2.x's format; the project path is filled in at build time.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CLAUDE_MD = "# Shop\n\nA tiny example project.\n\n## Conventions\n- Keep functions small.\n"


@dataclass
class _Session:
    project: str
    session_id: str
    start: int  # minutes after the demo epoch
    lines: list[dict[str, Any]] = field(default_factory=list)
    n: int = 0

    def _stamp(self) -> str:
        self.n += 1
        minutes = self.start + self.n
        return f"2026-11-{1 + minutes // 1440:02d}T{minutes // 60 % 24:02d}:{minutes % 60:02d}:00.000Z"

    def _base(self, kind: str) -> dict[str, Any]:
        return {"parentUuid": None, "isSidechain": False, "userType": "external", "cwd": self.project,
                "sessionId": self.session_id, "version": "2.1.3", "gitBranch": "main", "type": kind,
                "uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.session_id}/{self.n}")), "timestamp": self._stamp()}

    def user(self, text: str) -> None:
        rec = self._base("user")
        rec["message"] = {"role": "user", "content": text}
        self.lines.append(rec)

    def call(self, tool: str, inp: dict[str, Any], result: str, *, error: bool = False) -> None:
        call_id = "toolu_demo" + uuid.uuid5(uuid.NAMESPACE_URL, f"{self.session_id}/{self.n}").hex[:16]
        rec = self._base("assistant")
        rec["message"] = {"model": "claude-sonnet-4-5", "id": "msg_" + call_id[-12:], "type": "message",
                          "role": "assistant", "content": [{"type": "tool_use", "id": call_id, "name": tool, "input": inp}]}
        self.lines.append(rec)
        res = self._base("user")
        block: dict[str, Any] = {"tool_use_id": call_id, "type": "tool_result", "content": result}
        if error:
            block["is_error"] = True
        res["message"] = {"role": "user", "content": [block]}
        self.lines.append(res)

    def dump(self) -> str:
        return "".join(json.dumps(line) + "\n" for line in self.lines)


def _sessions(project: str) -> list[_Session]:
    p = project
    a = _Session(p, "5e55a0a1-0000-4000-8000-000000000001", 0)
    a.user("Run the tests and fix the failing discount test")
    a.call("Bash", {"command": "python3 -m pytest tests/test_cart.py -q"},
           "Exit code 1\nImportError while loading conftest '/x/tests/conftest.py'.\n"
           "ModuleNotFoundError: No module named 'pydantic'", error=True)
    a.call("Bash", {"command": "uv run pytest tests/test_cart.py -q"}, "1 failed, 11 passed in 0.41s")
    a.call("Read", {"file_path": f"{p}/src/shop/discount.py"}, "<tool_use_error>File does not exist.</tool_use_error>", error=True)
    a.call("Glob", {"pattern": "**/discount*.py"}, f"{p}/src/shop/pricing/discount.py")
    a.call("Read", {"file_path": f"{p}/src/shop/pricing/discount.py"}, "     1→def apply(total, pct):\n     2→    return total * pct\n")
    a.call("Edit", {"file_path": f"{p}/src/shop/pricing/discount.py", "old_string": "return total * pct",
                    "new_string": "return total * (1 - pct)"}, "The file has been updated successfully.")
    a.call("Bash", {"command": "grep -rn 'TODO' src/shop/pricing"}, "Exit code 1", error=True)  # no match: benign
    a.call("Bash", {"command": "uv run pytest -q"}, "12 passed in 0.40s")

    b = _Session(p, "5e55a0a1-0000-4000-8000-000000000002", 300)
    b.user("Add a VAT helper and release it")
    b.call("Bash", {"command": "python3 scripts/check_vat.py"},
           "Exit code 1\nTraceback (most recent call last):\n  File \"scripts/check_vat.py\", line 1, in <module>\n"
           "    import pydantic\nModuleNotFoundError: No module named 'pydantic'", error=True)
    b.call("Bash", {"command": "uv run python scripts/check_vat.py"}, "VAT table OK (27 rates)")
    b.call("Edit", {"file_path": f"{p}/src/shop/pricing/vat.py", "old_string": "RATES = {}", "new_string": "RATES = {'DE': 0.19}"},
           "<tool_use_error>File has not been read yet. Read it first before writing to it.</tool_use_error>", error=True)
    b.call("Read", {"file_path": f"{p}/src/shop/pricing/vat.py"}, "     1→RATES = {}\n")
    b.call("Edit", {"file_path": f"{p}/src/shop/pricing/vat.py", "old_string": "RATES = {}", "new_string": "RATES = {'DE': 0.19}"},
           "The file has been updated successfully.")
    b.call("Bash", {"command": "cat logs/build.log"}, "[12:01] compiling\n[12:02] 0 errors, 0 warnings\n[12:02] done")
    b.call("Bash", {"command": "npm publish"},
           "The user doesn't want to proceed with this tool use. The tool use was rejected (eg. if it was a file edit, "
           "the new_string was NOT written to the file). To tell you how to proceed, the user said:\n"
           "never publish from here, I release from CI", error=True)

    c = _Session(p, "5e55a0a1-0000-4000-8000-000000000003", 900)
    c.user("Tidy the cart module")
    c.call("Bash", {"command": "python3 -m pytest -q"},
           "Exit code 1\nModuleNotFoundError: No module named 'pydantic'", error=True)
    c.call("Bash", {"command": "uv run pytest -q"}, "12 passed in 0.39s")
    c.call("Read", {"file_path": f"{p}/src/shop/discount.py"}, "<tool_use_error>File does not exist.</tool_use_error>", error=True)
    c.call("Read", {"file_path": f"{p}/src/shop/pricing/discount.py"}, "     1→def apply(total, pct):\n")
    c.call("Edit", {"file_path": f"{p}/src/shop/cart.py", "old_string": "def total(self)", "new_string": "def total(self) -> float"},
           "<tool_use_error>File has not been read yet. Read it first before writing to it.</tool_use_error>", error=True)
    c.call("Read", {"file_path": f"{p}/src/shop/cart.py"}, "     1→class Cart:\n     2→    def total(self):\n")
    c.call("Edit", {"file_path": f"{p}/src/shop/cart.py", "old_string": "def total(self)", "new_string": "def total(self) -> float"},
           "The file has been updated successfully.")
    return [a, b, c]


def build(root: Path) -> tuple[Path, Path]:
    """Write the demo under `root`: returns (project dir, Claude config dir)."""
    project = root / "shop"
    (project / "src" / "shop" / "pricing").mkdir(parents=True, exist_ok=True)
    (project / "CLAUDE.md").write_text(CLAUDE_MD, encoding="utf-8")
    config = root / ".claude"
    slug = "".join(ch if ch.isalnum() else "-" for ch in str(project))
    sessions_dir = config / "projects" / slug
    sessions_dir.mkdir(parents=True, exist_ok=True)
    for s in _sessions(str(project)):
        (sessions_dir / f"{s.session_id}.jsonl").write_text(s.dump(), encoding="utf-8")
    return project, config

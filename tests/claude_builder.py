"""Build small Claude Code transcripts for tests, line by line, in the real 2.x shape."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class Transcript:
    def __init__(self, cwd: str = "/work/proj", session_id: str = "s-1", version: str = "2.1.3") -> None:
        self.cwd = cwd
        self.session_id = session_id
        self.version = version
        self.lines: list[dict[str, Any]] = []
        self._n = 0

    def _base(self, kind: str, **extra: Any) -> dict[str, Any]:
        self._n += 1
        rec = {"parentUuid": None, "isSidechain": False, "userType": "external", "cwd": self.cwd,
               "sessionId": self.session_id, "version": self.version, "gitBranch": "main", "type": kind,
               "uuid": f"u-{self._n}", "timestamp": f"2026-01-01T00:{self._n // 60:02d}:{self._n % 60:02d}.000Z"}
        rec.update(extra)
        return rec

    def user(self, text: str, **extra: Any) -> Transcript:
        self.lines.append(self._base("user", message={"role": "user", "content": text}, **extra))
        return self

    def use(self, call_id: str, tool: str, inp: dict[str, Any], **extra: Any) -> Transcript:
        msg = {"model": "claude-sonnet-4-5", "id": f"msg-{call_id}", "type": "message", "role": "assistant",
               "content": [{"type": "tool_use", "id": call_id, "name": tool, "input": inp}]}
        self.lines.append(self._base("assistant", message=msg, **extra))
        return self

    def result(self, call_id: str, content: Any, *, error: bool | None = None, sibling: Any = None,
               **extra: Any) -> Transcript:
        block: dict[str, Any] = {"tool_use_id": call_id, "type": "tool_result", "content": content}
        if error is not None:
            block["is_error"] = error
        rec = self._base("user", message={"role": "user", "content": [block]}, **extra)
        if sibling is not None:
            rec["toolUseResult"] = sibling
        self.lines.append(rec)
        return self

    def call(self, call_id: str, tool: str, inp: dict[str, Any], content: Any, *, error: bool | None = None) -> Transcript:
        return self.use(call_id, tool, inp).result(call_id, content, error=error)

    def bash(self, call_id: str, command: str, output: str, *, code: int = 0) -> Transcript:
        if code:
            return self.call(call_id, "Bash", {"command": command}, f"Exit code {code}\n{output}", error=True)
        return self.call(call_id, "Bash", {"command": command}, output)

    def compact(self) -> Transcript:
        self.lines.append(self._base("system", subtype="compact_boundary", content="Conversation compacted"))
        return self

    def raw(self, line: dict[str, Any]) -> Transcript:
        self.lines.append(line)
        return self

    def text(self) -> str:
        return "".join(json.dumps(line) + "\n" for line in self.lines)

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.text(), encoding="utf-8")
        return path


def slug(path: str) -> str:
    return "".join(ch if ch.isalnum() else "-" for ch in path)

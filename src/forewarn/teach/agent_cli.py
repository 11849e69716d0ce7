"""Teacher backends that ask an agent CLI (`claude -p`, `codex exec`, `gemini -p`) instead of an API,
so a user with a subscription login and no API key can still have failures explained.

Each runs the CLI headless in an empty temporary directory (the teacher must not read or change
the project: everything it needs is in the prompt), with no edit permissions, and reads the
answer from its output: Claude Code's and Gemini CLI's `--output-format json` objects, Codex's
final message on stdout. `teacher.model` is passed with the CLI's model flag when set.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from typing import Any, ClassVar

from forewarn.teach.base import (
    Teacher,
    TeacherError,
    TeacherRequest,
    TeacherUnavailable,
    TransientError,
)


class AgentCliTeacher(Teacher):
    program: ClassVar[str]
    model_flag: ClassVar[str] = "--model"

    def check(self) -> None:
        if shutil.which(self.program) is None:
            raise TeacherUnavailable(f"the {self.name} teacher needs `{self.program}` on PATH")

    def argv(self, prompt: str) -> list[str]:
        raise NotImplementedError

    def payload(self, request: TeacherRequest) -> dict[str, Any]:
        argv = self.argv(request.combined())
        if self.settings.model:
            argv += [self.model_flag, self.settings.model]
        return {"argv": argv}

    def parse(self, stdout: str) -> str:
        return stdout.strip()

    def send(self, payload: dict[str, Any]) -> str:
        from forewarn.loop.proc import run_process

        with tempfile.TemporaryDirectory(prefix="forewarn-teacher-") as empty:
            try:
                result = run_process(payload["argv"], cwd=empty, timeout=self.settings.timeout)
            except FileNotFoundError:
                raise TeacherUnavailable(f"the {self.name} teacher needs `{self.program}` on PATH") from None
        if result.timed_out:
            raise TransientError(f"{self.name} teacher: `{self.program}` gave no answer within {self.settings.timeout:g}s")
        if result.exit_code != 0:
            detail = " ".join((result.stderr or result.stdout).split())[:300]
            raise TeacherError(f"{self.name} teacher: `{self.program}` exited with {result.exit_code}: {detail}")
        text = self.parse(result.stdout)
        if not text.strip():
            raise TeacherError(f"{self.name} teacher: `{self.program}` gave an empty answer")
        return text


def last_json_object(stdout: str) -> dict[str, Any] | None:
    """The JSON object a CLI printed (the last line that is one, since some print notices first)."""
    text = stdout.strip()
    candidates = [text, *reversed(text.splitlines())]
    for candidate in candidates:
        candidate = candidate.strip()
        if not candidate.startswith("{"):
            continue
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


class JsonPrintTeacher(AgentCliTeacher):
    """An agent CLI run as `PROGRAM -p PROMPT --output-format json`, whose last JSON object holds
    the answer under `answer_key`, or an error (`error_of`). Output that holds no JSON object is
    taken as the answer itself."""

    answer_key: ClassVar[str]

    def argv(self, prompt: str) -> list[str]:
        return [self.program, "-p", prompt, "--output-format", "json"]

    def error_of(self, data: dict[str, Any]) -> str | None:
        raise NotImplementedError

    def parse(self, stdout: str) -> str:
        data = last_json_object(stdout)
        if data is None:
            return stdout
        error = self.error_of(data)
        if error is not None:
            raise TeacherError(f"{self.name} teacher: {error[:300]}")
        answer = data.get(self.answer_key)
        return answer if isinstance(answer, str) else ""


class ClaudeCliTeacher(JsonPrintTeacher):
    name = "claude-cli"
    program = "claude"
    description = "Claude Code headless (`claude -p`), using your Claude login"
    answer_key = "result"

    def error_of(self, data: dict[str, Any]) -> str | None:
        return str(data.get("result") or data.get("subtype")) if data.get("is_error") else None


class CodexCliTeacher(AgentCliTeacher):
    name = "codex-cli"
    program = "codex"
    description = "Codex CLI headless (`codex exec`, read-only sandbox), using your Codex login"

    def argv(self, prompt: str) -> list[str]:
        return [self.program, "exec", "--sandbox", "read-only", "--skip-git-repo-check", prompt]

    def payload(self, request: TeacherRequest) -> dict[str, Any]:
        argv = self.argv(request.combined())
        if self.settings.model:  # options go before the prompt for `codex exec`
            argv[-1:-1] = [self.model_flag, self.settings.model]
        return {"argv": argv}


class GeminiCliTeacher(JsonPrintTeacher):
    name = "gemini-cli"
    program = "gemini"
    description = "Gemini CLI headless (`gemini -p`), using your Google login"
    answer_key = "response"

    def error_of(self, data: dict[str, Any]) -> str | None:
        err = data.get("error")
        if not err:
            return None
        return str(err.get("message") if isinstance(err, dict) else err)

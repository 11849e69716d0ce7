"""Running a coding agent headless on a task (seed 002's "Task Execution"), one adapter per agent.

Command lines, as the agents document their non-interactive modes:
- Claude Code: `claude -p TASK --output-format json --dangerously-skip-permissions` (the loop
  must edit files unattended); the JSON result has `result` and `is_error`.
- Codex CLI: `codex exec --sandbox workspace-write --skip-git-repo-check TASK`; progress goes
  to stderr, the final message to stdout; stdin is /dev/null (`codex exec` reads stdin when it
  is not a TTY and would otherwise wait forever).
- Gemini CLI: `gemini -p TASK --output-format json --approval-mode yolo`; the JSON has
  `response` and, on failure, `error`.
`extra` arguments (`forewarn run --agent-arg …`) go before the task.

Invariants: an agent that exits non-zero or reports an error is an *agent* failure (not logged
in, out of quota…), which the loop stops on rather than teaching a rule about the code.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from forewarn.errors import ForewarnError
from forewarn.loop.proc import ProcResult
from forewarn.teach.agent_cli import last_json_object

FINAL_MAX = 2_000  # characters of the agent's final message kept


@dataclass(frozen=True)
class AgentOutcome:
    ok: bool
    message: str  # the agent's final message, or what went wrong


def _claude_argv(prompt: str, extra: Sequence[str]) -> list[str]:
    return ["claude", "-p", *extra, "--output-format", "json", "--dangerously-skip-permissions", prompt]


def _codex_argv(prompt: str, extra: Sequence[str]) -> list[str]:
    return ["codex", "exec", "--sandbox", "workspace-write", "--skip-git-repo-check", *extra, prompt]


def _gemini_argv(prompt: str, extra: Sequence[str]) -> list[str]:
    return ["gemini", *extra, "--output-format", "json", "--approval-mode", "yolo", "-p", prompt]


def _claude_final(data: dict[str, Any]) -> tuple[bool, str]:
    return not data.get("is_error"), str(data.get("result") or data.get("subtype") or "")


def _gemini_final(data: dict[str, Any]) -> tuple[bool, str]:
    err = data.get("error")
    if err:
        return False, str(err.get("message") if isinstance(err, dict) else err)
    return True, str(data.get("response") or "")


@dataclass(frozen=True)
class AgentAdapter:
    name: str
    program: str
    argv: Callable[[str, Sequence[str]], list[str]]
    final: Callable[[dict[str, Any]], tuple[bool, str]] | None  # None: stdout is the final message
    instructions: str  # the file the agent reads its project instructions from

    def outcome(self, result: ProcResult) -> AgentOutcome:
        if result.timed_out:
            return AgentOutcome(True, f"{self.program} did not finish within {result.seconds:g}s")
        ok, message = True, result.stdout.strip()
        if self.final is not None:
            data = last_json_object(result.stdout)
            if data is not None:
                ok, message = self.final(data)
        if result.exit_code != 0:
            detail = " ".join((result.stderr.strip() or message).split())
            return AgentOutcome(False, f"{self.program} exited with {result.exit_code}: {detail[:500]}")
        return AgentOutcome(ok, message[-FINAL_MAX:])


AGENTS: dict[str, AgentAdapter] = {
    "claude": AgentAdapter("claude", "claude", _claude_argv, _claude_final, "CLAUDE.md"),
    "codex": AgentAdapter("codex", "codex", _codex_argv, None, "AGENTS.md"),
    "gemini": AgentAdapter("gemini", "gemini", _gemini_argv, _gemini_final, "GEMINI.md"),
}


def get_agent(name: str) -> AgentAdapter:
    try:
        return AGENTS[name]
    except KeyError:
        raise ForewarnError(f"unknown agent {name!r} (known: {', '.join(AGENTS)})") from None

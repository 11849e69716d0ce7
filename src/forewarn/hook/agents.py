"""Per-agent stdin/stdout contracts, mapped onto one neutral event and one neutral answer.

What each agent sends and accepts (see /work/shared/AGENT_CONTRACTS.md):

- Claude Code: PreToolUse `hookSpecificOutput.additionalContext` reaches the model next to the tool
  result; `permissionDecision: "deny"` + `permissionDecisionReason` stops the call and tells the
  model why. SessionStart (`source` startup|resume|clear|compact) and SubagentStart accept
  `additionalContext`.
- Codex CLI: the same PreToolUse shape (tool_name Bash | apply_patch | mcp__…); SessionStart
  (startup|resume|clear) accepts `additionalContext`.
- Gemini CLI: BeforeTool can only allow or deny (`decision: "deny"`, `reason` goes to the model),
  so it carries the block lessons; AfterTool accepts `hookSpecificOutput.additionalContext`, so it
  carries the warnings; SessionStart (`source`) accepts `additionalContext`; PreCompress is
  advisory, used only to release high-priority claims.

Invariants: `parse` never raises on unexpected shapes (missing fields become empty values and an
unknown event becomes kind "none"); `render` of an empty `Answer` is always `{}`.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar

# what the pipeline does for an event
TOOL = "tool"  # match lessons against a tool call
SESSION = "session"  # session start: protocol and dedup bookkeeping by `source`
SUBAGENT = "subagent"  # a subagent starts: protocol
COMPACT = "compact"  # context is about to be compacted (Gemini PreCompress): release claims
NONE = "none"

# which lessons a tool event may deliver
BOTH = "both"  # warn as context, block as deny (Claude Code / Codex PreToolUse)
BLOCK_ONLY = "block"  # Gemini BeforeTool
WARN_ONLY = "warn"  # Gemini AfterTool

# hook_event_name as the agents spell it -> our event argument
_EVENT_ALIASES = {
    "PreToolUse": "pre-tool-use",
    "SessionStart": "session-start",
    "SubagentStart": "subagent-start",
    "BeforeTool": "before-tool",
    "AfterTool": "after-tool",
    "PreCompress": "pre-compress",
}


class HookInput:
    """One hook call, agent-neutral."""

    __slots__ = (
        "agent_id",
        "cwd",
        "event",
        "kind",
        "mode",
        "session_id",
        "source",
        "tool_input",
        "tool_name",
    )

    def __init__(self, event: str, kind: str, payload: dict[str, Any], mode: str = BOTH) -> None:
        self.event = event
        self.kind = kind
        self.mode = mode
        self.tool_name = _str(payload.get("tool_name"))
        tool_input = payload.get("tool_input")
        self.tool_input: dict[str, Any] = tool_input if isinstance(tool_input, dict) else {}
        self.session_id = _str(payload.get("session_id"))
        self.cwd = _str(payload.get("cwd"))
        self.agent_id = _str(payload.get("agent_id"))
        self.source = _str(payload.get("source") or payload.get("trigger"))


class Answer:
    """What the pipeline decided: extra context for the model, or a reason to stop the call."""

    __slots__ = ("context", "deny_reason")

    def __init__(self, context: str = "", deny_reason: str = "") -> None:
        self.context = context
        self.deny_reason = deny_reason


class ClaudeAdapter:
    name = "claude"
    _events: ClassVar[dict[str, tuple[str, str, str]]] = {
        "pre-tool-use": (TOOL, BOTH, "PreToolUse"),
        "session-start": (SESSION, BOTH, "SessionStart"),
        "subagent-start": (SUBAGENT, BOTH, "SubagentStart"),
    }

    def parse(self, event: str, payload: dict[str, Any]) -> HookInput:
        if not event:
            event = _EVENT_ALIASES.get(_str(payload.get("hook_event_name")), "")
        kind, mode, _ = self._events.get(event, (NONE, BOTH, ""))
        return HookInput(event, kind, payload, mode)

    def render(self, hook: HookInput, answer: Answer) -> dict[str, Any]:
        spec = self._events.get(hook.event)
        if spec is None:
            return {}
        event_name = spec[2]
        if answer.deny_reason and hook.kind == TOOL:
            return {
                "hookSpecificOutput": {
                    "hookEventName": event_name,
                    "permissionDecision": "deny",
                    "permissionDecisionReason": answer.deny_reason,
                }
            }
        if answer.context:
            return {
                "hookSpecificOutput": {
                    "hookEventName": event_name,
                    "additionalContext": answer.context,
                }
            }
        return {}


class CodexAdapter(ClaudeAdapter):
    """Codex speaks Claude Code's PreToolUse / SessionStart dialect; it has no SubagentStart."""

    name = "codex"
    _events: ClassVar[dict[str, tuple[str, str, str]]] = {
        "pre-tool-use": (TOOL, BOTH, "PreToolUse"),
        "session-start": (SESSION, BOTH, "SessionStart"),
    }


class GeminiAdapter:
    name = "gemini"
    _events: ClassVar[dict[str, tuple[str, str]]] = {
        "before-tool": (TOOL, BLOCK_ONLY),
        "after-tool": (TOOL, WARN_ONLY),
        "session-start": (SESSION, BOTH),
        "pre-compress": (COMPACT, BOTH),
    }

    def parse(self, event: str, payload: dict[str, Any]) -> HookInput:
        if not event:
            event = _EVENT_ALIASES.get(_str(payload.get("hook_event_name")), "")
        kind, mode = self._events.get(event, (NONE, BOTH))
        return HookInput(event, kind, payload, mode)

    def render(self, hook: HookInput, answer: Answer) -> dict[str, Any]:
        if hook.event == "before-tool" and answer.deny_reason:
            return {"decision": "deny", "reason": answer.deny_reason}
        if hook.event == "after-tool" and answer.context:
            return {
                "hookSpecificOutput": {
                    "hookEventName": "AfterTool",
                    "additionalContext": answer.context,
                }
            }
        if hook.event == "session-start" and answer.context:
            return {
                "hookSpecificOutput": {
                    "hookEventName": "SessionStart",
                    "additionalContext": answer.context,
                }
            }
        return {}


ADAPTERS: dict[str, Any] = {a.name: a for a in (ClaudeAdapter(), CodexAdapter(), GeminiAdapter())}


def get_adapter(name: str) -> Any:
    """The adapter for `name`; unknown names get Claude Code's (the most common dialect)."""
    return ADAPTERS.get(name) or ADAPTERS["claude"]


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""

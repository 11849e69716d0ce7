"""The teacher interface every backend implements, its errors, its retry policy and its registry.

A teacher turns one `TeacherRequest` (a system prompt, a user prompt and the structured failure
fields seed 002's webhook expects) into the model's answer text. Each backend is one small class:
`payload()` builds the exact thing that would be sent (so `--dry-run` can print it), `send()`
makes one attempt. `ask()` adds the shared policy: retries with exponential backoff on rate
limits, server errors and timeouts (honouring a short Retry-After), and nothing else.

Backends are found like writers: built-ins first, then the `forewarn.teachers` entry-point group,
so a third party can add one. `get_teacher` raises `NoTeacher` when none is configured (callers
that can go on without a teacher catch exactly that) and a `ForewarnError` naming the known
backends for an unknown name.

Invariants: everything in a request was redacted by its builder before it reaches a backend; a
backend never writes anywhere; every failure a user can act on is a one-line `TeacherError`.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar

from forewarn.errors import ForewarnError
from forewarn.plugins import discover, load_spec
from forewarn.teach.settings import TeacherSettings

RETRY_AFTER_MAX = 30.0  # seconds: a longer Retry-After is not worth blocking a CLI for


class TeacherError(ForewarnError):
    """The teacher could not answer (unreachable, refused, or answered nonsense)."""


class TeacherUnavailable(TeacherError):
    """The configured teacher cannot be used here (missing package, key or program)."""


class NoTeacher(TeacherUnavailable):
    """No teacher is configured: everything that does not need one keeps working."""


class TransientError(TeacherError):
    """Worth another try: HTTP 429 or 5xx, a timeout, a dropped connection."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class TeacherRequest:
    """What a teacher is asked. `fields` holds seed 002's structured failure data (diff,
    error_logs, task_description, failure_type) for backends that send it as such."""

    system: str
    prompt: str
    fields: dict[str, Any] = field(default_factory=dict)

    def combined(self) -> str:
        """System and user prompt as one text, for backends with a single prompt."""
        return f"{self.system.strip()}\n\n---\n\n{self.prompt.strip()}\n"


class Teacher(ABC):
    """One way of reaching a model."""

    name: ClassVar[str]
    description: ClassVar[str] = ""

    def __init__(self, settings: TeacherSettings) -> None:
        self.settings = settings

    def check(self) -> None:  # noqa: B027 - optional hook: most backends need no check
        """Raise `TeacherUnavailable` when this backend cannot work here (no key, no program…)."""

    @abstractmethod
    def payload(self, request: TeacherRequest) -> dict[str, Any]:
        """Exactly what `send` transmits for this request (a JSON body, or a command line)."""

    @abstractmethod
    def send(self, payload: dict[str, Any]) -> str:
        """One attempt: the answer text. Raises `TransientError` for what a retry may cure."""

    def ask(self, request: TeacherRequest, *, sleep: Callable[[float], None] = time.sleep) -> str:
        self.check()
        body = self.payload(request)
        delay = self.settings.backoff
        attempts = self.settings.retries + 1
        for attempt in range(1, attempts + 1):
            try:
                return self.send(body)
            except TransientError as err:
                if attempt == attempts:
                    raise TeacherError(f"{err} (gave up after {attempts} attempt{'s' * (attempts > 1)})") from None
                wait = delay if err.retry_after is None else min(max(err.retry_after, 0.0), RETRY_AFTER_MAX)
                sleep(wait)
                delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover


# -- registry ----------------------------------------------------------------------------------

_BUILTIN = {
    "anthropic": "forewarn.teach.anthropic_api:AnthropicTeacher",
    "openai": "forewarn.teach.openai_api:OpenAITeacher",
    "webhook": "forewarn.teach.webhook:WebhookTeacher",
    "claude-cli": "forewarn.teach.agent_cli:ClaudeCliTeacher",
    "codex-cli": "forewarn.teach.agent_cli:CodexCliTeacher",
    "gemini-cli": "forewarn.teach.agent_cli:GeminiCliTeacher",
}
# other names people will reach for (seed 002 calls the Anthropic SDK mode "local", n8n "webhook")
ALIASES = {"local": "anthropic", "n8n": "webhook", "openai-compatible": "openai",
           "claude": "claude-cli", "codex": "codex-cli", "gemini": "gemini-cli"}
NONE_NAMES = ("", "none", "off")


def _load(spec: str) -> type[Teacher]:
    cls: type[Teacher] = load_spec(spec)
    return cls


@lru_cache(maxsize=1)
def registry() -> dict[str, str | type[Teacher]]:
    """Backend name -> class (entry points, loaded) or import spec (built-ins, loaded on use, so
    that choosing the webhook never imports the Anthropic SDK)."""
    return discover("forewarn.teachers", _BUILTIN, load_builtins=False)


def backend_names() -> list[str]:
    return list(registry())


def canonical_name(name: str) -> str:
    key = name.strip().lower()
    return ALIASES.get(key, key)


def get_teacher(settings: TeacherSettings) -> Teacher:
    """The configured teacher. `NoTeacher` when none is configured."""
    name = canonical_name(settings.backend)
    if name in NONE_NAMES:
        raise NoTeacher(
            "no teacher is configured: set one with `forewarn config set teacher.backend NAME` "
            f"(one of {', '.join(backend_names())})")
    known = registry()
    if name not in known:
        raise ForewarnError(f"unknown teacher backend {settings.backend!r} (known: {', '.join(known)})")
    spec = known[name]
    cls = _load(spec) if isinstance(spec, str) else spec
    from dataclasses import replace

    return cls(replace(settings, backend=name))


def teacher_for(backend: str | None = None, *, dry_run: bool = False) -> Teacher | None:
    """The configured teacher (`backend` overrides the config), checked and ready. A dry run
    sends nothing, so it works without a teacher (None); otherwise a missing or unusable
    teacher is a one-line error."""
    from forewarn.teach.settings import load_teacher_settings

    try:
        chosen = get_teacher(load_teacher_settings(backend=backend))
    except NoTeacher:
        if not dry_run:
            raise
        return None
    if not dry_run:
        chosen.check()
    return chosen

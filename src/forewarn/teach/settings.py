"""Where the teacher is reached: the `teacher` section of `$FOREWARN_HOME/config.json`, read once.

`forewarn.config.TeacherConfig` owns the validated keys (backend, model, url, timeout). The few
keys the backends need beyond those (`keyEnv`, `maxTokens`, `retries`, `backoff`) are taken from
the config object when it has them and otherwise from the raw `teacher` object of the same file,
so the config module can adopt them later without any change here.

Invariants: reading never fails (bad values fall back to defaults, as `forewarn.config` does);
secrets are never stored in the file, only the NAME of the environment variable holding them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

# backend -> environment variable holding its credential, when `teacher.keyEnv` is not set
DEFAULT_KEY_ENV = {
    "anthropic": "ANTHROPIC_API_KEY",
    "openai": "OPENAI_API_KEY",
    "webhook": "FOREWARN_TEACHER_TOKEN",
}


@dataclass(frozen=True)
class TeacherSettings:
    backend: str = "none"
    model: str = ""
    url: str = ""
    timeout: float = 60.0  # seconds per request
    key_env: str = ""  # name of the environment variable with the API key / bearer token
    max_tokens: int = 1024
    retries: int = 2  # extra attempts after a 429, a 5xx or a timeout
    backoff: float = 1.0  # seconds before the first retry, doubled each time

    def key_variable(self) -> str:
        return self.key_env or DEFAULT_KEY_ENV.get(self.backend, "")


def _number(value: Any, kind: type, minimum: float) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not math.isfinite(float(value)) or value < minimum:
        return None
    return kind(value)


# extra key -> (json name, type, minimum)
_EXTRAS: dict[str, tuple[str, type, float]] = {
    "key_env": ("keyEnv", str, 0),
    "max_tokens": ("maxTokens", int, 1),
    "retries": ("retries", int, 0),
    "backoff": ("backoff", float, 0),
}


def load_teacher_settings(home: Path | None = None, *, backend: str | None = None) -> TeacherSettings:
    """The effective teacher settings; `backend` (e.g. a `--teacher` option) overrides the file."""
    from forewarn.config import read_config

    cf = read_config(home)
    section = cf.config.teacher
    found = cf.raw.get("teacher")
    raw: dict[str, Any] = found if isinstance(found, dict) else {}
    values: dict[str, Any] = {
        "backend": (section.backend or "none").strip().lower(),
        "model": section.model,
        "url": section.url,
        "timeout": float(section.timeout),
    }
    for name, (json_name, kind, minimum) in _EXTRAS.items():
        value = getattr(section, name, None)
        if value is None:
            value = raw.get(json_name)
        if kind is str:
            if isinstance(value, str) and value.strip():
                values[name] = value.strip()
        else:
            number = _number(value, kind, minimum)
            if number is not None:
                values[name] = number
    settings = TeacherSettings(**values)
    if backend:
        settings = replace(settings, backend=backend.strip().lower())
    return settings

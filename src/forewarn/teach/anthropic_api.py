"""Teacher backend: Anthropic's Messages API through the official `anthropic` SDK.

The SDK is an optional dependency (`pip install 'forewarn[teacher]'`), imported only when this
backend is used. `teacher.url` overrides the API base (a gateway, or a test server); the key comes
from the environment variable named by `teacher.keyEnv` (default ANTHROPIC_API_KEY). The SDK's
own retries are switched off so that every backend follows the one policy in `Teacher.ask`.
"""

from __future__ import annotations

import os
from typing import Any

from forewarn.teach.base import (
    Teacher,
    TeacherError,
    TeacherRequest,
    TeacherUnavailable,
    TransientError,
)

DEFAULT_MODEL = "claude-sonnet-4-5"


class AnthropicTeacher(Teacher):
    name = "anthropic"
    description = "Anthropic Messages API via the anthropic SDK (key from $ANTHROPIC_API_KEY)"

    def _sdk(self) -> Any:
        try:
            import anthropic
        except ImportError:
            raise TeacherUnavailable(
                "the anthropic teacher needs the anthropic package: pip install 'forewarn[teacher]'") from None
        return anthropic

    def _key(self) -> str:
        return os.environ.get(self.settings.key_variable(), "").strip()

    def check(self) -> None:
        self._sdk()
        if not self._key():
            raise TeacherUnavailable(f"the anthropic teacher needs an API key in ${self.settings.key_variable()}")

    def payload(self, request: TeacherRequest) -> dict[str, Any]:
        return {
            "model": self.settings.model or DEFAULT_MODEL,
            "max_tokens": self.settings.max_tokens,
            "system": request.system,
            "messages": [{"role": "user", "content": request.prompt}],
        }

    def send(self, payload: dict[str, Any]) -> str:
        sdk = self._sdk()
        options: dict[str, Any] = {"api_key": self._key(), "timeout": self.settings.timeout, "max_retries": 0}
        if self.settings.url:
            options["base_url"] = self.settings.url
        where = self.settings.url or "the Anthropic API"
        try:
            with sdk.Anthropic(**options) as client:
                message = client.messages.create(**payload)
        except sdk.APITimeoutError:
            raise TransientError(f"anthropic teacher: no answer from {where} within {self.settings.timeout:g}s") from None
        except sdk.APIConnectionError as err:
            raise TransientError(f"anthropic teacher: cannot reach {where}: {err}") from None
        except sdk.APIStatusError as err:
            status = getattr(err, "status_code", 0) or 0
            message_text = f"anthropic teacher: HTTP {status} from {where}: {_error_message(err)}"
            if status in (408, 409, 429) or status >= 500:
                raise TransientError(message_text, _retry_after(err)) from None
            raise TeacherError(message_text) from None
        except sdk.APIError as err:  # e.g. a body the SDK could not validate
            raise TeacherError(f"anthropic teacher: {err}") from None
        parts = [getattr(block, "text", "") for block in (getattr(message, "content", None) or [])
                 if getattr(block, "type", "") == "text"]
        text = "".join(parts)
        if not text.strip():
            raise TeacherError(f"anthropic teacher: the answer from {where} has no text")
        return text


def _error_message(err: Any) -> str:
    body = getattr(err, "body", None)
    if isinstance(body, dict):
        inner = body.get("error")
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return inner["message"][:300]
    return str(getattr(err, "message", err))[:300]


def _retry_after(err: Any) -> float | None:
    from forewarn.teach.httpjson import retry_after

    response = getattr(err, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    from email.message import Message

    msg = Message()
    for name in ("retry-after-ms", "retry-after"):
        if headers.get(name) is not None:
            msg[name] = headers.get(name)
    return retry_after(msg)

"""Teacher backend: any OpenAI-compatible chat-completions endpoint (OpenAI, Azure-style proxies,
OpenRouter, vLLM, llama.cpp's server, Ollama's /v1…).

`teacher.url` is the API base (`https://api.openai.com/v1` when empty) or the full
`…/chat/completions` URL; the key is read from the environment variable named by `teacher.keyEnv`
(default OPENAI_API_KEY) and is optional for a local server, required for api.openai.com.
Plain `urllib` (see `forewarn.teach.httpjson`): no dependency for one POST.
"""

from __future__ import annotations

import os
from typing import Any

from forewarn.teach.base import Teacher, TeacherError, TeacherRequest, TeacherUnavailable
from forewarn.teach.httpjson import post_json

DEFAULT_BASE = "https://api.openai.com/v1"


class OpenAITeacher(Teacher):
    name = "openai"
    description = "an OpenAI-compatible /chat/completions endpoint (teacher.url, key from teacher.keyEnv)"

    def endpoint(self) -> str:
        base = (self.settings.url or DEFAULT_BASE).rstrip("/")
        return base if base.endswith("/chat/completions") else base + "/chat/completions"

    def _key(self) -> str:
        return os.environ.get(self.settings.key_variable(), "").strip()

    def check(self) -> None:
        if not self.settings.model:
            raise TeacherUnavailable("the openai teacher needs a model: `forewarn config set teacher.model NAME`")
        if not self._key() and self.endpoint().startswith(DEFAULT_BASE):
            raise TeacherUnavailable(f"the openai teacher needs an API key in ${self.settings.key_variable()}")

    def payload(self, request: TeacherRequest) -> dict[str, Any]:
        return {
            "model": self.settings.model,
            "messages": [{"role": "system", "content": request.system},
                         {"role": "user", "content": request.prompt}],
            "max_tokens": self.settings.max_tokens,
            "temperature": 0,
        }

    def send(self, payload: dict[str, Any]) -> str:
        key = self._key()
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        data, text = post_json(self.endpoint(), payload, headers=headers, timeout=self.settings.timeout,
                               what="openai teacher")
        try:
            content = data["choices"][0]["message"]["content"]
        except (TypeError, KeyError, IndexError):
            raise TeacherError(f"openai teacher: unexpected answer from {self.endpoint()}: {text[:200]!r}") from None
        if isinstance(content, list):  # some servers return content parts
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        if not isinstance(content, str) or not content.strip():
            raise TeacherError(f"openai teacher: empty answer from {self.endpoint()}")
        return content

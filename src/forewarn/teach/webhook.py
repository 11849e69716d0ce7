"""Teacher backend: a webhook (seed 002's n8n workflow, or anything that takes a JSON POST).

The body is seed 002's payload, `{diff, error_logs, task_description, failure_type, prompt}`
(plus `system` and any other structured field of the request), so an n8n workflow can route on
`failure_type` and pass `prompt` to its model node. A bearer token is sent when the environment
variable named by `teacher.keyEnv` (default FOREWARN_TEACHER_TOKEN) is set.

The answer may be the model's text (plain, or JSON under `text`/`output`/`response`/`content`/
`message`), or the rule object itself (`{"rule": …, "when": …, "why": …}`); n8n's list-of-items
shape is unwrapped. Whatever it is comes back as text for `forewarn.teach.rules` to parse.
"""

from __future__ import annotations

import json
import os
from typing import Any

from forewarn.teach.base import Teacher, TeacherError, TeacherRequest, TeacherUnavailable
from forewarn.teach.httpjson import post_json

TEXT_KEYS = ("text", "output", "response", "content", "message", "result", "answer")


def answer_text(data: Any, raw: str) -> str:
    """The answer in a webhook's reply, as text."""
    if isinstance(data, list) and data:
        data = data[0]
        if isinstance(data, dict) and isinstance(data.get("json"), dict):  # n8n item envelope
            data = data["json"]
    if isinstance(data, dict):
        if "rule" in data or "summary" in data:
            return json.dumps(data, ensure_ascii=False)
        for key in TEXT_KEYS:
            value = data.get(key)
            if isinstance(value, str) and value.strip():
                return value
            if isinstance(value, dict):
                return answer_text(value, json.dumps(value))
    if isinstance(data, str):
        return data
    return raw


class WebhookTeacher(Teacher):
    name = "webhook"
    description = "a JSON POST to teacher.url (e.g. an n8n workflow); bearer token from teacher.keyEnv"

    def check(self) -> None:
        if not self.settings.url:
            raise TeacherUnavailable("the webhook teacher needs a URL: `forewarn config set teacher.url URL`")

    def payload(self, request: TeacherRequest) -> dict[str, Any]:
        fields = dict(request.fields)
        return {
            "diff": fields.pop("diff", ""),
            "error_logs": fields.pop("error_logs", ""),
            "task_description": fields.pop("task_description", ""),
            "failure_type": fields.pop("failure_type", "other"),
            "prompt": request.prompt,
            "system": request.system,
            **fields,
        }

    def send(self, payload: dict[str, Any]) -> str:
        token = os.environ.get(self.settings.key_variable(), "").strip()
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        data, raw = post_json(self.settings.url, payload, headers=headers, timeout=self.settings.timeout,
                              what="webhook teacher")
        text = answer_text(data, raw)
        if not text.strip():
            raise TeacherError(f"webhook teacher: empty answer from {self.settings.url}")
        return text

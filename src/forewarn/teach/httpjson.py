"""One JSON POST over the standard library, with errors sorted into retry-worthy and final.

The OpenAI-compatible and webhook backends need exactly one thing from HTTP: post a JSON body
with a timeout and read a JSON (or text) answer. `urllib.request` does that with no dependency,
keeps forewarn's core install small, and honours the usual proxy variables; a client library
(httpx) would add a dependency for connection pooling and async we never use.

Invariants: HTTP 408, 409, 425, 429 and 5xx, timeouts and connection failures raise
`TransientError` (with the server's Retry-After when it gave one); other HTTP errors raise
`TeacherError` with the status and the head of the body; credentials never appear in a message.
"""

from __future__ import annotations

import http.client
import json
import socket
import urllib.error
import urllib.request
from email.message import Message
from typing import Any

from forewarn.teach.base import TeacherError, TransientError

RETRY_STATUSES = frozenset({408, 409, 425, 429})
BODY_HEAD = 300  # characters of an error body worth showing


def retry_after(headers: Message | None) -> float | None:
    """Seconds from `Retry-After` (a number of seconds; HTTP dates are treated as absent)."""
    if headers is None:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(float(value) * scale, 0.0)
        except ValueError:
            continue
    return None


def _head(data: bytes) -> str:
    text = " ".join(data.decode("utf-8", "replace").split())
    return text[:BODY_HEAD] + ("…" if len(text) > BODY_HEAD else "")


def post_json(url: str, body: Any, *, headers: dict[str, str], timeout: float, what: str) -> tuple[Any, str]:
    """POST `body` as JSON; returns (parsed JSON or None, raw text). `what` names the backend
    in messages ("openai teacher")."""
    data = json.dumps(body, ensure_ascii=False).encode()
    request = urllib.request.Request(url, data=data, method="POST", headers={
        "Content-Type": "application/json", "Accept": "application/json", "User-Agent": "forewarn", **headers})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
    except urllib.error.HTTPError as err:
        payload = err.read() if err.fp is not None else b""
        message = f"{what}: HTTP {err.code} from {url}: {_head(payload) or err.reason}"
        if err.code in RETRY_STATUSES or err.code >= 500:
            raise TransientError(message, retry_after(err.headers)) from None
        raise TeacherError(message) from None
    except TimeoutError:
        raise TransientError(f"{what}: no answer from {url} within {timeout:g}s") from None
    except urllib.error.URLError as err:
        reason = err.reason
        if isinstance(reason, (TimeoutError, socket.timeout)):
            raise TransientError(f"{what}: no answer from {url} within {timeout:g}s") from None
        raise TransientError(f"{what}: cannot reach {url}: {reason}") from None
    except (OSError, http.client.HTTPException) as err:
        raise TransientError(f"{what}: connection to {url} failed: {err or type(err).__name__}") from None
    except ValueError as err:  # a malformed URL
        raise TeacherError(f"{what}: bad URL {url!r}: {err}") from None
    text = raw.decode("utf-8", "replace")
    try:
        return json.loads(text), text
    except ValueError:
        return None, text

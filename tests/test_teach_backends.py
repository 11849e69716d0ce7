"""Teacher backends against real endpoints on loopback: the OpenAI chat-completions API, the
Anthropic Messages API (through the real `anthropic` SDK), a webhook, and stand-in agent CLIs."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from forewarn.errors import ForewarnError
from forewarn.teach.base import (
    NoTeacher,
    TeacherError,
    TeacherRequest,
    TeacherUnavailable,
    get_teacher,
)
from forewarn.teach.settings import TeacherSettings, load_teacher_settings
from tests.teach_fixtures import (
    Reply,
    ScriptedServer,
    anthropic_answer,
    openai_answer,
    put_first_on_path,
    serve,
    write_config,
    write_program,
)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    yield from serve()


def _installed(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


REQUEST = TeacherRequest(system="You are the teacher.", prompt="Tests failed.",
                         fields={"diff": "--- a\n+++ b", "error_logs": "E assert 0 is None",
                                 "task_description": "fix safe_divide", "failure_type": "test_failure"})


def settings(backend: str, **kw: object) -> TeacherSettings:
    base: dict[str, object] = {"backend": backend, "model": "test-model", "timeout": 2.0, "retries": 2, "backoff": 0.01}
    base.update(kw)
    return TeacherSettings(**base)  # type: ignore[arg-type]


# -- registry and settings ----------------------------------------------------------------------

def test_no_teacher_and_unknown_backend_are_clear() -> None:
    with pytest.raises(NoTeacher, match=r"no teacher is configured"):
        get_teacher(TeacherSettings())
    with pytest.raises(ForewarnError, match=r"unknown teacher backend 'gpt9'.*anthropic.*webhook"):
        get_teacher(TeacherSettings(backend="gpt9"))
    assert get_teacher(TeacherSettings(backend="local")).name == "anthropic"  # seed 002's name
    assert get_teacher(TeacherSettings(backend="n8n")).name == "webhook"


def test_settings_come_from_config_and_extra_keys(isolated_home: Path) -> None:
    write_config(isolated_home, {"backend": "OpenAI", "model": "m", "url": "http://x", "timeout": 7,
                                 "keyEnv": "MY_KEY", "retries": 5, "backoff": "soon"})
    s = load_teacher_settings(isolated_home)
    assert (s.backend, s.model, s.url, s.timeout, s.key_env, s.retries) == ("openai", "m", "http://x", 7.0, "MY_KEY", 5)
    assert s.backoff == 1.0  # a bad value falls back to the default
    assert load_teacher_settings(isolated_home, backend="webhook").backend == "webhook"


# -- OpenAI-compatible ----------------------------------------------------------------------------

def test_openai_success_sends_chat_completion(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-key-123")
    server.reply(Reply(body=openai_answer("the answer")))
    teacher = get_teacher(settings("openai", url=server.url + "/v1"))
    assert teacher.ask(REQUEST) == "the answer"
    (seen,) = server.requests
    assert seen.path == "/v1/chat/completions"
    assert seen.headers["authorization"] == "Bearer sk-test-key-123"
    assert seen.body["model"] == "test-model"
    assert seen.body["messages"] == [{"role": "system", "content": "You are the teacher."},
                                     {"role": "user", "content": "Tests failed."}]
    assert seen.body == teacher.payload(REQUEST)  # the dry-run payload is exactly what is sent


def test_openai_retries_429_and_5xx_with_backoff(server: ScriptedServer) -> None:
    server.reply(Reply(429, {"error": "slow down"}, {"Retry-After": "0.02"}), Reply(503, {"error": "busy"}),
                 Reply(body=openai_answer("ok")))
    sleeps: list[float] = []
    teacher = get_teacher(settings("openai", url=server.url))  # local server: no key needed
    assert teacher.ask(REQUEST, sleep=sleeps.append) == "ok"
    assert len(server.requests) == 3
    assert sleeps == [0.02, 0.02]  # Retry-After honoured, then the backoff (0.01 doubled)
    assert "authorization" not in server.requests[0].headers


def test_openai_gives_up_after_retries(server: ScriptedServer) -> None:
    server.reply(Reply(500, {"error": "down"}))
    teacher = get_teacher(settings("openai", url=server.url, retries=1))
    with pytest.raises(TeacherError, match=r"HTTP 500.*gave up after 2 attempts"):
        teacher.ask(REQUEST, sleep=lambda _s: None)
    assert len(server.requests) == 2


def test_openai_timeout_is_retried_then_reported(server: ScriptedServer) -> None:
    server.reply(Reply(body=openai_answer("late"), delay=0.6))
    teacher = get_teacher(settings("openai", url=server.url, timeout=0.15, retries=1))
    with pytest.raises(TeacherError, match=r"no answer .* within 0.15s.*gave up after 2"):
        teacher.ask(REQUEST, sleep=lambda _s: None)
    assert len(server.requests) == 2


def test_openai_client_errors_are_not_retried(server: ScriptedServer) -> None:
    server.reply(Reply(401, {"error": {"message": "bad key"}}))
    teacher = get_teacher(settings("openai", url=server.url))
    with pytest.raises(TeacherError, match=r"HTTP 401.*bad key"):
        teacher.ask(REQUEST, sleep=lambda _s: None)
    assert len(server.requests) == 1


def test_openai_malformed_body(server: ScriptedServer) -> None:
    server.reply(Reply(body="<html>gateway</html>"))
    with pytest.raises(TeacherError, match=r"unexpected answer"):
        get_teacher(settings("openai", url=server.url)).ask(REQUEST)
    server.replies.clear()
    server.reply(Reply(body={"choices": [{"message": {"content": "  "}}]}))
    with pytest.raises(TeacherError, match=r"empty answer"):
        get_teacher(settings("openai", url=server.url)).ask(REQUEST)


def test_openai_unavailable_without_model_or_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(TeacherUnavailable, match=r"needs a model"):
        get_teacher(settings("openai", model="")).check()
    with pytest.raises(TeacherUnavailable, match=r"\$OPENAI_API_KEY"):
        get_teacher(settings("openai")).check()


# -- Anthropic Messages API, through the SDK ---------------------------------------------------------

@pytest.fixture
def sdk() -> None:
    pytest.importorskip("anthropic")


@pytest.mark.usefixtures("sdk")
def test_anthropic_success_through_the_sdk(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    server.reply(Reply(body=anthropic_answer("rule text")))
    teacher = get_teacher(settings("anthropic", url=server.url, max_tokens=321))
    assert teacher.ask(REQUEST) == "rule text"
    (seen,) = server.requests
    assert seen.path == "/v1/messages"
    # the key travels as x-api-key (SDK 0.x) or as a bearer token (newer SDKs)
    assert "sk-ant-test" in (seen.headers.get("x-api-key", ""), seen.headers.get("authorization", "").removeprefix("Bearer "))
    assert seen.body["system"] == "You are the teacher."
    assert seen.body["messages"] == [{"role": "user", "content": "Tests failed."}]
    assert (seen.body["model"], seen.body["max_tokens"]) == ("test-model", 321)


@pytest.mark.usefixtures("sdk")
def test_anthropic_retries_overload_then_succeeds(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    overloaded = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    server.reply(Reply(529, overloaded), Reply(429, overloaded, {"retry-after": "0"}), Reply(body=anthropic_answer("ok")))
    sleeps: list[float] = []
    assert get_teacher(settings("anthropic", url=server.url)).ask(REQUEST, sleep=sleeps.append) == "ok"
    assert len(server.requests) == 3  # the SDK's own retries are off: these are ours
    assert sleeps == [0.01, 0.0]


@pytest.mark.usefixtures("sdk")
def test_anthropic_errors(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    server.reply(Reply(400, {"type": "error", "error": {"type": "invalid_request_error", "message": "bad model"}}))
    with pytest.raises(TeacherError, match=r"HTTP 400.*bad model"):
        get_teacher(settings("anthropic", url=server.url)).ask(REQUEST)
    assert len(server.requests) == 1
    server.replies.clear()
    server.reply(Reply(body=anthropic_answer("late"), delay=0.6))
    with pytest.raises(TeacherError, match=r"within 0.15s.*gave up after 1 attempt"):
        get_teacher(settings("anthropic", url=server.url, timeout=0.15, retries=0)).ask(REQUEST)


def test_anthropic_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    if "anthropic" in sys.modules or _installed("anthropic"):
        with pytest.raises(TeacherUnavailable, match=r"\$ANTHROPIC_API_KEY"):
            get_teacher(settings("anthropic")).check()
    monkeypatch.setenv("ANTHROPIC_API_KEY", "k")
    monkeypatch.setitem(sys.modules, "anthropic", None)  # as if the extra were not installed
    with pytest.raises(TeacherUnavailable, match=r"pip install 'forewarn\[teacher\]'"):
        get_teacher(settings("anthropic")).check()


# -- webhook ----------------------------------------------------------------------------------------

def test_webhook_posts_seed_payload_with_bearer(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("N8N_TOKEN", "tok-123456789")
    server.reply(Reply(body=[{"json": {"output": "rule as text"}}]))  # n8n's list-of-items shape
    teacher = get_teacher(settings("webhook", url=server.url + "/webhook/teacher", key_env="N8N_TOKEN"))
    assert teacher.ask(REQUEST) == "rule as text"
    (seen,) = server.requests
    assert seen.path == "/webhook/teacher"
    assert seen.headers["authorization"] == "Bearer tok-123456789"
    assert {k: seen.body[k] for k in ("diff", "error_logs", "task_description", "failure_type", "prompt")} == {
        "diff": "--- a\n+++ b", "error_logs": "E assert 0 is None", "task_description": "fix safe_divide",
        "failure_type": "test_failure", "prompt": "Tests failed."}


def test_webhook_rule_object_and_errors(server: ScriptedServer) -> None:
    server.reply(Reply(body={"rule": "R", "when": "W", "why": "Y"}), Reply(404, "no such webhook"))
    teacher = get_teacher(settings("webhook", url=server.url))
    assert json.loads(teacher.ask(REQUEST)) == {"rule": "R", "when": "W", "why": "Y"}
    with pytest.raises(TeacherError, match=r"HTTP 404.*no such webhook"):
        teacher.ask(REQUEST)
    with pytest.raises(TeacherUnavailable, match=r"needs a URL"):
        get_teacher(settings("webhook")).check()


# -- agent CLIs -----------------------------------------------------------------------------------

CLI_SCRIPT = """
import json, os, sys
from pathlib import Path
Path(os.environ["CLI_LOG"]).write_text(json.dumps({"argv": sys.argv[1:], "cwd": os.getcwd()}))
mode = os.environ.get("CLI_MODE", "ok")
if mode == "fail":
    print("quota exceeded", file=sys.stderr); sys.exit(3)
if mode == "sleep":
    import time; time.sleep(5)
name = Path(sys.argv[0]).name
if name == "claude":
    print(json.dumps({"type": "result", "is_error": False, "result": "claude says hi"}))
elif name == "gemini":
    print("Loaded cached credentials.")
    print(json.dumps({"response": "gemini says hi", "stats": {}}))
else:
    print("codex says hi")
"""


@pytest.mark.parametrize(("backend", "program", "expected"), [
    ("claude-cli", "claude", "claude says hi"), ("gemini-cli", "gemini", "gemini says hi"),
    ("codex-cli", "codex", "codex says hi")])
def test_agent_cli_teachers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, backend: str, program: str,
                            expected: str) -> None:
    bin_dir = tmp_path / "bin"
    write_program(bin_dir, program, CLI_SCRIPT)
    put_first_on_path(monkeypatch, bin_dir)
    log = tmp_path / "cli.json"
    monkeypatch.setenv("CLI_LOG", str(log))
    monkeypatch.chdir(tmp_path)
    teacher = get_teacher(settings(backend))
    assert teacher.ask(REQUEST) == expected
    seen = json.loads(log.read_text())
    assert "You are the teacher." in " ".join(seen["argv"]) and "Tests failed." in " ".join(seen["argv"])
    assert "test-model" in seen["argv"]
    assert Path(seen["cwd"]).resolve() != tmp_path.resolve()  # never inside the project
    assert seen["argv"] == teacher.payload(REQUEST)["argv"][1:]


def test_agent_cli_failures(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    write_program(bin_dir, "claude", CLI_SCRIPT)
    put_first_on_path(monkeypatch, bin_dir)
    monkeypatch.setenv("CLI_LOG", str(tmp_path / "cli.json"))
    monkeypatch.setenv("CLI_MODE", "fail")
    with pytest.raises(TeacherError, match=r"exited with 3: quota exceeded"):
        get_teacher(settings("claude-cli")).ask(REQUEST)
    monkeypatch.setenv("CLI_MODE", "sleep")
    with pytest.raises(TeacherError, match=r"no answer within 0.3s.*gave up after 1 attempt"):
        get_teacher(settings("claude-cli", timeout=0.3, retries=0)).ask(REQUEST)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(TeacherUnavailable, match=r"needs `gemini` on PATH"):
        get_teacher(settings("gemini-cli")).check()

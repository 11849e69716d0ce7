"""The failure router's prompts, the rule parser, request building (redaction) and re-asking."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forewarn.analyze.findings import CATEGORIES
from forewarn.teach.ask import FailureContext, ask_rule, build_request
from forewarn.teach.base import get_teacher
from forewarn.teach.router import FAILURE_TYPES, PROMPTS_DIR, classify, load_prompt, route
from forewarn.teach.rules import MalformedAnswer, parse_rule
from forewarn.teach.settings import TeacherSettings
from tests.teach_fixtures import RULE, Reply, ScriptedServer, openai_answer, serve


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    yield from serve()


# -- router ---------------------------------------------------------------------------------------

def test_every_failure_type_has_its_own_shipped_prompt() -> None:
    texts = {name: (PROMPTS_DIR / f"{name}.md").read_text() for name in (*FAILURE_TYPES, "refine")}
    assert len(set(texts.values())) == len(texts)  # domain-specific, not one prompt copied
    assert "existing" in texts["integration_error"] and "workflow" in texts["workflow_error"]


def test_user_prompt_overrides_shipped_one(isolated_home: Path) -> None:
    assert not load_prompt("planning_error", isolated_home).overridden
    (isolated_home / "prompts").mkdir(parents=True)
    (isolated_home / "prompts" / "planning_error.md").write_text("Our own planning teacher.")
    prompt = load_prompt("planning_error", isolated_home)
    assert prompt.overridden and prompt.text == "Our own planning teacher."
    assert load_prompt("nonsense", isolated_home).failure_type == "other"


def test_route_and_classify() -> None:
    assert route("PLANNING_ERROR") == "planning_error" and route(None) == "other"
    assert classify("E   AssertionError: assert 0 is None") == "test_failure"
    assert classify("Created a duplicate workflow next to the existing one") == "integration_error"
    assert classify("the API key env var was wrong") == "config_error"
    assert classify("it rained") == "other"


# -- parsing --------------------------------------------------------------------------------------

def test_parse_json_rule() -> None:
    rule = parse_rule(json.dumps(RULE), "test_failure", source="test failure", today="2026-01-02")
    assert rule.rule == RULE["rule"] and rule.when == RULE["when"] and rule.why == RULE["why"]
    assert rule.category == "edits"
    assert rule.paths == ("calc.py",)  # absolute paths are not project globs
    assert rule.markdown().splitlines() == [
        f"- **Rule**: {RULE['rule']}", f"- **When**: {RULE['when']}", f"- **Why**: {RULE['why']}",
        "  - **Source**: Learned on 2026-01-02 from test failure"]


def test_parse_fenced_prose_and_seed_markdown() -> None:
    fenced = "Here you go:\n```json\n" + json.dumps(RULE) + "\n```\nHope it helps."
    assert parse_rule(fenced, "test_failure").rule == RULE["rule"]
    prose = "Sure! " + json.dumps({"rule": {"rule": "R", "when": "W", "why": "Y"}}) + " done"
    assert parse_rule(prose, "other").rule == "R"
    markdown = ("Root cause: it guessed.\n- **Rule**: Check the registry first\n- **When**: Adding a workflow\n"
                "- **Why**: Duplicates drift apart\n")
    rule = parse_rule(markdown, "integration_error")
    assert (rule.rule, rule.when, rule.why, rule.root_cause) == (
        "Check the registry first", "Adding a workflow", "Duplicates drift apart", "it guessed.")
    assert rule.category == "search_scope"  # the default for integration errors


def test_malformed_answers_say_what_is_missing() -> None:
    with pytest.raises(MalformedAnswer, match="neither"):
        parse_rule("I think the tests are wrong.", "test_failure")
    with pytest.raises(MalformedAnswer, match="no when, no why"):
        parse_rule('{"rule": "Do X"}', "test_failure")


def test_rule_text_is_redacted_and_one_line() -> None:
    rule = parse_rule(json.dumps({"rule": "Use token ghp_" + "a" * 36 + "\nalways", "when": "w", "why": "y",
                                  "category": "bogus"}), "config_error")
    assert "ghp_" not in rule.rule and "\n" not in rule.rule
    assert rule.category == "environment"


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=300))
def test_parse_rule_only_ever_raises_malformed(text: str) -> None:
    try:
        rule = parse_rule(text, "other")
    except MalformedAnswer:
        return
    assert rule.rule and rule.when and rule.why and rule.category in CATEGORIES


@settings(max_examples=40, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=80).filter(str.strip),
       st.sampled_from(list(CATEGORIES)))
def test_json_round_trip(text: str, category: str) -> None:
    answer = json.dumps({"rule": text, "when": text, "why": text, "category": category})
    rule = parse_rule(answer, "test_failure")
    assert rule.rule == " ".join(text.split()) and rule.category == category


# -- building requests and asking -------------------------------------------------------------------

SECRET = "sk-ant-api03-" + "x" * 40


def test_request_is_redacted_clipped_and_routed(isolated_home: Path) -> None:
    failure = FailureContext(failure_type="test_failure", task="fix it", diff="+API_KEY=" + SECRET + "\n" + "+x\n" * 20_000,
                             error_logs=f"E  Authorization: Bearer {SECRET}\nE  assert 0 is None")
    request = build_request(failure, isolated_home)
    assert SECRET not in request.prompt and SECRET not in json.dumps(request.fields)
    assert "assert 0 is None" in request.fields["error_logs"]
    assert len(request.fields["diff"]) < 20_000 and "elided" in request.fields["diff"]
    assert request.system.startswith(load_prompt("test_failure", isolated_home).text)
    assert '"rule"' in request.system  # the answer format is always appended
    assert request.fields["failure_type"] == "test_failure"


def _teacher(server: ScriptedServer):  # type: ignore[no-untyped-def]
    return get_teacher(TeacherSettings(backend="openai", model="m", url=server.url, retries=0, backoff=0.0))


def test_malformed_answer_is_asked_again_once(server: ScriptedServer, isolated_home: Path) -> None:
    server.reply(Reply(body=openai_answer("The tests look wrong to me.")), Reply(body=openai_answer(json.dumps(RULE))))
    rule = ask_rule(_teacher(server), FailureContext("test_failure", task="t", error_logs="boom"), isolated_home)
    assert rule.rule == RULE["rule"]
    first, second = (r.body["messages"][1]["content"] for r in server.requests)
    assert "could not be used" not in first
    assert "could not be used: the teacher's answer holds neither" in second


def test_malformed_twice_is_an_error(server: ScriptedServer, isolated_home: Path) -> None:
    server.reply(Reply(body=openai_answer('{"rule": "only a rule"}')))
    with pytest.raises(MalformedAnswer, match="after 2 answers"):
        ask_rule(_teacher(server), FailureContext("other", description="d"), isolated_home)
    assert len(server.requests) == 2

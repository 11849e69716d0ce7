"""The lesson model, its generated JSON Schemas, the tiny validator and the codec."""

from __future__ import annotations

import json
import time
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forewarn.lessons import model, schema
from forewarn.lessons.model import EvidenceRef, Lesson, Provenance, Triggers
from forewarn.lessons.ulid import is_ulid, new_ulid, ulid_time_ms


def test_ulids_are_valid_time_ordered_and_monotonic() -> None:
    before = int(time.time() * 1000)
    ids = [new_ulid() for _ in range(500)]
    assert all(is_ulid(i) and len(i) == 26 for i in ids)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert before <= ulid_time_ms(ids[0]) <= int(time.time() * 1000)
    assert new_ulid(now_ms=0) < new_ulid(now_ms=1) < new_ulid(now_ms=2**48 - 1)
    with pytest.raises(ValueError):
        new_ulid(now_ms=2**48)


def test_slug_is_kebab_summary_plus_base36_suffix() -> None:
    slug = model.new_slug("pytest hangs in non-interactive envs (TTY!)")
    base, suffix = slug.rsplit("-", 1)
    assert base == "pytest-hangs-in-non-interactive-envs-tty"
    assert len(suffix) == 4 and suffix.isalnum() and suffix == suffix.lower()
    assert model.new_slug("!!!").startswith("lesson-")
    taken = {model.new_slug("x") for _ in range(50)}
    assert model.new_slug("x", taken) not in taken


def test_content_hash_covers_mistake_remediation_and_triggers_only() -> None:
    t = Triggers(tool_names=("Bash",), command_patterns=(r"\bpytest\b",))
    digest = model.content_hash("m", "r", t)
    assert digest.startswith("sha256:") and len(digest) == 7 + 64
    assert digest == model.content_hash("m", "r", Triggers(tool_names=("Bash",), command_patterns=(r"\bpytest\b",)))
    assert digest != model.content_hash("m", "r2", t)
    assert digest != model.content_hash("m", "r", replace(t, path_patterns=("*.py",)))
    a = model.make_lesson("one summary", "r", mistake="m", triggers=t)
    b = model.make_lesson("another summary", "r", mistake="m", triggers=t, priority=9)
    assert a.content_hash == b.content_hash == digest


def test_injection_is_rendered_within_200_bytes_and_kept_when_hand_written() -> None:
    lesson = model.make_lesson("pytest hangs " * 20, "use `pytest --no-header` " * 30)
    assert len(lesson.injection.encode()) <= model.INJECTION_MAX_BYTES
    assert lesson.injection.startswith("Lesson: pytest hangs")
    assert len(lesson.summary) <= model.SUMMARY_MAX
    short = model.make_lesson("s", "fix it")
    assert short.injection == "Lesson: s\nFix: fix it"
    # a default rendering follows the text; a hand-written injection is kept
    assert model.touch(short, remediation="do y").injection == "Lesson: s\nFix: do y"
    custom = model.touch(short, injection="## custom")
    assert model.touch(custom, remediation="do z").injection == "## custom"


@given(st.text(max_size=400), st.integers(min_value=4, max_value=300))
def test_clip_bytes_never_exceeds_the_limit(text: str, limit: int) -> None:
    assert len(model.clip_bytes(text, limit).encode()) <= limit


def test_tags_are_normalised_and_validated() -> None:
    assert model.normalize_tag(" Lang: Python ") == "lang:python"
    assert model.normalize_tags(["tool:pytest", "TOOL:pytest", "severity:data loss"]) == (
        "severity:data-loss", "tool:pytest")
    for bad in ("pytest", ":x", "lang:", "1x:y", "a:b c:d e"):
        with pytest.raises(ValueError):
            model.normalize_tag(bad)
    assert model.normalize_tags(["ok:yes", "bad"], strict=False) == ("ok:yes",)


def test_make_lesson_rejects_values_outside_the_model() -> None:
    for kwargs in ({"priority": 11}, {"confidence": 1.5}, {"action": "deny"}, {"scope": "team"}):
        with pytest.raises(ValueError):
            model.make_lesson("s", "r", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        model.make_lesson("  ", "r")


@pytest.mark.parametrize("name", sorted(schema.DOCUMENTS))
def test_shipped_schemas_are_generated_from_the_model(name: str) -> None:
    shipped = (schema.SCHEMA_DIR / name).read_text(encoding="utf-8")
    assert shipped == schema.render_schema(schema.DOCUMENTS[name]), (
        f"{name} is stale: run `python -m forewarn.lessons.schema`")


def test_schema_reflects_fields_types_defaults_and_metadata() -> None:
    doc = schema.schema_for(model.LessonsDocument)
    lesson = doc["$defs"]["Lesson"]
    assert lesson["required"] == ["id", "slug", "summary"]
    assert lesson["additionalProperties"] is False
    props = lesson["properties"]
    assert props["priority"] == {**props["priority"], "type": "integer", "minimum": 1, "maximum": 10, "default": 5}
    assert props["action"]["enum"] == ["warn", "block"]
    assert props["signature"]["type"] == ["string", "null"]
    assert props["tags"]["items"]["pattern"] == model.TAG_PATTERN
    assert props["triggers"] == {**props["triggers"], "$ref": "#/$defs/Triggers"}
    assert doc["properties"]["$schema"]["type"] == "string"
    assert doc["$defs"]["Provenance"]["properties"]["source"]["enum"] == list(model.SOURCES)
    manifest = schema.schema_for(model.Manifest)
    assert manifest["properties"]["lessons"]["propertyNames"]["pattern"] == model.ULID_PATTERN
    entry = manifest["$defs"]["ManifestLesson"]
    assert set(entry["required"]) == set(entry["properties"])  # the hook can rely on every key


def _full_lesson() -> Lesson:
    return model.make_lesson(
        "pytest hangs", "use --no-header", mistake="tty",
        triggers=Triggers(tool_names=("Bash",), command_patterns=(r"\bpytest\b",), path_patterns=("*.py",)),
        tags=["tool:pytest"], signature="sig-1",
        provenance=Provenance(source="heuristic", source_session_ids=("s1",),
                              evidence=(EvidenceRef(file="f.jsonl", call_id="c1", fix_call_id="c2",
                                                    failing="pytest", fix="pytest --no-header", error="hang"),),
                              occurrence_count=3))


def test_codec_round_trips_and_the_validator_accepts_what_the_codec_writes() -> None:
    lesson = _full_lesson()
    data = schema.to_json(lesson)
    assert data["needsReview"] is False and data["provenance"]["evidence"][0]["fixCallId"] == "c2"
    assert schema.validate(data, schema.definition(Lesson)) == []
    assert schema.from_json(Lesson, json.loads(json.dumps(data))) == lesson
    doc = schema.to_json(model.LessonsDocument(lessons=(lesson,)))
    full = schema.schema_for(model.LessonsDocument)
    assert schema.validate(doc, full) == []


def test_validator_names_each_problem_with_its_path() -> None:
    data = schema.to_json(_full_lesson())
    data.update(priority=11, confidence=True, action="deny", bogus=1, tags=["Bad Tag"])
    data["provenance"]["evidence"][0].pop("callId")
    problems = schema.validate(data, schema.definition(Lesson), path="lesson")
    text = "\n".join(problems)
    for expected in ("lesson.priority: 11 is above the maximum 10", "lesson.confidence: expected number",
                     "lesson.action: must be one of warn, block", "unknown key 'bogus'",
                     "lesson.tags[0]", "lesson.provenance.evidence[0]: missing required key 'callId'"):
        assert expected in text

"""The manifest: its exact shape (validated against the generated schema), what goes in, safety."""

from __future__ import annotations

import json
import re
from pathlib import Path

from forewarn.lessons import model, ops, schema
from forewarn.lessons.manifest import (
    build_manifest,
    load_injection_config,
    manifest_path,
    rebuild_manifest,
)
from forewarn.lessons.model import Triggers
from forewarn.lessons.store import global_store_path

MANIFEST_SCHEMA = json.loads((schema.SCHEMA_DIR / "manifest.schema.json").read_text())
CONFIG_KEYS = {"injectionBudgetBytes", "maxLessonsPerInjection", "minConfidence", "minPriority",
               "compactionReinjectionThreshold", "hookDeadlineMs"}
ENTRY_KEYS = {"slug", "priority", "confidence", "action", "families", "toolNames", "commandRegexSources",
              "pathRegexSources", "tags", "injection", "summary", "remedy", "scope", "projectRoot"}


def make(summary: str, **kwargs: object) -> model.Lesson:
    kwargs.setdefault("confidence", 0.9)
    kwargs.setdefault("triggers", Triggers(tool_names=("Bash",), command_patterns=(rf"\b{summary.split()[0]}\b",)))
    return model.make_lesson(summary, kwargs.pop("remediation", f"fix for {summary}"), **kwargs)  # type: ignore[arg-type]


def read_manifest() -> dict:
    return json.loads(manifest_path().read_text())


def test_manifest_has_exactly_the_contract_shape() -> None:
    shell = make("pytest hangs", tags=["tool:pytest"], action="block",
                 triggers=Triggers(tool_names=("Bash", "exec_command", "run_shell_command"),
                                   command_patterns=(r"(?s)^(?!.*--no-header).*?\bpytest\b",)))
    files = make("generated files", triggers=Triggers(path_patterns=("src/gen/**",)))
    ops.add_lessons([shell, files])
    data = read_manifest()
    assert schema.validate(data, MANIFEST_SCHEMA) == []
    assert data["type"] == "forewarn-manifest" and data["version"] == 1
    assert data["$schema"].endswith("manifest.schema.json")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", data["generatedAt"])
    assert set(data["config"]) == CONFIG_KEYS and data["config"]["hookDeadlineMs"] == 150
    assert set(data["lessons"]) == {shell.id, files.id}
    entry = data["lessons"][shell.id]
    assert set(entry) == ENTRY_KEYS
    assert entry["families"] == ["shell"]
    assert entry["toolNames"] == ["Bash", "exec_command", "run_shell_command"]
    assert entry["commandRegexSources"] == [{"source": r"^(?!.*--no-header).*?\bpytest\b", "flags": "is"}]
    assert entry["pathRegexSources"] == []
    assert entry["action"] == "block" and entry["remedy"] == "fix for pytest hangs"
    assert entry["scope"] == "global" and entry["projectRoot"] is None
    assert len(entry["injection"].encode()) <= 200
    paths = data["lessons"][files.id]
    assert paths["families"] == ["edit", "read", "write"] and paths["toolNames"] == []
    assert paths["pathRegexSources"] == [{"source": "^(?:.*/)?src/gen/.*$", "flags": ""}]


def test_every_regex_in_the_manifest_compiles_under_its_flags() -> None:
    ops.add_lessons([make("pytest x"), make("files", triggers=Triggers(tool_names=("Read",), path_patterns=("*.lock",)))])
    bits = {"i": re.I, "s": re.S, "m": re.M, "x": re.X}
    for entry in read_manifest()["lessons"].values():
        for rx in entry["commandRegexSources"] + entry["pathRegexSources"]:
            flags = 0
            for letter in rx["flags"]:
                flags |= bits[letter]
            re.compile(rx["source"], flags)


def test_only_active_reviewed_lessons_above_the_floors_go_in() -> None:
    keep = make("keep me")
    lessons = [keep, make("pending review", needs_review=True), make("low confidence", confidence=0.2),
               make("archived one", status="archived"), make("rejected one", status="rejected")]
    ops.add_lessons(lessons)
    result = build_manifest()
    assert set(result.manifest.lessons) == {keep.id} and result.excluded == 4


def test_config_json_sets_the_floors_and_the_snapshot(isolated_home: Path) -> None:
    isolated_home.mkdir(parents=True, exist_ok=True)
    (isolated_home / "config.json").write_text(json.dumps({"injection": {"minPriority": 6, "maxLessonsPerInjection": 5}}))
    assert load_injection_config().min_priority == 6
    ops.add_lessons([make("high priority", priority=8), make("low priority", priority=3)])
    data = read_manifest()
    assert data["config"]["minPriority"] == 6 and data["config"]["maxLessonsPerInjection"] == 5
    assert [e["slug"].startswith("high") for e in data["lessons"].values()] == [True]


def test_dangerous_patterns_are_dropped_with_a_warning_and_the_rest_kept() -> None:
    mixed = make("mixed", triggers=Triggers(tool_names=("Bash",), command_patterns=(r"(a+)+$", r"\bgood\b")))
    only_bad = make("only bad", triggers=Triggers(tool_names=("Bash",), command_patterns=(r"(.*)*x",)))
    outcome = ops.add_lessons([mixed, only_bad])
    data = read_manifest()
    assert [rx["source"] for rx in data["lessons"][mixed.id]["commandRegexSources"]] == [r"\bgood\b"]
    assert only_bad.id not in data["lessons"]
    assert any("nested quantifier" in w for w in outcome.warnings)
    assert any("no usable command or path pattern" in w for w in outcome.warnings)


def test_hand_edits_to_the_store_reach_the_manifest_on_rebuild() -> None:
    lesson = make("pytest hangs")
    ops.add_lessons([lesson])
    path = global_store_path()
    data = json.loads(path.read_text())
    data["lessons"][0]["priority"] = 2
    data["lessons"][0]["triggers"]["commandPatterns"] = ["(unclosed"]
    path.write_text(json.dumps(data))
    result = rebuild_manifest()
    assert result.count == 0 and any("does not compile" in w for w in result.warnings)


def test_the_hook_index_is_rebuilt_with_the_manifest(isolated_home: Path) -> None:
    ops.add_lessons([make("pytest hangs")])
    assert any((isolated_home / "hook-index").iterdir())

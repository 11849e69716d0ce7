"""The one config file: schema up to date, typed and validated set/unset, lenient reads,
atomic writes that never damage the file, and the loaders other modules read through."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forewarn.analyze.score import Weights, load_weights
from forewarn.config import (
    CONFIG_SCHEMA_FILE,
    all_keys,
    config_path,
    get_value,
    injection_config,
    load_config,
    read_config,
    render_schema,
    resolve_key,
    set_value,
    unset_value,
)
from forewarn.errors import ForewarnError
from forewarn.lessons.schema import SCHEMA_DIR


def test_shipped_schema_is_generated_from_the_dataclasses() -> None:
    shipped = (SCHEMA_DIR / CONFIG_SCHEMA_FILE).read_text(encoding="utf-8")
    assert shipped == render_schema(), "run `python -m forewarn.config` to regenerate config.schema.json"


def test_defaults_without_a_file(isolated_home: Path) -> None:
    cf = read_config()
    assert not cf.exists and cf.problems == ()
    c = cf.config
    assert (c.learning.enabled, c.learning.analysis_interval, c.learning.min_samples,
            c.learning.confidence_threshold) == (True, 86400, 10, 0.7)
    assert (c.injection.injection_budget_bytes, c.injection.max_lessons_per_injection, c.injection.min_confidence,
            c.injection.min_priority, c.injection.compaction_reinjection_threshold) == (4096, 3, 0.5, 1, 7)
    assert c.scoring == Weights()
    assert c.teacher.timeout == 60


def test_set_get_unset_round_trip_with_every_spelling(isolated_home: Path) -> None:
    set_value("learning.min_samples", "25")
    set_value("learning.minSamples", "30")
    set_value("minConfidence", "0.65")  # seed 003's flat name
    set_value("scoring.multiSessionBonus", "3")
    set_value("learning.enabled", "no")
    set_value("teacher.model", "claude-sonnet-4-5")
    assert get_value("learning.min_samples") == 30
    c = load_config()
    assert (c.learning.min_samples, c.injection.min_confidence, c.scoring.multiSessionBonus, c.learning.enabled,
            c.teacher.model) == (30, 0.65, 3, False, "claude-sonnet-4-5")
    assert load_weights().multiSessionBonus == 3
    assert injection_config().min_confidence == 0.65
    raw = json.loads(config_path().read_text(encoding="utf-8"))
    assert raw["type"] == "forewarn-config" and raw["version"] == 1 and raw["$schema"].endswith(CONFIG_SCHEMA_FILE)
    assert raw["learning"] == {"enabled": False, "minSamples": 30}  # only what was set
    unset_value("learning.minSamples")
    assert load_config().learning.min_samples == 10
    assert "minSamples" not in json.loads(config_path().read_text(encoding="utf-8"))["learning"]


@pytest.mark.parametrize(("key", "value", "message"), [
    ("learning.minSamples", "0", "learning.minSamples: 0 is below the minimum 1"),
    ("learning.minSamples", "ten", "learning.minSamples must be a whole number, not 'ten'"),
    ("learning.enabled", "maybe", "learning.enabled must be true or false"),
    ("injection.minConfidence", "1.5", "1.5 is above the maximum 1"),
    ("injection.minConfidence", "nan", "must be a finite number"),
    ("learning.colour", "1", "unknown setting 'learning.colour'"),
    ("learning", "1", "learning is a section"),
    ("type", "x", "unknown setting 'type'"),
])
def test_bad_keys_and_values_are_one_line_errors_and_change_nothing(isolated_home: Path, key: str, value: str,
                                                                    message: str) -> None:
    set_value("learning.minSamples", "12")
    before = config_path().read_bytes()
    with pytest.raises(ForewarnError) as err:
        set_value(key, value)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert config_path().read_bytes() == before


def test_unreadable_file_is_never_overwritten(isolated_home: Path) -> None:
    path = config_path()
    path.parent.mkdir(parents=True)
    path.write_text('{"learning": {"minSamples": 5,}', encoding="utf-8")
    cf = read_config()
    assert cf.config.learning.min_samples == 10 and "not valid JSON" in cf.problems[0]
    with pytest.raises(ForewarnError, match="not valid JSON"):
        set_value("learning.minSamples", "7")
    assert path.read_text(encoding="utf-8") == '{"learning": {"minSamples": 5,}'


def test_hand_edited_mistakes_fall_back_per_value_and_are_reported(isolated_home: Path) -> None:
    path = config_path()
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"learning": {"minSamples": -3, "enabled": False, "typo": 1},
                                "scoring": {"multiSessionBonus": "big", "dataLossBonus": 4},
                                "extra": True}), encoding="utf-8")
    cf = read_config()
    assert cf.config.learning.min_samples == 10 and cf.config.learning.enabled is False
    assert cf.config.scoring.multiSessionBonus == 2 and cf.config.scoring.dataLossBonus == 4
    assert sorted(p.split(":")[0] for p in cf.problems) == ["$.extra", "$.learning.minSamples", "$.learning.typo",
                                                           "$.scoring.multiSessionBonus"]
    # a later valid change still goes through; the old mistakes are left for the person to fix
    set_value("learning.minSamples", "4")
    assert load_config().learning.min_samples == 4


def test_write_is_atomic_and_leaves_no_temp_files(isolated_home: Path) -> None:
    set_value("learning.minSamples", "11")
    set_value("teacher.url", "http://localhost:8080/teach")
    leftovers = [p for p in os.listdir(config_path().parent) if p.endswith(".tmp")]
    assert leftovers == []
    text = config_path().read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.sampled_from(all_keys()), value=st.text(max_size=12))
def test_any_set_either_succeeds_validly_or_changes_nothing(isolated_home: Path, key: str, value: str) -> None:
    path = config_path()
    before = path.read_bytes() if path.exists() else None
    try:
        set_value(key, value)
    except ForewarnError:
        assert (path.read_bytes() if path.exists() else None) == before
    else:
        assert read_config().problems == ()
        section, name = resolve_key(key)
        assert get_value(key) == json.loads(path.read_text(encoding="utf-8"))[section][name]

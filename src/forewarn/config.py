"""forewarn's settings: one validated file, `$FOREWARN_HOME/config.json`.

The dataclasses below are the single source of truth. The JSON Schema shipped as
`forewarn/data/schemas/config.schema.json` is generated from them (`python -m forewarn.config`)
with the same generator and validator the lesson files use (`forewarn.lessons.schema`), and a test
fails when the shipped file drifts. Sections:

- `learning` (seed 001): enabled, analysisInterval, minSamples, confidenceThreshold, staleAfterDays;
- `injection` (seed 003): the hook's budget and gates, the lessons' `InjectionConfig`;
- `scoring` (seed 003 §8): priority and confidence weights, `forewarn.analyze.score.Weights`;
- `teacher` (seed 002): where a teacher model is reached; filled in by the teacher loop.

Invariants:
- Reading never fails: a missing file means defaults; a damaged file or a bad value falls back to
  the default for just that value, and the problem is reported by `read_config` (shown by
  `forewarn config show`).
- Writing never damages: `set_value` parses the value by the field's type, validates the whole
  document, refuses a change that adds a problem (one-line `ForewarnError`), refuses to touch a
  file that is not JSON, and replaces the file atomically (temp file in the same directory), with
  sorted keys and indentation so diffs stay small. Only values that were set are stored, so
  defaults can improve in later versions.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

from forewarn.analyze.score import Weights
from forewarn.errors import ForewarnError
from forewarn.fsutil import write_text_atomic
from forewarn.lessons.model import SCHEMA_BASE, InjectionConfig, doc
from forewarn.lessons.schema import SCHEMA_DIR, json_name, schema_for, to_json, validate

CONFIG_NAME = "config.json"
CONFIG_TYPE = "forewarn-config"
CONFIG_SCHEMA_FILE = "config.schema.json"
CONFIG_SCHEMA_URL = SCHEMA_BASE + CONFIG_SCHEMA_FILE
_HEADER = ("schema", "type", "version")


@dataclass(frozen=True)
class LearningConfig:
    """Analytics and insights (seed 001)."""

    enabled: bool = field(default=True, metadata=doc(
        "Generate insights and recommendations (operations are tracked either way)."))
    analysis_interval: int = field(default=86400, metadata=doc(
        "Seconds between periodic analyses (InsightsGenerator.analysis_due).", minimum=0))
    min_samples: int = field(default=10, metadata=doc(
        "Events a group needs before any insight is drawn from it.", minimum=1))
    confidence_threshold: float = field(default=0.7, metadata=doc(
        "Measured precision a confidence/priority band must reach for its lessons to stay injected; "
        "recommendations below it are not made.", minimum=0, maximum=1))
    stale_after_days: int = field(default=30, metadata=doc(
        "A lesson whose failure neither occurred nor was injected for this long is proposed for archiving.",
        minimum=1))


@dataclass(frozen=True)
class TeacherConfig:
    """The model that turns reported failures into rules (seed 002)."""

    backend: str = field(default="none", metadata=doc(
        "How the teacher is reached: none, anthropic (alias local), openai (any OpenAI-compatible endpoint),"
        " webhook (alias n8n), claude-cli, codex-cli, gemini-cli."))
    model: str = field(default="", metadata=doc("Model name for the backend."))
    url: str = field(default="", metadata=doc("Endpoint for webhook or OpenAI-compatible backends."))
    timeout: int = field(default=60, metadata=doc("Seconds to wait for an answer.", minimum=1))
    key_env: str = field(default="", metadata=doc(
        "NAME of the environment variable holding the API key or bearer token (never the key itself);"
        " default ANTHROPIC_API_KEY, OPENAI_API_KEY or FOREWARN_TEACHER_TOKEN by backend."))
    max_tokens: int = field(default=1024, metadata=doc("Longest answer to ask for.", minimum=1))
    retries: int = field(default=2, metadata=doc("Extra attempts after a 429, a 5xx or a timeout.", minimum=0))
    backoff: float = field(default=1.0, metadata=doc("Seconds before the first retry, doubled each time.", minimum=0))


@dataclass(frozen=True)
class Config:
    """forewarn's settings ($FOREWARN_HOME/config.json)."""

    schema: str = field(default=CONFIG_SCHEMA_URL, metadata=doc("JSON Schema of this file.", json="$schema"))
    type: Literal["forewarn-config"] = field(default="forewarn-config", metadata=doc("File kind."))
    version: Literal[1] = field(default=1, metadata=doc("Format version."))
    learning: LearningConfig = field(default_factory=LearningConfig, metadata=doc(
        "Analytics and insights (seed 001)."))
    injection: InjectionConfig = field(default_factory=InjectionConfig, metadata=doc(
        "What the hook injects; snapshotted into the manifest when it is built."))
    scoring: Weights = field(default_factory=Weights, metadata=doc(
        "Priority and confidence weights of discovered lessons (seed 003 §8)."))
    teacher: TeacherConfig = field(default_factory=TeacherConfig, metadata=doc(
        "Teacher model settings (seed 002)."))


@dataclass(frozen=True)
class ConfigFile:
    path: Path
    exists: bool
    config: Config
    problems: tuple[str, ...]  # what was ignored while reading, each naming its JSON path
    raw: dict[str, Any]  # what the file holds (only the values that were set)


# -- schema ------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def config_schema() -> dict[str, Any]:
    out = schema_for(Config)
    return {"$schema": out.pop("$schema"), "$id": CONFIG_SCHEMA_URL, **out}


def render_schema() -> str:
    return json.dumps(config_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schema(directory: Path = SCHEMA_DIR) -> Path:
    path = directory / CONFIG_SCHEMA_FILE
    path.write_text(render_schema(), encoding="utf-8")
    return path


# -- reading -----------------------------------------------------------------------------------

def config_path(home: Path | None = None) -> Path:
    if home is None:
        from forewarn.paths import forewarn_home

        home = forewarn_home()
    return home / CONFIG_NAME


def _scalar(tp: Any, value: Any) -> Any:
    if tp is float:
        return float(value)
    if tp is int:
        return int(value)
    return value


def _lenient(cls: type, data: Any, path: str) -> tuple[Any, list[str]]:
    """Build `cls` from data, keeping every valid value and the default for every bad one."""
    if not isinstance(data, dict):
        return cls(), [f"{path}: expected an object, got {type(data).__name__}"]
    root = config_schema()
    props = root["properties"] if cls is Config else root["$defs"][cls.__name__]["properties"]
    hints = get_type_hints(cls)
    by_name = {json_name(f): f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in data.items():
        f = by_name.get(key)
        if f is None:
            problems.append(f"{path}.{key}: unknown key (ignored)")
            continue
        tp = hints[f.name]
        if dataclasses.is_dataclass(tp):
            kwargs[f.name], sub = _lenient(tp, value, f"{path}.{key}")  # type: ignore[arg-type]
            problems += sub
            continue
        found = validate(value, props[key], root, f"{path}.{key}")
        if found:
            problems += [p + " (default used)" for p in found]
        else:
            kwargs[f.name] = _scalar(tp, value)
    return cls(**kwargs), problems


def read_config(home: Path | None = None) -> ConfigFile:
    """The effective settings and whatever was wrong with the file."""
    path = config_path(home)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ConfigFile(path, False, Config(), (), {})
    except OSError as exc:
        return ConfigFile(path, True, Config(), (f"$: cannot read {path}: {exc.strerror}",), {})
    try:
        raw = json.loads(text)
    except ValueError as exc:
        return ConfigFile(path, True, Config(), (f"$: not valid JSON ({exc}); defaults used",), {})
    if not isinstance(raw, dict):
        return ConfigFile(path, True, Config(), ("$: expected an object; defaults used",), {})
    config, problems = _lenient(Config, raw, "$")
    return ConfigFile(path, True, config, tuple(problems), raw)


def load_config(home: Path | None = None) -> Config:
    """The effective settings (defaults where the file says nothing or says something wrong)."""
    return read_config(home).config


def injection_config(home: Path | None = None) -> InjectionConfig:
    return load_config(home).injection


# -- keys --------------------------------------------------------------------------------------

def _fields(cls: type) -> dict[str, dataclasses.Field[Any]]:
    return {json_name(f): f for f in dataclasses.fields(cls) if f.name not in _HEADER or cls is not Config}


def _match(cls: type, part: str) -> str | None:
    """The JSON name of `cls`'s field called `part` (JSON name, snake_case or any case)."""
    names = _fields(cls)
    if part in names:
        return part
    folded = part.replace("_", "").replace("-", "").lower()
    hits = [name for name in names if name.lower() == folded or names[name].name.replace("_", "") == folded]
    return hits[0] if len(hits) == 1 else None


def _sections() -> dict[str, type]:
    hints = get_type_hints(Config)
    return {json_name(f): hints[f.name] for f in dataclasses.fields(Config) if dataclasses.is_dataclass(hints[f.name])}


def all_keys() -> list[str]:
    """Every settable key, dotted."""
    return [f"{section}.{name}" for section, cls in _sections().items() for name in _fields(cls)]


def resolve_key(key: str) -> tuple[str, str]:
    """`learning.min_samples` → (`learning`, `minSamples`). A bare name that belongs to exactly one
    section (`minConfidence`, as in seed 003's flat file) is accepted too."""
    sections = _sections()
    parts = key.strip().split(".")
    if len(parts) == 2:
        section = _match(Config, parts[0])
        if section in sections:
            name = _match(sections[section], parts[1])
            if name is not None:
                return section, name
    elif len(parts) == 1:
        if _match(Config, parts[0]) in sections:
            section = _match(Config, parts[0])
            keys = ", ".join(f"{section}.{n}" for n in _fields(sections[section]))  # type: ignore[index]
            raise ForewarnError(f"{key} is a section; set one of its keys: {keys}")
        hits = [(s, n) for s, cls in sections.items() if (n := _match(cls, parts[0])) is not None]
        if len(hits) == 1:
            return hits[0]
    raise ForewarnError(f"unknown setting {key!r}; known settings: {', '.join(all_keys())}")


def _field_type(section: str, name: str) -> Any:
    cls = _sections()[section]
    f = _fields(cls)[name]
    return get_type_hints(cls)[f.name]


def parse_value(section: str, name: str, text: str) -> Any:
    """A command-line string as the JSON value the field wants."""
    tp = _field_type(section, name)
    raw = text.strip()
    label = f"{section}.{name}"
    if tp is bool:
        lowered = raw.lower()
        if lowered in ("true", "yes", "on", "1"):
            return True
        if lowered in ("false", "no", "off", "0"):
            return False
        raise ForewarnError(f"{label} must be true or false, not {text!r}")
    if tp is int:
        try:
            return int(raw)
        except ValueError:
            raise ForewarnError(f"{label} must be a whole number, not {text!r}") from None
    if tp is float:
        try:
            value = float(raw)
        except ValueError:
            raise ForewarnError(f"{label} must be a number, not {text!r}") from None
        if not math.isfinite(value):
            raise ForewarnError(f"{label} must be a finite number, not {text!r}")
        return value
    if get_origin(tp) is Literal:
        allowed = [str(a) for a in get_args(tp)]
        if raw not in allowed:
            raise ForewarnError(f"{label} must be one of {', '.join(allowed)}, not {text!r}")
        return raw
    return text


def get_value(key: str, home: Path | None = None) -> Any:
    section, name = resolve_key(key)
    return to_json(load_config(home))[section][name]


# -- writing -----------------------------------------------------------------------------------

def _read_raw_for_write(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ForewarnError(f"cannot read {path}: {exc.strerror}") from None
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise ForewarnError(f"{path} is not valid JSON ({exc}); fix or remove it first") from None
    if not isinstance(raw, dict):
        raise ForewarnError(f"{path} does not hold a JSON object; fix or remove it first")
    return raw


def _problems(raw: dict[str, Any]) -> set[str]:
    return set(validate(raw, config_schema()))


def _write(path: Path, raw: dict[str, Any]) -> None:
    doc_out = {"$schema": CONFIG_SCHEMA_URL, "type": CONFIG_TYPE, "version": 1, **raw}
    text = json.dumps(doc_out, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    try:
        write_text_atomic(path, text)
    except OSError as exc:
        raise ForewarnError(f"cannot write {path}: {exc.strerror}") from None


def _change(home: Path | None, section: str, name: str, value: Any, *, remove: bool = False) -> Config:
    path = config_path(home)
    raw = _read_raw_for_write(path)
    before = _problems(raw)
    sec = raw.get(section)
    if sec is not None and not isinstance(sec, dict):
        raise ForewarnError(f"{path}: {section} is not an object; fix or remove it first")
    updated = dict(raw)
    new_sec = dict(sec or {})
    if remove:
        new_sec.pop(name, None)
    else:
        new_sec[name] = value
    if new_sec:
        updated[section] = new_sec
    else:
        updated.pop(section, None)
    added = _problems(updated) - before
    if added:
        raise ForewarnError(f"{section}.{name}: {sorted(added)[0].split(': ', 1)[-1]}")
    _write(path, updated)
    return load_config(home)


def set_value(key: str, text: str, home: Path | None = None) -> Config:
    """Set one setting from its command-line text; returns the new effective settings."""
    section, name = resolve_key(key)
    return _change(home, section, name, parse_value(section, name, text))


def set_values(values: dict[str, Any], home: Path | None = None) -> Config:
    """Set several typed values at once (e.g. applied recommendations); keys as for `set_value`."""
    config = load_config(home)
    for key, value in values.items():
        section, name = resolve_key(key)
        config = _change(home, section, name, value)
    return config


def unset_value(key: str, home: Path | None = None) -> Config:
    """Forget a setting: it takes its default again."""
    section, name = resolve_key(key)
    return _change(home, section, name, None, remove=True)


def describe(home: Path | None = None) -> list[dict[str, Any]]:
    """Every setting with its effective value, default, whether the file sets it, and its meaning."""
    cf = read_config(home)
    effective = to_json(cf.config)
    defaults = to_json(Config())
    rows = []
    for section, cls in _sections().items():
        for name, f in _fields(cls).items():
            set_in_file = isinstance(cf.raw.get(section), dict) and name in cf.raw[section]
            rows.append({"key": f"{section}.{name}", "value": effective[section][name],
                         "default": defaults[section][name], "set": set_in_file,
                         "description": f.metadata.get("description", "")})
    return rows


if __name__ == "__main__":  # pragma: no cover - developer tool
    print(write_schema())

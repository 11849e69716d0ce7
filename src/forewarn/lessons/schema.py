"""JSON Schemas generated from the model's dataclasses, a tiny validator, and the JSON codec.

One source of truth: `forewarn.lessons.model` declares fields, types, defaults and per-field
metadata; this module derives from the same declarations
- the JSON Schema (`schema_for`, shipped as data/schemas/*.schema.json, regenerated with
  `python -m forewarn.lessons.schema`),
- the validator used when lesson files are loaded (`validate`, the subset of JSON Schema that the
  generator emits: type, enum/const, properties/required/additionalProperties, items, bounds,
  lengths, patterns, propertyNames, $ref), and
- the codec between dataclasses and JSON-ready dicts (`to_json`, `from_json`).

Invariants: a field with no default is `required`; objects admit no unknown keys (typos in
hand-edited files are reported, never silently dropped); `from_json` expects data that passed
`validate` and only converts (lists to tuples, nested dicts to dataclasses).
"""

from __future__ import annotations

import dataclasses
import json
import re
import sys
import types
import typing
from functools import cache
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from forewarn.lessons import model

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_DIR = Path(__file__).resolve().parent.parent / "data" / "schemas"
DOCUMENTS: dict[str, type] = {
    "lessons.schema.json": model.LessonsDocument,
    "manifest.schema.json": model.Manifest,
}
_DOC_URLS = {model.LessonsDocument: model.LESSONS_SCHEMA_URL, model.Manifest: model.MANIFEST_SCHEMA_URL}
_SCHEMA_KEYWORDS = ("minimum", "maximum", "minLength", "maxLength", "pattern", "minItems")


def json_name(f: dataclasses.Field[Any]) -> str:
    explicit = f.metadata.get("json")
    if explicit:
        return str(explicit)
    head, *rest = f.name.split("_")
    return head + "".join(part.capitalize() for part in rest)


@cache
def _hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls, vars(sys.modules[cls.__module__]))


def _is_union(tp: Any) -> bool:
    return get_origin(tp) is Union or isinstance(tp, types.UnionType)


# --- generation -------------------------------------------------------------------------------


def _type_schema(tp: Any, defs: dict[str, Any], meta: typing.Mapping[str, Any]) -> dict[str, Any]:
    origin = get_origin(tp)
    if tp is str:
        return {"type": "string"}
    if tp is bool:
        return {"type": "boolean"}
    if tp is int:
        return {"type": "integer"}
    if tp is float:
        return {"type": "number"}
    if origin is Literal:
        values = list(get_args(tp))
        return {"const": values[0]} if len(values) == 1 else {"enum": values}
    if _is_union(tp):
        args = [a for a in get_args(tp) if a is not type(None)]
        if len(args) != 1:
            raise TypeError(f"only `X | None` unions are supported, not {tp}")
        inner = _type_schema(args[0], defs, meta)
        if "type" in inner and isinstance(inner["type"], str):
            return {**inner, "type": [inner["type"], "null"]}
        return {"anyOf": [inner, {"type": "null"}]}
    if origin is tuple:
        item = get_args(tp)[0]
        items = _type_schema(item, defs, {})
        if meta.get("item_pattern"):
            items = {**items, "pattern": meta["item_pattern"]}
        return {"type": "array", "items": items}
    if origin is dict:
        key_t, value_t = get_args(tp)
        if key_t is not str:
            raise TypeError("only str-keyed dicts are supported")
        out: dict[str, Any] = {"type": "object", "additionalProperties": _type_schema(value_t, defs, {})}
        if meta.get("key_pattern"):
            out["propertyNames"] = {"pattern": meta["key_pattern"]}
        return out
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        name = tp.__name__
        if name not in defs:
            defs[name] = {}  # placeholder first: guards against recursion
            defs[name] = _object_schema(tp, defs)
        return {"$ref": f"#/$defs/{name}"}
    raise TypeError(f"no JSON Schema mapping for {tp!r}")


def _object_schema(cls: type, defs: dict[str, Any]) -> dict[str, Any]:
    hints = _hints(cls)
    props: dict[str, Any] = {}
    required: list[str] = []
    for f in dataclasses.fields(cls):
        sub = dict(_type_schema(hints[f.name], defs, f.metadata))
        for key in _SCHEMA_KEYWORDS:
            if key in f.metadata:
                sub[key] = f.metadata[key]
        if f.metadata.get("description"):
            sub["description"] = f.metadata["description"]
        if f.default is not dataclasses.MISSING:
            sub["default"] = to_json(f.default)
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
            if not dataclasses.is_dataclass(default):
                sub["default"] = to_json(default)
        else:
            required.append(json_name(f))
        props[json_name(f)] = sub
    out: dict[str, Any] = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        out["required"] = required
    if cls.__doc__ and not cls.__doc__.startswith(cls.__name__ + "("):
        out["description"] = " ".join(cls.__doc__.split())
    return out


def schema_for(cls: type) -> dict[str, Any]:
    """The JSON Schema document for a top-level dataclass (a file format)."""
    defs: dict[str, Any] = {}
    root = _object_schema(cls, defs)
    doc: dict[str, Any] = {"$schema": SCHEMA_DIALECT}
    if cls in _DOC_URLS:
        doc["$id"] = _DOC_URLS[cls]
    doc["title"] = cls.__name__
    doc.update(root)
    if defs:
        doc["$defs"] = dict(sorted(defs.items()))
    return doc


def render_schema(cls: type) -> str:
    return json.dumps(schema_for(cls), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schemas(directory: Path = SCHEMA_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, cls in DOCUMENTS.items():
        path = directory / name
        path.write_text(render_schema(cls), encoding="utf-8")
        written.append(path)
    return written


@cache
def definition(cls: type) -> dict[str, Any]:
    """A schema for one (nested) dataclass, with `$defs` so its references resolve."""
    defs: dict[str, Any] = {}
    ref = _type_schema(cls, defs, {})
    return {**ref, "$defs": defs}


# --- validation -------------------------------------------------------------------------------

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
    "null": (type(None),), "array": (list, tuple), "object": (dict,),
}


def _is_type(value: Any, name: str) -> bool:
    if name in ("integer", "number") and isinstance(value, bool):
        return False  # JSON booleans are not numbers, whatever Python thinks
    if name == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _JSON_TYPES[name])


def validate(instance: Any, schema: dict[str, Any], root: dict[str, Any] | None = None,
             path: str = "$") -> list[str]:
    """Problems with `instance` under `schema` (empty when valid), each naming its JSON path."""
    root = root if root is not None else schema
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return validate(instance, root["$defs"][name], root, path)
    problems: list[str] = []
    if "anyOf" in schema:
        if all(validate(instance, sub, root, path) for sub in schema["anyOf"]):
            problems.append(f"{path}: matches none of the allowed shapes")
        return problems
    if "const" in schema and instance != schema["const"]:
        return [f"{path}: must be {schema['const']!r}"]
    if "enum" in schema and instance not in schema["enum"]:
        return [f"{path}: must be one of {', '.join(map(str, schema['enum']))}, not {instance!r}"]
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is_type(instance, n) for n in names):
            return [f"{path}: expected {' or '.join(names)}, got {type(instance).__name__}"]
    if isinstance(instance, (int, float)) and not isinstance(instance, bool):
        if "minimum" in schema and instance < schema["minimum"]:
            problems.append(f"{path}: {instance} is below the minimum {schema['minimum']}")
        if "maximum" in schema and instance > schema["maximum"]:
            problems.append(f"{path}: {instance} is above the maximum {schema['maximum']}")
    if isinstance(instance, str):
        if len(instance) < schema.get("minLength", 0):
            problems.append(f"{path}: must not be empty" if schema["minLength"] == 1
                            else f"{path}: shorter than {schema['minLength']}")
        if "maxLength" in schema and len(instance) > schema["maxLength"]:
            problems.append(f"{path}: longer than {schema['maxLength']} characters")
        if "pattern" in schema and not re.search(schema["pattern"], instance):
            problems.append(f"{path}: {instance!r} does not match {schema['pattern']}")
    if isinstance(instance, (list, tuple)):
        if len(instance) < schema.get("minItems", 0):
            problems.append(f"{path}: needs at least {schema['minItems']} item(s)")
        if "items" in schema:
            for i, item in enumerate(instance):
                problems += validate(item, schema["items"], root, f"{path}[{i}]")
    if isinstance(instance, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", ()):
            if key not in instance:
                problems.append(f"{path}: missing required key {key!r}")
        key_rule = schema.get("propertyNames")
        extra = schema.get("additionalProperties", True)
        for key, value in instance.items():
            if key_rule and not re.search(key_rule["pattern"], str(key)):
                problems.append(f"{path}: key {key!r} does not match {key_rule['pattern']}")
            if key in props:
                problems += validate(value, props[key], root, f"{path}.{key}")
            elif extra is False:
                problems.append(f"{path}: unknown key {key!r}")
            elif isinstance(extra, dict):
                problems += validate(value, extra, root, f"{path}.{key}")
    return problems


# --- codec ------------------------------------------------------------------------------------


def to_json(obj: Any) -> Any:
    """A dataclass tree as plain JSON-ready data, with the schema's key names."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {json_name(f): to_json(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (list, tuple)):
        return [to_json(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): to_json(v) for k, v in obj.items()}
    return obj


def _convert(tp: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = get_origin(tp)
    if _is_union(tp):
        inner = next(a for a in get_args(tp) if a is not type(None))
        return _convert(inner, value)
    if origin is tuple:
        return tuple(_convert(get_args(tp)[0], v) for v in value)
    if origin is dict:
        return {k: _convert(get_args(tp)[1], v) for k, v in value.items()}
    if dataclasses.is_dataclass(tp):
        return from_json(tp, value)  # type: ignore[arg-type]
    if tp is float:
        return float(value)
    if tp is int:
        return int(value)
    return value


def from_json(cls: type, data: dict[str, Any]) -> Any:
    """Build `cls` from data that passed `validate`; absent keys take the field defaults."""
    hints = _hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        key = json_name(f)
        if key in data:
            kwargs[f.name] = _convert(hints[f.name], data[key])
    return cls(**kwargs)


if __name__ == "__main__":  # pragma: no cover - developer tool
    for written in write_schemas():
        print(written)

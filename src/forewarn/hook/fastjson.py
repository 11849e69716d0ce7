"""JSON in and out of the hook without importing the `json` package.

`import json` pulls in `re`, `enum` and `functools` and roughly doubles the interpreter's startup
time, which is the whole cost of a hook that runs before every tool call. The C accelerator `_json`
is built in (or a small extension) and does the real work for `json` anyway, so this module drives it
directly: `_json.make_scanner` to parse, `_json.encode_basestring_ascii` to quote strings.

Invariants:
- `loads` accepts exactly what `json.loads(s, strict=False)` accepts (control characters inside
  strings are tolerated: agents' payloads are not always strict JSON) and raises `ValueError` on
  anything else, never another exception type;
- `dumps` writes pure ASCII (every non-ASCII character escaped), so the output is valid whatever
  encoding the agent reads our stdout with;
- when `_json` is missing (another Python implementation), both fall back to the `json` package.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

try:
    import _json

    _scanner_factory = _json.make_scanner
    _quote = _json.encode_basestring_ascii
except (ImportError, AttributeError):  # pragma: no cover - only on Pythons without the accelerator
    _json = None  # type: ignore[assignment]


def _reject_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; nothing we read should contain them
    raise ValueError(f"not JSON: {name}")


class _ScanContext:
    """The attributes `_json.make_scanner` reads from a `json.JSONDecoder`."""

    strict = False
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = staticmethod(_reject_constant)


_scan_once = _scanner_factory(_ScanContext()) if _json is not None else None  # type: ignore[arg-type]
_WHITESPACE = " \t\n\r"


def loads(text: str | bytes) -> Any:
    """Parse one JSON document; `ValueError` if it is not exactly one valid document."""
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError as err:
            raise ValueError(f"not UTF-8: {err}") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    if _scan_once is None:  # pragma: no cover
        import json

        return json.loads(text, strict=False)
    start = len(text) - len(text.lstrip(_WHITESPACE))
    try:
        value, end = _scan_once(text, start)
    except ValueError:
        raise
    except Exception as err:  # StopIteration, SystemError: the C scanner's ways of saying "invalid"
        raise ValueError(f"invalid JSON near offset {start}") from err
    if text[end:].strip(_WHITESPACE):
        raise ValueError(f"extra data after JSON at offset {end}")
    return value


def dumps(value: Any) -> str:
    """Serialise dicts, lists, strings, numbers, booleans and None as compact ASCII JSON."""
    parts: list[str] = []
    _encode(value, parts.append)
    return "".join(parts)


def _encode(value: Any, out: Any) -> None:
    if isinstance(value, str):
        out(_quote(value) if _json is not None else _slow_quote(value))
    elif value is None:
        out("null")
    elif value is True:
        out("true")
    elif value is False:
        out("false")
    elif isinstance(value, int):
        out(int.__repr__(value))
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("NaN and Infinity are not JSON")
        out(float.__repr__(value))
    elif isinstance(value, dict):
        out("{")
        first = True
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"JSON object keys must be strings, not {type(key).__name__}")
            if not first:
                out(",")
            first = False
            _encode(key, out)
            out(":")
            _encode(item, out)
        out("}")
    elif isinstance(value, (list, tuple)):
        out("[")
        for i, item in enumerate(value):
            if i:
                out(",")
            _encode(item, out)
        out("]")
    else:
        raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _slow_quote(value: str) -> str:  # pragma: no cover - only without `_json`
    import json

    return json.dumps(value, ensure_ascii=True)

"""Small formatting helpers shared by the Markdown, HTML and terminal renderings.

Invariant: pure functions of their arguments; `None` (no data) always renders as an em dash or a
blank, never as 0.
"""

from __future__ import annotations

from collections.abc import Sequence

SPARKS = "▁▂▃▄▅▆▇█"
DASH = "—"


def pct(x: float | None, digits: int = 1) -> str:
    if x is None:
        return DASH
    return f"{x * 100:.{digits}f}%"


def ci(lo: float | None, hi: float | None, digits: int = 1) -> str:
    if lo is None or hi is None:
        return DASH
    return f"{lo * 100:.{digits}f}–{hi * 100:.{digits}f}%"


def points(delta: float | None) -> str:
    """A change of rate in percentage points, signed."""
    if delta is None:
        return DASH
    return f"{delta * 100:+.1f} pts"


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover - the loop always returns


def human_count(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 10_000:
        return f"{n / 1000:.0f}k"
    if n >= 1000:
        return f"{n / 1000:.1f}k"
    return str(n)


def sparkline(values: Sequence[float | None], lo: float | None = None, hi: float | None = None) -> str:
    """One block character per value, scaled between lo and hi (default: the values' range);
    a blank for a missing value."""
    known = [v for v in values if v is not None]
    if not known:
        return " " * len(values)
    low = min(known) if lo is None else lo
    high = max(known) if hi is None else hi
    span = high - low
    out = []
    for v in values:
        if v is None:
            out.append(" ")
        elif span <= 0:  # all equal: at the floor when a floor was given, else mid-height
            out.append(SPARKS[0] if lo is not None and v <= lo else SPARKS[len(SPARKS) // 2])
        else:
            index = int((min(max(v, low), high) - low) / span * (len(SPARKS) - 1) + 0.5)
            out.append(SPARKS[index])
    return "".join(out)


def sentence(text: str) -> str:
    """The text with a full stop, unless it already ends a sentence."""
    text = text.rstrip()
    return text if text.endswith((".", "…", "!", "?")) else text + "."


def one_line(text: str | None, limit: int) -> str:
    flat = " ".join((text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def plain(obj: object) -> object:
    """Dataclasses, named tuples and tuples as dicts and lists, for JSON output."""
    import dataclasses

    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, tuple) and hasattr(obj, "_asdict"):
        return {k: plain(v) for k, v in obj._asdict().items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    return obj

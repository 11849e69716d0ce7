"""Success rates over time windows, broken down by any dimension, with Wilson intervals.

This is `forewarn stats` as a library: it reads outcome events (tool calls from session logs and
operations tracked through the Python API) from the store and returns plain dataclasses.

Invariants:
- A window is `(now - offset - days, now - offset]`. `now` defaults to the newest outcome in the
  store, not the wall clock, because a history may be months old; `now` can be given to pin it.
- Every rate carries its sample size and a Wilson 95% interval; a group is *significant* only
  when it has at least `min_samples` events and its failure-rate interval excludes the overall
  rate of the same window.
- Hours and weekdays are UTC: session logs record UTC and carry no time zone of the person.
- Token estimates are bytes / 4 (a common rule of thumb for English and code), labelled as such.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import re
import sqlite3
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

from forewarn.errors import ForewarnError
from forewarn.store import Store
from forewarn.store import analytics as sql
from forewarn.store.analytics import Event

Z95 = 1.959963984540054  # two-sided 95% normal quantile
BYTES_PER_TOKEN = 4
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
POSITIONS = ("early", "middle", "late")
DIMENSIONS = ("tool", "kind", "project", "agent", "model", "version", "family", "command", "hour", "weekday",
              "position", "compaction")


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials; (0, 1) when n is 0."""
    if n <= 0:
        return 0.0, 1.0
    if not 0 <= k <= n:
        raise ValueError(f"k must be between 0 and n, got k={k}, n={n}")
    p = k / n
    z2 = z * z
    denom = 1 + z2 / n
    centre = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    # at k=0 or k=n the exact bound is 0 or 1; clamp away the float noise around it
    lo = 0.0 if k == 0 else max(0.0, centre - half)
    hi = 1.0 if k == n else min(1.0, centre + half)
    return lo, hi


@dataclass(frozen=True)
class Rate:
    """Outcomes of `n` events of which `failures` failed, seen as a success rate."""

    n: int
    failures: int
    success_rate: float | None
    ci_low: float | None  # Wilson 95% interval of the success rate
    ci_high: float | None

    @classmethod
    def of(cls, n: int, failures: int) -> Rate:
        if n == 0:
            return cls(0, 0, None, None, None)
        lo, hi = wilson(n - failures, n)
        return cls(n, failures, (n - failures) / n, round(lo, 4), round(hi, 4))

    @property
    def failure_rate(self) -> float | None:
        return None if self.success_rate is None else 1 - self.success_rate

    @property
    def failure_ci(self) -> tuple[float, float] | None:
        if self.ci_low is None or self.ci_high is None:
            return None
        return 1 - self.ci_high, 1 - self.ci_low


@dataclass(frozen=True)
class Window:
    now: str  # YYYY-MM-DDTHH:MM:SS, UTC
    now_source: str  # "store" (newest outcome), "given" or "clock" (empty store)
    since: str | None  # exclusive; None: from the beginning
    until: str  # inclusive
    days: int | None
    offset: int

    def contains(self, ts: str | None) -> bool:
        if ts is None:
            return False  # an undated outcome belongs to no window
        key = ts[:19]
        return (self.since is None or key > self.since) and key <= self.until


@dataclass(frozen=True)
class Group:
    key: str
    calls: int
    failures: int
    success_rate: float | None
    ci_low: float | None
    ci_high: float | None
    failure_rate: float | None
    lift: float | None  # failure rate / overall failure rate of the window
    significant: bool
    share_of_failures: float  # of all failures in the window
    wasted_bytes: int


@dataclass(frozen=True)
class Waste:
    failed_calls: int
    wasted_bytes: int  # output of failed calls and their identical repeats before the fix
    repeats: int  # identical failing calls repeated before a fix
    loops: int  # failures repeated at least once: error loops
    loop_bytes: int
    refetch_calls: int  # successful reads/searches/fetches identical to an earlier one in the session
    refetch_bytes: int
    total_bytes: int
    est_tokens: int  # total_bytes / 4


@dataclass(frozen=True)
class TrendPoint:
    label: str  # the window's last day
    since: str
    until: str
    rate: Rate
    delta: float | None  # success-rate change from the previous point


@dataclass(frozen=True)
class Stats:
    window: Window
    overall: Rate
    sessions: int
    by: str | None
    groups: tuple[Group, ...]
    waste: Waste
    trend: tuple[TrendPoint, ...]
    reported: dict[str, int]  # failures reported by hand in the window, by type
    min_samples: int
    agents: dict[str, int] = field(default_factory=dict)  # events per agent


# -- time --------------------------------------------------------------------------------------

def _fmt(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def parse_when(text: str) -> datetime:
    """`2026-01-31` (the end of that day), `2026-01-31T12:00[:00][Z|±hh:mm]`, or `now`/`clock`."""
    raw = text.strip()
    if raw.lower() in ("now", "clock"):
        return datetime.now(timezone.utc)
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            return datetime.combine(date.fromisoformat(raw), datetime.max.time().replace(microsecond=0),
                                    tzinfo=timezone.utc)
        dt = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ForewarnError(f"cannot read the time {text!r}: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ") from None
    return dt.astimezone(timezone.utc) if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def resolve_now(store: Store, now: str | datetime | None = None) -> tuple[datetime, str]:
    if isinstance(now, datetime):
        return (now if now.tzinfo else now.replace(tzinfo=timezone.utc)), "given"
    if isinstance(now, str):
        return parse_when(now), "given"
    newest = sql.newest_timestamp(store)
    if newest:
        return datetime.fromisoformat(newest).replace(tzinfo=timezone.utc), "store"
    return datetime.now(timezone.utc), "clock"


def make_window(now: datetime, source: str, days: int | None, offset: int = 0) -> Window:
    if days is not None and days <= 0:
        raise ForewarnError("--days must be a positive number of days")
    if offset < 0:
        raise ForewarnError("--offset cannot be negative")
    until = now - timedelta(days=offset)
    since = None if days is None else until - timedelta(days=days)
    return Window(_fmt(now), source, None if since is None else _fmt(since), _fmt(until), days, offset)


# -- dimensions --------------------------------------------------------------------------------

_FAMILIES: dict[str, str] = {}  # raw command -> family, filled from the store's cache and by parsing


def command_family(raw: str | None) -> str:
    """`git commit`, `pytest`, `npm run test`… for a shell command (a string or a JSON list)."""
    if not raw:
        return "?"
    found = _FAMILIES.get(raw)
    if found is None:
        found = _FAMILIES[raw] = _parse_family(raw)
    return found


@lru_cache(maxsize=1)
def _parser_version() -> str:
    """Changes whenever the shell parser does, so cached families never outlive it."""
    from forewarn.analyze import shell

    try:
        source = Path(shell.__file__).read_bytes()
    except OSError:
        source = b""
    return hashlib.blake2b(source + b"|families-1", digest_size=6).hexdigest()


def prime_command_families(store: Store, events: Iterable[Event]) -> None:
    """Fill the family memo for every shell command among `events`: from the store's cache, and by
    parsing (then caching) the rest. Parsing thousands of commands is the slowest step of a report."""
    raws = {e.command for e in events if e.family == "shell" and e.command and e.command not in _FAMILIES}
    if not raws:
        return
    prefix = _parser_version() + ":"
    keys = {raw: prefix + hashlib.blake2b(raw.encode(), digest_size=12).hexdigest() for raw in raws}
    try:
        cached = sql.cached_command_families(store, prefix)
    except sqlite3.Error:
        cached = {}
    new_rows = []
    for raw, key in keys.items():
        family = cached.get(key)
        if family is None:
            family = _parse_family(raw)
            new_rows.append((key, family))
        _FAMILIES[raw] = family
    if new_rows:
        with contextlib.suppress(sqlite3.Error):  # a read-only or busy database only loses the cache
            sql.cache_command_families(store, new_rows, prefix)


def _parse_family(raw: str) -> str:
    from forewarn.analyze import shell

    text = raw
    if raw.startswith("["):
        import orjson

        try:
            parts = orjson.loads(raw)
            text = " ".join(str(p) for p in parts) if isinstance(parts, list) else raw
        except orjson.JSONDecodeError:
            pass
    # the family is in the first words; a long heredoc would only slow the segment split down
    seg = shell.primary_segment(shell.unwrap_shell(text[:500]))
    return shell.family(seg) or shell.program(seg) or "?"


@lru_cache(maxsize=4096)
def _weekday(day: str) -> str:
    try:
        return WEEKDAYS[date.fromisoformat(day).weekday()]
    except ValueError:
        return "?"


def position_of(e: Event) -> str:
    fraction = (e.pos - 0.5) / max(e.n, 1)
    return POSITIONS[min(2, int(fraction * 3))]


def compaction_phase(e: Event) -> str:
    if e.first_compaction is None:
        return "no compaction"
    return "before compaction" if e.seq < e.first_compaction else "after compaction"


def key_function(dimension: str) -> Callable[[Event], str | None]:
    """How an event is labelled along a dimension (None: the event has no value there)."""
    simple: dict[str, Callable[[Event], str | None]] = {
        "tool": lambda e: e.tool,
        "kind": lambda e: e.kind if e.failed else None,
        "project": lambda e: e.project or "(none)",
        "agent": lambda e: e.agent,
        "model": lambda e: e.model or "(unknown)",
        "version": lambda e: f"{e.agent} {e.version}" if e.version else f"{e.agent} (unknown)",
        "family": lambda e: e.family,
        "command": lambda e: command_family(e.command) if e.family == "shell" else None,
        "hour": lambda e: f"{e.ts[11:13]}:00" if e.ts and len(e.ts) >= 13 else None,
        "weekday": lambda e: _weekday(e.ts[:10]) if e.ts else None,
        "position": position_of,
        "compaction": compaction_phase,
    }
    try:
        return simple[dimension]
    except KeyError:
        raise ForewarnError(f"unknown dimension {dimension!r}: use one of {', '.join(DIMENSIONS)}") from None


def groups_of(events: Sequence[Event], dimension: str | Callable[[Event], str | None],
              baseline: Rate, total_failures: int, min_samples: int) -> list[Group]:
    """Per-key rates along a dimension, largest failure count first."""
    keyf = key_function(dimension) if isinstance(dimension, str) else dimension
    n: Counter[str] = Counter()
    k: Counter[str] = Counter()
    waste: Counter[str] = Counter()
    for e in events:
        key = keyf(e)
        if key is None:
            continue
        n[key] += 1
        if e.failed:
            k[key] += 1
            waste[key] += e.wasted_bytes
    return sorted((make_group(key, n[key], k[key], baseline, total_failures, min_samples, waste[key]) for key in n),
                  key=lambda g: (-g.failures, -g.calls, g.key))


def make_group(key: str, n: int, failures: int, baseline: Rate, total_failures: int, min_samples: int,
               wasted: int = 0) -> Group:
    rate = Rate.of(n, failures)
    base = baseline.failure_rate
    lift = None
    significant = False
    if base and rate.failure_rate is not None:
        lift = round(rate.failure_rate / base, 3)
    if n >= min_samples and base is not None and rate.failure_ci is not None:
        lo, hi = rate.failure_ci
        significant = lo > base or hi < base
    return Group(key, n, failures, rate.success_rate, rate.ci_low, rate.ci_high, rate.failure_rate, lift,
                 significant, failures / total_failures if total_failures else 0.0, wasted)


def waste_of(events: Iterable[Event], refetch: tuple[int, int]) -> Waste:
    failed = wasted = repeats = loops = loop_bytes = 0
    for e in events:
        if not e.failed:
            continue
        failed += 1
        wasted += e.wasted_bytes
        repeats += e.repeats
        if e.repeats:
            loops += 1
            loop_bytes += e.wasted_bytes
    total = wasted + refetch[1]
    return Waste(failed, wasted, repeats, loops, loop_bytes, refetch[0], refetch[1], total, total // BYTES_PER_TOKEN)


# -- the stats ---------------------------------------------------------------------------------

def trend_points(events: Sequence[Event], now: datetime, source: str, weeks: int, offset: int = 0,
                 days: int = 7) -> tuple[TrendPoint, ...]:
    """`weeks` consecutive windows of `days` days ending at now - offset, oldest first."""
    windows = [make_window(now, source, days, offset + i * days) for i in reversed(range(weeks))]
    counts = {w.until: [0, 0] for w in windows}
    for e in events:
        if not e.ts:
            continue
        key = e.ts[:19]
        for w in windows:
            if w.since is not None and w.since < key <= w.until:
                counts[w.until][0] += 1
                counts[w.until][1] += e.failed
                break
    out: list[TrendPoint] = []
    prev: float | None = None
    for w in windows:
        n, k = counts[w.until]
        rate = Rate.of(n, k)
        delta = None if prev is None or rate.success_rate is None else round(rate.success_rate - prev, 4)
        out.append(TrendPoint(w.until[:10], w.since or "", w.until, rate, delta))
        if rate.success_rate is not None:
            prev = rate.success_rate
    return tuple(out)


def compute_stats(store: Store, *, days: int | None = 7, offset: int = 0, now: str | datetime | None = None,
                  by: str | None = None, weeks: int | None = None, project: str | None = None,
                  agent: str | None = None, min_samples: int | None = None,
                  events: Sequence[Event] | None = None) -> Stats:
    """Success rate in a window, optionally broken down `by` a dimension, with a weekly trend.

    `events` may pass events already read (covering the window and the trend) to save a query."""
    if by is not None:
        key_function(by)  # a helpful error before any work
    if weeks is not None and weeks <= 0:
        raise ForewarnError("--weeks must be a positive number")
    if min_samples is None:
        from forewarn.config import load_config

        min_samples = load_config().learning.min_samples
    now_dt, source = resolve_now(store, now)
    window = make_window(now_dt, source, days, offset)
    since = window.since
    if weeks:
        trend_start = make_window(now_dt, source, 7 * weeks, offset).since
        since = None if since is None or trend_start is None else min(since, trend_start)
    if events is None:
        events = sql.events(store, since, window.until, project=project, agent=agent)
    inside = [e for e in events if window.contains(e.ts)]
    if by == "command":
        prime_command_families(store, inside)
    failures = sum(1 for e in inside if e.failed)
    overall = Rate.of(len(inside), failures)
    groups: list[Group] = []
    if by == "kind":
        kinds = Counter(e.kind or "other" for e in inside if e.failed)
        wasted: defaultdict[str, int] = defaultdict(int)
        for e in inside:
            if e.failed:
                wasted[e.kind or "other"] += e.wasted_bytes
        # a kind exists only among failures: its "rate" is its share of all events
        groups = [make_group(kind, len(inside), count, overall, failures, min_samples, wasted[kind])
                  for kind, count in kinds.most_common()]
    elif by is not None:
        groups = groups_of(inside, by, overall, failures, min_samples)
    refetch = sql.refetches(store, window.since, window.until, project=project, agent=agent)
    reported = Counter(r.failure_type for r in sql.reported_failures(store, window.since, window.until, project=project))
    return Stats(
        window=window,
        overall=overall,
        sessions=len({e.session for e in inside}),
        by=by,
        groups=tuple(groups),
        waste=waste_of(inside, refetch),
        trend=trend_points(events, now_dt, source, weeks, offset) if weeks else (),
        reported=dict(reported.most_common()),
        min_samples=min_samples,
        agents=dict(Counter(e.agent for e in inside).most_common()),
    )

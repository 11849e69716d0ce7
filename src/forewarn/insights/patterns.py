"""Failure-pattern recognition: signature clusters, temporal patterns, context correlation.

Given the outcome events of a window (see `forewarn.store.analytics.Event`) this finds
- clusters: failures grouped by normalised signature, near-identical signatures merged (same tool
  family and failure kind, and the rest equal once quoted names and paths are folded, or at least
  85% alike);
- temporal patterns: failure rate by UTC hour, by weekday, by position in the session (first,
  middle or last third of its calls) and before/after the session's first compaction;
- context correlation: failure rate per tool, project, model, tool family, shell command family,
  agent and version, and per tool x project, command x project and family x model, as lift over
  the window's overall rate;
- insights: one plain sentence per group whose interval excludes the overall rate, naming the
  dominant failure of that group and its usual fix.

Invariants: every figure carries its sample size and a Wilson 95% interval; nothing is called a
pattern below `min_samples` events or when the interval includes the overall rate. Many groups are
tested at once, so at 95% about one in twenty groups with no real difference would still cross
the line by chance: insights are ranked by excess failures (failures beyond what the overall rate
predicts), sizeable effects (even the interval's cautious end ≥ 1.25x or ≤ 0.8x) first,
which puts large, real effects ahead of small ones that a big sample makes significant.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from forewarn import regexes
from forewarn.analyze.signature import error_line
from forewarn.insights.stats import (
    POSITIONS,
    WEEKDAYS,
    Group,
    Rate,
    Window,
    command_family,
    groups_of,
    key_function,
    make_group,
)
from forewarn.store.analytics import Event

SIMILARITY = 0.85
NO_FIX_KINDS = {"user_rejected", "user_interrupt"}  # what the agent did next is not a fix
STRONG_LIFT = 1.25
_MAX_FUZZY = 1500  # signatures per family:kind bucket compared pairwise; beyond, exact folding only
CORRELATE = ("tool", "project", "model", "family", "command", "agent", "version")
PAIRS = (("tool", "project"), ("command", "project"), ("family", "model"))
_ANSI = regexes.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_QUOTED = regexes.compile(r"(['\"`]).*?\1")
_PATHISH = regexes.compile(r"(?:[\w.~-]*/)+([\w.-]+)")


@dataclass(frozen=True)
class Cluster:
    label: str  # the most frequent signature of the cluster
    family: str
    kind: str
    signatures: tuple[str, ...]  # members, most frequent first
    count: int
    sessions: int
    projects: int
    share: float  # of the window's failures
    wasted_bytes: int
    example_error: str
    example_input: str
    usual_fix: str | None
    first_seen: str | None
    last_seen: str | None


@dataclass(frozen=True)
class Insight:
    text: str
    dimension: str  # "tool", or "toolxproject" for a pair
    key: str
    calls: int
    failures: int
    failure_rate: float
    ci_low: float  # Wilson 95% interval of the failure rate
    ci_high: float
    baseline: float  # the window's overall failure rate
    lift: float
    direction: str  # "higher" or "lower"
    excess_failures: float  # failures beyond what the overall rate predicts
    top_failure: str | None  # the dominant cluster among the group's failures
    top_share: float | None


@dataclass(frozen=True)
class Patterns:
    window: Window
    overall: Rate
    min_samples: int
    clusters: tuple[Cluster, ...]
    hours: tuple[Group, ...]  # 00:00 … 23:00, UTC
    weekdays: tuple[Group, ...]  # Mon … Sun
    positions: tuple[Group, ...]  # early, middle, late
    compaction: tuple[Group, ...]
    correlations: dict[str, tuple[Group, ...]]  # dimension → groups with ≥ min_samples events, by lift
    insights: tuple[Insight, ...]


def signature_of(e: Event) -> str:
    return e.signature or f"{e.family}:{e.kind or 'other'}"


def _split(sig: str) -> tuple[str, str]:
    """(bucket, rest): signatures are only merged within a bucket. The bucket is the tool family
    and failure kind, and for shell failures also the command (`bd mol` and `bd show` failing with
    the same flag error are two facts)."""
    parts = sig.split(":", 3)
    if len(parts) < 3:
        return sig, ""
    if parts[0] == "shell" and len(parts) == 4:
        return f"{parts[0]}:{parts[1]}:{_fold(parts[2])}", parts[3]
    return f"{parts[0]}:{parts[1]}", ":".join(parts[2:])


def _fold(rest: str) -> str:
    rest = _QUOTED.sub("Q", rest)
    return _PATHISH.sub(r"\1", rest).strip()


def cluster_signatures(counts: Counter[str]) -> dict[str, str]:
    """signature → its cluster's label (the cluster's most frequent signature)."""
    buckets: defaultdict[str, list[str]] = defaultdict(list)
    for sig in counts:
        buckets[_split(sig)[0]].append(sig)
    label: dict[str, str] = {}
    for sigs in buckets.values():
        sigs.sort(key=lambda s: (-counts[s], s))
        leaders: list[tuple[str, SequenceMatcher[str], int]] = []  # (signature, matcher on its rest, length)
        by_fold: dict[str, str] = {}
        fuzzy = len(sigs) <= _MAX_FUZZY
        for sig in sigs:
            rest = _split(sig)[1]
            folded = _fold(rest)
            leader = by_fold.get(folded)
            if leader is None and fuzzy and rest:
                best = 0.0
                for lead, matcher, length in leaders:
                    # the best ratio two lengths allow; skips most pairs without any matching
                    if 2 * min(length, len(rest)) / (length + len(rest)) < SIMILARITY:
                        continue
                    matcher.set_seq1(rest)
                    if matcher.quick_ratio() < SIMILARITY:
                        continue
                    ratio = matcher.ratio()
                    if ratio >= SIMILARITY and ratio > best:
                        best, leader = ratio, lead
            if leader is None:
                leader = sig
                if rest:
                    leaders.append((sig, SequenceMatcher(None, "", rest, autojunk=False), len(rest)))
                by_fold.setdefault(folded, sig)
            label[sig] = label.get(leader, leader)
    return label


def clusters_of(failed: Sequence[Event], total_failures: int) -> tuple[list[Cluster], dict[str, str]]:
    counts = Counter(signature_of(e) for e in failed)
    label = cluster_signatures(counts)
    members: defaultdict[str, list[Event]] = defaultdict(list)
    for e in failed:
        members[label[signature_of(e)]].append(e)
    out = []
    for lab, items in members.items():
        sig_counts = Counter(signature_of(e) for e in items)
        fam_kind = lab.split(":", 2)
        # a "fix" that repeats the failing input (the same path edited again) teaches nothing
        fixes = Counter(e.fix_input for e in items if e.fix_input and e.fix_input != e.input_text)
        errors = Counter(error_line(_ANSI.sub("", e.error), 140) for e in items if e.error)
        stamps = sorted(e.ts for e in items if e.ts)
        example = next((e for e in items if e.input_text), items[0])
        kind = fam_kind[1] if len(fam_kind) >= 2 else (items[0].kind or "other")
        out.append(Cluster(
            label=lab,
            family=fam_kind[0],
            kind=kind,
            signatures=tuple(s for s, _ in sig_counts.most_common()),
            count=len(items),
            sessions=len({e.session for e in items}),
            projects=len({e.project for e in items if e.project}),
            share=len(items) / total_failures if total_failures else 0.0,
            wasted_bytes=sum(e.wasted_bytes for e in items),
            example_error=errors.most_common(1)[0][0] if errors else "",
            example_input=_one_line(example.input_text or "", 160),
            usual_fix=_one_line(fixes.most_common(1)[0][0], 160) if fixes and kind not in NO_FIX_KINDS else None,
            first_seen=stamps[0] if stamps else None,
            last_seen=stamps[-1] if stamps else None,
        ))
    out.sort(key=lambda c: (-c.count, -c.sessions, c.label))
    return out, label


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _ordered(groups: Sequence[Group], keys: Sequence[str], baseline: Rate, total: int, min_samples: int) -> tuple[Group, ...]:
    have = {g.key: g for g in groups}
    return tuple(have.get(k) or make_group(k, 0, 0, baseline, total, min_samples) for k in keys)


def short_project(path: str) -> str:
    parts = [p for p in path.rstrip("/").split("/") if p]
    return "/".join(parts[-2:]) if len(parts) > 2 else path


def _subject(dimension: str, key: str) -> str:
    if "×" in dimension:
        dims = dimension.split("×")
        keys = key.split(" × ")
        first = _subject(dims[0], keys[0])
        second = {"project": f"in project {short_project(keys[1])}", "model": f"by {keys[1]}"}.get(dims[1], keys[1])
        return f"{first} {second}"
    return {
        "tool": f"{key} calls",
        "project": f"Calls in project {short_project(key)}",
        "model": f"Calls by {key}",
        "family": f"{key} calls",
        "command": f"`{key}` commands",
        "agent": f"{key} calls",
        "version": f"{key} calls",
        "hour": f"Calls at {key} UTC",
        "weekday": f"Calls on {key}",
        "position": f"Calls {key} in a session",
        "compaction": f"Calls {key}",
    }.get(dimension, f"{dimension} {key}")


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%" if x >= 0.01 or x == 0 else f"{x * 100:.1f}%"


def _insight(dimension: str, g: Group, baseline: float, failed_here: Sequence[Event],
             label: dict[str, str], clusters: dict[str, Cluster]) -> Insight:
    assert g.failure_rate is not None and g.ci_low is not None and g.ci_high is not None
    lo, hi = 1 - g.ci_high, 1 - g.ci_low
    lift = g.failure_rate / baseline if baseline else 0.0
    higher = lo > baseline
    subject = _subject(dimension, g.key)
    text = (f"{subject} fail {lift:.1f}× as often as average ({_pct(g.failure_rate)} of {g.calls} vs "
            f"{_pct(baseline)}; 95% CI {_pct(lo)}–{_pct(hi)})")
    top = None
    share = None
    if higher and failed_here:
        counts = Counter(label[signature_of(e)] for e in failed_here)
        top, n_top = counts.most_common(1)[0]
        share = n_top / len(failed_here)
        c = clusters[top]
        what = c.example_error or top
        text += f"; {_pct(share)} of them are {c.kind.replace('_', ' ')}: {what}"
        # the fix seen for THIS group's failures of that pattern: the cluster's overall fix may
        # come from another project altogether
        fixes = Counter(e.fix_input for e in failed_here if label[signature_of(e)] == top
                        and e.fix_input and e.fix_input != e.input_text)
        if fixes and c.kind not in NO_FIX_KINDS:
            fix, seen = fixes.most_common(1)[0]
            if seen >= 2:
                text += f" — usually fixed with `{_one_line(fix, 80)}`"
    elif not higher:
        text = (f"{subject} fail less often than average: {_pct(g.failure_rate)} of {g.calls} vs "
                f"{_pct(baseline)} (95% CI {_pct(lo)}–{_pct(hi)})")
    return Insight(text, dimension, g.key, g.calls, g.failures, round(g.failure_rate, 4), round(lo, 4), round(hi, 4),
                   round(baseline, 4), round(lift, 3), "higher" if higher else "lower",
                   round(g.failures - g.calls * baseline, 1), top, None if share is None else round(share, 3))


def _strong(i: Insight) -> bool:
    """Even the cautious end of the interval is a sizeable difference (≥ 1.25x or ≤ 0.8x)."""
    if not i.baseline:
        return False
    return i.ci_low / i.baseline >= STRONG_LIFT if i.direction == "higher" else i.ci_high / i.baseline <= 1 / STRONG_LIFT


def find_patterns(events: Sequence[Event], window: Window, min_samples: int, *, max_insights: int = 12) -> Patterns:
    """Everything above for the events inside `window`."""
    inside = [e for e in events if window.contains(e.ts)]
    failed = [e for e in inside if e.failed]
    total_failures = len(failed)
    overall = Rate.of(len(inside), total_failures)
    baseline = overall.failure_rate or 0.0
    clusters, label = clusters_of(failed, total_failures)
    by_label = {c.label: c for c in clusters}

    def grouped(dim: str | Callable[[Event], str | None]) -> list[Group]:
        return groups_of(inside, dim, overall, total_failures, min_samples)

    hours = _ordered(grouped("hour"), [f"{h:02d}:00" for h in range(24)], overall, total_failures, min_samples)
    weekdays = _ordered(grouped("weekday"), WEEKDAYS, overall, total_failures, min_samples)
    positions = _ordered(grouped("position"), POSITIONS, overall, total_failures, min_samples)
    compaction = _ordered(grouped("compaction"), ("before compaction", "after compaction", "no compaction"),
                          overall, total_failures, min_samples)
    correlations: dict[str, tuple[Group, ...]] = {}
    candidates: list[tuple[str, Group, Callable[[Event], str | None]]] = []
    single_rates: dict[tuple[str, str], float] = {}
    for dim in (*CORRELATE, "hour", "weekday", "position", "compaction"):
        keyf = key_function(dim)
        groups = {"hour": hours, "weekday": weekdays, "position": positions, "compaction": compaction}.get(dim)
        found = list(groups) if groups is not None else grouped(keyf)
        kept = [g for g in found if g.calls >= min_samples]
        if dim in CORRELATE:
            correlations[dim] = tuple(sorted(kept, key=lambda g: (-(g.lift or 0), -g.calls, g.key)))
        for g in kept:
            single_rates[(dim, g.key)] = g.failure_rate or 0.0
            if g.significant:
                candidates.append((dim, g, keyf))
    for a, b in PAIRS:
        fa, fb = key_function(a), key_function(b)

        def pair_key(e: Event, fa: Callable[[Event], str | None] = fa,
                     fb: Callable[[Event], str | None] = fb) -> str | None:
            ka, kb = fa(e), fb(e)
            return None if ka is None or kb is None else f"{ka} × {kb}"

        for g in grouped(pair_key):
            if not g.significant:
                continue
            ka, kb = g.key.split(" × ", 1)
            lo, hi = 1 - (g.ci_high or 0), 1 - (g.ci_low or 0)
            parents = [single_rates.get((a, ka)), single_rates.get((b, kb))]
            # a pair is news only when its own interval also excludes each parent's rate
            if all(p is not None and (lo > p or hi < p) for p in parents):
                candidates.append((f"{a}×{b}", g, pair_key))
    insights = []
    for dim, g, keyf in candidates:
        here = [e for e in failed if keyf(e) == g.key]
        insights.append(_insight(dim, g, baseline, here, label, by_label))
    insights.sort(key=lambda i: (not _strong(i), i.direction != "higher", -abs(i.excess_failures), i.dimension, i.key))
    # a tool family with a single tool (exitplanmode / ExitPlanMode) is the same group twice
    seen: set[tuple[int, int, str]] = set()
    unique = []
    for i in insights:
        mark = (i.calls, i.failures, i.direction)
        if mark not in seen:
            seen.add(mark)
            unique.append(i)
    insights = unique
    return Patterns(window, overall, min_samples, tuple(clusters), hours, weekdays, positions, compaction,
                    correlations, tuple(insights[:max_insights]))


__all__ = ["Cluster", "Insight", "Patterns", "cluster_signatures", "command_family", "find_patterns"]

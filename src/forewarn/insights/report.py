"""`forewarn report` and `forewarn dashboard` as data: everything the analytics know about one
window, gathered in one pass over the store, plus the recommendations drawn from it.

`build_report` reads the store once for the window and its trend (and once more for the whole
history only when there are lessons to judge), then hands the same events to stats, patterns and
lesson effectiveness. Renderers (`render_md`, `render_html`, the CLI's dashboard) only format it.

Invariant: a `Report` is plain frozen data (JSON-ready through dataclasses.asdict); building it
writes nothing.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from forewarn.insights.lesson_effect import LessonsReport, lessons_report
from forewarn.insights.patterns import NO_FIX_KINDS, Patterns, find_patterns
from forewarn.insights.stats import (
    Group,
    Rate,
    Stats,
    TrendPoint,
    compute_stats,
    groups_of,
    make_window,
    prime_command_families,
    resolve_now,
)
from forewarn.insights.text import sentence
from forewarn.store import Store
from forewarn.store import analytics as sql
from forewarn.store.analytics import Event, ReportedFailure

MAX_CREATE_SUGGESTIONS = 5
MAX_INVESTIGATE = 5


@dataclass(frozen=True)
class ToolTrend:
    tool: str
    calls: int
    failure_rates: tuple[float | None, ...]  # one per trend week, oldest first


@dataclass(frozen=True)
class Report:
    generated_at: str
    detailed: bool
    stats: Stats  # the window, by tool, with the weekly trend
    previous: Rate  # the window just before, for the change
    families: tuple[Group, ...]
    projects: tuple[Group, ...]
    models: tuple[Group, ...]
    patterns: Patterns
    lessons: LessonsReport
    reported: tuple[ReportedFailure, ...]
    tool_trends: tuple[ToolTrend, ...]
    recommendations: tuple[str, ...]
    actions: tuple[dict[str, Any], ...]
    learning_enabled: bool


def recommendations(patterns: Patterns, lessons: LessonsReport) -> tuple[list[str], list[dict[str, Any]]]:
    """Plain-language recommendations and the matching machine-readable actions."""
    recs: list[str] = []
    actions: list[dict[str, Any]] = []
    for advice in lessons.thresholds:
        if advice.change and advice.recommended is not None:
            verb = "Raise" if advice.recommended > advice.current else "Lower"
            recs.append(f"{verb} {advice.name} from {advice.current:g} to {advice.recommended:g}: {advice.reason} "
                        f"(`forewarn config recommend --apply`).")
            actions.append({"action": "set_config", "key": advice.key, "value": advice.recommended})
    for effect in lessons.lessons:
        if effect.archive:
            why = ", ".join(f.replace("_", " ") for f in effect.flags)
            recs.append(f"Archive lesson {effect.lesson.slug}: {why}.")
            actions.append({"action": "archive_lesson", "lesson_id": effect.lesson.id, "slug": effect.lesson.slug,
                            "reasons": list(effect.flags)})
    covered = {e.lesson.signature for e in lessons.lessons if e.lesson.signature}
    suggested = 0
    for c in patterns.clusters:
        if suggested >= MAX_CREATE_SUGGESTIONS:
            break
        if c.sessions >= 2 and c.count >= 3 and not covered.intersection(c.signatures):
            fix = f", usually fixed with `{c.usual_fix[:80]}`" if c.usual_fix and c.kind not in NO_FIX_KINDS else ""
            recs.append(f"Recurring failure with no lesson: {c.kind.replace('_', ' ')} `{c.label}` "
                        f"({c.count}× in {c.sessions} sessions{fix}). `forewarn learn` can turn it into one.")
            actions.append({"action": "create_lesson", "signature": c.label, "count": c.count})
            suggested += 1
    for insight in [i for i in patterns.insights if i.direction == "higher"][:MAX_INVESTIGATE]:
        if insight.direction == "higher":
            recs.append(f"Investigate: {sentence(insight.text)}")
            actions.append({"action": "investigate", "dimension": insight.dimension, "key": insight.key,
                            "lift": insight.lift})
    return recs, actions


def _tool_trends(events: Sequence[Event], trend: Sequence[TrendPoint], tools: Sequence[str]) -> tuple[ToolTrend, ...]:
    wanted = set(tools)
    counts: defaultdict[str, list[list[int]]] = defaultdict(lambda: [[0, 0] for _ in trend])
    for e in events:
        if e.tool not in wanted or not e.ts:
            continue
        key = e.ts[:19]
        for i, point in enumerate(trend):
            if point.since < key <= point.until:
                counts[e.tool][i][0] += 1
                counts[e.tool][i][1] += e.failed
                break
    out = []
    for tool in tools:
        series = counts[tool]
        out.append(ToolTrend(tool, sum(n for n, _ in series),
                             tuple(None if n == 0 else round(k / n, 4) for n, k in series)))
    return tuple(out)


def build_report(store: Store, *, days: int | None = 30, now: str | datetime | None = None, detailed: bool = False,
                 weeks: int = 8, home: Path | None = None, project: str | None = None,
                 agent: str | None = None) -> Report:
    from forewarn.config import load_config

    config = load_config(home)
    min_samples = config.learning.min_samples
    now_dt, source = resolve_now(store, now)
    window = make_window(now_dt, source, days)
    previous_window = make_window(now_dt, source, days, days) if days else None
    trend_start = make_window(now_dt, source, 7 * weeks).since
    starts = [window.since, trend_start, previous_window.since if previous_window else None]
    since = None if any(s is None for s in starts) else min(s for s in starts if s is not None)
    events = sql.events(store, since, window.until, project=project, agent=agent)
    stats = compute_stats(store, days=days, now=now, by="tool", weeks=weeks, project=project, agent=agent,
                          min_samples=min_samples, events=events)
    inside = [e for e in events if window.contains(e.ts)]
    failures = stats.overall.failures

    def by(dim: str) -> tuple[Group, ...]:
        return tuple(groups_of(inside, dim, stats.overall, failures, min_samples))

    previous = Rate.of(0, 0)
    if previous_window is not None:
        prev = [e for e in events if previous_window.contains(e.ts)]
        previous = Rate.of(len(prev), sum(1 for e in prev if e.failed))
    prime_command_families(store, inside)
    patterns = find_patterns(events, window, min_samples, max_insights=30 if detailed else 12)
    # lessons are judged on the whole history: reuse the events only when they are all of it
    whole = since is None and project is None and agent is None
    lessons = lessons_report(store, home=home, now=now_dt, events=events if whole else None)
    if config.learning.enabled:
        recs, actions = recommendations(patterns, lessons)
    else:
        recs, actions = [], []
    top_tools = [g.key for g in sorted(stats.groups, key=lambda g: -g.calls)[:8]]
    return Report(
        generated_at=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        detailed=detailed,
        stats=stats,
        previous=previous,
        families=by("family"),
        projects=by("project"),
        models=by("model"),
        patterns=patterns,
        lessons=lessons,
        reported=tuple(sql.reported_failures(store, window.since, window.until, project=project)),
        tool_trends=_tool_trends(events, stats.trend, top_tools),
        recommendations=tuple(recs),
        actions=tuple(actions),
        learning_enabled=config.learning.enabled,
    )


def write_text(path: Path, text: str) -> None:
    """Replace `path` atomically: a reader never sees half a report."""
    from forewarn.fsutil import write_text_atomic

    write_text_atomic(path, text)


def dashboard_data(report: Report) -> dict[str, Any]:
    """What `forewarn dashboard --json` prints: the report's essentials, sparkline-ready."""
    from forewarn.insights.text import plain, sparkline

    s = report.stats
    return {
        "window": plain(s.window),
        "overall": plain(s.overall),
        "previous": plain(report.previous),
        "sessions": s.sessions,
        "agents": s.agents,
        "waste": plain(s.waste),
        "trend": [{"week_ending": p.label, "n": p.rate.n, "success_rate": p.rate.success_rate,
                   "ci": [p.rate.ci_low, p.rate.ci_high]} for p in s.trend],
        "trend_sparkline": sparkline([p.rate.success_rate for p in s.trend]),
        "tools": [{"tool": t.tool, "calls": t.calls, "weekly_failure_rates": list(t.failure_rates),
                   "sparkline": sparkline(t.failure_rates, 0.0)} for t in report.tool_trends],
        "by_tool": plain(s.groups[:10]),
        "patterns": plain(report.patterns.clusters[:10]),
        "insights": [i.text for i in report.patterns.insights],
        "recommendations": list(report.recommendations),
        "lessons": {"count": len(report.lessons.lessons), "injections": report.lessons.injections,
                    "to_archive": [e.lesson.slug for e in report.lessons.lessons if e.archive],
                    "thresholds": plain(report.lessons.thresholds)},
        "reported": dict(Counter(r.failure_type for r in report.reported)),
    }


# -- Markdown ----------------------------------------------------------------------------------

def _cell(value: Any) -> str:
    text = " ".join(str(value if value is not None else "—").split())
    return text.replace("|", "\\|")


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    if not rows:
        return ["_No data._", ""]
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return [*out, ""]


def window_title(report: Report) -> str:
    w = report.stats.window
    span = f"last {w.days} days" if w.days else "all history"
    start = w.since[:10] if w.since else "the beginning"
    return f"{span} ({start} → {w.until[:10]})"


def _group_rows(groups: Sequence[Group], limit: int | None) -> list[list[Any]]:
    from forewarn.insights.text import ci, pct

    rows = []
    for g in list(groups)[:limit]:
        mark = " ★" if g.significant and (g.lift or 0) > 1 else (" ▾" if g.significant else "")
        rows.append([g.key, g.calls, g.failures, pct(g.success_rate), ci(g.ci_low, g.ci_high),
                     "—" if g.lift is None else f"{g.lift:.2f}×{mark}"])
    return rows


def render_md(report: Report) -> str:
    from forewarn.insights.text import ci, human_bytes, human_count, one_line, pct, points, sentence

    s = report.stats
    o = s.overall
    limit = None if report.detailed else 10
    lines = [f"# forewarn report: {window_title(report)}", ""]
    note = "the newest recorded outcome" if s.window.now_source == "store" else "the given time"
    lines += [f"Generated {report.generated_at}. Windows end at {s.window.now} UTC ({note}). "
              f"Rates carry their sample size and a Wilson 95% interval.", ""]
    lines += ["## Summary", ""]
    if o.n:
        change = ""
        if report.previous.success_rate is not None and o.success_rate is not None:
            change = f" ({points(o.success_rate - report.previous.success_rate)} vs the {s.window.days} days before)"
        lines.append(f"- **Success rate {pct(o.success_rate)}** (95% CI {ci(o.ci_low, o.ci_high)}) over "
                     f"{human_count(o.n)} outcomes in {s.sessions} sessions; {o.failures} failures{change}.")
    else:
        lines.append("- No outcomes recorded in this window.")
    if s.agents:
        lines.append("- Outcomes by agent: " + ", ".join(f"{a} {n}" for a, n in s.agents.items()) + ".")
    w = s.waste
    lines.append(f"- Wasted context: {human_bytes(w.total_bytes)} (≈{human_count(w.est_tokens)} tokens at 4 bytes/token): "
                 f"{human_bytes(w.wasted_bytes)} in failed calls and their repeats ({w.loops} error loops, "
                 f"{w.repeats} repeats), {human_bytes(w.refetch_bytes)} in {w.refetch_calls} identical re-fetches.")
    if report.reported:
        types = Counter(r.failure_type for r in report.reported)
        lines.append(f"- Failures reported by hand: {len(report.reported)} ("
                     + ", ".join(f"{t} {n}" for t, n in types.most_common()) + ").")
    lines.append("")
    if s.trend:
        lines += ["## Weekly trend", ""]
        lines += _table(["week ending", "outcomes", "success", "95% CI", "change"],
                        [[p.label, p.rate.n, pct(p.rate.success_rate), ci(p.rate.ci_low, p.rate.ci_high), points(p.delta)]
                         for p in s.trend])
    lines += ["## Recommendations", ""]
    if not report.learning_enabled:
        lines += ["_Learning is disabled (learning.enabled = false)._", ""]
    elif report.recommendations:
        lines += [f"{i}. {r}" for i, r in enumerate(report.recommendations[: None if report.detailed else 10], 1)] + [""]
    else:
        lines += ["_Nothing to recommend: no pattern passed the sample-size and interval tests._", ""]
    lines += ["## Insights", ""]
    if report.patterns.insights:
        lines += [f"- {sentence(i.text)}" for i in report.patterns.insights] + [""]
    else:
        lines += [f"_No group of at least {s.min_samples} outcomes differs clearly from the overall rate._", ""]
    lines += ["## Failure patterns", ""]
    lines += _table(["pattern", "kind", "count", "share", "sessions", "error", "usual fix"],
                    [[f"`{one_line(c.label, 90)}`" + (f" (+{len(c.signatures) - 1} similar)" if len(c.signatures) > 1 else ""),
                      c.kind, c.count, pct(c.share, 0), c.sessions, one_line(c.example_error, 90),
                      f"`{one_line(c.usual_fix, 70)}`" if c.usual_fix else "—"]
                     for c in report.patterns.clusters[: None if report.detailed else 10]])
    lines += ["## By tool", ""]
    lines += ["★ fails significantly more often than average, ▾ significantly less.", ""]
    lines += _table(["tool", "calls", "failures", "success", "95% CI", "lift"], _group_rows(s.groups, limit))
    lines += ["## By project", ""]
    lines += _table(["project", "calls", "failures", "success", "95% CI", "lift"], _group_rows(report.projects, limit))
    lines += ["## When failures happen", ""]
    p = report.patterns
    lines += _table(["position / phase", "calls", "failures", "success", "95% CI", "lift"],
                    _group_rows([*p.positions, *p.compaction], None))
    if report.detailed:
        lines += ["### By hour (UTC)", ""]
        lines += _table(["hour", "calls", "failures", "success", "95% CI", "lift"],
                        _group_rows([g for g in p.hours if g.calls], None))
        lines += ["### By weekday", ""]
        lines += _table(["weekday", "calls", "failures", "success", "95% CI", "lift"], _group_rows(p.weekdays, None))
        for dim in ("family", "model", "command", "version"):
            lines += [f"### By {dim}", ""]
            lines += _table([dim, "calls", "failures", "success", "95% CI", "lift"],
                            _group_rows(p.correlations.get(dim, ()), 25))
    lines += _lessons_md(report)
    if report.reported:
        lines += ["## Failures reported by hand", ""]
        lines += _table(["when", "type", "description", "context", "task"],
                        [[r.ts[:16].replace("T", " "), r.failure_type, one_line(r.description, 100),
                          one_line(r.context, 80), one_line(r.task, 60)]
                         for r in report.reported[: None if report.detailed else 20]])
    return "\n".join(lines).rstrip() + "\n"


def _per100(lo: float | None, mid: float | None, hi: float | None) -> str:
    if mid is None:
        return "—"
    return f"{mid:.2f} ({lo:.2f}–{hi:.2f})"


def _lessons_md(report: Report) -> list[str]:
    from forewarn.insights.text import pct

    lr = report.lessons
    lines = ["## Lessons", ""]
    if not lr.lessons:
        return [*lines, "_No lessons in the global or project stores yet._", ""]
    log = (f"{lr.injections} injections logged" if lr.log_exists else "no injection log yet (the hook writes it)")
    lines += [f"{len(lr.lessons)} lessons; {log}. Rates are failures with the lesson's signature per 100 calls of its "
              f"tool family (95% CI).", ""]
    rows = []
    for e in lr.lessons[: None if report.detailed else 25]:
        rows.append([e.lesson.slug, e.lesson.status,
                     _per100(e.before.ci_low, e.before.per_100, e.before.ci_high),
                     _per100(e.after.ci_low, e.after.per_100, e.after.ci_high), e.verdict,
                     _per100(e.injected.ci_low, e.injected.per_100, e.injected.ci_high),
                     _per100(e.not_injected.ci_low, e.not_injected.per_100, e.not_injected.ci_high),
                     e.injections, ", ".join(e.flags) or "—"])
    lines += _table(["lesson", "status", "before /100", "after /100", "verdict", "injected /100",
                     "not injected /100", "injections", "flags"], rows)
    lines += ["### Thresholds", ""]
    for a in lr.thresholds:
        rec = "keep" if a.recommended is None or not a.change else f"→ {a.recommended:g}"
        lines.append(f"- {a.name}: {a.current:g} {rec} ({a.reason}).")
        if report.detailed:
            for b in a.bands:
                if b.lessons:
                    lines.append(f"  - band {b.label}: {b.confirmed}/{b.lessons} confirmed ({pct(b.precision, 0)})")
    if lr.problems:
        lines += ["", f"{len(lr.problems)} problems reading lesson files or the log: " + "; ".join(lr.problems[:5])]
    return [*lines, ""]

"""Terminal renderings of the analytics (stats, patterns, lessons, dashboard) with rich.

Only formatting lives here: every number comes from `forewarn.insights` and is printed as given,
with its sample size and interval.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from forewarn.cli.render import table
from forewarn.insights.lesson_effect import LessonsReport
from forewarn.insights.patterns import Patterns
from forewarn.insights.stats import Group, Stats
from forewarn.insights.text import ci, human_bytes, human_count, one_line, pct, points, sparkline


def window_text(stats: Stats) -> str:
    w = stats.window
    span = f"last {w.days} days" if w.days else "all history"
    if w.offset:
        span += f", {w.offset} days back"
    start = w.since[:10] if w.since else "start"
    origin = "" if w.now_source != "store" else " (relative to the newest recorded outcome)"
    return f"{span}: {start} → {w.until[:10]}{origin}"


def group_rows(groups: Sequence[Group], limit: int | None = 20) -> list[list[Any]]:
    rows = []
    for g in list(groups)[:limit]:
        flag = ""
        if g.significant:
            flag = "[red]▲[/]" if (g.lift or 0) > 1 else "[green]▼[/]"
        key = g.key if len(g.key) <= 40 else "…" + g.key[-39:]
        rows.append([key, g.calls, g.failures, pct(g.success_rate), ci(g.ci_low, g.ci_high),
                     "—" if g.lift is None else f"{g.lift:.2f}× {flag}".rstrip(), human_bytes(g.wasted_bytes)])
    return rows


def print_stats(out: Any, stats: Stats) -> None:
    o = stats.overall
    out.print(f"[bold]{window_text(stats)}[/]")
    if not o.n:
        out.print("No outcomes recorded in this window.")
    else:
        out.print(f"Success rate [bold]{pct(o.success_rate)}[/] (95% CI {ci(o.ci_low, o.ci_high)}) over "
                  f"{o.n} outcomes in {stats.sessions} sessions; {o.failures} failures.")
        if len(stats.agents) > 1 or "api" in stats.agents:
            out.print("By agent: " + ", ".join(f"{a} {n}" for a, n in stats.agents.items()))
    if o.n < stats.min_samples:
        out.print(f"[yellow]Only {o.n} outcome{'s' if o.n != 1 else ''} in this window (fewer than "
                  f"{stats.min_samples}): widen it with --days N or --all.[/]")
    w = stats.waste
    out.print(f"Wasted: {human_bytes(w.wasted_bytes)} in failed calls and repeats ({w.loops} error loops, "
              f"{w.repeats} repeats) + {human_bytes(w.refetch_bytes)} in {w.refetch_calls} identical re-fetches "
              f"≈ {human_count(w.est_tokens)} tokens (4 bytes/token).")
    if stats.reported:
        out.print("Reported by hand: " + ", ".join(f"{t} {n}" for t, n in stats.reported.items()))
    if stats.by:
        out.print()
        out.print(table(f"By {stats.by}  (▲/▼ significantly above/below the overall rate, n ≥ {stats.min_samples})",
                        [stats.by, "calls", "failures", "success", "95% CI", "lift", "wasted"],
                        group_rows(stats.groups, None)))
    if stats.trend:
        out.print()
        line = sparkline([p.rate.success_rate for p in stats.trend])
        out.print(f"Weekly success rate  {line}")
        out.print(table(None, ["week ending", "outcomes", "success", "95% CI", "change"],
                        [[p.label, p.rate.n, pct(p.rate.success_rate), ci(p.rate.ci_low, p.rate.ci_high),
                          points(p.delta)] for p in stats.trend]))


def print_patterns(out: Any, patterns: Patterns, limit: int = 15) -> None:
    out.print()
    out.print(table("Failure patterns (near-identical signatures merged)",
                    ["count", "share", "sessions", "kind", "pattern", "usual fix"],
                    [[c.count, pct(c.share, 0), c.sessions, c.kind, one_line(c.label, 70),
                      one_line(c.usual_fix, 50) if c.usual_fix else "—"] for c in patterns.clusters[:limit]]))
    out.print()
    rows = [[g.key, g.calls, g.failures, pct(g.failure_rate), "—" if g.lift is None else f"{g.lift:.2f}×"]
            for g in [*patterns.positions, *patterns.compaction]]
    out.print(table("Failure rate by position in the session and compaction",
                    ["when", "calls", "failures", "failure rate", "lift"], rows))
    out.print()
    if patterns.insights:
        out.print("[bold]Insights[/]")
        for i in patterns.insights:
            out.print(f" • {i.text}")
    else:
        out.print(f"No group of at least {patterns.min_samples} outcomes differs clearly from the overall rate.")


def print_lessons(out: Any, report: LessonsReport) -> None:
    out.print()
    if not report.lessons:
        out.print("No lessons in the global or project stores yet.")
        return
    log = f"{report.injections} injections logged" if report.log_exists else "no injection log yet"
    rows = []
    for e in report.lessons:
        rows.append([e.lesson.slug, e.lesson.status,
                     "—" if e.before.per_100 is None else f"{e.before.per_100:.2f}",
                     "—" if e.after.per_100 is None else f"{e.after.per_100:.2f}", e.verdict,
                     "—" if e.injected.per_100 is None else f"{e.injected.per_100:.2f}",
                     "—" if e.not_injected.per_100 is None else f"{e.not_injected.per_100:.2f}",
                     e.injections, ", ".join(e.flags) or "—"])
    out.print(table(f"Lessons ({log}); failures per 100 calls of the lesson's tool family",
                    ["lesson", "status", "before", "after", "verdict", "injected", "not inj.", "injections", "flags"],
                    rows))
    for a in report.thresholds:
        rec = f"→ {a.recommended:g}" if a.change and a.recommended is not None else "keep"
        out.print(f"{a.name}: {a.current:g} {rec} ({a.reason})")
    for problem in report.problems[:5]:
        out.print(f"[yellow]skipped[/] {problem}")


def print_dashboard(out: Any, report: Any) -> None:
    """The dashboard: headline, trend and tool sparklines, patterns, recommendations, lessons."""
    from rich.panel import Panel

    s: Stats = report.stats
    o = s.overall
    change = ""
    if report.previous.success_rate is not None and o.success_rate is not None:
        change = f"  {points(o.success_rate - report.previous.success_rate)} vs previous {s.window.days} days"
    head = (f"[bold]{pct(o.success_rate)}[/] success (95% CI {ci(o.ci_low, o.ci_high)}) · {human_count(o.n)} outcomes · "
            f"{s.sessions} sessions · {o.failures} failures{change}\n"
            f"Wasted ≈ {human_count(s.waste.est_tokens)} tokens ({human_bytes(s.waste.total_bytes)}) · "
            f"weekly success {sparkline([p.rate.success_rate for p in s.trend])} "
            f"({s.trend[0].label if s.trend else ''} → {s.trend[-1].label if s.trend else ''})")
    out.print(Panel(head, title=f"forewarn · {window_text(s)}", expand=False))
    rows = []
    groups = {g.key: g for g in s.groups}
    for t in report.tool_trends:
        g = groups.get(t.tool)
        if g is None:
            continue
        flag = ("[red]▲[/]" if (g.lift or 0) > 1 else "[green]▼[/]") if g.significant else ""
        rows.append([t.tool, g.calls, pct(g.failure_rate), ci(None if g.ci_high is None else 1 - g.ci_high,
                                                              None if g.ci_low is None else 1 - g.ci_low),
                     flag, sparkline(t.failure_rates, 0.0)])
    out.print(table("Tools (failure rate this window; weekly failure rate sparkline)",
                    ["tool", "calls", "failure rate", "95% CI", "", "weekly"], rows))
    clusters = report.patterns.clusters[:8]
    if clusters:
        out.print(table("Top failure patterns", ["count", "sessions", "kind", "pattern"],
                        [[c.count, c.sessions, c.kind, one_line(c.label, 80)] for c in clusters]))
    if report.recommendations:
        out.print("[bold]Recommendations[/]")
        for r in report.recommendations[:6]:
            out.print(f" • {r}")
    elif report.patterns.insights:
        out.print("[bold]Insights[/]")
        for i in report.patterns.insights[:6]:
            out.print(f" • {i.text}")
    lr = report.lessons
    if lr.lessons:
        archive = [e.lesson.slug for e in lr.lessons if e.archive]
        better = sum(1 for e in lr.lessons if e.verdict == "fewer failures")
        out.print(f"Lessons: {len(lr.lessons)} · {lr.injections} injections · {better} with fewer failures since"
                  + (f" · to archive: {', '.join(archive[:5])}" if archive else ""))

"""The HTML report: one self-contained file (inline CSS, inline SVG charts, no scripts, no
external assets) that opens from disk in any browser and can be mailed as is.

Invariants: every piece of text from the data is escaped; nothing references the network or a
file beside it; the page reads top to bottom the same way as the Markdown report.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from html import escape
from typing import Any

from forewarn.insights import svg
from forewarn.insights.report import Report, window_title
from forewarn.insights.stats import Group
from forewarn.insights.text import ci, human_bytes, human_count, one_line, pct, points, sentence

CSS = """
:root { color-scheme: light; --ink: #1f2933; --muted: #616e7c; --line: #e4e7eb; --accent: #2f6fdf;
        --bad: #d64545; --good: #2f8f5b; --bg: #ffffff; --soft: #f5f7fa; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
main { max-width: 980px; margin: 0 auto; padding: 32px 24px 64px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 16px; margin: 22px 0 8px; }
p.meta, .note { color: var(--muted); font-size: 13px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(170px, 1fr)); gap: 12px; margin: 18px 0; }
.card { background: var(--soft); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 24px; font-weight: 650; }
.card .sub { color: var(--muted); font-size: 12px; }
.up { color: var(--good); } .down { color: var(--bad); }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; font-size: 13px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--soft);
       padding: 1px 4px; border-radius: 3px; word-break: break-word; }
ol.recs li, ul.insights li { margin: 6px 0; }
.flag { display: inline-block; background: #fde8e8; color: #9b1c1c; border-radius: 4px; padding: 0 6px;
        font-size: 12px; margin-right: 4px; }
.chart { margin: 8px 0 20px; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; }
@media print { main { padding: 0; } h2 { break-after: avoid; } .chart, table { break-inside: avoid; } }
"""


def _h2(title: str) -> str:
    anchor = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")
    return f'<h2 id="{anchor}">{escape(title)}</h2>'


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], numeric: Sequence[int] = ()) -> str:
    if not rows:
        return '<p class="note">No data.</p>'
    head = "".join(f'<th class="num">{escape(h)}</th>' if i in numeric else f"<th>{escape(h)}</th>"
                   for i, h in enumerate(headers))
    body = []
    for row in rows:
        cells = []
        for i, v in enumerate(row):
            html = v.html if isinstance(v, _Raw) else escape("—" if v is None else str(v))
            cells.append(f'<td class="num">{html}</td>' if i in numeric else f"<td>{html}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


class _Raw:
    """Already-escaped HTML for a table cell."""

    def __init__(self, html: str) -> None:
        self.html = html


def _code(text: str | None, limit: int = 90) -> _Raw:
    return _Raw(f"<code>{escape(one_line(text, limit))}</code>" if text else "—")


def _group_rows(groups: Sequence[Group], limit: int | None) -> list[list[Any]]:
    rows = []
    for g in list(groups)[:limit]:
        mark = ""
        if g.significant:
            mark = ' <span class="flag">higher</span>' if (g.lift or 0) > 1 else ' <span class="flag" style="background:#e3f6ec;color:#1f6b43">lower</span>'
        lift = "—" if g.lift is None else f"{g.lift:.2f}×"
        rows.append([g.key, g.calls, g.failures, pct(g.success_rate), ci(g.ci_low, g.ci_high), _Raw(escape(lift) + mark)])
    return rows


GROUP_HEADERS = ["calls", "failures", "success", "95% CI", "failure lift"]


def _card(label: str, value: str, sub: str = "", cls: str = "") -> str:
    return (f'<div class="card"><div class="label">{escape(label)}</div><div class="value {cls}">{escape(value)}</div>'
            f'<div class="sub">{escape(sub)}</div></div>')


def _summary(report: Report) -> str:
    s = report.stats
    o = s.overall
    cards = [_card("Success rate", pct(o.success_rate), f"95% CI {ci(o.ci_low, o.ci_high)}")]
    if report.previous.success_rate is not None and o.success_rate is not None:
        delta = o.success_rate - report.previous.success_rate
        cards.append(_card("Change", points(delta), f"vs the {s.window.days} days before", "up" if delta > 0 else "down"))
    cards += [_card("Outcomes", human_count(o.n), f"{s.sessions} sessions"),
              _card("Failures", human_count(o.failures), f"{s.waste.loops} error loops"),
              _card("Wasted tokens", f"≈{human_count(s.waste.est_tokens)}", f"{human_bytes(s.waste.total_bytes)} of context")]
    if report.reported:
        cards.append(_card("Reported by hand", str(len(report.reported)), "manual failure reports"))
    return f'<div class="cards">{"".join(cards)}</div>'


def render_html(report: Report) -> str:
    s = report.stats
    p = report.patterns
    limit = None if report.detailed else 10
    title = f"forewarn report: {window_title(report)}"
    note = "the newest recorded outcome" if s.window.now_source == "store" else "the given time"
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{escape(title)}</title><style>{CSS}</style></head><body><main>",
           f"<h1>{escape(title)}</h1>",
           f'<p class="meta">Generated {escape(report.generated_at)}. Windows end at {escape(s.window.now)} UTC '
           f"({escape(note)}). Every rate carries its sample size and a Wilson 95% interval.</p>",
           _summary(report)]
    if s.agents:
        out.append(f'<p class="note">Outcomes by agent: {escape(", ".join(f"{a} {n}" for a, n in s.agents.items()))}. '
                   f"Wasted context: {escape(human_bytes(s.waste.wasted_bytes))} in failed calls and their repeats, "
                   f"{escape(human_bytes(s.waste.refetch_bytes))} in {s.waste.refetch_calls} identical re-fetches "
                   f"(tokens estimated at 4 bytes each).</p>")
    out.append(_h2("Failure rate, week by week"))
    trend = [svg.Point(pt.label[5:], pt.rate.failure_rate,
                       None if pt.rate.failure_ci is None else pt.rate.failure_ci[0],
                       None if pt.rate.failure_ci is None else pt.rate.failure_ci[1], f"n={pt.rate.n}")
             for pt in s.trend]
    out.append(f'<div class="chart">{svg.line_chart(trend, label="Weekly failure rate with 95% interval")}</div>')
    out.append(_table(["week ending", "outcomes", "success", "95% CI", "change"],
                      [[pt.label, pt.rate.n, pct(pt.rate.success_rate), ci(pt.rate.ci_low, pt.rate.ci_high), points(pt.delta)]
                       for pt in s.trend], numeric=(1, 2, 3, 4)))
    out.append(_h2("Recommendations"))
    if not report.learning_enabled:
        out.append('<p class="note">Learning is disabled (learning.enabled = false).</p>')
    elif report.recommendations:
        out.append('<ol class="recs">' + "".join(f"<li>{_inline_code(r)}</li>" for r in
                                                report.recommendations[: None if report.detailed else 10]) + "</ol>")
    else:
        out.append('<p class="note">Nothing to recommend: no pattern passed the sample-size and interval tests.</p>')
    out.append(_h2("Insights"))
    if p.insights:
        out.append('<ul class="insights">' + "".join(f"<li>{_inline_code(sentence(i.text))}</li>" for i in p.insights) + "</ul>")
    else:
        out.append(f'<p class="note">No group of at least {s.min_samples} outcomes differs clearly from the overall rate.</p>')
    out.append(_h2("Failure rate by tool"))
    by_calls = sorted(s.groups, key=lambda g: -g.calls)[:12]
    bars = [svg.Bar(g.key, g.failure_rate or 0.0, None if g.ci_high is None else 1 - g.ci_high,
                    None if g.ci_low is None else 1 - g.ci_low, f"{g.failures} of {g.calls}",
                    g.significant and (g.lift or 0) > 1) for g in by_calls]
    out.append(f'<div class="chart">{svg.bar_chart(bars, label="Failure rate per tool", baseline=s.overall.failure_rate)}</div>')
    out.append('<p class="note">Bars: failure rate; whiskers: 95% interval; dashed line: overall rate; red: '
               "significantly above it.</p>")
    out.append(_table(["tool", *GROUP_HEADERS], _group_rows(s.groups, limit), numeric=(1, 2, 3, 4, 5)))
    out.append(_h2("Failure patterns"))
    out.append(_table(["pattern", "kind", "count", "share", "sessions", "error", "usual fix"],
                      [[_Raw(_code(c.label, 80).html + (f" <span class=\"note\">+{len(c.signatures) - 1} similar</span>"
                                                        if len(c.signatures) > 1 else "")),
                        c.kind, c.count, pct(c.share, 0), c.sessions, one_line(c.example_error, 100),
                        _code(c.usual_fix, 70)]
                       for c in p.clusters[: None if report.detailed else 10]], numeric=(2, 3, 4)))
    out.append(_h2("By project"))
    out.append(_table(["project", *GROUP_HEADERS], _group_rows(report.projects, limit), numeric=(1, 2, 3, 4, 5)))
    out.append(_h2("When failures happen"))
    out.append(_table(["position / phase", *GROUP_HEADERS], _group_rows([*p.positions, *p.compaction], None),
                      numeric=(1, 2, 3, 4, 5)))
    hours = [svg.Bar(g.key, g.failure_rate or 0.0, None if g.ci_high is None else 1 - g.ci_high,
                     None if g.ci_low is None else 1 - g.ci_low, f"{g.failures} of {g.calls}",
                     g.significant and (g.lift or 0) > 1) for g in p.hours if g.calls]
    if report.detailed:
        out.append("<h3>By hour of day (UTC)</h3>")
        out.append(f'<div class="chart">{svg.bar_chart(hours, label="Failure rate by hour", baseline=s.overall.failure_rate, row=18)}</div>')
        out.append("<h3>By weekday</h3>")
        out.append(_table(["weekday", *GROUP_HEADERS], _group_rows(p.weekdays, None), numeric=(1, 2, 3, 4, 5)))
        for dim in ("family", "model", "command", "version"):
            out.append(f"<h3>By {escape(dim)}</h3>")
            out.append(_table([dim, *GROUP_HEADERS], _group_rows(p.correlations.get(dim, ()), 25), numeric=(1, 2, 3, 4, 5)))
    out.append(_lessons(report))
    if report.reported:
        types = Counter(r.failure_type for r in report.reported)
        out.append(_h2("Failures reported by hand"))
        out.append(f'<p class="note">{escape(", ".join(f"{t}: {n}" for t, n in types.most_common()))}</p>')
        out.append(_table(["when", "type", "description", "context", "task"],
                          [[r.ts[:16].replace("T", " "), r.failure_type, one_line(r.description, 140),
                            one_line(r.context, 100), one_line(r.task, 80)]
                           for r in report.reported[: None if report.detailed else 20]]))
    out.append('<footer>Made by forewarn from local session logs; nothing left this machine. Token figures are '
               "bytes ÷ 4. Hours are UTC. A group is called out only with enough outcomes (learning.minSamples) "
               "and when its interval excludes the overall rate.</footer>")
    out.append("</main></body></html>")
    return "\n".join(out) + "\n"


def _inline_code(text: str) -> str:
    """Escape, then turn `backticked` spans into <code>."""
    pieces = escape(text).split("`")
    return "".join(f"<code>{piece}</code>" if i % 2 else piece for i, piece in enumerate(pieces))


def _per100(mid: float | None, lo: float | None, hi: float | None) -> str:
    return "—" if mid is None else f"{mid:.2f} ({lo:.2f}–{hi:.2f})"


def _lessons(report: Report) -> str:
    lr = report.lessons
    out = [_h2("Lessons")]
    if not lr.lessons:
        out.append('<p class="note">No lessons in the global or project stores yet.</p>')
        return "".join(out)
    log = f"{lr.injections} injections logged" if lr.log_exists else "no injection log yet (the hook writes it)"
    out.append(f'<p class="note">{len(lr.lessons)} lessons; {escape(log)}. Rates are failures with the lesson\'s '
               "signature per 100 calls of its tool family, before and after the lesson was created.</p>")
    pairs = [svg.Pair(e.lesson.slug, e.before.per_100, e.after.per_100, e.verdict)
             for e in sorted(lr.lessons, key=lambda e: -(e.before.calls + e.after.calls))[:12] if e.lesson.signature]
    if pairs:
        out.append(f'<div class="chart">{svg.paired_bars(pairs, label="Failures per 100 calls before and after each lesson")}</div>')
    rows = []
    for e in lr.lessons[: None if report.detailed else 25]:
        flags = "".join(f'<span class="flag">{escape(f.replace("_", " "))}</span>' for f in e.flags) or "—"
        rows.append([e.lesson.slug, e.lesson.status, _per100(e.before.per_100, e.before.ci_low, e.before.ci_high),
                     _per100(e.after.per_100, e.after.ci_low, e.after.ci_high), e.verdict,
                     _per100(e.injected.per_100, e.injected.ci_low, e.injected.ci_high),
                     _per100(e.not_injected.per_100, e.not_injected.ci_low, e.not_injected.ci_high),
                     e.injections, _Raw(flags)])
    out.append(_table(["lesson", "status", "before /100", "after /100", "verdict", "injected /100",
                       "not injected /100", "injections", "flags"], rows, numeric=(2, 3, 5, 6, 7)))
    out.append("<h3>Thresholds</h3><ul>")
    for a in lr.thresholds:
        rec = "keep" if a.recommended is None or not a.change else f"→ {a.recommended:g}"
        out.append(f"<li><b>{escape(a.name)}</b>: {a.current:g} {escape(rec)} <span class=\"note\">({escape(a.reason)})</span></li>")
    out.append("</ul>")
    return "".join(out)

"""Does a lesson work? Recurrence of its failure before and after it existed, with and without
injection; which lessons to archive; which confidence/priority thresholds the evidence supports.

For each lesson with a signature, the *recurrence rate* is failures with that exact signature per
100 calls of the signature's tool family (`shell:…` → shell calls), and the share of sessions using
that family in which it occurred at least once. It is measured
- before vs after the lesson's `createdAt`, and
- after creation, in sessions where the hook injected it (counted from the first injection on)
  vs sessions where it was not injected.

Flags for archiving:
- `never_fires`: active, at least a week old, and never injected (only when an injection log exists);
- `fires_without_relevance`: injected in 3+ sessions, yet its failure never occurred in those
  sessions nor anywhere in their projects (if the mistake is not made there, the text is noise);
- `stale`: neither its failure nor an injection for `learning.staleAfterDays`.

Adaptive thresholds: a lesson is *confirmed* when its failure recurred after the lesson was created
or one of its injections was relevant (as above); lessons younger than a week that were never
injected are not judged. Precision per confidence band (and per priority band) is the confirmed
share with a Wilson interval. The recommended `minConfidence` is the lowest band edge from which
every band with `learning.minSamples` judged lessons reaches `learning.confidenceThreshold`.

Invariants: times are UTC keys (`YYYY-MM-DDTHH:MM:SS`); every rate carries its sample size and a
Wilson 95% interval; nothing is concluded from fewer than `min_samples` calls (or lessons).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path
from typing import Any

from forewarn.insights.sources import (
    INJECTIONS_FILE,
    Injection,
    LessonRef,
    list_lessons,
    read_injections,
)
from forewarn.insights.stats import _fmt, wilson
from forewarn.store.analytics import Event

MIN_AGE_DAYS = 7  # a lesson younger than this has not had the time to prove anything
MIN_INJECTED_SESSIONS = 3  # injections needed before calling them irrelevant
CONFIDENCE_EDGES = (0.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
PRIORITY_EDGES = (1, 3, 5, 7, 9, 11)


@dataclass(frozen=True)
class Recurrence:
    calls: int  # calls of the lesson's tool family
    occurrences: int  # of those, failures with the lesson's signature
    per_100: float | None
    ci_low: float | None  # Wilson 95%, per 100 calls
    ci_high: float | None
    sessions: int  # sessions using the family
    sessions_hit: int  # sessions with at least one occurrence
    session_rate: float | None
    session_ci_low: float | None
    session_ci_high: float | None

    @classmethod
    def measure(cls, events: Sequence[Event], signature: str) -> Recurrence:
        sessions: dict[str, bool] = {}
        occurrences = 0
        for e in events:
            hit = e.failed and e.signature == signature
            occurrences += hit
            key = e.session_id or e.session
            sessions[key] = sessions.get(key, False) or hit
        n = len(events)
        hits = sum(sessions.values())
        lo, hi = wilson(occurrences, n)
        slo, shi = wilson(hits, len(sessions))
        return cls(n, occurrences, round(100 * occurrences / n, 3) if n else None,
                   round(100 * lo, 3) if n else None, round(100 * hi, 3) if n else None,
                   len(sessions), hits, round(hits / len(sessions), 4) if sessions else None,
                   round(slo, 4) if sessions else None, round(shi, 4) if sessions else None)


EMPTY = Recurrence(0, 0, None, None, None, 0, 0, None, None, None)


@dataclass(frozen=True)
class LessonEffect:
    lesson: LessonRef
    family: str | None
    before: Recurrence
    after: Recurrence
    injected: Recurrence  # after creation, in sessions it was injected into, from the first injection on
    not_injected: Recurrence  # after creation, sessions it was not injected into
    verdict: str  # before vs after: "fewer failures", "more failures", "no clear change", "not enough data"
    injection_verdict: str  # injected vs not, same words
    injections: int
    injected_sessions: int
    relevant_sessions: int  # injected sessions whose session or project shows the failure
    known_sessions: int  # injected sessions whose project could be told
    last_occurrence: str | None
    last_injection: str | None
    confirmed: bool | None  # None: too young and never injected, or nothing to measure it by
    flags: tuple[str, ...]

    @property
    def archive(self) -> bool:
        return bool(self.flags) and self.lesson.status == "active"


@dataclass(frozen=True)
class Band:
    label: str
    low: float
    high: float
    lessons: int  # judged lessons in the band
    confirmed: int
    precision: float | None
    ci_low: float | None
    ci_high: float | None
    measured: bool  # at least min_samples judged lessons


@dataclass(frozen=True)
class ThresholdAdvice:
    name: str  # "minConfidence" or "minPriority"
    key: str  # the config key
    current: float
    recommended: float | None
    change: bool
    target: float
    reason: str
    bands: tuple[Band, ...]


@dataclass(frozen=True)
class LessonsReport:
    now: str
    lessons: tuple[LessonEffect, ...]
    injection_log: str
    log_exists: bool
    injections: int
    unmatched_injections: int  # log lines naming a lesson no store holds
    problems: tuple[str, ...]  # unreadable lesson files, bad log lines
    thresholds: tuple[ThresholdAdvice, ...]


def _compare(before: Recurrence, after: Recurrence, min_samples: int) -> str:
    if before.calls < min_samples or after.calls < min_samples or before.per_100 is None:
        return "not enough data"
    assert after.ci_low is not None and after.ci_high is not None
    if after.ci_high < before.per_100:
        return "fewer failures"
    if after.ci_low > before.per_100:
        return "more failures"
    return "no clear change"


def _key(e: Event) -> str:
    return (e.ts or "")[:19]


def _under(cwd: str, project: str) -> bool:
    return cwd == project or cwd.startswith(project.rstrip("/") + "/")


def effect_of(lesson: LessonRef, by_family: dict[str, list[Event]], injections: Sequence[Injection],
              session_project: dict[str, str | None], now: datetime, *, min_samples: int, stale_days: int,
              log_exists: bool) -> LessonEffect:
    sig = lesson.signature
    family = sig.split(":", 1)[0] if sig else None
    created = lesson.created_at
    first_injection: dict[str, str] = {}
    cwd_of: dict[str, str | None] = {}
    for inj in injections:
        key = inj.session_id or f"?{inj.cwd}"
        if key not in first_injection:
            first_injection[key] = inj.ts
            cwd_of[key] = inj.cwd
    evs = [e for e in by_family.get(family or "", ()) if e.ts]
    before = [e for e in evs if created is not None and _key(e) < created]
    after = [e for e in evs if created is None or _key(e) >= created]
    injected = [e for e in after if _key(e) >= first_injection.get(e.session_id or e.session, "~")]
    not_injected = [e for e in after if (e.session_id or e.session) not in first_injection]
    if sig:
        r_before, r_after = Recurrence.measure(before, sig), Recurrence.measure(after, sig)
        r_inj, r_not = Recurrence.measure(injected, sig), Recurrence.measure(not_injected, sig)
    else:
        r_before = r_after = r_inj = r_not = EMPTY
    occurrences = [e for e in evs if e.failed and e.signature == sig] if sig else []
    occ_sessions = {e.session_id or e.session for e in occurrences}
    occ_projects = {e.project for e in occurrences if e.project}
    relevant = known = 0
    for key in first_injection:
        project = session_project.get(key) or cwd_of.get(key)
        if key in occ_sessions:
            relevant += 1
            known += 1
        elif project:
            known += 1
            relevant += any(_under(project, p) for p in occ_projects)
    last_occ = max((_key(e) for e in occurrences), default=None)
    last_inj = max((i.ts for i in injections), default=None)
    age_days = None
    if created is not None:
        age_days = (now - datetime.fromisoformat(created).replace(tzinfo=timezone.utc)).total_seconds() / 86400
    flags: list[str] = []
    old_enough = age_days is None or age_days >= MIN_AGE_DAYS
    if lesson.status == "active":
        if log_exists and not injections and old_enough:
            flags.append("never_fires")
        if len(first_injection) >= MIN_INJECTED_SESSIONS and known >= MIN_INJECTED_SESSIONS and relevant == 0:
            flags.append("fires_without_relevance")
        cutoff = _fmt(now - timedelta(days=stale_days))
        if (age_days is None or age_days >= stale_days) and (last_occ is None or last_occ < cutoff) \
                and (last_inj is None or last_inj < cutoff):
            flags.append("stale")
    confirmed: bool | None = None
    if (old_enough or injections) and (sig or injections):
        confirmed = r_after.occurrences > 0 or relevant > 0
    return LessonEffect(lesson, family, r_before, r_after, r_inj, r_not,
                        _compare(r_before, r_after, min_samples), _compare(r_not, r_inj, min_samples),
                        len(injections), len(first_injection), relevant, known, last_occ, last_inj,
                        confirmed, tuple(flags))


def _bands(effects: Sequence[LessonEffect], attr: str, edges: Sequence[float], min_samples: int,
           integer: bool) -> list[Band]:
    out = []
    for low, high in pairwise(edges):
        last = high == edges[-1]
        judged = [e for e in effects if e.confirmed is not None
                  and (value := getattr(e.lesson, attr)) is not None
                  and low <= value and (value < high or (last and value <= high))]
        k = sum(1 for e in judged if e.confirmed)
        n = len(judged)
        lo, hi = wilson(k, n)
        label = f"{int(low)}–{int(high) - 1}" if integer else f"{low:.1f}–{high:.1f}"
        out.append(Band(label, low, high, n, k, round(k / n, 4) if n else None,
                        round(lo, 4) if n else None, round(hi, 4) if n else None, n >= min_samples))
    return out


def recommend(bands: Sequence[Band], target: float) -> tuple[float | None, str]:
    """The lowest band edge from which every measured band reaches `target`."""
    threshold: float | None = None
    failing: Band | None = None
    for band in reversed(bands):
        if not band.measured:
            if threshold is None:
                continue  # unmeasured bands above the evidence say nothing
            break  # and none below it can justify going lower
        if band.precision is not None and band.precision >= target:
            threshold = band.low
        else:
            failing = band
            break
    if threshold is not None:
        return threshold, f"bands from {threshold:g} up reach the target precision {target:.0%}"
    if failing is not None:
        return failing.high, (f"the highest measured band ({failing.label}) is confirmed only "
                              f"{(failing.precision or 0):.0%} of the time, below {target:.0%}")
    return None, "not enough judged lessons in any band"


def thresholds_advice(effects: Sequence[LessonEffect], current_confidence: float, current_priority: int,
                      target: float, min_samples: int) -> tuple[ThresholdAdvice, ...]:
    out = []
    for name, attr, edges, current, integer in (
            ("minConfidence", "confidence", CONFIDENCE_EDGES, current_confidence, False),
            ("minPriority", "priority", PRIORITY_EDGES, current_priority, True)):
        bands = _bands(effects, attr, edges, min_samples, integer)
        value, reason = recommend(bands, target)
        if value is not None and integer:
            value = int(min(10, value))
        elif value is not None:
            value = round(min(1.0, value), 2)
        out.append(ThresholdAdvice(name, f"injection.{name}", current, value,
                                   value is not None and value != current, target, reason, tuple(bands)))
    return tuple(out)


def analyze_lessons(events: Sequence[Event], lessons: Sequence[LessonRef], injections: Sequence[Injection],
                    now: datetime, *, min_samples: int, stale_days: int, target: float,
                    current_confidence: float, current_priority: int, log_exists: bool,
                    injection_log: str = "", problems: Sequence[str] = ()) -> LessonsReport:
    by_family: defaultdict[str, list[Event]] = defaultdict(list)
    session_project: dict[str, str | None] = {}
    for e in events:
        by_family[e.family].append(e)
        session_project.setdefault(e.session_id or e.session, e.project)
    by_id = {lesson.id: lesson for lesson in lessons}
    by_slug = {lesson.slug: lesson for lesson in lessons}
    per_lesson: defaultdict[str, list[Injection]] = defaultdict(list)
    unmatched = 0
    for inj in injections:
        lesson = by_id.get(inj.lesson_id or "") or by_slug.get(inj.slug or "")
        if lesson is None:
            unmatched += 1
        else:
            per_lesson[lesson.id].append(inj)
    effects = [effect_of(lesson, by_family, per_lesson.get(lesson.id, []), session_project, now,
                         min_samples=min_samples, stale_days=stale_days, log_exists=log_exists)
               for lesson in lessons]
    effects.sort(key=lambda e: (not e.archive, e.lesson.status != "active", e.lesson.slug))
    return LessonsReport(_fmt(now), tuple(effects), injection_log, log_exists, len(injections), unmatched,
                         tuple(problems),
                         thresholds_advice(effects, current_confidence, current_priority, target, min_samples))


def lessons_report(store: Any, *, home: Path | None = None, now: datetime | None = None,
                   events: Sequence[Event] | None = None, projects: Sequence[str] | None = None) -> LessonsReport:
    """Read the lesson stores, the injection log and the store's history; judge every lesson."""
    from forewarn.config import load_config
    from forewarn.insights.stats import resolve_now
    from forewarn.paths import forewarn_home
    from forewarn.store import analytics as sql

    home = home or forewarn_home()
    config = load_config(home)
    if now is None:
        now = resolve_now(store)[0]
    if projects is None:
        projects = [*sql.projects_seen(store), str(Path.cwd())]
    lessons, problems = list_lessons(home, projects)
    log = home / INJECTIONS_FILE
    injections, bad = read_injections(log)
    if events is None:
        events = sql.events(store) if lessons else []
    return analyze_lessons(events, lessons, injections, now, min_samples=config.learning.min_samples,
                           stale_days=config.learning.stale_after_days, target=config.learning.confidence_threshold,
                           current_confidence=config.injection.min_confidence,
                           current_priority=config.injection.min_priority, log_exists=log.is_file(),
                           injection_log=str(log), problems=[*problems, *bad])


def apply_thresholds(report: LessonsReport, home: Path | None = None) -> dict[str, float]:
    """Write every recommended change into config.json; returns what was written."""
    from forewarn.config import set_values

    changes = {a.key: a.recommended for a in report.thresholds if a.change and a.recommended is not None}
    if changes:
        set_values(changes, home)
    return changes

"""Lesson effectiveness: the lesson-store and injection-log readers, before/after and injected/not
recurrence, archiving flags, adaptive thresholds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from forewarn.config import load_config
from forewarn.insights.lesson_effect import Band, apply_thresholds, lessons_report, recommend
from forewarn.insights.sources import list_lessons, read_injections
from forewarn.store import Store
from tests.insights_helpers import C, add_session, at

SIG = "shell:env_runtime:python3:modulenotfounderror: no module named q"
ULID = "01JQXYZ0000000000000000000"


def lesson(id_: str = ULID, slug: str = "use-venv-python-ab12", signature: str | None = SIG,
           created: str = "2026-03-12T09:00:00Z", **extra: object) -> dict[str, object]:
    return {"id": id_, "slug": slug, "summary": "Use the venv's python", "signature": signature,
            "createdAt": created, "status": "active", "confidence": 0.8, "priority": 7, **extra}


def write_store(path: Path, lessons: list[dict[str, object]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"type": "forewarn-lessons", "version": 1, "lessons": lessons}), encoding="utf-8")
    return path


def injection(ts: str, session: str, lesson_id: str = ULID, **extra: object) -> str:
    rec = {"ts": ts, "session_id": session, "agent": "claude", "lesson_id": lesson_id, "slug": "use-venv-python-ab12",
           "tool_name": "Bash", "action": "warn", "cwd": "/work/app", **extra}
    return json.dumps(rec) + "\n"


# -- readers -----------------------------------------------------------------------------------


def test_injection_log_reader_skips_bad_lines_with_their_numbers(tmp_path: Path) -> None:
    log = tmp_path / "injections.jsonl"
    log.write_text(
        injection("2026-03-12T10:00:00Z", "s1")
        + "{not json\n"
        + "\n"
        + json.dumps({"session_id": "s2", "lesson_id": ULID}) + "\n"  # no ts
        + injection("2026-03-12T11:00:00+01:00", "s3", action="shout")
        + json.dumps({"ts": "2026-03-12T09:00:00Z", "session_id": "s4"}) + "\n"  # no lesson
        + "[1, 2]\n"
        + injection("2026-03-12T08:00:00+01:00", "s5", action="block"),
        encoding="utf-8")
    good, bad = read_injections(log)
    assert [(i.session_id, i.ts, i.action) for i in good] == [("s5", "2026-03-12T07:00:00", "block"),
                                                              ("s1", "2026-03-12T10:00:00", "warn")]
    assert [b.split(":", 2)[-1].strip() for b in bad] == ["not JSON", "no valid ts", "unknown action 'shout'",
                                                         "no lesson_id or slug", "not an object"]
    assert bad[0].startswith(f"{log}:2:")
    assert read_injections(tmp_path / "absent.jsonl") == ([], [])


def test_lesson_stores_global_then_project_with_problems_reported(tmp_path: Path) -> None:
    home = tmp_path / "home"
    write_store(home / "lessons.json", [lesson(), {"slug": "no-id"}])
    project = tmp_path / "proj"
    write_store(project / ".forewarn" / "lessons.json",
                [lesson(), lesson("01JQXYZ0000000000000000001", "second-cd34", created="2026-03-01T00:00:00+02:00")])
    broken = tmp_path / "broken"
    (broken / ".forewarn").mkdir(parents=True)
    (broken / ".forewarn" / "lessons.json").write_text("{", encoding="utf-8")
    registered = tmp_path / "registered"
    write_store(registered / ".forewarn" / "lessons.json", [lesson("01JQXYZ0000000000000000009", "third-ef56")])
    (home / "projects.json").write_text(json.dumps({"type": "forewarn-projects", "version": 1,
                                                    "projects": [str(registered)]}), encoding="utf-8")
    found, problems = list_lessons(home, [str(project), str(broken), str(tmp_path / "none")])
    assert [lesson.slug for lesson in found] == ["use-venv-python-ab12", "third-ef56", "second-cd34"]
    assert found[2].created_at == "2026-02-28T22:00:00"
    assert found[0].confidence == 0.8 and found[0].priority == 7
    assert any("no id" in p for p in problems) and any("unreadable" in p for p in problems)


# -- effectiveness -----------------------------------------------------------------------------


def _history(store: Store) -> None:
    """Ten days with the failure (2 in 20 shell calls a day), then ten days after the lesson:
    sessions it was injected into are clean, the others still fail."""
    for d in range(10):
        add_session(store, [C(at(d, 0, i), failed=i < 2, kind="env_runtime", signature=SIG) for i in range(20)],
                    session_id=f"before-{d}")
    for d in range(10, 20):
        injected = d % 2 == 0
        add_session(store, [C(at(d, 0, i), failed=(not injected) and i < 3, kind="env_runtime", signature=SIG)
                            for i in range(20)], session_id=f"after-{d}")


def test_recurrence_before_after_and_injected_vs_not(isolated_home: Path) -> None:
    store = Store.memory()
    _history(store)
    write_store(isolated_home / "lessons.json", [lesson(created=at(10)[:19] + "Z")])
    (isolated_home / "injections.jsonl").write_text(
        "".join(injection(at(d)[:19] + "Z", f"after-{d}") for d in range(10, 20, 2)), encoding="utf-8")
    report = lessons_report(store, projects=[])
    (effect,) = report.lessons
    assert (effect.before.calls, effect.before.occurrences, effect.before.per_100) == (200, 20, 10.0)
    assert (effect.after.calls, effect.after.occurrences, effect.after.per_100) == (200, 15, 7.5)
    assert effect.before.sessions == 10 and effect.before.sessions_hit == 10
    assert (effect.injected.calls, effect.injected.occurrences) == (100, 0)
    assert (effect.not_injected.calls, effect.not_injected.occurrences) == (100, 15)
    assert effect.injection_verdict == "fewer failures"
    assert effect.verdict == "no clear change"  # 7.5 per 100 after is inside before's reach
    assert effect.injected_sessions == 5 and effect.relevant_sessions == 5
    assert effect.flags == () and effect.confirmed is True
    assert effect.injected.ci_high is not None and effect.injected.ci_high < effect.not_injected.per_100  # type: ignore[operator]


def test_flags_for_archiving(isolated_home: Path) -> None:
    store = Store.memory()
    _history(store)
    add_session(store, [C(at(60), tool="Read")], project="/elsewhere", session_id="late")  # moves "now" on
    for s in range(3):
        add_session(store, [C(at(55, 0, s))], project="/other", session_id=f"other-{s}")
    lessons = [
        lesson(),  # its failure stopped at day 19 and it was never injected: stale, never fires
        lesson("01JQXYZ0000000000000000002", "noise-ef56", signature=SIG, created=at(50)[:19] + "Z"),
        lesson("01JQXYZ0000000000000000003", "fresh-gh78", signature="shell:other:x", created=at(58)[:19] + "Z"),
    ]
    write_store(isolated_home / "lessons.json", lessons)
    log = "".join(injection(at(55, 0, s)[:19] + "Z", f"other-{s}", "01JQXYZ0000000000000000002", cwd="/other")
                  for s in range(3))
    (isolated_home / "injections.jsonl").write_text(log, encoding="utf-8")
    report = lessons_report(store, projects=[])
    flags = {e.lesson.slug: e.flags for e in report.lessons}
    assert flags["use-venv-python-ab12"] == ("never_fires", "stale")
    assert flags["noise-ef56"] == ("fires_without_relevance",)  # /other never saw the failure
    assert flags["fresh-gh78"] == ()  # two days old: too young to judge
    assert [e.lesson.slug for e in report.lessons if e.archive] == ["noise-ef56", "use-venv-python-ab12"]


def test_no_log_means_no_never_fires_flag(isolated_home: Path) -> None:
    store = Store.memory()
    _history(store)
    write_store(isolated_home / "lessons.json", [lesson(created=at(10)[:19] + "Z")])
    report = lessons_report(store, projects=[])
    assert not report.log_exists and "never_fires" not in report.lessons[0].flags


# -- thresholds --------------------------------------------------------------------------------


def band(low: float, high: float, n: int, k: int, min_samples: int = 10) -> Band:
    return Band(f"{low}-{high}", low, high, n, k, k / n if n else None, None, None, n >= min_samples)


def test_recommend_lowest_edge_whose_bands_reach_the_target() -> None:
    bands = [band(0.0, 0.5, 20, 6), band(0.5, 0.6, 20, 12), band(0.6, 0.7, 20, 15), band(0.7, 0.8, 12, 11),
             band(0.8, 0.9, 3, 3), band(0.9, 1.0, 0, 0)]
    assert recommend(bands, 0.7)[0] == 0.6
    assert recommend(bands, 0.5)[0] == 0.5
    assert recommend(bands, 0.95)[0] == 0.8  # the best measured band fails: raise above it
    assert recommend([band(0.0, 0.5, 2, 2)], 0.7) == (None, "not enough judged lessons in any band")


def test_thresholds_from_lessons_and_apply_writes_config(isolated_home: Path) -> None:
    store = Store.memory()
    _history(store)
    add_session(store, [C(at(40), tool="Read")], session_id="late")
    low = [lesson(f"01JQXYZ00000000000000001{i:02d}", f"low-{i}", signature=f"shell:other:never{i}",
                  created=at(1)[:19] + "Z", confidence=0.55, priority=3) for i in range(10)]
    high = [lesson(f"01JQXYZ00000000000000002{i:02d}", f"high-{i}", signature=SIG, created=at(5)[:19] + "Z",
                   confidence=0.75, priority=8) for i in range(10)]
    write_store(isolated_home / "lessons.json", low + high)
    report = lessons_report(store, projects=[])
    advice = {a.name: a for a in report.thresholds}
    conf = advice["minConfidence"]
    measured = {b.label: (b.lessons, b.confirmed) for b in conf.bands if b.lessons}
    assert measured == {"0.5–0.6": (10, 0), "0.7–0.8": (10, 10)}
    assert conf.recommended == 0.7 and conf.change and conf.current == 0.5
    assert advice["minPriority"].recommended == 7
    written = apply_thresholds(report)
    assert written == {"injection.minConfidence": 0.7, "injection.minPriority": 7}
    config = load_config()
    assert config.injection.min_confidence == 0.7 and config.injection.min_priority == 7
    again = lessons_report(store, projects=[])
    assert not any(a.change for a in again.thresholds)


@pytest.mark.parametrize("name", ["minConfidence", "min_confidence", "injection.minConfidence"])
def test_generator_threshold_api(isolated_home: Path, name: str) -> None:
    from forewarn.insights import AnalyticsCollector, InsightsGenerator

    store = Store.memory()
    _history(store)
    generator = InsightsGenerator(AnalyticsCollector(store))
    assert generator.recommend_threshold_adjustment(name) is False
    assert generator.get_recommended_threshold(name) == 0.5

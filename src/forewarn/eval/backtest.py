"""Backtest: learn from the sessions before a split, replay every later tool call through the hook.

1. Scan ROOT into a private in-memory store and order its session files by start time.
2. Learn from the sessions before the split: findings → lesson candidates, exactly as `forewarn
   learn` makes them; the eligible ones (active, reviewed, above the confidence floor) are compiled
   into a manifest and the hook's index in a temporary forewarn home. Project lessons keep their
   project root, so they fire only in their project, as they would for real.
3. Replay every later tool call, in order, through the real PreToolUse pipeline (the same code the
   installed hook runs, with per-session dedup in a temporary directory).

Reported:
- `coverage`: of later failures whose signature had an applicable lesson, the share that got that
  lesson injected before (or at) the failing call in its session;
- `irrelevant_rate`: the share of injections not followed, in that session, by a failure of the
  lesson's signature (from the injection on).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from forewarn.analyze.aggregate import aggregate
from forewarn.errors import ForewarnError
from forewarn.scan import discover, scan
from forewarn.store import Store


@dataclass
class BacktestResult:
    sessions: int = 0
    train_sessions: int = 0
    test_sessions: int = 0
    split: str = ""
    lessons: int = 0  # compiled into the manifest
    candidates: int = 0
    replayed_calls: int = 0
    later_failures: int = 0
    covered_failures: int = 0  # later failures whose signature had an applicable lesson
    caught: int = 0  # …of which the lesson was injected before or at the failing call
    injections: int = 0
    relevant_injections: int = 0
    by_lesson: list[dict[str, Any]] = field(default_factory=list)

    @property
    def coverage(self) -> float:
        return self.caught / self.covered_failures if self.covered_failures else 0.0

    @property
    def irrelevant_rate(self) -> float:
        return 1 - self.relevant_injections / self.injections if self.injections else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "sessions": self.sessions, "train_sessions": self.train_sessions, "test_sessions": self.test_sessions,
            "split": self.split, "lesson_candidates": self.candidates, "lessons": self.lessons,
            "replayed_calls": self.replayed_calls, "later_failures": self.later_failures,
            "failures_with_lesson": self.covered_failures, "caught": self.caught,
            "coverage": round(self.coverage, 4), "injections": self.injections,
            "relevant_injections": self.relevant_injections, "irrelevant_rate": round(self.irrelevant_rate, 4),
            "by_lesson": self.by_lesson,
        }


def _split(sessions: list[tuple[str, str, str | None]], split: str) -> tuple[list[str], list[Any], str]:
    """(training files, test sessions, description). A fraction splits each project's own history
    (its earlier sessions teach its later ones: project lessons only fire in their project); a
    date splits the whole history at that date."""
    try:
        fraction = float(split)
    except ValueError:
        fraction = None
    if fraction is not None:
        if not 0 < fraction < 1:
            raise ForewarnError(f"--split {split}: a fraction must be between 0 and 1")
        by_project: dict[str | None, list[Any]] = defaultdict(list)
        for s in sessions:  # already in start order
            by_project[s[2]].append(s)
        train: list[str] = []
        test: list[Any] = []
        for group in by_project.values():
            n = int(len(group) * fraction)
            train += [s[0] for s in group[:n]]
            test += group[n:]
        test.sort(key=lambda s: (s[1], s[0]))
        return train, test, f"first {fraction:.0%} of each project's sessions by start time"
    try:
        datetime.fromisoformat(split)
    except ValueError:
        raise ForewarnError(f"--split {split!r}: give a fraction (0.5) or a date (2026-01-31)") from None
    return [s[0] for s in sessions if s[1] < split], [s for s in sessions if s[1] >= split], f"sessions started before {split}"


def backtest(root: Path, split: str = "0.5") -> BacktestResult:
    store = Store.memory()
    scan(store, discover([root]))
    sessions = store.conn.execute(
        "SELECT file, COALESCE(started_at, ''), project FROM sessions ORDER BY 2, 1").fetchall()
    result = BacktestResult(sessions=len(sessions))
    train, test, result.split = _split(sessions, split)
    result.train_sessions, result.test_sessions = len(train), len(test)
    with tempfile.TemporaryDirectory(prefix="forewarn-backtest-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        lessons = _build_manifest(store, train, home, result)
        saved = {k: os.environ.get(k) for k in ("TMPDIR", "FOREWARN_HOME")}
        os.environ["TMPDIR"] = str(Path(tmp) / "sessions")
        os.environ["FOREWARN_HOME"] = str(home)
        (Path(tmp) / "sessions").mkdir()
        try:
            _replay(store, test, home, lessons, result)
        finally:
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    store.close()
    return result


def _build_manifest(store: Store, train: list[str], home: Path, result: BacktestResult) -> dict[str, dict[str, Any]]:
    """Compile the lessons learned from `train` into `home`; returns slug -> {signature, root}."""
    from forewarn.hook.indexer import build_index
    from forewarn.learn import lesson_candidates
    from forewarn.lessons.jsonfile import write_json_atomic
    from forewarn.lessons.manifest import (
        REGEX_CACHE,
        _regex_pairs,
        compile_lesson,
        exclusion,
        load_injection_config,
    )
    from forewarn.lessons.model import Manifest, now_iso
    from forewarn.lessons.regex_safety import KILL_AFTER_S, check_patterns
    from forewarn.lessons.schema import to_json
    from forewarn.lessons.store import LessonFile

    failures = list(store.failures(files=train)) if train else []
    by_project: dict[str | None, list[Any]] = defaultdict(list)
    for f in failures:
        by_project[f.project].append(f)
    train_set = set(train)
    project_of = dict(store.conn.execute("SELECT file, project FROM sessions").fetchall())
    config = load_injection_config(home)
    chosen: list[tuple[Any, LessonFile]] = []
    global_file = LessonFile(path=home / "lessons.json", scope="global", root=None)
    for project, items in by_project.items():
        project_file = LessonFile(path=home / "p.json", scope="project", root=Path(project)) if project else None
        files = [f for f in train_set if project_of.get(f) == project]
        for lesson in lesson_candidates(store, project, aggregate(items), files=files):
            if lesson.provenance.source != "heuristic":
                continue  # `#lesson` blocks have no signature to measure against
            result.candidates += 1
            if exclusion(lesson, config) is not None:
                continue
            lf = global_file if lesson.scope == "global" or project_file is None else project_file
            chosen.append((lesson, lf))
    wanted = [(source, flags) for lesson, _ in chosen for _k, source, flags in _regex_pairs(lesson)[0]]
    verdicts = check_patterns(wanted, cache_path=home / REGEX_CACHE, kill_after=KILL_AFTER_S)
    entries: dict[str, Any] = {}
    info: dict[str, dict[str, Any]] = {}
    for lesson, lf in chosen:
        entry, _warnings = compile_lesson(lesson, lf, verdicts)
        if entry is None or lesson.id in entries:
            continue
        entries[lesson.id] = entry
        info[lesson.slug] = {"signature": lesson.signature, "root": str(lf.root) if lf.scope == "project" else None}
    manifest = Manifest(generated_at=now_iso(), config=config, lessons=dict(sorted(entries.items())))
    write_json_atomic(home / "manifest.json", to_json(manifest))
    build_index(home)
    result.lessons = len(entries)
    return info


def _applies(info: dict[str, Any], project: str | None) -> bool:
    root = info["root"]
    return root is None or (project is not None and (project == root or project.startswith(root.rstrip("/") + "/")))


def _replay(store: Store, test: list[Any], home: Path, lessons: dict[str, dict[str, Any]],
            result: BacktestResult) -> None:
    from forewarn.hook import pipeline
    from forewarn.hook.agents import TOOL, HookInput

    by_signature: dict[str, list[str]] = defaultdict(list)
    for slug, info in lessons.items():
        if info["signature"]:
            by_signature[info["signature"]].append(slug)
    stats: dict[str, dict[str, int]] = defaultdict(lambda: {"injections": 0, "relevant": 0, "caught": 0})
    for file, _started, project in test:
        failures = {f.call_id: f.signature for f in store.failures(files=[file])}
        calls = store.load_calls(file)
        session = f"backtest:{file}"
        injected_at: dict[str, int] = {}  # slug -> index of the call it was injected at
        failing_at: dict[str, list[int]] = defaultdict(list)  # signature -> indexes of failures
        for i, (call, _failed, _kind) in enumerate(calls):
            payload = {"tool_name": call.tool, "tool_input": call.input, "session_id": session,
                       "cwd": call.cwd or project or ""}
            pipeline._delivered.clear()
            with contextlib.suppress(Exception):  # the hook answers {} on any problem; so does the replay
                pipeline.pre_tool(HookInput("PreToolUse", TOOL, payload))
            for _lesson_id, slug, _action in pipeline._delivered:
                injected_at.setdefault(slug, i)
            result.replayed_calls += 1
            signature = failures.get(call.call_id)
            if signature is None:
                continue
            result.later_failures += 1
            failing_at[signature].append(i)
            applicable = [s for s in by_signature.get(signature, []) if _applies(lessons[s], project)]
            if applicable:
                result.covered_failures += 1
                hit = [s for s in applicable if injected_at.get(s, len(calls)) <= i]
                if hit:
                    result.caught += 1
                    stats[hit[0]]["caught"] += 1
        for slug, at in injected_at.items():
            result.injections += 1
            stats[slug]["injections"] += 1
            signature = lessons.get(slug, {}).get("signature")
            if signature and any(j >= at for j in failing_at.get(signature, [])):
                result.relevant_injections += 1
                stats[slug]["relevant"] += 1
    result.by_lesson = [{"slug": slug, "signature": lessons.get(slug, {}).get("signature"), **counts}
                        for slug, counts in sorted(stats.items(), key=lambda kv: -kv[1]["injections"])]

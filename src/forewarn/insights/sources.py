"""The files lesson analytics read besides the database: lesson stores and the injection log.

- Lesson stores: `$FOREWARN_HOME/lessons.json` and each project's `.forewarn/lessons.json` (the
  projects listed in `$FOREWARN_HOME/projects.json` and those the history mentions), shaped
  `{"type": "forewarn-lessons", "version": 1, "lessons": [...]}`. Only what the analytics need is
  read (id, slug, signature, createdAt, status, confidence, priority, summary), so this keeps
  working while the full lesson model evolves.
- The injection log: `$FOREWARN_HOME/injections.jsonl`, one JSON object per line written by the
  hook each time it injects a lesson: `{"ts", "session_id", "agent", "lesson_id", "slug",
  "tool_name", "action": "warn"|"block", "cwd"}`.

Invariants: reading is permissive and streaming. A damaged file, a lesson without an id, or a bad
log line is skipped and counted (with file and line number), never fatal; the log is read line by
line, never slurped.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

LESSONS_FILE = "lessons.json"
PROJECT_LESSONS = Path(".forewarn") / LESSONS_FILE
INJECTIONS_FILE = "injections.jsonl"
PROJECTS_FILE = "projects.json"
LESSON_TYPES = (None, "forewarn-lessons", "lessons-learned-store")  # ours, and seed 003's
ACTIONS = ("warn", "block")


@dataclass(frozen=True)
class LessonRef:
    id: str
    slug: str
    signature: str | None
    created_at: str | None  # YYYY-MM-DDTHH:MM:SS, UTC
    status: str
    confidence: float | None
    priority: int | None
    summary: str
    source: str  # the lessons.json it came from


@dataclass(frozen=True)
class Injection:
    ts: str  # YYYY-MM-DDTHH:MM:SS, UTC
    session_id: str | None
    agent: str | None
    lesson_id: str | None
    slug: str | None
    tool_name: str | None
    action: str
    cwd: str | None


def utc_key(value: Any) -> str | None:
    """An ISO 8601 time as `YYYY-MM-DDTHH:MM:SS` in UTC (the store's comparison key), or None."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is not None:
        dt = dt.astimezone(timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S")


def registered_roots(home: Path) -> list[str]:
    """Project roots listed in `$FOREWARN_HOME/projects.json` (the lesson store's registry);
    a missing or damaged registry reads as empty."""
    try:
        data = json.loads((home / PROJECTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    roots = data.get("projects") if isinstance(data, dict) else None
    return [r for r in roots if isinstance(r, str) and r] if isinstance(roots, list) else []


def lesson_files(home: Path, projects: Iterable[str] = ()) -> list[Path]:
    """The global store, then every existing project store: the registered project roots and
    `projects` (e.g. every project the history mentions)."""
    out = [home / LESSONS_FILE]
    seen = {out[0]}
    for project in [*registered_roots(home), *projects]:
        path = Path(project) / PROJECT_LESSONS
        if path not in seen:
            seen.add(path)
            out.append(path)
    return [p for p in out if p.is_file()]


def _number(value: Any, kind: type) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return kind(value)


def read_lessons(path: Path) -> tuple[list[LessonRef], list[str]]:
    """The lessons of one store file and the problems met (never raises for bad content)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [], [f"{path}: unreadable ({exc})"]
    if not isinstance(data, dict) or data.get("type") not in LESSON_TYPES \
            or not isinstance(data.get("lessons"), list):
        return [], [f"{path}: not a forewarn lessons file"]
    out: list[LessonRef] = []
    problems: list[str] = []
    for i, item in enumerate(data["lessons"]):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            problems.append(f"{path}: lessons[{i}] has no id; skipped")
            continue
        signature = item.get("signature")
        out.append(LessonRef(
            id=item["id"],
            slug=str(item.get("slug") or item["id"]),
            signature=signature if isinstance(signature, str) and signature else None,
            created_at=utc_key(item.get("createdAt", item.get("created_at"))),
            status=str(item.get("status") or "active"),
            confidence=_number(item.get("confidence"), float),
            priority=_number(item.get("priority"), int),
            summary=str(item.get("summary") or ""),
            source=str(path),
        ))
    return out, problems


def list_lessons(home: Path, projects: Iterable[str] = ()) -> tuple[list[LessonRef], list[str]]:
    """Every lesson of the global and project stores, first occurrence of an id wins."""
    lessons: list[LessonRef] = []
    problems: list[str] = []
    seen: set[str] = set()
    for path in lesson_files(home, projects):
        found, bad = read_lessons(path)
        problems += bad
        for lesson in found:
            if lesson.id not in seen:
                seen.add(lesson.id)
                lessons.append(lesson)
    return lessons, problems


def iter_injections(path: Path) -> Iterator[Injection | tuple[int, str]]:
    """Each line as an `Injection`, or `(line number, why)` for a line that is not one."""
    if not path.is_file():
        return
    with open(path, encoding="utf-8", errors="replace") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except ValueError:
                yield number, "not JSON"
                continue
            if not isinstance(rec, dict):
                yield number, "not an object"
                continue
            ts = utc_key(rec.get("ts"))
            lesson_id, slug = rec.get("lesson_id"), rec.get("slug")
            action = rec.get("action", "warn")
            if ts is None:
                yield number, "no valid ts"
            elif not (isinstance(lesson_id, str) and lesson_id) and not (isinstance(slug, str) and slug):
                yield number, "no lesson_id or slug"
            elif action not in ACTIONS:
                yield number, f"unknown action {action!r}"
            else:
                yield Injection(ts, _str(rec.get("session_id")), _str(rec.get("agent")), _str(lesson_id),
                                _str(slug), _str(rec.get("tool_name")), action, _str(rec.get("cwd")))


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def read_injections(path: Path) -> tuple[list[Injection], list[str]]:
    """All good injections (oldest first) and a note per bad line (`file:line: why`)."""
    good: list[Injection] = []
    bad: list[str] = []
    for item in iter_injections(path):
        if isinstance(item, Injection):
            good.append(item)
        else:
            bad.append(f"{path}:{item[0]}: {item[1]}")
    good.sort(key=lambda i: i.ts)
    return good, bad

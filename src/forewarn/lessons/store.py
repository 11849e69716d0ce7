"""Lesson files on disk: where they live, how they are read, upgraded and written.

Two kinds of store share one format (`LessonsDocument`):
- global: `$FOREWARN_HOME/lessons.json`, the user's own lessons;
- project: `<repo>/.forewarn/lessons.json`, committed and reviewed in git. Lessons from a project
  store only reach the manifest once the user trusts that exact file (`forewarn.lessons.trust`).
`$FOREWARN_HOME/projects.json` lists the project roots forewarn knows about (it wrote lessons
there, or the user trusted them), so the manifest can be rebuilt from anywhere.

Invariants:
- Reads are permissive: a lesson that does not fit the schema is skipped with a warning *and kept
  verbatim*, so the next write puts it back untouched; nothing a person wrote is ever dropped.
- A file that is not JSON, not a lessons file, or from a newer forewarn raises `ForewarnError`
  and is never written over (callers load before they save).
- Writes are atomic, keys sorted, indent 2, lessons in id order: diffs stay small and stable.
- Older formats are upgraded on load through `UPGRADES` (seed 003's `lessons-learned-store` is one);
  the upgraded form is written back only when something else changes the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forewarn.errors import ForewarnError
from forewarn.lessons import model
from forewarn.lessons.jsonfile import read_json, write_json_atomic
from forewarn.lessons.model import Lesson
from forewarn.lessons.schema import definition, from_json, to_json, validate
from forewarn.lessons.triggers import lesson_problems
from forewarn.lessons.ulid import is_ulid, new_ulid
from forewarn.paths import forewarn_home

LESSONS_NAME = "lessons.json"
PROJECT_DIR = ".forewarn"
PROJECTS_NAME = "projects.json"
PROJECTS_TYPE = "forewarn-projects"
SEED_STORE_TYPE = "lessons-learned-store"


def global_store_path(home: Path | None = None) -> Path:
    return (home or forewarn_home()) / LESSONS_NAME


def project_store_path(root: Path) -> Path:
    return root / PROJECT_DIR / LESSONS_NAME


def find_project_root(start: Path | None = None) -> Path:
    """The project a directory belongs to: the nearest ancestor holding `.forewarn/lessons.json`
    or `.git`, else the directory itself."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if project_store_path(candidate).is_file() or (candidate / ".git").exists():
            return candidate
    return here


# --- upgrades ---------------------------------------------------------------------------------


def _from_seed_lesson(raw: Any) -> Any:
    """One lesson of seed 003's store as ours: provenance gathered, unknown keys dropped."""
    if not isinstance(raw, dict):
        return raw
    out: dict[str, Any] = {}
    for key in ("id", "slug", "summary", "mistake", "remediation", "injection", "priority",
                "confidence", "needsReview", "createdAt", "updatedAt"):
        if key in raw:
            out[key] = raw[key]
    if not (isinstance(out.get("id"), str) and is_ulid(out["id"])):
        out["id"] = new_ulid()
    triggers = raw.get("triggers")
    if isinstance(triggers, dict):
        out["triggers"] = {k: v for k, v in triggers.items()
                           if k in ("toolNames", "commandPatterns", "pathPatterns", "contentPatterns")}
    if isinstance(raw.get("tags"), list):
        out["tags"] = list(model.normalize_tags(raw["tags"], strict=False))
    summary = out.get("summary")
    if isinstance(summary, str) and not (isinstance(out.get("slug"), str) and
                                         _slug_ok(out["slug"])):
        out["slug"] = model.new_slug(summary)
    provenance: dict[str, Any] = {"source": "import"}
    if isinstance(raw.get("sourceSessionIds"), list):
        provenance["sourceSessionIds"] = raw["sourceSessionIds"]
    if isinstance(raw.get("occurrenceCount"), int):
        provenance["occurrenceCount"] = raw["occurrenceCount"]
    out["provenance"] = provenance
    return out


def _slug_ok(slug: str) -> bool:
    return bool(re.match(model.SLUG_PATTERN, slug))


def _upgrade_seed_store(data: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": model.LESSONS_SCHEMA_URL, "type": model.LESSONS_TYPE, "version": 1,
            "lessons": [_from_seed_lesson(raw) for raw in data.get("lessons", [])]}


# (type, version) of an older format -> the step that turns it into the next one
UPGRADES: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {
    (SEED_STORE_TYPE, 1): _upgrade_seed_store,
}


def upgrade_document(data: Any, where: str) -> tuple[dict[str, Any], str | None]:
    """`data` in the current format, and the format it was upgraded from (None if current)."""
    if isinstance(data, list):  # a bare list of lessons (hand-made exports)
        data = {"type": model.LESSONS_TYPE, "version": 1, "lessons": data}
    if not isinstance(data, dict) or not isinstance(data.get("lessons"), list):
        raise ForewarnError(f"{where} is not a lessons file (no \"lessons\" list); forewarn will not overwrite it")
    original: str | None = None
    for _ in range(10):  # a chain of upgrades, never a loop
        kind = data.get("type", model.LESSONS_TYPE)
        version = data.get("version", 1)
        if kind == model.LESSONS_TYPE:
            if not isinstance(version, int) or version > model.FORMAT_VERSION:
                raise ForewarnError(f"{where} is version {version} of the lessons format; this forewarn "
                                    f"reads up to {model.FORMAT_VERSION}: upgrade forewarn")
            if version == model.FORMAT_VERSION:
                return data, original
        step = UPGRADES.get((kind, version))
        if step is None:
            raise ForewarnError(f"{where}: unknown lessons format {kind!r} version {version!r}")
        original = original or f"{kind} v{version}"
        data = step(data)
    raise ForewarnError(f"{where}: too many upgrade steps")  # pragma: no cover


# --- files ------------------------------------------------------------------------------------


@dataclass
class LessonFile:
    """One store, loaded. `lessons` are valid and in id order; `kept` are entries that failed
    validation, written back verbatim."""

    path: Path
    scope: str  # "global" | "project"
    root: Path | None  # the project root for project stores
    lessons: list[Lesson] = field(default_factory=list)
    kept: list[Any] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    exists: bool = False
    upgraded_from: str | None = None

    def by_id(self, lesson_id: str) -> Lesson | None:
        return next((lesson for lesson in self.lessons if lesson.id == lesson_id), None)

    def slugs(self) -> set[str]:
        return {lesson.slug for lesson in self.lessons}

    def put(self, lesson: Lesson) -> None:
        """Insert or replace by id, keeping id order."""
        self.lessons = sorted([x for x in self.lessons if x.id != lesson.id] + [lesson],
                              key=lambda x: x.id)


def parse_lessons(data: dict[str, Any], where: str) -> tuple[list[Lesson], list[Any], list[str]]:
    """Valid lessons, entries kept verbatim, and warnings, from a current-format document."""
    schema = definition(Lesson)
    lessons: list[Lesson] = []
    kept: list[Any] = []
    warnings: list[str] = []
    seen: set[str] = set()
    for i, raw in enumerate(data["lessons"]):
        label = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else f"#{i + 1}"
        problems = validate(raw, schema, path=f"lessons[{i}]")
        if not problems and raw["id"] in seen:
            problems = [f"duplicate id {raw['id']}"]
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            warnings.append(f"{where}: lesson {label} skipped: {problems[0]}{more}")
            kept.append(raw)
            continue
        lesson = model.finalize(from_json(Lesson, raw))
        seen.add(lesson.id)
        for problem in lesson_problems(lesson):
            warnings.append(f"{where}: lesson {lesson.slug}: {problem}")
        lessons.append(lesson)
    lessons.sort(key=lambda x: x.id)
    return lessons, kept, warnings


def load_lesson_file(path: Path, scope: str = "global", root: Path | None = None) -> LessonFile:
    data = read_json(path, "lessons file")
    lf = LessonFile(path=path, scope=scope, root=root)
    if data is None:
        return lf
    lf.exists = True
    current, lf.upgraded_from = upgrade_document(data, str(path))
    lf.lessons, lf.kept, lf.warnings = parse_lessons(current, str(path))
    return lf


def load_global(home: Path | None = None) -> LessonFile:
    return load_lesson_file(global_store_path(home), "global", None)


def load_project(root: Path) -> LessonFile:
    return load_lesson_file(project_store_path(root), "project", root)


def document(lf: LessonFile) -> dict[str, Any]:
    kept = sorted(lf.kept, key=lambda raw: str(raw.get("id", "")) if isinstance(raw, dict) else "")
    return {
        "$schema": model.LESSONS_SCHEMA_URL,
        "type": model.LESSONS_TYPE,
        "version": model.FORMAT_VERSION,
        "lessons": [to_json(lesson) for lesson in lf.lessons] + kept,
    }


def save_lesson_file(lf: LessonFile) -> None:
    write_json_atomic(lf.path, document(lf))
    lf.exists = True


# --- the project registry ---------------------------------------------------------------------


def projects_path(home: Path | None = None) -> Path:
    return (home or forewarn_home()) / PROJECTS_NAME


def registered_projects(home: Path | None = None) -> list[Path]:
    """Project roots forewarn knows about (a damaged registry reads as empty: it is only an
    index, and `register_project` refuses to overwrite it)."""
    try:
        data = read_json(projects_path(home), "project registry")
    except ForewarnError:
        return []
    if not isinstance(data, dict) or not isinstance(data.get("projects"), list):
        return []
    return [Path(p) for p in data["projects"] if isinstance(p, str) and p]


def _write_projects(roots: list[Path], home: Path | None) -> None:
    read_json(projects_path(home), "project registry")  # raises on a damaged file: never overwrite it
    write_json_atomic(projects_path(home), {
        "type": PROJECTS_TYPE, "version": 1,
        "projects": sorted({str(r) for r in roots}),
    })


def register_project(root: Path, home: Path | None = None) -> None:
    roots = registered_projects(home)
    if root not in roots:
        _write_projects([*roots, root], home)


def unregister_project(root: Path, home: Path | None = None) -> None:
    roots = registered_projects(home)
    if root in roots:
        _write_projects([r for r in roots if r != root], home)

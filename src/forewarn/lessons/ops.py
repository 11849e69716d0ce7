"""Operations on the lesson stores: add (with dedup), edit, approve/reject/archive, import/export,
trust. This is the API the CLI and `forewarn learn` call; each function returns data, prints
nothing, and raises `ForewarnError` for anything the user can fix.

Invariants of every mutating operation:
- it holds the store's lock across load → change → save, and never saves a store it could not
  load (a damaged file stays untouched);
- text is redacted (secrets masked, home directories shortened) before it is stored;
- a lesson below the confidence floor is stored with `needsReview: true`;
- a project store it writes is registered, and re-trusted only if it was trusted (or absent)
  just before the write (see `forewarn.lessons.trust`);
- it ends with `rebuild_manifest()`, whose warnings are returned with its own.

Dedup: a lesson equal to one already in the store by id, content hash or (non-null) analyzer
signature is merged into it: evidence, session ids and counts are combined, the higher priority
and confidence kept, and the existing text and status (a rejected lesson stays rejected) kept.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from forewarn.analyze.redact import home_relative, redact
from forewarn.errors import ForewarnError
from forewarn.lessons import model
from forewarn.lessons.jsonfile import locked, read_json
from forewarn.lessons.manifest import BuildResult, load_injection_config, rebuild_manifest
from forewarn.lessons.model import EvidenceRef, Lesson, Provenance, Triggers
from forewarn.lessons.schema import definition, from_json, json_name, to_json, validate
from forewarn.lessons.store import (
    LessonFile,
    document,
    global_store_path,
    load_lesson_file,
    parse_lessons,
    project_store_path,
    register_project,
    registered_projects,
    save_lesson_file,
    upgrade_document,
)
from forewarn.lessons.triggers import lesson_problems
from forewarn.lessons.trust import MISSING, TRUSTED, trust_project, trust_status
from forewarn.paths import forewarn_home

MAX_SESSION_IDS = 200


@dataclass(frozen=True)
class Located:
    """A lesson and the store it lives in."""

    lesson: Lesson
    scope: str
    root: Path | None
    path: Path

    def as_json(self) -> dict[str, Any]:
        return {**to_json(self.lesson), "store": str(self.path),
                "projectRoot": str(self.root) if self.root else None}


@dataclass
class Outcome:
    lessons: list[Located] = field(default_factory=list)  # the lessons added or changed
    added: int = 0
    merged: int = 0
    warnings: list[str] = field(default_factory=list)
    manifest: BuildResult | None = None

    def finish(self, home: Path) -> Outcome:
        self.manifest = rebuild_manifest(home)
        self.warnings += [w for w in self.manifest.warnings if w not in self.warnings]
        return self


# --- stores -----------------------------------------------------------------------------------


def _home(home: Path | None) -> Path:
    return home or forewarn_home()


def _open(scope: str, root: Path | None, home: Path) -> LessonFile:
    if scope == "project":
        if root is None:
            raise ForewarnError("a project lesson needs a project directory")
        return load_lesson_file(project_store_path(root), "project", root)
    return load_lesson_file(global_store_path(home), "global", None)


@contextlib.contextmanager
def editing(scope: str, root: Path | None, home: Path, outcome: Outcome) -> Iterator[LessonFile]:
    """Load a store under its lock, let the caller change it, save it if it changed."""
    root = root.resolve() if root is not None else None
    path = project_store_path(root) if scope == "project" and root else global_store_path(home)
    with locked(path):
        before_trust = trust_status(root, home) if scope == "project" and root else None
        lf = _open(scope, root, home)
        before = document(lf)
        outcome.warnings += lf.warnings
        yield lf
        if document(lf) == before and lf.exists:
            return
        save_lesson_file(lf)
    if scope == "project" and root is not None:
        register_project(root, home)
        if before_trust in (TRUSTED, MISSING):
            trust_project(root, home)
        else:
            outcome.warnings.append(
                f"{path} was not trusted before this change, so it still is not: review it and run "
                f"`forewarn lessons trust --project {root}`")


def stores(home: Path | None = None, extra_roots: Iterable[Path] = ()) -> tuple[list[LessonFile], list[str]]:
    """Every store forewarn knows (global, registered projects, `extra_roots`), trusted or not.
    A damaged project store is reported and skipped; a damaged global store raises."""
    home = _home(home)
    out = [_open("global", None, home)]
    warnings = list(out[0].warnings)
    seen: set[Path] = set()
    for root in [*registered_projects(home), *(r.resolve() for r in extra_roots)]:
        if root in seen or not project_store_path(root).exists():
            continue
        seen.add(root)
        try:
            lf = _open("project", root, home)
        except ForewarnError as err:
            warnings.append(str(err))
            continue
        warnings += lf.warnings
        out.append(lf)
    return out, warnings


def list_lessons(home: Path | None = None, extra_roots: Iterable[Path] = (), *, status: str | None = None,
                 scope: str | None = None, tag: str | None = None, needs_review: bool | None = None,
                 include_inactive: bool = False) -> tuple[list[Located], list[str]]:
    files, warnings = stores(home, extra_roots)
    out = []
    for lf in files:
        if scope and lf.scope != scope:
            continue
        for lesson in lf.lessons:
            if status and lesson.status != status:
                continue
            if not status and not include_inactive and lesson.status != "active":
                continue
            if tag and tag not in lesson.tags:
                continue
            if needs_review is not None and lesson.needs_review != needs_review:
                continue
            out.append(Located(lesson, lf.scope, lf.root, lf.path))
    return out, warnings


def find(ref: str, home: Path | None = None, extra_roots: Iterable[Path] = ()) -> Located:
    """A lesson by ULID, slug, or a unique prefix of either."""
    files, _ = stores(home, extra_roots)
    everything = [Located(lesson, lf.scope, lf.root, lf.path) for lf in files for lesson in lf.lessons]
    wanted = ref.strip()
    for exact in (lambda x: x.lesson.id == wanted.upper(), lambda x: x.lesson.slug == wanted.lower()):
        hits = [x for x in everything if exact(x)]
        if len(hits) == 1:
            return hits[0]
    hits = [x for x in everything if wanted and (x.lesson.id.startswith(wanted.upper())
                                                 or x.lesson.slug.startswith(wanted.lower()))]
    if not hits:
        raise ForewarnError(f"no lesson matches {ref!r} (give a ULID, a slug or a unique prefix)")
    if len(hits) > 1:
        names = ", ".join(x.lesson.slug for x in hits[:5]) + (" …" if len(hits) > 5 else "")
        raise ForewarnError(f"{ref!r} matches {len(hits)} lessons ({names}): give more of it")
    return hits[0]


def pending_review(home: Path | None = None, extra_roots: Iterable[Path] = ()) -> list[Located]:
    found, _ = list_lessons(home, extra_roots, status="active", needs_review=True)
    return found


# --- adding and merging -----------------------------------------------------------------------


def _clean(text: str) -> str:
    return home_relative(redact(text))


def _clean_evidence(ev: EvidenceRef) -> EvidenceRef:
    def clip(text: str | None) -> str | None:
        return None if text is None else model.clip_bytes(_clean(text), model.EVIDENCE_TEXT_MAX)

    return replace(ev, file=home_relative(ev.file), failing=clip(ev.failing), fix=clip(ev.fix),
                   error=clip(ev.error))


def sanitize(lesson: Lesson) -> Lesson:
    """Secrets masked and home directories shortened in every free-text field and the evidence."""
    prov = lesson.provenance
    return replace(
        lesson,
        summary=_clean(lesson.summary), mistake=_clean(lesson.mistake),
        remediation=_clean(lesson.remediation), injection=_clean(lesson.injection),
        provenance=replace(prov, evidence=tuple(_clean_evidence(e) for e in prov.evidence)[-model.EVIDENCE_MAX:]),
    )


def merge(existing: Lesson, incoming: Lesson, min_confidence: float) -> Lesson:
    """`incoming` folded into `existing` (see the module docstring)."""
    old, new = existing.provenance, incoming.provenance
    known = {(e.file, e.call_id) for e in old.evidence}
    fresh = [e for e in new.evidence if (e.file, e.call_id) not in known]
    evidence = (*old.evidence, *fresh)[-model.EVIDENCE_MAX:]
    sessions = tuple(dict.fromkeys((*old.source_session_ids, *new.source_session_ids)))[-MAX_SESSION_IDS:]
    count = max(old.occurrence_count, new.occurrence_count, old.occurrence_count + len(fresh))
    confidence = max(existing.confidence, incoming.confidence)
    return model.touch(
        existing,
        priority=max(existing.priority, incoming.priority),
        confidence=confidence,
        needs_review=(existing.needs_review and incoming.needs_review) or confidence < min_confidence,
        tags=tuple(sorted({*existing.tags, *incoming.tags})),
        signature=existing.signature or incoming.signature,
        provenance=replace(old, evidence=evidence, source_session_ids=sessions, occurrence_count=count),
    )


def _match(lf: LessonFile, lesson: Lesson) -> Lesson | None:
    for other in lf.lessons:
        if other.id == lesson.id or other.content_hash == lesson.content_hash or (
                lesson.signature is not None and other.signature == lesson.signature):
            return other
    return None


def _add_to(lf: LessonFile, lesson: Lesson, min_confidence: float, outcome: Outcome) -> None:
    lesson = model.finalize(sanitize(replace(lesson, scope=lf.scope)))  # type: ignore[arg-type]
    if lesson.confidence < min_confidence:
        lesson = replace(lesson, needs_review=True)
    existing = _match(lf, lesson)
    if existing is not None:
        lesson = merge(existing, lesson, min_confidence)
        outcome.merged += 1
    else:
        if lesson.slug in lf.slugs():
            lesson = replace(lesson, slug=model.new_slug(lesson.summary, lf.slugs()))
        outcome.added += 1
    lf.put(lesson)
    outcome.lessons.append(Located(lesson, lf.scope, lf.root, lf.path))


def add_lessons(candidates: Iterable[Lesson], *, project_root: Path | None = None,
                home: Path | None = None, rebuild: bool = True) -> Outcome:
    """Add lessons, each to the store its `scope` names (project lessons go to `project_root`),
    merging duplicates. One write per store, one manifest rebuild."""
    home = _home(home)
    min_confidence = load_injection_config(home).min_confidence
    outcome = Outcome()
    by_scope: dict[str, list[Lesson]] = {}
    for lesson in candidates:
        by_scope.setdefault(lesson.scope, []).append(lesson)
    if by_scope.get("project") and project_root is None:
        raise ForewarnError("project lessons need a project directory")
    for scope, lessons in by_scope.items():
        with editing(scope, project_root if scope == "project" else None, home, outcome) as lf:
            for lesson in lessons:
                _add_to(lf, lesson, min_confidence, outcome)
    return outcome.finish(home) if rebuild else outcome


def _check(lesson: Lesson) -> Lesson:
    problems = validate(to_json(lesson), definition(Lesson), path="lesson") + lesson_problems(lesson)
    if problems:
        raise ForewarnError(problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    return lesson


def _change(ref: str, home: Path | None, extra_roots: Iterable[Path], change: Any) -> Outcome:
    """Apply `change(lesson, min_confidence) -> Lesson` to one lesson, found by reference."""
    home = _home(home)
    found = find(ref, home, extra_roots)
    min_confidence = load_injection_config(home).min_confidence
    outcome = Outcome()
    with editing(found.scope, found.root, home, outcome) as lf:
        current = lf.by_id(found.lesson.id)
        if current is None:  # pragma: no cover - removed between find and lock
            raise ForewarnError(f"lesson {found.lesson.slug} disappeared while editing")
        updated = _check(change(current, min_confidence))
        lf.put(updated)
        outcome.lessons.append(Located(updated, lf.scope, lf.root, lf.path))
    return outcome.finish(home)


# --- editing ----------------------------------------------------------------------------------

_TRIGGER_FIELDS = {json_name(f): f.name for f in fields(Triggers)}  # toolNames -> tool_names, …
_SCALARS = {"summary": str, "mistake": str, "remediation": str, "injection": str, "priority": int,
            "confidence": float, "needsReview": bool, "action": str, "status": str, "signature": str}
_LISTS = {"tags", *_TRIGGER_FIELDS}


def _camel(name: str) -> str:
    head, *rest = name.strip().split("_")
    return head + "".join(p.capitalize() for p in rest)


def _parse_scalar(kind: type, key: str, text: str) -> Any:
    if kind is bool:
        low = text.strip().lower()
        if low not in ("true", "false", "yes", "no", "1", "0"):
            raise ForewarnError(f"{key} takes true or false, not {text!r}")
        return low in ("true", "yes", "1")
    if kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            raise ForewarnError(f"{key} takes a number, not {text!r}") from None
    if key == "signature" and text.strip().lower() in ("", "null", "none"):
        return None
    return text


def _parse_list(key: str, text: str) -> list[str]:
    if text.strip().startswith("["):
        try:
            value = json.loads(text)
        except ValueError as err:
            raise ForewarnError(f"{key}: not a JSON list ({err})") from None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ForewarnError(f"{key}: expected a JSON list of strings")
        return value
    if key in ("tags", "toolNames"):
        return [part.strip() for part in text.split(",") if part.strip()]
    return [text] if text else []  # a pattern may contain commas: one per assignment


def apply_settings(lesson: Lesson, settings: Iterable[str], min_confidence: float = 0.0) -> Lesson:
    """`field=value`, `field+=value`, `field-=value` assignments (JSON or snake_case names;
    list fields take comma lists or JSON lists; patterns take one per assignment)."""
    changes: dict[str, Any] = {}
    triggers = lesson.triggers
    for setting in settings:
        key, op, value = _split_setting(setting)
        if key in _SCALARS:
            if op != "=":
                raise ForewarnError(f"{key} is not a list: use {key}=VALUE")
            changes[{"needsReview": "needs_review"}.get(key, key)] = _parse_scalar(_SCALARS[key], key, value)
            continue
        if key not in _LISTS:
            allowed = ", ".join(sorted([*_SCALARS, *_LISTS]))
            raise ForewarnError(f"cannot set {key!r}; settable fields: {allowed}")
        items = _parse_list(key, value)
        if key == "tags":
            try:
                items = list(model.normalize_tags(items))
            except ValueError as err:
                raise ForewarnError(str(err)) from None
        current = list(changes.get("tags", lesson.tags)) if key == "tags" else list(getattr(triggers, _TRIGGER_FIELDS[key]))
        if op == "+=":
            new = current + [i for i in items if i not in current]
        elif op == "-=":
            new = [c for c in current if c not in items]
        else:
            new = items
        if key == "tags":
            changes["tags"] = tuple(sorted(set(new)))
        else:
            triggers = replace(triggers, **{_TRIGGER_FIELDS[key]: tuple(new)})
    if triggers != lesson.triggers:
        changes["triggers"] = triggers
    if changes.get("needs_review") is False and "confidence" not in changes:
        changes["confidence"] = max(lesson.confidence, min_confidence)
    return model.touch(lesson, **changes)


def _split_setting(setting: str) -> tuple[str, str, str]:
    for op in ("+=", "-=", "="):
        key, sep, value = setting.partition(op)
        if sep and key.strip() and "=" not in key:
            return _camel(key), op, value
    raise ForewarnError(f"expected FIELD=VALUE, not {setting!r}")


def update_lesson(ref: str, settings: list[str], home: Path | None = None,
                  extra_roots: Iterable[Path] = ()) -> Outcome:
    return _change(ref, home, extra_roots, lambda lesson, floor: apply_settings(lesson, settings, floor))


def replace_lesson(ref: str, data: Any, home: Path | None = None, extra_roots: Iterable[Path] = ()) -> Outcome:
    """Replace a lesson with an edited JSON version of itself (id and creation time fixed)."""
    def change(lesson: Lesson, _floor: float) -> Lesson:
        if not isinstance(data, dict):
            raise ForewarnError("the edited lesson must be a JSON object")
        body = {k: v for k, v in data.items() if k not in ("store", "projectRoot")}
        if body.get("id", lesson.id) != lesson.id:
            raise ForewarnError("a lesson's id cannot be changed")
        body.update(id=lesson.id, createdAt=lesson.created_at)
        problems = validate(body, definition(Lesson), path="lesson")
        if problems:
            raise ForewarnError(problems[0])
        edited = from_json(Lesson, body)
        return model.touch(edited, updated_at=model.now_iso())
    return _change(ref, home, extra_roots, change)


def _set_many(refs: Iterable[str], home: Path | None, extra_roots: Iterable[Path], change: Any) -> Outcome:
    home = _home(home)
    located = [find(ref, home, extra_roots) for ref in refs]
    min_confidence = load_injection_config(home).min_confidence
    outcome = Outcome()
    groups: dict[tuple[str, Path | None], list[str]] = {}
    for x in located:
        groups.setdefault((x.scope, x.root), []).append(x.lesson.id)
    for (scope, root), ids in groups.items():
        with editing(scope, root, home, outcome) as lf:
            for lesson_id in dict.fromkeys(ids):
                current = lf.by_id(lesson_id)
                if current is None:  # pragma: no cover - removed between find and lock
                    continue
                updated = change(current, min_confidence)
                lf.put(updated)
                outcome.lessons.append(Located(updated, lf.scope, lf.root, lf.path))
    return outcome.finish(home)


def approve_lesson(lesson: Lesson, min_confidence: float) -> Lesson:
    """Reviewed and accepted: active, no longer pending, and (a person vouched for it) at least at
    the confidence floor so that it reaches the manifest."""
    return model.touch(lesson, needs_review=False, status="active",
                       confidence=max(lesson.confidence, min_confidence))


def approve(refs: Iterable[str], home: Path | None = None, extra_roots: Iterable[Path] = ()) -> Outcome:
    return _set_many(refs, home, extra_roots, approve_lesson)


def reject(refs: Iterable[str], home: Path | None = None, extra_roots: Iterable[Path] = ()) -> Outcome:
    return _set_many(refs, home, extra_roots,
                     lambda lesson, _f: model.touch(lesson, status="rejected", needs_review=False))


def archive(refs: Iterable[str], home: Path | None = None, extra_roots: Iterable[Path] = ()) -> Outcome:
    return _set_many(refs, home, extra_roots, lambda lesson, _f: model.touch(lesson, status="archived"))


def approve_above(threshold: float, home: Path | None = None, extra_roots: Iterable[Path] = ()) -> Outcome:
    """Approve every lesson waiting for review whose confidence is at least `threshold`."""
    chosen = [x.lesson.id for x in pending_review(home, extra_roots) if x.lesson.confidence >= threshold]
    if not chosen:
        return Outcome()
    return approve(chosen, home, extra_roots)


# --- import / export / trust ------------------------------------------------------------------


def read_lessons_file(path: Path) -> tuple[list[Lesson], list[str], str | None]:
    """Lessons from a file in our format, seed 003's store format, or a bare JSON list."""
    data = read_json(path, "import file")
    if data is None:
        raise ForewarnError(f"{path} does not exist")
    current, upgraded_from = upgrade_document(data, str(path))
    lessons, _kept, warnings = parse_lessons(current, str(path))
    return lessons, warnings, upgraded_from


def import_lessons(path: Path, *, project_root: Path | None = None, home: Path | None = None) -> Outcome:
    lessons, warnings, _ = read_lessons_file(path)
    scope = "project" if project_root is not None else "global"
    outcome = add_lessons([replace(lesson, scope=scope) for lesson in lessons],  # type: ignore[arg-type]
                          project_root=project_root, home=home)
    outcome.warnings = warnings + outcome.warnings
    return outcome


def export_lessons(home: Path | None = None, extra_roots: Iterable[Path] = (), *, scope: str | None = None,
                   include_inactive: bool = False) -> dict[str, Any]:
    found, _ = list_lessons(home, extra_roots, scope=scope, include_inactive=include_inactive)
    lessons = sorted({x.lesson.id: x.lesson for x in found}.values(), key=lambda lesson: lesson.id)
    return to_json(model.LessonsDocument(lessons=tuple(lessons)))


def trust(root: Path, home: Path | None = None) -> Outcome:
    home = _home(home)
    trust_project(root.resolve(), home)
    return Outcome().finish(home)


def revoke(root: Path, home: Path | None = None) -> Outcome:
    from forewarn.lessons.trust import revoke_trust

    home = _home(home)
    outcome = Outcome()
    if not revoke_trust(root.resolve(), home):
        outcome.warnings.append(f"{root} was not trusted")
    return outcome.finish(home)


def new_manual_lesson(summary: str, remediation: str, *, mistake: str = "", tools: Iterable[str] = (),
                      command_patterns: Iterable[str] = (), path_patterns: Iterable[str] = (),
                      tags: Iterable[str] = (), priority: int = 7, confidence: float = 0.9,
                      action: str = "warn", scope: str = "global") -> Lesson:
    """A lesson a person wrote (seed 003: curated lessons start at priority 7-9)."""
    try:
        lesson = model.make_lesson(
            summary, remediation, mistake=mistake,
            triggers=Triggers(tool_names=tuple(tools), command_patterns=tuple(command_patterns),
                              path_patterns=tuple(path_patterns)),
            priority=priority, confidence=confidence, tags=tags, action=action, scope=scope,
            provenance=Provenance(source="manual", occurrence_count=0))
    except ValueError as err:
        raise ForewarnError(str(err)) from None
    return _check(lesson)

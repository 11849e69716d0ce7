"""Compiling the lesson stores into `$FOREWARN_HOME/manifest.json`, the file the hook reads.

Sources: the global store, plus every project store listed in `projects.json` whose file is
trusted right now (`forewarn.lessons.trust`). A lesson goes in only if it is active, not waiting
for review, and at or above the configured confidence and priority floors, and only with the
patterns that pass `forewarn.lessons.regex_safety` (a lesson left without any pattern is skipped).
Every skip is reported as a warning, never silent.

Invariants (the hook depends on them, see `Manifest` in `forewarn.lessons.model`):
- the file has exactly the generated manifest schema's shape; lessons are keyed by ULID;
- every regex compiles with Python `re` under its flags, is structurally safe and fast;
- every lesson has at least one family and at least one command or path regex;
- project lessons always carry scope "project" and their project root, whatever their own scope
  field says (a repository cannot publish global lessons);
- the manifest is replaced atomically, then the hook's index is rebuilt (best effort: the hook
  also rebuilds it lazily).

`rebuild_manifest()` is called at the end of every operation that changes a store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from forewarn.errors import ForewarnError
from forewarn.lessons.jsonfile import locked, write_json_atomic
from forewarn.lessons.model import (
    InjectionConfig,
    Lesson,
    Manifest,
    ManifestLesson,
    RegexSource,
    now_iso,
    remedy_line,
    render_injection,
)
from forewarn.lessons.regex_safety import KILL_AFTER_S, Verdict, check_patterns
from forewarn.lessons.schema import to_json
from forewarn.lessons.store import LessonFile, load_global, load_project, registered_projects
from forewarn.lessons.triggers import command_regex, path_regex
from forewarn.lessons.trust import trust_status
from forewarn.model import tool_family
from forewarn.paths import forewarn_home

MANIFEST_NAME = "manifest.json"
REGEX_CACHE = Path("cache") / "regex-safety.json"
PATH_FAMILIES = ("edit", "read", "write")  # where a path pattern applies when no tool is named


def manifest_path(home: Path | None = None) -> Path:
    return (home or forewarn_home()) / MANIFEST_NAME


def load_injection_config(home: Path | None = None) -> InjectionConfig:
    """The injection settings from `$FOREWARN_HOME/config.json` (its `injection` section), with
    the defaults for anything missing or invalid (`forewarn.config` never fails to read)."""
    from forewarn.config import injection_config

    return injection_config(home)


@dataclass
class BuildResult:
    path: Path
    manifest: Manifest
    sources: list[str] = field(default_factory=list)  # the store files compiled
    warnings: list[str] = field(default_factory=list)
    excluded: int = 0  # lessons not eligible (review, status, floors): expected, not warned

    @property
    def count(self) -> int:
        return len(self.manifest.lessons)


def exclusion(lesson: Lesson, config: InjectionConfig) -> str | None:
    """Why a lesson stays out of the manifest, or None when it is eligible."""
    if lesson.status != "active":
        return lesson.status
    if lesson.needs_review:
        return "needs review"
    if lesson.confidence < config.min_confidence:
        return f"confidence {lesson.confidence:g} < {config.min_confidence:g}"
    if lesson.priority < config.min_priority:
        return f"priority {lesson.priority} < {config.min_priority}"
    return None


def lesson_families(lesson: Lesson) -> tuple[str, ...]:
    if lesson.triggers.tool_names:
        return tuple(sorted({tool_family(name) for name in lesson.triggers.tool_names}))
    families: set[str] = set()
    if lesson.triggers.command_patterns:
        families.add("shell")
    if lesson.triggers.path_patterns:
        families.update(PATH_FAMILIES)
    return tuple(sorted(families))


def _regex_pairs(lesson: Lesson) -> tuple[list[tuple[str, str, str]], list[str]]:
    """(kind, source, flags) for each pattern, and problems converting the others."""
    pairs: list[tuple[str, str, str]] = []
    problems: list[str] = []
    for kind, patterns, convert in (("command", lesson.triggers.command_patterns, command_regex),
                                    ("path", lesson.triggers.path_patterns, path_regex)):
        for pattern in patterns:
            try:
                source, flags = convert(pattern)
            except ValueError as err:
                problems.append(f"{kind} pattern {pattern!r} dropped: {err}")
                continue
            pairs.append((kind, source, flags))
    return pairs, problems


def compile_lesson(lesson: Lesson, lf: LessonFile,
                   verdicts: dict[tuple[str, str], Verdict]) -> tuple[ManifestLesson | None, list[str]]:
    """The manifest entry for an eligible lesson, and warnings about what was dropped."""
    where = f"{lf.path}: lesson {lesson.slug}"
    pairs, problems = _regex_pairs(lesson)
    warnings = [f"{where}: {p}" for p in problems]
    commands: list[RegexSource] = []
    paths: list[RegexSource] = []
    for kind, source, flags in pairs:
        verdict = verdicts.get((source, flags), Verdict(False, "not checked"))
        if not verdict.ok:
            warnings.append(f"{where}: {kind} pattern {source!r} dropped: {verdict.reason}")
            continue
        (commands if kind == "command" else paths).append(RegexSource(source=source, flags=flags))
    families = lesson_families(lesson)
    if not commands and not paths:
        warnings.append(f"{where}: skipped: no usable command or path pattern")
        return None, warnings
    if not families:  # pragma: no cover - patterns imply a family
        warnings.append(f"{where}: skipped: no tool family")
        return None, warnings
    project = lf.scope == "project"
    entry = ManifestLesson(
        slug=lesson.slug,
        priority=lesson.priority,
        confidence=lesson.confidence,
        action=lesson.action,
        families=families,
        tool_names=tuple(sorted(set(lesson.triggers.tool_names))),
        command_regex_sources=tuple(commands),
        path_regex_sources=tuple(paths),
        tags=lesson.tags,
        injection=lesson.injection or render_injection(lesson.summary, lesson.remediation),
        summary=lesson.summary,
        remedy=remedy_line(lesson),
        scope="project" if project else "global",
        project_root=str(lf.root) if project and lf.root else None,
    )
    return entry, warnings


def collect_stores(home: Path | None = None, extra_roots: tuple[Path, ...] = ()) -> tuple[list[LessonFile], list[str]]:
    """The global store and the trusted project stores, with warnings about the others. A damaged
    global store raises (the manifest is then left as it was); a damaged project store is skipped."""
    stores = [load_global(home)]
    warnings = list(stores[0].warnings)
    seen: set[Path] = set()
    for root in [*registered_projects(home), *extra_roots]:
        if root in seen:
            continue
        seen.add(root)
        status = trust_status(root, home)
        if status == "missing":
            continue
        if status != "trusted":
            how = "changed since they were trusted" if status == "changed" else "are not trusted"
            warnings.append(f"project lessons in {root} {how}: review .forewarn/lessons.json, then "
                            f"run `forewarn lessons trust --project {root}`")
            continue
        try:
            lf = load_project(root)
        except ForewarnError as err:
            warnings.append(f"skipped: {err}")
            continue
        warnings += lf.warnings
        stores.append(lf)
    return stores, warnings


def build_manifest(home: Path | None = None, *, config: InjectionConfig | None = None,
                   kill_after: float | None = None) -> BuildResult:
    """Compile the manifest in memory (nothing written)."""
    home = home or forewarn_home()
    config = config or load_injection_config(home)
    stores, warnings = collect_stores(home)
    eligible: list[tuple[Lesson, LessonFile]] = []
    excluded = 0
    for lf in stores:
        for lesson in lf.lessons:
            if exclusion(lesson, config) is None:
                eligible.append((lesson, lf))
            else:
                excluded += 1
    wanted = []
    for lesson, _ in eligible:
        pairs, _problems = _regex_pairs(lesson)
        wanted += [(source, flags) for _kind, source, flags in pairs]
    verdicts = check_patterns(wanted, cache_path=home / REGEX_CACHE,
                              kill_after=KILL_AFTER_S if kill_after is None else kill_after)
    lessons: dict[str, ManifestLesson] = {}
    for lesson, lf in eligible:
        if lesson.id in lessons:
            warnings.append(f"{lf.path}: lesson {lesson.slug} skipped: id {lesson.id} is already "
                            "in another store")
            continue
        entry, problems = compile_lesson(lesson, lf, verdicts)
        warnings += problems
        if entry is not None:
            lessons[lesson.id] = entry
    manifest = Manifest(generated_at=now_iso(), config=config, lessons=dict(sorted(lessons.items())))
    return BuildResult(path=manifest_path(home), manifest=manifest, sources=[str(s.path) for s in stores if s.exists],
                       warnings=warnings, excluded=excluded)


def rebuild_manifest(home: Path | None = None, *, kill_after: float | None = None) -> BuildResult:
    """Build and write the manifest atomically, then refresh the hook's index."""
    home = home or forewarn_home()
    path = manifest_path(home)
    with locked(path):
        result = build_manifest(home, kill_after=kill_after)
        write_json_atomic(path, to_json(result.manifest))
    try:
        from forewarn.hook.indexer import build_index

        build_index(home)
    except Exception as err:  # the hook rebuilds its index lazily; a failure here must not undo the write
        result.warnings.append(f"the hook index was not rebuilt ({type(err).__name__}: {err}); "
                               "the hook will build it on its next call")
    return result

"""`forewarn learn`: stored failures → findings → learnings in instruction files and hook lessons.

Per project: aggregate the project's failures by signature, keep the actionable findings, render
each as one specific bullet (the wrong form, the right form, why, how often), route it (team file,
personal file or agent memory) and plan the marker-section writes. The same findings (and the
agent's own `#lesson` blocks) become lesson candidates for the hook, stored with `apply` in the
lesson stores (project lessons in `<project>/.forewarn/lessons.json`, tool habits globally), which
rebuilds the manifest. Nothing is written unless `apply` is true; the plans carry the diff.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from forewarn.analyze.aggregate import aggregate, is_actionable
from forewarn.analyze.findings import Finding
from forewarn.analyze.redact import home_relative, redact
from forewarn.analyze.score import load_weights
from forewarn.errors import ForewarnError
from forewarn.fsutil import write_text_atomic
from forewarn.lessons.from_findings import lesson_from_finding
from forewarn.lessons.model import Lesson
from forewarn.lessons.ops import add_lessons
from forewarn.lessons.tags import lessons_from_text
from forewarn.store import Store
from forewarn.writers import apply_plans, plan_learnings
from forewarn.writers.base import Entry, suggest_route
from forewarn.writers.section import WritePlan

MAX_ENTRIES = 40  # per project: an instruction file is read on every session start


@dataclass
class ProjectLearning:
    project: str
    findings: list[Finding]
    entries: list[Entry]
    plans: list[WritePlan] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    lessons: list[Lesson] = field(default_factory=list)  # hook lesson candidates
    lessons_added: int = 0
    lessons_merged: int = 0


MIN_TRIGGER_PRECISION = 0.6  # share of the calls a trigger matches in history that failed that way
MIN_TRIGGER_HITS = 2


@dataclass(frozen=True, slots=True)
class _Seen:
    family: str
    targets: tuple[str, ...]
    signature: str | None  # the failure signature of the call, if it failed


def history(store: Store, files: Sequence[str]) -> list[_Seen]:
    """Every call of these session files as the hook would see it, with its failure signature."""
    from forewarn.hook.targets import command_text, path_values, tool_family

    out: list[_Seen] = []
    for file in files:
        signatures = {f.call_id: f.signature for f in store.failures(files=[file])}
        for call, _failed, _kind in store.load_calls(file):
            family = tool_family(call.tool)
            if family == "shell":
                text = command_text(call.input)
                targets: tuple[str, ...] = (text,) if text else ()
            else:
                targets = tuple(path_values(call.input, call.cwd))
            if targets:
                out.append(_Seen(family, targets, signatures.get(call.call_id)))
    return out


def trigger_precision(lesson: Lesson, seen: Sequence[_Seen]) -> tuple[int, int]:
    """(calls the lesson's trigger matches in `seen`, how many of them failed with its signature)."""
    from forewarn.lessons.manifest import lesson_families
    from forewarn.lessons.triggers import command_regex, compile_source, path_regex

    families = set(lesson_families(lesson))
    commands = [compile_source(*command_regex(p)) for p in lesson.triggers.command_patterns]
    paths = [compile_source(*path_regex(p)) for p in lesson.triggers.path_patterns]
    matched = failed = 0
    for call in seen:
        if call.family not in families:
            continue
        patterns = commands if call.family == "shell" else paths
        if any(p.search(t) for p in patterns for t in call.targets):
            matched += 1
            failed += call.signature == lesson.signature
    return matched, failed


def vet(lesson: Lesson, seen: Sequence[_Seen]) -> Lesson:
    """A heuristic lesson whose trigger, replayed over the history it was learned from, would
    mostly have fired on calls that did not fail that way is kept for review, not injected."""
    if lesson.provenance.source != "heuristic" or not lesson.signature:
        return lesson
    matched, failed = trigger_precision(lesson, seen)
    if failed >= MIN_TRIGGER_HITS and failed >= MIN_TRIGGER_PRECISION * matched:
        return lesson
    return replace(lesson, needs_review=True)


def lesson_candidates(store: Store, project: str | None, findings: Sequence[Finding],
                      files: Sequence[str] | None = None) -> list[Lesson]:
    """Hook lessons for a project: one per actionable finding whose trigger separates the failing
    calls from their fixes (checked against the project's history), plus every `#lesson` block
    the agent emitted in the project. A lesson whose trigger names paths is about this project."""
    if files is None:
        files = store.files_of_project(project) if project else []
    seen = history(store, files)
    out: list[Lesson] = []
    for f in findings:
        if not is_actionable(f):
            continue
        lesson = lesson_from_finding(f, project)
        if lesson is None:
            continue
        if lesson.triggers.path_patterns and lesson.scope == "global" and project:
            lesson = replace(lesson, scope="project")
        out.append(vet(lesson, seen))
    if project:
        for text, session_id in store.lesson_tags(project):
            out.extend(lessons_from_text(text, session_id=session_id, scope="project"))
    return out


def _key(signature: str) -> str:
    return "fw-" + hashlib.blake2b(signature.encode(), digest_size=5).hexdigest()


def _rel(text: str | None, project: str) -> str:
    if not text:
        return ""
    root = project.rstrip("/") + "/"
    return text.replace(root, "")


def _times(f: Finding) -> str:
    if f.occurrences <= 1:
        return "seen once"
    return f"seen {f.occurrences}× in {f.sessions} session{'s' if f.sessions != 1 else ''}"


def render(f: Finding, project: str) -> str:
    """One specific, actionable line for an instruction file."""
    wrong = _rel(f.wrong, project)
    right = _rel(f.right, project)
    why = _rel(f.reason, project)
    cat = f.category
    if f.retried:
        text = f"`{wrong}` fails intermittently ({why}); running it again worked"
    elif cat == "environment" and " -> " in f.subject and right:
        bad, good = f.subject.split(" -> ", 1)
        text = f"Run things through `{good}` (e.g. `{right}`), not `{bad}` (e.g. `{wrong}`): {why}"
    elif cat == "environment" and right and right != wrong:
        text = f"Use `{right}`, not `{wrong}` ({why})"
    elif cat == "environment":
        text = f"`{wrong}` does not work here ({why})"
    elif cat == "paths" and right and right != wrong:
        text = f"`{wrong}` does not exist; use `{right}`"
    elif cat == "paths":
        text = f"`{wrong}` does not exist ({why})"
    elif cat == "cli_usage":
        text = f"`{wrong}` is wrong usage ({why})" + (f"; `{right}` works" if right and right != wrong else "")
    elif cat == "edits":
        text = _edit_habit(why)
    elif cat == "user_prefs":
        if f.user_corrected:
            text = f"The user rejected `{wrong}` and said: “{why}”"
        else:
            text = f"The user rejected `{wrong}` {f.occurrences}×: show the command and let them run it"
    elif cat == "large_files":
        text = f"`{wrong}` is too large to read at once ({why}): read it with offset/limit or search it"
    elif cat == "hangs":
        text = f"`{wrong}` hangs or times out ({why})" + (f"; `{right}` works" if right and right != wrong else "")
    elif cat == "search_scope":
        text = f"Searching `{wrong}` finds nothing" + (f"; search `{right}` instead" if right else "")
    else:
        text = f"`{wrong}` fails ({why})" + (f"; `{right}` works" if right and right != wrong else "")
    # `~/…` instead of `/home/alice/…`: as useful to the agent, and no user name in a shared file
    return home_relative(redact(f"{text} — {_times(f)}"))


def _edit_habit(why: str) -> str:
    low = why.lower()
    if "not been read" in low or "read it first" in low or "must read" in low:
        return "Read a file right before editing it: edits fail with “File has not been read yet”"
    if "modified since" in low or "unexpectedly modified" in low:
        return "Re-read a file right before each edit: it changes under you (“modified since read”)"
    if "found" in low and "matches" in low:
        return "Give Edit an old_string that is unique in the file (or use replace_all)"
    if "not found" in low or "did not match" in low or "verification failed" in low:
        return "Copy old_string/patch context from a fresh Read: edits fail when it does not match the file exactly"
    return f"Edits fail here with “{why}”: re-read the file before editing"


def entries_for(findings: Sequence[Finding], project: str) -> list[Entry]:
    out: list[Entry] = []
    for f in findings:
        if not is_actionable(f):
            continue
        text = render(f, project)
        route = "volatile" if f.retried else suggest_route(f.kind, text, fix_known=f.fix_confirmed)
        out.append(Entry(category=f.category, key=_key(f.signature), text=text, route=route))
        if len(out) >= MAX_ENTRIES:
            break
    return out


def _retired_file() -> Path:
    from forewarn.paths import forewarn_home

    return forewarn_home() / "retired.json"


def retired_keys(project: str) -> set[str]:
    """Keys the user retired for a project: never written again (`forewarn learn --retire KEY`)."""
    try:
        data = json.loads(_retired_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    keys = data.get(project, []) if isinstance(data, dict) else []
    return {k for k in keys if isinstance(k, str)}


def retire(project: str, keys: Sequence[str]) -> None:
    path = _retired_file()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError
    except FileNotFoundError:
        data = {}
    except (OSError, ValueError):
        raise ForewarnError(f"{path} is damaged; fix or delete it to retire learnings") from None
    data[project] = sorted(set(data.get(project, [])) | set(keys))
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def learn(
    store: Store,
    projects: Sequence[str],
    *,
    agents: Sequence[str] | None = None,
    target: str | None = None,
    config_dirs: dict[str, str] | None = None,
    retire_keys: Sequence[str] = (),
    apply: bool = False,
) -> list[ProjectLearning]:
    weights = load_weights()
    results: list[ProjectLearning] = []
    for project in projects:
        retired = retired_keys(project) | set(retire_keys)
        findings = aggregate(store.failures(project=project), weights)
        entries = [e for e in entries_for(findings, project) if e.key not in retired]
        result = ProjectLearning(project, findings, entries, lessons=lesson_candidates(store, project, findings))
        if entries or target or retired:
            if not Path(project).is_dir() and target is None:
                raise ForewarnError(f"project directory {project} does not exist (use --target FILE to write elsewhere)")
            result.plans = plan_learnings(project, entries, agents=agents, target=target, config_dirs=config_dirs,
                                          retire=sorted(retired))
        results.append(result)
    if apply:
        for result in results:
            result.written = apply_plans(result.plans)
            if retire_keys:
                retire(result.project, retire_keys)
            if result.lessons and Path(result.project).is_dir():
                outcome = add_lessons(result.lessons, project_root=Path(result.project))
                result.lessons_added, result.lessons_merged = outcome.added, outcome.merged
    return results


def known_projects(store: Store) -> list[str]:
    return [p for p, _sessions, failures in store.projects() if failures]

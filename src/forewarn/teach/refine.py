"""`forewarn lessons refine`: the teacher cleans heuristic lesson candidates (seed 003 §12, "LLM-assisted").

Candidates are the active lessons waiting for review (`needsReview`), oldest first, skipping those
already refined (tag `refined:teacher`). For each, the teacher gets the lesson and its evidence
(failing call, fixing call, error head; redacted and clipped) and returns a cleaned summary,
mistake, remediation, tighter triggers and tags. The answer is validated before anything is
stored:
- the text fields are present and one summary line fits;
- every pattern compiles (`lesson_problems`) and passes the structural regex-safety check the
  manifest applies;
- the triggers still fit the evidence (`trigger_matches_evidence`): the refined lesson must fire
  on every failing call the original fired on and stay quiet on its fix (when the original
  matched none, on at least one); an answer with no patterns keeps the original triggers (and
  then only its text changes, so there is nothing new to check).
A valid answer replaces the lesson through `forewarn.lessons.ops.replace_lesson` (same id, still
waiting for review: refining is not approving). `dry_run` builds the exact payloads, sends nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from forewarn.errors import ForewarnError
from forewarn.lessons import model
from forewarn.lessons.model import Lesson, Triggers
from forewarn.lessons.ops import Located
from forewarn.lessons.regex_safety import structural_problem
from forewarn.lessons.triggers import (
    command_regex,
    lesson_problems,
    path_regex,
    trigger_matches_evidence,
)
from forewarn.teach.ask import TEXT_HEAD, TEXT_TAIL, clean
from forewarn.teach.base import Teacher, TeacherError, TeacherRequest
from forewarn.teach.router import load_prompt
from forewarn.teach.rules import MalformedAnswer, find_json_object

REFINED_TAG = "refined:teacher"
EVIDENCE_SENT = 5
EVIDENCE_TEXT = 600
MAX_PATTERNS = 4

REFINE_FORMAT = """\
Answer with ONE JSON object and nothing else, in this shape:
{"summary": "<one line, at most 100 characters>",
 "mistake": "<what goes wrong and why>",
 "remediation": "<the concrete fix>",
 "commandPatterns": ["<Python regex over the whole shell command>"],
 "pathPatterns": ["<glob over file paths>"],
 "tags": ["category:value"]}"""


class Rejected(TeacherError):
    """The teacher's version failed validation; the lesson was left as it was."""


@dataclass
class Refinement:
    original: Located
    request: TeacherRequest
    payload: dict[str, Any] | None = None
    refined: Lesson | None = None
    error: str | None = None

    def as_json(self) -> dict[str, Any]:
        lesson = self.original.lesson
        out: dict[str, Any] = {"id": lesson.id, "slug": lesson.slug, "store": str(self.original.path)}
        if self.payload is not None:
            out["payload"] = self.payload
        if self.refined is not None:
            from forewarn.lessons.schema import to_json

            out["refined"] = to_json(self.refined)
        if self.error is not None:
            out["error"] = self.error
        return out


@dataclass
class RefineResult:
    dry_run: bool
    teacher: str | None
    items: list[Refinement] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def refined(self) -> int:
        return sum(1 for i in self.items if i.refined is not None)

    def as_json(self) -> dict[str, Any]:
        return {"dryRun": self.dry_run, "teacher": self.teacher, "refined": self.refined,
                "failed": sum(1 for i in self.items if i.error), "items": [i.as_json() for i in self.items],
                "warnings": self.warnings}


def candidates(home: Path | None = None, extra_roots: Iterable[Path] = (), *, limit: int | None = None,
               include_refined: bool = False) -> list[Located]:
    from forewarn.lessons.ops import pending_review

    found = [x for x in pending_review(home, extra_roots) if include_refined or REFINED_TAG not in x.lesson.tags]
    found.sort(key=lambda x: x.lesson.id)
    return found if limit is None else found[:limit]


def _lesson_view(lesson: Lesson) -> dict[str, Any]:
    t = lesson.triggers
    return {"summary": clean(lesson.summary, 300, 0), "mistake": clean(lesson.mistake, TEXT_HEAD, TEXT_TAIL),
            "remediation": clean(lesson.remediation, TEXT_HEAD, TEXT_TAIL), "toolNames": list(t.tool_names),
            "commandPatterns": list(t.command_patterns), "pathPatterns": list(t.path_patterns),
            "tags": list(lesson.tags)}


def _evidence_view(lesson: Lesson) -> list[dict[str, str]]:
    out = []
    for ev in lesson.provenance.evidence[-EVIDENCE_SENT:]:
        item = {k: clean(v, EVIDENCE_TEXT, 0) for k, v in (("failing", ev.failing), ("fix", ev.fix),
                                                           ("error", ev.error)) if v}
        if item:
            out.append(item)
    return out


def build_refine_request(lesson: Lesson, home: Path | None = None) -> TeacherRequest:
    body = {"lesson": _lesson_view(lesson), "evidence": _evidence_view(lesson)}
    text = json.dumps(body, indent=2, ensure_ascii=False, sort_keys=True)
    prompt = f"Refine this candidate lesson. Its evidence pairs are real calls from session logs.\n\n{text}"
    return TeacherRequest(system=f"{load_prompt('refine', home).text}\n\n{REFINE_FORMAT}", prompt=prompt,
                          fields={"failure_type": "lesson_refinement", "lesson": body["lesson"],
                                  "evidence": body["evidence"]})


def _strings(value: Any, limit: int) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return ()
    return tuple(dict.fromkeys(v.strip() for v in value if isinstance(v, str) and v.strip()))[:limit]


def _unsafe(lesson: Lesson) -> str | None:
    for pattern in lesson.triggers.command_patterns:
        problem = structural_problem(*command_regex(pattern))
        if problem:
            return f"command pattern {pattern!r} is unsafe: {problem}"
    for pattern in lesson.triggers.path_patterns:
        problem = structural_problem(*path_regex(pattern))
        if problem:
            return f"path pattern {pattern!r} is unsafe: {problem}"
    return None


def check_evidence(original: Lesson, refined: Lesson) -> str | None:
    """Why the refined triggers do not fit the evidence, or None when they do."""
    pairs = [(ev.failing, ev.fix) for ev in original.provenance.evidence if ev.failing]
    if not pairs:
        return None
    before = [(f, x) for f, x in pairs if trigger_matches_evidence(original, f, x)]
    if before:
        for failing, fix in before:
            if not trigger_matches_evidence(refined, failing, fix):
                return f"the refined triggers no longer fire on {failing[:80]!r} or also fire on its fix"
        return None
    if not any(trigger_matches_evidence(refined, f, x) for f, x in pairs):
        return "the refined triggers fire on none of the failing calls (or also on their fixes)"
    return None


def apply_answer(original: Lesson, answer: str) -> Lesson:
    """The refined lesson, validated (see the module docstring); `MalformedAnswer` or `Rejected`."""
    data = find_json_object(answer)
    if data is None:
        raise MalformedAnswer("the teacher's answer holds no JSON object")
    summary = data.get("summary")
    remediation = data.get("remediation")
    if not isinstance(summary, str) or not summary.strip():
        raise MalformedAnswer("the teacher's answer has no summary")
    if not isinstance(remediation, str) or not remediation.strip():
        raise MalformedAnswer("the teacher's answer has no remediation")
    given = data.get("mistake")
    mistake = given if isinstance(given, str) else original.mistake
    commands = _strings(data.get("commandPatterns"), MAX_PATTERNS)
    paths = _strings(data.get("pathPatterns"), MAX_PATTERNS)
    triggers = original.triggers
    if commands or paths:
        triggers = Triggers(tool_names=original.triggers.tool_names, command_patterns=commands,
                            path_patterns=paths, content_patterns=original.triggers.content_patterns)
    tags = {*original.tags, *model.normalize_tags(_strings(data.get("tags"), 12), strict=False), REFINED_TAG}
    refined = model.touch(original, summary=model.one_line(summary, model.SUMMARY_MAX), mistake=mistake.strip(),
                          remediation=remediation.strip(), triggers=triggers, tags=tuple(sorted(tags)))
    problems = lesson_problems(refined)
    if problems:
        raise Rejected(problems[0])
    unsafe = _unsafe(refined)
    if unsafe:
        raise Rejected(unsafe)
    mismatch = check_evidence(original, refined) if refined.triggers != original.triggers else None
    if mismatch:
        raise Rejected(mismatch)
    return refined


def refine_lessons(teacher: Teacher | None, *, home: Path | None = None, extra_roots: Iterable[Path] = (),
                   limit: int | None = None, dry_run: bool = False, include_refined: bool = False) -> RefineResult:
    """Refine the review queue; with `dry_run` only build the payloads (teacher may be None)."""
    from forewarn.lessons.ops import replace_lesson
    from forewarn.lessons.schema import to_json

    roots = tuple(extra_roots)
    result = RefineResult(dry_run=dry_run, teacher=None if teacher is None else teacher.name)
    for located in candidates(home, roots, limit=limit, include_refined=include_refined):
        request = build_refine_request(located.lesson, home)
        item = Refinement(located, request)
        result.items.append(item)
        if dry_run:
            item.payload = teacher.payload(request) if teacher is not None else {
                "system": request.system, "prompt": request.prompt, "fields": request.fields}
            continue
        assert teacher is not None, "a real run needs a teacher"
        try:
            refined = _ask(teacher, located.lesson, request)
            outcome = replace_lesson(located.lesson.id, to_json(refined), home, roots)
        except ForewarnError as err:  # this lesson stays as it was; the others are still tried
            item.error = str(err)
            continue
        item.refined = outcome.lessons[0].lesson if outcome.lessons else refined
        result.warnings += [w for w in outcome.warnings if w not in result.warnings]
    return result


def _ask(teacher: Teacher, lesson: Lesson, request: TeacherRequest) -> Lesson:
    """Ask, and once more when the answer is malformed (a rejected answer is not re-asked: the
    teacher saw the evidence and chose those triggers)."""
    from forewarn.teach.ask import reask_request

    answer = teacher.ask(request)
    try:
        return apply_answer(lesson, answer)
    except Rejected:
        raise
    except MalformedAnswer as err:
        answer = teacher.ask(reask_request(request, str(err)))
        return apply_answer(lesson, answer)

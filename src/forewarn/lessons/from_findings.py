"""Findings (the analyzers' aggregated failure → fix pairs) as lesson candidates.

`lesson_from_finding` gives a finding a trigger the hook can match: for shell failures a command
regex synthesised from each failing/fixing pair (`forewarn.lessons.triggers.command_trigger`), for
file failures a glob of the wrong path. A candidate pattern is kept only if it matches none of the
finding's fixes; patterns are then chosen greedily until every failing call is covered (at most
three), so the lesson fires on what failed and stays quiet on what worked
(`trigger_matches_evidence` is the check). A finding no pattern can be found for yields None.

Lessons made here are `heuristic`, always `warn` (blocking a call is a person's decision), carry
the finding's signature (so re-learning merges instead of duplicating) and its evidence.
"""

from __future__ import annotations

import re

from forewarn.analyze import shell
from forewarn.analyze.findings import Finding
from forewarn.lessons import model
from forewarn.lessons.model import EvidenceRef, Lesson, Provenance, Triggers
from forewarn.lessons.triggers import (
    command_regex,
    command_trigger,
    compile_source,
    path_glob,
    path_regex,
)

MAX_PATTERNS = 3
PATH_FAMILIES = {"read", "edit", "write"}


def _pairs(finding: Finding) -> list[tuple[str, str | None]]:
    pairs = [(ev.failing_input, ev.fix_input) for ev in finding.evidence if ev.failing_input]
    if finding.wrong:
        pairs.append((finding.wrong, finding.right))
    return list(dict.fromkeys(pairs))


def _choose(candidates: list[str], kind: str, pairs: list[tuple[str, str | None]]) -> tuple[str, ...]:
    """Patterns that match no fix, picked greedily to cover the failing inputs."""
    convert = command_regex if kind == "command" else path_regex
    fixes = [fix for _, fix in pairs if fix]
    usable: list[tuple[str, re.Pattern[str]]] = []
    for pattern in dict.fromkeys(candidates):
        try:
            regex = compile_source(*convert(pattern))
        except (re.error, ValueError):
            continue
        if not any(regex.search(fix) for fix in fixes):
            usable.append((pattern, regex))
    uncovered = {failing for failing, _ in pairs}
    chosen: list[str] = []
    while uncovered and usable and len(chosen) < MAX_PATTERNS:
        pattern, regex = max(usable, key=lambda item: sum(1 for f in uncovered if item[1].search(f)))
        hits = {f for f in uncovered if regex.search(f)}
        if not hits:
            break
        chosen.append(pattern)
        uncovered -= hits
        usable = [u for u in usable if u[0] != pattern]
    return tuple(chosen)


def finding_triggers(finding: Finding, project_root: str | None = None) -> Triggers | None:
    pairs = _pairs(finding)
    tools = tuple(dict.fromkeys(finding.tools))
    if finding.family == "shell":
        patterns = _choose([command_trigger(failing, fix) for failing, fix in pairs], "command", pairs)
        return Triggers(tool_names=tools, command_patterns=patterns) if patterns else None
    if finding.family in PATH_FAMILIES:
        globs = [path_glob(failing, project_root) for failing, _ in pairs if "\n" not in failing]
        patterns = _choose(globs, "path", pairs)
        return Triggers(tool_names=tools, path_patterns=patterns) if patterns else None
    return None  # search scopes, web and MCP calls: no trigger shape for them yet


def _text(finding: Finding) -> tuple[str, str, str]:
    """(summary, mistake, remediation) in plain words from the finding's wrong/right/reason."""
    wrong = " ".join((finding.wrong or finding.subject or "").split())
    right = " ".join((finding.right or "").split())
    reason = " ".join(finding.reason.split())
    if right:
        summary = f"`{wrong}` fails here: use `{right}`" if wrong else f"use `{right}`"
        remediation = f"Use `{right}`" + (f" instead of `{wrong}`." if wrong else ".")
    else:
        summary = f"`{wrong}` fails here" + (f": {reason}" if reason else "")
        remediation = ""
    mistake = f"`{wrong}` failed" + (f": {reason}" if reason else ".") if wrong else reason
    return summary, mistake, remediation


def _tags(finding: Finding) -> list[str]:
    tags = [f"kind:{finding.kind}", f"topic:{finding.category}"]
    if finding.family == "shell" and finding.wrong:
        program = shell.program(shell.primary_segment(finding.wrong))
        if program:
            tags.append(f"tool:{program}")
    if finding.hang:
        tags.append("severity:hang")
    if finding.data_loss:
        tags.append("severity:data-loss")
    return tags


def lesson_from_finding(finding: Finding, project_root: str | None = None) -> Lesson | None:
    """A lesson candidate for a finding, or None when no trigger separates failure from fix."""
    if project_root is None and len(finding.project_paths) == 1:
        project_root = finding.project_paths[0]
    triggers = finding_triggers(finding, project_root)
    if triggers is None:
        return None
    summary, mistake, remediation = _text(finding)
    evidence = tuple(
        EvidenceRef(file=ev.file, call_id=ev.call_id, fix_call_id=ev.fix_call_id, failing=ev.failing_input,
                    fix=ev.fix_input, error=ev.error)
        for ev in finding.evidence)
    sessions = tuple(dict.fromkeys(ev.session_id for ev in finding.evidence if ev.session_id))
    return model.make_lesson(
        summary or finding.signature,
        remediation,
        mistake=mistake,
        triggers=triggers,
        priority=max(1, min(10, finding.priority)),
        confidence=max(0.0, min(1.0, finding.confidence)),
        tags=_tags(finding),
        strict_tags=False,
        scope="global" if finding.scope == "global" else "project",
        signature=finding.signature,
        needs_review=not remediation,
        provenance=Provenance(source="heuristic", source_session_ids=sessions, evidence=evidence,
                              occurrence_count=max(finding.occurrences, len(evidence))),
        created_at=None,
    )

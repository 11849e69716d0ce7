"""Failures → findings: group by normalised signature across sessions and projects, score.

A finding keeps what a lesson or an instruction-file bullet needs: the failing form (`wrong`), the
form that worked (`right`, from the most common fix), why (the error's telling line or the user's
words), the learning category, and whether the fact is about this project or true anywhere.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable

from forewarn import regexes
from forewarn.analyze import shell
from forewarn.analyze.findings import Evidence, Failure, Finding
from forewarn.analyze.score import Weights, score
from forewarn.analyze.signature import error_line

_CAUSAL = regexes.compile(r"\b(?:because|root cause|the issue is|the problem is|due to|caused by)\b", re.I)
_MAX_EVIDENCE = 5

# Kinds that are normal progress rather than a repeatable mistake unless a correction shows.
_PROGRESS_KINDS = {"build_or_test_failure", "other"}


def category_of(kind: str, family: str, fix_reason: str | None) -> str:
    if fix_reason in ("runner", "interpreter") or kind in ("env_runtime", "command_not_found"):
        return "environment"
    if kind == "path_not_found":
        return "paths" if family != "shell" else "commands"
    if kind == "wrong_search_scope":
        return "search_scope"
    if kind == "wrong_cli_usage":
        return "cli_usage"
    if kind == "edit_mismatch":
        return "edits"
    if kind in ("user_rejected", "user_interrupt"):
        return "user_prefs"
    if kind == "too_large":
        return "large_files"
    if kind == "timeout_or_hang":
        return "hangs"
    if kind == "tool_validation":
        return "tools"
    return "commands"


def scope_of(kind: str, family: str, fix_reason: str | None) -> str:
    """"global" for tool habits true anywhere; "project" for facts about this repo or machine."""
    if kind in ("edit_mismatch", "tool_validation"):
        return "global"
    if kind == "wrong_cli_usage" and family == "shell":
        return "global"  # a CLI's flags are the same in every project
    return "project"


def _short(text: str | None, limit: int = 120) -> str:
    if not text:
        return ""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _core(failure_input: str | None, family: str) -> str:
    if not failure_input:
        return ""
    if family == "shell":
        return _short(shell.primary_segment(failure_input), 100)
    return _short(failure_input, 140)


def aggregate(failures: Iterable[Failure], weights: Weights | None = None) -> list[Finding]:
    """One finding per signature, highest priority first."""
    groups: dict[str, list[Failure]] = defaultdict(list)
    for f in failures:
        groups[f.signature].append(f)
    out: list[Finding] = []
    for sig, items in groups.items():
        first = items[0]
        fixes = [f for f in items if f.fix_call_id]
        reasons = Counter(f.fix_reason for f in fixes if f.fix_reason)
        reason = reasons.most_common(1)[0][0] if reasons else None
        rights = Counter(_core(f.fix_input_text, f.family) for f in fixes if f.fix_input_text)
        wrongs = Counter(_core(f.input_text, f.family) for f in items)
        user_texts = [f.user_text for f in items if f.user_text]
        sessions = {f.session_id or f.file for f in items}
        projects = sorted({f.project for f in items if f.project})
        stamps = sorted(f.timestamp for f in items if f.timestamp)
        kind = Counter(f.kind for f in items).most_common(1)[0][0]
        finding = Finding(
            signature=sig,
            kind=kind,
            category=category_of(kind, first.family, reason),
            family=first.family,
            tools=sorted({f.tool for f in items}),
            subject=sig.split(":", 2)[2] if sig.count(":") >= 2 else sig,
            wrong=wrongs.most_common(1)[0][0] or None,
            right=rights.most_common(1)[0][0] if rights else None,
            reason=_short(user_texts[0], 160) if user_texts else Counter(error_line(f.error, 120) for f in items).most_common(1)[0][0],
            scope=scope_of(kind, first.family, reason),
            occurrences=len(items),
            sessions=len(sessions),
            projects=len(projects),
            project_paths=projects,
            fix_confirmed=bool(fixes) and reason != "retry",
            retried=reason == "retry",
            user_corrected=bool(user_texts),
            hang=kind == "timeout_or_hang",
            data_loss=False,
            causal=any(_CAUSAL.search(t) for t in user_texts),
            wasted_bytes=sum(f.wasted_bytes for f in items),
            first_seen=stamps[0] if stamps else None,
            last_seen=stamps[-1] if stamps else None,
            evidence=[
                Evidence(file=f.file, session_id=f.session_id, project=f.project, call_id=f.call_id,
                         fix_call_id=f.fix_call_id, timestamp=f.timestamp, failing_input=f.input_text,
                         fix_input=f.fix_input_text, error=f.error)
                for f in items[:_MAX_EVIDENCE]
            ],
        )
        finding.priority, finding.confidence = score(finding, weights)
        out.append(finding)
    out.sort(key=lambda f: (-f.priority, -f.confidence, -f.occurrences, f.signature))
    return out


def is_actionable(f: Finding) -> bool:
    """Worth telling an agent: a specific correction or a specific, recurring fact. One-off
    progress (a test failing while code is written) is not; an identical retry that worked is,
    once it recurs (the command is flaky: agent memory, not project documentation)."""
    if f.retried:
        return f.occurrences >= 2 and f.sessions >= 2 and f.kind != "build_or_test_failure"
    if f.kind in ("user_rejected", "user_interrupt"):
        return f.occurrences >= 2 or f.user_corrected
    if f.kind == "too_large":
        return True
    if f.kind == "timeout_or_hang":
        return f.occurrences >= 2 or f.fix_confirmed
    if f.kind in _PROGRESS_KINDS:
        return f.fix_confirmed and f.right is not None and f.right != f.wrong and f.occurrences >= 2
    if f.kind == "edit_mismatch":
        return f.occurrences >= 2
    if f.kind == "path_not_found":
        return f.fix_confirmed or f.occurrences >= 2
    if f.kind in ("permission_denied", "network"):
        return f.fix_confirmed and f.right is not None and f.right != f.wrong
    return f.fix_confirmed and f.right is not None and f.right != f.wrong

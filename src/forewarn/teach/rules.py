"""The teacher's answer: one preventive rule in seed 002's shape (Rule / When / Why / Source).

The teacher is asked (`ANSWER_FORMAT`, appended to every domain prompt) for one JSON object;
`parse_rule` also accepts that object inside a code fence or prose, and seed 002's markdown
(`- **Rule**: … - **When**: … - **Why**: …`), because models and n8n workflows drift. An answer
without a rule, a `when` and a `why` is malformed: `MalformedAnswer` says what was missing so the
caller can ask again once.

Invariants: a parsed rule's texts are single lines, clipped, and redacted; its category is one of
the instruction-file categories (`forewarn.analyze.findings.CATEGORIES`), chosen by the teacher
or defaulted from the failure type; path globs are kept only when they look like relative globs.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from forewarn import regexes
from forewarn.analyze.findings import CATEGORIES
from forewarn.analyze.redact import redact
from forewarn.lessons.model import one_line
from forewarn.teach.base import TeacherError
from forewarn.teach.router import route

RULE_MAX = 300
TEXT_MAX = 400
MAX_PATHS = 5

# where a rule lands in the instruction file when the teacher does not say
DEFAULT_CATEGORY = {
    "test_failure": "edits",
    "config_error": "environment",
    "integration_error": "search_scope",
}
FALLBACK_CATEGORY = "tools"

ANSWER_FORMAT = """\
Answer with ONE JSON object and nothing else, in this shape:
{"root_cause": "<what went wrong and why, one or two sentences>",
 "rule": "<ONE imperative preventive rule, one sentence, specific to this project>",
 "when": "<the situation in which the rule applies>",
 "why": "<why following it prevents this failure>",
 "category": "<one of: {categories}>",
 "paths": ["<optional: project-relative globs of the files the rule is about>"]}
Never include secrets, tokens or personal paths.""".replace("{categories}", ", ".join(CATEGORIES))


class MalformedAnswer(TeacherError):
    """The teacher answered, but not with a usable rule."""


@dataclass(frozen=True)
class Rule:
    rule: str
    when: str
    why: str
    root_cause: str
    failure_type: str
    category: str
    paths: tuple[str, ...] = ()
    learned_on: str = ""  # YYYY-MM-DD
    source: str = ""  # "test failure", "manual report (planning_error)"…

    @property
    def key(self) -> str:
        """A stable marker-section key: the same rule learned twice is one bullet."""
        digest = hashlib.blake2b(" ".join(self.rule.lower().split()).encode(), digest_size=5).hexdigest()
        return f"fw-rule-{digest}"

    def source_line(self) -> str:
        return f"Learned on {self.learned_on} from {self.source or self.failure_type.replace('_', ' ')}"

    def markdown(self) -> str:
        """Seed 002's block."""
        return (f"- **Rule**: {self.rule}\n- **When**: {self.when}\n- **Why**: {self.why}\n"
                f"  - **Source**: {self.source_line()}")

    def bullet(self) -> str:
        """The same, as the one line an instruction-file bullet can hold."""
        return (f"**Rule**: {self.rule} **When**: {self.when} **Why**: {self.why} "
                f"_({self.source_line()})_")

    def as_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "when": self.when, "why": self.why, "rootCause": self.root_cause,
                "failureType": self.failure_type, "category": self.category, "paths": list(self.paths),
                "learnedOn": self.learned_on, "source": self.source, "key": self.key}


# -- parsing -----------------------------------------------------------------------------------

_FENCE = regexes.compile(r"```(?:json|JSON)?\s*(\{.*?\})\s*```", re.S)
_MD_FIELD = regexes.compile(r"(?im)^[\s>*_-]*\**\s*(rule|when|why|root[ _-]?cause|category)\s*\**\s*[:：]\s*\**\s*(.+?)\s*$")
_GLOB_OK = regexes.compile(r"^[A-Za-z0-9_.*?/\[\]{},@+-]+$")


def find_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in `text`: the whole text, a fenced block, or embedded in prose."""
    stripped = text.strip()
    try:
        value = json.loads(stripped)
        if isinstance(value, dict):
            return value
    except ValueError:
        pass
    for match in _FENCE.finditer(text):
        try:
            value = json.loads(match.group(1))
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    decoder = json.JSONDecoder()
    for m in re.finditer(r"\{", text):
        try:
            value, _end = decoder.raw_decode(text, m.start())
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


def _markdown_fields(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in _MD_FIELD.finditer(text):
        name = m.group(1).lower().replace(" ", "_").replace("-", "_")
        name = "root_cause" if name.startswith("root") else name
        out.setdefault(name, m.group(2).strip().strip("*_").strip())
    return out


def _text(value: Any, limit: int) -> str:
    if not isinstance(value, str):
        return ""
    return one_line(redact(value), limit)


def _paths(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return ()
    out: list[str] = []
    for item in value:
        if not isinstance(item, str):
            continue
        glob = item.strip().strip("`").removeprefix("./")
        if glob and not glob.startswith(("/", "~")) and ".." not in glob and _GLOB_OK.match(glob) \
                and glob not in out:
            out.append(glob)
    return tuple(out[:MAX_PATHS])


def parse_rule(text: str, failure_type: str, *, source: str = "", today: str | None = None) -> Rule:
    """The rule in a teacher's answer; `MalformedAnswer` names what is missing."""
    data = find_json_object(text)
    if data is not None and isinstance(data.get("rule"), dict):  # {"rule": {...}} envelopes
        data = data["rule"]
    fields = data if data is not None and "rule" in data else _markdown_fields(text)
    if not fields:
        raise MalformedAnswer("the teacher's answer holds neither a JSON object with a \"rule\" nor "
                              "**Rule**/**When**/**Why** lines")
    rule = _text(fields.get("rule"), RULE_MAX)
    when = _text(fields.get("when"), TEXT_MAX)
    why = _text(fields.get("why"), TEXT_MAX)
    missing = [name for name, value in (("rule", rule), ("when", when), ("why", why)) if not value]
    if missing:
        raise MalformedAnswer(f"the teacher's answer has no {', no '.join(missing)}")
    kind = route(failure_type)
    category = str(fields.get("category") or "").strip().lower()
    if category not in CATEGORIES:
        category = DEFAULT_CATEGORY.get(kind, FALLBACK_CATEGORY)
    return Rule(
        rule=rule, when=when, why=why,
        root_cause=_text(fields.get("root_cause") or fields.get("rootCause"), TEXT_MAX),
        failure_type=kind, category=category, paths=_paths(fields.get("paths")),
        learned_on=today or date.today().isoformat(), source=source,
    )

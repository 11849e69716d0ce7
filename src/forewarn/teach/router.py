"""The failure router (seed 002): each failure type gets its own domain prompt.

Types: test_failure (from `forewarn run` and the pytest plugin) and the manual ones
`forewarn report-failure` accepts (planning_error, integration_error, workflow_error,
architecture_error, scope_error, config_error, other). Each type's system prompt ships as package
data, `forewarn/data/prompts/<type>.md`; a file of the same name in `$FOREWARN_HOME/prompts/`
wins, so a user can tune the teacher without touching forewarn. `refine.md` is the prompt of
`forewarn lessons refine`.

Invariants: an unknown type is routed to `other`, never refused; the answer format the parser
needs is appended by code (`forewarn.teach.rules.ANSWER_FORMAT`), so an overriding prompt cannot
break parsing; prompts are read as UTF-8 and an unreadable override falls back to the shipped one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from forewarn import regexes
from forewarn.paths import forewarn_home

FAILURE_TYPES: tuple[str, ...] = (
    "test_failure", "planning_error", "integration_error", "workflow_error", "architecture_error",
    "scope_error", "config_error", "other",
)
PROMPTS_DIR = Path(__file__).resolve().parent.parent / "data" / "prompts"
USER_PROMPTS = "prompts"

# what an unlabelled failure's text says about its type, checked in order (first hit wins)
_HINTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("test_failure", regexes.compile(r"(?i)\b(?:assert(?:ion)?(?:error)?|FAILED|pytest|jest|vitest|test(?:s)? fail)")),
    ("config_error", regexes.compile(r"(?i)\b(?:config(?:uration)?|credential|api[_ ]?key|env(?:ironment)? var|"
                                     r"permission denied|\.env\b|not authori[sz]ed)")),
    ("integration_error", regexes.compile(r"(?i)\b(?:duplicat|already exist|redundant|existing (?:system|code|workflow))")),
    ("workflow_error", regexes.compile(r"(?i)\b(?:workflow|n8n|pipeline|node type|trigger node)")),
    ("architecture_error", regexes.compile(r"(?i)\b(?:architecture|design pattern|coupling|layering|abstraction)")),
    ("scope_error", regexes.compile(r"(?i)\b(?:over-?engineer|out of scope|scope|too much|too little)")),
    ("planning_error", regexes.compile(r"(?i)\b(?:plan|approach|misunderst|requirement)")),
)


@dataclass(frozen=True)
class Prompt:
    failure_type: str
    text: str
    path: Path  # where it was read from (shipped or the user's override)
    overridden: bool


def route(failure_type: str | None) -> str:
    """The failure type a prompt exists for (unknown types go to `other`)."""
    name = (failure_type or "").strip().lower()
    return name if name in FAILURE_TYPES else "other"


def classify(text: str) -> str:
    """A best guess at the type of a failure nobody labelled, from its text."""
    for name, pattern in _HINTS:
        if pattern.search(text):
            return name
    return "other"


def user_prompts_dir(home: Path | None = None) -> Path:
    return (home or forewarn_home()) / USER_PROMPTS


def load_prompt(name: str, home: Path | None = None) -> Prompt:
    """The system prompt `name` (a failure type or `refine`): the user's override if readable,
    else the shipped one."""
    key = name if name == "refine" else route(name)
    override = user_prompts_dir(home) / f"{key}.md"
    try:
        text = override.read_text(encoding="utf-8")
        if text.strip():
            return Prompt(key, text.strip(), override, True)
    except (OSError, UnicodeDecodeError):
        pass
    shipped = PROMPTS_DIR / f"{key}.md"
    return Prompt(key, shipped.read_text(encoding="utf-8").strip(), shipped, False)


def prompt_files(home: Path | None = None) -> list[Prompt]:
    """Every prompt in effect (for `forewarn doctor`-style listings and tests)."""
    return [load_prompt(name, home) for name in (*FAILURE_TYPES, "refine")]

"""`#lesson … #/lesson` blocks (seed 003 §11, Tier 1): what an agent reports it learned, as lessons.

An agent following the lesson protocol writes, in its own text:

    #lesson
    tool: Bash
    trigger: pytest -v tests/
    mistake: pytest hangs in non-interactive environments due to TTY detection
    fix: Use `python -m pytest --no-header -rN -p no:faulthandler` or prepend TERM=dumb
    tags: lang:python, tool:pytest, severity:hang
    #/lesson

`parse_lesson_blocks` finds the blocks and their `key: value` fields (keys case-insensitive, a few
aliases, unknown keys ignored, missing keys empty, indented or key-less lines continue the previous
field). `lessons_from_text` turns each usable block into a `Lesson` candidate with confidence 0.85
(the agent chose to report it) and a trigger built from the `trigger:` text: for shell tools the
command's head (and subcommand), with a negative lookahead for what the fix's code adds; for file
tools a glob of the path. A block whose trigger yields no pattern is kept with `needsReview` set.

Invariants: any text parses without raising (a property test checks it), in time linear in its
length (markers are paired in one pass, never by a backtracking regex); agent-reported lessons
always `warn`, never `block`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from forewarn import regexes
from forewarn.lessons import model
from forewarn.lessons.model import Lesson, Provenance, Triggers
from forewarn.lessons.triggers import (
    command_regex,
    command_trigger,
    compile_source,
    path_glob,
    path_regex,
    text_command_regex,
)
from forewarn.model import TOOL_FAMILY, tool_family

TAG_CONFIDENCE = 0.85  # seed 003: self-reported lessons start at 0.85
TAG_PRIORITY = 4  # base 3 + 1 for a self-report; the analyzer's scoring may raise it
_MARKER = regexes.compile(r"(?<![\w/])#lesson(?![\w-])[ \t]*(?:\r?\n|$)|#/lesson(?![\w-])")
_FIELD = regexes.compile(r"^[ \t>*-]*([A-Za-z][A-Za-z _-]{0,24}?)[ \t]*:[ \t]?(.*)$")
_ALIASES = {
    "tool": "tool", "tools": "tool", "tool_name": "tool",
    "trigger": "trigger", "command": "trigger", "when": "trigger",
    "mistake": "mistake", "problem": "mistake", "issue": "mistake", "error": "mistake",
    "fix": "fix", "remediation": "fix", "solution": "fix", "resolution": "fix",
    "tags": "tags", "tag": "tags",
    "summary": "summary",
}
_CODE = regexes.compile(r"`([^`\n]{1,300})`")
_ENV_WORD = regexes.compile(r"\b[A-Z_][A-Z0-9_]*=[^\s`'\",;]+")
_PATHISH = regexes.compile(r"^[~./\w-]*[/.][\w./*?{},\[\]-]*$")
_CANONICAL_TOOLS = {name.lower(): name for name in TOOL_FAMILY}
_SHELL_WORDS = {"bash", "shell", "sh", "terminal", "zsh", "cmd", "powershell"}


@dataclass(frozen=True)
class LessonBlock:
    tool: str
    trigger: str
    mistake: str
    fix: str
    tags: str
    summary: str
    start: int  # offset of `#lesson` in the text
    end: int  # offset just after `#/lesson`


def _blocks(text: str) -> list[tuple[int, int, int, int]]:
    """(start, body start, body end, end) of each complete block. Markers are paired in one pass:
    an opener without a closer is dropped, a second opener restarts the block."""
    out = []
    open_at: tuple[int, int] | None = None
    for m in _MARKER.finditer(text):
        if m.group(0).startswith("#/"):
            if open_at is not None:
                out.append((open_at[0], open_at[1], m.start(), m.end()))
                open_at = None
        else:
            open_at = (m.start(), m.end())
    return out


def parse_lesson_blocks(text: str) -> list[LessonBlock]:
    blocks = []
    for start, body_start, body_end, end in _blocks(text):
        fields: dict[str, list[str]] = {}
        current: str | None = None
        for line in text[body_start:body_end].splitlines():
            m = _FIELD.match(line)
            key = _ALIASES.get(m.group(1).strip().lower().replace(" ", "_")) if m else None
            if m and not line[:1].isspace() and key is not None:
                current = key
                fields.setdefault(key, []).append(m.group(2).strip())
            elif m and not line[:1].isspace() and " " not in m.group(1).strip():
                current = None  # an unknown key: ignored, and so are its continuation lines
            elif current is not None and line.strip():
                fields[current].append(line.strip())
        joined = {key: " ".join(part for part in parts if part).strip() for key, parts in fields.items()}
        blocks.append(LessonBlock(
            tool=joined.get("tool", ""), trigger=joined.get("trigger", ""), mistake=joined.get("mistake", ""),
            fix=joined.get("fix", ""), tags=joined.get("tags", ""), summary=joined.get("summary", ""),
            start=start, end=end))
    return blocks


def _tool_names(tool: str) -> tuple[str, ...]:
    names = []
    for part in re.split(r"[,/|]|\s+and\s+", tool):
        name = part.strip().strip("`")
        if not name:
            continue
        canonical = _CANONICAL_TOOLS.get(name.lower())
        if canonical is None and name.lower() in _SHELL_WORDS:
            canonical = "Bash"
        names.append(canonical or name)
    return tuple(dict.fromkeys(names))


def _fix_command(fix: str, trigger: str) -> str | None:
    """What the fix would run: its code spans, with the env assignments its prose names
    ("prepend TERM=dumb") put in front of the first span (or of the trigger when it has none)."""
    spans = [span.strip() for span in _CODE.findall(fix) if span.strip()]
    envs = " ".join(_ENV_WORD.findall(_CODE.sub(" ", fix)))
    if envs:
        spans = [f"{envs} {spans[0] if spans else trigger}", *spans[1:]]
    return " ; ".join(spans) if spans else None


def _works(pattern: str, kind: str, sample: str) -> bool:
    try:
        source, flags = command_regex(pattern) if kind == "command" else path_regex(pattern)
        return bool(pattern) and compile_source(source, flags).search(sample) is not None
    except (re.error, ValueError, RecursionError):
        return False


def block_triggers(block: LessonBlock) -> Triggers:
    tools = _tool_names(block.tool)
    families = {tool_family(t) for t in tools}
    trigger = block.trigger.strip().strip("`").strip()
    if not trigger:
        return Triggers(tool_names=tools)
    if not tools:  # no tool named: a path-looking trigger is about files, anything else a command
        families = {"read"} if _PATHISH.match(trigger) and " " not in trigger else {"shell"}
        tools = ("Read",) if families == {"read"} else ("Bash",)
    if "shell" in families:
        first_line = trigger.splitlines()[0] if trigger.splitlines() else trigger
        candidates = []
        try:
            candidates.append(command_trigger(first_line, _fix_command(block.fix, first_line)))
            candidates.append(text_command_regex(first_line))
        except (ValueError, re.error, RecursionError):
            pass
        candidates.append(re.escape(first_line[:80]))
        pattern = next((c for c in candidates if _works(c, "command", first_line)), "")
        return Triggers(tool_names=tools, command_patterns=(pattern,) if pattern else ())
    if _PATHISH.match(trigger) and " " not in trigger:
        glob = path_glob(trigger)
        if _works(glob, "path", trigger) or _works(glob, "path", "/" + trigger):
            return Triggers(tool_names=tools, path_patterns=(glob,))
    return Triggers(tool_names=tools)


def lesson_from_block(block: LessonBlock, *, session_id: str | None = None, scope: str = "global") -> Lesson | None:
    """A lesson candidate from one block, or None when it says neither what went wrong nor
    what fixed it."""
    if not (block.mistake or block.fix):
        return None
    summary = block.summary or block.mistake or block.fix
    summary = re.split(r"(?<=[.!?])\s", summary, maxsplit=1)[0]
    triggers = block_triggers(block)
    has_pattern = bool(triggers.command_patterns or triggers.path_patterns)
    return model.make_lesson(
        summary,
        block.fix,
        mistake=block.mistake,
        triggers=triggers,
        priority=TAG_PRIORITY,
        confidence=TAG_CONFIDENCE,
        tags=re.split(r"[,\s]+", block.tags) if block.tags else (),
        strict_tags=False,
        scope=scope,
        needs_review=not has_pattern,
        provenance=Provenance(source="lesson_tag",
                              source_session_ids=(session_id,) if session_id else (),
                              occurrence_count=1),
    )


def lessons_from_text(text: str, *, session_id: str | None = None, scope: str = "global") -> list[Lesson]:
    """Every usable `#lesson` block in `text` as a lesson candidate."""
    out = []
    for block in parse_lesson_blocks(text):
        lesson = lesson_from_block(block, session_id=session_id, scope=scope)
        if lesson is not None:
            out.append(lesson)
    return out

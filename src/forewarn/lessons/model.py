"""The lesson model: frozen dataclasses that are the one source of truth for every lesson file.

`Lesson` (with `Triggers`, `Provenance`, `EvidenceRef`) is what `lessons.json` holds; `Manifest`
(with `ManifestLesson`, `InjectionConfig`, `RegexSource`) is what the hook reads. The JSON Schemas
shipped in `forewarn/data/schemas/` are *generated* from these classes by `forewarn.lessons.schema`
(field types, defaults, and the `metadata` given to each field: description, bounds, patterns), and
a test fails when the shipped files drift from the classes.

Invariants:
- JSON names are the camelCase of the field names unless a field's metadata says otherwise.
- Collections are tuples, so a `Lesson` is hashable and can never be mutated behind the store's
  back; changes go through `dataclasses.replace` (see `touch`).
- `content_hash` is derived data (mistake + remediation + triggers, canonical JSON) and is
  recomputed whenever a lesson is built or changed, never trusted from disk.
- Nothing here reads or writes files.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any, Literal

from forewarn import regexes
from forewarn.lessons.ulid import new_ulid

SCHEMA_BASE = "https://raw.githubusercontent.com/forewarn/forewarn/main/src/forewarn/data/schemas/"
LESSONS_SCHEMA_URL = SCHEMA_BASE + "lessons.schema.json"
MANIFEST_SCHEMA_URL = SCHEMA_BASE + "manifest.schema.json"
LESSONS_TYPE = "forewarn-lessons"
MANIFEST_TYPE = "forewarn-manifest"
FORMAT_VERSION = 1

Source = Literal["heuristic", "lesson_tag", "manual", "teacher", "import"]
Action = Literal["warn", "block"]
Status = Literal["active", "archived", "rejected"]
Scope = Literal["global", "project"]

SOURCES: tuple[str, ...] = ("heuristic", "lesson_tag", "manual", "teacher", "import")
ACTIONS: tuple[str, ...] = ("warn", "block")
STATUSES: tuple[str, ...] = ("active", "archived", "rejected")
SCOPES: tuple[str, ...] = ("global", "project")

SUMMARY_MAX = 100  # characters: the summary is the fallback injection, it must stay one line
INJECTION_MAX_BYTES = 200  # seed 003: pre-rendered injections stay under ~200 bytes
REMEDY_MAX = 300  # the deny reason the hook gives when a lesson blocks a call
EVIDENCE_MAX = 20  # evidence kept per lesson; occurrenceCount keeps counting beyond it
EVIDENCE_TEXT_MAX = 500

ULID_PATTERN = r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$"
SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
TAG_PATTERN = r"^[a-z][a-z0-9_-]*:[a-z0-9][a-z0-9._+/#-]*$"
HASH_PATTERN = r"^(?:sha256:[0-9a-f]{64})?$"
TAG_RE = regexes.compile(TAG_PATTERN)
# The tag categories seed 003 names; others are allowed (they are only labels) but these are the
# ones the hook and the CLI-intelligence aggregation understand.
KNOWN_TAG_CATEGORIES = ("lang", "tool", "topic", "env", "severity", "platform", "kind", "project")


def doc(description: str, **constraints: Any) -> dict[str, Any]:
    """Field metadata read by the schema generator: a description plus JSON Schema keywords
    (`minimum`, `pattern`…) and `json` to override the camelCase name."""
    return {"description": description, **constraints}


@dataclass(frozen=True)
class Triggers:
    tool_names: tuple[str, ...] = field(default=(), metadata=doc(
        "Tool names of any agent (Bash, exec_command, run_shell_command, Read…); mapped to tool "
        "families when the manifest is built. Empty: the families follow from the patterns."))
    command_patterns: tuple[str, ...] = field(default=(), metadata=doc(
        "Python regexes tested against shell commands (may start with inline flags such as "
        "(?s)). A negative lookahead keeps a lesson quiet once its fix is applied."))
    path_patterns: tuple[str, ...] = field(default=(), metadata=doc(
        "Globs (**, *, ?, [..], {a,b}) tested against file paths; 're:' prefixes a raw regex. "
        "A glob without a leading '/' matches at any directory boundary."))
    content_patterns: tuple[str, ...] = field(default=(), metadata=doc(
        "Tentative (seed 003): regexes for file content or command output. Not yet compiled."))


@dataclass(frozen=True)
class EvidenceRef:
    file: str = field(metadata=doc("Session log the failure was seen in."))
    call_id: str = field(metadata=doc("Tool call id of the failing call."))
    fix_call_id: str | None = field(default=None, metadata=doc("Tool call id of the call that fixed it."))
    failing: str | None = field(default=None, metadata=doc("The failing call's input (redacted, clipped)."))
    fix: str | None = field(default=None, metadata=doc("The fixing call's input (redacted, clipped)."))
    error: str | None = field(default=None, metadata=doc("Head of the error text (redacted, clipped)."))


@dataclass(frozen=True)
class Provenance:
    source: Source = field(default="manual", metadata=doc("Where the lesson came from."))
    source_session_ids: tuple[str, ...] = field(default=(), metadata=doc(
        "Sessions the pattern was observed in."))
    evidence: tuple[EvidenceRef, ...] = field(default=(), metadata=doc(
        f"Failing/fixing call pairs (at most {EVIDENCE_MAX} kept)."))
    occurrence_count: int = field(default=1, metadata=doc(
        "Times the pattern was detected.", minimum=0))


@dataclass(frozen=True)
class Lesson:
    id: str = field(metadata=doc("ULID: time-ordered, collision-free.", pattern=ULID_PATTERN))
    slug: str = field(metadata=doc(
        "kebab-case summary + 4-char base36 suffix; used in logs and dedup claim files.",
        pattern=SLUG_PATTERN, maxLength=80))
    summary: str = field(metadata=doc(
        f"One self-contained line (about {SUMMARY_MAX} chars); the fallback injection.", minLength=1))
    mistake: str = field(default="", metadata=doc("What goes wrong and why."))
    remediation: str = field(default="", metadata=doc("The concrete fix; copy-pasteable where possible."))
    injection: str = field(default="", metadata=doc(
        f"Pre-rendered text the hook injects (about {INJECTION_MAX_BYTES} bytes); generated from "
        "summary + remediation when empty."))
    triggers: Triggers = field(default_factory=Triggers, metadata=doc("When the lesson applies."))
    priority: int = field(default=5, metadata=doc("1-10; higher wins when lessons compete.",
                                                  minimum=1, maximum=10))
    confidence: float = field(default=0.5, metadata=doc(
        "0-1: how sure we are this is a real, recurring pattern.", minimum=0, maximum=1))
    needs_review: bool = field(default=False, metadata=doc(
        "Stored but not injected until a person approves it."))
    tags: tuple[str, ...] = field(default=(), metadata=doc(
        "Labels 'category:value' (lang:, tool:, topic:, env:, severity:, platform:).",
        item_pattern=TAG_PATTERN))
    action: Action = field(default="warn", metadata=doc(
        "warn: add context to the call. block: deny the call with the remedy as reason (only for "
        "calls known to fail or hang)."))
    status: Status = field(default="active", metadata=doc("Only active lessons reach the manifest."))
    scope: Scope = field(default="global", metadata=doc(
        "global: true anywhere. project: true only in the repository whose store holds it."))
    signature: str | None = field(default=None, metadata=doc(
        "The analyzer's normalised failure signature; lessons sharing one are merged."))
    provenance: Provenance = field(default_factory=Provenance, metadata=doc("How it was learned."))
    content_hash: str = field(default="", metadata=doc(
        "sha256 of mistake + remediation + triggers (canonical JSON); recomputed on load.",
        pattern=HASH_PATTERN))
    created_at: str = field(default="", metadata=doc("ISO 8601 UTC."))
    updated_at: str = field(default="", metadata=doc("ISO 8601 UTC."))


@dataclass(frozen=True)
class LessonsDocument:
    """The on-disk shape of `lessons.json` (global and project stores alike)."""

    schema: str = field(default=LESSONS_SCHEMA_URL, metadata=doc("JSON Schema of this file.", json="$schema"))
    type: Literal["forewarn-lessons"] = field(default="forewarn-lessons", metadata=doc("File kind."))
    version: Literal[1] = field(default=1, metadata=doc("Format version; older ones are upgraded on load."))
    lessons: tuple[Lesson, ...] = field(default=(), metadata=doc("Lessons in id order."))


# --- the manifest: the hook's contract --------------------------------------------------------


@dataclass(frozen=True)
class RegexSource:
    source: str = field(metadata=doc("A Python `re` pattern (compiled and safety-checked at build time)."))
    flags: str = field(default="", metadata=doc("Python inline flag letters: i, m, s, x.",
                                                pattern=r"^[imsx]*$"))


@dataclass(frozen=True)
class InjectionConfig:
    injection_budget_bytes: int = field(default=4096, metadata=doc(
        "Bytes of lesson text injected per call at most (the first lesson always fits).", minimum=0))
    max_lessons_per_injection: int = field(default=3, metadata=doc("Lessons per call at most.", minimum=0))
    min_confidence: float = field(default=0.5, metadata=doc(
        "Lessons below this stay out of the manifest and need review.", minimum=0, maximum=1))
    min_priority: int = field(default=1, metadata=doc("Lessons below this stay out of the manifest.",
                                                      minimum=1, maximum=10))
    compaction_reinjection_threshold: int = field(default=7, metadata=doc(
        "After a compaction, lessons with at least this priority may be injected again.",
        minimum=1, maximum=11))
    hook_deadline_ms: int = field(default=150, metadata=doc(
        "The hook gives up (and injects nothing) after this many milliseconds.", minimum=1))


@dataclass(frozen=True)
class ManifestLesson:
    slug: str = field(metadata=doc("For logs and dedup claim file names.", pattern=SLUG_PATTERN))
    priority: int = field(metadata=doc("1-10.", minimum=1, maximum=10))
    confidence: float = field(metadata=doc("0-1.", minimum=0, maximum=1))
    action: Action = field(metadata=doc("warn: inject context. block: deny with `remedy` as reason."))
    families: tuple[str, ...] = field(metadata=doc(
        "Sorted tool families (forewarn.model.tool_family) the lesson applies to.", minItems=1))
    tool_names: tuple[str, ...] = field(metadata=doc("The tool names the lesson was written for."))
    command_regex_sources: tuple[RegexSource, ...] = field(metadata=doc(
        "Tested against shell commands. At least one command or path regex is present."))
    path_regex_sources: tuple[RegexSource, ...] = field(metadata=doc("Tested against file paths."))
    tags: tuple[str, ...] = field(metadata=doc("Labels, for tag-based boosts."))
    injection: str = field(metadata=doc("The text to inject."))
    summary: str = field(metadata=doc("Fallback when the injection does not fit the budget."))
    remedy: str = field(metadata=doc("One line; the deny reason when action is block."))
    scope: Scope = field(metadata=doc("global, or project (then only under projectRoot)."))
    project_root: str | None = field(metadata=doc("Absolute root of the project for project lessons."))


@dataclass(frozen=True)
class Manifest:
    """What `$FOREWARN_HOME/manifest.json` holds: compiled, trusted, safety-checked lessons."""

    schema: str = field(default=MANIFEST_SCHEMA_URL, metadata=doc("JSON Schema of this file.", json="$schema"))
    type: Literal["forewarn-manifest"] = field(default="forewarn-manifest", metadata=doc("File kind."))
    version: Literal[1] = field(default=1, metadata=doc("Format version."))
    generated_at: str = field(default="", metadata=doc("When the manifest was built (ISO 8601 UTC)."))
    config: InjectionConfig = field(default_factory=InjectionConfig, metadata=doc(
        "Injection settings snapshotted at build time: the hook never reads config.json."))
    lessons: dict[str, ManifestLesson] = field(default_factory=dict, metadata=doc(
        "Lessons keyed by ULID.", key_pattern=ULID_PATTERN))


# --- helpers that build and maintain lessons ---------------------------------------------------


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def one_line(text: str, limit: int) -> str:
    """Whitespace collapsed to single spaces, clipped to `limit` characters with an ellipsis."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[: limit - 1].rsplit(" ", 1)[0] if " " in flat[: limit - 1] else flat[: limit - 1]
    return cut.rstrip(" ,;:.-") + "…"


def clip_bytes(text: str, limit: int) -> str:
    """Clip to `limit` UTF-8 bytes, on a word boundary when one is near, never mid-character."""
    data = text.encode()
    if len(data) <= limit:
        return text
    ellipsis = "…"
    head = data[: limit - len(ellipsis.encode())].decode(errors="ignore")
    space = max(head.rfind(" "), head.rfind("\n"))
    if space > len(head) * 2 // 3:
        head = head[:space]
    return head.rstrip() + ellipsis


def slug_base(summary: str, max_len: int = 48) -> str:
    words = re.findall(r"[a-z0-9]+", summary.lower())
    base = ""
    for word in words:
        candidate = f"{base}-{word}" if base else word
        if len(candidate) > max_len:
            break
        base = candidate
    return base or (words[0][:max_len] if words else "lesson")


def new_slug(summary: str, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """kebab-case summary + `-` + 4 random base36 characters, unique among `taken`."""
    alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
    base = slug_base(summary)
    while True:
        slug = f"{base}-{''.join(secrets.choice(alphabet) for _ in range(4))}"
        if slug not in taken:
            return slug


def triggers_json(triggers: Triggers) -> dict[str, list[str]]:
    return {
        "toolNames": list(triggers.tool_names),
        "commandPatterns": list(triggers.command_patterns),
        "pathPatterns": list(triggers.path_patterns),
        "contentPatterns": list(triggers.content_patterns),
    }


def content_hash(mistake: str, remediation: str, triggers: Triggers) -> str:
    canonical = json.dumps(
        {"mistake": mistake, "remediation": remediation, "triggers": triggers_json(triggers)},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    )
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def render_injection(summary: str, remediation: str) -> str:
    """The default injection: the summary, then the fix, as facts (the agents' docs advise facts
    over imperative 'system' wording), within INJECTION_MAX_BYTES."""
    text = f"Lesson: {one_line(summary, SUMMARY_MAX)}"
    fix = " ".join(remediation.split())
    if fix:
        text += f"\nFix: {fix}"
    return clip_bytes(text, INJECTION_MAX_BYTES)


def remedy_line(lesson: Lesson) -> str:
    return one_line(lesson.remediation or lesson.summary, REMEDY_MAX)


def normalize_tag(tag: str) -> str:
    """`Lang: Python` → `lang:python`; ValueError when it is not `category:value`."""
    cat, sep, value = tag.strip().partition(":")
    norm = f"{cat.strip().lower()}:{'-'.join(value.strip().lower().split())}"
    if not sep or not TAG_RE.match(norm):
        raise ValueError(f"bad tag {tag!r}: expected category:value, e.g. tool:pytest")
    return norm


def normalize_tags(tags: Any, *, strict: bool = True) -> tuple[str, ...]:
    """Normalised, de-duplicated, sorted tags; bad ones raise (strict) or are dropped."""
    out: set[str] = set()
    for tag in tags:
        try:
            out.add(normalize_tag(str(tag)))
        except ValueError:
            if strict:
                raise
    return tuple(sorted(out))


def finalize(lesson: Lesson) -> Lesson:
    """Fill derived fields: content hash always, injection and slug when empty."""
    changes: dict[str, Any] = {}
    digest = content_hash(lesson.mistake, lesson.remediation, lesson.triggers)
    if digest != lesson.content_hash:
        changes["content_hash"] = digest
    if not lesson.injection.strip():
        changes["injection"] = render_injection(lesson.summary, lesson.remediation)
    if not lesson.slug:
        changes["slug"] = new_slug(lesson.summary)
    return replace(lesson, **changes) if changes else lesson


def touch(lesson: Lesson, **changes: Any) -> Lesson:
    """A changed copy with `updated_at` set and derived fields refreshed. An injection that was
    the default rendering of the old text is re-rendered, a hand-written one is kept."""
    if "injection" not in changes and lesson.injection == render_injection(lesson.summary, lesson.remediation):
        changes["injection"] = ""
    changes.setdefault("updated_at", now_iso())
    return finalize(replace(lesson, **changes))


def make_lesson(
    summary: str,
    remediation: str = "",
    *,
    mistake: str = "",
    triggers: Triggers | None = None,
    priority: int = 5,
    confidence: float = 0.5,
    tags: Any = (),
    action: str = "warn",
    scope: str = "global",
    signature: str | None = None,
    provenance: Provenance | None = None,
    injection: str = "",
    needs_review: bool = False,
    status: str = "active",
    taken_slugs: set[str] | frozenset[str] = frozenset(),
    strict_tags: bool = True,
    created_at: str | None = None,
) -> Lesson:
    """A new lesson with a fresh id and slug and every derived field filled in.

    Raises ValueError for values outside the model (priority, confidence, action, scope, tags)."""
    if not summary.strip():
        raise ValueError("a lesson needs a summary")
    if not 1 <= int(priority) <= 10:
        raise ValueError(f"priority must be 1-10, not {priority}")
    if not 0.0 <= float(confidence) <= 1.0:
        raise ValueError(f"confidence must be between 0 and 1, not {confidence}")
    for name, value, allowed in (("action", action, ACTIONS), ("scope", scope, SCOPES),
                                 ("status", status, STATUSES)):
        if value not in allowed:
            raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    when = created_at or now_iso()
    short = one_line(summary, SUMMARY_MAX)
    lesson = Lesson(
        id=new_ulid(),
        slug=new_slug(short, taken_slugs),
        summary=short,
        mistake=mistake.strip(),
        remediation=remediation.strip(),
        injection=injection.strip(),
        triggers=triggers or Triggers(),
        priority=int(priority),
        confidence=round(float(confidence), 4),
        needs_review=needs_review,
        tags=normalize_tags(tags, strict=strict_tags),
        action=action,  # type: ignore[arg-type]
        status=status,  # type: ignore[arg-type]
        scope=scope,  # type: ignore[arg-type]
        signature=signature,
        provenance=provenance or Provenance(),
        created_at=when,
        updated_at=when,
    )
    return finalize(lesson)

"""A later call as pairing looks at it when it searches for a failure's fix.

Each failure of a session looks through the calls after it, so one call is looked at by many
failures. What they ask of it (what it did, whether its outcome is known, the steps of its
command line, whether its output still reports failures) is found once, on first use, and kept.

Invariant: a `Candidate` only remembers; each of its answers is a function of its call alone,
so asking it or working the answer out from the call gives the same result (the call must not
change while its session is being paired).
"""

from __future__ import annotations

import re

from forewarn.analyze import intent
from forewarn.analyze.intent import Step
from forewarn.analyze.signature import main_input, path_of
from forewarn.model import PENDING, ToolCall

_BACKGROUND = re.compile(r"^Command running in background", re.I)
# A run whose output still reports failures is not the clean run that fixed a build or test.
_FAIL_MARKS = re.compile(
    r"^\s*(?:FAIL|FAILED|ERROR|Error:|error(?:\[\w+\])?:|npm ERR!|Traceback \(most recent)|"
    r"\b[1-9]\d* (?:failed|failing|failures?|errors?)\b|\bFAILED\b|--- FAIL|[✖✗❌](?!\s*0\b)|\berror TS\d+", re.M)
_HEADER = re.compile(r"\A(?:Exit code:? -?\d+\s*\n)?(?:Wall time:[^\n]*\n)?(?:Output:\n)?")


class Candidate:
    """A call as a candidate fix: the facts every failure before it asks for, each found once."""

    __slots__ = ("_acting", "_fail_marks", "_found_nothing", "_path", "_steps", "call", "family", "known", "text")

    def __init__(self, call: ToolCall) -> None:
        self.call = call
        self.family = call.family
        self.text = main_input(call)
        # the outcome is known: not still running, not sent to the background
        self.known = call.status != PENDING and not unconfirmed(call)
        self._path: str | None = None
        self._steps: tuple[Step, ...] | None = None
        self._acting: tuple[Step, ...] | None = None
        self._fail_marks: bool | None = None
        self._found_nothing: bool | None = None

    @property
    def path(self) -> str:
        if self._path is None:
            self._path = path_of(self.call)
        return self._path

    @property
    def steps(self) -> tuple[Step, ...]:
        if self._steps is None:
            self._steps = intent.steps(self.text)
        return self._steps

    def steps_for(self, target: Step) -> tuple[Step, ...]:
        """The steps that could be the retried action of `target` (help lookups never are,
        unless the target was one)."""
        if target.is_help:
            return self.steps
        if self._acting is None:
            all_steps = self.steps
            self._acting = all_steps if not any(s.is_help for s in all_steps) \
                else tuple(s for s in all_steps if not s.is_help)
        return self._acting

    @property
    def fail_marks(self) -> bool:
        """The output still reports failures."""
        if self._fail_marks is None:
            self._fail_marks = bool(_FAIL_MARKS.search(self.call.output))
        return self._fail_marks

    @property
    def found_nothing(self) -> bool:
        """Nothing but the result header in the output (for a search: it found nothing)."""
        if self._found_nothing is None:
            self._found_nothing = not _HEADER.sub("", self.call.output).strip()
        return self._found_nothing


def unconfirmed(call: ToolCall) -> bool:
    """Sent to the background: whether it worked is not known from this result."""
    return bool(call.input.get("run_in_background")) or bool(_BACKGROUND.match(call.output))

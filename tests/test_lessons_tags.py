"""`#lesson … #/lesson` blocks: parsing, lesson candidates, robustness."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st

from forewarn.lessons.tags import TAG_CONFIDENCE, lessons_from_text, parse_lesson_blocks
from forewarn.lessons.triggers import trigger_matches_evidence

SEED_EXAMPLE = """I found the problem.

#lesson
tool: Bash
trigger: pytest -v tests/
mistake: pytest hangs in non-interactive environments due to TTY rich output detection
fix: Use `python -m pytest --no-header -rN -p no:faulthandler` or prepend TERM=dumb
tags: lang:python, tool:pytest, severity:hang
#/lesson

Continuing with the task.
"""


def test_the_seed_example_becomes_a_lesson() -> None:
    (block,) = parse_lesson_blocks(SEED_EXAMPLE)
    assert (block.tool, block.trigger) == ("Bash", "pytest -v tests/")
    assert block.fix.startswith("Use `python -m pytest")
    assert SEED_EXAMPLE[block.start:block.end].startswith("#lesson") and SEED_EXAMPLE[:block.end].endswith("#/lesson")
    (lesson,) = lessons_from_text(SEED_EXAMPLE, session_id="sess-1")
    assert lesson.confidence == TAG_CONFIDENCE and not lesson.needs_review and lesson.action == "warn"
    assert lesson.provenance.source == "lesson_tag" and lesson.provenance.source_session_ids == ("sess-1",)
    assert lesson.tags == ("lang:python", "severity:hang", "tool:pytest")
    assert lesson.triggers.tool_names == ("Bash",)
    assert lesson.summary.startswith("pytest hangs in non-interactive")
    assert lesson.remediation.startswith("Use `python -m pytest")
    # the trigger fires on the reported command and stays quiet once the fix is applied
    for fixed in ("TERM=dumb pytest -v tests/", "pytest --no-header -v tests/"):
        assert trigger_matches_evidence(lesson, "pytest -v tests/", fixed)
    assert trigger_matches_evidence(lesson, "cd app && pytest tests/unit -x", None)


def test_keys_are_lenient_unknown_keys_ignored_and_lines_continue() -> None:
    text = """#lesson
Tool: read_file
Trigger: src/utils/helpers.py
Problem: the helpers moved
  to src/lib in the refactor
priority: 10
  (ignored continuation of an unknown key)
Solution: read src/lib/helpers.py
#/lesson"""
    (block,) = parse_lesson_blocks(text)
    assert block.mistake == "the helpers moved to src/lib in the refactor"
    assert block.fix == "read src/lib/helpers.py" and block.tags == ""
    (lesson,) = lessons_from_text(text)
    assert lesson.triggers.tool_names == ("read_file",)
    assert lesson.triggers.path_patterns == ("src/utils/helpers.py",)
    assert trigger_matches_evidence(lesson, "/home/u/proj/src/utils/helpers.py", "/home/u/proj/src/lib/helpers.py")


def test_missing_keys_get_defaults_and_useless_blocks_are_dropped() -> None:
    text = """#lesson
trigger: npm test
fix: prepend CI=true so jest does not watch
#/lesson
#lesson
tool: Edit
mistake: edited a file without reading it first
#/lesson
#lesson
tags: tool:nothing
#/lesson
#lesson
tool: Bash
trigger: never closed
"""
    first, second = lessons_from_text(text)
    assert first.triggers.tool_names == ("Bash",)  # a command-looking trigger without a tool
    assert trigger_matches_evidence(first, "npm test", "CI=true npm test")
    assert first.summary.startswith("prepend CI=true") and first.mistake == ""
    assert second.triggers.path_patterns == () and second.needs_review  # nothing to match on: review it
    assert len(parse_lesson_blocks(text)) == 3


def test_markers_need_their_own_token() -> None:
    assert parse_lesson_blocks("#lessons learned\nfix: x\n#/lesson") == []
    assert parse_lesson_blocks("x#lesson\nfix: y\n#/lesson") == []
    assert len(parse_lesson_blocks("> #lesson\n> fix: quoted\n> #/lesson")) == 1


def test_many_unclosed_openers_parse_in_linear_time() -> None:
    text = "#lesson\nfix: x\n" * 20000
    start = time.perf_counter()
    assert parse_lesson_blocks(text) == []
    assert time.perf_counter() - start < 1.0


fragments = st.sampled_from(["#lesson\n", "#/lesson", "tool: ", "Bash", "trigger: ", "fix: ", "mistake: ",
                             "tags: ", "lang:python", "`", "\n", "  ", ":", "-", "pytest -v", "/a/b.py", "*",
                             "(", "[", "\\", "é", "\x00", "tool:Read\n", "TERM=dumb "])


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=300), st.lists(fragments, max_size=40).map("".join)))
def test_any_text_parses_without_raising(text: str) -> None:
    for lesson in lessons_from_text(text, session_id="s"):
        assert lesson.summary and lesson.action == "warn"
        assert lesson.confidence == TAG_CONFIDENCE

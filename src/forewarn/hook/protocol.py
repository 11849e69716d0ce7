"""The `#lesson` self-reporting protocol injected at session start (seed 003 §11, condensed).

The block format is a contract with the structured scanner that later greps transcripts for
`#lesson` … `#/lesson`: field names (`tool`, `trigger`, `mistake`, `fix`, `tags`) and delimiters must
not change without changing that parser. `PROTOCOL_VERSION` travels in the text so a transcript
shows which wording the agent saw.
"""

from __future__ import annotations

PROTOCOL_VERSION = 1

LESSON_PROTOCOL = f"""\
<!-- forewarn:protocol v{PROTOCOL_VERSION} -->
## Lesson reporting (forewarn)
When a tool call fails and you find what works instead, or the user corrects you, write a lesson \
block in your reply so the fix can be offered before the same mistake next time:

#lesson
tool: <tool name, e.g. Bash>
trigger: <the command or action that went wrong>
mistake: <what went wrong and why>
fix: <what worked instead>
tags: <comma-separated category:value tags, e.g. lang:python, tool:pytest>
#/lesson

Only for real mistake-then-fix sequences (a failed call you recovered from, a root cause found \
after debugging, a user correction); none is needed otherwise.
<!-- /forewarn:protocol -->"""

"""Removing secrets (and, where asked, personal paths) from text before it is stored or sent.

Redaction happens before anything becomes a failure row, a lesson or a teacher prompt. It errs
on the side of redacting: a lesson that says `[REDACTED]` is still useful; a leaked key is not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from forewarn import regexes
from forewarn.analyze import casefold

MASK = "[REDACTED]"

_PATTERNS: list[re.Pattern[str]] = [
    regexes.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"),
    regexes.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),  # AWS access key id
    regexes.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"),  # GitHub tokens
    regexes.compile(r"\bgithub_pat_[A-Za-z0-9_]{40,}\b"),
    regexes.compile(r"\bglpat-[A-Za-z0-9_-]{20,}\b"),  # GitLab
    regexes.compile(r"\bsk-(?:ant-|proj-|live-|test-)?[A-Za-z0-9_-]{20,}\b"),  # Anthropic / OpenAI / Stripe
    regexes.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b"),  # Slack
    regexes.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),  # Google API key
    regexes.compile(r"\bnpm_[A-Za-z0-9]{36}\b"),
    regexes.compile(r"\bpypi-[A-Za-z0-9_-]{50,}\b"),
    regexes.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\b"),  # JWT
]
# For each of _PATTERNS, substrings one of which every match contains: a rule whose substrings
# are all absent from the text cannot change it, and is not run.
_NEEDS: list[tuple[str, ...]] = [
    ("-----BEGIN ",), ("AKIA", "ASIA"), ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"), ("github_pat_",), ("glpat-",),
    ("sk-",), ("xox",), ("AIza",), ("npm_",), ("pypi-",), ("eyJ",),
]
# KEY=value, "token": "value", --password value, Authorization: Bearer value
_SECRET_NAME = (r"secret|token|passw(?:or)?d|passwd|api[_-]?key|apikey|access[_-]?key|private[_-]?key|"
                r"auth|credential|session[_-]?key")
_ASSIGNMENT = casefold.LazyPattern(
    r"(\b[\w-]*(?:" + _SECRET_NAME + r")[\w-]*\b[\"']?\s*(?:=|:|\s)\s*[\"']?)([^\s\"',;&|]{6,})", re.I
)
_BEARER_NAME = r"bearer|basic|token"
_BEARER = casefold.LazyPattern(r"\b(" + _BEARER_NAME + r")\s+([A-Za-z0-9._~+/=-]{12,})", re.I)
_ASSIGNMENT_LOW = casefold.lowered(_ASSIGNMENT)
_BEARER_LOW = casefold.lowered(_BEARER)
# Where matches of the two can start: both begin with `\b` and a run of letters, so the regex
# engine tries every position of the text; a search for the names alone skips ahead to the few
# places worth trying (see `_anchored`). Lowercase already.
_SECRET_NAME_LOW = regexes.compile(_SECRET_NAME)
_BEARER_NAME_LOW = regexes.compile(_BEARER_NAME)
# Words one of which _ASSIGNMENT and _BEARER need (tested on the folded text, see `redact`).
_ASSIGNMENT_WORDS = ("secret", "token", "passw", "key", "auth", "credential")
_BEARER_WORDS = ("bearer", "basic", "token")
_URL_CREDENTIALS = regexes.compile(r"(\b[a-z][a-z0-9+.-]*://)([^/\s:@]+):([^/\s@]+)@")
# Cheap substring hints, one of which every rule below needs (in lowercased text; the tests check
# them against every alternative of every rule): most text has no secret, and a lowercase + a few
# `in` tests cost far less than a dozen regex substitutions.
# (The ones most often found first: a text that has one is not searched for the rest.)
_HINTS = (
    "gh", "github_pat_", "://", "token", "auth", "passw", "secret", "private", "credential", "api_key", "api-key", "apikey",
    "access_key", "access-key", "accesskey", "session_key", "session-key", "sessionkey", "bearer", "basic",
    "akia", "asia", "glpat", "sk-", "xox", "aiza", "npm_", "pypi-", "eyj",
)
_HOME = regexes.compile(r"(?:/home/|/Users/|[A-Za-z]:\\Users\\)([^/\\\s\"']+)")


def redact(text: str) -> str:
    """`text` with secrets masked."""
    if not text:
        return text
    low = text.lower()
    for hint in _HINTS:  # (a loop rather than `any`: this runs for every text stored)
        if hint in low:
            break
    else:
        return text
    for pattern, needs in zip(_PATTERNS, _NEEDS, strict=True):
        for need in needs:
            if need in text:
                text = pattern.sub(MASK, text)
                break
    if "://" in text:
        text = _URL_CREDENTIALS.sub(lambda m: f"{m.group(1)}{m.group(2)}:{MASK}@", text)
    # The last two rules ignore case: their words are looked for, and their matches found, in
    # the folded text, which is exact (`casefold`); a text that does not fold is given to them
    # as it is.
    folded = casefold.folded(text)
    if folded is None or any(w in folded for w in _BEARER_WORDS):
        text = _replace(_BEARER, _BEARER_LOW, text, folded, _mask_token, _BEARER_NAME_LOW, in_word=False)
        folded = casefold.folded(text)
    if folded is None or any(w in folded for w in _ASSIGNMENT_WORDS):
        text = _replace(_ASSIGNMENT, _ASSIGNMENT_LOW, text, folded, _masked, _SECRET_NAME_LOW, in_word=True)
    return text


def _replace(pattern: casefold.Pattern, low_pattern: re.Pattern[str], text: str, folded: str | None,
             repl: Callable[[str, re.Match[str]], str], name: re.Pattern[str], *, in_word: bool) -> str:
    """`pattern.sub` for a case-insensitive `pattern`, `repl(text, match)` reading the match's
    groups from `text` by position. When the text folds, the matches are found by `low_pattern`
    (`lowered(pattern)`) in `folded`: the same matches at the same positions, several times
    faster (and faster again through `_anchored`)."""
    if folded is None:
        return pattern.sub(lambda m: repl(text, m), text)
    out: list[str] = []
    pos = 0
    for m in _anchored(low_pattern, name, folded, in_word=in_word):
        out += (text[pos:m.start()], repl(text, m))
        pos = m.end()
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


def _anchored(pattern: re.Pattern[str], name: re.Pattern[str], text: str, *, in_word: bool) -> Iterator[re.Match[str]]:
    """`pattern.finditer(text)` for a pattern each of whose matches has a match of `name` that
    starts where it does (`in_word` False), or later in the same run of `[\\w-]` characters,
    which it begins with (`in_word` True: `\\b[\\w-]*(?:name)…`).

    Each match is the leftmost from where the last one ended (`pos`), and matches are never
    empty. Take the first place `k` from `pos` on where `name` matches: no match of `pattern`
    starts between `pos` and the start of `k`'s run (its `name` would be before `k`), so trying
    `pattern` at each place of that run up to `k`, in order, finds the leftmost match if it
    starts there; if none does, the next one starts after `k`."""
    pos, end = 0, len(text)
    while pos < end:
        k = name.search(text, pos)
        if k is None:
            return
        at = k.start()
        start = at
        if in_word:
            while start > pos and (text[start - 1].isalnum() or text[start - 1] in "_-"):
                start -= 1  # (`\\w` is `str.isalnum` and `_`)
        for p in range(start, at + 1):
            m = pattern.match(text, p)
            if m is not None:
                yield m
                pos = m.end()
                break
        else:
            pos = at + 1


def _mask_token(text: str, m: re.Match[str]) -> str:
    return f"{text[m.start(1):m.end(1)]} {MASK}"


def _masked(text: str, m: re.Match[str]) -> str:
    value = text[m.start(2):m.end(2)]
    if value.startswith(("$", "<", "{", "[REDACTED")) or value.lower() in {"true", "false", "null", "none"}:
        return text[m.start():m.end()]  # a variable reference or a placeholder, not a secret
    return f"{text[m.start(1):m.end(1)]}{MASK}"


def _mask_value(m: re.Match[str]) -> str:
    return _masked(m.string, m)


def home_relative(text: str) -> str:
    """`/home/alice/x` or `/Users/alice/x` → `~/x`: for files shared with a team."""
    return _HOME.sub("~", text)


def has_home_path(text: str) -> bool:
    return bool(_HOME.search(text))

"""Case-insensitive regex searches done as case-sensitive ones on lowercased text, exactly.

`re.IGNORECASE` makes an alternation of words several times slower, and detection and
signatures run such searches on every failure's output. Lowercasing the text once and matching a
lowercased, case-sensitive copy of the pattern gives the same matches, at the same positions,
whenever `folded` returns a string:

- `str.lower()` then maps every character to exactly one character (only U+0130 grows), so
  positions in the lowered text are positions in the original;
- no character of the text is one that `re.IGNORECASE` equates with an ASCII letter although
  lowercasing does not turn it into that letter (U+0131, dotless i ~ i; U+017F, long s ~ s);
  U+212A (Kelvin sign) lowercases to `k`, as IGNORECASE would match it;
- `\\w`, `\\d`, `\\s` and `\\b` classify a character and its lowercase alike.

This holds for patterns whose literals are ASCII, as all patterns given to `lowered` must be.
For any other text `folded` returns None and the caller runs the original pattern.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from forewarn import regexes


class LazyPattern:
    """A case-insensitive pattern compiled on first use. Such a pattern is searched only in text
    that does not fold (see `folded`), which most processes never meet, while compiling it costs
    as much as its lowered copy: every scan worker would pay for it at start-up for nothing.
    `lowered` reads its source without compiling it."""

    __slots__ = ("_compiled", "flags", "pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self.pattern = pattern
        self.flags = flags
        self._compiled: re.Pattern[str] | None = None

    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(self.pattern, self.flags)
        return self._compiled

    def search(self, text: str, pos: int = 0, endpos: int = 2**63 - 1) -> re.Match[str] | None:
        return self.compiled().search(text, pos, endpos)

    def findall(self, text: str, pos: int = 0, endpos: int = 2**63 - 1) -> list[str]:
        return self.compiled().findall(text, pos, endpos)

    def finditer(self, text: str, pos: int = 0, endpos: int = 2**63 - 1) -> Iterator[re.Match[str]]:
        return self.compiled().finditer(text, pos, endpos)

    def sub(self, repl: str | Callable[[re.Match[str]], str], text: str) -> str:
        return self.compiled().sub(repl, text)


Pattern = re.Pattern[str] | LazyPattern


def lowered(pattern: Pattern) -> re.Pattern[str]:
    """A case-sensitive copy of a case-insensitive pattern, for lowercased text. Only literal
    text is lowercased: escapes such as \\S or \\B keep their meaning."""
    if not pattern.pattern.isascii() or _INLINE_FLAGS.match(pattern.pattern):
        raise ValueError("lowered() needs an ASCII pattern with its flags passed to re.compile")
    source = _ESCAPE_OR_TEXT.sub(lambda m: m.group(0) if m.group(0)[0] == "\\" else m.group(0).lower(),
                                 pattern.pattern)
    return regexes.compile(source, pattern.flags & ~re.IGNORECASE)


_INLINE_FLAGS = regexes.compile(r"\(\?[aiLmsux]+\)")
_ESCAPE_OR_TEXT = regexes.compile(r"\\.|[^\\]+")


def folded(text: str) -> str | None:
    """`text.lower()` when matching `lowered` patterns on it is exactly matching the originals on
    `text` (see the module docstring); None otherwise."""
    low = text.lower()
    if len(low) != len(text) or "\u0131" in text or "\u017f" in text:
        return None
    return low


def found(pattern: Pattern, low_pattern: re.Pattern[str], text: str, hints: tuple[str, ...] = ()) -> bool:
    """Whether `pattern.search(text)` matches, asked of `low_pattern` (= `lowered(pattern)`) when
    the text folds. `hints`, if given, are substrings one of which every match of `low_pattern`
    contains: a folded text with none of them is not searched."""
    low = folded(text)
    if low is None:
        return pattern.search(text) is not None
    if hints:
        for hint in hints:
            if hint in low:
                break
        else:
            return False
    return low_pattern.search(low) is not None


def span(pattern: Pattern, low_pattern: re.Pattern[str], text: str) -> tuple[int, int] | None:
    """Where `pattern.search(text)` matches in `text` (slice the original for its text), found
    through `low_pattern` when the text folds."""
    low = folded(text)
    m = pattern.search(text) if low is None else low_pattern.search(low)
    return None if m is None else m.span()

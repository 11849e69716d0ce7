"""Build-time safety for trigger regexes: the hook runs them on every tool call, so none may hang.

Python's `re` backtracks and cannot be interrupted, so a pattern like `(a+)+$` or `(x|x)*y` can
stall the hook for minutes on a long command. Every pattern that goes into the manifest passes:

1. compilation with Python `re` (with the flags the manifest records);
2. a structural check on the parsed pattern: inside an unbounded repeat, no variable-length repeat
   (`(a+)+`, `(.*)*`, `(a{1,5})*`) and no alternation whose branches can start with the same
   character or can both match empty (`(a|ab)*`, `(x|x)*`, which Python parses as `x(?:|)`).
   The one exemption is the delimited form `(?:[^/]*/)*`, where the class excludes the delimiter;
3. a timing check in a child process (a hung `re.search` cannot be stopped in-process, only
   killed): `re.search` over adversarial strings of 5,000 characters built from generic runs and
   the pattern's own literals; slower than the budget (50 ms, best of two) on any input, or no
   answer before the kill deadline, and the pattern is dropped.

Verdicts are cached per Python version in `$FOREWARN_HOME/cache/regex-safety.json`, so a manifest
rebuild only times patterns it has not seen. The structural check is conservative (it may reject
a pattern that is in fact fast); rejections are reported as warnings, never silently.
"""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
import sys
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):  # the parser is private under `re` since 3.11
    from re import _constants as _c
    from re import _parser as _sre_parse
else:  # pragma: no cover - Python 3.10
    import sre_constants as _c
    import sre_parse as _sre_parse

from forewarn.lessons.triggers import compile_source, flag_bits

BUDGET_MS = 50.0
KILL_AFTER_S = 3.0
ADVERSARIAL_LENGTH = 5000
_BIG = 10  # a repeat allowing more than this many iterations counts as unbounded
_SAMPLE = "".join(chr(i) for i in range(128)) + "éßüñ€中ıſ\u00a0\u2028"
_ALL = frozenset(_SAMPLE)
_REPEATS = {_c.MAX_REPEAT, _c.MIN_REPEAT}
_POSSESSIVE = getattr(_c, "POSSESSIVE_REPEAT", None)
_ATOMIC = getattr(_c, "ATOMIC_GROUP", None)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""


# --- structure --------------------------------------------------------------------------------


def _class_chars(items: Any) -> frozenset[str]:
    members: set[str] = set()
    negate = False
    for op, av in items:
        if op is _c.NEGATE:
            negate = True
        elif op is _c.LITERAL:
            members.add(chr(av))
        elif op is _c.RANGE:
            lo, hi = av
            members.update(ch for ch in _SAMPLE if lo <= ord(ch) <= hi)
        elif op is _c.CATEGORY:
            name = str(av)
            if "DIGIT" in name:
                hit = {ch for ch in _SAMPLE if ch.isdigit()}
            elif "SPACE" in name:
                hit = {ch for ch in _SAMPLE if ch.isspace()}
            elif "WORD" in name:
                hit = {ch for ch in _SAMPLE if ch.isalnum() or ch == "_"}
            else:
                members.update(_SAMPLE)
                continue
            members.update(_ALL - hit if "NOT" in name else hit)
        else:
            members.update(_SAMPLE)  # anything unusual: assume it matches everything
    return _ALL - members if negate else frozenset(members)


def _cased(chars: frozenset[str]) -> frozenset[str]:
    # conservative about IGNORECASE: treat every letter as matching both cases
    return chars | {ch.swapcase() for ch in chars if len(ch.swapcase()) == 1}


def _first(seq: Any) -> tuple[frozenset[str], bool]:
    """(characters a match of `seq` can start with, whether it can match empty)."""
    chars: frozenset[str] = frozenset()
    for op, av in seq:
        item, nullable = _first_item(op, av)
        chars |= item
        if not nullable:
            return _cased(chars), False
    return _cased(chars), True


def _first_item(op: Any, av: Any) -> tuple[frozenset[str], bool]:
    if op is _c.LITERAL:
        return frozenset(chr(av)), False
    if op is _c.NOT_LITERAL:
        return _ALL - {chr(av)}, False
    if op is _c.ANY:
        return _ALL, False
    if op is _c.IN:
        return _class_chars(av), False
    if op is _c.SUBPATTERN:
        return _first(av[-1])
    if op is _ATOMIC:
        return _first(av)
    if op is _c.BRANCH:
        chars: frozenset[str] = frozenset()
        nullable = False
        for alt in av[1]:
            c, n = _first(alt)
            chars |= c
            nullable = nullable or n
        return chars, nullable
    if op in _REPEATS or op is _POSSESSIVE:
        low, _high, body = av
        c, n = _first(body)
        return c, n or low == 0
    if op in (_c.AT, _c.ASSERT, _c.ASSERT_NOT):
        return frozenset(), True
    return _ALL, True  # group references and conditionals: assume the worst


def _children(op: Any, av: Any) -> list[Any]:
    if op is _c.SUBPATTERN:
        return [av[-1]]
    if op in _REPEATS or op is _POSSESSIVE:
        return [av[2]]
    if op is _c.BRANCH:
        return list(av[1])
    if op in (_c.ASSERT, _c.ASSERT_NOT):
        return [av[1]]
    if op is _ATOMIC:
        return [av]
    if op is _c.GROUPREF_EXISTS:
        return [b for b in av[1:] if b is not None]
    return []


def _walk(seq: Any) -> Iterable[tuple[Any, Any]]:
    for op, av in seq:
        yield op, av
        for child in _children(op, av):
            yield from _walk(child)


def _variable(low: int, high: int) -> bool:
    return high != low and (high == _c.MAXREPEAT or high > 1)


def _delimited(body: Any) -> bool:
    """`[^/]*/` (or `[^/]+/`): the repeat cannot eat the delimiter, so iterations cannot trade
    characters and the outer repeat stays linear."""
    items = list(body)
    while len(items) == 1 and items[0][0] is _c.SUBPATTERN:
        items = list(items[0][1][-1])
    if len(items) != 2 or items[1][0] is not _c.LITERAL:
        return False
    op, av = items[0]
    if op not in _REPEATS or len(av[2]) != 1:
        return False
    chars, _ = _first(av[2])
    return chr(items[1][1]) not in chars


def _branch_overlaps(alternatives: list[Any]) -> bool:
    firsts = [_first(alt) for alt in alternatives]
    if sum(1 for _, nullable in firsts if nullable) >= 2:
        return True
    for i, (chars, _) in enumerate(firsts):
        for other, _ in firsts[i + 1:]:
            if chars & other:
                return True
    return False


def structural_problem(source: str, flags: str = "") -> str | None:
    """Why the pattern risks catastrophic backtracking, or None."""
    try:
        parsed = _sre_parse.parse(source, flag_bits(flags))
    except Exception as err:  # the parser raises re.error, and worse on odd input
        return f"does not parse: {err}"
    for op, av in _walk(parsed):
        if op not in _REPEATS:
            continue
        low, high, body = av
        if not (high == _c.MAXREPEAT or high - low > _BIG):
            continue
        if _delimited(body):
            continue
        for inner_op, inner_av in _walk(body):
            if inner_op in _REPEATS and _variable(inner_av[0], inner_av[1]):
                return "nested quantifier (a repeat inside a repeat, like (a+)+)"
            if inner_op is _c.BRANCH and _branch_overlaps(inner_av[1]):
                return "ambiguous alternation inside a repeat (like (x|x)*)"
    return None


# --- timing -----------------------------------------------------------------------------------


def _literal_runs(source: str, flags: str) -> list[str]:
    """The pattern's literal strings (`pytest`, `--no-header`), longest first: the adversarial
    inputs repeat them so that a pattern gets as far as it can before failing."""
    runs: list[str] = []
    try:
        parsed = _sre_parse.parse(source, flag_bits(flags))
    except Exception:
        return runs

    def collect(seq: Any) -> None:
        current = ""
        for op, av in seq:
            if op is _c.LITERAL:
                current += chr(av)
                continue
            if current:
                runs.append(current)
                current = ""
            for child in _children(op, av):
                collect(child)
        if current:
            runs.append(current)

    collect(parsed)
    return sorted(set(runs), key=lambda r: (-len(r), r))[:6]


_CHILD = r"""
import json, re, sys, time
N = %(n)d
LIMIT = %(limit)f
def inputs(runs):
    out = [c * N for c in "a -/0x\t"] + ["a " * (N // 2), "ab" * (N // 2), "a/" * (N // 2)]
    chars = sorted(set("".join(runs)))[:10]
    out += [c * N for c in chars]
    if chars:
        cyc = "".join(chars)
        out.append((cyc * (N // len(cyc) + 1))[:N])
    for r in runs:
        out.append(((r + " ") * (N // (len(r) + 1) + 1))[:N])
        out.append((r * (N // len(r) + 1))[:N])
    return [s + "\x00" for s in out]
for line in sys.stdin:
    job = json.loads(line)
    rx = re.compile(job["source"], job["bits"])
    worst = 0.0
    for text in inputs(job["runs"]):
        best = None
        for _ in range(2):
            t = time.perf_counter()
            rx.search(text)
            dt = time.perf_counter() - t
            best = dt if best is None else min(best, dt)
            if best <= LIMIT:
                break
        worst = max(worst, best)
        if worst > LIMIT:
            break
    sys.stdout.write(json.dumps({"ms": worst * 1000.0}) + "\n")
    sys.stdout.flush()
"""


def _pump(stream: Any, lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)


def _time_patterns(jobs: list[tuple[str, str]], budget_ms: float, kill_after: float,
                   length: int) -> dict[tuple[str, str], Verdict]:
    """Time each (source, flags) in a child process; restart the child after a kill."""
    script = _CHILD % {"n": length, "limit": budget_ms / 1000.0}
    verdicts: dict[tuple[str, str], Verdict] = {}
    pending = list(jobs)
    while pending:
        proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", script], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert proc.stdin is not None and proc.stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_pump, args=(proc.stdout, lines), daemon=True).start()
        try:
            while pending:
                source, flags = pending[0]
                runs = _literal_runs(source, flags)
                job = {"source": source, "bits": flag_bits(flags), "runs": runs}
                proc.stdin.write(json.dumps(job) + "\n")
                proc.stdin.flush()
                try:
                    answer = json.loads(lines.get(timeout=kill_after))
                except queue.Empty:
                    verdicts[pending.pop(0)] = Verdict(
                        False, f"still running after {kill_after:g} s on a {length}-char input")
                    break
                ms = float(answer["ms"])
                verdicts[pending.pop(0)] = (
                    Verdict(True) if ms <= budget_ms
                    else Verdict(False, f"took {ms:.0f} ms on a {length}-char input (budget {budget_ms:g} ms)"))
        except (BrokenPipeError, ValueError, KeyError):
            # the child died: blame the pattern it was working on rather than loop forever
            if pending:
                verdicts[pending.pop(0)] = Verdict(False, "the timing process failed on it")
        finally:
            proc.kill()
            proc.wait()
    return verdicts


# --- the check, with its cache ----------------------------------------------------------------


def _cache_key(source: str, flags: str) -> str:
    return f"{flags}/{source}"


def _load_cache(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("python") != _python_tag():
        return {}
    results = data.get("results")
    return results if isinstance(results, dict) else {}


def _python_tag() -> str:
    return f"{sys.implementation.name}-{sys.version_info[0]}.{sys.version_info[1]}"


def _save_cache(path: Path, results: dict[str, Any]) -> None:
    from forewarn.lessons.jsonfile import write_json_atomic

    with contextlib.suppress(OSError):  # a cache that cannot be written only costs time
        write_json_atomic(path, {"type": "forewarn-regex-safety", "version": 1,
                                 "python": _python_tag(), "results": results})


def check_patterns(pairs: Iterable[tuple[str, str]], *, budget_ms: float = BUDGET_MS,
                   kill_after: float = KILL_AFTER_S, length: int = ADVERSARIAL_LENGTH,
                   cache_path: Path | None = None) -> dict[tuple[str, str], Verdict]:
    """A verdict for every (source, flags) pair: compiles, is structurally safe, and is fast."""
    unique = list(dict.fromkeys(pairs))
    cache = _load_cache(cache_path)
    verdicts: dict[tuple[str, str], Verdict] = {}
    to_time: list[tuple[str, str]] = []
    for source, flags in unique:
        try:
            compile_source(source, flags)
        except Exception as err:  # re.error, or KeyError for an unknown flag letter
            verdicts[(source, flags)] = Verdict(False, f"does not compile: {err}")
            continue
        problem = structural_problem(source, flags)
        if problem:
            verdicts[(source, flags)] = Verdict(False, problem)
            continue
        cached = cache.get(_cache_key(source, flags))
        if isinstance(cached, dict) and isinstance(cached.get("ok"), bool):
            verdicts[(source, flags)] = Verdict(cached["ok"], str(cached.get("reason", "")))
        else:
            to_time.append((source, flags))
    if to_time:
        timed = _time_patterns(to_time, budget_ms, kill_after, length)
        verdicts.update(timed)
        if cache_path is not None:
            for (source, flags), verdict in timed.items():
                # a slow-but-finished run may only mean a busy machine: time it again next build
                if verdict.ok or verdict.reason.startswith("still running"):
                    cache[_cache_key(source, flags)] = {"ok": verdict.ok, "reason": verdict.reason}
            _save_cache(cache_path, cache)
    return verdicts

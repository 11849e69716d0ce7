"""Build the hook's per-family index from `manifest.json` (see `forewarn.hook.index` for the layout).

Runs off the hot path: once after each manifest change, either called by whoever writes the manifest
(`build_index(home)`) or lazily by the first hook call that finds no index for the current manifest.
It may import anything in the standard library (`json`, `re`), but nothing outside it, since the
lazy build runs inside the hook process.

What it precomputes so the hook does not have to:
- lessons grouped per tool family and sorted by rank, after the config's confidence/priority floor;
- for each regex, a *required literal* prefilter taken from the parsed pattern (a plain substring
  test then rules out nearly every lesson without compiling its regex);
- for each regex, the compiled SRE code of this interpreter (`forewarn.regexes.code_record`), so
  the hook hands it to `_sre.compile` without importing `re` at all (falls back to `re.compile`
  when that is not possible).

Invariants:
- a prefilter never rejects a text the regex would match (it may accept texts the regex rejects);
  case-insensitive literals keep only their ASCII runs, lower-cased, and the hook folds the text
  the same way `re` does for those (`index.fold_case`: U+0130 and U+0131 to i, U+017F to s, U+212A to k);
- a pattern that does not compile is dropped with its lesson's other patterns kept; a lesson left
  with no usable pattern for a family is not indexed for it;
- the index directory appears atomically (written under a temporary name, then renamed), and older
  index directories are removed afterwards on a best-effort basis.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from typing import Any

from forewarn.hook.index import (
    DEFAULT_CONFIG,
    INDEX_DIR_NAME,
    MANIFEST_NAME,
    family_file_name,
    index_dir_for,
)
from forewarn.hook.targets import SHELL, TOOL_FAMILY
from forewarn.regexes import code_record

if sys.version_info >= (3, 11):
    from re import _constants as sre_constants
    from re import _parser as sre_parse
else:  # pragma: no cover - Python 3.10
    import sre_constants
    import sre_parse

# JavaScript-style flag letters as the manifest stores them; "g", "y", "d", "u" mean nothing here
_FLAG_BITS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE, "a": re.ASCII}
_STALE_TMP_SECONDS = 300.0


def regex_flags(flags: Any) -> int:
    bits = 0
    if isinstance(flags, str):
        for letter in flags:
            bits |= _FLAG_BITS.get(letter, 0)
    return int(bits)


def build_index(home: str | os.PathLike[str]) -> str | None:
    """(Re)build the index for the current manifest; return its directory, None without manifest.

    Safe to call concurrently: the first rename wins and the others discard their copy."""
    home = os.fspath(home)
    manifest_path = os.path.join(home, MANIFEST_NAME)
    try:
        st = os.stat(manifest_path)
        with open(manifest_path, "rb") as f:
            manifest = json.loads(f.read())
    except FileNotFoundError:
        return None
    final = index_dir_for(home, st)
    if os.path.isdir(final):
        return final
    tables = compile_manifest(manifest)
    root = os.path.join(home, INDEX_DIR_NAME)
    os.makedirs(root, exist_ok=True)
    tmp = os.path.join(root, f".tmp-{os.getpid()}-{time.monotonic_ns():x}")
    os.makedirs(os.path.join(tmp, "l"))
    try:
        _write(os.path.join(tmp, "config.json"), tables.config)
        for family, table in tables.families.items():
            _write_table(os.path.join(tmp, family_file_name(family)), {"config": tables.config, **table})
        for n, detail in enumerate(tables.details):
            _write_table(os.path.join(tmp, "l", f"{n}.bin"), detail)
        try:
            os.rename(tmp, final)
        except OSError:
            if not os.path.isdir(final):
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # a concurrent build won the race
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _remove_stale(root, keep=os.path.basename(final))
    return final


class CompiledManifest:
    """What `compile_manifest` produces: one table per family and one detail record per lesson."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.families: dict[str, dict[str, Any]] = {}
        self.details: list[dict[str, Any]] = []


def compile_manifest(manifest: Any) -> CompiledManifest:
    """Turn a manifest document into index tables. Malformed lessons are skipped, not fatal."""
    if not isinstance(manifest, dict):
        raise ValueError("manifest is not a JSON object")
    raw_config = manifest.get("config")
    if not isinstance(raw_config, dict):
        raw_config = {}
    config = dict(DEFAULT_CONFIG)
    for key, default in DEFAULT_CONFIG.items():
        value = raw_config.get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
            config[key] = type(default)(value)
    out = CompiledManifest(config)
    lessons = manifest.get("lessons")
    if not isinstance(lessons, dict):
        return out
    entries: dict[str, list[tuple[tuple[float, float, str], int, bool, str | None, list[Any]]]] = {}
    for lesson_id, lesson in lessons.items():
        if not isinstance(lesson, dict):
            continue
        compiled = _compile_lesson(str(lesson_id), lesson, config)
        if compiled is None:
            continue
        detail, families, cmd, path = compiled
        root = _project_root(lesson)
        if lesson.get("scope") == "project" and root is None:
            continue  # a project lesson that does not say which project: never fire
        n = len(out.details)
        out.details.append(detail)
        rank = (-detail["priority"], -detail["confidence"], detail["slug"])
        for family in families:
            # the shell family matches commands, every other family matches paths
            prefilters = cmd[0] if family == SHELL else path[0]
            if prefilters:
                entries.setdefault(family, []).append(
                    (rank, n, detail["action"] == "block", root, prefilters)
                )
    for family, family_entries in entries.items():
        out.families[family] = _family_table(sorted(family_entries, key=lambda e: e[0]))
    return out


def _family_table(entries: list[tuple[Any, int, bool, str | None, list[Any]]]) -> dict[str, Any]:
    table: dict[str, Any] = {
        "lessons": [],
        "block": [],
        "roots": [],
        "cs": {},
        "ci": {},
        "always": [],
    }
    for position, (_rank, n, block, root, prefilters) in enumerate(entries):
        table["lessons"].append(n)
        if block:
            table["block"].append(position)
        if root is not None:
            table["roots"].append([position, root])
        for prefilter in prefilters:
            if prefilter is None:
                table["always"].append(position)
                continue
            for literal, ignore_case in prefilter:
                positions = table["ci" if ignore_case else "cs"].setdefault(literal, [])
                if not positions or positions[-1] != position:
                    positions.append(position)
    table["always"] = sorted(set(table["always"]))
    return table


def _compile_lesson(
    lesson_id: str, lesson: dict[str, Any], config: dict[str, Any]
) -> (
    tuple[dict[str, Any], list[str], tuple[list[Any], list[Any]], tuple[list[Any], list[Any]]]
    | None
):
    slug = lesson.get("slug")
    if not isinstance(slug, str) or not slug:
        return None
    priority = _number(lesson.get("priority"), 0)
    confidence = _number(lesson.get("confidence"), 0.0)
    if priority < config["minPriority"] or confidence < config["minConfidence"]:
        return None
    families = [f for f in lesson.get("families") or [] if isinstance(f, str)]
    if not families:
        families = [
            TOOL_FAMILY.get(t, t.lower())
            for t in lesson.get("toolNames") or []
            if isinstance(t, str)
        ]
    cmd = _compile_patterns(lesson.get("commandRegexSources"))
    path = _compile_patterns(lesson.get("pathRegexSources"))
    if not families or not (cmd[0] or path[0]):
        return None
    detail = {
        "id": lesson_id,
        "slug": slug,
        "priority": priority,
        "confidence": confidence,
        "action": "block" if lesson.get("action") == "block" else "warn",
        "injection": _text(lesson.get("injection")),
        "summary": _text(lesson.get("summary")),
        "remedy": _text(lesson.get("remedy")),
        "cmd": cmd[1],
        "path": path[1],
    }
    return detail, sorted(set(families)), cmd, path


def _compile_patterns(sources: Any) -> tuple[list[Any], list[Any]]:
    """(prefilters, compiled) for the valid patterns among `sources`, in the same order."""
    prefilters: list[Any] = []
    compiled: list[Any] = []
    if not isinstance(sources, list):
        return prefilters, compiled
    for item in sources:
        if isinstance(item, str):
            source, flags = item, 0
        elif isinstance(item, dict) and isinstance(item.get("source"), str):
            source, flags = item["source"], regex_flags(item.get("flags"))
        else:
            continue
        try:
            parsed = sre_parse.parse(source, flags)
            record = code_record(source, flags, parsed)
            if record["code"] is None:
                re.compile(source, flags)  # precompiling failed: is the pattern usable at all?
        except (re.error, RecursionError, OverflowError, ValueError, TypeError):
            continue
        prefilters.append(required_literals(parsed, flags))
        compiled.append(record)
    return prefilters, compiled


def required_literals(parsed: Any, flags: int) -> list[list[Any]] | None:
    """The best any-of set of literals one of which every match must contain, or None."""
    ignore_case = bool((flags | parsed.state.flags) & re.IGNORECASE)
    return _best(_clauses(parsed.data, ignore_case))


def _clauses(seq: Any, ignore_case: bool) -> list[list[list[Any]]]:
    """Every clause (any-of literal list) that a match of the sequence `seq` must satisfy."""
    c = sre_constants
    clauses: list[list[list[Any]]] = []
    run: list[str] = []

    def flush() -> None:
        if run:
            clauses.extend(
                [[fragment, ignore_case]] for fragment in _fragments("".join(run), ignore_case)
            )
            run.clear()

    for op, av in seq:
        if op is c.LITERAL:
            run.append(chr(av))
            continue
        flush()
        if op is c.SUBPATTERN:
            _group, add_flags, del_flags, sub = av
            sub_case = (
                ignore_case or bool(add_flags & re.IGNORECASE)
            ) and not del_flags & re.IGNORECASE
            clauses.extend(_clauses(sub, sub_case))
        elif op in _REPEATS:
            low, _high, sub = av
            if low >= 1:
                clauses.extend(_clauses(sub, ignore_case))
        elif op is getattr(c, "ATOMIC_GROUP", None):
            clauses.extend(_clauses(av, ignore_case))
        elif op is c.ASSERT:
            _direction, sub = av
            clauses.extend(_clauses(sub, ignore_case))
        elif op is c.BRANCH:
            _, alternatives = av
            union: list[list[Any]] = []
            for alternative in alternatives:
                best = _best(_clauses(alternative, ignore_case))
                if best is None:
                    union = []
                    break
                union.extend(best)
            if union:
                clauses.append(union)
        # anything else (classes, anchors, backreferences, negative lookarounds) requires no literal
    flush()
    return clauses


_REPEATS = tuple(
    op
    for op in (
        getattr(sre_constants, name, None)
        for name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
    )
    if op is not None
)


def _fragments(literal: str, ignore_case: bool) -> list[str]:
    if not ignore_case:
        return [literal]
    fragments, current = [], []
    for ch in literal:
        if ch.isascii():  # a non-ASCII letter may have case partners str.lower() does not know
            current.append(ch.lower())
        elif current:
            fragments.append("".join(current))
            current = []
    if current:
        fragments.append("".join(current))
    return fragments


def _best(clauses: list[list[list[Any]]]) -> list[list[Any]] | None:
    """The clause whose shortest alternative is longest (the most selective substring test)."""
    best, best_key = None, (0, 0)
    for clause in clauses:
        key = (min(len(lit) for lit, _ in clause), -len(clause))
        if key > best_key:
            best, best_key = clause, key
    return best


def _project_root(lesson: dict[str, Any]) -> str | None:
    root = lesson.get("projectRoot")
    if lesson.get("scope") != "project" or not isinstance(root, str) or not root:
        return None
    return os.path.normcase(os.path.normpath(root))


def _number(value: Any, default: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return value


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _write(path: str, data: Any) -> None:
    with open(path, "w", encoding="ascii") as f:
        f.write(json.dumps(data, ensure_ascii=True, separators=(",", ":")))


def _write_table(path: str, data: Any) -> None:
    """What the hot path reads (`index.read_table`): marshal, for this interpreter."""
    import marshal

    with open(path, "wb") as f:
        f.write(marshal.dumps(_plain(data)))


def _plain(value: Any) -> Any:
    """JSON-shaped data with subclasses (`re.RegexFlag` is an int) made plain: marshal refuses them."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


def _remove_stale(root: str, keep: str) -> None:
    # only indexes of older manifests go: another interpreter's index of the current manifest
    # stays, or two Pythons sharing one home would keep rebuilding after each other
    current_manifest = "-".join(keep.split("-")[:3]) + "-"
    now = time.time()
    try:
        names = os.listdir(root)
    except OSError:
        return
    for name in names:
        if name == keep or name.startswith(current_manifest):
            continue
        path = os.path.join(root, name)
        if name.startswith(".tmp-"):
            try:
                if now - os.stat(path).st_mtime < _STALE_TMP_SECONDS:
                    continue  # another process may be writing it right now
            except OSError:
                continue
        shutil.rmtree(path, ignore_errors=True)


if __name__ == "__main__":  # pragma: no cover - manual rebuild: python -m forewarn.hook.indexer
    from forewarn.hook.index import forewarn_home

    print(build_index(sys.argv[1] if len(sys.argv) > 1 else forewarn_home()))

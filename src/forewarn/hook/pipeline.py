"""The hook's pipeline: stdin → lessons that match this tool call → one JSON answer on stdout.

The six stages of seed 003 §6, as they run here:
1. parse   — stdin JSON through the agent's adapter; a tool whose family has no lesson leaves at once
2. load    — the family's rows from the index (`forewarn.hook.index`), never the whole manifest
3. match   — a substring prefilter on every row, then the real regex only for the survivors;
             commands for the shell family, paths for the file families; project lessons only
             when cwd is under their root
4. dedup   — drop lessons this session already saw (`forewarn.hook.dedup`); rows come ranked
             (priority, confidence), the cap is applied while walking them
5. inject  — within the byte budget: the first lesson always gets in (its summary, clipped if need
             be), later ones fall back to their summary or are dropped; each is claimed atomically
6. format  — `<!-- forewarn:lesson SLUG -->` blocks and a trailing metadata comment

A matching `block` lesson turns the answer into a deny with the lesson's remedy as the reason (not
deduplicated: the call is stopped every time; the remedy, once applied, no longer matches).

Invariants ("never break the agent"):
- whatever happens (bad stdin, missing or corrupt manifest or index, unwritable temp dir, a bug),
  `main` prints one valid JSON document (`{}` when in doubt) and returns 0;
- a deadline (config `hookDeadlineMs`, default 150 ms; SIGALRM where it exists) stops parsing,
  loading and matching and answers `{}`; it is lifted before any claim is written, so a claim is
  never taken for a lesson that is then not delivered;
- only the standard library is imported, and on the common paths only modules that
  `python -I -S` has already loaded, plus `_json`, `_signal` and (when matching) `_sre`.
"""

from __future__ import annotations

import os
import sys
import time

from forewarn.hook import fastjson
from forewarn.hook.agents import (
    BLOCK_ONLY,
    BOTH,
    COMPACT,
    SESSION,
    SUBAGENT,
    TOOL,
    Answer,
    HookInput,
    get_adapter,
)
from forewarn.hook.index import DEFAULT_CONFIG, FamilyIndex, forewarn_home, load_config, load_family
from forewarn.hook.targets import SHELL, command_text, path_values, tool_family

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from forewarn.hook.dedup import SessionState

EMPTY = Answer()
MAX_STDIN = 64 * 1024 * 1024  # a larger payload is not a tool call we can help with


class DeadlineExceeded(BaseException):
    """Raised by the alarm. A BaseException so no `except Exception` on the way swallows it."""


# -- deadline ------------------------------------------------------------------------------------

_deadline = {"armed": False, "start": 0.0}


def _on_alarm(signum: int, frame: Any) -> None:
    raise DeadlineExceeded


def arm_deadline(milliseconds: float) -> bool:
    """Raise `DeadlineExceeded` in the main thread after `milliseconds`. False if unsupported."""
    try:
        import _signal  # type: ignore[import-not-found,unused-ignore]

        _signal.signal(_signal.SIGALRM, _on_alarm)
        _signal.setitimer(_signal.ITIMER_REAL, max(milliseconds, 1.0) / 1000.0)
    except (ImportError, AttributeError, ValueError, OSError):
        return False  # Windows (no SIGALRM) or not the main thread: the agent's timeout remains
    _deadline["armed"] = True
    return True


def disarm_deadline() -> None:
    if _deadline["armed"]:
        import _signal  # type: ignore[import-not-found,unused-ignore]

        _signal.setitimer(_signal.ITIMER_REAL, 0.0)
        _deadline["armed"] = False


# -- entry -----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None, stdin: Any = None, stdout_fd: int = 1) -> int:
    """Run one hook call: `argv` is `[event] [--agent NAME]`. Always returns 0."""
    _deadline["start"] = time.monotonic()
    out = "{}"
    agent, hook = "claude", None
    try:
        arm_deadline(DEFAULT_CONFIG["hookDeadlineMs"])
        event, agent = _parse_args(sys.argv[1:] if argv is None else argv)
        adapter = get_adapter(agent)
        raw = (stdin if stdin is not None else sys.stdin.buffer).read(MAX_STDIN + 1)
        if len(raw) > MAX_STDIN:
            raise ValueError("payload too large")
        payload = fastjson.loads(raw)
        if not isinstance(payload, dict):
            raise ValueError("payload is not a JSON object")
        hook = adapter.parse(event, payload)
        _delivered.clear()
        answer = dispatch(hook)
        disarm_deadline()
        out = fastjson.dumps(adapter.render(hook, answer))
    except BaseException as err:  # the agent must get an answer whatever went wrong
        try:
            disarm_deadline()
        except BaseException:
            pass
        _debug(err)
        out = "{}"
        _delivered.clear()
    _write_all(stdout_fd, (out + "\n").encode("ascii"))
    if _delivered and hook is not None:  # after the answer is out: logging never delays or breaks the agent
        try:
            _log_deliveries(agent, hook)
        except BaseException:
            pass
    return 0


# Lessons delivered by this call: (lesson id, slug, "warn" | "block"), logged after answering.
_delivered: list[tuple[str, str, str]] = []
INJECTION_LOG = "injections.jsonl"


def _log_deliveries(agent: str, hook: HookInput) -> None:
    """Append one JSON line per delivered lesson to `$FOREWARN_HOME/injections.jsonl`, the record
    `forewarn stats --lessons` measures lesson effectiveness from. One O_APPEND write: lines
    from parallel hook processes never interleave."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    lines = "".join(
        fastjson.dumps({"ts": stamp, "session_id": hook.session_id, "agent": agent, "lesson_id": lesson_id,
                        "slug": slug, "tool_name": hook.tool_name, "action": action, "cwd": hook.cwd}) + "\n"
        for lesson_id, slug, action in _delivered
    )
    fd = os.open(os.path.join(forewarn_home(), INJECTION_LOG), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, lines.encode("utf-8"))
    finally:
        os.close(fd)


def _parse_args(argv: list[str]) -> tuple[str, str]:
    event, agent = "", "claude"
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--agent" and i + 1 < len(argv):
            agent = argv[i + 1]
            i += 2
            continue
        if arg.startswith("--agent="):
            agent = arg.split("=", 1)[1]
        elif not arg.startswith("-") and not event:
            event = arg
        i += 1
    return event, agent


def dispatch(hook: HookInput) -> Answer:
    if hook.kind == TOOL:
        return pre_tool(hook)
    if hook.kind == SESSION:
        return session_start(hook)
    if hook.kind == SUBAGENT:
        return Answer(context=_protocol())
    if hook.kind == COMPACT:
        _release_high_priority(hook.session_id)
        return EMPTY
    return EMPTY


# -- tool calls --------------------------------------------------------------------------------------


def pre_tool(hook: HookInput, home: str | None = None) -> Answer:
    # stage 1: what this call offers to match against
    family = tool_family(hook.tool_name)
    if family == SHELL:
        command = command_text(hook.tool_input)
        targets = [command] if command else []
    else:
        targets = path_values(hook.tool_input, hook.cwd)
    if not targets:
        return EMPTY

    # stage 2: the family's prefilter tables
    was_armed = _deadline["armed"]
    rebuilt: list[bool] = []
    index = load_family(
        home or forewarn_home(), family, before_build=lambda: _before_build(rebuilt)
    )
    if index is None or not index.lessons:
        return EMPTY
    if rebuilt:  # the index was just (re)built: matching gets a full budget of its own
        _deadline["start"] = time.monotonic()
    started = _deadline["start"] or time.monotonic()  # 0.0: called as a library, not through main
    remaining = index.setting("hookDeadlineMs") - (time.monotonic() - started) * 1000.0
    if remaining <= 0:
        raise DeadlineExceeded
    if was_armed:
        arm_deadline(remaining)

    # stage 3: substring prefilter, then scope and mode; candidates stay in rank order
    candidates = _candidates(index, targets, hook)
    if not candidates:
        return EMPTY

    # stage 4: skip what this session already saw, then run the real regexes
    from forewarn.hook.dedup import SessionState, claim_key  # only calls with candidates pay for it

    blocked = set(index.block)
    state = None
    seen: set[str] = set()
    if any(pos not in blocked for pos in candidates):
        state = SessionState.open(hook.session_id)
        if state is not None:
            seen = state.seen()
    cap = index.setting("maxLessonsPerInjection")
    blocks: list[dict[str, Any]] = []
    warns: list[dict[str, Any]] = []
    for pos in candidates:
        is_block = pos in blocked
        if not is_block and (state is None or len(warns) >= cap):
            continue
        detail = index.lesson(pos)
        if not is_block and claim_key(detail["slug"]) in seen:
            continue
        patterns = detail.get("cmd") if family == SHELL else detail.get("path")
        if _regex_matches(patterns, targets):
            (blocks if is_block else warns).append(detail)
    disarm_deadline()

    if blocks:
        _delivered.extend((str(d.get("id", "")), d["slug"], "block") for d in blocks)
        return Answer(deny_reason=_deny_reason(blocks))
    if not warns or state is None:
        return EMPTY
    # stages 5 and 6
    return _inject(index, state, warns, hook.tool_name)


def _before_build(rebuilt: list[bool]) -> None:
    disarm_deadline()  # a build takes as long as it takes, once per manifest; the deadline is for matching
    rebuilt.append(True)


def _candidates(index: FamilyIndex, targets: list[str], hook: HookInput) -> list[int]:
    positions = index.candidates(targets)
    if not positions:
        return positions
    if hook.mode != BOTH:
        blocked = set(index.block)
        want_block = hook.mode == BLOCK_ONLY
        positions = [pos for pos in positions if (pos in blocked) == want_block]
    if index.roots:
        cwd = os.path.normcase(os.path.normpath(hook.cwd)) if hook.cwd else ""
        kept = []
        for pos in positions:
            root = index.roots.get(pos)
            if root is None or cwd == root or cwd.startswith(root.rstrip("/\\") + os.sep):
                kept.append(pos)
        positions = kept
    return positions


def _regex_matches(patterns: Any, targets: list[str]) -> bool:
    for record in patterns or ():
        try:
            pattern = compile_pattern(record)
        except Exception:
            continue  # an unusable pattern matches nothing
        for text in targets:
            if pattern.search(text) is not None:
                return True
    return False


def compile_pattern(record: dict[str, Any]) -> Any:
    """A compiled regex from an index record, via the precompiled SRE code when it is present."""
    from forewarn.regexes import from_record

    pattern = from_record(record)
    if pattern is not None:
        return pattern  # else another interpreter's code or a damaged record: compile from source
    import re

    return re.compile(record["source"], record.get("flags", 0))


def _deny_reason(blocks: list[dict[str, Any]]) -> str:
    lines = []
    for detail in blocks[:3]:
        what = detail.get("summary") or detail.get("injection") or "this call failed before"
        instead = detail.get("remedy") or ""
        line = f"forewarn lesson {detail['slug']}: {what}"
        if instead:
            line += f"\nWhat works instead: {instead}"
        lines.append(line)
    return "\n\n".join(lines)


def _inject(
    index: FamilyIndex, state: SessionState, warns: list[dict[str, Any]], tool: str
) -> Answer:
    from forewarn.hook.dedup import claim_key

    budget = index.setting("injectionBudgetBytes")
    used = 0
    blocks: list[str] = []
    injected: list[str] = []
    summarized: list[str] = []
    dropped: list[str] = []
    keys: list[str] = []
    for detail in warns:
        slug = detail["slug"]
        text = detail.get("injection") or detail.get("summary") or ""
        if not text:
            continue
        size = len(text.encode("utf-8"))
        if used + size > budget:
            summary = detail.get("summary") or ""
            summary_size = len(summary.encode("utf-8"))
            if summary and summary != text and used + summary_size <= budget:
                text, size = summary, summary_size
            elif not injected:  # the first lesson always gets in, cut to the budget if need be
                text = _clip_utf8(summary or text, budget)
                size = len(text.encode("utf-8"))
            else:
                dropped.append(slug)
                continue
            summarized.append(slug)
        key = claim_key(slug)
        if not state.claim(key, int(detail.get("priority") or 0)):
            if slug in summarized:
                summarized.remove(slug)
            continue  # a parallel call (another subagent) delivers it
        keys.append(key)
        injected.append(slug)
        _delivered.append((str(detail.get("id", "")), slug, "warn"))
        used += size
        blocks.append(f"<!-- forewarn:lesson {slug} -->\n{text.strip()}\n<!-- /forewarn:lesson -->")
    state.mark_seen(keys)
    if not injected:
        return EMPTY
    noun = "lesson" if len(injected) == 1 else "lessons"
    verb = "applies" if len(injected) == 1 else "apply"
    header = f"forewarn: {len(injected)} {noun} from earlier sessions {verb} to this {tool or 'tool'} call."
    meta = fastjson.dumps(
        {"v": 1, "injected": injected, "summarized": summarized, "dropped": dropped}
    )
    return Answer(context="\n\n".join([header, *blocks, f"<!-- forewarn:meta {meta} -->"]))


def _clip_utf8(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[: max(limit - 3, 0)].decode("utf-8", "ignore") + "\u2026"


# -- session events ----------------------------------------------------------------------------


def session_start(hook: HookInput) -> Answer:
    """startup: protocol. compact: release high-priority claims, protocol again. clear: forget
    everything, protocol again (the context is gone). resume and anything else: nothing."""
    source = hook.source or "startup"
    if source == "startup":
        return Answer(context=_protocol())
    if source == "compact":
        _release_high_priority(hook.session_id)
        return Answer(context=_protocol())
    if source == "clear":
        state = _existing_state(hook.session_id)
        if state is not None:
            state.wipe()
        return Answer(context=_protocol())
    return EMPTY


def _protocol() -> str:
    from forewarn.hook.protocol import LESSON_PROTOCOL  # only session events need the text

    return LESSON_PROTOCOL


def _release_high_priority(session_id: str) -> None:
    state = _existing_state(session_id)
    if state is not None:
        threshold = int(load_config(forewarn_home())["compactionReinjectionThreshold"])
        state.release_for_compaction(threshold)


def _existing_state(session_id: str) -> SessionState | None:
    if not session_id:
        return None
    from forewarn.hook.dedup import SessionState, session_dir

    path = session_dir(session_id)
    return SessionState(path) if os.path.isdir(path) else None


# -- output ----------------------------------------------------------------------------------------


def _write_all(fd: int, data: bytes) -> None:
    try:
        while data:
            written = os.write(fd, data)
            data = data[written:]
    except OSError:
        pass  # the agent closed the pipe: nobody is listening any more


def _debug(err: BaseException) -> None:
    if os.environ.get("FOREWARN_HOOK_DEBUG"):
        import traceback

        traceback.print_exception(type(err), err, err.__traceback__, file=sys.stderr)

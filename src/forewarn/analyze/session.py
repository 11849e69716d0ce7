"""One session's calls → its failures, each paired with its fix, signed and redacted."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from forewarn.analyze.findings import Failure
from forewarn.analyze.pairing import Pairer
from forewarn.analyze.redact import redact
from forewarn.analyze.signature import environment_signature, signature
from forewarn.model import ToolCall, Turn, clip

_ERROR_HEAD = 700
_ERROR_TAIL = 300

# The same texts come back across a session's failures (a command retried, its error repeated,
# one fix for several failures, one signature for many), and redaction reads every character of
# each: so it is done once per text. (Commands and errors are clipped to about a kilobyte here.)
_redacted = lru_cache(maxsize=4096)(redact)


def analyze_session(
    *,
    file: str,
    agent: str,
    session_id: str | None,
    project: str | None,
    calls: Sequence[ToolCall],
    failed: Sequence[bool],
    kinds: Sequence[str],
    turns: Sequence[Turn] = (),
) -> list[Failure]:
    """Failures of one session file in call order. `calls` must be sorted by `seq`."""
    out: list[Failure] = []
    if not any(failed):
        return out
    pairer = Pairer(calls, failed, kinds, turns)
    for i, call in enumerate(calls):
        if not failed[i]:
            continue
        kind = kinds[i]
        p = pairer.pair(i)
        fix, text, fix_text = p.fix, pairer.text(i), p.fix_text
        sig = signature(call, kind, project, text)
        if fix is not None and fix_text is not None and p.reason in ("runner", "interpreter"):
            # the lesson is the substitution (python3 → uv run), whatever was being run
            sig = environment_signature(text, fix_text) or sig
        out.append(Failure(
            file=file,
            session_id=session_id,
            project=project,
            agent=agent,
            call_id=call.call_id,
            tool=call.tool,
            family=call.family,
            kind=kind,
            signature=_redacted(sig),
            seq=call.seq,
            timestamp=call.timestamp,
            input_text=_redacted(clip(text, 600, 200)),
            error=_redacted(clip(call.output, _ERROR_HEAD, _ERROR_TAIL)),
            exit_code=call.exit_code,
            fix_call_id=fix.call_id if fix else None,
            fix_input_text=_redacted(clip(fix_text, 600, 200)) if fix_text is not None else None,
            fix_reason=p.reason,
            user_corrected=p.user_text is not None,
            user_text=_redacted(p.user_text) if p.user_text else None,
            wasted_bytes=p.wasted_bytes,
            repeats=p.repeats,
        ))
    return out

"""Deciding which tool calls really failed, and how.

The agent's own flags come first (is_error, exit codes, rejections, interrupts), then two
corrections in opposite directions:
- a non-zero exit that is a probe's answer (`grep` with no match, `test -f`, `which x || …`,
  `ls *.pid`) is not a failure;
- a "successful" shell result whose exit status was hidden (`cmd | tail`, `cmd || echo`, no exit
  code at all) is a failure when its own output says so plainly: an `Error:`/`fatal:` line, a
  password prompt that could not be answered, `command not found`, a usage error — but never when
  the command only views content (cat, tail, grep, logs), where such words are data.

The verdict is a `Verdict(failed, kind)`; kinds are those of `forewarn.analyze.findings.KINDS`.

Every call of every scan is judged here, so the rules are searched cheaply but exactly: as lowered
copies on lowercased text (see `casefold`), and only when one of their hints, substrings that
every match contains, is in the text. tests/test_scan_shortcuts.py checks the hints against the
rules' alternatives; tests/test_analysis_shortcuts.py keeps the plain detection and checks that
the verdicts agree.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from forewarn import regexes
from forewarn.analyze import casefold, shell
from forewarn.analyze.casefold import LazyPattern, lowered
from forewarn.model import ERROR, INTERRUPTED, OK, PENDING, REJECTED, ToolCall


class Verdict(NamedTuple):
    failed: bool
    kind: str


NOT_FAILED = Verdict(False, "benign")

_I = re.IGNORECASE
_M = re.MULTILINE
# A bad invocation is told in the first lines of the output: "unknown flag", "accepts 1 arg(s)",
# "Couldn't find a script named". Cobra-style CLIs print `Usage:` after *any* error, so a usage text
# alone says nothing unless the output starts with it.
_USAGE_LEAD = 400
_USAGE_ERROR = LazyPattern(
    r"unknown (?:command|flag|option|subcommand|shorthand flag|argument)|unrecognized (?:option|argument|arguments|subcommand)|"
    r"invalid (?:option|choice|value for)|unexpected argument|"
    r"requires (?:at least|at most|exactly) \d+ arg|accepts (?:at most |between )?\d+ arg|"
    r"missing required (?:argument|flag|option)|the following arguments are required|"
    r"no such (?:option|subcommand)|illegal option|not a git command|is not a \w+ command|"
    r"Couldn't find a script named|Missing script:|Unknown command: ['\"]?[\w-]+['\"]?$|"
    r"Try '[^']+ --help'|Run '[^']+ --help' for usage", _I | _M)
_USAGE_HINTS = ("unknown ", "unrecognized ", "invalid ", " arg", "missing required", "no such option",
                "no such subcommand", "illegal option", "not a ", "couldn't find a script", "missing script:",
                " --help'")
_USAGE_FIRST = regexes.compile(r"\A\s*(?:Exit code -?\d+\s*)?(?:usage|Usage|USAGE):")
# Kind rules are matched against the start of the output and its error lines only: a long log or a
# health report mentions "not installed" or "sandbox" in passing, and that says nothing.
_FOCUS_HEAD = 800
_FOCUS_SCAN = 4000
# An error line is a line with one of these words. `_error_lines` searches for the words and widens
# each one found to its line: `^.*(?:…).*$` would try every word at every character of every line.
# (No word spans lines, and none can match an empty string.)
_ERROR_WORD = LazyPattern(
    r"\berror\b|\bfatal\b|\bfailed\b|denied|not found|no such|cannot|can't|unable to|invalid|unknown|"
    r"unrecognized|refused|timed out|not permitted|forbidden|Traceback|Exception|not installed|"
    r"does not exist", _I)
_ERROR_WORD_LOW = lowered(_ERROR_WORD)
# The same words without their `\b` (the only backslash escape in them): it matches wherever the
# words match, and more, and is several times faster to search, since `re` can then skip the
# characters no word starts with.
_ERROR_WORD_LOOSE = LazyPattern(_ERROR_WORD.pattern.replace(r"\b", ""), _I)
_ERROR_WORD_LOOSE_LOW = lowered(_ERROR_WORD_LOOSE)
_FOCUS_LINES = 20
# Kind classification from error text: first match wins, most specific first. Each rule comes
# with lowercase substrings one of which every match of its lowered copy contains: when none is in
# the text the rule cannot match and its search is skipped (a dozen substring tests cost a fraction
# of one search through a long alternation; tests/test_scan_shortcuts.py checks every alternative
# against its hints, so a new alternative needs a hint).
_KIND_RULES: list[tuple[str, LazyPattern, tuple[str, ...]]] = [
    # sudo / git asking for credentials they cannot get: an authorisation failure even when the
    # prompt "timed out" (fingerprint readers)
    ("permission_denied", LazyPattern(
        r"^sudo: (?:a terminal is required|a password is required|\d+ incorrect password)|"
        r"could not read (?:Username|Password)", _I | _M),
     ("sudo: ", "could not read ")),
    ("timeout_or_hang", LazyPattern(r"timed out|timeout expired|Command timed out|deadline exceeded|hung\b", _I),
     ("timed out", "timeout expired", "deadline exceeded", "hung")),
    ("too_large", LazyPattern(r"exceeds maximum allowed tokens|too large|Output too large|maximum (?:file )?size|token limit", _I),
     ("maximum", "too large", "token limit")),
    ("edit_mismatch", LazyPattern(
        r"String to replace not found|old_string|File has not been read yet|has been modified since|"
        r"modified since read|unexpectedly modified|Found \d+ matches of the string|must read .* before|"
        r"apply_patch verification failed|Failed to find expected lines|hunk|patch does not apply|"
        r"Invalid Context|did not match", _I),
     ("string to replace", "old_string", "matches of the string", "not been read", "modified", "must read",
      "patch", "failed to find expected", "hunk", "invalid context", "did not match")),
    ("tool_validation", LazyPattern(
        r"InputValidationError|Invalid tool parameters|unknown tool|No such tool|is a directory|EISDIR|"
        r"Required parameter|invalid_type|Unexpected parameter|must be (?:an? )?(?:absolute|string|number)|"
        r"not a valid|was not found in the (?:tool|schema)|Invalid input|not found in (?:the )?(?:tool )?registry", _I),
     ("inputvalidationerror", "invalid_type", "invalid input", "unknown tool", "no such tool",
      "is a directory", "eisdir", " parameter", "must be ", "not a valid", "not found in")),
    ("command_not_found", LazyPattern(
        # a name must be there: "line 37: : command not found" is a script expanding an empty variable
        r"[\w.+-]: command not found|command not found: \S|^(?:\S+: )?(?:line \d+: |\d+: )?[\w.-]+: not found$|"
        r"is not recognized as (?:an internal|the name)|No such command|"
        r"executable file not found|^\S*which: no \S+ in \(|Unknown command: ['\"]?[\w-]+['\"]? \(did you|"
        r"exit code 127|\b127\b.*not found", _I | _M),
     ("not found", "not recognized as", "no such command", "which: no ", "unknown command: ", "exit code 127")),
    ("env_runtime", LazyPattern(
        r"ModuleNotFoundError|No module named|ImportError|cannot find module|Cannot find package|"
        r"externally-managed-environment|No virtual environment|requires Python|"
        r"command 'python' not found|node: bad option|Unsupported engine|"
        r"GLIBC_\d|wrong ELF class|version `[^`]+' not found|is not installed in|Did you mean to use|"
        r"Could not find a version|could not determine executable|No interpreter|Failed to spawn: `", _I),
     ("modulenotfound", "no module named", "find module", "importerror", "find package", "externally-managed",
      "virtual environment", "requires python", "'python' not found", "bad option", "unsupported engine",
      "glibc_", "elf class", "version `", "find a version", "not installed in", "did you mean to use",
      "determine executable", "no interpreter", "failed to spawn")),
    ("permission_denied", LazyPattern(
        r"Permission denied|EACCES|EPERM|Operation not permitted|Access is denied|access denied|"
        r"a terminal is required|a password is required|could not read Username|"
        r"Authentication failed|Host key verification failed|not permitted|requires root|"
        r"must be run as root|unauthori[sz]ed|forbidden|403\b|denied by|is not allowed|"
        r"sandbox(?:ed)? (?:denied|blocked|error|violation|restriction)|(?:denied|blocked|rejected) by (?:the )?sandbox|"
        r"dubious ownership|safe\.directory", _I),
     ("denied", "eacces", "eperm", "not permitted", " is required", "could not read username",
      "authentication failed", "host key verification", " root", "unauthori", "forbidden", "403",
      "is not allowed", "sandbox", "dubious ownership", "safe.directory")),
    ("network", LazyPattern(
        r"Could not resolve host|Name or service not known|Connection refused|ECONNREFUSED|"
        r"Network is unreachable|getaddrinfo|ENOTFOUND|ETIMEDOUT|Temporary failure in name resolution|"
        r"SSL|certificate verify failed|Failed to connect|connection reset", _I),
     ("could not resolve host", "service not known", "connection re", "econnrefused", "network is unreachable",
      "getaddrinfo", "enotfound", "etimedout", "failure in name resolution", "ssl", "certificate verify failed",
      "failed to connect")),
    ("path_not_found", LazyPattern(
        r"No such file or directory|does not exist|cannot access|not found: /|ENOENT|"
        r"File not found|Path not found|no such file|cannot find the path|Could not find file|"
        r"could not open|can't open file|not a directory|No files found|pathspec .* did not match", _I),
     ("no such file", "does not exist", "cannot access", "not found", "enoent", "cannot find the path",
      "could not find file", "could not open", "can't open file", "not a directory", "no files found", "pathspec")),
    ("wrong_cli_usage", _USAGE_ERROR, _USAGE_HINTS),
]
# The same rules matched against lowercased text (see `casefold`): case-insensitive alternations are
# several times slower in `re`, and classify runs on every failure.
_Check = tuple[str, re.Pattern[str], tuple[str, ...]]  # (kind, lowered pattern, hints)
_KIND_CHECKS: list[_Check] = [(kind, lowered(pattern), hints) for kind, pattern, hints in _KIND_RULES]
_USAGE_ERROR_LOW = lowered(_USAGE_ERROR)
_BUILD_TEST = regexes.compile(
    r"^(?:pytest|py\.test|tox|nox|unittest|jest|vitest|mocha|ava|karma|playwright|cypress|go test|go build|go vet|"
    r"cargo (?:test|build|check|clippy|run)|make|cmake|ninja|gradle|gradlew|mvn|tsc|eslint|ruff|flake8|mypy|"
    r"pyright|pylint|black|prettier|rubocop|rspec|rake|phpunit|dotnet (?:test|build)|swift (?:test|build)|"
    r"npm (?:test|run \S+)|yarn (?:test|run \S+|build\S*|test\S*|lint\S*)|pnpm (?:test|run \S+)|bun (?:test|run \S+)|"
    r"\S+ doctor|\S+ check|\S+ lint|\S+ test|\S+ build)"
)

# A hidden failure shows itself in a short output through lines like these (MULTILINE).
_HIDDEN_FAILURE_LINE = (
    r"^(?:Error|ERROR|error|Fatal|FATAL|fatal)(?: [\w-]+){0,3}:\s|"
    r"^[\w.-]+: (?:error|fatal|FATAL|ERROR)(?:\[\w+\])?:\s|"
    r"^sudo: (?:a terminal is required|a password is required|\d+ incorrect password)|"
    r"^(?:\S+: )?(?:line \d+: )?[\w.-]*: command not found$|"
    r"^make(?:\[\d+\])?: \*\*\* .*Error \d+|"
    r"^Traceback \(most recent call last\):|"
    r"^Error: unknown (?:command|flag)|"
    r"^\S+: (?:unrecognized|invalid|illegal) option"
)
# Every alternative starts at the start of a line, so the lines are searched in "\n" + output, after
# a newline: `re` tries a pattern that starts with `^` at every character, one that starts with a
# newline only at newlines.
_HIDDEN_FAILURE = regexes.compile("\n(?:" + _HIDDEN_FAILURE_LINE + ")", _M)
# Every alternative of _HIDDEN_FAILURE contains one of these: most outputs are passed on after a
# few substring tests, without the (slower) search.
_HIDDEN_FAILURE_HINTS = ("rror", "RROR", "atal", "ATAL", "sudo: ", "command not found", "Traceback", " option")
# (without MULTILINE, `^` is the start of the text: only an output that starts with `<` can match)
_PERSISTED_TOO_LARGE = regexes.compile(r"^<persisted-output>\s*Output too large", _I)
# argparse names the program `-` or `-c` only when the parser lives in a script given inline.
_OWN_PARSER = regexes.compile(r"\busage: -c? \[")
_OWN_PARSER_HINT = "usage: -"
_CANCELLED_SIBLING = LazyPattern(r"Sibling tool call errored|Cancelled: parallel tool call", _I)
_CANCELLED_SIBLING_LOW = lowered(_CANCELLED_SIBLING)
_CANCELLED_SIBLING_HINTS = (" tool call",)
# A crash or a missing program is never a probe's answer.
_CRASH_MARKERS = ("Traceback (most recent", "panic:", "Segmentation fault", "command not found")
_HIDDEN_MAX_LINES = 40
# Programs whose exit 1 is an answer (no match, differs, false) and whose exit 2 is an error.
_ANSWERING = {"grep", "rg", "egrep", "fgrep", "ag", "diff", "cmp", "test", "[", "[["}
_PROBE_MISUSED = regexes.compile(r"^(?:grep|rg|egrep|fgrep|diff|test|ls|find): (?:unrecognized|invalid|illegal|unknown) (?:option|argument)|"
                                 r"^Usage: (?:grep|rg|diff|ls|find) ", re.M)
_PROBE_MISUSED_HINTS = (" option", " argument", "Usage: ")
# An error of the filter itself (`grep: x: No such file or directory`), not of what it read.
_FILTER_ERROR = regexes.compile(r"^(?:grep|rg|diff): .*(?:No such file|Is a directory|error)", re.M)
_FILTER_ERROR_HINTS = ("No such file", "Is a directory", "error")
_PRODUCER_ERROR = regexes.compile(r"^(?:fatal|error|ERROR|Error|ssh|curl|wget)(?:\[\w+\])?: |Could not resolve host|"
                                  r"Temporary failure in name resolution|Permission denied|command not found", re.M)
# A line whose exit status is not the status of all its parts: a pipe, `||`, `;` or a newline.
_HIDES_STATUS = regexes.compile(r"(?<!\|)\|(?!\|)|\|\||;|\n")
_QUOTED = regexes.compile(r"'[^']*'|" + r'"(?:[^"\\]|\\.)*"', re.S)
_WRITES_FILE = regexes.compile(r"(?<![0-9&])>>?\s*(?!/dev/null|&)[\w./~$\"'-]")


def classify(call: ToolCall, text: str | None = None) -> str:
    """The failure kind of a failed call, from its status, tool and error text."""
    if call.status == REJECTED:
        return "user_rejected"
    if call.status == INTERRUPTED or call.interrupted:
        return "user_interrupt"
    text = call.output if text is None else text
    # errors sit at the start of an output and, after a long log, at its end
    head = text if len(text) <= 1500 else text[:1200] + "\n" + text[-300:]
    low_head = head.lower()
    if _rule_matches(_KIND_CHECKS[0], low_head):
        return "permission_denied"  # a credential prompt that "timed out" is still about credentials
    if call.timed_out:
        return "timeout_or_hang"
    if casefold.found(_CANCELLED_SIBLING, _CANCELLED_SIBLING_LOW, head[:300], _CANCELLED_SIBLING_HINTS):
        return "other"
    if call.exit_code == 127:
        return "command_not_found"
    family = call.family
    if call.exit_code in (124, 137) and family == "shell":
        return "timeout_or_hang"
    if _USAGE_FIRST.match(text) or casefold.found(_USAGE_ERROR, _USAGE_ERROR_LOW, text[:_USAGE_LEAD], _USAGE_HINTS):
        return "wrong_cli_usage"
    # a short output is its own focus, and then its own head too
    focus = low_head if len(text) <= _FOCUS_HEAD else _focus(text).lower()
    for check in _KIND_CHECKS:
        if not _rule_matches(check, focus):
            continue
        kind = check[0]
        if kind == "too_large" and family == "shell" and not _PERSISTED_TOO_LARGE.search(head):
            continue  # "too large" in a build log is about the build, not the tool output
        # a shell's "did not match" is data, unless the shell was applying a patch
        if kind == "edit_mismatch" and family not in ("edit", "write") \
                and not head.lstrip().startswith("<tool_use_error>") and call.input.get("patch") is None:
            continue
        return kind
    if family == "shell":
        cmd = command_of(call)
        if cmd and _BUILD_TEST.match(shell.family(shell.primary_segment(cmd)) or ""):
            return "build_or_test_failure"
    if family in ("read", "glob", "search") and "not exist" in head:
        return "path_not_found"
    return "other"


def _has_any(text: str, hints: tuple[str, ...]) -> bool:
    # (a plain loop: `any()` over a generator costs a fifth more, on the scan's hottest path)
    for hint in hints:  # noqa: SIM110
        if hint in text:
            return True
    return False


def _rule_matches(check: _Check, low: str) -> bool:
    """Whether a kind rule matches lowercased text, searched only when one of its hints is there."""
    return _has_any(low, check[2]) and check[1].search(low) is not None


def _focus(text: str) -> str:
    """The part of an output that tells what went wrong: its start and its error lines."""
    if len(text) <= _FOCUS_HEAD:
        return text
    return text[:_FOCUS_HEAD] + "\n" + "\n".join(_error_lines(text, _FOCUS_HEAD, _FOCUS_SCAN, _FOCUS_LINES))


def _error_lines(text: str, start: int, end: int, limit: int) -> list[str]:
    """The first `limit` lines holding an error word among the lines of `text[:end]` that begin at
    or after `start`: what `^.*(?:words).*$` (MULTILINE) finds between `start` and `end`."""
    window = text[:end]
    low = casefold.folded(window)
    if low is None:
        haystack, word, loose = window, _ERROR_WORD.compiled(), _ERROR_WORD_LOOSE.compiled()
    else:
        haystack, word, loose = low, _ERROR_WORD_LOW, _ERROR_WORD_LOOSE_LOW
    # `^` matches at `start` only after a newline: a line that begins before it is not read
    pos = 0 if start == 0 else window.find("\n", start - 1) + 1
    if pos == 0 and start > 0:
        return []
    lines: list[str] = []
    while len(lines) < limit:
        # the first line from `pos` on that may hold a word: none can start before the loose match
        m = loose.search(haystack, pos)
        if m is None:
            break
        stop = haystack.find("\n", m.end())
        if stop < 0:
            stop = len(haystack)
        # (`\b` reads the characters around the match as in the whole text; the newline at `stop`
        # is a boundary as the end of the search is)
        if word.search(haystack, m.start(), stop):
            lines.append(window[haystack.rfind("\n", 0, m.start()) + 1:stop])
        pos = stop + 1
    return lines


def command_of(call: ToolCall) -> str:
    cmd = call.input.get("command") if call.input else None
    if isinstance(cmd, list):
        cmd = " ".join(str(c) for c in cmd)
    if isinstance(cmd, str):
        return shell.unwrap_shell(cmd)
    return ""


def judge(call: ToolCall) -> Verdict:
    """Did this call fail, and how?"""
    status = call.status
    if status == PENDING:
        return NOT_FAILED
    if status == REJECTED:
        return Verdict(True, "user_rejected")
    if status == INTERRUPTED:
        return Verdict(True, "user_interrupt")
    family = call.family
    if status == ERROR or (call.exit_code not in (None, 0)):
        if family in ("shell",) and _benign_exit(call):
            return NOT_FAILED
        return Verdict(True, classify(call))
    if status == OK and family == "shell" and call.timed_out:
        return Verdict(True, "timeout_or_hang")
    if status == OK and family == "shell" and _hidden_failure(call):
        return Verdict(True, classify(call))
    return NOT_FAILED


def _benign_exit(call: ToolCall) -> bool:
    """A non-zero exit that answers a question rather than reporting a failure."""
    cmd = command_of(call)
    if not cmd:
        return False
    code = call.exit_code
    if code is not None and code >= 124:
        return False  # not found, killed, timed out: never a probe's answer
    lead = call.output[:3000]  # what is read of the output below
    if casefold.found(_CANCELLED_SIBLING, _CANCELLED_SIBLING_LOW, lead[:300], _CANCELLED_SIBLING_HINTS):
        return False  # never ran: not an answer to anything
    if _OWN_PARSER_HINT in lead and _OWN_PARSER.search(lead):
        return True  # an inline script trying out its own argument parser: the error is the finding
    if _has_any(lead, _CRASH_MARKERS) and not shell.is_probe(cmd):
        return False
    lead500 = lead[:500]
    if _has_any(lead500, _PROBE_MISUSED_HINTS) and _PROBE_MISUSED.search(lead500):
        return False  # the probe itself was called wrongly: "grep: unrecognized option"
    if shell.is_probe(cmd):
        return True
    if _is_sweep(cmd):
        return True
    segs = shell.core_segments(cmd)
    last = shell.program(segs[-1]) if segs else ""
    # `grep`/`rg`/`diff`/`cmp`/`test` exit 1 means "no match" / "differs" / "false"; with no match
    # nothing is printed, so an error line in the output came from the command feeding the filter
    if code in (1, None) and last in _ANSWERING:
        lead2000 = lead[:2000]
        if not (_has_any(lead2000, _FILTER_ERROR_HINTS) and _FILTER_ERROR.search(lead2000)) \
                and not (len(segs) > 1 and _PRODUCER_ERROR.search(lead2000)):
            return True
    return code == 1 and shell.family(segs[-1] if segs else "") == "git diff" and "--exit-code" in cmd


def _hidden_failure(call: ToolCall) -> bool:
    """A shell result without a failure flag whose output says it failed."""
    text = call.output
    if not text:
        return False
    if text[0] == "<" and _PERSISTED_TOO_LARGE.search(text[:200]):
        return True
    if call.output_bytes > 20000:
        return False  # a long output that merely contains an error line is a log, not a verdict
    if text.count("\n") >= _HIDDEN_MAX_LINES:
        return False
    if not _has_any(text, _HIDDEN_FAILURE_HINTS) or not _HIDDEN_FAILURE.search("\n" + text):
        return False
    # only now look at the command (parsing it is the expensive part)
    cmd = command_of(call)
    if not cmd or (call.exit_code == 0 and not _HIDES_STATUS.search(_QUOTED.sub("''", cmd))):
        return False  # an exit status of 0 that nothing masked is the command's own verdict
    return not (shell.is_viewer(cmd) or _is_sweep(cmd) or shell.is_probe(cmd))


def _is_sweep(cmd: str) -> bool:
    """A diagnostic sweep (`echo "--- x ---"; probe; echo "--- y ---"; probe`) whose parts may
    fail by design; headers echoed into a file are a report being written, not a sweep."""
    return shell.has_section_headers(cmd) and not _WRITES_FILE.search(cmd)

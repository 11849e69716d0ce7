"""`forewarn doctor`: is the hook installed, fed, fast, and is history being kept long enough?

Checks, each returning a `Check` (status ok | warn | fail | info, one line of detail, data):
- hooks: which agents' settings files carry forewarn's hooks, and whether their commands still
  point at an existing interpreter and `run.py`;
- manifest: present, parseable, how many lessons, and not older than the lesson stores it is
  compiled from (stale otherwise);
- index: the hook's per-family index for the current manifest exists (builds it if not);
- probe: a sample PreToolUse payload piped through each installed command exactly as the agent
  would run it (through the shell): exit 0, one JSON object on stdout, within the deadline;
- retention: Claude Code deletes transcripts older than `cleanupPeriodDays` (default 30); warn
  when a transcript not yet scanned is about to reach that age (it would be lost unread).

Invariants: the doctor never writes to agent settings; probes run with a throw-away session id
and a private temp dir, so they leave no dedup state behind; a missing store degrades to "every
transcript counts as unscanned" rather than an error.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from forewarn.errors import ForewarnError
from forewarn.hook.index import DEFAULT_CONFIG, MANIFEST_NAME, forewarn_home, index_dir_for
from forewarn.hook.install import (
    AGENTS,
    HOOK_SPECS,
    SCOPES,
    hook_command,
    our_commands,
    read_settings,
    settings_path,
)

OK, WARN, FAIL, INFO = "ok", "warn", "fail", "info"
DEFAULT_CLEANUP_DAYS = 30
RETENTION_MARGIN_DAYS = 2.0  # warn this long before Claude Code's cleanup would delete a transcript
PROBE_RUNS = 3
_PRE_TOOL_EVENTS = {"PreToolUse", "BeforeTool"}

ScanTime = Callable[[Path], float | None]  # file -> when it was last scanned (epoch s), None: never


@dataclass
class Check:
    name: str
    status: str
    detail: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class DoctorReport:
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(c.status != FAIL for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "checks": [asdict(c) for c in self.checks]}


def diagnose(
    home: str | os.PathLike[str] | None = None,
    project_dir: str | os.PathLike[str] | None = None,
    scanned_at: ScanTime | None = None,
    lesson_stores: Iterable[str | os.PathLike[str]] | None = None,
    probe: bool = True,
    now: float | None = None,
) -> DoctorReport:
    home_path = Path(home) if home is not None else Path(forewarn_home())
    installs = find_installs(project_dir)
    manifest_check, config = check_manifest(home_path, lesson_stores, project_dir)
    checks = [check_hooks(installs), manifest_check, check_index(home_path)]
    if probe:
        checks.append(check_probe(installs, home_path, config))
    checks.append(check_retention(scanned_at, now=now))
    return DoctorReport(checks)


# -- hooks ---------------------------------------------------------------------------------------


@dataclass
class Install:
    agent: str
    scope: str
    path: str
    events: dict[str, list[str]]  # event -> our commands
    error: str | None = None


def find_installs(project_dir: str | os.PathLike[str] | None = None) -> list[Install]:
    """Every settings file (all agents, all scopes) that mentions forewarn's hook."""
    found = []
    for agent in AGENTS:
        for scope in SCOPES[agent]:
            path = settings_path(agent, scope, project_dir)
            if not path.exists():
                continue
            try:
                events = our_commands(read_settings(path))
            except ForewarnError as err:
                found.append(Install(agent, scope, str(path), {}, error=str(err)))
                continue
            if events:
                found.append(Install(agent, scope, str(path), events))
    return found


def check_hooks(installs: list[Install]) -> Check:
    data = {"installs": [asdict(i) for i in installs]}
    broken = [i for i in installs if i.error]
    if broken:
        return Check("hooks", FAIL, f"cannot read {broken[0].path}: {broken[0].error}", data)
    if not installs:
        return Check(
            "hooks", WARN, "no agent runs forewarn's hook yet: run `forewarn install claude`", data
        )
    missing = []
    for install in installs:
        for commands in install.events.values():
            for command in commands:
                missing.extend(_missing_files(command))
    if missing:
        return Check(
            "hooks", FAIL, f"a hook command names a missing file: {missing[0]} (reinstall)", data
        )
    incomplete = [
        f"{i.agent} ({i.scope}) lacks {', '.join(s.event for s in HOOK_SPECS[i.agent] if s.event not in i.events)}"
        for i in installs
        if any(s.event not in i.events for s in HOOK_SPECS[i.agent])
    ]
    where = ", ".join(f"{i.agent} ({i.scope}: {i.path})" for i in installs)
    if incomplete:
        return Check("hooks", WARN, f"installed in {where}; {'; '.join(incomplete)}", data)
    return Check("hooks", OK, f"installed in {where}", data)


def _missing_files(command: str) -> list[str]:
    try:
        argv = shlex.split(command)
    except ValueError:
        return [command]
    paths = [argv[0]] if argv else []
    paths += [a for a in argv[1:] if a.endswith("run.py")]
    return [p for p in paths if "$" not in p and os.sep in p and not os.path.exists(p)]


# -- manifest and index -------------------------------------------------------------------------------


def default_lesson_stores(
    home: Path, project_dir: str | os.PathLike[str] | None = None
) -> list[Path]:
    """The lesson stores the manifest is compiled from that we can know of: the global
    `$FOREWARN_HOME/lessons.json` and the current project's `.forewarn/lessons.json`."""
    project = Path(project_dir) if project_dir is not None else Path.cwd()
    stores = [home / "lessons.json", project / ".forewarn" / "lessons.json"]
    return [p for p in stores if p.exists()]


def check_manifest(
    home: Path,
    lesson_stores: Iterable[str | os.PathLike[str]] | None = None,
    project_dir: str | os.PathLike[str] | None = None,
) -> tuple[Check, dict[str, Any]]:
    path = home / MANIFEST_NAME
    config = dict(DEFAULT_CONFIG)
    if not path.exists():
        return Check(
            "manifest",
            WARN,
            f"no manifest at {path}: no lesson can be delivered yet",
            {"path": str(path)},
        ), config
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        lessons = manifest["lessons"]
        if not isinstance(lessons, dict):
            raise TypeError("'lessons' is not an object")
    except (OSError, ValueError, KeyError, TypeError) as err:
        return Check(
            "manifest",
            FAIL,
            f"{path} is unreadable ({err}): the hook answers {{}}",
            {"path": str(path)},
        ), config
    if isinstance(manifest.get("config"), dict):
        config.update({k: v for k, v in manifest["config"].items() if k in DEFAULT_CONFIG})
    mtime = path.stat().st_mtime
    stores = (
        [Path(p) for p in lesson_stores]
        if lesson_stores is not None
        else default_lesson_stores(home, project_dir)
    )
    newer = [str(p) for p in stores if p.exists() and p.stat().st_mtime > mtime]
    data = {
        "path": str(path),
        "lessons": len(lessons),
        "generatedAt": manifest.get("generatedAt"),
        "stale_against": newer,
    }
    if newer:
        return Check(
            "manifest",
            WARN,
            f"{len(lessons)} lessons, but older than {newer[0]}: recompile it",
            data,
        ), config
    return Check(
        "manifest",
        OK,
        f"{len(lessons)} lessons, generated {manifest.get('generatedAt') or '?'}",
        data,
    ), config


def check_index(home: Path) -> Check:
    manifest = home / MANIFEST_NAME
    if not manifest.exists():
        return Check("index", INFO, "no manifest, no index", {})
    from forewarn.hook.indexer import build_index

    directory = index_dir_for(str(home), manifest.stat())
    existed = os.path.isdir(directory)
    try:
        start = time.perf_counter()
        built = build_index(home)
        elapsed = (time.perf_counter() - start) * 1000.0
    except (OSError, ValueError) as err:
        return Check("index", FAIL, f"cannot build the hook index: {err}", {})
    families = sorted(n[2:].rsplit(".", 1)[0] for n in os.listdir(built or directory) if n.startswith("f-"))
    detail = f"families: {', '.join(families) or 'none'}"
    if not existed:
        detail += f" (built now in {elapsed:.0f} ms)"
    return Check(
        "index", OK, detail, {"path": built, "families": families, "built_now": not existed}
    )


# -- probe ----------------------------------------------------------------------------------------


def check_probe(installs: list[Install], home: Path, config: dict[str, Any]) -> Check:
    """Run each installed pre-tool command (or the one `install` would write) on a sample call."""
    commands: list[tuple[str, str]] = []
    for install in installs:
        for event, cmds in install.events.items():
            if event in _PRE_TOOL_EVENTS:
                commands.extend(
                    (install.agent, c) for c in cmds if (install.agent, c) not in commands
                )
    if not commands:
        commands = [("claude", hook_command("pre-tool-use"))]
    deadline = float(config.get("hookDeadlineMs") or DEFAULT_CONFIG["hookDeadlineMs"])
    results = [probe_command(command, agent, home) for agent, command in commands]
    data = {"deadline_ms": deadline, "results": results}
    failed = [r for r in results if r["error"]]
    if failed:
        return Check("probe", FAIL, f"{failed[0]['command']}: {failed[0]['error']}", data)
    slow = [r for r in results if r["best_ms"] > deadline]
    best = max(r["best_ms"] for r in results)
    if slow:
        return Check(
            "probe",
            WARN,
            f"valid answers, but {slow[0]['best_ms']:.0f} ms > deadline {deadline:.0f} ms",
            data,
        )
    return Check(
        "probe",
        OK,
        f"{len(results)} command(s) answer valid JSON in {best:.0f} ms (deadline {deadline:.0f} ms)",
        data,
    )


def probe_command(command: str, agent: str, home: Path, runs: int = PROBE_RUNS) -> dict[str, Any]:
    tool = "run_shell_command" if agent == "gemini" else "Bash"
    result: dict[str, Any] = {
        "command": command,
        "agent": agent,
        "times_ms": [],
        "answer": None,
        "error": None,
    }
    with tempfile.TemporaryDirectory(prefix="forewarn-doctor-") as tmp:
        payload = json.dumps(
            {
                "session_id": f"forewarn-doctor-{uuid.uuid4()}",
                "transcript_path": os.path.join(tmp, "t.jsonl"),
                "cwd": tmp,
                "hook_event_name": "BeforeTool" if agent == "gemini" else "PreToolUse",
                "tool_name": tool,
                "tool_input": {"command": "echo forewarn doctor"},
            }
        ).encode()
        env = {**os.environ, "FOREWARN_HOME": str(home), "TMPDIR": tmp}
        for _ in range(runs):
            start = time.perf_counter()
            try:
                done = subprocess.run(
                    command,
                    shell=True,
                    input=payload,
                    capture_output=True,
                    env=env,
                    timeout=10,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                result["error"] = "no answer within 10 s"
                break
            result["times_ms"].append((time.perf_counter() - start) * 1000.0)
            if done.returncode != 0:
                result["error"] = (
                    f"exit status {done.returncode}: {done.stderr.decode(errors='replace').strip()[:200]}"
                )
                break
            try:
                answer = json.loads(done.stdout)
            except ValueError:
                result["error"] = f"not JSON on stdout: {done.stdout[:200]!r}"
                break
            if not isinstance(answer, dict):
                result["error"] = f"answer is not a JSON object: {answer!r}"
                break
            result["answer"] = answer
    result["best_ms"] = min(result["times_ms"]) if result["times_ms"] else float("inf")
    return result


# -- retention ------------------------------------------------------------------------------------


def claude_cleanup_days() -> tuple[float, str]:
    """Claude Code's `cleanupPeriodDays` and where it came from."""
    from forewarn.paths import claude_config_dir

    path = claude_config_dir() / "settings.json"
    try:
        value = read_settings(path).get("cleanupPeriodDays")
    except ForewarnError:
        value = None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return float(value), str(path)
    return float(DEFAULT_CLEANUP_DAYS), "default"


def claude_transcripts() -> list[Path]:
    from forewarn.paths import claude_config_dir

    projects = claude_config_dir() / "projects"
    return sorted(projects.rglob("*.jsonl")) if projects.is_dir() else []


def check_retention(
    scanned_at: ScanTime | None,
    transcripts: list[Path] | None = None,
    cleanup_days: tuple[float, str] | None = None,
    now: float | None = None,
    margin_days: float = RETENTION_MARGIN_DAYS,
) -> Check:
    now = time.time() if now is None else now
    days, source = cleanup_days or claude_cleanup_days()
    files = claude_transcripts() if transcripts is None else transcripts
    unscanned: list[tuple[float, Path]] = []
    for path in files:
        try:
            mtime = path.stat().st_mtime
        except OSError:
            continue
        last = scanned_at(path) if scanned_at is not None else None
        if last is None or last < mtime:
            unscanned.append((mtime, path))
    data: dict[str, Any] = {
        "cleanupPeriodDays": days,
        "source": source,
        "transcripts": len(files),
        "unscanned": len(unscanned),
        "scan_record": scanned_at is not None,
    }
    if not files:
        return Check("retention", INFO, "no Claude Code transcripts found", data)
    if not unscanned:
        return Check(
            "retention",
            OK,
            f"all {len(files)} transcripts scanned (cleanupPeriodDays {days:g})",
            data,
        )
    oldest_mtime, oldest = min(unscanned)
    age = (now - oldest_mtime) / 86400.0
    data.update(oldest_unscanned=str(oldest), oldest_unscanned_age_days=round(age, 2))
    note = (
        "" if scanned_at is not None else " (no scan record: every transcript counts as unscanned)"
    )
    if age >= days - margin_days:
        return Check(
            "retention",
            WARN,
            f"an unscanned transcript is {age:.1f} days old and Claude Code deletes them after {days:g} "
            f"days: run `forewarn scan` or raise cleanupPeriodDays{note}",
            data,
        )
    return Check(
        "retention",
        OK,
        f"{len(unscanned)} unscanned, oldest {age:.1f} of {days:g} days{note}",
        data,
    )

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from forewarn.scan import discover, scan
from forewarn.store import Store
from tests.claude_builder import Transcript, slug


def make_history(config: Path, cwd: str = "/work/shop") -> Path:
    path = config / "projects" / slug(cwd) / "s-1.jsonl"
    t = Transcript(cwd=cwd, session_id="s-1")
    t.bash("t1", "python3 -m pytest -q", "ModuleNotFoundError: No module named 'httpx'", code=1)
    t.bash("t2", "uv run pytest -q", "3 passed")
    return t.write(path)


def test_discovery_of_a_folder_finds_transcripts_where_agents_keep_them(tmp_path: Path) -> None:
    """Any folder may be scanned: transcripts are found at any depth, in path order, but not in
    dependency or VCS folders, not through symlinked folders, and other files are left alone."""
    root = tmp_path / "logs"
    transcript = Transcript().bash("t1", "ls", "a")
    kept = [transcript.write(root / "b" / "s.jsonl"), transcript.write(root / "a.jsonl" / "deep" / "s.jsonl"),
            transcript.write(root / "a" / "s.jsonl")]
    for skipped in ("node_modules", ".git", "tool-results", "__pycache__"):
        transcript.write(root / "b" / skipped / "s.jsonl")
    (root / "b" / "notes.txt").write_text("not a session")
    (root / "b" / "data.jsonl").write_text(json.dumps({"name": "x"}) + "\n")
    elsewhere = transcript.write(tmp_path / "elsewhere" / "s.jsonl")
    (root / "link").symlink_to(elsewhere.parent, target_is_directory=True)
    found = discover([root])
    assert [p for p, _ in found] == sorted((p.resolve() for p in kept), key=str)
    assert {r.agent for _, r in found} == {"claude"}


def test_scan_pairs_failures_and_rerun_reads_nothing(tmp_path: Path) -> None:
    path = make_history(tmp_path / ".claude")
    store = Store.open(tmp_path / "db.sqlite")
    report = scan(store, discover([tmp_path / ".claude"]))
    assert (report.files_read, report.calls, report.failures, report.fixed) == (1, 2, 1, 1)
    (failure,) = store.failures()
    assert (failure.call_id, failure.fix_call_id, failure.kind) == ("t1", "t2", "env_runtime")
    assert failure.fix_reason == "runner"
    assert failure.project == "/work/shop"
    again = scan(store, discover([path]))
    assert again.files_read == 0 and again.files_unchanged == 1


def test_growing_file_is_read_incrementally_and_paired_across_reads(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    t = Transcript(session_id="s")
    t.bash("t1", "make build", "make: *** No rule to make target 'build'", code=2)
    t.write(path)
    store = Store.open(tmp_path / "db.sqlite")
    scan(store, discover([path]))
    (failure,) = store.failures()
    assert failure.fix_call_id is None
    size = path.stat().st_size
    with open(path, "a", encoding="utf-8") as f:
        f.write(Transcript(session_id="s").bash("t2", "make build", "ok").text())
    report = scan(store, discover([path]))
    assert report.bytes_read == path.stat().st_size - size  # only the new bytes
    (failure,) = store.failures()
    assert failure.fix_call_id == "t2"


def test_a_file_that_shrank_or_was_rewritten_is_read_again(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    Transcript(session_id="s").bash("t1", "make", "boom", code=2).bash("t2", "make", "ok").write(path)
    store = Store.open(tmp_path / "db.sqlite")
    scan(store, discover([path]))
    Transcript(session_id="s").bash("x1", "cat missing", "cat: missing: No such file or directory", code=1).write(path)
    report = scan(store, discover([path]))
    assert report.files_restarted == 1
    assert [f.call_id for f in store.failures()] == ["x1"]


def test_unreadable_file_is_skipped_and_the_store_keeps_its_data(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads everything")
    good = make_history(tmp_path / ".claude")
    store = Store.open(tmp_path / "db.sqlite")
    scan(store, discover([good]))
    bad = tmp_path / ".claude" / "projects" / "x" / "s-2.jsonl"
    Transcript(session_id="s-2").bash("b1", "ls", "a").write(bad)
    targets = discover([tmp_path / ".claude"])
    bad.chmod(0)
    try:
        report = scan(store, targets)
    finally:
        bad.chmod(0o644)
    assert report.files_skipped == 1 and report.errors
    assert len(list(store.failures())) == 1


def test_two_scans_at_once_leave_a_consistent_store(tmp_path: Path) -> None:
    config = tmp_path / ".claude"
    for i in range(30):
        cwd = f"/work/p{i}"
        path = config / "projects" / slug(cwd) / f"s-{i}.jsonl"
        t = Transcript(cwd=cwd, session_id=f"s-{i}")
        for j in range(20):
            t.bash(f"c{i}-{j}", f"make t{j}", "boom", code=2).bash(f"d{i}-{j}", f"make t{j}", "ok")
        t.write(path)
    db = tmp_path / "db.sqlite"
    code = "from forewarn.cli.main import run; run()"  # the console script, quick exit included
    env = {**os.environ, "FOREWARN_HOME": str(tmp_path / "home")}
    procs = [subprocess.Popen([sys.executable, "-c", code, "--db", str(db), "-q", "scan", str(config)], env=env,
                              stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outcomes = [(p.wait(timeout=120), p.stderr.read() if p.stderr else "") for p in procs]
    assert [rc for rc, _ in outcomes] == [0, 0], outcomes
    store = Store.open(db)
    assert store.counts()["calls"] == 30 * 40
    assert store.counts()["failures"] == 30 * 20
    assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_the_console_script_closes_the_store_and_survives_a_closed_pipe(tmp_path: Path) -> None:
    """`run` skips Python's shutdown: the database must still be closed cleanly (its WAL folded
    in and removed) and output cut short by a closed pipe must not turn into an error."""
    config = tmp_path / ".claude"
    for i in range(3):
        t = Transcript(cwd=f"/work/p{i}", session_id=f"s-{i}")
        for j in range(200):
            t.bash(f"c{i}-{j}", f"make t{j}", "boom " * 40, code=2).bash(f"d{i}-{j}", f"make t{j}", "ok")
        t.write(config / "projects" / slug(f"/work/p{i}") / f"s-{i}.jsonl")
    db = tmp_path / "db.sqlite"
    env = {**os.environ, "FOREWARN_HOME": str(tmp_path / "home")}
    script = [sys.executable, "-c", "from forewarn.cli.main import run; run()", "--db", str(db)]
    proc = subprocess.Popen([*script, "scan", "--json", str(config)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # the reader goes away, as `| head -1` does
    assert proc.wait(timeout=60) == 1  # click's status for a closed pipe, and no message
    assert b'"call_id"' in first and proc.stderr.read() == b""
    assert not db.with_name(db.name + "-wal").exists()
    assert Store.open(db).counts()["failures"] == 3 * 200

    done = subprocess.run([*script, "scan", str(config)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "3 unchanged" in done.stdout, done.stdout


def test_python_dash_m_forewarn_is_the_forewarn_command(tmp_path: Path) -> None:
    config = tmp_path / ".claude"
    Transcript(cwd="/work/p", session_id="s-1").bash("c1", "make t", "boom", code=2).bash("c2", "make test", "ok") \
        .write(config / "projects" / slug("/work/p") / "s-1.jsonl")
    env = {**os.environ, "FOREWARN_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, "-m", "forewarn", "--db", str(tmp_path / "db.sqlite"), "scan", "--json",
                           str(config)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["call_id"] for line in done.stdout.splitlines()] == ["c1"]


def test_the_quick_exit_still_waits_for_a_thread_a_command_left_running(tmp_path: Path) -> None:
    marker = tmp_path / "finished"
    code = (
        "import threading, time\n"
        "import forewarn.cli.main as cli\n"
        "def command():\n"
        "    def late():\n"
        "        time.sleep(0.3)\n"
        f"        open({str(marker)!r}, 'w').write('yes')\n"
        "    threading.Thread(target=late).start()\n"
        "    return 3\n"
        "cli.main = command\n"
        "cli.run()\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 3, done.stderr
    assert marker.read_text() == "yes"


def test_the_console_script_runs_a_command_with_the_garbage_collector_on(tmp_path: Path) -> None:
    """`run` turns the collector off for the imports only: the command itself must run with it
    on (and the objects of the imports frozen), or a long command could pile up garbage."""
    code = (
        "import gc, json, sys\n"
        "import click\n"
        "import forewarn.cli.main as cli\n"
        "@click.command('probe')\n"
        "def probe():\n"
        "    print(json.dumps([gc.isenabled(), gc.get_freeze_count() > 0]))\n"
        "sys.modules['forewarn.cli.commands.probe'] = type(sys)('probe')\n"
        "sys.modules['forewarn.cli.commands.probe'].command = probe\n"
        "cli.COMMANDS['probe'] = 'probe'\n"
        "sys.argv = ['forewarn', 'probe']\n"
        "cli.run()\n"
    )
    env = {**os.environ, "FOREWARN_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[true, true]"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux only")
def test_a_parallel_scan_leaves_the_garbage_collector_as_it_found_it(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    from forewarn import scan as scan_module

    config = tmp_path / ".claude"
    for i in range(4):
        t = Transcript(cwd=f"/work/p{i}", session_id=f"s-{i}")
        t.bash(f"c{i}", "make", "make: *** No rule to make target", code=2).bash(f"d{i}", "make all", "ok")
        t.write(config / "projects" / slug(f"/work/p{i}") / f"s-{i}.jsonl")
    monkeypatch.setattr(scan_module, "_PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(scan_module, "_BATCH", 1)
    monkeypatch.setattr(scan_module, "_WRITE_LOCK", None)
    threshold, frozen = gc.get_threshold(), gc.get_freeze_count()
    report = scan(Store.open(tmp_path / "db.sqlite"), discover([config]), jobs=2)
    assert scan_module._WRITE_LOCK is not None  # the workers did run
    assert report.fixed == 4
    assert (gc.get_threshold(), gc.get_freeze_count()) == (threshold, frozen)

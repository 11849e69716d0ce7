from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from forewarn.cli.main import cli, main
from tests.claude_builder import Transcript, slug


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def history(config: Path, project: Path) -> None:
    cwd = str(project)
    for n in (1, 2):
        t = Transcript(cwd=cwd, session_id=f"s-{n}")
        t.bash(f"a{n}", "python3 -m pytest -q", "ModuleNotFoundError: No module named 'httpx'", code=1)
        t.bash(f"b{n}", "uv run pytest -q", "3 passed")
        t.call(f"c{n}", "Read", {"file_path": f"{cwd}/src/models.py"}, "<tool_use_error>File does not exist.</tool_use_error>", error=True)
        t.call(f"d{n}", "Read", {"file_path": f"{cwd}/src/core/models.py"}, "print()")
        t.bash(f"e{n}", "grep -rn TODO src", "", code=1)
        t.write(config / "projects" / slug(cwd) / f"s-{n}.jsonl")


def test_scan_json_is_one_object_per_failure(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    project.mkdir()
    history(tmp_path / ".claude", project)
    code, out = run("scan", str(tmp_path / ".claude"), "--json")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 4  # the grep with no match is not a failure
    for row in rows:
        assert {"file", "call_id", "tool", "kind", "fix_call_id", "signature"} <= row.keys()
    by_id = {r["call_id"]: r for r in rows}
    assert by_id["a1"]["fix_call_id"] == "b1" and by_id["a1"]["kind"] == "env_runtime"
    assert by_id["c2"]["fix_call_id"] == "d2" and by_id["c2"]["tool"] == "Read"


def test_learn_is_a_dry_run_then_writes_only_inside_markers(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    project.mkdir()
    claude_md = project / "CLAUDE.md"
    original = "# Shop\r\n\r\nHand-written rules.\r\n"
    claude_md.write_bytes(original.encode())
    config = tmp_path / ".claude"
    history(config, project)

    code, out = run("learn", "--project", str(project), "--claude-dir", str(config))
    assert code == 0
    assert "uv run" in out and "src/core/models.py" in out and "--apply" in out
    assert claude_md.read_bytes() == original.encode()  # dry run wrote nothing

    code, out = run("learn", "--project", str(project), "--claude-dir", str(config), "--apply")
    assert code == 0
    text = claude_md.read_bytes().decode()
    assert text.startswith(original)
    section = text[len(original):]
    assert "<!-- forewarn:start -->" in section and "<!-- forewarn:end -->" in section
    assert "Run things through `uv run`" in section
    assert "`src/models.py` does not exist; use `src/core/models.py`" in section

    before = claude_md.read_bytes()
    run("learn", "--project", str(project), "--claude-dir", str(config), "--apply")
    assert claude_md.read_bytes() == before  # re-running changes nothing


def test_learn_refuses_damaged_markers(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    project.mkdir()
    (project / "CLAUDE.md").write_text("# x\n<!-- forewarn:start -->\nno end\n")
    history(tmp_path / ".claude", project)
    rc = main(["learn", "--project", str(project), "--claude-dir", str(tmp_path / ".claude"), "--apply"])
    assert rc == 3
    assert (project / "CLAUDE.md").read_text() == "# x\n<!-- forewarn:start -->\nno end\n"


def test_demo_runs_without_touching_the_users_store(tmp_path: Path, isolated_home: Path) -> None:
    code, out = run("learn", "--demo")
    assert code == 0
    assert "Run things through `uv run`" in out
    assert "never publish from here" in out
    code, out = run("learn", "--demo", "--apply")
    assert code == 0 and "lessons: " in out and "<!-- forewarn:start -->" in out
    assert not isolated_home.exists()  # no database, lessons or manifest of the user's were touched


def test_user_mistakes_give_one_line_errors(tmp_path: Path, capsys) -> None:
    assert main(["scan", str(tmp_path / "missing")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("forewarn: error: no such file or directory") and err.count("\n") == 1
    bad_db = tmp_path / "bad.db"
    bad_db.write_bytes(b"this is not sqlite" * 100)
    assert main(["--db", str(bad_db), "scan", str(tmp_path)]) == 1
    assert "cannot use database" in capsys.readouterr().err
    assert bad_db.read_bytes() == b"this is not sqlite" * 100


def test_eval_labels_reports_precision_and_recall(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    project.mkdir()
    history(tmp_path / "root" / ".claude", project)
    rel = f".claude/projects/{slug(str(project))}/s-1.jsonl"
    labels = tmp_path / "labels.jsonl"
    rows = [
        {"file": rel, "call_id": "a1", "is_failure": True, "fix_call_id": "b1"},
        {"file": rel, "call_id": "c1", "is_failure": True, "fix_call_id": "d1"},
        {"file": rel, "call_id": "e1", "is_failure": False, "fix_call_id": None},
        {"file": rel, "call_id": "b1", "is_failure": False, "fix_call_id": None},
    ]
    labels.write_text("".join(json.dumps(r) + "\n" for r in rows))
    code, out = run("eval", "labels", str(labels), "--root", str(tmp_path / "root"), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["detection"] == {"tp": 2, "fp": 0, "fn": 0, "precision": 1.0, "recall": 1.0}
    assert data["pairing"]["tp"] == 2


def test_store_is_a_wal_sqlite_with_recorded_migrations(tmp_path: Path) -> None:
    db = tmp_path / "x.db"
    history(tmp_path / ".claude", tmp_path)
    assert main(["--db", str(db), "-q", "scan", str(tmp_path / ".claude")]) == 0
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    from forewarn.store.migrations import MIGRATIONS

    recorded = [r[0] for r in conn.execute("SELECT name FROM migrations ORDER BY rowid")]
    assert recorded == [m.__name__ for m in MIGRATIONS] and recorded[0] == "m001_initial"


def test_a_retired_learning_is_removed_and_stays_away(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    project.mkdir()
    config = tmp_path / ".claude"
    history(config, project)
    run("learn", "--project", str(project), "--claude-dir", str(config), "--apply")
    text = (project / "CLAUDE.md").read_text()
    key = text.split("does not exist; use")[1].split("<!-- fw:")[1].split(" -->")[0]
    run("learn", "--project", str(project), "--claude-dir", str(config), "--apply", "--retire", key)
    assert f"fw:{key}" not in (project / "CLAUDE.md").read_text()
    run("learn", "--project", str(project), "--claude-dir", str(config), "--apply")
    assert f"fw:{key}" not in (project / "CLAUDE.md").read_text()
    assert "uv run" in (project / "CLAUDE.md").read_text()


def test_learn_apply_stores_hook_lessons_that_reach_the_manifest(tmp_path: Path, isolated_home: Path) -> None:
    project = tmp_path / "shop"
    project.mkdir()
    config = tmp_path / ".claude"
    history(config, project)
    code, out = run("learn", "--project", str(project), "--claude-dir", str(config), "--apply")
    assert code == 0 and "lessons: " in out
    stored = json.loads((project / ".forewarn" / "lessons.json").read_text())
    signatures = {lesson.get("signature") for lesson in stored["lessons"]}
    assert "shell:env_runtime:python3 -> uv run" in signatures
    manifest = json.loads((isolated_home / "manifest.json").read_text())
    python3 = [m for m in manifest["lessons"].values() if "shell" in m["families"]]
    assert python3 and python3[0]["projectRoot"] == str(project)
    import re

    pattern = re.compile(python3[0]["commandRegexSources"][0]["source"])
    assert pattern.search("python3 -m pytest -q") and not pattern.search("uv run pytest -q")


def test_a_flaky_command_goes_to_agent_memory_not_the_team_file(tmp_path: Path) -> None:
    project = tmp_path / "shop"
    project.mkdir()
    config = tmp_path / ".claude"
    for n in (1, 2):
        t = Transcript(cwd=str(project), session_id=f"f-{n}")
        t.bash(f"x{n}", "dbtool sync --all", "Error: database is locked", code=1)
        t.bash(f"y{n}", "dbtool sync --all", "synced 12 rows")
        t.write(config / "projects" / slug(str(project)) / f"f-{n}.jsonl")
    code, _ = run("learn", "--project", str(project), "--claude-dir", str(config), "--apply")
    assert code == 0
    memory = config / "projects" / slug(str(project)) / "memory" / "MEMORY.md"
    assert "`dbtool sync --all` fails intermittently" in memory.read_text()
    assert not (project / "CLAUDE.md").exists() or "dbtool" not in (project / "CLAUDE.md").read_text()


def test_scan_with_no_history_says_where_it_looked(capsys) -> None:
    assert main(["scan"]) == 0
    err = capsys.readouterr().err
    assert "No session logs found" in err and "projects" in err

"""The analytics commands end to end: stats, report, dashboard, report-failure, config."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from forewarn.cli.main import cli, main
from forewarn.store import Store
from tests.insights_helpers import C, add_session, at

COMMANDS = ("stats", "report", "dashboard", "report-failure", "config")


def run(db: Path, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "fw.db"
    store = Store.open(path)
    for d in range(21):
        calls = [C(at(d, 0, i), failed=i < (6 if d < 7 else 1), kind="env_runtime",
                   signature="shell:env_runtime:python3:modulenotfounderror: no module named q", command="python3 t.py",
                   error="ModuleNotFoundError: No module named 'yaml'", fix=".venv/bin/python t.py") for i in range(12)]
        calls += [C(at(d, 1, i), tool="Read", failed=i == 0, kind="path_not_found", signature="read:path_not_found:x.md",
                    path=f"/work/app/<b>{i}</b>.md", error="File does not exist.") for i in range(8)]
        add_session(store, calls, project="/work/<app>" if d % 2 else "/work/api", model="claude-x")
    store.close()
    return path


def test_every_command_is_registered_and_has_help() -> None:
    for name in COMMANDS:
        result = CliRunner().invoke(cli, [name, "--help"], catch_exceptions=False)
        assert result.exit_code == 0 and "Usage:" in result.output, name


def test_stats_human_and_json(db: Path) -> None:
    out = run(db, "stats", "--by", "tool", "--weeks", "3")
    assert "Success rate" in out and "By tool" in out and "Weekly success rate" in out
    data = json.loads(run(db, "stats", "--days", "7", "--offset", "14", "--json"))
    overall = data["stats"]["overall"]
    assert (overall["n"], overall["failures"]) == (140, 49)
    assert data["stats"]["window"]["offset"] == 14
    full = json.loads(run(db, "stats", "--all", "--by", "project", "--patterns", "--lessons", "--json"))
    assert {g["key"] for g in full["stats"]["groups"]} == {"/work/<app>", "/work/api"}
    assert full["patterns"]["clusters"][0]["label"].startswith("shell:env_runtime:python3")
    assert full["lessons"]["lessons"] == []


def test_stats_rejects_a_bad_dimension_with_one_line(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", str(db), "stats", "--by", "colour"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("forewarn: error: unknown dimension 'colour'") and err.count("\n") == 1


def test_report_markdown_to_stdout_and_html_file(db: Path, tmp_path: Path) -> None:
    md = run(db, "report", "--days", "30")
    assert md.startswith("# forewarn report: last 30 days")
    for heading in ("## Summary", "## Weekly trend", "## Recommendations", "## Failure patterns", "## By tool",
                    "## Lessons"):
        assert heading in md
    target = tmp_path / "out" / "report.html"
    assert "Wrote" in run(db, "report", "--days", "30", "--detailed", "--output", str(target))
    html = target.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert html.count("<svg") >= 2 and "<style>" in html
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:|//|file:)""", html)  # nothing external
    assert "<script" not in html and "@import" not in html
    assert "/work/&lt;app&gt;" in html and "<app>" not in html  # data is escaped
    assert [p.name for p in target.parent.iterdir()] == ["report.html"]  # one file, no temp left
    md_file = tmp_path / "report.md"
    run(db, "report", "--output", str(md_file))
    assert md_file.read_text(encoding="utf-8").startswith("# forewarn report")
    data = json.loads(run(db, "report", "--json"))
    assert data["stats"]["overall"]["n"] == 20 * 21 and data["patterns"]["clusters"]


def test_dashboard_human_and_json(db: Path) -> None:
    out = run(db, "dashboard", "--days", "7", "--weeks", "3")
    assert "success" in out and "Tools" in out and "Top failure patterns" in out
    data = json.loads(run(db, "dashboard", "--json", "--weeks", "3"))
    assert len(data["trend"]) == 3 and len(data["trend_sparkline"]) == 3
    assert data["trend"][0]["success_rate"] < data["trend"][2]["success_rate"]
    assert {t["tool"] for t in data["tools"]} == {"Bash", "Read"}


def test_report_failure_is_stored_redacted_and_counted(db: Path) -> None:
    out = json.loads(run(db, "report-failure", "--failure-type", "planning_error", "--description",
                         "Built a new service instead of extending one; token=sk-ant-abcdefghijklmnopqrstuvwx",
                         "--context", "Should have listed existing services", "--task", "Add billing", "--json"))
    assert out["failure_type"] == "planning_error" and "sk-ant-" not in out["description"]
    assert "[REDACTED]" in out["description"]
    stats = json.loads(run(db, "stats", "--now", "clock", "--days", "1", "--json"))
    assert stats["stats"]["reported"] == {"planning_error": 1}
    history = json.loads(run(db, "stats", "--json"))["stats"]["window"]
    assert history["until"] == at(20, 1, 7)[:19]  # a report filed today does not move the history's "now"
    assert "Failures reported by hand" in run(db, "report", "--now", "clock", "--days", "1")
    bad = CliRunner().invoke(cli, ["--db", str(db), "report-failure", "--failure-type", "oops", "--description", "x"])
    assert bad.exit_code == 2


def test_config_commands(db: Path, isolated_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "learning.minSamples = 5" in run(db, "config", "set", "learning.min_samples", "5")
    assert run(db, "config", "get", "learning.minSamples").strip() == "5"
    assert json.loads(run(db, "config", "get", "minSamples", "--json")) == {"key": "learning.minSamples", "value": 5}
    assert json.loads(run(db, "config", "set", "teacher.timeout", "90", "--json"))["value"] == 90
    shown = json.loads(run(db, "config", "show", "--json"))
    assert shown["config"]["learning"]["minSamples"] == 5 and shown["exists"] and shown["problems"] == []
    assert "learning.minSamples *" in run(db, "config", "show")
    assert run(db, "config", "path").strip() == str(isolated_home / "config.json")
    assert "(default)" in run(db, "config", "unset", "learning.minSamples")
    assert main(["config", "set", "injection.minConfidence", "2"]) == 1
    assert "above the maximum" in capsys.readouterr().err
    rec = json.loads(run(db, "config", "recommend", "--json"))
    assert {a["name"] for a in rec["thresholds"]} == {"minConfidence", "minPriority"} and rec["applied"] == {}
    assert "minConfidence" in run(db, "config", "recommend", "--apply")


def _png_is_not_blank(path: Path) -> bool:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        if data[pos + 4:pos + 8] == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    # a blank page decodes to a few filter bytes and white; text and charts bring many values
    return len(set(zlib.decompress(idat))) > 32


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium is not installed")
def test_html_report_renders_in_a_headless_browser(db: Path, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    run(db, "report", "--days", "30", "--output", str(page))
    shot = tmp_path / "shot.png"
    subprocess.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
                    "--window-size=1100,1600", f"--screenshot={shot}", page.as_uri()],
                   check=True, capture_output=True, timeout=120)
    assert _png_is_not_blank(shot)

"""`forewarn doctor`: each check on crafted settings, manifests and transcripts."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from click.testing import CliRunner

from forewarn.cli.main import cli
from forewarn.hook import doctor
from forewarn.hook import install as inst
from tests.hook_fixtures import lesson, write_manifest

DAY = 86400.0


def home() -> Path:
    return Path(os.environ["FOREWARN_HOME"])


def by_name(report: doctor.DoctorReport) -> dict[str, doctor.Check]:
    return {c.name: c for c in report.checks}


def test_nothing_installed_and_no_manifest_warns_without_failing() -> None:
    report = doctor.diagnose(probe=False)
    checks = by_name(report)
    assert checks["hooks"].status == doctor.WARN
    assert checks["manifest"].status == doctor.WARN
    assert checks["index"].status == doctor.INFO
    assert report.ok


def test_healthy_install_passes_every_check() -> None:
    write_manifest(
        home(),
        lesson("pytest-doc1"),
        lesson("cat-doc2", families=["read"], pathRegexSources=[{"source": "x", "flags": ""}]),
    )
    inst.install("claude")
    report = doctor.diagnose()
    checks = by_name(report)
    assert checks["hooks"].status == doctor.OK, checks["hooks"].detail
    assert checks["manifest"].status == doctor.OK and checks["manifest"].data["lessons"] == 2
    assert checks["index"].status == doctor.OK and checks["index"].data["families"] == [
        "read",
        "shell",
    ]
    probe = checks["probe"]
    # WARN only when a very loaded machine makes the probe slower than the deadline
    assert probe.status in (doctor.OK, doctor.WARN), probe.detail
    (result,) = probe.data["results"]
    assert result["command"] == inst.hook_command("pre-tool-use") and result["answer"] == {}
    assert report.ok
    assert json.loads(json.dumps(report.to_dict()))["ok"] is True


def test_broken_command_and_broken_settings_fail(tmp_path: Path) -> None:
    inst.install("claude", python=str(tmp_path / "gone" / "python"))
    checks = by_name(doctor.diagnose())
    assert checks["hooks"].status == doctor.FAIL and "missing file" in checks["hooks"].detail
    assert checks["probe"].status == doctor.FAIL
    project = tmp_path / "proj"
    (project / ".gemini").mkdir(parents=True)
    (project / ".gemini" / "settings.json").write_text("{broken")
    assert not doctor.diagnose(project_dir=project, probe=False).ok


def test_probe_catches_a_command_that_prints_garbage(tmp_path: Path) -> None:
    result = doctor.probe_command("echo not-json", "claude", home(), runs=1)
    assert "not JSON" in result["error"]
    result = doctor.probe_command("exit 3", "claude", home(), runs=1)
    assert "exit status 3" in result["error"]


def test_partial_install_is_reported() -> None:
    inst.install("claude")
    path = Path(os.environ["CLAUDE_CONFIG_DIR"]) / "settings.json"
    data = json.loads(path.read_text())
    del data["hooks"]["SubagentStart"]
    path.write_text(json.dumps(data))
    check = doctor.check_hooks(doctor.find_installs())
    assert check.status == doctor.WARN and "SubagentStart" in check.detail


def test_stale_and_corrupt_manifest(tmp_path: Path) -> None:
    manifest = write_manifest(home(), lesson("pytest-doc3"))
    store = home() / "lessons.json"
    store.write_text("{}")
    os.utime(manifest, (time.time() - 60, time.time() - 60))
    check, _ = doctor.check_manifest(home())
    assert check.status == doctor.WARN and "lessons.json" in check.detail
    check, _ = doctor.check_manifest(home(), lesson_stores=[])
    assert check.status == doctor.OK
    manifest.write_text("{nope")
    check, _ = doctor.check_manifest(home())
    assert check.status == doctor.FAIL


def _transcripts(tmp_path: Path, ages_days: list[float], now: float) -> list[Path]:
    paths = []
    for i, age in enumerate(ages_days):
        path = tmp_path / f"s{i}.jsonl"
        path.write_text("{}\n")
        os.utime(path, (now - age * DAY, now - age * DAY))
        paths.append(path)
    return paths


def test_retention_warns_about_old_unscanned_transcripts(tmp_path: Path) -> None:
    now = time.time()
    old, recent = _transcripts(tmp_path, [29.5, 3], now)
    check = doctor.check_retention(None, [old, recent], (30.0, "default"), now=now)
    assert check.status == doctor.WARN and "no scan record" in check.detail
    assert check.data["oldest_unscanned"] == str(old)

    scanned = {str(old): old.stat().st_mtime}
    check = doctor.check_retention(
        lambda p: scanned.get(str(p)), [old, recent], (30.0, "default"), now=now
    )
    assert check.status == doctor.OK and check.data["unscanned"] == 1
    # a file that grew after its scan counts as unscanned again
    check = doctor.check_retention(
        lambda p: scanned.get(str(p)) and scanned[str(p)] - 10, [old], (30.0, "x"), now=now
    )
    assert check.status == doctor.WARN
    # a longer retention gives room
    assert doctor.check_retention(None, [old], (90.0, "settings"), now=now).status == doctor.OK
    assert doctor.check_retention(None, [], (30.0, "default"), now=now).status == doctor.INFO


def test_cleanup_period_is_read_from_claude_settings() -> None:
    path = Path(os.environ["CLAUDE_CONFIG_DIR"]) / "settings.json"
    assert doctor.claude_cleanup_days() == (30.0, "default")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"cleanupPeriodDays": 7}))
    assert doctor.claude_cleanup_days() == (7.0, str(path))


def test_cli_doctor_json_and_exit_code(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["doctor", "--json", "--no-probe"], catch_exceptions=False)
    assert result.exit_code == 0
    assert [c["name"] for c in json.loads(result.output)["checks"]] == [
        "hooks",
        "manifest",
        "index",
        "retention",
    ]
    inst.install("claude", python=str(tmp_path / "missing-python"))
    result = runner.invoke(cli, ["doctor", "--no-probe"], catch_exceptions=False)
    assert result.exit_code == 1 and "FAIL" in result.output


def test_project_lesson_store_makes_the_manifest_stale(tmp_path: Path) -> None:
    manifest = write_manifest(home(), lesson("pytest-doc4"))
    os.utime(manifest, (time.time() - 60, time.time() - 60))
    store = tmp_path / "proj" / ".forewarn" / "lessons.json"
    store.parent.mkdir(parents=True)
    store.write_text("{}")
    check, _ = doctor.check_manifest(home(), project_dir=tmp_path / "proj")
    assert check.status == doctor.WARN and str(store) in check.data["stale_against"]

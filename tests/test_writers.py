"""Writers: entries, merge rules, routing per agent, detection, planning and applying."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forewarn.analyze.findings import CATEGORIES
from forewarn.errors import ForewarnError, RefusedError
from forewarn.writers import (
    Entry,
    apply_plans,
    detect_agents,
    get_writer,
    plan_learnings,
    registry,
    suggest_route,
)
from forewarn.writers.base import HEADING, NOTE, merge_section
from forewarn.writers.claude import canonical_git_root, memory_file, project_slug
from forewarn.writers.section import START, read_section

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    tomllib = None

PY = Entry("environment", "env:python", "**Python**: use `uv run python` (not `python3`)")
PATH = Entry("paths", "path:consts", "`a/Consts.scala` -> actually at `b/Consts.scala`")
HOME = Entry("commands", "cmd:home", "run `/home/me/bin/tool` directly", route="personal")
GONE = Entry("paths", "path:gone", "`tmp/out` is often missing", route="volatile")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    return root


@pytest.fixture
def claude_dir(tmp_path: Path) -> Path:
    return tmp_path / "claude-config"


# --- entries ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"category": "nope"}, "unknown category"),
        ({"key": "has space"}, "bad entry key"),
        ({"key": "x-->y"}, "bad entry key"),
        ({"route": "global"}, "unknown route"),
        ({"text": "  "}, "has no text"),
    ],
)
def test_entry_validation(kwargs: dict[str, str], message: str) -> None:
    fields = {"category": "paths", "key": "k", "text": "t", **kwargs}
    with pytest.raises(ValueError, match=message):
        Entry(**fields)


def test_bullet_is_one_line_with_its_key() -> None:
    assert (
        Entry("paths", "k1", "two\n  lines <!-- x -->").bullet()
        == "- two lines &lt;!-- x --> <!-- fw:k1 -->"
    )
    assert Entry("paths", "k2", "* starred").bullet() == "* starred <!-- fw:k2 -->"


def test_suggest_route_follows_seed_table() -> None:
    assert suggest_route("path_not_found", "`/home/ann/x.py` -> `/home/ann/y.py`") == "personal"
    assert suggest_route("env_runtime", "use `~/venv/bin/python`") == "personal"
    assert suggest_route("permission_denied", "`/etc/hosts` is read-only") == "volatile"
    assert suggest_route("path_not_found", "`build/` is missing", fix_known=False) == "volatile"
    assert suggest_route("path_not_found", "`a/x` -> `b/x`") == "team"
    assert suggest_route("env_runtime", "use `uv run python`") == "team"


# --- merge ------------------------------------------------------------------------------------


def test_render_fresh_section() -> None:
    body = merge_section(None, [PATH, PY])
    assert body == (
        f"{HEADING}\n\n{NOTE}\n\n"
        "### Environment\n\n" + PY.bullet() + "\n\n"
        "### File Path Corrections\n\n" + PATH.bullet() + "\n"
    )
    assert merge_section(body, [PATH, PY]) == body


def test_old_keys_are_kept_unless_retired() -> None:
    body = merge_section(None, [PY, PATH])
    kept = merge_section(body, [PY])
    assert PATH.bullet() in kept
    assert PATH.bullet() not in merge_section(body, [PY], drop={"path:consts"})
    assert merge_section(body, [PY, PATH], drop={"path:consts"}) == merge_section(None, [PY])


def test_updated_text_replaces_in_place() -> None:
    other = Entry("environment", "env:node", "use `pnpm`")
    body = merge_section(None, [PY, other])
    changed = Entry("environment", "env:python", "use `uv run python3.12`")
    new = merge_section(body, [changed, other])
    lines = new.splitlines()
    assert lines.index(changed.bullet()) < lines.index(other.bullet())
    assert PY.bullet() not in new


def test_human_lines_are_kept_in_place() -> None:
    body = merge_section(None, [PY, PATH])
    edited = body.replace(
        PY.bullet(), "- my own note about python\n" + PY.bullet() + "\n  - human sub-bullet"
    ).replace("### File Path Corrections", "intro I wrote\n\n### File Path Corrections")
    edited += "\n### My Notes\n\n- keep this too\n"
    new_py = Entry("environment", "env:python", "use `uv run python`, always")
    merged = merge_section(edited, [new_py, PATH])
    assert merged.splitlines()[merged.splitlines().index("### Environment") + 2 :][:4] == [
        "- my own note about python",
        new_py.bullet(),
        "  - human sub-bullet",
        "intro I wrote",
    ]
    assert merged.endswith("### My Notes\n\n- keep this too\n")
    assert merge_section(merged, [new_py, PATH]) == merged


def test_human_lines_above_the_first_heading_are_kept() -> None:
    body = merge_section(None, [PY]).replace(NOTE, NOTE + "\n\n- top level mine")
    merged = merge_section(body, [PY])
    assert "- top level mine" in merged and merged.count(NOTE) == 1 and merged.count(HEADING) == 1


def test_category_change_moves_the_bullet_with_its_sub_lines() -> None:
    body = merge_section(None, [PY]).replace(PY.bullet(), PY.bullet() + "\n  - why: see #12")
    moved = Entry("commands", "env:python", "python via uv")
    merged = merge_section(body, [moved])
    assert "### Environment" not in merged
    assert merged.endswith("### Command Patterns\n\n" + moved.bullet() + "\n  - why: see #12\n")


def test_duplicate_keys() -> None:
    with pytest.raises(ValueError, match="duplicate entry key"):
        merge_section(None, [PY, PY])
    body = merge_section(None, [PY])
    doubled = body + PY.bullet() + "\n"
    assert merge_section(doubled, [PY]).count("fw:env:python") == 1


def test_headings_follow_category_order() -> None:
    entries = [Entry(cat, f"k:{cat}", f"about {cat}") for cat in reversed(list(CATEGORIES))]
    body = merge_section(None, entries)
    headings = [line[4:] for line in body.splitlines() if line.startswith("### ")]
    assert headings == list(CATEGORIES.values())


TEXTS = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=40
).filter(lambda s: s.strip() != "")


@settings(max_examples=100, deadline=None)
@given(
    old=st.lists(st.tuples(st.sampled_from(list(CATEGORIES)), TEXTS), max_size=5),
    new=st.lists(st.tuples(st.sampled_from(list(CATEGORIES)), TEXTS), max_size=5),
    human=st.lists(TEXTS.map(lambda s: "- " + " ".join(s.split())), max_size=3),
)
def test_merge_is_idempotent_and_keeps_everything(
    old: list[tuple[str, str]], new: list[tuple[str, str]], human: list[str]
) -> None:
    old_entries = [Entry(c, f"old{i}", t) for i, (c, t) in enumerate(old)]
    new_entries = [Entry(c, f"new{i}", t) for i, (c, t) in enumerate(new)]
    body = merge_section(None, old_entries)
    if human and old_entries:
        first = CATEGORIES[old_entries[0].category]
        body = body.replace(f"### {first}\n\n", f"### {first}\n\n" + "\n".join(human) + "\n", 1)
    merged = merge_section(body, new_entries)
    assert merge_section(merged, new_entries) == merged
    for e in old_entries + new_entries:
        assert f"<!-- fw:{e.key} -->" in merged
    for line in human if old_entries else []:
        assert line.rstrip() in merged


# --- Claude Code paths ------------------------------------------------------------------------


def test_project_slug() -> None:
    assert project_slug("/home/u/my.proj_x") == "-home-u-my-proj-x"
    assert project_slug("/tmp/café") == "-tmp-caf-"
    assert project_slug("/tmp/a🙂b") == "-tmp-a--b"  # two UTF-16 code units, two dashes


def test_canonical_git_root(tmp_path: Path) -> None:
    main = tmp_path / "repo"
    (main / ".git" / "worktrees" / "wt").mkdir(parents=True)
    (main / "src" / "pkg").mkdir(parents=True)
    assert canonical_git_root(main / "src" / "pkg") == main
    (main / ".git" / "worktrees" / "wt" / "commondir").write_text("../..\n")
    wt = tmp_path / "wt"
    (wt / "lib").mkdir(parents=True)
    (wt / ".git").write_text(f"gitdir: {main / '.git' / 'worktrees' / 'wt'}\n")
    assert canonical_git_root(wt / "lib") == main
    sub = main / "vendor" / "dep"
    sub.mkdir(parents=True)
    (main / ".git" / "modules" / "dep").mkdir(parents=True)
    (sub / ".git").write_text("gitdir: ../../.git/modules/dep\n")
    assert canonical_git_root(sub) == sub


def test_memory_file_is_keyed_by_the_repository_root(project: Path, claude_dir: Path) -> None:
    (project / ".git").mkdir()
    (project / "app").mkdir()
    expected = claude_dir / "projects" / project_slug(project.resolve()) / "memory" / "MEMORY.md"
    assert memory_file(project / "app", claude_dir) == expected


def test_memory_file_for_long_paths_is_looked_up(tmp_path: Path, claude_dir: Path) -> None:
    deep = tmp_path.joinpath(*(["d" * 40] * 6))
    deep.mkdir(parents=True)
    slug = project_slug(deep.resolve())
    assert len(slug) > 200
    with pytest.raises(RefusedError, match="path too long"):
        memory_file(deep, claude_dir)
    found = claude_dir / "projects" / (slug[:200] + "-abc123")
    found.mkdir(parents=True)
    assert memory_file(deep, claude_dir) == found / "memory" / "MEMORY.md"


def test_claude_routes(project: Path, claude_dir: Path) -> None:
    writer = get_writer("claude", claude_dir)
    assert writer.route_file(project, "team") == project / "CLAUDE.md"
    assert writer.route_file(project, "personal") == project / "CLAUDE.local.md"
    assert writer.route_file(project, "volatile") == memory_file(project, claude_dir)
    (project / ".claude").mkdir()
    (project / ".claude" / "CLAUDE.md").write_text("# nested\n")
    assert writer.route_file(project, "team") == project / ".claude" / "CLAUDE.md"


@pytest.mark.parametrize(
    ("name", "relpath"),
    [
        ("codex", "AGENTS.md"),
        ("opencode", "AGENTS.md"),
        ("gemini", "GEMINI.md"),
        ("cursor", ".cursor/rules/forewarn.mdc"),
        ("copilot", ".github/copilot-instructions.md"),
    ],
)
def test_single_file_agents_route_everything_to_one_file(
    project: Path, name: str, relpath: str
) -> None:
    writer = get_writer(name)
    assert writer.files(project) == [project / relpath]


# --- registry and detection -------------------------------------------------------------------


def test_registry_and_unknown_agent() -> None:
    assert list(registry())[:6] == ["claude", "codex", "opencode", "gemini", "cursor", "copilot"]
    with pytest.raises(ForewarnError, match=r"unknown agent 'vim' \(known: claude, codex"):
        get_writer("vim")


@pytest.mark.skipif(tomllib is None, reason="tomllib needs Python 3.11")
def test_builtins_are_registered_as_entry_points() -> None:
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    data = tomllib.loads(pyproject.read_text())
    declared = data["project"]["entry-points"]["forewarn.writers"]
    from forewarn.writers import _BUILTIN

    assert declared == _BUILTIN


@pytest.mark.parametrize(
    ("paths", "expected"),
    [
        ([], ["claude"]),
        (["CLAUDE.md"], ["claude"]),
        ([".claude/"], ["claude"]),
        (["AGENTS.md"], ["codex"]),
        (["AGENTS.md", "opencode.json"], ["codex", "opencode"]),
        (["GEMINI.md", ".cursor/"], ["gemini", "cursor"]),
        ([".github/copilot-instructions.md", ".codex/"], ["codex", "copilot"]),
    ],
)
def test_detect_agents(project: Path, paths: list[str], expected: list[str]) -> None:
    for rel in paths:
        target = project / rel
        if rel.endswith("/"):
            target.mkdir(parents=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text("x\n")
    assert detect_agents(project) == expected


# --- planning and applying --------------------------------------------------------------------


def plan_and_apply(
    project: Path, entries: list[Entry], claude_dir: Path, **kwargs: object
) -> list[Path]:
    plans = plan_learnings(project, entries, config_dirs={"claude": claude_dir}, **kwargs)  # type: ignore[arg-type]
    return apply_plans(plans)


def test_claude_writes_each_route_to_its_file(project: Path, claude_dir: Path) -> None:
    (project / "CLAUDE.md").write_text("# My project\n")
    written = plan_and_apply(project, [PY, PATH, HOME, GONE], claude_dir)
    memory = memory_file(project, claude_dir)
    assert written == [project / "CLAUDE.md", project / "CLAUDE.local.md", memory]
    claude_md = (project / "CLAUDE.md").read_text()
    assert claude_md.startswith("# My project\n\n" + START + "\n")
    assert (
        "fw:env:python" in claude_md
        and "fw:path:consts" in claude_md
        and "fw:cmd:home" not in claude_md
    )
    assert "fw:cmd:home" in (project / "CLAUDE.local.md").read_text()
    assert "fw:path:gone" in memory.read_text()
    snapshot = {p: p.read_bytes() for p in written}
    again = plan_learnings(project, [PY, PATH, HOME, GONE], config_dirs={"claude": claude_dir})
    assert [p.action for p in again] == ["unchanged"] * 3
    assert apply_plans(again) == [] and {p: p.read_bytes() for p in written} == snapshot


def test_files_with_nothing_to_write_are_not_planned(project: Path, claude_dir: Path) -> None:
    plans = plan_learnings(project, [PY], config_dirs={"claude": claude_dir})
    assert [(p.path, p.action) for p in plans] == [(project / "CLAUDE.md", "create")]
    assert plan_learnings(project, [], config_dirs={"claude": claude_dir}) == []


def test_a_changed_route_moves_the_entry(project: Path, claude_dir: Path) -> None:
    plan_and_apply(project, [PY, PATH], claude_dir)
    personal = Entry(PATH.category, PATH.key, PATH.text, route="personal")
    plan_and_apply(project, [PY, personal], claude_dir)
    assert "fw:path:consts" not in (project / "CLAUDE.md").read_text()
    assert "fw:path:consts" in (project / "CLAUDE.local.md").read_text()


def test_retire_reaches_files_without_new_entries(project: Path, claude_dir: Path) -> None:
    plan_and_apply(project, [PY, GONE], claude_dir)
    plan_and_apply(project, [PY], claude_dir)
    memory = memory_file(project, claude_dir)
    assert "fw:path:gone" in memory.read_text()  # not learned again, still kept
    plan_and_apply(project, [PY], claude_dir, retire={"path:gone"})
    assert "fw:path:gone" not in memory.read_text()
    assert read_section(memory) == f"{HEADING}\n\n{NOTE}\n"


def test_shared_files_are_planned_once(project: Path, claude_dir: Path) -> None:
    (project / "AGENTS.md").write_text("# Agents\n")
    (project / "opencode.json").write_text("{}\n")
    (project / "CLAUDE.md").symlink_to("AGENTS.md")
    plans = plan_learnings(
        project, [PY, HOME], agents=detect_agents(project), config_dirs={"claude": claude_dir}
    )
    assert detect_agents(project) == ["claude", "codex", "opencode"]
    assert [p.path.name for p in plans] == ["CLAUDE.md", "CLAUDE.local.md"]
    apply_plans(plans)
    assert (project / "CLAUDE.md").is_symlink()
    shared = (project / "AGENTS.md").read_text()
    # Codex has no personal file, so the personal entry lands in AGENTS.md, which CLAUDE.md shares
    assert shared.count(START) == 1 and "fw:env:python" in shared and "fw:cmd:home" in shared


def test_cursor_frontmatter_is_written_once(project: Path) -> None:
    plan_and_apply(project, [PY], project, agents=["cursor"])
    rule = project / ".cursor" / "rules" / "forewarn.mdc"
    text = rule.read_text()
    assert text.startswith("---\ndescription: ") and "\nalwaysApply: true\n---\n\n" + START in text
    rule.write_text(text.replace("alwaysApply: true", "alwaysApply: false"))
    plan_and_apply(project, [PY, PATH], project, agents=["cursor"])
    assert rule.read_text().startswith("---\ndescription: ")
    assert "alwaysApply: false" in rule.read_text() and "fw:path:consts" in rule.read_text()


def test_explicit_target_takes_every_entry(project: Path, tmp_path: Path) -> None:
    target = tmp_path / "notes" / "LEARNED.md"
    written = plan_and_apply(project, [PY, HOME, GONE], tmp_path, target=target)
    assert written == [target]
    text = target.read_text()
    assert all(f"fw:{e.key}" in text for e in (PY, HOME, GONE))
    assert not (project / "CLAUDE.md").exists()


def test_apply_plans_checks_every_file_before_writing(project: Path, claude_dir: Path) -> None:
    plans = plan_learnings(project, [PY, HOME], config_dirs={"claude": claude_dir})
    (project / "CLAUDE.local.md").write_text("appeared meanwhile\n")
    with pytest.raises(RefusedError, match=r"CLAUDE\.local\.md: changed on disk"):
        apply_plans(plans)
    assert not (project / "CLAUDE.md").exists()


def test_damaged_markers_refuse_the_whole_plan(project: Path, claude_dir: Path) -> None:
    (project / "CLAUDE.md").write_text(f"# T\n{START}\n")
    with pytest.raises(RefusedError, match="has no end marker"):
        plan_learnings(project, [PY], config_dirs={"claude": claude_dir})
    assert os.listdir(project) == ["CLAUDE.md"]


def test_an_unknowable_memory_folder_only_matters_for_volatile_entries(
    tmp_path: Path, claude_dir: Path
) -> None:
    deep = tmp_path.joinpath(*(["d" * 40] * 6))
    deep.mkdir(parents=True)
    plans = plan_learnings(deep, [PY], config_dirs={"claude": claude_dir})
    assert [p.path for p in plans] == [deep / "CLAUDE.md"]
    with pytest.raises(RefusedError, match="path too long"):
        plan_learnings(deep, [PY, GONE], config_dirs={"claude": claude_dir})

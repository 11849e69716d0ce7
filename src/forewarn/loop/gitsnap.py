"""What an agent changed, read from git WITHOUT committing, stashing or touching the user's index.

Seed 002's loop made temporary commits to diff against; that rewrites the user's history and
races with their own commits. Instead a snapshot is a git *tree*: the working tree (tracked and
untracked files, `.gitignore` respected) is added to a throw-away index (`GIT_INDEX_FILE`, seeded
from a copy of the real index so unchanged files are not re-hashed) and written with
`git write-tree`. Two snapshots diff like two commits.

Invariants: no ref, commit, stash, index or working-tree file of the user's repository is
changed; the only trace is unreferenced tree and blob objects, which `git gc` prunes. Every git
call has a timeout; a directory that is not in a git work tree gives `None` snapshots and empty
diffs rather than errors.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

GIT_TIMEOUT = 120.0


def _git(args: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-c", "core.quotepath=off", *args], cwd=str(cwd), env=env, capture_output=True, text=True,
                          errors="replace", timeout=GIT_TIMEOUT, stdin=subprocess.DEVNULL)


def repo_root(path: Path) -> Path | None:
    """The top of the git work tree holding `path`, or None (not a repository, or no git)."""
    try:
        done = _git(["rev-parse", "--show-toplevel"], path)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode != 0 or not done.stdout.strip():
        return None
    return Path(done.stdout.strip())


def head(root: Path) -> str | None:
    done = _git(["rev-parse", "--verify", "-q", "HEAD"], root)
    return done.stdout.strip() if done.returncode == 0 else None


def _index_path(root: Path) -> Path | None:
    done = _git(["rev-parse", "--git-path", "index"], root)
    if done.returncode != 0:
        return None
    path = Path(done.stdout.strip())
    return path if path.is_absolute() else root / path


def snapshot(root: Path) -> str | None:
    """The id of a tree holding the work tree as it is now, or None when git cannot make one."""
    real_index = _index_path(root)
    with tempfile.TemporaryDirectory(prefix="forewarn-index-") as tmp:
        index = Path(tmp) / "index"
        env = {**os.environ, "GIT_INDEX_FILE": str(index), "GIT_OPTIONAL_LOCKS": "0"}
        for seeded in (True, False):  # a copy caught mid-write is unusable: start empty then
            index.unlink(missing_ok=True)
            if seeded and real_index is not None and real_index.is_file():
                try:
                    shutil.copyfile(real_index, index)
                except OSError:
                    continue
            try:
                added = _git(["add", "-A", "--", "."], root, env)
                if added.returncode != 0:
                    continue
                tree = _git(["write-tree"], root, env)
            except (OSError, subprocess.TimeoutExpired):
                return None
            if tree.returncode == 0 and tree.stdout.strip():
                return tree.stdout.strip()
    return None


def head_tree(root: Path) -> str:
    """HEAD's tree, or the empty tree in a repository without commits."""
    done = _git(["rev-parse", "--verify", "-q", "HEAD^{tree}"], root)
    if done.returncode == 0 and done.stdout.strip():
        return done.stdout.strip()
    empty = subprocess.run(["git", "hash-object", "-t", "tree", "--stdin"], cwd=str(root), input="",
                           capture_output=True, text=True, timeout=GIT_TIMEOUT)
    return empty.stdout.strip()


def _pathspec(root: Path, within: Path | None, exclude: Sequence[str]) -> list[str]:
    spec: list[str] = []
    if within is not None:
        try:
            rel = within.resolve().relative_to(root.resolve())
        except ValueError:
            rel = Path(".")
        spec.append(str(rel) if str(rel) != "." else ".")
    else:
        spec.append(".")
    spec += [f":(exclude){path}" for path in exclude]
    return spec


def diff(root: Path, old: str | None, new: str | None, *, within: Path | None = None,
         exclude: Sequence[str] = ()) -> str:
    """The unified diff between two snapshots (empty when either is missing)."""
    if not old or not new or old == new:
        return ""
    done = _git(["diff", "--no-color", "--no-ext-diff", "--no-renames", old, new, "--",
                 *_pathspec(root, within, exclude)], root)
    return done.stdout if done.returncode == 0 else ""


def changed_files(root: Path, old: str | None, new: str | None, *, within: Path | None = None,
                  exclude: Sequence[str] = ()) -> list[str]:
    """Paths changed between two snapshots, relative to `within` (default: the repository)."""
    if not old or not new or old == new:
        return []
    done = _git(["diff", "--name-only", "--no-renames", old, new, "--", *_pathspec(root, within, exclude)], root)
    if done.returncode != 0:
        return []
    prefix = ""
    if within is not None:
        try:
            rel = within.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            rel = "."
        prefix = "" if rel == "." else rel + "/"
    return [line[len(prefix):] if prefix and line.startswith(prefix) else line
            for line in done.stdout.splitlines() if line.strip()]

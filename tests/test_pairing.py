"""Failure → fix pairing rules, on small synthetic sessions (no corpus data).

Each test builds a list of `ToolCall`s the way a reader would, judges them with the real
`detect.judge`, and checks which later call `pair` names as the fix — or that it names none,
because a wrong fix costs more than a missing one.
"""

from __future__ import annotations

from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st

from forewarn.analyze import intent
from forewarn.analyze.detect import classify, judge
from forewarn.analyze.pairing import pair
from forewarn.analyze.session import analyze_session
from forewarn.model import ERROR, OK, PENDING, REJECTED, ToolCall

# -- building sessions ---------------------------------------------------------------------------


def call(tool: str, inp: dict[str, Any], output: str = "", *, code: int | None = None, status: str | None = None,
         thread: str = "main", note: str | None = None) -> ToolCall:
    st_ = status or (ERROR if code else OK)
    return ToolCall("", tool, inp, 0, status=st_, is_error=st_ == ERROR, exit_code=code, output=output,
                    output_bytes=len(output), thread=thread, user_note=note)


def bash(command: str, output: str = "", code: int | None = None, **kw: Any) -> ToolCall:
    return call("Bash", {"command": command}, output, code=code, **kw)


def ok(command: str, output: str = "done", **kw: Any) -> ToolCall:
    return bash(command, output, **kw)


def fail(command: str, output: str, code: int = 1) -> ToolCall:
    return bash(command, f"Exit code {code}\n{output}", code)


def edit(path: str, old: str, new: str, output: str = "updated", **kw: Any) -> ToolCall:
    return call("Edit", {"file_path": path, "old_string": old, "new_string": new}, output, **kw)


def fix_of(calls: list[ToolCall], index: int = 0) -> int | None:
    """Index of the call paired as the fix of `calls[index]` (which must be judged failed)."""
    for n, c in enumerate(calls):
        c.call_id, c.seq = f"c{n}", n * 100
    verdicts = [judge(c) for c in calls]
    assert verdicts[index].failed, f"call {index} was expected to fail: {verdicts[index]}"
    p = pair(index, calls, [v.failed for v in verdicts], [v.kind for v in verdicts])
    return int(p.fix.call_id[1:]) if p.fix else None


COBRA_USAGE = "\nUsage:\n  tool doctor [flags]\n\nFlags:\n  -h, --help   help for doctor\n"

# -- kinds that steer pairing ----------------------------------------------------------------------


def test_a_usage_text_after_an_ordinary_error_is_not_a_cli_usage_mistake() -> None:
    c = fail("tool doctor --fix", "Error: doctor found 2 error(s)" + COBRA_USAGE + "\n  ⚠ shell integration not installed")
    assert classify(c) == "build_or_test_failure"
    c = fail("tool daemon start", "Error: daemon failed to start (check logs)" + COBRA_USAGE)
    assert classify(c) == "other"


def test_real_usage_mistakes_are_still_usage_mistakes() -> None:
    assert classify(fail("tool status --global", "Error: unknown flag: --global" + COBRA_USAGE)) == "wrong_cli_usage"
    assert classify(fail("tool daemon stop", "Error: accepts 1 arg(s), received 0" + COBRA_USAGE)) == "wrong_cli_usage"
    assert classify(fail("yarn test:web", 'Usage Error: Couldn\'t find a script named "test:web".')) == "wrong_cli_usage"
    assert classify(fail("prog x", "usage: prog [-h] {a,b}\nprog: error: invalid choice: 'x'", 2)) == "wrong_cli_usage"


def test_incidental_words_in_long_output_do_not_decide_the_kind() -> None:
    flags = "\n".join(f"  --opt{i}   some option" for i in range(40))
    c = fail("tool daemon stop", "Error: accepts 1 arg(s), received 0\nUsage:\n" + flags + "\n  --sandbox  run in a sandbox")
    assert classify(c) == "wrong_cli_usage"
    report = "Error: check failed\n" + "x\n" * 300 + "Python version: 3.12 Platform: linux-with-glibc2.39"
    assert classify(fail("make check", report)) == "build_or_test_failure"


def test_credential_prompts_that_time_out_are_permission_problems() -> None:
    out = "Place your finger on the reader\nVerification timed out\nsudo: a terminal is required to read the password"
    c = fail("sudo pacman -S x", out)
    c.timed_out = True
    assert classify(c) == "permission_denied"


def test_an_explicit_zero_exit_is_trusted_unless_something_masks_it() -> None:
    warned = bash('gh pr create --body "a\nb"', "Exit code: 0\nerror: Failed to spawn: `ruff`\nhttps://x/pull/1", code=0)
    assert not judge(warned).failed
    masked = bash("make run || true", "bash: line 3: foo: command not found\nmake: *** [Makefile:9: run] Error 127", code=0)
    assert judge(masked).failed


def test_probe_misuse_and_errors_upstream_of_a_filter_are_failures() -> None:
    assert judge(fail("grep -R --fixed-strings \"--x=\"", "grep: unrecognized option '--x='", 2)).failed
    net = "ssh: Could not resolve hostname github.com: Temporary failure in name resolution\nfatal: Could not read"
    assert judge(fail("git ls-remote --heads origin | rg -n main", net)).kind == "network"
    assert not judge(fail("git branch -a | grep feature", "")).failed


# -- shell commands --------------------------------------------------------------------------------


def test_another_subcommand_of_the_same_program_is_not_the_fix() -> None:
    calls = [fail("tool daemon start", "Error: daemon failed to start" + COBRA_USAGE),
             ok("tool daemon logs", "12:00 heartbeat"), ok("tool daemon status", "not running"), ok("tool doctor")]
    assert fix_of(calls) is None


def test_build_fix_is_the_first_clean_run_preferring_the_same_flags() -> None:
    calls = [fail("tool doctor --fix", "Error: doctor found 2 error(s)" + COBRA_USAGE),
             ok("tool doctor --verbose 2>&1 | grep -A 10 beads", "  ✖  beads-exist 2 missing"),
             bash("tool doctor --fix 2>&1 | tail -40", "✖  beads-exist 2 missing\n✓ 50 passed ✖ 2 failed"),
             ok("tool doctor", "✓ 54 passed  ⚠ 4 warnings  ✖ 0 failed"),
             ok("tool doctor --fix", "✓ 55 passed  ⚠ 3 warnings  ✖ 0 failed")]
    assert fix_of(calls) == 4
    assert fix_of(calls[:4]) == 3  # no run with the same flags: the clean run with others


def test_a_test_run_piped_into_grep_is_a_diagnostic() -> None:
    calls = [fail("pytest -x", "FAILED tests/test_a.py::test_x\n1 failed, 3 passed"),
             ok("pytest -x 2>&1 | grep -c passed", "3"), ok("uv run pytest -x", "4 passed in 0.2s")]
    assert fix_of(calls) == 2


def test_the_long_repair_of_a_build_is_still_followed() -> None:
    calls = [fail("cargo test", "error[E0308]: mismatched types\nerror: could not compile")]
    calls += [edit(f"/p/src/m{i}.rs", f"a{i}", f"b{i}") for i in range(120)]
    calls.append(ok("cargo test", "test result: ok. 12 passed; 0 failed"))
    assert fix_of(calls) == 121


def test_usage_mistake_fixed_by_reordered_or_stemmed_words() -> None:
    calls = [fail("tool install --shell", "Error: directory is already set up" + COBRA_USAGE),
             ok("tool status"), ok("tool shell --help", "Usage: ..."), ok("tool shell install", "installed")]
    assert fix_of(calls) == 3
    calls = [fail("db daemon stop", "Error: accepts 1 arg(s), received 0" + COBRA_USAGE),
             ok("db daemons list", "PID 12"), ok("db daemons stop /srv/ws", "stopped")]
    assert fix_of(calls) == 2


def test_dropping_the_only_bad_flag_is_too_little_to_call_a_fix() -> None:
    calls = [fail("tool status --global", "Error: unknown flag: --global" + COBRA_USAGE), ok("tool status")]
    assert fix_of(calls) is None
    calls = [fail("tool show X1 --tree", "Error: unknown flag: --tree" + COBRA_USAGE), ok("tool show X1 --children")]
    assert fix_of(calls) == 1


def test_a_bad_invocation_is_fixed_by_the_run_that_got_as_far_as_failing_tests() -> None:
    calls = [fail('yarn test:web --grep "two step sync"', 'Usage Error: Couldn\'t find a script named "test:web".'),
             fail('yarn test_web --grep "two step sync"', "  1) two step sync\n  1 failing\nError: expected 1")]
    assert judge(calls[1]).kind == "build_or_test_failure"
    assert fix_of(calls) == 1


def test_missing_module_fixed_by_installing_and_running_in_one_line() -> None:
    calls = [fail(".venv/bin/python -m pytest tests/a.py -v", "/p/.venv/bin/python: No module named pytest"),
             ok("uv pip install pytest && uv run pytest tests/a.py -v", "1 passed"), ok("uv run pytest -v", "9 passed")]
    assert fix_of(calls) == 1


def test_a_missing_tool_is_fixed_by_its_stand_in() -> None:
    calls = [bash('rg -n "profiles" scripts', "bash: line 1: rg: command not found", 127),
             bash('grep -R -n "profiles" scripts', "scripts/a.sh:3: profiles=1")]
    assert fix_of(calls) == 1
    calls = [bash("file data.json", "bash: line 1: file: command not found", 127), ok("cat data.json", "{}")]
    assert fix_of(calls) is None  # reading a file is not telling its type


def test_interpreters_compare_their_scripts() -> None:
    calls = [fail("python3 ~/bin/calendar.py", "Traceback (most recent call last):\nAttributeError: x"),
             ok("python3 << 'EOF'\nprint('hello')\nEOF", "hello"), ok("python3 ~/bin/calendar.py", "ok")]
    assert fix_of(calls) == 2


def test_in_a_chain_the_last_action_is_what_was_wanted() -> None:
    calls = [fail("cd /r/hw && git add . && git commit -m hw && git push", "fatal: could not read Username", 128),
             ok("cd /r/hw && git remote -v && gh auth status"),
             ok("cd /r/users && git add . && git commit -m users && git push"),
             ok("git remote set-url origin https://host/r.git && git push", "main -> main")]
    assert fix_of(calls) == 3


def test_a_call_cancelled_with_its_sibling_is_fixed_by_its_rerun() -> None:
    cancelled = "<tool_use_error>Sibling tool call errored</tool_use_error>"
    calls = [bash("uv run flake8 src --count", cancelled, status=ERROR),
             ok("uv run flake8 src --exit-zero"), ok("uv pip install flake8 && uv run flake8 src --count", "0")]
    assert fix_of(calls) == 2
    calls = [call("Read", {"file_path": "/p/a.md"}, cancelled, status=ERROR),
             call("Read", {"file_path": "/p/b.md"}, "b"), call("Read", {"file_path": "/p/a.md"}, "a")]
    assert fix_of(calls) == 2


def test_a_copy_of_a_file_that_was_too_large_is_not_reading_it_in_part() -> None:
    big = "<persisted-output>\nOutput too large (2MB). Full output saved to: /tmp/x"
    calls = [bash("cat .data/daemon.log", big), ok("cat config/town.json", "{}"), ok("tail -50 .data/daemon.log")]
    assert fix_of(calls) == 2


def test_background_and_unanswered_runs_are_not_fixes() -> None:
    calls = [fail("npm test", "1 failing"), call("Bash", {"command": "npm test", "run_in_background": True}, "started"),
             bash("npm test", "", status=PENDING), ok("npm test", "12 passing")]
    assert fix_of(calls) == 3


def test_other_threads_are_never_searched() -> None:
    calls = [fail("make build", "make: *** [all] Error 2"), ok("make build", thread="agent-1"), ok("make build")]
    assert fix_of(calls) == 2


# -- edits ---------------------------------------------------------------------------------------


def test_an_edit_elsewhere_in_the_file_is_not_the_fix() -> None:
    old = "    def start(self):\n        self.running = True\n        self.log('started')\n"
    calls = [edit("/p/svc.py", old, old.replace("True", "False"), "<tool_use_error>String to replace not found in file.",
                  status=ERROR),
             call("Read", {"file_path": "/p/svc.py"}, "..."),
             edit("/p/svc.py", "import os\n", "import os\nimport sys\n"),
             edit("/p/svc.py", old.replace("log", "logger.info"), old.replace("True", "False"))]
    assert fix_of(calls) == 3


def test_an_edit_redone_in_the_shell_or_by_rewriting_the_file_is_the_fix() -> None:
    miss = "<tool_use_error>String to replace not found in file.</tool_use_error>"
    calls = [edit("/home/u/.config/bar.jsonc", '"format": "{icon}"', '"format": "{cap} {icon}"', miss, status=ERROR),
             ok("cat >> ~/.config/bar.jsonc <<'EOF'\n// note\nEOF"),
             ok("""sed -i 's/"format": "{icon}"/"format": "{cap} {icon}"/' ~/.config/bar.jsonc""", "")]
    assert fix_of(calls) == 2  # an append adds text; it does not make the failed change
    calls = [edit("/p/a.py", "x = 1\n", "x = 2\n", miss, status=ERROR),
             call("Write", {"file_path": "/p/a.py", "content": "x = 2\n"}, "written")]
    assert fix_of(calls) == 1


def test_a_patch_applied_through_the_shell_is_an_edit() -> None:
    patch = "apply_patch <<'PATCH'\n*** Begin Patch\n*** Update File: docs/NOTES.md\n@@\n-old line here\n+new line\n*** End Patch\nPATCH"
    bad = bash(patch, "error: Failed to find expected lines in /r/docs/NOTES.md:\nold line here", 1)
    bad.input.update({"patch": patch, "file_path": "docs/NOTES.md"})
    assert classify(bad) == "edit_mismatch"
    script = "python3 - <<'PY'\nfrom pathlib import Path\np = Path('docs/NOTES.md')\np.write_text(p.read_text().replace('a', 'b'))\nPY"
    calls = [bad, ok("cat <<'EOF' >> docs/NOTES.md\n## More\nEOF", ""), ok(script, "")]
    assert fix_of(calls) == 2


def test_write_before_read_is_fixed_by_the_edit_after_reading() -> None:
    content = "def main():\n    print('calendar widget')\n    return 0\n"
    calls = [call("Write", {"file_path": "/p/w.py", "content": content},
                  "<tool_use_error>File has not been read yet. Read it first before writing to it.</tool_use_error>",
                  status=ERROR),
             call("Read", {"file_path": "/p/w.py"}, "old"),
             edit("/p/w.py", "    print('old')\n", "    print('calendar widget')\n")]
    assert fix_of(calls) == 2


# -- rejections ----------------------------------------------------------------------------------


def test_a_rejected_plan_is_fixed_by_the_next_approved_plan() -> None:
    calls = [call("ExitPlanMode", {"plan": "# Plan A"}, "The user doesn't want to proceed", status=REJECTED,
                  note="run it from the terminal instead"),
             call("Read", {"file_path": "/p/x"}, "x"),
             call("ExitPlanMode", {"plan": "# Plan B"}, "User has approved your plan.")]
    assert fix_of(calls) == 2


def test_a_rejected_edit_is_revised_soon_or_not_at_all() -> None:
    rejected = call("Edit", {"file_path": "/p/a.ts", "old_string": "a", "new_string": "b"}, "rejected", status=REJECTED)
    assert fix_of([rejected, edit("/p/a.ts", "a", "c")]) == 1
    later = [rejected] + [call("Read", {"file_path": f"/p/f{i}.ts"}, "x") for i in range(12)] + [edit("/p/a.ts", "a", "c")]
    assert fix_of(later) is None


def test_a_rejected_command_is_not_fixed_by_the_same_program_on_something_else() -> None:
    calls = [bash("mkdir -p ~/.local/bin && ls ~/.local/bin", "rejected", status=REJECTED),
             ok("mkdir -p ~/.config/bar/scripts", "")]
    assert fix_of(calls) is None
    calls = [bash("git add src/a.ts src/[id]/b.ts && git commit -m 'feat: x'", "rejected", status=REJECTED),
             ok("git add 'src/a.ts' 'src/[id]/b.ts' && git commit -m 'style: x'", "[main 1a2b3c] style")]
    assert fix_of(calls) == 1


# -- reads, listings, searches, the web --------------------------------------------------------------


def test_a_missing_file_is_fixed_by_reading_the_right_one_with_any_tool() -> None:
    missing = "<tool_use_error>File does not exist.</tool_use_error>"
    calls = [call("Read", {"file_path": "/r/rig/mayor/town.json"}, missing, status=ERROR),
             ok("cat /r/mayor/town.json", '{"name": "x"}')]
    assert fix_of(calls) == 1
    calls = [call("Read", {"file_path": "/r/a/create-ux/workflow.yaml"}, missing, status=ERROR),
             ok("cat /r/b/create-wireframe/workflow.yaml", "steps: []")]
    assert fix_of(calls) is None  # the same common name in another folder is another file


def test_a_search_in_a_missing_path_wants_a_search_that_finds_something() -> None:
    missing = "<tool_use_error>Path does not exist: .events.jsonl</tool_use_error>"
    calls = [call("Grep", {"pattern": "error", "path": ".events.jsonl"}, missing, status=ERROR),
             ok("wc -l .events.jsonl", "253 .events.jsonl"), ok("grep -c error logs/.events.jsonl", "4")]
    assert fix_of(calls) == 2
    calls = [call("Glob", {"pattern": "**/*.styl", "path": "/w/app/styles/register"},
                  "<tool_use_error>Directory does not exist: /w/app/styles/register</tool_use_error>", status=ERROR),
             call("Glob", {"pattern": "**/register*.styl", "path": "/w/app/styles"}, "No files found"),
             call("Glob", {"pattern": "**/*.styl", "path": "/w/app/styles"}, "/w/app/styles/a.styl")]
    assert fix_of(calls) == 2


def test_reading_a_directory_is_fixed_by_listing_it() -> None:
    calls = [call("Read", {"file_path": "/w/site"}, "EISDIR: illegal operation on a directory, read", status=ERROR),
             call("Read", {"file_path": "/w/site/index.html"}, "<html>"),
             call("Glob", {"pattern": "**/*", "path": "/w/site"}, "/w/site/index.html")]
    assert fix_of(calls) == 2


def test_a_missing_page_is_not_fixed_by_fetching_another() -> None:
    calls = [call("WebFetch", {"url": "https://host/repo/main/BUILDING.md"}, "Request failed with status code 404",
                  status=ERROR),
             call("WebFetch", {"url": "https://host/repo/main/Cargo.toml"}, "[package]"),
             call("WebFetch", {"url": "https://host/repo/master/BUILDING.md"}, "# Building")]
    assert fix_of(calls) == 2


# -- bookkeeping -------------------------------------------------------------------------------------


def test_repeats_and_wasted_bytes_count_the_same_failure_until_the_fix() -> None:
    calls = [fail("make lint", "make: *** [lint] Error 1"), fail("make lint", "make: *** [lint] Error 1"),
             ok("make lint", "clean"), fail("make lint", "make: *** [lint] Error 1")]
    for n, c in enumerate(calls):
        c.call_id, c.seq = f"c{n}", n * 100
    verdicts = [judge(c) for c in calls]
    failures = analyze_session(file="f", agent="claude", session_id="s", project=None, calls=calls,
                               failed=[v.failed for v in verdicts], kinds=[v.kind for v in verdicts])
    first = failures[0]
    assert first.fix_call_id == "c2" and first.repeats == 1 and first.wasted_bytes == 2 * calls[0].output_bytes
    assert failures[-1].fix_call_id is None


# -- the command reader ----------------------------------------------------------------------------


def test_steps_see_through_plumbing_runners_and_heredocs() -> None:
    steps = intent.steps("cd /x && FOO=1 uv run pytest -x 2>&1 | tail -20")
    assert [(s.path, s.directory, s.filters) for s in steps] == [(("pytest",), "/x", ("tail",))]
    (script,) = intent.steps("python3 - <<'PY'\nimport os; print(os.getcwd())\nPY")
    assert script.inline and "getcwd" in script.code
    (kill,) = intent.steps("ps aux | grep daemon | awk '{print $2}' | xargs -r kill -9 && sleep 2")
    assert kill.program == "kill"
    (net,) = intent.steps('powershell -Command "net localgroup users \\"Jo Doe\\" /add"')
    assert net.path == ("net", "localgroup", "user")
    (write,) = intent.steps("cat <<'EOF' > /p/plan.md\n# plan | with && symbols\nEOF")
    assert write.writes == "/p/plan.md" and not write.looks


_SHELLISH = st.text(alphabet="ab <>|&;\n'\"\\-EOF", max_size=60)


@settings(max_examples=400)
@given(st.one_of(st.text(max_size=200), _SHELLISH))
@example("<a | b<\nc")  # a `<` ending one segment and one starting the next are no here-document
def test_reading_any_command_line_never_raises(text: str) -> None:
    for step in intent.steps(text):
        assert step.program and step.path[0] == step.program
    intent.key_steps(text)


def test_a_rejection_that_redirects_the_work_has_no_revision() -> None:
    rejected = call("Edit", {"file_path": "/p/vm.ts", "old_string": "a", "new_string": "b"}, "rejected",
                    status=REJECTED, note="I don't want changes to the view models. Let's revert those.")
    assert fix_of([rejected, edit("/p/vm.ts", "b", "a")]) is None
    rejected.user_note = "No, just check both values in one helper"
    assert fix_of([rejected, edit("/p/vm.ts", "a", "check(b)")]) == 1


def test_inline_argparse_experiments_and_cancelled_probes() -> None:
    experiment = "python3 - <<'PY'\nimport argparse\np = argparse.ArgumentParser()\np.parse_args(['--x'])\nPY"
    out = "usage: - [-h]\n-: error: unrecognized arguments: --x"
    assert not judge(fail(experiment, out, 2)).failed
    assert judge(bash("ls *.pid", "<tool_use_error>Sibling tool call errored</tool_use_error>", status=ERROR)).failed


def test_the_same_program_on_another_endpoint_or_package_is_another_action() -> None:
    calls = [fail("gh api user/emails --jq '.[0].email'", "gh: Not Found (HTTP 404)"),
             ok("gh api repos/o/r/branches/main/protection --jq .url", "x"),
             ok("gh api user/emails --jq '.[].email'", "a@b.c")]
    assert fix_of(calls) == 2
    calls = [fail("stow -D alpha", "stow: ERROR: no such package"), ok("stow -v beta")]
    assert fix_of(calls) is None
    calls = [fail("docker pull reg.io/team/node:1-24-trixie", 'Error: reference "reg.io/team/node:1-24-trixie" unknown'),
             ok("docker pull reg.io/team/node:24", "Pull complete")]
    assert fix_of(calls) == 1  # a tag is not part of the name


def test_a_pipeline_acts_through_xargs() -> None:
    (step,) = intent.steps("tool mail inbox | grep hq- | awk '{print $2}' | xargs -I{} tool mail archive {}")
    assert step.path == ("tool", "mail", "archive")
    (step,) = intent.steps('find /r/db -name "*.sql" | xargs grep -l needle | head -5')
    assert step.program == "find"

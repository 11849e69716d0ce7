"""Failure clusters, temporal patterns, correlation and plain-language insights."""

from __future__ import annotations

from collections import Counter

from forewarn.insights.patterns import cluster_signatures, find_patterns
from forewarn.insights.stats import make_window, resolve_now
from forewarn.store import Store
from forewarn.store import analytics as sql
from tests.insights_helpers import C, add_session, at

ENV_SIG = "shell:env_runtime:python3:modulenotfounderror: no module named q"


def _patterns(store: Store, min_samples: int = 10):  # type: ignore[no-untyped-def]
    now, source = resolve_now(store)
    window = make_window(now, source, None)
    return find_patterns(sql.events(store), window, min_samples)


def test_near_identical_signatures_merge_and_different_commands_stay_apart() -> None:
    counts = Counter({
        "shell:wrong_cli_usage:bd mol:error: unknown flag: --gated": 3,
        "shell:wrong_cli_usage:bd mol:error: unknown flag: --gate": 1,
        "shell:wrong_cli_usage:bd show:error: unknown flag: --gated": 2,
        "read:path_not_found:state.json": 4,
        "read:path_not_found:daemon/state.json": 2,
        "read:path_not_found:README.md": 1,
        "edit:user_rejected": 2,
    })
    label = cluster_signatures(counts)
    assert label["shell:wrong_cli_usage:bd mol:error: unknown flag: --gate"] == \
        "shell:wrong_cli_usage:bd mol:error: unknown flag: --gated"
    assert label["shell:wrong_cli_usage:bd show:error: unknown flag: --gated"] == \
        "shell:wrong_cli_usage:bd show:error: unknown flag: --gated"
    assert label["read:path_not_found:daemon/state.json"] == "read:path_not_found:state.json"
    assert label["read:path_not_found:README.md"] == "read:path_not_found:README.md"
    assert label["edit:user_rejected"] == "edit:user_rejected"


def _history(store: Store) -> None:
    """Bash in /work/x fails mostly with one ModuleNotFoundError; everything else rarely fails."""
    x = [C(at(0, 0, i), failed=i < 18, kind="env_runtime", signature=ENV_SIG, command="python3 tool.py",
           error="Traceback…\nModuleNotFoundError: No module named 'yaml'", fix=".venv/bin/python tool.py")
         for i in range(30)]
    x[18] = C(at(0, 0, 18), failed=True, kind="other", signature="shell:other:make:error")
    x += [C(at(0, 1, i), tool="Read", failed=i == 0, kind="path_not_found") for i in range(60)]
    add_session(store, x, project="/work/x")
    for s in range(4):
        add_session(store, [C(at(1 + s, 0, i), failed=i == 0, command="git status") for i in range(25)]
                    + [C(at(1 + s, 1, i), tool="Read") for i in range(25)], project="/work/y")


def test_insight_names_the_group_its_lift_and_its_dominant_failure() -> None:
    store = Store.memory()
    _history(store)
    p = _patterns(store)
    texts = [i.text for i in p.insights]
    pair = next(i for i in p.insights if i.dimension == "tool×project" and i.key == "Bash × /work/x")
    assert pair.direction == "higher" and pair.calls == 30 and pair.failures == 19
    assert pair.ci_low > pair.baseline
    assert pair.top_failure == ENV_SIG and pair.top_share == round(18 / 19, 3)
    assert any(t.startswith("Bash calls in project /work/x fail") and "env runtime: ModuleNotFoundError: No module "
               "named 'yaml'" in t and "usually fixed with `.venv/bin/python tool.py`" in t for t in texts), texts
    top = p.clusters[0]
    assert (top.label, top.count, top.usual_fix) == (ENV_SIG, 18, ".venv/bin/python tool.py")
    assert top.example_error == "ModuleNotFoundError: No module named 'yaml'"


def test_no_insight_below_min_samples() -> None:
    store = Store.memory()
    _history(store)
    assert _patterns(store, min_samples=1000).insights == ()
    assert all(g.calls >= 1000 for gs in _patterns(store, min_samples=1000).correlations.values() for g in gs)


def test_temporal_patterns_hour_position_and_compaction() -> None:
    store = Store.memory()
    for s in range(6):
        calls = [C(at(s, 0, i), failed=i < 4) for i in range(12)]  # failures come early in each session
        calls += [C(at(s, 18 - 9, i)) for i in range(12)]  # a quiet hour later that day
        add_session(store, calls, compaction_after=12)
    p = _patterns(store)
    assert [g.key for g in p.hours][:3] == ["00:00", "01:00", "02:00"] and len(p.hours) == 24
    nine = p.hours[9]
    assert (nine.calls, nine.failures) == (72, 24) and nine.significant
    positions = {g.key: (g.calls, g.failures) for g in p.positions}
    assert positions == {"early": (48, 24), "middle": (48, 0), "late": (48, 0)}
    phases = {g.key: (g.calls, g.failures) for g in p.compaction}
    assert phases["before compaction"] == (72, 24) and phases["after compaction"] == (72, 0)
    assert [g.key for g in p.weekdays] == ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    early = next(i for i in p.insights if i.dimension == "position" and i.key == "early")
    assert early.text.startswith("Calls early in a session fail")

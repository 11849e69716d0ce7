"""Checks against the real sessions in ../shared/corpus; skipped when it is absent."""

from __future__ import annotations

from pathlib import Path

from forewarn.eval.labels import evaluate, load_labels
from forewarn.scan import discover, scan
from forewarn.store import Store


def test_every_corpus_file_scans_without_error(corpus: Path, tmp_path: Path) -> None:
    store = Store.open(tmp_path / "db.sqlite")
    targets = discover([corpus])
    report = scan(store, targets)
    assert report.errors == []
    assert report.files_read == len(targets) > 400
    agents = {r.agent for _, r in targets}
    assert {"claude", "codex"} <= agents
    assert report.calls > 10_000 and report.failures > 500


def test_accuracy_on_the_dev_labels_meets_the_targets(corpus: Path) -> None:
    result = evaluate(load_labels(corpus / "labels" / "dev_labels.jsonl"), corpus)
    assert not result.missing_files
    for agent, scores in result.by_agent.items():
        det, pair = scores["detection"], scores["pairing"]
        assert det.precision >= 0.95 and det.recall >= 0.95, (agent, det.as_dict())
        assert pair.precision >= 0.90 and pair.recall >= 0.80, (agent, pair.as_dict())

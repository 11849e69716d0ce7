"""Accuracy against hand labels: failure detection and fix pairing, precision and recall.

Labels are JSON Lines (see the corpus's LABELING.md): `file` (relative to a root), `call_id`,
`is_failure`, `fix_call_id`… The labelled files are scanned into a private in-memory store, so an
evaluation never touches the user's database.

- Detection, over labelled calls: a true positive is a labelled failure we report as failed; a
  false positive a labelled non-failure (benign exit, error-looking success) we report.
- Pairing, over labelled failures: precision is the share of the fixes we name that are the
  labelled fix; recall the share of labelled fixes we name exactly.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from forewarn.errors import ForewarnError
from forewarn.readers import reader_for
from forewarn.scan import scan
from forewarn.store import Store


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def as_dict(self) -> dict[str, Any]:
        return {"tp": self.tp, "fp": self.fp, "fn": self.fn,
                "precision": round(self.precision, 4), "recall": round(self.recall, 4)}


@dataclass
class EvalResult:
    labels: int = 0
    files: int = 0
    missing_files: list[str] = field(default_factory=list)
    missing_calls: int = 0
    detection: Score = field(default_factory=Score)
    pairing: Score = field(default_factory=Score)
    by_agent: dict[str, dict[str, Score]] = field(default_factory=dict)
    unlabelled_detections: int = 0  # failures we report in labelled files on calls nobody labelled
    mistakes: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "labels": self.labels,
            "files": self.files,
            "missing_files": self.missing_files,
            "missing_calls": self.missing_calls,
            "detection": self.detection.as_dict(),
            "pairing": self.pairing.as_dict(),
            "by_agent": {a: {k: s.as_dict() for k, s in d.items()} for a, d in sorted(self.by_agent.items())},
            "unlabelled_detections": self.unlabelled_detections,
            "mistakes": self.mistakes,
        }


def load_labels(path: Path) -> list[dict[str, Any]]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ForewarnError(f"cannot read labels {path}: {exc.strerror}") from None
    out = []
    for n, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise ForewarnError(f"{path}:{n}: not a JSON object") from None
        if not isinstance(rec, dict) or "file" not in rec or "call_id" not in rec or "is_failure" not in rec:
            raise ForewarnError(f"{path}:{n}: a label needs file, call_id and is_failure")
        out.append(rec)
    return out


def evaluate(labels: Iterable[dict[str, Any]], root: Path) -> EvalResult:
    labels = list(labels)
    result = EvalResult(labels=len(labels))
    by_file: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for label in labels:
        by_file[label["file"]].append(label)
    targets = []
    for rel in sorted(by_file):
        path = (root / rel).resolve()
        reader = reader_for(path) if path.is_file() else None
        if reader is None:
            result.missing_files.append(rel)
            continue
        targets.append((path, reader))
    result.files = len(targets)
    store = Store.memory()
    scan(store, targets)
    found = {(f.file, f.call_id): f for f in store.failures()}
    seen_calls = {(r[0], r[1]) for r in store.conn.execute("SELECT file, call_id FROM calls")}
    labelled = set()
    for path, reader in targets:
        rel = str(path.relative_to(root.resolve())) if path.is_relative_to(root.resolve()) else str(path)
        scores = result.by_agent.setdefault(reader.agent, {"detection": Score(), "pairing": Score()})
        for label in by_file.get(rel, []):
            key = (str(path), label["call_id"])
            labelled.add(key)
            if key not in seen_calls:
                result.missing_calls += 1
            got = found.get(key)
            _score(result, scores, label, got, rel)
    result.unlabelled_detections = sum(1 for key in found if key not in labelled)
    store.close()
    return result


def _score(result: EvalResult, scores: dict[str, Score], label: dict[str, Any], got: Any, rel: str) -> None:
    det, pair = scores["detection"], scores["pairing"]
    if label["is_failure"]:
        if got is not None:
            result.detection.tp += 1
            det.tp += 1
        else:
            result.detection.fn += 1
            det.fn += 1
            result.mistakes.append({"file": rel, "call_id": label["call_id"], "error": "missed failure",
                                    "kind": label.get("kind")})
        want = label.get("fix_call_id")
        have = got.fix_call_id if got is not None else None
        if have is not None and have == want:
            result.pairing.tp += 1
            pair.tp += 1
        else:
            if have is not None:
                result.pairing.fp += 1
                pair.fp += 1
            if want is not None:
                result.pairing.fn += 1
                pair.fn += 1
            if have is not None or want is not None:
                result.mistakes.append({"file": rel, "call_id": label["call_id"], "error": "wrong fix",
                                        "expected": want, "got": have, "kind": label.get("kind")})
    elif got is not None:
        result.detection.fp += 1
        det.fp += 1
        result.mistakes.append({"file": rel, "call_id": label["call_id"], "error": "false alarm", "kind": got.kind})

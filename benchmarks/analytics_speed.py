"""Analytics speed: `forewarn stats` and `forewarn report --output x.html` over the whole corpus.

    python benchmarks/analytics_speed.py [--corpus ../shared/corpus] [--runs 3] [--json]

Scans the corpus once into a throw-away FOREWARN_HOME, then times each command as a whole process
(interpreter start-up, imports, queries, rendering, writing), best of `--runs`, interleaved with
`python -c "import sqlite3"` measured in the same run as the floor. Target: each command <= 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 2.0
ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"


def _forewarn() -> list[str]:
    script = Path(sys.executable).with_name("forewarn")
    return [str(script)] if script.exists() else [sys.executable, "-m", "forewarn.cli.main"]


def _time(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"corpus not found at {args.corpus}: nothing to measure", file=sys.stderr)
        return 0
    fw = _forewarn()
    with tempfile.TemporaryDirectory(prefix="forewarn-analytics-") as tmp:
        env = {**os.environ, "FOREWARN_HOME": tmp}
        env.pop("FOREWARN_DB", None)
        scan_s = _time([*fw, "-q", "scan", str(args.corpus)], env)
        counts = subprocess.run([*fw, "stats", "--all", "--json"], env=env, check=True, capture_output=True, text=True)
        overall = json.loads(counts.stdout)["stats"]["overall"]
        html = Path(tmp) / "x.html"
        cases = {
            "python -c 'import sqlite3'": [sys.executable, "-c", "import sqlite3"],
            "forewarn stats": [*fw, "stats"],
            "forewarn stats --all --by tool --weeks 8": [*fw, "stats", "--all", "--by", "tool", "--weeks", "8"],
            "forewarn report --output x.html": [*fw, "report", "--output", str(html)],
            "forewarn report --all --detailed --output x.html": [*fw, "report", "--all", "--detailed", "--output",
                                                                 str(html)],
        }
        best = {name: float("inf") for name in cases}
        for _ in range(args.runs):
            for name, cmd in cases.items():  # interleaved: machine noise hits every case alike
                best[name] = min(best[name], _time(cmd, env))
    floor = best["python -c 'import sqlite3'"]
    result = {
        "corpus": str(args.corpus), "scan_seconds": round(scan_s, 2), "outcomes": overall["n"],
        "failures": overall["failures"], "runs": args.runs,
        "best_seconds": {k: round(v, 3) for k, v in best.items()},
        "over_floor_seconds": {k: round(v - floor, 3) for k, v in best.items()},
        "target_seconds": TARGET_S,
        "ok": all(v <= TARGET_S for v in best.values()),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"corpus: {result['outcomes']} outcomes, {result['failures']} failures (scan {scan_s:.1f}s)")
        for name, seconds in best.items():
            print(f"  {name:<52} {seconds:6.3f}s  (+{seconds - floor:.3f}s over the floor)")
        print(f"target <= {TARGET_S:.1f}s per command: {'OK' if result['ok'] else 'MISSED'}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

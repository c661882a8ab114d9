"""How well does the rephrase detector (assistant/rephrase.py) tell a question asked again from a follow-up?

The labelled set, tests/data/rephrases.jsonl, holds pairs of consecutive queries: `rephrase` true
when the second asks the first again (repeated, or in other words), false when it is a follow-up
(another slot of the same template, "and of Germany?", "why?"). Half the pairs (`split: tune`)
choose the threshold: the lowest whose precision reaches `--precision`; the other half (`report`)
measure it, with 95% Wilson intervals.

    python -m model.bench.rephrase [--json] [--precision 0.85] [--pairs FILE]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant import intervals
from assistant.errors import BadInput

PAIRS = Path(__file__).resolve().parents[2] / "tests" / "data" / "rephrases.jsonl"
THRESHOLDS = [round(0.60 + 0.05 * i, 2) for i in range(8)]  # 0.60 … 0.95


def _interval(k: int, n: int) -> tuple[float, float] | None:
    """The 95% Wilson interval of k successes in n, to three places."""
    interval = intervals.wilson(k, n)
    return None if interval is None else (round(interval[0], 3), round(interval[1], 3))


def read_pairs(path: Path) -> list[dict]:
    try:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, json.JSONDecodeError) as exc:
        raise BadInput(f"Cannot read the labelled pairs {path} ({exc}).") from None
    if not rows or not all({"before", "after", "rephrase", "split"} <= set(r) for r in rows):
        raise BadInput(f'{path}: each line needs "before", "after", "rephrase" and "split".')
    return rows


def scores(rows: list[dict], embedder) -> list[dict]:
    """Each pair with its cosine similarity and whether its numbers agree."""
    from assistant.rephrase import same_numbers

    before = embedder.encode([r["before"] for r in rows])
    after = embedder.encode([r["after"] for r in rows])
    return [
        {**r, "similarity": float(a @ b), "same_numbers": same_numbers(r["before"], r["after"])}
        for r, a, b in zip(rows, before, after)
    ]


def confusion(rows: list[dict], threshold: float) -> dict:
    """Precision and recall of "a rephrase" at `threshold`, as assistant/rephrase.py decides it."""
    said = [r["same_numbers"] and r["similarity"] >= threshold for r in rows]
    tp = sum(1 for r, s in zip(rows, said) if s and r["rephrase"])
    fp = sum(1 for r, s in zip(rows, said) if s and not r["rephrase"])
    fn = sum(1 for r, s in zip(rows, said) if not s and r["rephrase"])
    return {
        "threshold": threshold,
        "true_positives": tp,
        "false_positives": fp,
        "missed": fn,
        "precision": round(tp / (tp + fp), 3) if tp + fp else None,
        "precision_ci": _interval(tp, tp + fp),
        "recall": round(tp / (tp + fn), 3) if tp + fn else None,
        "recall_ci": _interval(tp, tp + fn),
    }


def measure(rows: list[dict], precision: float) -> dict:
    tune = [r for r in rows if r["split"] == "tune"]
    report = [r for r in rows if r["split"] == "report"]
    curve = [confusion(tune, t) for t in THRESHOLDS]
    chosen = next((c["threshold"] for c in curve if (c["precision"] or 0) >= precision), THRESHOLDS[-1])
    return {
        "pairs": {"tune": len(tune), "report": len(report)},
        "target_precision": precision,
        "threshold": chosen,
        "tune": curve,
        "report": confusion(report, chosen),
        "report_curve": [confusion(report, t) for t in THRESHOLDS],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model.bench.rephrase", description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--precision", type=float, default=0.85, help="precision the threshold must reach on tune")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    from assistant.embedder import shared

    try:
        result = measure(scores(read_pairs(args.pairs), shared()), args.precision)
    except BadInput as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, indent=2))
        return 0

    def pct(x):
        return "  –" if x is None else f"{100 * x:3.0f}%"

    def ci(v):
        return "" if not v else f" [{100 * v[0]:.0f}, {100 * v[1]:.0f}]"

    print(f"{result['pairs']['tune']} pairs to choose on, {result['pairs']['report']} to report on")
    print(f"{'threshold':>9}  {'tune: precision':>16} {'recall':>7}   {'report: precision':>18} {'recall':>7}")
    for t, r in zip(result["tune"], result["report_curve"]):
        print(
            f"{t['threshold']:9.2f}  {pct(t['precision']):>16} {pct(t['recall']):>7}   "
            f"{pct(r['precision']):>18} {pct(r['recall']):>7}"
        )
    r = result["report"]
    print(
        f"chosen on tune (precision ≥ {args.precision:.0%}): {result['threshold']:.2f}; on report: precision "
        f"{pct(r['precision'])}{ci(r['precision_ci'])}, recall {pct(r['recall'])}{ci(r['recall_ci'])} "
        f"({r['true_positives']} found, {r['false_positives']} wrongly, {r['missed']} missed)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`apprentice bench line`: the cascade line for a student that carries none, drawn on its train-set answers.

    apprentice bench line [--train FILE] [--student PATH] [--risk X] [--quick] [--json]

A distilled version carries lines drawn on its own answers (model/distill/calibration.py); a student
that was never distilled (the base default student, Gemma, a checkpoint added with `apprentice model
add`) stands by the configured `cascade_min_logprob`. This draws that line the way a version's is
drawn. Each train query is asked as `apprentice bench distill` measures a test query (its home of
its own, a fake Gemini, the real assistant in auto mode, nothing logged); the answers that reach the
cascade (the router's rules and memory decide the others) are the points, and the line is the least
mean log-probability at which (wrong answers kept + 1) / (n + 1) ≤ `--risk` (conformal risk
control, `model.distill.calibration.risk_line`). One line serves a base student's sentences and
calls alike, so it is drawn over both; an answer the cascade sends on however sure (a call that
cannot stand, a sentence with a claim shown false: `model.distill.calibration.vetoed`) is no risk
to it, as when a distilled version's line is drawn.

The shipped `cascade_min_logprob` is this command's line for the default student on the shipped
train set (README, The router). The test sets are never asked. Below the configured line the cascade
asks a sentence's student again (assistant/said_again.py), and what that kept is said too: on
`--train assets/bench/facts_tune.jsonl`, 150 fact questions written to tune it, it is that measure.

What the line keeps is also given by family (the train file's `family` field), because one line
serves them all: on the shipped set the default student's sentences about facts are right 15 times
in 17, about dates 2 and conversions 1, at confidences that overlap, so a line trades one family's
right answers against another's wrong ones.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from assistant import blas, config
from assistant.errors import BadInput
from model.bench import distill as bench


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="apprentice bench line",
        description="Draw the cascade line for a student that has none, on its answers to the train queries.",
    )
    p.add_argument("--train", type=Path, default=bench.parser().get_default("train"), help="train queries (JSONL)")
    p.add_argument("--student", type=Path, metavar="PATH", help="an mlx-lm checkpoint (default: the default student)")
    p.add_argument("--risk", type=float, help="bound on the share of answers kept and wrong (default: cascade_risk)")
    p.add_argument("--max-tokens", type=int, default=40, help="longest answer, in tokens (default 40, as the bench)")
    p.add_argument("--quick", action="store_true", help=f"{bench.QUICK_TRAIN} train queries per family")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout, with every point")
    p.add_argument("--keep", action="store_true", help="keep the benchmark's home folder and say where")
    p.add_argument("--progress", choices=["rich", "jsonl", "none"], default="rich")
    return p


def run(args: argparse.Namespace, progress) -> dict:
    from model.dataset import read_tasks
    from model.distill.calibration import Point, risk_line, vetoed

    risk = config.load().cascade_risk if args.risk is None else args.risk
    if not 0 < risk < 1:
        raise BadInput(f"--risk is a share of answers, between 0 and 1 (not {risk}); try --risk 0.05.")
    notes: list[str] = []
    train = read_tasks(args.train)
    if args.quick:
        train = bench.take_quick(train, bench.QUICK_TRAIN)
    with bench.session(args, progress, train, train, notes) as (assistant, source):
        records = bench.measure(assistant, train, {}, progress, "train: ask")
        configured = assistant.settings.cascade_min_logprob
    asked = [r for r in records if r["route"] == "cascade" and r["confidence"] is not None]
    for r in asked:
        r["vetoed"] = vetoed(r["student_answer"] or "", r["query"])
    points = [
        Point(r["confidence"], bool(r["student_right"]), bool(r["student_valid_call"]), "local", r["vetoed"])
        for r in asked
    ]
    line = risk_line(points, risk)
    again = [r for r in asked if r.get("said_again") is not None]
    kept_again = [r for r in again if not r["to_teacher"]]
    kept = [r for r in asked if r["confidence"] >= line and not r["vetoed"]]
    at_configured = [r for r in asked if r["confidence"] >= configured and not r["vetoed"]]
    return {
        "student": source or "the default student",
        "families": by_family(asked, line),
        "line": line,
        "risk": risk,
        "queries": len(records),
        "n": len(asked),
        "kept": len(kept),
        "kept_wrong": sum(not r["student_right"] for r in kept),
        "said_again": {  # sentences below the configured line asked again (assistant/said_again.py)
            "asked": len(again),
            "right": sum(bool(r["student_right"]) for r in again),
            "kept": len(kept_again),
            "kept_wrong": sum(not r["student_right"] for r in kept_again),
        },
        "configured": {
            "line": configured,
            "kept": len(at_configured),
            "kept_wrong": sum(not r["student_right"] for r in at_configured),
        },
        "points": [
            {k: r[k] for k in ("query", "family", "confidence", "student_right", "vetoed", "student_answer")}
            for r in asked
        ],
        "notes": notes,
    }


def by_family(asked: list[dict], line: float) -> dict[str, dict]:
    """Per family of train query: the answers that reached the cascade, how many were right, and how
    many of them the line keeps, wrong ones among them."""
    families: dict[str, dict] = {}
    for r in sorted(asked, key=lambda r: r["family"]):
        f = families.setdefault(r["family"], {"n": 0, "right": 0, "vetoed": 0, "kept": 0, "kept_wrong": 0})
        f["n"] += 1
        f["right"] += bool(r["student_right"])
        f["vetoed"] += bool(r.get("vetoed"))
        if r["confidence"] >= line and not r.get("vetoed"):
            f["kept"] += 1
            f["kept_wrong"] += not r["student_right"]
    return families


def summary(result: dict) -> str:
    c, a = result["configured"], result["said_again"]
    if result["kept"] == 0:
        verdict = "keeps none of them: nothing it said was sure enough to bound its errors"
    else:
        verdict = f"keeps {result['kept']} of them, {result['kept_wrong']} wrong"
    width = max((len(name) for name in result["families"]), default=0)
    families = "".join(
        f"  {name:<{width}}  {f['right']:>3} right of {f['n']:>3}; kept {f['kept']:>3}, {f['kept_wrong']} wrong;"
        f" sent on however sure {f['vetoed']:>3}\n"
        for name, f in result["families"].items()
    )
    return (
        f"{result['n']} of {result['queries']} train queries reached the cascade.\n"
        f"Line at risk {result['risk']:g}: {result['line']:.4g}, which {verdict}.\n"
        f"By family:\n{families}"
        f"The configured line, {c['line']:g}, keeps {c['kept']}, {c['kept_wrong']} wrong.\n"
        f"Below it, {a['asked']} sentences were asked again ({a['right']} right): {a['kept']} said again and kept, "
        f"{a['kept_wrong']} wrong.\n"
        f"To use it: cascade_min_logprob = {result['line']:.4g} in config.toml "
        "(or APPRENTICE_CASCADE_MIN_LOGPROB)."
    )


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = parser().parse_args(argv)
    blas.ensure()
    return bench.report(args, run, summary)


if __name__ == "__main__":
    sys.exit(main())

"""How much should a correction weigh? Train the same log with each weight and measure what the student learned.

    python -m model.bench.corrections [--weights 1 3 5] [--lines 40] [--corrections 12] [--regression 20] [--json]

In a home of its own (never the user's), with the default student: `--lines` text lines of the
shipped train file (assets/bench/train.jsonl, drawn with `--seed`; 0: all) are logged as teacher
fallbacks, with the line's answer (else its reference), as fake-gemini gives it. `--corrections` of
the lines the base student answers wrong are made corrections (a local answer marked wrong, then
the teacher's). For each weight k the same log is trained exactly as `apprentice distill` trains it
(its settings, with nothing held out, so every correction is trained on), and the candidate answers:

- the corrected queries, asked again: what a correction is for;
- the other trained queries: what weighing corrections more may cost the rest;
- the shipped regression set (`--regression` of its lines; 0: all): what the base student knew and must keep.

The shipped test sets (test.jsonl, test_fresh.jsonl) are never used: a weight is chosen here, and
those sets are kept for measuring what was chosen.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

from assistant import blas, config


def log_fallback(store, row: dict, correction: bool) -> None:
    """A teacher fallback as the Assistant records it; a correction follows a local answer marked wrong."""
    query = row["query"]
    conversation = store.new_conversation(query, "bench")
    wrong = None
    if correction:
        wrong = store.start_turn(conversation, query, "bench", route="local", status="done", answer="(wrong)")
        store.mark_bad(wrong)
    turn = store.start_turn(conversation, query, "bench", route="cloud", status="done")
    example = store.add_example(
        turn_id=turn,
        query_sent=query,
        messages_sent=json.dumps([{"role": "user", "content": query}]),
        teacher_answer=row.get("answer") or row["reference"],
        teacher_model="fake",
        status="ok",
        consent="auto",
    )
    if correction:
        store.mark_correction(example, wrong)


def accuracy(student, items, embedder, settings) -> dict:
    from model.evaluate import REGRESSION_MAX_TOKENS, evaluate

    report = evaluate(
        student,
        items,
        max_tokens=REGRESSION_MAX_TOKENS,
        embedder=embedder,
        agree_similarity=settings.judge_agree_similarity,
    )
    right = [s.right for s in report.scores]
    return {"right": sum(right), "n": len(right), "accuracy": round(sum(right) / len(right), 4) if right else None}


def run(args: argparse.Namespace) -> dict:
    from assistant.embedder import shared
    from assistant.models import pull, registry
    from assistant.store import Store
    from model import dataset
    from model.distill.options import Options, parser
    from model.distill.progress import Progress
    from model.distill.training import prepare, student_for, train
    from model.evaluate import REGRESSION_MAX_TOKENS, Item, evaluate, regression_items

    settings = config.load()
    embedder = shared()
    say = (lambda *_: None) if args.json else (lambda text: print(text, file=sys.stderr))
    active = registry.active() if registry.active_name() else pull.pull(say=say)
    rng = random.Random(args.seed)
    rows = [r for r in dataset.read_tasks(config.assets_dir() / "bench" / "train.jsonl") if "call" not in r]
    rows = rng.sample(rows, args.lines) if 0 < args.lines < len(rows) else rows
    items = [Item.from_task(r) for r in rows]
    regression = regression_items()
    regression = rng.sample(regression, args.regression) if 0 < args.regression < len(regression) else regression

    say(f"The base student answers the {len(rows)} text lines of the train file…")
    base = student_for(active.path, active.name, settings, active.adapter_path)
    try:
        report = evaluate(
            base,
            items,
            max_tokens=REGRESSION_MAX_TOKENS,
            embedder=embedder,
            agree_similarity=settings.judge_agree_similarity,
        )
        base_regression = accuracy(base, regression, embedder, settings)
    finally:
        base.close()
    wrong = [i for i, s in enumerate(report.scores) if not s.right]
    chosen = set(rng.sample(wrong, min(args.corrections, len(wrong))))
    store = Store()
    if not store.examples(limit=1):
        for i, row in enumerate(rows):
            log_fallback(store, row, i in chosen)
    corrected = [items[i] for i in sorted(chosen)]
    others = [items[i] for i in range(len(items)) if i not in chosen]
    result = {
        "student": active.name,
        "lines": len(rows),
        "base": {
            "train_lines": round(sum(s.right for s in report.scores) / len(rows), 4),
            "corrected": 0.0,
            "regression": base_regression["accuracy"],
        },
        "corrections": len(chosen),
        "weights": [],
    }
    for k in args.weights:
        say(f"Weight {k}: training…")
        argv = ["--correction-weight", str(k), "--heldout-fraction", "0", "--progress", "none"]
        opts = Options.from_flags(parser().parse_args(argv), settings)
        ds = dataset.build(store, heldout_fraction=0, include_shipped_test=False)
        started = time.monotonic()
        folder, state = prepare(ds, active, opts, settings, [], store=store)
        try:
            train(folder, state, Progress.for_flags("none", True))
            candidate = student_for(Path(state.base), state.name, settings, folder)
            try:
                figures = {
                    "weight": k,
                    "train_rows": state.dataset["train_rows"],
                    "iters": state.iters,
                    "final_loss": state.losses[-1] if state.losses else None,
                    "corrected": accuracy(candidate, corrected, embedder, settings),
                    "other_trained": accuracy(candidate, others, embedder, settings),
                    "regression": accuracy(candidate, regression, embedder, settings),
                    "seconds": round(time.monotonic() - started, 1),
                }
            finally:
                candidate.close()
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        result["weights"].append(figures)
        say(
            f"  k={k}: corrected {figures['corrected']['right']}/{figures['corrected']['n']}, other trained "
            f"{figures['other_trained']['right']}/{figures['other_trained']['n']}, regression "
            f"{figures['regression']['right']}/{figures['regression']['n']} ({figures['seconds']:.0f} s)"
        )
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m model.bench.corrections", description=__doc__.splitlines()[0])
    p.add_argument("--weights", type=int, nargs="+", default=[1, 3, 5])
    p.add_argument("--lines", type=int, default=40, help="train lines logged as fallbacks (0: all)")
    p.add_argument("--corrections", type=int, default=12, help="how many wrongly answered lines become corrections")
    p.add_argument("--regression", type=int, default=20, help="regression lines to measure on (0: all)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--home", type=Path, help="the home to run in (default: a temporary one, removed after)")
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    blas.ensure()
    home = args.home or Path(tempfile.mkdtemp(prefix="apprentice-corrections-"))
    os.environ["APPRENTICE_HOME"] = str(home)
    try:
        result = run(args)
    finally:
        if args.home is None:
            shutil.rmtree(home, ignore_errors=True)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

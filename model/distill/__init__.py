"""`apprentice distill`: fine-tune the student on the teacher's logged answers, evaluate, promote.

    apprentice distill [--dry-run] [--resume] [--json] [--rationales] [--iters N] [--margin 0.05] …
    apprentice distill --label FILE.jsonl [--json]     # teacher labels through the Batch API (label.py)
    python -m model.distill --dry-run

1. The dataset (model/dataset.py): logged fallbacks, deduplicated, decontaminated against the
   benchmark test files, split into train and held-out by a hash of each conversation. Below
   `--min-examples` it says how many more are needed and stops (exit 1). With `--rationales`,
   the teacher is asked for a rationale to each training example (rationales.py).
2. Training (training.py): a LoRA adapter on the base checkpoint, in a staging folder whose
   `RunState` lets `--resume` continue an interrupted run. Nothing is registered before the run
   is complete, so Ctrl-C leaves the active student untouched.
3. Promotion (promotion.py): the candidate and the current student answer the held-out queries;
   the candidate is registered either way and becomes active only if better by `--margin`, with
   its own cascade line.
4. After a promotion, the router's memory is re-judged for the new student (assistant/outcomes.py):
   the previous version's outcomes, answered again and judged against the teacher's answers, for at
   most `--rejudge-seconds`. Outcomes of examples the candidate trained on are left out unless
   `--rejudge-trained`: an answer learned by heart says little about the similar queries the router
   would send it.

Flags and settings: options.py (each flag, else its `distill_*` setting). Progress on stderr:
progress.py. What a surface shows of a run (waiting examples, an interrupted run, the result in
words) is in assistant/training.py, which the chat app reads without importing this package.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time

from assistant import blas, config
from assistant.errors import ApprenticeError
from assistant.training import interrupted, result_text
from model.distill.options import Options, parser
from model.distill.progress import Progress, Task
from model.distill.training import RunState

__all__ = ["Progress", "Task", "interrupted", "main", "parser", "run"]


def run(args: argparse.Namespace, progress: Progress) -> dict:
    """The whole distillation; returns the result object (`--json` prints it)."""
    blas.ensure()
    from assistant.models import registry
    from assistant.store import Store
    from model import dataset
    from model.distill.promotion import evaluate_and_promote
    from model.distill.rationales import ask_rationales
    from model.distill.training import prepare, train

    settings = config.load()
    opts = Options.from_flags(args, settings)
    store = Store()
    active = registry.active()
    notes: list[str] = []
    started = time.monotonic()
    pending = interrupted()

    if args.resume:
        if pending is None:
            raise ApprenticeError("There is no interrupted distillation to resume; run `apprentice distill`.")
        folder, state = pending.folder, RunState.load(pending.folder)
        progress.say(f"Resuming {state.name} at step {state.done_iters} of {state.iters}.")
        state.resumed_from.append(state.done_iters)
        state.save(folder)
    else:
        ds = dataset.build(
            store,
            exclude=args.exclude,
            heldout_fraction=opts.heldout_fraction,
            dedup_similarity=opts.dedup_similarity,
        )
        result = {"status": "dry_run", "dataset": ds.summary(), "notes": notes}
        if args.dry_run:
            result["listing"] = dataset.describe(ds, opts.correction_weight)
            return result
        if len(ds) < opts.min_examples:
            needed = opts.min_examples - len(ds)
            return {**result, "status": "too_few", "needed": needed, "min_examples": opts.min_examples}
        if pending is not None:
            shutil.rmtree(pending.folder, ignore_errors=True)
            notes.append(
                f"The interrupted run {pending.version} was discarded for a new one "
                "(`apprentice distill --resume` continues one instead)."
            )
        if opts.rationales:
            ask_rationales(store, ds, settings, progress, notes)
        folder, state = prepare(ds, active, opts, settings, args.references, store=store, progress=progress)
    train(folder, state, progress)
    result = evaluate_and_promote(folder, state, store, settings, progress)
    result["seconds"] = round(time.monotonic() - started, 1)
    result["notes"] = notes
    return result


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = parser().parse_args(argv)
    if args.label is not None or args.label_cancel:  # labelling is a run of its own: it trains nothing
        from model.distill import label

        if args.label is None:
            parser().error("--label-cancel needs --label FILE.jsonl: the file whose job to cancel")
        return label.main(args)
    blas.ensure()  # before MLX loads: LoRA steps are several times faster with OpenBLAS on Linux
    progress = Progress.for_flags(args.progress, args.json)
    try:
        with progress:
            result = run(args, progress)
    except KeyboardInterrupt:
        pending = interrupted()
        where = f" at step {pending.step} of {pending.steps}" if pending else ""
        print(
            f"\nInterrupted{where}; the active student is unchanged. "
            "`apprentice distill --resume` continues from the last saved step.",
            file=sys.stderr,
        )
        return 130
    except ApprenticeError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        if args.json:
            print(json.dumps({"status": "error", "error": str(exc)}))
        return exc.exit_code
    status = result["status"]
    for note in result.get("notes", []):
        print(f"note: {note}", file=sys.stderr)
    if args.json:
        result.pop("listing", None)
        print(json.dumps(result, indent=2, ensure_ascii=False))
    elif status == "dry_run":
        print(result["listing"])
    elif status == "too_few":  # exit status 1, and the sentence that explains it
        print(result_text(result).headline, file=sys.stderr)
    else:
        said = result_text(result)
        print("\n".join([said.headline, *said.details]))
    return 1 if status == "too_few" else 0

"""`apprentice distill`'s flags, and the options a run uses: each flag, else its `distill_*` setting.

Every tunable flag has a setting of the same name (`--learning-rate` ↔ `distill_learning_rate`
in assistant/config.py: config.toml, APPRENTICE_DISTILL_* environment), and the flag wins. A
flag's default is None, so "not given" is told apart from "given as the default"; `--help`
shows each setting's default.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass, fields

from assistant import config
from assistant.errors import BadInput

LR_SCHEDULES = ("constant", "cosine")


def parser() -> argparse.ArgumentParser:
    d = config.Settings()  # the defaults --help shows; a run reads config.toml and the environment too

    def setting(text: str, name: str) -> str:
        return f"{text} (setting distill_{name}, default {getattr(d, f'distill_{name}')})"

    p = argparse.ArgumentParser(
        prog="apprentice distill",
        allow_abbrev=False,  # "--lr 1e-4" must not be read as --lr-schedule: say the whole flag
        description="Fine-tune the student on the teacher's logged answers; promote it only if it does better.",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print the dataset it would train on, with counts per source; train nothing",
    )
    p.add_argument("--resume", action="store_true", help="continue the interrupted run from its last saved step")
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    p.add_argument("--progress", choices=["rich", "jsonl", "none"], default="rich", help="how progress shows on stderr")
    p.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="TEST.jsonl",
        help="a benchmark test file whose queries must stay out (the shipped one always does)",
    )
    p.add_argument(
        "--references",
        action="append",
        default=[],
        metavar="TASKS.jsonl",
        help="benchmark lines whose checks score the held-out queries they match",
    )

    label = p.add_argument_group("teacher labels for a file of queries (label.py; trains nothing)")
    label.add_argument(
        "--label",
        metavar="FILE.jsonl",
        help="send the file's {\"query\": ...} lines, redacted, to Gemini's Batch API and log the answers as "
        "examples; run it again to resume a job a killed run left",
    )
    label.add_argument(
        "--poll-seconds",
        type=float,
        default=30.0,
        metavar="X",
        help="seconds between two looks at the batch job's state (default 30)",
    )
    label.add_argument(
        "--label-cancel", action="store_true", help="cancel the unfinished batch job of --label FILE at Gemini"
    )

    data = p.add_argument_group("the dataset")
    data.add_argument(
        "--min-examples", type=int, metavar="N", help=setting("fewest usable examples to train on", "min_examples")
    )
    data.add_argument(
        "--heldout-fraction",
        type=float,
        metavar="X",
        help=setting("share of examples held out to evaluate on", "heldout_fraction"),
    )
    data.add_argument(
        "--dedup-similarity",
        type=float,
        metavar="X",
        help=setting("cosine similarity at which two queries may be near-duplicates", "dedup_similarity"),
    )
    data.add_argument(
        "--rationales",
        action=argparse.BooleanOptionalAction,
        help=setting(
            "ask the teacher for a short rationale to each training example and learn it as a second task",
            "rationales",
        ),
    )
    data.add_argument(
        "--tool-targets",
        action=argparse.BooleanOptionalAction,
        help=setting(
            'teach a teacher\'s sentence that a tool reproduces ("44 ÷ 4 = 11.", "4 meters is 13.12 feet.") '
            "as the call that computes it",
            "tool_targets",
        ),
    )
    data.add_argument(
        "--balance-calls",
        action=argparse.BooleanOptionalAction,
        help=setting(
            "repeat the calls of a tool's rarer shapes (the clock asked for a weekday, beside the many "
            "calls counting days to a date) so the student learns which arguments a request fills",
            "balance_calls",
        ),
    )

    train = p.add_argument_group("training")
    train.add_argument("--fine-tune-type", metavar="NAME", help=setting("lora or dora", "fine_tune_type"))
    train.add_argument(
        "--num-layers",
        type=int,
        metavar="N",
        help=setting("adapt the last N transformer blocks (-1: all)", "num_layers"),
    )
    train.add_argument(
        "--lora-modules",
        metavar="WHICH",
        help=setting(
            "all: every linear layer of an adapted block; attention: its attention projections only, "
            "leaving the feed-forward layers, where a model keeps much of what it knows, as they are",
            "lora_modules",
        ),
    )
    train.add_argument("--lora-rank", type=int, metavar="N", help=setting("rank of the adapter matrices", "lora_rank"))
    train.add_argument(
        "--lora-scale",
        type=float,
        metavar="X",
        help=setting("scale of the adapter's output (mlx-lm's convention)", "lora_scale"),
    )
    train.add_argument("--learning-rate", type=float, metavar="X", help=setting("Adam learning rate", "learning_rate"))
    train.add_argument(
        "--lr-schedule",
        metavar="WHICH",
        help=setting(
            "constant: the learning rate held to the last step; cosine: eased from it to 0 by the last "
            "step, so the adapter kept is not one noisy step's",
            "lr_schedule",
        ),
    )
    train.add_argument("--batch-size", type=int, metavar="N", help=setting("examples per step", "batch_size"))
    train.add_argument(
        "--epochs",
        type=int,
        metavar="N",
        help=setting("passes over the training examples (when --iters is 0)", "epochs"),
    )
    train.add_argument("--iters", type=int, metavar="N", help=setting("training steps; 0: from --epochs", "iters"))
    train.add_argument(
        "--max-seq-length",
        type=int,
        metavar="N",
        help=setting("longest example in tokens; longer ones are cut", "max_seq_length"),
    )
    train.add_argument(
        "--save-every",
        type=int,
        metavar="N",
        help=setting("save the adapter every N steps, for --resume", "save_every"),
    )
    train.add_argument(
        "--replay",
        type=float,
        metavar="X",
        help=setting(
            "share of the training rows that replay the current student's own right answers, "
            "so it keeps what it knows (0: none)",
            "replay",
        ),
    )
    train.add_argument(
        "--kl-weight",
        type=float,
        metavar="W",
        help=setting(
            "weight of a KL term that keeps the candidate's next-token distribution near the current "
            "student's on every answer it learns (0: none)",
            "kl_weight",
        ),
    )
    train.add_argument(
        "--correction-weight",
        type=int,
        metavar="K",
        help=setting(
            "times each correction (a local answer you marked wrong, then the teacher's answer) "
            "is repeated in the training rows",
            "correction_weight",
        ),
    )
    train.add_argument(
        "--seed", type=int, metavar="N", help=setting("random seed: adapter initialisation and example order", "seed")
    )
    train.add_argument(
        "--seeds",
        type=int,
        metavar="N",
        help=setting(
            "train N adapters, from seeds --seed, --seed+1, …, and keep the mean of the changes they learned "
            "(N times the training time; a small student's lesson varies from seed to seed)",
            "seeds",
        ),
    )

    judged = p.add_argument_group("evaluation and promotion")
    judged.add_argument(
        "--margin",
        type=float,
        metavar="X",
        help=setting("held-out accuracy the candidate must gain over the current student", "margin"),
    )
    judged.add_argument(
        "--retention-max-drop",
        type=float,
        metavar="X",
        help=setting(
            "most accuracy the candidate may lose on what the current student answered right "
            "(its confident local answers and the shipped regression set)",
            "retention_max_drop",
        ),
    )
    judged.add_argument(
        "--strengths",
        metavar="A,B,…",
        help=setting(
            "shares of the learned change to try, strongest first: the adapter's output scaled by each, so "
            "0.5 lies halfway between the base student and the trained candidate; the gate promotes the "
            "first that passes and stops at the first not better on the held-out queries",
            "strengths",
        ),
    )
    judged.add_argument(
        "--eval-limit",
        type=int,
        metavar="N",
        help=setting("most held-out examples to evaluate on (the newest)", "eval_limit"),
    )
    judged.add_argument(
        "--eval-max-tokens",
        type=int,
        metavar="N",
        help=setting("longest answer generated per held-out query", "eval_max_tokens"),
    )
    judged.add_argument(
        "--rejudge-seconds",
        type=float,
        metavar="X",
        help=setting("time allowed for re-judging the router's outcomes after a promotion", "rejudge_seconds"),
    )
    judged.add_argument(
        "--rejudge-trained",
        action=argparse.BooleanOptionalAction,
        help=setting(
            "re-judge the outcomes of examples the candidate trained on too (answers learned by heart "
            "make the router over-trust the student on similar queries)",
            "rejudge_trained",
        ),
    )
    return p


@dataclass(frozen=True)
class Options:
    """A run's options; each field is the flag of the same name, else the setting `distill_<field>`."""

    min_examples: int
    heldout_fraction: float
    dedup_similarity: float
    rationales: bool
    tool_targets: bool
    balance_calls: bool
    fine_tune_type: str
    num_layers: int
    lora_modules: str
    lora_rank: int
    lora_scale: float
    learning_rate: float
    lr_schedule: str
    batch_size: int
    epochs: int
    iters: int
    max_seq_length: int
    save_every: int
    seed: int
    seeds: int
    replay: float
    kl_weight: float
    correction_weight: int
    margin: float
    retention_max_drop: float
    strengths: str
    eval_limit: int
    eval_max_tokens: int
    rejudge_seconds: float
    rejudge_trained: bool

    @classmethod
    def from_flags(cls, args: argparse.Namespace, settings: config.Settings) -> Options:
        values = {}
        for f in fields(cls):
            flag = getattr(args, f.name)
            values[f.name] = flag if flag is not None else getattr(settings, f"distill_{f.name}")
        opts = cls(**values)
        if opts.fine_tune_type not in ("lora", "dora"):
            raise BadInput(f"--fine-tune-type must be lora or dora, not {opts.fine_tune_type!r}.")
        if opts.lora_modules not in ("all", "attention"):
            raise BadInput(f"--lora-modules must be all or attention, not {opts.lora_modules!r}.")
        if opts.lr_schedule not in LR_SCHEDULES:
            raise BadInput(f"--lr-schedule must be constant or cosine, not {opts.lr_schedule!r}.")
        if opts.batch_size < 1 or opts.epochs < 1 or opts.save_every < 1:
            raise BadInput("--batch-size, --epochs and --save-every must be 1 or more.")
        if opts.seeds < 1:
            raise BadInput(f"--seeds must be 1 or more, not {opts.seeds}.")
        if opts.seeds > 1 and opts.fine_tune_type != "lora":
            raise BadInput("--seeds above 1 averages LoRA adapters; use it with --fine-tune-type lora.")
        if opts.correction_weight < 1:
            raise BadInput(f"--correction-weight must be 1 or more, not {opts.correction_weight}.")
        if not 0 <= opts.replay < 1:
            raise BadInput(f"--replay must be at least 0 and below 1, not {opts.replay}.")
        if opts.kl_weight < 0:
            raise BadInput(f"--kl-weight must be 0 or more, not {opts.kl_weight}.")
        parse_strengths(opts.strengths)  # a sentence now, not after an hour of training
        if opts.retention_max_drop < 0:
            raise BadInput(f"--retention-max-drop must be 0 or more, not {opts.retention_max_drop}.")
        return opts


def parse_strengths(text: str) -> list[float]:
    """ "1,0.75,0.5" → [1.0, 0.75, 0.5]: each above 0 and at most 1, strongest first."""
    try:
        values = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        values = []
    if not values or any(not 0 < v <= 1 for v in values):
        raise BadInput(
            f"--strengths must be shares of the learned change above 0 and at most 1, such as 1,0.75,0.5; not {text!r}."
        )
    return sorted(set(values), reverse=True)

"""Training a candidate: a staging folder with the dataset and a `RunState`, then LoRA with mlx-lm.

A LoRA adapter (or DoRA) on the *base* checkpoint, trained on all examples so far with mlx-lm's
tuner: the prompt is masked so only the teacher's answer is learned, and the system prompt the
student answers with is part of every example. Validation loss on the held-out examples before
and after; a progress bar with an ETA. The loss is mlx-lm's, computed at the answer's tokens alone
(`answer_loss`): the output layer at every prompt token took a third of a step.

Retention, replay and the KL term: before training, the current student answers the retention set
(model/evaluate.py: its confident local answers from the log, and the shipped regression set), and
those answers are kept in the staging folder for the promotion gate. With `replay` above 0, the
student's own answers are mixed into the training rows as that share of them: its right local
answers as the user saw them, then its answers to shipped everyday queries (`everyday_answers`),
so the adapter rehearses what the student already says instead of drifting from it while it learns
the teacher's answers (never for a pretrained base model, which does not chat yet). The regression
set is never replayed: the gate measures it. With
`kl_weight` above 0, the loss also holds the candidate's next-token distribution near the current
student's on every answer token it trains on (`kl_regularised_loss`), at the cost of one more
forward pass a step; with `lora_modules` "attention", only the attention projections learn.

Local tools: a tool that never reaches the teacher (the note tool: notes never leave the machine)
can never be learned from a teacher's call, so the project ships example calls for it
(assets/tools/local_calls.jsonl, phrasings of its own) and every run that gives the student the
tool list learns them beside the teacher's rows (at most a quarter as many).

Tool targets: with `tool_targets`, a teacher's answer that is one sentence a tool reproduces
("44 ÷ 4 = 11.") is taught as the call that computes it (model/distill/tool_targets.py).

Call shapes: with `balance_calls`, the teacher's calls of a tool's rarer shapes (the clock asked for a
weekday, beside the many calls counting days to a date) are repeated, so the student learns which
arguments a request fills (model/distill/call_shapes.py).

Several seeds: with `seeds` above 1 the adapter is trained that many times from the seeds `seed`,
`seed`+1, … on the same rows, and the mean of what the runs learned is kept (`_soup`). On 70 to 130
examples a small student's lesson depends on its seed nearly as much as on its data (three seeds of
one day's lesson were right on 170 to 182 of 248 later queries, timers 16 to 23 of 32); every mean of
two was right on more than either of its runs (187 to 191).

Corrections (model/dataset.py) are repeated `correction_weight` times among the training rows: the
user said the student was wrong on them, and mlx-lm's trainer has no per-row loss weight.

Interrupt safety: everything happens in a staging folder under the registry, with the adapter
and the `RunState` (run.json) saved every `save_every` steps; Ctrl-C or a crash leaves the active
student untouched, and `apprentice distill --resume` continues from the last saved step (Adam's
moments restart, as with mlx-lm's own --resume-adapter-file).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import gc
import json
import math
import os
import random
import sys
import time
import types
import typing
from dataclasses import asdict, dataclass, field
from pathlib import Path

from assistant import blas, config
from assistant.errors import ApprenticeError
from assistant.training import STATE
from model.distill import call_shapes, tool_targets
from model.distill.frozen_layers import FrozenLayers
from model.distill.options import Options, parse_strengths
from model.distill.progress import Progress

ADAPTERS = "adapters.safetensors"
RUN_ADAPTERS = "adapters.run{}.safetensors"  # --seeds: each run's finished adapter, until their mean is kept
DATA_FILES = (
    "train.jsonl",
    "valid.jsonl",
    "heldout.jsonl",
    "retention.jsonl",
)  # the training data stays in the log only


@dataclass
class Hyperparameters:
    """How the adapter is trained; a registered version carries them in its info."""

    fine_tune_type: str  # lora | dora
    num_layers: int  # adapted transformer blocks, from the last; -1: all
    lora_rank: int
    lora_scale: float
    learning_rate: float
    epochs: int
    max_seq_length: int
    seed: int
    rationales: bool
    batch_size: int  # at most the number of training rows
    iters: int
    dropout: float = 0.0
    replay: float = 0.0  # share of the training rows that are the current student's own right answers
    kl_weight: float = 0.0  # KL(current student ‖ candidate) on every answer token, added to the loss
    correction_weight: int = 1  # times each correction (a local answer marked wrong, then the teacher's) is a row
    balance_calls: bool = False  # a tool's rarer call shapes repeated (model/distill/call_shapes.py)
    lora_modules: str = "all"  # all | attention: which linear layers of an adapted block learn
    lr_schedule: str = "constant"  # constant | cosine (eased to 0 by the last step)
    seeds: int = 1  # adapters trained from seeds seed, seed+1, …; `iters` steps each, their changes averaged


@dataclass
class Evaluation:
    """How the candidate is judged once trained."""

    margin: float
    eval_limit: int
    eval_max_tokens: int
    rejudge_seconds: float
    rejudge_trained: bool
    retention_max_drop: float = 0.05  # most retention accuracy a candidate may lose and still be promoted
    strengths: list[float] = field(default_factory=lambda: [1.0])  # shares of the learned change to try


@dataclass
class RunState:
    """Everything a run needs to continue after an interruption; saved as run.json in its staging folder."""

    name: str  # the version it registers
    parent: str  # the version that was active when it began
    base: str  # the base checkpoint's folder: the adapter goes on top of it
    bits: int | None
    dataset: dict  # the dataset's summary, with `example_ids` and `train_rows`
    hyperparameters: Hyperparameters
    evaluation: Evaluation
    trained_ids: list[int]  # the examples in the train split
    iters: int
    save_every: int
    blas: str | None  # the BLAS library the run trained with (it changes the numbers)
    done_iters: int = 0
    losses: list[float] = field(default_factory=list)  # per step
    val_loss: dict[str, float | None] = field(default_factory=dict)  # "before" and "after" training, once measured
    trained: bool = False
    train_seconds: float = 0.0
    resumed_from: list[int] = field(default_factory=list)  # the steps it was resumed at
    parent_adapter: str | None = None  # the current student's adapter folder, when it is a distilled version

    def save(self, folder: Path) -> None:
        """Write run.json whole or not at all: a crash mid-write leaves the previous state."""
        tmp = folder / f".{STATE}.partial"
        tmp.write_text(json.dumps(asdict(self), indent=1))
        os.replace(tmp, folder / STATE)

    @classmethod
    def load(cls, folder: Path) -> RunState:
        path = folder / STATE
        try:
            raw = json.loads(path.read_text())
            state = cls(
                **{
                    **raw,
                    "hyperparameters": Hyperparameters(**raw["hyperparameters"]),
                    "evaluation": Evaluation(**raw["evaluation"]),
                }
            )
            _check_types(state)
            _check_types(state.hyperparameters)
            _check_types(state.evaluation)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise ApprenticeError(
                f"The interrupted run in {folder} cannot be resumed: its {STATE} cannot be read ({exc}); "
                "run `apprentice distill` to start a new one (it discards that folder)."
            ) from None
        return state


def _check_types(obj) -> None:
    """A TypeError naming the first field whose value is not of its declared type (lists and dicts
    by their own type only): a state from another version of the code is refused, not half-used."""
    hints = typing.get_type_hints(type(obj))
    for f in dataclasses.fields(obj):
        value, hint = getattr(obj, f.name), hints[f.name]
        allowed = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
        allowed = tuple(typing.get_origin(a) or a for a in allowed)
        allowed = tuple(type(None) if a is None else a for a in allowed)
        if float in allowed:
            allowed += (int,)
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            raise TypeError(f"{f.name} is {value!r}")


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def student_for(path, name: str, settings: config.Settings, adapter_path=None):
    """A student as the gate asks it: greedy, with the system prompt it answers users with."""
    from assistant.prompts import student_system_prompt
    from assistant.student import Student

    return Student(
        path,
        name=name,
        system_prompt=student_system_prompt(settings),
        temperature=0.0,
        context_tokens=settings.context_tokens,
        adapter_path=adapter_path,
        words_from_base=settings.student_words_from_base,
    )


# -- retention and replay ---------------------------------------------------------------------------------


def retention_rows(
    store,
    active,
    settings: config.Settings,
    *,
    limit: int,
    checks: dict[str, dict] | None = None,
    progress: Progress | None = None,
) -> list[dict]:
    """The retention set, each row an evaluate.Item's fields plus `source` ("local" with its `turn_id`,
    or "regression"), answered by the current student: `current` holds its answer, whether it was
    right and the version that gave it (the gate reuses it only for that same version). `checks`:
    benchmark lines by query key; a local answer to such a query is kept only if the line's check
    passes it (with no teacher to ask, "29 * 3 = 78" would otherwise be retained, and replayed)."""
    from assistant.embedder import shared
    from assistant.outcomes import query_key
    from model import dataset
    from model.evaluate import (
        REGRESSION_MAX_TOKENS,
        Item,
        evaluate,
        local_items,
        regression_items,
        score,
    )

    regression = regression_items()
    embedder = shared()
    exclude = {query_key(item.messages[-1]["content"]) for item in regression}
    if dataset.shipped_test_file().exists():  # a benchmark must never measure what was replayed
        exclude |= {query_key(row["query"]) for row in dataset.read_tasks(dataset.shipped_test_file())}
    local = local_items(
        store,
        active.name,
        limit=limit,
        exclude=exclude,
        embedder=embedder,
        agree_similarity=settings.judge_agree_similarity,
    )
    checked = []
    for item, turn, said in local:
        line = (checks or {}).get(query_key(item.messages[-1]["content"]))
        if line is not None:
            item = Item.from_task(line)
            if not score(said, item, embedder=embedder, agree_similarity=settings.judge_agree_similarity).right:
                continue
        checked.append((item, turn, said))
    local = checked
    items = [item for item, _, _ in local] + regression
    rows = [{**asdict(item), "source": "local", "turn_id": turn, "said": said} for item, turn, said in local]
    rows += [{**asdict(item), "source": "regression"} for item in regression]
    if not items:
        return rows
    task = progress.task("retention: current", len(items)) if progress else None
    student = student_for(active.path, active.name, settings, active.adapter_path)
    try:
        report = evaluate(
            student,
            items,
            max_tokens=REGRESSION_MAX_TOKENS,
            embedder=embedder,
            agree_similarity=settings.judge_agree_similarity,
            advance=task.advance if task else None,
        )
    finally:
        student.close()
        del student
    for row, scored in zip(rows, report.scores):
        row["current"] = {
            "version": active.name,
            "answer": scored.answer,
            "right": scored.right,
            "confidence": scored.confidence,
            "finished": scored.finished,
        }
    return rows


EVERYDAY_FILE = "everyday.jsonl"  # assets/distill/: everyday things said to an assistant, for replay
EVERYDAY_MAX_TOKENS = 64


def everyday_answers(active, settings: config.Settings, *, wanted: int, seed: int, progress=None) -> list[dict]:
    """Up to `wanted` of the current student's own answers in words to the shipped everyday queries
    (assets/distill/everyday.jsonl), each as {"query", "answer"}: only answers that ended on their
    own (a replayed answer cut by its budget would teach stopping mid-sentence) and hold no call."""
    from assistant.tools.calls import has_call
    from model.evaluate import answer

    if wanted <= 0:
        return []
    queries = [row["query"] for row in read_jsonl(config.assets_dir() / "distill" / EVERYDAY_FILE)]
    random.Random(seed).shuffle(queries)
    task = progress.task("replay: current", min(wanted, len(queries))) if progress else None
    student = student_for(active.path, active.name, settings, active.adapter_path)
    out = []
    try:
        for query in queries:
            if len(out) == wanted:
                break
            said, _, finished = answer(student, [{"role": "user", "content": query}], EVERYDAY_MAX_TOKENS)
            if finished and said and not has_call(said):
                out.append({"query": query, "answer": said})
                if task:
                    task.advance()
    finally:
        student.close()
        del student
    return out


def replay_rows(
    retention: list[dict], everyday: list[dict], system_prompt: str, *, fraction: float, teacher_rows: int, seed: int
) -> list[dict]:
    """The current student's own answers as training rows, `fraction` of the training rows (as many
    as there are, when fewer): its right local answers as the user saw them, then its answers to the
    shipped everyday queries (`everyday_answers`). The regression set's lines are never replayed:
    the gate measures them, so what it measures there is what the candidate kept without rehearsal."""
    if fraction <= 0 or not teacher_rows:
        return []
    system = [{"role": "system", "content": system_prompt}] if system_prompt else []

    def row(query_messages: list[dict], said: str) -> dict:
        return {"messages": system + query_messages + [{"role": "assistant", "content": said}]}

    local = [row(r["messages"], r["said"]) for r in right_local(retention)]
    wanted = replay_wanted(fraction, teacher_rows)
    rows = random.Random(seed).sample(local, min(wanted, len(local)))
    rows += [row([{"role": "user", "content": e["query"]}], e["answer"]) for e in everyday[: wanted - len(rows)]]
    return rows


def right_local(retention: list[dict]) -> list[dict]:
    """The retention set's local answers in words that the current student gave right, as the user saw
    them. Its calls are measured by the gate but not replayed: replay is what keeps its words, and the
    teacher's calls already teach the tools."""
    from assistant.tools.calls import has_call

    return [
        r
        for r in retention
        if r["source"] == "local"
        and (r.get("current") or {}).get("right")
        and r.get("said")
        and not has_call(r["said"])
    ]


def replay_wanted(fraction: float, teacher_rows: int) -> int:
    """How many replayed rows make `fraction` of the training rows beside `teacher_rows`."""
    return round(fraction / (1 - fraction) * teacher_rows) if fraction > 0 else 0


def local_tool_rows(system_prompt: str, settings: config.Settings, *, teacher_rows: int, seed: int) -> list[dict]:
    """The shipped example calls of the tools no teacher sees, as training rows (none when the
    student is not told the tools). Each call is validated first: one that could not run is never taught.
    At most a quarter as many as the teacher's rows: a first distillation of 20 examples must not
    become a lesson in taking notes."""
    from assistant.tools import local_only, validate
    from assistant.tools.calls import ToolCall, format_call

    if not settings.student_tools:
        return []
    rows = []
    for line in read_jsonl(config.assets_dir() / "tools" / "local_calls.jsonl"):
        name = line["call"]["name"]
        if not local_only(name):
            continue  # a tool the teacher does see is learned from its own calls
        call = ToolCall(name, validate(name, line["call"]["arguments"]))
        rows.append(
            {
                "messages": [
                    {"role": "system", "content": system_prompt},
                    {"role": "user", "content": line["query"]},
                    {"role": "assistant", "content": format_call(call)},
                ]
            }
        )
    return random.Random(seed).sample(rows, min(len(rows), teacher_rows // 4))


# -- the staging folder ----------------------------------------------------------------------------------


def prepare(
    ds,
    active,
    opts: Options,
    settings: config.Settings,
    references: list[str],
    *,
    store=None,
    progress: Progress | None = None,
) -> tuple[Path, RunState]:
    """A staging folder with the dataset's files (train, valid, held-out items, the retention set
    the current student answered) and the run's state. `references`: benchmark task files whose
    checks score the held-out queries they match."""
    from assistant.models import registry
    from assistant.outcomes import query_key
    from assistant.prompts import student_system_prompt
    from assistant.store import Store
    from model import dataset

    system_prompt = student_system_prompt(settings)  # the words the student is asked with
    # Calls only a student that is told the tools can write; the held-out items keep the teacher's
    # words as their reference, and a call is scored by what it shows.
    targets = tool_targets.targets(ds.examples) if opts.tool_targets and settings.student_tools else {}
    train_rows = ds.rows(
        "train", system_prompt, rationales=opts.rationales, correction_weight=opts.correction_weight, targets=targets
    )
    unbalanced = len(train_rows)
    if opts.balance_calls:
        train_rows = call_shapes.balanced(train_rows)
    valid_rows = ds.rows("heldout", system_prompt, targets=targets)
    checks = {}
    for path in references:
        for row in dataset.read_tasks(path):
            checks[query_key(row["query"])] = row
    retention = retention_rows(
        store or Store(), active, settings, limit=opts.eval_limit, checks=checks, progress=progress
    )
    teacher_rows = len(train_rows)
    # A pretrained base model (Gemma 3 270M as pulled) does not chat yet: its own answers are
    # completions of the prompt, nothing a user would want it to keep saying.
    replay = 0.0 if active.info.get("base_model") else opts.replay
    everyday = everyday_answers(
        active,
        settings,
        wanted=replay_wanted(replay, teacher_rows) - len(right_local(retention)),
        seed=opts.seed,
        progress=progress,
    )
    replayed = replay_rows(
        retention, everyday, system_prompt, fraction=replay, teacher_rows=teacher_rows, seed=opts.seed
    )
    local_rows = local_tool_rows(system_prompt, settings, teacher_rows=teacher_rows, seed=opts.seed)
    train_rows = train_rows + replayed + local_rows
    batch = min(opts.batch_size, len(train_rows))
    # mlx-lm's batches drop what does not fill the last one (the longest examples, as they are
    # sorted by length): repeat the first few examples so that every one is learned.
    pad = (-len(train_rows)) % batch
    train_rows = train_rows + train_rows[:pad]
    iters = opts.iters or math.ceil(opts.epochs * len(train_rows) / batch)
    heldout = sorted(ds.heldout, key=lambda e: e.id, reverse=True)[: opts.eval_limit]
    items = []
    for ex in heldout:
        ref = checks.get(query_key(ex.messages[-1]["content"])) if len(ex.messages) == 1 else None
        items.append(
            {
                "messages": ex.messages,
                "reference": ref["reference"] if ref else ex.answer,
                "example_id": ex.id,
                "check": ref["check"] if ref else None,
                "tolerance": ref.get("tolerance") if ref else None,
                "threshold": ref.get("threshold") if ref else None,
                "family": ref["family"] if ref else None,
            }
        )
    name = registry.next_name("distill")
    folder = registry.staging_folder(name)
    write_jsonl(folder / "train.jsonl", train_rows)
    write_jsonl(folder / "valid.jsonl", valid_rows)
    write_jsonl(folder / "heldout.jsonl", items)
    write_jsonl(folder / "retention.jsonl", retention)
    sources = [r["source"] for r in retention]
    state = RunState(
        name=name,
        parent=active.name,
        base=str(active.path),
        bits=active.bits,
        dataset={
            **ds.summary(),
            "example_ids": sorted(ex.id for ex in ds.examples),
            "train_rows": len(train_rows),
            "teacher_rows": teacher_rows,
            "replay_rows": len(replayed),
            "local_tool_rows": len(local_rows),
            "tool_targets": sum(ex.id in targets for ex in ds.train),
            "call_repeats": teacher_rows - unbalanced,
            "correction_rows": sum(opts.correction_weight for ex in ds.train if ex.kind == "correction"),
            "retention": {"local": sources.count("local"), "regression": sources.count("regression")},
        },
        hyperparameters=Hyperparameters(
            fine_tune_type=opts.fine_tune_type,
            num_layers=opts.num_layers,
            lora_rank=opts.lora_rank,
            lora_scale=opts.lora_scale,
            learning_rate=opts.learning_rate,
            lr_schedule=opts.lr_schedule,
            seeds=opts.seeds,
            epochs=opts.epochs,
            max_seq_length=opts.max_seq_length,
            seed=opts.seed,
            rationales=opts.rationales,
            batch_size=batch,
            iters=iters,
            replay=replay,
            kl_weight=opts.kl_weight,
            correction_weight=opts.correction_weight,
            balance_calls=opts.balance_calls,
            lora_modules=opts.lora_modules,
        ),
        evaluation=Evaluation(
            margin=opts.margin,
            eval_limit=opts.eval_limit,
            eval_max_tokens=opts.eval_max_tokens,
            rejudge_seconds=opts.rejudge_seconds,
            rejudge_trained=opts.rejudge_trained,
            retention_max_drop=opts.retention_max_drop,
            strengths=parse_strengths(opts.strengths),
        ),
        trained_ids=sorted(ex.id for ex in ds.train),
        iters=iters * opts.seeds,
        save_every=opts.save_every,
        blas=blas.ensure(),
        parent_adapter=str(active.adapter_path) if active.adapter_path else None,
    )
    state.save(folder)
    return folder, state


# -- training ---------------------------------------------------------------------------------------------


def train(folder: Path, state: RunState, progress: Progress) -> None:
    """LoRA/DoRA on the base checkpoint with mlx-lm's trainer, saving the adapter as it goes."""
    if state.trained:
        return
    import mlx.core as mx

    # Uncompiled. MLX keeps compiled functions (the trainer's step, mlx-lm's swiglu) in a cache per
    # thread; the main thread's is destroyed after Python has shut down, which crashed the process
    # at exit (MLX 0.32 on CPU). A step measured as fast without compiling, on this CPU.
    mx.disable_compile()
    try:
        _train(folder, state, progress)
    finally:
        mx.enable_compile()
        gc.collect()  # the training model and its closures: freed now, not at exit


def learning_rate(hp: Hyperparameters, iters: int, done: int):
    """Adam's rate: the configured one held, or (cosine) eased from it to 0 by step `iters`; a run
    resumed after `done` steps goes on along the same curve."""
    if hp.lr_schedule != "cosine":
        return hp.learning_rate
    import mlx.optimizers as optim

    curve = optim.cosine_decay(hp.learning_rate, max(iters, 1))
    return lambda step: curve(step + done)


def attention_keys(model) -> list[str]:
    """The attention projections of a transformer block, named within it ("self_attn.q_proj", ...)."""
    import mlx.nn as nn

    return sorted(
        name
        for name, module in model.layers[0].named_modules()
        if "attn" in name and (hasattr(module, "to_lora") or isinstance(module, (nn.Linear, nn.QuantizedLinear)))
    )


def answer_tokens(batch, lengths):
    """Where a batch's loss counts, as mlx-lm's trainer marks it: (rows, columns) of the targets
    that are answer tokens (a row's prompt and padding are not learned)."""
    import numpy as np

    spans = np.array(lengths)
    steps = np.arange(1, batch.shape[1])
    return np.nonzero((steps >= spans[:, 0:1]) & (steps <= spans[:, 1:]))


def logits_at(model, inputs, rows, columns, hidden=None):
    """The model's next-token logits at (rows, columns) of `inputs` alone.

    Why not `model(inputs)`: a lesson's rows are mostly prompt (a system prompt of about 140 tokens
    before a query and an answer of 10 to 50), and the output layer spans the whole vocabulary
    (49,152 tokens for SmolLM2, 262,144 for Gemma 3), so logits and their cross-entropy at every
    position took a third of a training step, nearly all of it at positions the loss masks out.
    `hidden`: the final norm's output at every position, where the caller has it already."""
    import mlx.core as mx

    hidden = (model.model(inputs) if hidden is None else hidden)[mx.array(rows), mx.array(columns)]
    head = getattr(model, "lm_head", None)  # absent where the output layer is the tied embedding
    return head(hidden) if head is not None else model.model.embed_tokens.as_linear(hidden)


def answer_loss(model, batch, lengths, frozen: FrozenLayers | None = None):
    """mlx-lm's loss (the mean cross-entropy on the answer's tokens), computed at those tokens only
    (`logits_at`): the same value and gradient as `mlx_lm.tuner.trainer.default_loss`. With
    `frozen`, the blocks below the adapted ones are run once per row (model/distill/frozen_layers.py)."""
    import mlx.core as mx
    import mlx.nn as nn

    rows, columns = answer_tokens(batch, lengths)
    inputs = batch[:, :-1]
    hidden = frozen.hidden(model, inputs, lengths) if frozen is not None else None
    logits = logits_at(model, inputs, rows, columns, hidden)
    ce = nn.losses.cross_entropy(logits, batch[:, 1:][mx.array(rows), mx.array(columns)])
    ntoks = mx.array(len(rows))
    return ce.astype(mx.float32).sum() / ntoks, ntoks


def kl_regularised_loss(reference, weight: float):
    """`answer_loss` plus `weight` × KL(reference ‖ model) at those same tokens, where `reference`
    is the current student, frozen.

    Why it keeps what the student knows: the candidate's next-token distribution is held near the
    current student's wherever it learns, so the weights move only as far as the teacher's answers
    need. It does not stop a lesson: per token, the minimum of the sum is the mixture
    (teacher's token + weight × reference) / (1 + weight), whose most likely token is the teacher's
    for any weight up to 1."""
    import mlx.core as mx
    import mlx.nn as nn

    def loss(model, batch, lengths):
        rows, columns = answer_tokens(batch, lengths)
        inputs = batch[:, :-1]
        logits = logits_at(model, inputs, rows, columns).astype(mx.float32)
        ref = mx.stop_gradient(logits_at(reference, inputs, rows, columns).astype(mx.float32))
        ce = nn.losses.cross_entropy(logits, batch[:, 1:][mx.array(rows), mx.array(columns)])
        ref_logp = ref - mx.logsumexp(ref, axis=-1, keepdims=True)
        logp = logits - mx.logsumexp(logits, axis=-1, keepdims=True)
        kl = (mx.exp(ref_logp) * (ref_logp - logp)).sum(axis=-1)
        ntoks = mx.array(len(rows))
        return (ce + weight * kl).sum() / ntoks, ntoks

    return loss


class _QuietUI:
    """mlx-lm's own bar goes to stdout with no ETA: ours replaces it while the trainer runs."""

    def __init__(self, *a, **k):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def advance(self):
        pass

    def report_train(self, *a):
        pass

    def report_val(self, *a):
        pass

    def report_save(self, *a):
        pass

    @contextlib.contextmanager
    def val_task(self, total):
        yield lambda: None


def _train(folder: Path, state: RunState, progress: Progress) -> None:
    """Each of the `seeds` runs in turn (one for most), then with several their mean (`_soup`), and the
    validation loss after."""
    hp = state.hyperparameters
    task = progress.task("train", state.iters, state.done_iters)
    model = valid_set = None
    frozen_kept = {}  # what the frozen blocks hand the adapted ones, per row (FrozenLayers)
    while model is None or state.done_iters < state.iters:
        run = min(state.done_iters // hp.iters, hp.seeds - 1)
        model, valid_set = _train_run(folder, state, progress, task, run, frozen_kept)
    if hp.seeds > 1:
        _soup(folder, hp)
        model, _, _ = _adapted_model(state, hp.lora_rank * hp.seeds, hp.seed)
        model.load_weights(str(folder / ADAPTERS), strict=False)
    state.val_loss["after"] = _val_loss(model, valid_set, hp)
    state.trained = True
    state.save(folder)
    if state.losses:
        progress.say(
            f"Trained {state.iters} steps in {state.train_seconds:.0f} s: loss {state.losses[0]:.3f} → "
            f"{state.losses[-1]:.3f}; validation loss {state.val_loss['before']} → {state.val_loss['after']}."
        )


def _adapted_model(state: RunState, rank: int, seed: int):
    """The base checkpoint with Apprentice's layers and fresh adapter layers of `rank` (initialised
    from `seed`): (model, tokenizer, the adapter's config)."""
    import mlx.core as mx

    from assistant import kernels, mlxlm

    mlxlm.full()  # mlx-lm's loader and trainer, without PyTorch
    from mlx_lm import load
    from mlx_lm.tuner.utils import linear_to_lora_layers

    hp = state.hyperparameters
    with contextlib.redirect_stdout(sys.stderr):  # mlx-lm prints warnings on stdout; ours is for --json
        model, tokenizer = load(state.base)
    # Apprentice's layers for this model, as when it answers: MLX's own 4-bit product on the CPU made
    # a forward pass of 1,000 tokens take over 100 s instead of 10, and training with it crawled.
    kernels.install(model)
    model.freeze()
    layers = len(model.layers) if hp.num_layers < 0 else min(hp.num_layers, len(model.layers))
    lora = {"rank": rank, "scale": hp.lora_scale, "dropout": hp.dropout}
    if hp.lora_modules == "attention":
        lora["keys"] = attention_keys(model)
    mx.random.seed(seed)
    linear_to_lora_layers(model, layers, lora, use_dora=hp.fine_tune_type == "dora")
    config = {"fine_tune_type": hp.fine_tune_type, "num_layers": layers, "lora_parameters": lora}
    return model, tokenizer, config


def _val_loss(model, valid_set, hp: Hyperparameters) -> float | None:
    from mlx_lm.tuner import trainer

    if not len(valid_set):
        return None
    loss = trainer.evaluate(
        model, valid_set, batch_size=1, num_batches=-1, max_seq_length=hp.max_seq_length, loss=answer_loss
    )
    return round(float(loss), 4)


def _run_file(folder: Path, run: int, seeds: int) -> Path:
    """Where run `run` keeps its finished adapter: the adapter itself when it is the only run."""
    return folder / ADAPTERS if seeds == 1 else folder / RUN_ADAPTERS.format(run)


def _soup(folder: Path, hp: Hyperparameters) -> None:
    """The mean of the runs' learned changes as one adapter: their `lora_a` side by side and their
    `lora_b` stacked and divided by the number of runs, so x·A·B is the mean of the runs' x·Aₖ·Bₖ (an
    adapter of rank runs × rank; each change is exact, nothing is approximated). Runs from one base
    on one lesson differ mostly where each is unsure, and their mean keeps what they agree on."""
    import mlx.core as mx

    runs = [mx.load(str(_run_file(folder, run, hp.seeds))) for run in range(hp.seeds)]
    soup = {}
    for key in runs[0]:
        if key.endswith("lora_a"):
            soup[key] = mx.concatenate([r[key] for r in runs], axis=1)
        elif key.endswith("lora_b"):
            soup[key] = mx.concatenate([r[key] for r in runs], axis=0) / len(runs)
        else:
            raise ApprenticeError(f"The adapter holds {key}, which --seeds cannot average; train with --seeds 1.")
    partial = folder / "adapters.partial.safetensors"
    mx.save_safetensors(str(partial), soup)
    os.replace(partial, folder / ADAPTERS)
    path = folder / "adapter_config.json"
    config = json.loads(path.read_text())
    config["lora_parameters"]["rank"] = hp.lora_rank * hp.seeds
    path.write_text(json.dumps(config, indent=1))


def _as_the_adapter_reads(path: Path) -> list[dict]:
    """The rows of `path` with their conversations as the adapter reads them when it answers
    (`assistant.student.adapter_view`: number words made digits); the file keeps what was said."""
    from assistant.student import adapter_view

    return [{**row, "messages": adapter_view(row["messages"])} for row in read_jsonl(path)]


def _train_run(folder: Path, state: RunState, progress: Progress, task, run: int, frozen_kept: dict):
    """Run `run` of the `seeds`, from its last saved step to its end, its adapter kept in its run file;
    (the model as trained, the validation set)."""
    import mlx.core as mx
    import mlx.optimizers as optim
    import numpy as np
    from mlx.utils import tree_flatten
    from mlx_lm.tuner import trainer
    from mlx_lm.tuner.callbacks import TrainingCallback
    from mlx_lm.tuner.datasets import CacheDataset, ChatDataset

    hp = state.hyperparameters
    seed = hp.seed + run
    start, end = run * hp.iters, (run + 1) * hp.iters
    done = state.done_iters - start  # steps of this run already taken
    model, tokenizer, config = _adapted_model(state, hp.lora_rank, seed)
    adapters = folder / ADAPTERS
    finished = _run_file(folder, run, hp.seeds)
    if done >= hp.iters:
        model.load_weights(str(finished), strict=False)
    elif done:
        model.load_weights(str(adapters), strict=False)  # the run's last saved step
    (folder / "adapter_config.json").write_text(json.dumps(config, indent=1))

    train_set = CacheDataset(ChatDataset(_as_the_adapter_reads(folder / "train.jsonl"), tokenizer, mask_prompt=True))
    valid_set = CacheDataset(ChatDataset(_as_the_adapter_reads(folder / "valid.jsonl"), tokenizer, mask_prompt=True))
    if "before" not in state.val_loss:
        state.val_loss["before"] = _val_loss(model, valid_set, hp)
        state.save(folder)
        progress.say(f"Validation loss before training: {state.val_loss['before']}")
    if hp.seeds > 1 and done < hp.iters:
        progress.say(f"Training run {run + 1} of {hp.seeds} (seed {seed}).")

    class Checkpoints(TrainingCallback):
        """Per step: the loss on the bar; every `save_every` steps, the adapter and state on disk."""

        def __init__(self):
            self.tick = time.monotonic()

        def on_train_loss_report(self, info: dict) -> None:
            step = start + done + info["iteration"]
            loss = float(info["train_loss"])
            state.losses.append(round(loss, 4))
            task.advance(loss=loss)
            if step % state.save_every == 0 and step < end:  # a run's last step is kept in its run file
                partial = folder / "adapters.partial.safetensors"
                mx.save_safetensors(str(partial), dict(tree_flatten(model.trainable_parameters())))
                os.replace(partial, adapters)
                now = time.monotonic()
                state.train_seconds = round(state.train_seconds + now - self.tick, 1)
                self.tick = now
                state.done_iters = step
                state.save(folder)

    loss = functools.partial(answer_loss, frozen=FrozenLayers.of(model, config["num_layers"], frozen_kept))
    if hp.kl_weight > 0:
        from mlx_lm.utils import load_adapters, load_model

        from assistant import kernels

        with contextlib.redirect_stdout(sys.stderr):
            reference, _ = load_model(Path(state.base))
            if state.parent_adapter:
                reference = load_adapters(reference, state.parent_adapter)
        kernels.install(reference)
        reference.freeze()
        reference.eval()
        loss = kl_regularised_loss(reference, hp.kl_weight)

    remaining = hp.iters - done
    callback = Checkpoints()
    if remaining > 0:
        np.random.seed(seed + done)  # the batch order: a resumed run does not replay the same batches
        optimizer = optim.Adam(learning_rate=learning_rate(hp, hp.iters, done))
        final = folder / "trained.safetensors"
        args = trainer.TrainingArgs(
            batch_size=hp.batch_size,
            iters=remaining,
            steps_per_report=1,
            steps_per_eval=10**9,
            steps_per_save=10**9,
            adapter_file=str(final),
            max_seq_length=hp.max_seq_length,
        )
        original_ui, trainer.TrainUI = trainer.TrainUI, _QuietUI
        try:
            with contextlib.redirect_stdout(sys.stderr):
                trainer.train(model, optimizer, train_set, None, args=args, loss=loss, training_callback=callback)
        finally:
            trainer.TrainUI = original_ui
        os.replace(final, finished)
    state.train_seconds = round(state.train_seconds + time.monotonic() - callback.tick, 1)
    state.done_iters = end
    state.save(folder)
    return model, valid_set

"""`apprentice distill`: fine-tune the student on the teacher's logged answers, evaluate, promote.

    apprentice distill [--dry-run] [--resume] [--json] [--rationales] [--iters N] [--margin 0.05] …
    python -m model.distill --dry-run

1. The dataset (model/dataset.py): logged fallbacks, deduplicated, decontaminated against the
   benchmark test files, split into train and held-out by a hash of each conversation. Below
   `--min-examples` it says how many more are needed and stops (exit 1).
2. A LoRA adapter (or DoRA, `--fine-tune-type dora`) on the *base* checkpoint, trained on all
   examples so far with mlx-lm's tuner: the prompt is masked so only the teacher's answer is
   learned, and the system prompt the student answers with is part of every example. Validation
   loss on the held-out examples before and after; a progress bar with an ETA on stderr.
3. The candidate and the current student answer the held-out queries (model/evaluate.py).
4. The candidate is registered either way, with its parent, dataset hash and size, the example
   ids, hyper-parameters, losses and metrics; it becomes active only if its held-out accuracy
   beats the current student's by `--margin`. Otherwise it stays on disk, unpromoted, with the
   reason (`apprentice model use NAME` makes it active anyway).
   The version also carries its own cascade line: the least mean token log-probability at which
   its held-out answers were right at least `cascade_precision` of the time (model/evaluate.py,
   `cascade_threshold`). Fine-tuning makes a student surer of itself, right or wrong, so the base
   student's line would keep too many wrong answers.
5. After a promotion the router's memory is re-judged for the new student: the outcomes logged
   for the previous one, newest first, are answered again and judged against the teacher's
   answers, for at most `--rejudge-seconds`; outcomes not reached in time are left out (similar
   queries go to the cascade, which learns again), and answers the user marked wrong carry over.
   Outcomes of examples the candidate trained on are left out unless `--rejudge-trained`: an
   answer learned by heart says little about the similar queries the router would send it.

Interrupt safety: training happens in a staging folder under the registry, with the adapter
saved every `--save-every` steps; Ctrl-C or a crash leaves the active student untouched, and
`apprentice distill --resume` continues from the last saved step (Adam's moments restart, as
with mlx-lm's own --resume-adapter-file). Nothing is registered before the run is complete.

Settings: the `distill_*` settings (assistant/config.py: config.toml, APPRENTICE_DISTILL_* environment)
< flags.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import math
import os
import shutil
import sys
import time
from pathlib import Path

from assistant import blas, config
from assistant.errors import ApprenticeError

ADAPTERS = "adapters.safetensors"
STATE = "run.json"
HELP = {  # each option's default is the `distill_<name>` setting (assistant/config.py)
    "min_examples": "fewest usable examples to train on",
    "heldout_fraction": "share of examples held out to evaluate on",
    "dedup_similarity": "cosine similarity at which two queries may be near-duplicates",
    "fine_tune_type": "lora or dora",
    "num_layers": "adapt the last N transformer blocks (-1: all)",
    "lora_rank": "rank of the adapter matrices",
    "lora_scale": "scale of the adapter's output (mlx-lm's convention)",
    "learning_rate": "Adam learning rate",
    "batch_size": "examples per step",
    "epochs": "passes over the training examples (when --iters is 0)",
    "iters": "training steps; 0: from --epochs",
    "max_seq_length": "longest example in tokens; longer ones are cut",
    "save_every": "save the adapter every N steps, for --resume",
    "margin": "held-out accuracy the candidate must gain over the current student",
    "eval_limit": "most held-out examples to evaluate on (the newest)",
    "eval_max_tokens": "longest answer generated per held-out query",
    "rejudge_seconds": "time allowed for re-judging the router's outcomes after a promotion",
    "seed": "random seed: adapter initialisation and example order",
}
RATIONALE_SYSTEM = (
    "Before the answer, give a short rationale. Reply in exactly two lines: 'Rationale: …' and then 'Answer: …'."
)


# -- progress --------------------------------------------------------------------------------------


class Progress:
    """Bars with an ETA on stderr (rich); or, with style "jsonl", one JSON object per line on stderr
    ({"phase", "done", "total", "eta_s", …}, for the chat app running this as a child process);
    or nothing but notes ("none")."""

    @classmethod
    def for_flags(cls, progress: str, json_out: bool) -> Progress:
        """--progress as given, except that rich bars stay off when --json goes to a script."""
        return cls("none" if progress == "rich" and json_out and not sys.stderr.isatty() else progress)

    def __init__(self, style: str = "rich"):
        self.style = style
        self._bars = None
        self._started = False  # the bars show from the first task on
        if style == "rich":
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.progress import (
                Progress as Bars,
            )

            self.console = Console(stderr=True)
            self._bars = Bars(
                TextColumn("{task.description:<18}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                TextColumn("{task.fields[info]}"),
                console=self.console,
            )

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self._bars is not None and self._started:
            self._bars.stop()

    def say(self, text: str) -> None:
        if self.style == "jsonl":
            print(json.dumps({"note": text}), file=sys.stderr, flush=True)
        elif self._bars is not None:
            self.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=sys.stderr, flush=True)

    def task(self, name: str, total: int, done: int = 0) -> Task:
        return Task(self, name, total, done)


class Task:
    def __init__(self, progress: Progress, name: str, total: int, done: int):
        self.progress, self.name, self.total, self.done = progress, name, total, done
        self.started, self.start_done = time.monotonic(), done
        self._id = None
        if progress._bars is not None:
            if not progress._started:
                progress._bars.start()
                progress._started = True
            self._id = progress._bars.add_task(name, total=total, completed=done, info="")

    def advance(self, n: int = 1, **info) -> None:
        self.done += n
        text = "  ".join(f"{k} {v:.3f}" if isinstance(v, float) else f"{k} {v}" for k, v in info.items())
        if self._id is not None:
            self.progress._bars.update(self._id, advance=n, info=text)
        elif self.progress.style == "jsonl":
            rate = (time.monotonic() - self.started) / max(1, self.done - self.start_done)
            print(
                json.dumps(
                    {
                        "phase": self.name,
                        "done": self.done,
                        "total": self.total,
                        "eta_s": round(rate * (self.total - self.done), 1),
                        **info,
                    }
                ),
                file=sys.stderr,
                flush=True,
            )


# -- options -------------------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="apprentice distill",
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
        "--rationales",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="ask the teacher for a short rationale to each training example and learn it as a second task",
    )
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
    p.add_argument(
        "--rejudge-trained",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="re-judge the outcomes of examples the candidate trained on too (answers learned by heart "
        "make the router over-trust the student on similar queries; default: off)",
    )
    defaults = config.Settings()
    for name, text in HELP.items():
        default = getattr(defaults, f"distill_{name}")
        flag = "--" + name.replace("_", "-")
        metavar = {int: "N", float: "X", str: "NAME"}[type(default)]
        p.add_argument(
            flag,
            type=type(default),
            default=None,
            metavar=metavar,
            help=f"{text} (setting distill_{name}, default {default})",
        )
    return p


def options(args: argparse.Namespace, settings) -> dict:
    """Each value from the flag, else the `distill_<name>` setting."""
    out = {}
    for name in [*HELP, "rationales", "rejudge_trained"]:
        value = getattr(args, name)
        out[name] = value if value is not None else getattr(settings, f"distill_{name}")
    if out["fine_tune_type"] not in ("lora", "dora"):
        raise ApprenticeError(f"--fine-tune-type must be lora or dora, not {out['fine_tune_type']!r}.")
    if out["batch_size"] < 1 or out["epochs"] < 1 or out["save_every"] < 1:
        raise ApprenticeError("--batch-size, --epochs and --save-every must be 1 or more.")
    return out


# -- the run ---------------------------------------------------------------------------------------------


def waiting(store=None) -> dict:
    """What the chat app's /distill shows before a run, cheaply (no embeddings): teacher answers
    that may be trained on, how many the active student has not learned from, and whether an
    interrupted run can be resumed."""
    from assistant.models import registry
    from assistant.store import Store

    usable = (store or Store()).trainable_example_ids()
    try:
        learned = registry.trained_on(registry.active())
    except ApprenticeError:
        learned = set()
    pending = interrupted()
    return {
        "examples": len(usable),
        "new": len(usable - learned),
        "interrupted": None
        if pending is None
        else {"version": pending[1]["name"], "step": pending[1]["done_iters"], "steps": pending[1]["iters"]},
    }


def interrupted() -> tuple[Path, dict] | None:
    """The newest staging folder of a run that did not finish, with its state."""
    from assistant.models import registry

    root = registry.models_dir()
    found = []
    for state_file in root.glob(".staging-*/" + STATE) if root.exists() else []:
        try:
            found.append((state_file.stat().st_mtime, state_file.parent, json.loads(state_file.read_text())))
        except (OSError, json.JSONDecodeError):
            continue
    if not found:
        return None
    _, folder, state = max(found, key=lambda f: f[0])
    return folder, state


def _write_state(folder: Path, state: dict) -> None:
    tmp = folder / f".{STATE}.partial"
    tmp.write_text(json.dumps(state, indent=1))
    os.replace(tmp, folder / STATE)


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def run(args: argparse.Namespace, progress: Progress) -> dict:
    """The whole distillation; returns the result object (`--json` prints it)."""
    blas.ensure()
    from assistant.models import registry
    from assistant.store import Store
    from model import dataset

    settings = config.load()
    opts = options(args, settings)
    store = Store()
    active = registry.active()
    notes: list[str] = []
    started = time.monotonic()
    pending = interrupted()

    if args.resume:
        if pending is None:
            raise ApprenticeError("There is no interrupted distillation to resume; run `apprentice distill`.")
        folder, state = pending
        progress.say(f"Resuming {state['name']} at step {state['done_iters']} of {state['iters']}.")
        state.setdefault("resumed_from", []).append(state["done_iters"])
        _write_state(folder, state)
    else:
        ds = dataset.build(
            store,
            exclude=args.exclude,
            heldout_fraction=opts["heldout_fraction"],
            dedup_similarity=opts["dedup_similarity"],
        )
        result = {"status": "dry_run", "dataset": ds.summary(), "notes": notes}
        if args.dry_run:
            result["listing"] = dataset.describe(ds)
            return result
        if len(ds) < opts["min_examples"]:
            needed = opts["min_examples"] - len(ds)
            return {**result, "status": "too_few", "needed": needed, "min_examples": opts["min_examples"]}
        if pending is not None:
            shutil.rmtree(pending[0], ignore_errors=True)
            notes.append(
                f"The interrupted run {pending[1]['name']} was discarded for a new one "
                "(`apprentice distill --resume` continues one instead)."
            )
        if opts["rationales"]:
            ask_rationales(store, ds, settings, progress, notes)
        folder, state = _prepare(ds, active, opts, settings, args)
    train(folder, state, progress)
    result = evaluate_and_promote(folder, state, store, settings, progress, notes)
    result["seconds"] = round(time.monotonic() - started, 1)
    result["notes"] = notes
    return result


def _prepare(ds, active, opts: dict, settings, args) -> tuple[Path, dict]:
    """A staging folder with the dataset's files and the run's state."""
    from assistant.models import registry
    from model import dataset

    system_prompt = config.system_prompt(settings)
    train_rows = ds.rows("train", system_prompt, rationales=opts["rationales"])
    valid_rows = ds.rows("heldout", system_prompt)
    batch = min(opts["batch_size"], len(train_rows))
    # mlx-lm's batches drop what does not fill the last one (the longest examples, as they are
    # sorted by length): repeat the first few examples so that every one is learned.
    pad = (-len(train_rows)) % batch
    train_rows = train_rows + train_rows[:pad]
    iters = opts["iters"] or math.ceil(opts["epochs"] * len(train_rows) / batch)
    references = {}
    for path in args.references:
        for row in dataset.read_tasks(path):
            references[dataset.key(row["query"])] = row
    heldout = sorted(ds.heldout, key=lambda e: e.id, reverse=True)[: opts["eval_limit"]]
    items = []
    for ex in heldout:
        ref = references.get(dataset.key(ex.messages[-1]["content"])) if len(ex.messages) == 1 else None
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
    _write_jsonl(folder / "train.jsonl", train_rows)
    _write_jsonl(folder / "valid.jsonl", valid_rows)
    _write_jsonl(folder / "heldout.jsonl", items)
    state = {
        "name": name,
        "parent": active.name,
        "base": str(active.path),
        "bits": active.bits,
        "dataset": {**ds.summary(), "example_ids": sorted(ex.id for ex in ds.examples), "train_rows": len(train_rows)},
        "hyperparameters": {
            k: opts[k]
            for k in (
                "fine_tune_type",
                "num_layers",
                "lora_rank",
                "lora_scale",
                "learning_rate",
                "epochs",
                "max_seq_length",
                "seed",
                "rationales",
            )
        }
        | {"batch_size": batch, "iters": iters, "dropout": 0.0},
        "evaluation": {
            k: opts[k] for k in ("margin", "eval_limit", "eval_max_tokens", "rejudge_seconds", "rejudge_trained")
        },
        "trained_ids": sorted(ex.id for ex in ds.train),
        "iters": iters,
        "done_iters": 0,
        "save_every": opts["save_every"],
        "losses": [],
        "val_loss": {},
        "trained": False,
        "train_seconds": 0.0,
        "blas": blas.ensure(),
    }
    _write_state(folder, state)
    return folder, state


def ask_rationales(store, ds, settings, progress: Progress, notes: list[str]) -> None:
    """Ask the teacher for a rationale to each training example that has none yet (recorded like any request)."""
    from assistant import privacy
    from assistant.teacher import Teacher, TeacherError
    from model.dataset import parse_rationale

    todo = [ex for ex in ds.train if ex.rationale is None]
    if not todo:
        return
    key = privacy.gemini_key()
    mode = privacy.default_mode(settings)
    if key is None or mode == "private":
        raise ApprenticeError(
            "--rationales asks the teacher again for each example, which needs a Gemini key and a "
            "mode other than private; run without --rationales to train on the answers alone."
        )
    teacher = Teacher.from_settings(key, settings, f"{config.system_prompt(settings)}\n\n{RATIONALE_SYSTEM}")
    progress.say(f"Asking the teacher for {len(todo)} rationale(s); the already-sent redacted queries go again.")
    task = progress.task("rationales", len(todo))
    failed = 0
    for ex in todo:
        text, error = "", None
        try:
            text = "".join(teacher.stream(ex.messages))
        except TeacherError as exc:
            error, failed = str(exc), failed + 1
        store.add_rationale(
            ex.id,
            turn_id=None,
            query_sent=ex.messages[-1]["content"],
            messages_sent=json.dumps(ex.messages),
            teacher_answer=text or None,
            teacher_model=teacher.model,
            consent=mode,
            error=error,
            latency_ms=teacher.usage.latency_ms,
            answer_tokens=teacher.usage.answer_tokens,
        )
        ex.rationale = text or None
        task.advance()
    got = sum(1 for ex in ds.train if parse_rationale(ex.rationale or ""))
    notes.append(
        f"{got} of {len(ds.train)} training examples carry a rationale"
        + (f"; {failed} request(s) failed." if failed else ".")
    )


# -- training ----------------------------------------------------------------------------------------


def train(folder: Path, state: dict, progress: Progress) -> None:
    """LoRA/DoRA on the base checkpoint with mlx-lm's trainer, saving the adapter as it goes."""
    if state["trained"]:
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


def _train(folder: Path, state: dict, progress: Progress) -> None:
    import mlx.core as mx
    import mlx.optimizers as optim
    import numpy as np
    from mlx.utils import tree_flatten
    from mlx_lm import load
    from mlx_lm.tuner import trainer
    from mlx_lm.tuner.callbacks import TrainingCallback
    from mlx_lm.tuner.datasets import CacheDataset, ChatDataset
    from mlx_lm.tuner.utils import linear_to_lora_layers

    hp = state["hyperparameters"]
    with contextlib.redirect_stdout(sys.stderr):  # mlx-lm prints warnings on stdout; ours is for --json
        model, tokenizer = load(state["base"])
    model.freeze()
    layers = len(model.layers) if hp["num_layers"] < 0 else min(hp["num_layers"], len(model.layers))
    lora = {"rank": hp["lora_rank"], "scale": hp["lora_scale"], "dropout": hp["dropout"]}
    mx.random.seed(hp["seed"])
    linear_to_lora_layers(model, layers, lora, use_dora=hp["fine_tune_type"] == "dora")
    adapters = folder / ADAPTERS
    done = state["done_iters"]
    if done:
        model.load_weights(str(adapters), strict=False)
    (folder / "adapter_config.json").write_text(
        json.dumps({"fine_tune_type": hp["fine_tune_type"], "num_layers": layers, "lora_parameters": lora}, indent=1)
    )

    train_set = CacheDataset(ChatDataset(_read_jsonl(folder / "train.jsonl"), tokenizer, mask_prompt=True))
    valid_set = CacheDataset(ChatDataset(_read_jsonl(folder / "valid.jsonl"), tokenizer, mask_prompt=True))

    def val_loss() -> float | None:
        if not len(valid_set):
            return None
        loss = trainer.evaluate(model, valid_set, batch_size=1, num_batches=-1, max_seq_length=hp["max_seq_length"])
        return round(float(loss), 4)

    if "before" not in state["val_loss"]:
        state["val_loss"]["before"] = val_loss()
        _write_state(folder, state)
        progress.say(f"Validation loss before training: {state['val_loss']['before']}")

    task = progress.task("train", state["iters"], done)
    save_every = state["save_every"]

    class Checkpoints(TrainingCallback):
        """Per step: the loss on the bar; every `save_every` steps, the adapter and state on disk."""

        def __init__(self):
            self.tick = time.monotonic()

        def on_train_loss_report(self, info: dict) -> None:
            step = done + info["iteration"]
            loss = float(info["train_loss"])
            state["losses"].append(round(loss, 4))
            task.advance(loss=loss)
            if step % save_every == 0 and step < state["iters"]:
                partial = folder / "adapters.partial.safetensors"
                mx.save_safetensors(str(partial), dict(tree_flatten(model.trainable_parameters())))
                os.replace(partial, adapters)
                now = time.monotonic()
                state["train_seconds"] = round(state["train_seconds"] + now - self.tick, 1)
                self.tick = now
                state["done_iters"] = step
                _write_state(folder, state)

    class QuietUI:  # mlx-lm's own bar goes to stdout with no ETA: ours replaces it
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

    remaining = state["iters"] - done
    callback = Checkpoints()
    if remaining > 0:
        np.random.seed(hp["seed"] + done)  # the batch order: a resumed run does not replay the same batches
        optimizer = optim.Adam(learning_rate=hp["learning_rate"])
        final = folder / "trained.safetensors"
        args = trainer.TrainingArgs(
            batch_size=hp["batch_size"],
            iters=remaining,
            steps_per_report=1,
            steps_per_eval=10**9,
            steps_per_save=10**9,
            adapter_file=str(final),
            max_seq_length=hp["max_seq_length"],
        )
        original_ui, trainer.TrainUI = trainer.TrainUI, QuietUI
        try:
            with contextlib.redirect_stdout(sys.stderr):
                trainer.train(model, optimizer, train_set, None, args=args, training_callback=callback)
        finally:
            trainer.TrainUI = original_ui
        os.replace(final, adapters)
    state["train_seconds"] = round(state["train_seconds"] + time.monotonic() - callback.tick, 1)
    state["val_loss"]["after"] = val_loss()
    state["done_iters"] = state["iters"]
    state["trained"] = True
    _write_state(folder, state)
    losses = state["losses"]
    if losses:
        progress.say(
            f"Trained {state['iters']} steps in {state['train_seconds']:.0f} s: loss {losses[0]:.3f} → "
            f"{losses[-1]:.3f}; validation loss {state['val_loss']['before']} → {state['val_loss']['after']}."
        )


# -- evaluation, promotion, re-judging ---------------------------------------------------------------


def _student(path, name: str, settings, adapter_path=None):
    from assistant.student import Student

    return Student(
        path,
        name=name,
        system_prompt=config.system_prompt(settings),
        temperature=0.0,
        context_tokens=settings.context_tokens,
        adapter_path=adapter_path,
    )


def evaluate_and_promote(folder: Path, state: dict, store, settings, progress: Progress, notes: list[str]) -> dict:
    from assistant.embedder import shared
    from assistant.models import registry
    from model.evaluate import Item, evaluate

    ev = state["evaluation"]
    items = [Item(**row) for row in _read_jsonl(folder / "heldout.jsonl")]
    embedder = shared()
    current = registry.active()

    def scores(student, role: str):
        task = progress.task(f"evaluate {role}", len(items))
        return evaluate(
            student,
            items,
            max_tokens=ev["eval_max_tokens"],
            embedder=embedder,
            agree_similarity=settings.judge_agree_similarity,
            advance=task.advance,
        )

    student = _student(current.path, current.name, settings, current.adapter_path)
    try:
        cur = scores(student, "current")
    finally:
        student.close()
        del student
    candidate = _student(Path(state["base"]), state["name"], settings, folder)
    try:
        cand = scores(candidate, "candidate")
        return _decide(folder, state, store, settings, progress, items, cand, cur, current, candidate)
    finally:
        candidate.close()
        del candidate


def _decide(folder, state, store, settings, progress, items, cand, cur, current, candidate) -> dict:
    from assistant.models import registry
    from model.evaluate import cascade_threshold

    ev = state["evaluation"]
    gain = cand.accuracy - cur.accuracy
    promote = bool(items) and gain >= ev["margin"] - 1e-9
    queries = f"{len(items)} quer{'y' if len(items) == 1 else 'ies'}"
    versus = f"held-out accuracy {cand.accuracy:.0%} against {cur.accuracy:.0%} for {current.name} on {queries}"
    reason = (
        f"{versus}: better by {gain:+.0%}, at least the margin of {ev['margin']:.0%}"
        if promote
        else f"{versus}: not better by the margin of {ev['margin']:.0%}"
    )
    metrics = {
        "candidate": cand.to_json(),
        "current": {**cur.to_json(), "version": current.name},
        "margin": ev["margin"],
        "gain": round(gain, 4),
    }
    line = cascade_threshold(cand.scores, settings.cascade_precision)
    cascade = {
        "min_logprob": round(line, 4),
        "precision": settings.cascade_precision,
        "kept": sum(s.confidence is not None and s.confidence >= line for s in cand.scores),
        "n": len(cand.scores),
    }
    by_family: dict[str, list] = {}
    for item, a, b in zip(items, cand.scores, cur.scores):
        if item.family:
            by_family.setdefault(item.family, []).append((a.right, b.right))
    if by_family:
        metrics["families"] = {
            f: {"candidate": sum(a for a, _ in v) / len(v), "current": sum(b for _, b in v) / len(v), "n": len(v)}
            for f, v in sorted(by_family.items())
        }
    info = {
        "kind": "distilled",
        "base": state["base"],
        "dataset": state["dataset"],
        "hyperparameters": state["hyperparameters"],
        "training": {
            "steps": state["iters"],
            "seconds": state["train_seconds"],
            "loss_first": (state["losses"] or [None])[0],
            "loss_last": (state["losses"] or [None])[-1],
            "val_loss": state["val_loss"],
            "blas": state["blas"],
            "resumed_from": state.get("resumed_from", []),
        },
        "metrics": metrics,
        "cascade": cascade,
        "promoted": promote,
        "reason": reason,
    }
    for name in ("train.jsonl", "valid.jsonl", "heldout.jsonl", STATE):  # the training data stays in the log only
        (folder / name).unlink(missing_ok=True)
    version = registry.new_version(
        state["name"],
        source=f"distilled from {state['parent']} on {state['dataset']['examples']} examples",
        bits=state["bits"],
        parent=state["parent"],
        external_path=state["base"],
        info=info,
    )
    registry.register(folder, version, make_active=promote)
    result = {
        "status": "promoted" if promote else "kept",
        "version": version.name,
        "parent": state["parent"],
        "promoted": promote,
        "reason": reason,
        "dataset": {k: v for k, v in state["dataset"].items() if k != "example_ids"},
        "training": info["training"],
        "metrics": metrics,
        "cascade": cascade,
    }
    if promote:
        trained = set() if ev.get("rejudge_trained") else set(state["trained_ids"])
        result["rejudged"] = rejudge(
            store, version.name, current.name, candidate, settings, ev["rejudge_seconds"], progress, skip=trained
        )
    return result


def rejudge(
    store, new: str, previous: str, student, settings, seconds: float, progress: Progress, skip: set[int] = frozenset()
) -> dict:
    """Give the new student a router memory: the previous student's outcomes, judged again with it.
    Outcomes of examples in `skip` (those it trained on, when asked) are left out: right on an
    answer it learned by heart says little about the similar queries the router would send it."""
    from assistant.embedder import shared
    from assistant.judge import judge
    from model.dataset import key
    from model.evaluate import answer, token_budget

    embedder = shared()
    seen, todo, carried = set(), [], 0
    for row in store.outcomes_with_answers(previous):  # newest first
        if key(row["query"]) in seen:
            continue
        seen.add(key(row["query"]))
        if row["origin"] == "marked_bad":  # the user said the answer was wrong: no teacher to judge against
            store.add_outcome(
                query=row["query"],
                embedding=row["embedding"],
                student_version=new,
                wrong=1,
                origin="marked_bad",
                turn_id=row["turn_id"],
            )
            carried += 1
        elif row["teacher_answer"] and row["example_id"] not in skip:
            todo.append(row)
    started = time.monotonic()
    deadline = started + seconds
    task = progress.task("re-judge outcomes", len(todo))
    done = right = 0
    for row in todo:
        if time.monotonic() > deadline:
            break
        messages = [{"role": "user", "content": row["query"]}]
        text, _ = answer(student, messages, token_budget(student.tokenizer, row["teacher_answer"], 128))
        verdict = judge(
            text, row["teacher_answer"], embedder=embedder, agree_similarity=settings.judge_agree_similarity
        )
        store.add_outcome(
            query=row["query"],
            embedding=row["embedding"],
            student_version=new,
            wrong=int(not verdict.agree),
            origin="rejudged",
            similarity=verdict.similarity,
            turn_id=row["turn_id"],
            example_id=row["example_id"],
        )
        done += 1
        right += verdict.agree
        task.advance()
    return {
        "outcomes": len(todo),
        "rejudged": done,
        "now_right": right,
        "left_out": len(todo) - done,
        "carried_marked_wrong": carried,
        "seconds": round(time.monotonic() - started, 1),
        "budget_s": seconds,
    }


# -- the command --------------------------------------------------------------------------------------


def _summary(result: dict) -> list[str]:
    lines = []
    m = result.get("metrics", {})
    if result["status"] in ("promoted", "kept"):
        verb = "is now the active student" if result["promoted"] else "was kept on disk, not active"
        lines.append(f"{result['version']} {verb}: {result['reason']}.")
        if m.get("families"):
            lines.append(
                "By family: "
                + ", ".join(f"{f} {v['current']:.0%}→{v['candidate']:.0%}" for f, v in m["families"].items())
                + "."
            )
        c = result["cascade"]
        lines.append(
            f"Cascade: it keeps its own answer at a mean log-prob of {c['min_logprob']:.2f} or more "
            f"({c['kept']} of {c['n']} held-out answers, right at least {c['precision']:.0%} of the time)."
        )
        if not result["promoted"]:
            lines.append(f"`apprentice model use {result['version']}` makes it active anyway.")
        if r := result.get("rejudged"):
            lines.append(
                f"Router memory: {r['rejudged']} of {r['outcomes']} past outcomes re-judged in {r['seconds']:.0f} s "
                f"({r['now_right']} now right); {r['left_out']} not reached in time go to the cascade."
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = parser().parse_args(argv)
    blas.ensure()  # before MLX loads: LoRA steps are several times faster with OpenBLAS on Linux
    progress = Progress.for_flags(args.progress, args.json)
    try:
        with progress:
            result = run(args, progress)
    except KeyboardInterrupt:
        pending = interrupted()
        where = f" at step {pending[1]['done_iters']} of {pending[1]['iters']}" if pending else ""
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
    if status == "too_few":
        ds = result["dataset"]
        left = "; left out: " + ", ".join(f"{k} {v}" for k, v in ds["left_out"].items()) if ds["left_out"] else ""
        print(
            f"Distillation needs at least {result['min_examples']} usable examples and the log has {ds['examples']}"
            f"{left}. {result['needed']} more teacher answers are needed: keep using Apprentice in ask or auto "
            "mode, then distill again.",
            file=sys.stderr,
        )
    if args.json:
        result.pop("listing", None)
        print(json.dumps(result, indent=2, ensure_ascii=False))
    elif status == "dry_run":
        print(result["listing"])
    else:
        for line in _summary(result):
            print(line)
    return 1 if status == "too_few" else 0


if __name__ == "__main__":
    sys.exit(main())

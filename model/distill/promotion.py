"""Promotion: the candidate and the current student answer the held-out queries; the better one is active.

The candidate is registered either way, with its parent, dataset hash and size, the example ids,
hyper-parameters, losses and metrics; it becomes active only if its held-out accuracy beats the
current student's by the margin and it keeps what the current student knew. Otherwise it stays on
disk, unpromoted, with the reason (`apprentice model use NAME` makes it active anyway).

What it knew is the retention set (model/evaluate.py): the current student's confident local
answers and the shipped regression set. The held-out split alone cannot show forgetting: it is
drawn from fallbacks, the queries the current student got wrong. A candidate whose accuracy on the
retention set is more than `retention_max_drop` below the current student's is not promoted.
The current student answered that set before training (training.py); those answers are used as
they are only for that same version, and the candidate answers it here.

A candidate that learned (better on the held-out queries) but forgot is tried again at a smaller
share of what it learned (`strengths`, default 1, 0.75, 0.5): its adapter's output scaled down, so it
lies between the base student and the trained candidate, as in weight-space ensembling of a
fine-tuned model with its start (WiSE-FT). Facts a small model holds weakly flip with any change of
its weights; a smaller change flips fewer of them and keeps most of the lesson. The first share that
passes is promoted; each one tried is reported (`metrics.strengths_tried`).

The version also carries its own cascade lines, one for text answers and one for tool calls that
validate, drawn from its answers to the held-out and retention sets (model/distill/calibration.py,
which also keeps those answers' confidences in the version's folder). Fine-tuning makes a student
surer of itself, right or wrong, so the base student's line would keep too many wrong answers.

After a promotion the router's memory is re-judged for the new student (assistant/outcomes.py).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from assistant import config
from model.distill.calibration import draw, points, save
from model.distill.progress import Progress
from model.distill.training import DATA_FILES, RUN_ADAPTERS, STATE, RunState, read_jsonl, student_for
from model.evaluate import Item, Report, Scored


@dataclass(frozen=True)
class Verdict:
    promote: bool
    gain: float  # candidate's held-out accuracy minus the current student's
    reason: str  # a clause a person reads: "held-out accuracy 80% against 20% for base on 10 queries: …"


def _queries(n: int) -> str:
    return f"{n} quer{'y' if n == 1 else 'ies'}"


def decide(
    *,
    candidate: Report,
    current: Report,
    current_name: str,
    margin: float,
    retention: dict | None = None,
) -> Verdict:
    """Promote when the candidate is better on the held-out queries by at least `margin`, and loses at
    most `retention["limit"]` of the current student's accuracy on the retention set (`retention`:
    the object `retention_figures` gives; None or n = 0: nothing to retain)."""
    n = len(candidate.scores)
    gain = candidate.accuracy - current.accuracy
    better = learned(candidate, current, margin)
    versus = (
        f"held-out accuracy {candidate.accuracy:.0%} against {current.accuracy:.0%} for {current_name} on {_queries(n)}"
    )
    if not better:
        return Verdict(False, gain, f"{versus}: not better by the margin of {margin:.0%}")
    reason = f"{versus}: better by {gain:+.0%}, at least the margin of {margin:.0%}"
    if not retention or not retention["n"]:
        return Verdict(True, gain, reason)
    kept = (
        f"retention {retention['candidate']:.0%} against {retention['current']:.0%} for {current_name} "
        f"on {_queries(retention['n'])} it answered right before"
    )
    if retention["drop"] > retention["limit"] + 1e-9:
        return Verdict(
            False,
            gain,
            f"{kept}: it forgot {retention['drop']:.0%}, more than the limit of {retention['limit']:.0%} "
            f"(though its {versus})",
        )
    return Verdict(True, gain, f"{reason}; {kept}, within the limit of {retention['limit']:.0%}")


def learned(candidate: Report, current: Report, margin: float) -> bool:
    """Whether the candidate beats the current student on the held-out queries by at least `margin`."""
    return len(candidate.scores) > 0 and candidate.accuracy - current.accuracy >= margin - 1e-9


def retention_figures(candidate: Report, current: Report, *, limit: float, sources: list[str]) -> dict:
    """The `retention` object of `apprentice distill --json`: both students' accuracy on the retention
    set, the candidate's drop (positive: it lost), the limit, and how many queries came from where."""
    return {
        "n": len(candidate.scores),
        "current": round(current.accuracy, 4),
        "candidate": round(candidate.accuracy, 4),
        "drop": round(current.accuracy - candidate.accuracy, 4),
        "limit": limit,
        "local": sources.count("local"),
        "regression": sources.count("regression"),
    }


def metrics(items: list[Item], *, candidate: Report, current: Report, current_name: str, margin: float) -> dict:
    """Both students' scores, the gain, and per family where the held-out queries carry one."""
    out = {
        "candidate": candidate.to_json(),
        "current": {**current.to_json(), "version": current_name},
        "margin": margin,
        "gain": round(candidate.accuracy - current.accuracy, 4),
    }
    by_family: dict[str, list[tuple[bool, bool]]] = {}
    for item, a, b in zip(items, candidate.scores, current.scores):
        if item.family:
            by_family.setdefault(item.family, []).append((a.right, b.right))
    if by_family:
        out["families"] = {
            f: {"candidate": sum(a for a, _ in v) / len(v), "current": sum(b for _, b in v) / len(v), "n": len(v)}
            for f, v in sorted(by_family.items())
        }
    return out


def training_info(state: RunState) -> dict:
    """What a version records about its training (and `apprentice distill --json` reports)."""
    return {
        "steps": state.iters,
        "seconds": state.train_seconds,
        "loss_first": (state.losses or [None])[0],
        "loss_last": (state.losses or [None])[-1],
        "val_loss": state.val_loss,
        "blas": state.blas,
        "resumed_from": state.resumed_from,
    }


def register(folder: Path, state: RunState, *, verdict: Verdict, metrics: dict, cascade: dict):
    """The candidate as a version on disk, active if promoted; its staging data is removed first."""
    from assistant.models import registry

    info = {
        "kind": "distilled",
        "base": state.base,
        "dataset": state.dataset,
        "hyperparameters": asdict(state.hyperparameters),
        "training": training_info(state),
        "metrics": metrics,
        "cascade": cascade,
        "promoted": verdict.promote,
        "reason": verdict.reason,
    }
    for name in (*DATA_FILES, STATE):  # the training data stays in the log only
        (folder / name).unlink(missing_ok=True)
    for run in folder.glob(RUN_ADAPTERS.format("*")):  # --seeds: the runs, kept in their mean
        run.unlink()
    version = registry.new_version(
        state.name,
        source=f"distilled from {state.parent} on {state.dataset['examples']} examples",
        bits=state.bits,
        parent=state.parent,
        external_path=state.base,
        info=info,
    )
    return registry.register(folder, version, make_active=verdict.promote)


_student = student_for  # the one way the gate builds a student


def set_strength(folder: Path, state: RunState, strength: float) -> None:
    """The adapter in `folder` scaled to `strength` of what it learned: its output, and so the change it
    makes to the base student, is multiplied by it (as loaded by the app and by mlx-lm alike)."""
    path = folder / "adapter_config.json"
    adapter = json.loads(path.read_text())
    adapter["lora_parameters"]["scale"] = state.hyperparameters.lora_scale * strength
    path.write_text(json.dumps(adapter, indent=1))


def asked(item: Item) -> str:
    """The query an item's answer answers: its last user message."""
    return next((m["content"] for m in reversed(item.messages) if m["role"] == "user"), "")


def _retention_set(folder: Path) -> tuple[list[Item], list[dict]]:
    """The retention set training.py wrote (items, and the rows with the current student's answers);
    empty for a run staged before retention existed."""
    path = folder / "retention.jsonl"
    rows = read_jsonl(path) if path.exists() else []
    keys = Item.__dataclass_fields__
    return [Item(**{k: v for k, v in row.items() if k in keys}) for row in rows], rows


def _current_on_retention(rows: list[dict], version: str) -> Report | None:
    """The current student's retention answers given before training, when that same version gave them."""
    if not rows or any((row.get("current") or {}).get("version") != version for row in rows):
        return None
    return Report(
        [
            Scored(row["current"]["answer"], row["current"]["right"], 0.0, row["current"].get("confidence"), "before")
            for row in rows
        ]
    )


def evaluate_and_promote(folder: Path, state: RunState, store, settings: config.Settings, progress: Progress) -> dict:
    """Score current and candidate on the held-out items, register the candidate, re-judge if promoted;
    the result object of `apprentice distill --json` (without `seconds` and `notes`)."""
    from assistant.embedder import shared
    from assistant.models import registry
    from assistant.outcomes import rejudge
    from model.evaluate import REGRESSION_MAX_TOKENS, evaluate

    plan = state.evaluation
    items = [Item(**row) for row in read_jsonl(folder / "heldout.jsonl")]
    kept_items, kept_rows = _retention_set(folder)
    embedder = shared()
    current = registry.active()

    def scores(student, role: str, items: list[Item], max_tokens: int) -> Report:
        task = progress.task(f"evaluate {role}", len(items))
        return evaluate(
            student,
            items,
            max_tokens=max_tokens,
            embedder=embedder,
            agree_similarity=settings.judge_agree_similarity,
            advance=task.advance,
        )

    # Retention answers of the current student from before training, if the active version is still
    # the one that gave them (`model use` during an interrupted run changes it): else asked again.
    cur_kept = _current_on_retention(kept_rows, current.name)
    student = _student(current.path, current.name, settings, current.adapter_path)
    try:
        cur = scores(student, "current", items, plan.eval_max_tokens)
        if cur_kept is None and kept_items:
            cur_kept = scores(student, "current: retention", kept_items, REGRESSION_MAX_TOKENS)
    finally:
        student.close()
        del student
    # The gate tries shares of the learned change, strongest first (Evaluation.strengths): a candidate
    # that learned but forgot is tried again nearer the base student, with no more training.
    tried = []
    for strength in plan.strengths:
        set_strength(folder, state, strength)
        label = "candidate" if strength == 1 else f"candidate at {strength:g}"
        candidate = _student(Path(state.base), state.name, settings, folder)
        try:
            cand = scores(candidate, label, items, plan.eval_max_tokens)
            retention = cand_kept = None
            if kept_items:
                cand_kept = scores(candidate, f"{label}: retention", kept_items, REGRESSION_MAX_TOKENS)
                retention = retention_figures(
                    cand_kept,
                    cur_kept,
                    limit=plan.retention_max_drop,
                    sources=[row["source"] for row in kept_rows],
                )
        except BaseException:
            candidate.close()
            raise
        verdict = decide(
            candidate=cand, current=cur, current_name=current.name, margin=plan.margin, retention=retention
        )
        tried.append(
            {
                "strength": strength,
                "heldout": round(cand.accuracy, 4),
                "retention": retention["candidate"] if retention else None,
                "promoted": verdict.promote,
            }
        )
        if verdict.promote or not learned(cand, cur, plan.margin) or strength == plan.strengths[-1]:
            break  # promoted, or not better on the held-out queries: a weaker share would learn no more
        candidate.close()
    if strength != 1:
        verdict = Verdict(verdict.promote, verdict.gain, f"at {strength:g} of the learned change, {verdict.reason}")
    try:
        calibration_points = points(cand.scores, "heldout", [asked(item) for item in items])
        if retention is not None:
            sources = [row["source"] for row in kept_rows]
            calibration_points += points(cand_kept.scores, sources, [asked(item) for item in kept_items])
        save(folder, calibration_points)
        cascade = draw(
            calibration_points,
            method=settings.cascade_calibration,
            precision=settings.cascade_precision,
            risk=settings.cascade_risk,
        )
        measured = metrics(items, candidate=cand, current=cur, current_name=current.name, margin=plan.margin)
        if retention is not None:
            measured["retention"] = retention
        measured["strength"] = strength
        measured["strengths_tried"] = tried
        version = register(folder, state, verdict=verdict, metrics=measured, cascade=cascade)
        result = {
            "status": "promoted" if verdict.promote else "kept",
            "version": version.name,
            "parent": state.parent,
            "promoted": verdict.promote,
            "reason": verdict.reason,
            "dataset": {k: v for k, v in state.dataset.items() if k != "example_ids"},
            "training": training_info(state),
            "metrics": measured,
            "cascade": cascade,
        }
        if verdict.promote:
            rejudged = rejudge(
                store,
                candidate,
                previous=current.name,
                seconds=plan.rejudge_seconds,
                agree_similarity=settings.judge_agree_similarity,
                skip=set() if plan.rejudge_trained else set(state.trained_ids),
                progress=progress,
            )
            result["rejudged"] = rejudged.to_json()
        return result
    finally:
        candidate.close()
        del candidate

"""What a surface needs to know about distillation without training anything: what is waiting to
be learned, whether a run was interrupted, and the sentences that describe a run's result.

`apprentice distill` (model/distill/) trains; the chat app's /distill runs it as a child process
(`python -m model.distill --json --progress jsonl`) and reads the same facts from here, so the
app never imports the training code and both say a result in the same words.

A run in progress lives in a staging folder of the registry with its state in `run.json`
(model/distill/training.py's `RunState`); a folder that still holds one is a run that did not
finish, which `apprentice distill --resume` continues.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import ApprenticeError

STATE = "run.json"  # a run's state in its staging folder; gone once the version is registered


@dataclass(frozen=True)
class Interrupted:
    """A run that did not finish: its staging folder, the version it would register, how far it got."""

    folder: Path
    version: str
    step: int
    steps: int


def interrupted() -> Interrupted | None:
    """The newest staging folder of a run that did not finish.

    Only the three fields a person is told about are read here (`name`, `done_iters`, `iters`
    of the RunState), so a state written by another version of Apprentice is still found and
    offered; `--resume` then says whether it can continue it."""
    from assistant.models import registry

    root = registry.models_dir()
    found = []
    for state_file in root.glob(".staging-*/" + STATE) if root.exists() else []:
        try:
            state = json.loads(state_file.read_text())
            modified = state_file.stat().st_mtime
        except (OSError, json.JSONDecodeError):
            continue
        if not isinstance(state, dict):
            continue
        name = state.get("name")
        version = name if isinstance(name, str) else state_file.parent.name.removeprefix(".staging-")
        step, steps = state.get("done_iters"), state.get("iters")
        found.append(
            (
                modified,
                Interrupted(
                    state_file.parent,
                    version,
                    step if isinstance(step, int) else 0,
                    steps if isinstance(steps, int) else 0,
                ),
            )
        )
    if not found:
        return None
    return max(found, key=lambda f: f[0])[1]


@dataclass(frozen=True)
class Waiting:
    """What /distill shows before a run."""

    examples: int  # teacher answers that may be trained on
    new: int  # of those, the ones the active student has not learned from
    interrupted: Interrupted | None


def waiting(store=None) -> Waiting:
    """Cheaply (no embeddings, no model): the teacher answers logged for training, how many the
    active student has not learned from, and whether an interrupted run can be resumed."""
    from assistant.models import registry
    from assistant.store import Store

    usable = (store or Store()).trainable_example_ids()
    try:
        learned = registry.trained_on(registry.active())
    except ApprenticeError:
        learned = set()
    return Waiting(examples=len(usable), new=len(usable - learned), interrupted=interrupted())


# -- the result, in words -------------------------------------------------------------------------------


def more(n: int) -> str:
    return f"{n} more {'is' if n == 1 else 'are'} needed"


@dataclass(frozen=True)
class ResultText:
    """A run's result as a person reads it."""

    headline: str  # what happened and why, with what to do next
    details: list[str]  # by family, the cascade line, the router's memory: for who wants the numbers
    tone: str  # "good" (promoted), "warn" (kept, too few), "bad" (failed)


def result_text(result: dict, *, use: str = "`apprentice model use {version}`") -> ResultText:
    """The words for a result object of `apprentice distill --json`. `use` is how the surface spells
    making a version active (the chat app: "/model {version}")."""
    status = result.get("status")
    if status in ("promoted", "kept"):
        version = result["version"]
        if status == "promoted":
            headline = (
                f"{version} is now the active student: {result['reason']}. It takes effect at your next question."
            )
        else:
            switch = use.format(version=version)
            headline = (
                f"{version} was kept on disk but not made active: {result['reason']}. {switch} makes it active anyway."
            )
        return ResultText(headline, _details(result), "good" if status == "promoted" else "warn")
    if status == "too_few":
        ds = result.get("dataset", {})
        left = ds.get("left_out") or {}
        why = f" (left out: {', '.join(f'{k} {v}' for k, v in left.items())})" if left else ""
        return ResultText(
            f"Too few examples: distillation needs at least {result['min_examples']} usable teacher answers "
            f"and there are {ds.get('examples', 0)}{why}. {more(result['needed'])}: keep asking in "
            "ask or auto mode, then distill again.",
            [],
            "warn",
        )
    if status == "error":
        return ResultText(f"Distillation failed: {result.get('error', 'no reason given')}", [], "bad")
    return ResultText(f"The distillation ended with an unexpected result ({status!r}).", [], "bad")


def _details(result: dict) -> list[str]:
    lines = []
    if families := result.get("metrics", {}).get("families"):
        lines.append(
            "By family: " + ", ".join(f"{f} {v['current']:.0%}→{v['candidate']:.0%}" for f, v in families.items()) + "."
        )
    if c := result.get("cascade"):
        lines.append(
            f"Cascade: it keeps its own answer at a mean log-prob of {c['min_logprob']:.2f} or more "
            f"({c['kept']} of {c['n']} held-out answers, right at least {c['precision']:.0%} of the time)."
        )
    if r := result.get("rejudged"):
        lines.append(
            f"Router memory: {r['rejudged']} of {r['outcomes']} past outcomes re-judged in {r['seconds']:.0f} s "
            f"({r['now_right']} now right); {r['left_out']} not reached in time go to the cascade."
        )
    return lines

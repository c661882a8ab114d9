"""What a surface shows of distillation (assistant/training.py) and a run state that cannot be resumed."""

from __future__ import annotations

import json

from assistant import training
from assistant.models import registry
from model import distill

PROMOTED = {
    "status": "promoted",
    "version": "distill-1",
    "promoted": True,
    "reason": "held-out accuracy 80% against 20% for base on 10 queries: better by +60%, at least the margin of 5%",
    "metrics": {"families": {"facts": {"current": 0.5, "candidate": 1.0, "n": 2}}},
    "cascade": {"min_logprob": -0.3, "precision": 0.9, "kept": 4, "n": 10},
    "rejudged": {"rejudged": 3, "outcomes": 5, "now_right": 2, "left_out": 2, "seconds": 4.2},
}


def test_a_result_is_said_in_the_same_words_by_the_command_and_the_chat_app():
    said = training.result_text(PROMOTED)
    assert said.tone == "good"
    assert said.headline.startswith("distill-1 is now the active student: held-out accuracy 80% against 20%")
    assert said.details == [
        "By family: facts 50%→100%.",
        "Cascade: it keeps its own answer at a mean log-prob of -0.30 or more "
        "(4 of 10 held-out answers, right at least 90% of the time).",
        "Router memory: 3 of 5 past outcomes re-judged in 4 s (2 now right); 2 not reached in time go to the cascade.",
    ]
    kept = {**PROMOTED, "status": "kept", "promoted": False, "reason": "not better by the margin of 5%"}
    assert training.result_text(kept).tone == "warn"
    assert "`apprentice model use distill-1` makes it active anyway" in training.result_text(kept).headline
    in_chat = training.result_text(kept, use="/model {version}").headline
    assert in_chat.startswith("distill-1 was kept on disk but not made active: not better by the margin of 5%.")
    assert in_chat.endswith("/model distill-1 makes it active anyway.")
    too_few = {"status": "too_few", "min_examples": 5, "needed": 1, "dataset": {"examples": 4, "left_out": {}}}
    assert training.result_text(too_few).headline == (
        "Too few examples: distillation needs at least 5 usable teacher answers and there are 4. "
        "1 more is needed: keep asking in ask or auto mode, then distill again."
    )
    assert training.result_text({"status": "error", "error": "the disk is full"}).tone == "bad"


def test_a_run_state_from_another_version_is_offered_and_refused_with_a_sentence(tiny_student, capsys):
    staging = registry.staging_folder("distill-1")
    (staging / training.STATE).write_text(json.dumps({"name": "distill-1", "done_iters": 30, "iters": 150}))

    pending = training.interrupted()
    assert (pending.version, pending.step, pending.steps, pending.folder) == ("distill-1", 30, 150, staging)
    assert training.waiting().interrupted == pending

    code = distill.main(["--resume", "--progress", "none"])

    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert f"The interrupted run in {staging} cannot be resumed" in err and "`apprentice distill`" in err
    assert registry.active_name() == "tiny" and staging.exists()  # nothing discarded behind the user's back


def test_a_run_state_round_trips_and_a_field_of_the_wrong_type_is_refused(home):
    import pytest

    from assistant.errors import ApprenticeError
    from model.distill.training import Evaluation, Hyperparameters, RunState

    folder = home / "run"
    folder.mkdir(parents=True)
    state = RunState(
        name="distill-1",
        parent="base",
        base="/models/base",
        bits=4,
        dataset={"examples": 12},
        hyperparameters=Hyperparameters("lora", 16, 8, 20.0, 1e-4, 2, 1024, 0, False, 4, 6),
        evaluation=Evaluation(0.05, 60, 128, 120.0, False),
        trained_ids=[1, 2],
        iters=6,
        save_every=2,
        blas=None,
        losses=[1.5, 1.25],
        val_loss={"before": 2.0},
    )
    state.save(folder)
    assert RunState.load(folder) == state

    raw = json.loads((folder / training.STATE).read_text())
    (folder / training.STATE).write_text(json.dumps({**raw, "done_iters": "2"}))
    with pytest.raises(ApprenticeError, match="cannot be resumed.*done_iters is '2'"):
        RunState.load(folder)
    (folder / training.STATE).write_text("{not json")
    with pytest.raises(ApprenticeError, match="cannot be resumed"):
        RunState.load(folder)

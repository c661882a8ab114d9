"""Distillation on a tiny random MLX model: the dataset, training, promotion, rollback, resume."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from assistant.models import registry
from assistant.store import Store
from model import dataset, distill

# The learnable tiny model (tests/conftest.py) says "Paris" with near-certainty after 50-75 steps at this rate, on any
# BLAS; 150 leave a margin.
FAST = [
    "--min-examples",
    "4",
    "--iters",
    "150",
    "--learning-rate",
    "1e-3",
    "--num-layers",
    "-1",
    "--batch-size",
    "4",
    "--save-every",
    "10",
    "--progress",
    "none",
]
PARIS = [
    "What is the capital of France?",
    "Hello, how are you?",
    "Where is Paris?",
    "Tell me the capital please.",
    "Which city is the capital?",
    "Capital of France, please.",
    "What city do you recommend?",
    "Name a city in France.",
    "Where should I travel?",
    "What is your favourite city?",
    "Big city in France?",
    "Answer with a city.",
]


def log_example(store: Store, query: str, answer: str, source: str = "ask", logged: bool = True) -> int:
    """A teacher fallback as the Assistant records it; returns the example id."""
    turn = None
    if logged:
        conversation = store.new_conversation(query, source)
        turn = store.start_turn(conversation, query, source, route="cloud")
    return store.add_example(
        turn_id=turn,
        query_sent=query,
        messages_sent=json.dumps([{"role": "user", "content": query}]),
        teacher_answer=answer,
        teacher_model="fake",
        status="ok",
        consent="auto",
    )


def cli(capsys, *args) -> tuple[int, str, str]:
    from assistant.cli import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def run(argv, capsys) -> tuple[int, dict | None, str]:
    code = distill.main(argv)
    out, err = capsys.readouterr()
    return code, (json.loads(out) if "--json" in argv and out.strip() else None), err


@pytest.mark.usefixtures("adapter_words")
def test_distill_learns_promotes_rejudges_and_rolls_back(learnable_student, capsys):
    store = Store()
    ids = [log_example(store, q, "Paris") for q in PARIS]
    for q, example_id in zip(PARIS, ids):  # the base student was judged wrong on each
        store.add_outcome(
            query=q,
            embedding=np.zeros(384, np.float32).tobytes(),
            student_version="tiny",
            wrong=1,
            origin="judged",
            example_id=example_id,
        )

    code, result, err = run(FAST + ["--json"], capsys)

    assert code == 0, err
    assert result["status"] == "promoted" and registry.active_name() == "distill-1"
    training = result["training"]
    assert training["loss_last"] < training["loss_first"] / 2
    assert training["val_loss"]["after"] < training["val_loss"]["before"]
    assert result["metrics"]["candidate"]["accuracy"] > result["metrics"]["current"]["accuracy"]
    version = registry.get("distill-1")
    assert version.parent == "tiny" and version.adapter_path is not None
    assert version.external_path == str(registry.get("tiny").path)  # base checkpoint + adapter
    info = version.info
    trained = info["dataset"]["example_ids"]
    assert info["dataset"]["examples"] == len(trained) >= 10 and set(trained) <= set(ids)  # near-duplicates left out
    assert len(info["dataset"]["hash"]) == 16
    assert info["hyperparameters"]["learning_rate"] == 1e-3 and info["metrics"]["candidate"]["n"] >= 1
    assert not (version.folder / "train.jsonl").exists()  # the training data stays in the log only
    # its own cascade line, drawn on its held-out answers alone (no local answer was logged, and the
    # regression set draws no line): a handful is too few for a bound at 5%, so the cascade keeps none
    cascade = info["cascade"]
    assert cascade == result["cascade"] and cascade["n"] == result["metrics"]["candidate"]["n"] < 9
    assert cascade["kept"] == 0 and version.cascade_min_logprob(-0.45) == 0.0
    # the router's memory, re-judged for the new student: it now answers those queries right
    rejudged = store.outcomes_with_answers("distill-1")
    assert rejudged and all(o["origin"] == "rejudged" for o in rejudged)
    assert sum(o["wrong"] == 0 for o in rejudged) >= len(rejudged) - 1
    assert result["rejudged"]["rejudged"] == len(rejudged)

    # a worse candidate (nothing learned) is kept on disk, not promoted, with the reason
    code, worse, err = run(FAST + ["--json", "--iters", "1", "--learning-rate", "0"], capsys)
    assert code == 0, err
    assert worse["status"] == "kept" and "not better" in worse["reason"]
    assert registry.active_name() == "distill-1"
    kept = registry.get("distill-2")
    assert kept.info["promoted"] is False and kept.parent == "distill-1"

    # deleting an example from the log flags the versions trained on it, and `model rm` offers them
    turn = store.db.execute("SELECT turn_id FROM examples WHERE id = ?", [trained[0]]).fetchone()[0]
    code, _, err = cli(capsys, "log", "rm", str(turn))
    assert code == 0 and "distill-1, distill-2 learned from examples no longer in the log" in err
    code, out, _ = cli(capsys, "model", "list", "--json")
    assert {r["name"]: r["trained_on_deleted"] for r in json.loads(out)} == {"tiny": 0, "distill-1": 1, "distill-2": 1}
    code, _, err = cli(capsys, "model", "rm", "--flagged", "--yes")
    assert code == 0 and "'distill-1' is active" in err and "Removed student version 'distill-2'" in err
    assert [v.name for v in registry.versions()] == ["tiny", "distill-1"]

    assert registry.rollback().name == "tiny"
    code, _, err = cli(capsys, "model", "rm", "--flagged", "--yes")
    assert code == 0 and [v.name for v in registry.versions()] == ["tiny"]


def interrupt_training_at(monkeypatch, step: int):
    """Ctrl-C once training reaches `step`; the real `Task.advance`, to put back for the resume."""
    advance = distill.Task.advance

    def interrupt(self, n=1, **info):
        advance(self, n, **info)
        if self.name == "train" and self.done == step:
            raise KeyboardInterrupt

    monkeypatch.setattr(distill.Task, "advance", interrupt)
    return advance


def test_an_interrupted_run_leaves_the_active_student_and_resumes(tiny_student, capsys, monkeypatch):
    store = Store()
    for q in PARIS[:8]:
        log_example(store, q, "Paris")
    advance = interrupt_training_at(monkeypatch, 31)
    code, _, err = run(FAST + ["--lr-schedule", "cosine"], capsys)  # resumed along the same curve

    assert code == 130
    assert "active student is unchanged" in err and "--resume" in err
    assert registry.active_name() == "tiny" and [v.name for v in registry.versions()] == ["tiny"]
    pending = distill.interrupted()
    assert pending.step == 30 and (pending.folder / "adapters.safetensors").exists()

    monkeypatch.setattr(distill.Task, "advance", advance)
    code, result, err = run(FAST + ["--resume", "--json"], capsys)
    assert code == 0, err
    assert result["training"]["resumed_from"] == [30] and result["training"]["steps"] == 150
    assert result["version"] == "distill-1" and distill.interrupted() is None
    assert registry.get("distill-1").info["hyperparameters"]["lr_schedule"] == "cosine"


def test_several_seeds_train_in_turn_resume_and_keep_the_mean_of_what_they_learned(tiny_student, capsys, monkeypatch):
    store = Store()
    for q in PARIS[:8]:
        log_example(store, q, "Paris")
    advance = interrupt_training_at(monkeypatch, 45)  # in the second run
    args = [a if a != "150" else "30" for a in FAST]  # 30 steps a run
    code, _, err = run(args + ["--seeds", "2"], capsys)
    assert code == 130 and distill.interrupted().step == 40
    folder = distill.interrupted().folder
    assert (folder / "adapters.run0.safetensors").exists()  # the first run, whole

    monkeypatch.setattr(distill.Task, "advance", advance)
    code, result, err = run(args + ["--resume", "--json"], capsys)
    assert code == 0, err
    assert "Training run 2 of 2 (seed 1)" in err
    assert result["training"]["steps"] == 60 and result["training"]["resumed_from"] == [40]
    version = registry.get("distill-1")
    assert version.info["hyperparameters"]["seeds"] == 2
    config = json.loads((version.folder / "adapter_config.json").read_text())
    rank = version.info["hyperparameters"]["lora_rank"]
    assert config["lora_parameters"]["rank"] == 2 * rank
    assert not list(version.folder.glob("adapters.run*"))  # kept in their mean only


def test_the_mean_of_runs_is_the_mean_of_their_changes(tmp_path):
    import mlx.core as mx

    from model.distill.training import ADAPTERS, Hyperparameters, _soup

    hp = Hyperparameters("lora", 2, 4, 20.0, 1e-3, 1, 64, 0, False, 1, 10, seeds=3)
    runs = []
    for k in range(3):
        mx.random.seed(k)
        run = {"layers.0.q_proj.lora_a": mx.random.normal((16, 4)), "layers.0.q_proj.lora_b": mx.random.normal((4, 8))}
        mx.save_safetensors(str(tmp_path / f"adapters.run{k}.safetensors"), run)
        runs.append(run)
    config = {"fine_tune_type": "lora", "num_layers": 2, "lora_parameters": {"rank": 4, "scale": 20.0}}
    (tmp_path / "adapter_config.json").write_text(json.dumps(config))
    _soup(tmp_path, hp)
    soup = mx.load(str(tmp_path / ADAPTERS))
    x = mx.random.normal((5, 16))
    change = x @ soup["layers.0.q_proj.lora_a"] @ soup["layers.0.q_proj.lora_b"]
    mean = sum(x @ r["layers.0.q_proj.lora_a"] @ r["layers.0.q_proj.lora_b"] for r in runs) / 3
    assert mx.allclose(change, mean, atol=1e-4).item()
    assert json.loads((tmp_path / "adapter_config.json").read_text())["lora_parameters"]["rank"] == 12


def test_seeds_below_one_or_with_dora_are_a_sentence_before_anything_trains(tiny_student, capsys):
    code, _, err = run(["--seeds", "0", "--progress", "none"], capsys)
    assert code == 2 and "--seeds must be 1 or more, not 0" in err and "Traceback" not in err  # bad usage
    code, _, err = run(["--seeds", "2", "--fine-tune-type", "dora", "--progress", "none"], capsys)
    assert code == 2 and "--seeds above 1 averages LoRA adapters" in err
    with pytest.raises(SystemExit) as refused:  # a flag is said whole: "--lr" is not --lr-schedule
        run(["--lr", "1e-4", "--progress", "none"], capsys)
    assert refused.value.code == 2 and "unrecognized arguments: --lr 1e-4" in capsys.readouterr().err
    assert [v.name for v in registry.versions()] == ["tiny"]


def test_the_cascade_line_keeps_only_answers_as_sure_as_right_ones():
    from model.evaluate import Scored, cascade_threshold

    def scored(confidence, right):
        return Scored("", right, 0.0, confidence, "test")

    # surest first: right, right, wrong, right, wrong → 3 of the 4 surest are right
    scores = [scored(-0.1, True), scored(-0.2, True), scored(-0.3, False), scored(-0.4, True), scored(-0.5, False)]
    assert cascade_threshold(scores, 0.9) == -0.2
    assert cascade_threshold(scores, 0.75) == -0.4
    # a student sure of its wrong answers keeps nothing; an unmeasured one too
    assert cascade_threshold([scored(-0.01, False), scored(-0.5, True)], 0.9) == 0.0
    assert cascade_threshold([], 0.9) == 0.0


def test_a_cosine_rate_eases_to_zero_and_a_resumed_run_goes_on_along_it():
    import mlx.core as mx

    from model.distill.training import Hyperparameters, learning_rate

    hp = Hyperparameters("lora", 2, 4, 20.0, 1e-3, 1, 64, 0, False, 1, 100, lr_schedule="cosine")
    fresh, resumed = learning_rate(hp, 100, 0), learning_rate(hp, 100, 40)
    assert float(fresh(mx.array(0))) == pytest.approx(1e-3)
    assert float(fresh(mx.array(50))) == pytest.approx(5e-4)
    assert float(fresh(mx.array(100))) == pytest.approx(0.0, abs=1e-9)
    assert float(resumed(mx.array(10))) == pytest.approx(float(fresh(mx.array(50))))
    hp.lr_schedule = "constant"
    assert learning_rate(hp, 100, 0) == 1e-3


def test_an_unknown_rate_schedule_is_a_sentence_before_anything_trains(tiny_student, capsys):
    code, _, err = run(["--lr-schedule", "linear", "--progress", "none"], capsys)
    assert code != 0 and "--lr-schedule must be constant or cosine, not 'linear'" in err
    assert "Traceback" not in err and [v.name for v in registry.versions()] == ["tiny"]


def test_too_few_examples_says_how_many_more_and_stops(tiny_student, capsys):
    store = Store()
    for q in PARIS[:3]:
        log_example(store, q, "Paris")
    code, _, err = run(["--min-examples", "5", "--progress", "none"], capsys)
    assert code == 1
    assert "at least 5" in err and "2 more" in err
    assert [v.name for v in registry.versions()] == ["tiny"]


def test_distill_settings_come_from_the_config_file_and_flags_win(tiny_student, capsys, home):
    (home / "config.toml").write_text("distill_min_examples = 7\n")
    for q in PARIS[:2]:
        log_example(Store(), q, "Paris")
    code, result, _ = run(["--json", "--progress", "none"], capsys)
    assert code == 1 and result["min_examples"] == 7 and result["needed"] == 5
    code, result, _ = run(["--json", "--progress", "none", "--min-examples", "3"], capsys)
    assert code == 1 and result["min_examples"] == 3 and result["needed"] == 1


def test_dataset_dedups_decontaminates_and_leaves_out_what_must_not_be_learned(home, tmp_path):
    store = Store()
    kept = [
        log_example(store, "Set a timer for 5 minutes.", '{"intent": "timer", "minutes": 5}'),
        log_example(store, "Set a timer for 7 minutes.", '{"intent": "timer", "minutes": 7}', source="voice"),
        log_example(store, "What day comes after Monday?", "Tuesday"),
        log_example(store, "What day comes after Tuesday?", "Wednesday"),
    ]
    log_example(store, "What is the capital of Japan?", "Tokyo")
    log_example(store, "what is the capital of japan", "Tokyo")  # the same, newer
    newest = log_example(store, "Which city is the capital of Japan?", "Tokyo")  # a near-duplicate, newest: kept
    log_example(store, "What's the weather in Paris today?", "Sunny, 21°C")  # live information
    log_example(store, "Private question", "Answer", logged=False)  # asked with --no-log
    wrong = log_example(store, "What is 2 + 2?", "5")
    store.mark_bad(store.db.execute("SELECT turn_id FROM examples WHERE id = ?", [wrong]).fetchone()[0])
    gone = log_example(store, "Who wrote Hamlet?", "Shakespeare")
    store.delete_turn(store.db.execute("SELECT turn_id FROM examples WHERE id = ?", [gone]).fetchone()[0])
    time.sleep(0.01)  # the next turn reuses the removed turn's id, a moment later (timestamps are in ms)
    log_example(store, "Convert 5 kilometers to miles.", "3.11 miles")  # in the test file
    log_example(store, "How many miles is 5 kilometers?", "3.11 miles")  # a paraphrase of it
    test_file = tmp_path / "test.jsonl"
    test_file.write_text(
        json.dumps(
            {
                "query": "Convert 5 kilometers to miles",
                "reference": "3.11 miles",
                "check": "number",
                "family": "conversion",
            }
        )
        + "\n"
    )

    ds = dataset.build(store, exclude=[test_file], include_shipped_test=False)

    assert sorted(ex.id for ex in ds.examples) == sorted(kept + [newest])
    assert ds.left_out == {
        "duplicate": 1,
        "near-duplicate": 1,
        "needs live information": 1,
        "asked with --no-log": 1,
        "marked wrong": 1,
        "removed from the log": 1,
        "in a benchmark test file": 2,
    }
    assert ds.sources() == {"ask": 4, "voice": 1}
    assert ds.heldout and ds.train  # a split even for a tiny log
    again = dataset.build(store, exclude=[test_file], include_shipped_test=False)
    assert again.hash == ds.hash and [e.id for e in again.heldout] == [e.id for e in ds.heldout]
    # the shipped benchmark test file is always kept out
    shipped = json.loads(dataset.shipped_test_file().read_text().splitlines()[0])
    log_example(store, shipped["query"], shipped["reference"])
    assert dataset.build(store).left_out["in a benchmark test file"] >= 1
    rows = ds.rows("train", "SYSTEM")
    assert rows[0]["messages"][0] == {"role": "system", "content": "SYSTEM"}  # trained as the student answers
    assert rows[0]["messages"][-1]["role"] == "assistant"


def test_dry_run_prints_the_dataset_with_counts_per_source_and_trains_nothing(tiny_student, capsys):
    store = Store()
    log_example(store, "What is the capital of Italy?", "Rome", source="voice")
    log_example(store, "Who painted the Mona Lisa?", "Leonardo da Vinci")
    code = distill.main(["--dry-run"])
    listing = capsys.readouterr().out
    code2, result, _ = run(["--dry-run", "--json"], capsys)
    assert code == 0 and code2 == 0
    assert (
        "By source: " in listing
        and "voice 1" in listing
        and "ask 1" in listing
        and "'Who painted the Mona Lisa?'" in listing
    )
    assert result["status"] == "dry_run" and result["dataset"]["sources"] == {"voice": 1, "ask": 1}
    assert [v.name for v in registry.versions()] == ["tiny"] and distill.interrupted() is None


def test_rationales_are_asked_once_recorded_and_learned_as_a_second_task(tiny_student, gemini, capsys):
    rows = [{"query": q, "reference": "Paris", "rationale": "Paris is the capital of France."} for q in PARIS[:6]]
    fake = gemini(answers=rows)
    store = Store()
    for q in PARIS[:6]:
        log_example(store, q, "Paris")

    code, result, err = run(FAST + ["--json", "--rationales", "--iters", "2"], capsys)

    assert code == 0, err
    train = result["dataset"]["train"]
    assert result["dataset"]["rationales"] == train
    assert result["dataset"]["train_rows"] >= 2 * train  # each example teaches the answer and the rationale
    asked = [r for r in store.examples(limit=None, include_failed=True) if r["status"] == "rationale"]
    assert len(asked) == train and asked[0]["teacher_answer"].startswith("Rationale: ")
    assert dataset.parse_rationale(asked[0]["teacher_answer"]) == ("Paris is the capital of France.", "Paris")
    requests = len(fake.record_path.read_text().splitlines())
    run(FAST + ["--json", "--rationales", "--iters", "2"], capsys)
    assert len(fake.record_path.read_text().splitlines()) == requests  # asked once per example, ever


def test_without_a_key_rationales_say_what_is_needed(tiny_student, capsys):
    store = Store()
    for q in PARIS[:6]:
        log_example(store, q, "Paris")
    code, _, err = run(FAST + ["--rationales"], capsys)
    assert code == 1 and "Gemini key" in err
    assert distill.interrupted() is None

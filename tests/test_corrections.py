"""Corrections: a local answer marked wrong, then the teacher's answer to the same query, is trained on more.

Real store, the tiny student, the real google-genai client against fake-gemini; the chat app
through Textual's pilot.
"""

from __future__ import annotations

import json

from test_distill import FAST, log_example
from test_tui import ask as ask_in_app
from test_tui import make_app, notifications, run, until

from assistant.store import Store
from model import dataset

EVEREST = "What is the tallest mountain on Earth?"
TEACHER = "Mount Everest, at 8,849 metres."


def cli(capsys, *args) -> tuple[int, str, str]:
    from assistant.cli import main

    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def ask(capsys, *args) -> dict:
    code, out, err = cli(capsys, "ask", *args, "--json", "--max-tokens", "8")
    assert code == 0, err
    return json.loads(out)


def examples() -> list[dict]:
    return list(Store().db.query("SELECT * FROM examples WHERE status = 'ok' ORDER BY id"))


def test_log_bad_then_ask_cloud_makes_the_teachers_answer_a_correction_dry_run_counts(capsys, tiny_student, gemini):
    local = ask(capsys, EVEREST)  # no key yet: private, the student answers
    assert local["route"] == "local"
    code, _, err = cli(capsys, "log", "bad", str(local["turn_id"]))
    assert code == 0 and "`apprentice ask --cloud` on the same query" in err  # says how to correct it
    gemini(answers={EVEREST: TEACHER})
    cloud = ask(
        capsys, "what is the tallest mountain on earth", "--cloud", "--mode", "auto"
    )  # retyped, new conversation
    assert cloud["route"] == "cloud" and cloud["answer"] == TEACHER
    (example,) = examples()
    assert example["kind"] == "correction" and example["corrects"] == local["turn_id"]

    other = ask(capsys, "Who painted the Night Watch?", "--cloud", "--mode", "auto")  # no answer marked wrong before it
    assert other["route"] == "cloud"
    code, out, _ = cli(capsys, "log", "list", "--examples", "--json")
    assert [(e["kind"], e["corrects"]) for e in json.loads(out)] == [
        ("fallback", None),
        ("correction", local["turn_id"]),
    ]

    code, out, err = cli(capsys, "distill", "--dry-run", "--json", "--progress", "none")
    assert code == 0, err
    summary = json.loads(out)["dataset"]
    assert summary["examples"] == 2 and summary["corrections"] == 1
    code, listing, _ = cli(capsys, "distill", "--dry-run", "--correction-weight", "5")
    assert "Corrections (a local answer marked wrong, then the teacher's): 1, each trained 5 times." in listing
    assert "correction 'what is the tallest mountain on earth'" in listing


def test_cloud_then_bad_on_the_local_answer_also_makes_a_correction(capsys, tiny_student, gemini):
    local = ask(capsys, EVEREST)
    gemini(answers={EVEREST: TEACHER})
    cloud = ask(capsys, EVEREST, "--cloud", "--mode", "auto", "--continue")
    (example,) = examples()
    assert example["kind"] == "fallback"  # a second opinion, not yet the user's word that the first was wrong
    code, _, err = cli(capsys, "log", "bad", str(local["turn_id"]))
    assert code == 0 and f"(example {example['id']}) becomes a correction" in err
    (example,) = examples()
    assert example["kind"] == "correction" and example["corrects"] == local["turn_id"]
    assert example["turn_id"] == cloud["turn_id"] and Store().turn(cloud["turn_id"])["bad"] == 0


def test_cloud_straight_after_a_local_answer_judges_it_for_the_router_and_is_no_correction(
    capsys, tiny_student, gemini
):
    local = ask(capsys, EVEREST)
    gemini(answers={EVEREST: TEACHER})
    ask(capsys, EVEREST, "--cloud", "--mode", "auto", "--continue")
    (example,) = examples()
    assert example["kind"] == "fallback"
    outcomes = Store().outcomes("tiny")  # the tiny student's babble does not agree with the teacher
    assert [(o["query"], o["wrong"], o["origin"]) for o in outcomes] == [(EVEREST, 1, "judged")]
    assert local["answer"] != TEACHER


def test_bad_then_cloud_in_the_chat_app_makes_a_correction(tiny_student, gemini):
    gemini(answers={EVEREST: TEACHER})

    async def scenario():
        app = make_app()
        async with app.run_test(size=(100, 40)) as pilot:
            await pilot.press(*"/auto", "enter")
            local = await ask_in_app(pilot, f"/local {EVEREST}")
            await pilot.press(*"/bad", "enter")
            await until(pilot, lambda: "Marked answer" in notifications(app), "the answer to be marked")
            assert "/cloud asks Gemini, and its answer becomes a correction" in notifications(app)
            cloud = await ask_in_app(pilot, "/cloud")  # the last question again
            assert TEACHER in cloud.text
            return local.turn_id, cloud.turn_id

    local_turn, cloud_turn = run(scenario)
    (example,) = examples()
    assert example["turn_id"] == cloud_turn and example["kind"] == "correction" and example["corrects"] == local_turn
    # sent with the conversation (the question, the wrong answer, the question again); learned as the
    # conversation the student got wrong: the question alone
    assert len(json.loads(example["messages_sent"])) == 3
    ds = dataset.build(Store(), include_shipped_test=False)
    (ex,) = ds.examples
    assert ex.kind == "correction" and ex.messages == [{"role": "user", "content": EVEREST}]


def test_a_correction_is_repeated_in_the_training_rows_by_its_weight(tiny_student, gemini):
    from assistant import config
    from assistant.models import registry
    from model.distill.options import Options, parser
    from model.distill.training import prepare, read_jsonl

    store = Store()
    plain = ["Who wrote Hamlet?", "What is the capital of Italy?", "How many legs does a spider have?"]
    for q in plain:
        log_example(store, q, f"The answer to {q}")
    corrected = log_example(store, EVEREST, TEACHER)
    store.mark_correction(corrected, store.start_turn(store.new_conversation(EVEREST, "ask"), EVEREST, "ask"))
    settings = config.load()
    # one row a batch and no replay: no row is repeated to fill a batch, none added
    flags = FAST + ["--heldout-fraction", "0", "--batch-size", "1", "--replay", "0"]
    opts = Options.from_flags(parser().parse_args(flags), settings)
    assert opts.correction_weight == 3  # the default
    ds = dataset.build(store, heldout_fraction=0, include_shipped_test=False)
    assert len(ds.train) == 4 and ds.corrections() == 1
    folder, state = prepare(ds, registry.active(), opts, settings, [], store=store)
    rows = read_jsonl(folder / "train.jsonl")
    teacher = [r for r in rows if r["messages"][-1]["content"] in {TEACHER, *(f"The answer to {q}" for q in plain)}]
    answers = [r["messages"][-1]["content"] for r in teacher]
    assert answers.count(TEACHER) == 3 and all(answers.count(f"The answer to {q}") == 1 for q in plain)
    assert state.dataset["correction_rows"] == 3 and state.hyperparameters.correction_weight == 3

    one = Options.from_flags(parser().parse_args(FAST + ["--correction-weight", "1"]), settings)
    assert [r["messages"][-1]["content"] for r in ds.rows("train", "", correction_weight=one.correction_weight)].count(
        TEACHER
    ) == 1


def test_a_corrected_query_is_never_both_trained_on_and_held_out(home):
    """Every example asking a corrected query lands on the correction's side, whatever its conversation."""
    store = Store()
    queries = [f"What is fact number {n} about the sea?" for n in range(40)]
    for n, q in enumerate(queries):
        # asked before in another conversation, after other talk: a different text to hash
        turn = store.start_turn(store.new_conversation("talk", "chat"), q, "chat", route="cloud")
        history = [{"role": "user", "content": f"Hello number {n}"}, {"role": "assistant", "content": "Hi."}]
        store.add_example(
            turn_id=turn,
            query_sent=q,
            messages_sent=json.dumps(history + [{"role": "user", "content": q}]),
            teacher_answer=f"Fact {n}: the sea is deep, long version {n}.",
            teacher_model="fake",
            status="ok",
            consent="auto",
        )
        fixed = log_example(store, q, f"Fact {n}: the sea is salty, number {n}.")
        store.mark_correction(fixed, turn)
    ds = dataset.build(store, heldout_fraction=0.3, include_shipped_test=False)
    assert ds.corrections() == 40 and ds.heldout and ds.train
    train = {dataset.last_query_key(ex) for ex in ds.train}
    heldout = {dataset.last_query_key(ex) for ex in ds.heldout}
    assert len(ds.examples) == 80 and not train & heldout

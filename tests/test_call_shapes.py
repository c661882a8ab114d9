"""A tool's rarer call shapes weigh as much as its common one in training (model/distill/call_shapes.py)."""

from __future__ import annotations

from collections import Counter

from test_distill import FAST, log_example

from assistant.store import Store
from assistant.tools.calls import ToolCall, format_call
from model import dataset
from model.distill.call_shapes import CAP, balanced


def call(name: str, **arguments) -> str:
    return format_call(ToolCall(name, arguments))


def row(query: str, answer: str) -> dict:
    return {"messages": [{"role": "user", "content": query}, {"role": "assistant", "content": answer}]}


PLAIN = [row(f"Set a timer for {n} minutes.", call("timer", minutes=n)) for n in range(1, 7)]
LABELLED = [
    row("Set a 4 minute timer for the pasta.", call("timer", minutes=4, label="pasta")),
    row("Time 9 minutes for the eggs.", call("timer", minutes=9, label="eggs")),
]


def answers(rows: list[dict]) -> Counter:
    return Counter(r["messages"][-1]["content"] for r in rows)


def test_a_labelled_timer_is_repeated_until_it_weighs_as_much_as_the_timers_without():
    out = answers(balanced(PLAIN + LABELLED))
    # 6 timers without a label, 2 with: each labelled one three times, 6 against 6
    assert all(out[r["messages"][-1]["content"]] == 3 for r in LABELLED)
    assert all(out[r["messages"][-1]["content"]] == 1 for r in PLAIN)


def test_a_single_odd_call_is_repeated_at_most_the_cap_and_text_answers_are_left_alone():
    odd = row("Set a timer for 2 hours.", call("timer", hours=2))
    text = row("Who wrote Hamlet?", "Hamlet was written by William Shakespeare.")
    other_tool = row("Wake me at 7.", call("alarm", time="07:00"))
    out = answers(balanced([*PLAIN, odd, text, other_tool]))
    assert out[odd["messages"][-1]["content"]] == CAP  # 6 to 1 would be 6 times
    assert out[text["messages"][-1]["content"]] == 1
    assert out[other_tool["messages"][-1]["content"]] == 1  # the only shape of its tool


def test_the_staged_training_rows_repeat_the_labelled_timers_unless_told_not_to(tiny_student, gemini):
    from assistant import config
    from assistant.models import registry
    from model.distill.options import Options, parser
    from model.distill.training import prepare, read_jsonl

    store = Store()
    for r in PLAIN + LABELLED:
        log_example(store, r["messages"][0]["content"], r["messages"][-1]["content"])
    settings = config.load()
    ds = dataset.build(store, heldout_fraction=0, include_shipped_test=False)
    flags = FAST + ["--heldout-fraction", "0", "--batch-size", "1", "--replay", "0"]
    counts = {}
    for extra in ([], ["--no-balance-calls"]):
        opts = Options.from_flags(parser().parse_args(flags + extra), settings)
        folder, state = prepare(ds, registry.active(), opts, settings, [], store=store)
        counts[bool(extra)] = answers(read_jsonl(folder / "train.jsonl"))
        assert state.hyperparameters.balance_calls is not bool(extra)
        assert state.dataset["call_repeats"] == (0 if extra else 4)
    pasta = LABELLED[0]["messages"][-1]["content"]
    assert counts[False][pasta] == 3 and counts[True][pasta] == 1

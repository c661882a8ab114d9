"""No forgetting: the promotion gate measures retention, and replay keeps what the student knows.

The tiny learnable model (tests/conftest.py) first learns one answer, which it then gives locally; a
later distillation on other examples forgets it unless the student's own answers are replayed.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from assistant import config
from assistant.models import registry
from assistant.store import Store
from model import dataset
from model.distill.options import Options, parser
from model.evaluate import Item, local_items
from tests.test_distill import FAST, log_example, run

KNOWN = "The capital of France is Paris."
CAPITAL = [
    "What is the capital of France?",
    "Where is Paris?",
    "Tell me the capital please.",
    "Which city is the capital?",
    "Capital of France, please.",
    "Name a city in France.",
    "Big city in France?",
    "Answer with a city.",
    "What is your favourite city?",
    "Where should I travel?",
    "What city do you recommend?",
    "Which French city is the capital?",
]
# Every greeting opens with "Hello" and no capital query does: a cue the tiny model can learn to tell them apart.
GREETINGS = [
    "Hello there.",
    "Hello, good morning to you.",
    "Hello, how are you?",
    "Hello! Nice to meet you.",
    "Hello, good evening.",
    "Hello friend, greetings.",
    "Hello again, are you there?",
    "Hello! How is it going?",
    "Hello, how do you do?",
    "Hello and good afternoon.",
    "Hello from the kitchen.",
    "Hello, is anyone listening?",
]
REGRESSION_QUERY = CAPITAL[0]  # also a regression line: asked again, never taken from the local log


def log_local(store: Store, query: str, answer: str, model: str, **fields) -> int:
    """A turn the student answered on this machine, as the Assistant records it."""
    conversation = store.new_conversation(query, "ask")
    turn = store.start_turn(conversation, query, "ask", route="local", model=model)
    store.finish_turn(turn, answer=answer, status="done", **fields)
    return turn


def test_confident_local_answers_are_retained_unless_marked_bad_or_contradicted_by_the_teacher(home):
    store = Store()
    kept = log_local(store, "Which city is the capital of Italy?", "Rome is the capital of Italy.", "v1")
    log_local(store, "Who wrote Macbeth?", "Shakespeare wrote Macbeth.", "v1", bad=1)  # the user said wrong
    log_local(store, "Who painted the Mona Lisa?", "Leonardo da Vinci.", "v0")  # another version's
    log_local(store, "What's the weather today?", "Sunny.", "v1")  # a live query: made up when given
    # the teacher was asked the same query too: the student's answer stays only if it agrees
    log_example(store, "What is the capital of Spain?", "Madrid")
    log_local(store, "What is the capital of Spain?", "The capital of Spain is Barcelona.", "v1")
    log_example(store, "What is the capital of Peru?", "Lima")
    agreed = log_local(store, "What is the capital of Peru?", "The capital of Peru is Lima.", "v1")
    # a later turn of a conversation needs the turns before it: only first turns count
    conversation = store.new_conversation("chat", "chat")
    store.finish_turn(
        store.start_turn(conversation, "Capital of Italy?", "chat", route="cloud"), answer="Rome.", status="done"
    )
    later = store.start_turn(conversation, "And of Germany?", "chat", route="local", model="v1")
    store.finish_turn(later, answer="Berlin.", status="done")

    items = local_items(store, "v1", limit=10)

    assert [(turn, item.reference) for item, turn, _ in items] == [
        (agreed, "Lima"),
        (kept, "Rome is the capital of Italy."),
    ]
    assert [said for _, _, said in items] == ["The capital of Peru is Lima.", "Rome is the capital of Italy."]
    assert local_items(store, "v1", limit=1)[0][1] == agreed  # the newest first
    assert local_items(store, "v1", limit=10, exclude={"what is the capital of peru"})[0][1] == kept


def action(name: str, arguments: dict, result: dict | None, **extra) -> str:
    """A turn's `action` column as the Assistant writes it."""
    return json.dumps({"name": name, "arguments": arguments, "result": result, "local_only": False} | extra)


def test_a_local_answer_made_by_a_tool_is_retained_as_the_call_the_student_made(home):
    store = Store()
    timer = log_local(
        store,
        "Set a timer for 5 minutes.",
        "Timer set for 5 minutes.",
        "v1",
        action=action("timer", {"minutes": 5}, {"seconds": 300}),
    )
    log_local(  # the call did not run: nothing the student got right
        store,
        "Set a timer for 900 hours.",
        "A timer can be at most 24 hours.",
        "v1",
        action=action("timer", {"hours": 900}, None, error="A timer can be at most 24 hours."),
    )
    conversation = store.new_conversation("Set a timer for 3 minutes.", "ask")  # a sentence template chose it
    turn = store.start_turn(
        conversation,
        "Set a timer for 3 minutes.",
        "ask",
        route="local",
        model="v1",
        reason="a sentence template matched: timer (no model ran)",
    )
    store.finish_turn(
        turn, answer="Timer set.", status="done", action=action("timer", {"minutes": 3}, {"seconds": 180})
    )
    # the teacher made the same call for the query: it agrees, so the teacher's call is the reference
    log_example(
        store, "Start a 10 minute timer.", '<tool_call>{"name": "timer", "arguments": {"minutes": 10}}</tool_call>'
    )
    agreed = log_local(
        store,
        "Start a 10 minute timer.",
        "Timer set for 10 minutes.",
        "v1",
        action=action("timer", {"minutes": 10}, {"seconds": 600}),
    )

    items = local_items(store, "v1", limit=10)

    said = '<tool_call>{"name": "timer", "arguments": {"minutes": 5}}</tool_call>'
    assert [(turn, answer) for _, turn, answer in items] == [
        (agreed, '<tool_call>{"name": "timer", "arguments": {"minutes": 10}}</tool_call>'),
        (timer, said),
    ]
    assert items[1][0].reference == said  # a candidate keeps it by making the same call


def test_calls_kept_for_retention_are_measured_but_never_replayed():
    from model.distill.training import replay_rows

    words = {"messages": [{"role": "user", "content": "Hi"}], "source": "local", "said": "Hello!"}
    call = {
        "messages": [{"role": "user", "content": "Set a timer for 5 minutes."}],
        "source": "local",
        "said": '<tool_call>{"name": "timer", "arguments": {"minutes": 5}}</tool_call>',
    }
    retention = [{**row, "current": {"right": True}} for row in (words, call)]

    rows = replay_rows(retention, [], "", fraction=0.5, teacher_rows=10, seed=0)

    assert [row["messages"][-1]["content"] for row in rows] == ["Hello!"]


def test_the_shipped_regression_set_is_read_as_checkable_items():
    from model.evaluate import regression_items

    items = regression_items()
    assert 150 <= len(items) <= 200  # enough that one forgotten fact is under a point of the 5-point limit
    assert all(item.check in ("contains", "similar") and item.reference for item in items)
    shipped = {dataset.query_key(r["query"]) for name in ("train", "test", "test_fresh") for r in _tasks(name)}
    assert not shipped & {dataset.query_key(item.messages[-1]["content"]) for item in items}


def _tasks(name: str) -> list[dict]:
    return dataset.read_tasks(config.assets_dir() / "bench" / f"{name}.jsonl")


@pytest.mark.parametrize(
    "flag",
    [
        ["--replay", "1"],
        ["--replay", "-0.1"],
        ["--retention-max-drop", "-1"],
        ["--kl-weight", "-0.5"],
        ["--lora-modules", "mlp"],
        ["--strengths", "1,0"],
        ["--strengths", "most"],
    ],
)
def test_replay_and_retention_limits_out_of_range_are_sentences(flag, tiny_student, capsys):
    code, _, err = run(["--progress", "none", *flag], capsys)
    assert code == 2 and err.startswith("Error: --") and "Traceback" not in err


@pytest.mark.usefixtures("adapter_words")
def test_a_candidate_that_forgets_is_kept_and_replaying_the_students_answers_keeps_them(
    learnable_student, capsys, monkeypatch
):
    import model.evaluate

    # The regression set, one line here: the learnable student knows it only after the first round.
    regression = [Item.from_task({"query": REGRESSION_QUERY, "reference": "Paris", "check": "contains"})]
    monkeypatch.setattr(model.evaluate, "regression_items", lambda path=None: list(regression))
    store = Store()

    # Round 1: the student learns the capital, and then answers those queries on this machine.
    first = [log_example(store, q, KNOWN) for q in CAPITAL]
    code, learned, err = run(FAST + ["--json", "--replay", "0"], capsys)
    assert code == 0 and learned["status"] == "promoted", err
    for example_id in first:  # those examples leave the log: what it knows now lives only in the student
        turn = store.db.execute("SELECT turn_id FROM examples WHERE id = ?", [example_id]).fetchone()[0]
        store.delete_turn(turn)
    local = [log_local(store, q, KNOWN, "distill-1") for q in CAPITAL[1:]]

    # Round 2: other examples only. The candidate learns them and forgets the capital: not promoted.
    for q in GREETINGS:
        log_example(store, q, "Hello, how are you today?")
    code, forgot, err = run(FAST + ["--json", "--replay", "0"], capsys)
    assert code == 0, err
    retention = forgot["metrics"]["retention"]
    assert forgot["status"] == "kept" and registry.active_name() == "distill-1"
    assert forgot["metrics"]["gain"] > 0.5  # better on the held-out queries, which are all greetings
    assert retention["n"] == len(local) + 1 and retention["local"] == len(local) and retention["regression"] == 1
    assert retention["current"] == 1.0 and retention["candidate"] < 0.5 and retention["drop"] > 0.5
    assert retention["limit"] == 0.05
    assert "retention" in forgot["reason"] and "forgot" in forgot["reason"]
    assert f"{retention['current']:.0%}" in forgot["reason"] and f"{retention['candidate']:.0%}" in forgot["reason"]
    assert registry.get("distill-2").info["promoted"] is False

    # The data replay adds: the student's own answers as it gave them, as the chosen share of the
    # training rows (0.9: 9 per teacher row): its right local answers as the user saw them, then its
    # answers to the shipped everyday queries; never the regression line, which the gate measures.
    from model.distill.training import EVERYDAY_FILE, prepare, read_jsonl

    everyday = {row["query"] for row in read_jsonl(config.assets_dir() / "distill" / EVERYDAY_FILE)}
    settings = config.load()
    args = parser().parse_args(FAST + ["--replay", "0.9"])
    opts = Options.from_flags(args, settings)
    ds = dataset.build(store, heldout_fraction=opts.heldout_fraction, dedup_similarity=opts.dedup_similarity)
    folder, state = prepare(ds, registry.active(), opts, settings, [], store=store)
    try:
        rows = read_jsonl(folder / "train.jsonl")
        said = {r["messages"][-2]["content"]: r["messages"][-1]["content"] for r in rows}
        assert all(said[q] == KNOWN for q in CAPITAL[1:])  # every local answer, as the user saw it
        assert REGRESSION_QUERY not in said
        rehearsed = said.keys() & everyday
        assert rehearsed and all(said[q] and "<tool_call>" not in said[q] for q in rehearsed)
        assert state.dataset["replay_rows"] == len(CAPITAL[1:]) + len(rehearsed) == 9 * state.dataset["teacher_rows"]
        retained = read_jsonl(folder / "retention.jsonl")
        assert {r["turn_id"] for r in retained if r["source"] == "local"} == set(local)
    finally:
        shutil.rmtree(folder)
    # A pretrained base model (Gemma 3 270M as pulled) does not chat yet: nothing of its own is replayed.
    pretrained = dataclasses.replace(registry.active(), info={**registry.active().info, "base_model": True})
    folder, state = prepare(ds, pretrained, opts, settings, [], store=store)
    try:
        assert state.dataset["replay_rows"] == 0 and state.hyperparameters.replay == 0
    finally:
        shutil.rmtree(folder)

    # Round 3: the same log, with replay. The candidate learns the greetings and keeps the capital.
    code, kept, err = run(FAST + ["--json", "--replay", "0.75", "--iters", "300"], capsys)
    assert code == 0, err
    assert kept["status"] == "promoted", kept["reason"]
    dataset_used = kept["dataset"]
    assert dataset_used["replay_rows"] == 3 * dataset_used["teacher_rows"]  # 0.75: 3 per teacher row
    assert kept["metrics"]["retention"]["drop"] <= 0.05 and "within the limit of 5%" in kept["reason"]
    info = registry.get("distill-3").info
    assert info["hyperparameters"]["replay"] == 0.75 and info["metrics"]["retention"] == kept["metrics"]["retention"]
    assert json.dumps(kept)  # the --json object as printed


def test_a_local_answer_a_benchmark_line_can_check_is_retained_only_if_right(tiny_student, monkeypatch):
    import model.evaluate
    from model.distill.training import retention_rows

    monkeypatch.setattr(model.evaluate, "regression_items", lambda path=None: [])
    store = Store()
    log_local(store, "Work out 29 multiplied by 3.", "29 * 3 = 78.", "tiny")  # confident, and wrong
    right = log_local(store, "What is 12 plus 30?", "12 + 30 = 42.", "tiny")
    unchecked = log_local(store, "Who wrote Macbeth?", "Shakespeare wrote Macbeth.", "tiny")
    lines = {
        dataset.query_key(q): {"query": q, "reference": ref, "check": "number", "family": "arithmetic"}
        for q, ref in [("Work out 29 multiplied by 3.", "87"), ("What is 12 plus 30?", "42")]
    }

    rows = retention_rows(store, registry.active(), config.load(), limit=10, checks=lines)

    assert [(r["turn_id"], r["family"], r["said"]) for r in rows] == [
        (unchecked, "kept locally", "Shakespeare wrote Macbeth."),
        (right, "arithmetic", "12 + 30 = 42."),
    ]
    assert all(r["current"]["version"] == "tiny" for r in rows)  # the current student answered them before training


def _drift_from_base(version: str, queries: list[str]) -> float:
    """Mean KL(base ‖ version), in nats, of the first answer token's distribution for `queries`."""
    import mlx.core as mx
    from mlx_lm.utils import load_adapters, load_model, load_tokenizer

    path = registry.get("tiny").path
    base, _ = load_model(path)
    candidate = load_adapters(load_model(path)[0], str(registry.get(version).adapter_path))
    tokenizer = load_tokenizer(path)
    total = 0.0
    for query in queries:
        ids = tokenizer.apply_chat_template([{"role": "user", "content": query}], add_generation_prompt=True)
        p, q = (m(mx.array([ids]))[0, -1].astype(mx.float32) for m in (base, candidate))
        log_p, log_q = p - mx.logsumexp(p), q - mx.logsumexp(q)
        total += float((mx.exp(log_p) * (log_p - log_q)).sum())
    return total / len(queries)


@pytest.mark.usefixtures("adapter_words")
def test_a_kl_term_learns_the_lesson_and_moves_the_student_less_where_it_was_not_taught(learnable_student, capsys):
    store = Store()
    for q in CAPITAL:
        log_example(store, q, "Paris")

    code, plain, err = run(FAST + ["--json", "--replay", "0", "--kl-weight", "0"], capsys)
    assert code == 0 and plain["status"] == "promoted", err
    registry.rollback()
    code, held, err = run(FAST + ["--json", "--replay", "0", "--kl-weight", "1"], capsys)
    assert code == 0 and held["status"] == "promoted", err

    assert held["metrics"]["candidate"]["accuracy"] == plain["metrics"]["candidate"]["accuracy"] == 1.0
    # the candidate starts as the current student, so the term adds nothing to the first step's loss
    assert held["training"]["loss_first"] == pytest.approx(plain["training"]["loss_first"], rel=1e-3)
    assert registry.get(held["version"]).info["hyperparameters"]["kl_weight"] == 1.0
    # on queries it was never taught, the held candidate's next token stays nearer the student's
    assert _drift_from_base(held["version"], GREETINGS) < _drift_from_base(plain["version"], GREETINGS) / 2


@pytest.mark.usefixtures("adapter_words")
def test_an_adapter_on_the_attention_layers_only_learns_and_answers_as_the_app_loads_it(learnable_student, capsys):
    from mlx.core import load as load_arrays

    from model.distill.training import student_for
    from model.evaluate import answer

    store = Store()
    for q in CAPITAL:
        log_example(store, q, "Paris")

    code, result, err = run(FAST + ["--json", "--replay", "0", "--lora-modules", "attention"], capsys)

    assert code == 0 and result["status"] == "promoted", err
    version = registry.get(result["version"])
    assert version.info["hyperparameters"]["lora_modules"] == "attention"
    names = list(load_arrays(str(version.adapter_path / "adapters.safetensors")))
    assert names and all(".self_attn." in name for name in names)  # the feed-forward layers are as they were
    student = student_for(version.path, version.name, config.load(), version.adapter_path)
    try:
        said, _, _ = answer(student, [{"role": "user", "content": "Which French city is the capital?"}], 8)
    finally:
        student.close()
    assert "Paris" in said


class _ByScale:
    """A student scripted by the share of the learned change its adapter carries (FAST trains at scale
    20): the current student knows the facts and not the greetings; the candidate at full strength
    learned the greetings and forgot the facts, at half strength it keeps both."""

    FACTS = {"What is the capital of Italy?": "Rome", "What is the capital of Spain?": "Madrid"}

    def __init__(self, path, name, settings, adapter_path=None):
        self.name = name
        scale = None
        if adapter_path is not None:
            scale = json.loads((Path(adapter_path) / "adapter_config.json").read_text())["lora_parameters"]["scale"]
        self.learned = scale is not None
        self.forgot = scale is not None and scale > 10

        class _Tokens:
            def encode(self, text):
                return text.split()

        self.tokenizer = _Tokens()

    def stream(self, messages, max_tokens=64, **_):
        from assistant.engine import Token
        from assistant.student import _DONE, StudentResponse

        query = messages[-1]["content"]
        if query in self.FACTS:
            said = "I am not sure." if self.forgot else f"It is {self.FACTS[query]}."
        elif query.startswith("Hello"):
            said = "Hello, how are you today?" if self.learned else "Goodbye."
        else:
            said = "Fine, thanks."
        response = StudentResponse(self.name, messages, None, max_tokens)
        response._queue.put(Token(said, -0.1))
        response._queue.put(_DONE)
        response.finish_reason = "stop"
        return response

    def close(self):
        pass


def test_a_candidate_that_forgot_is_promoted_at_the_largest_share_of_its_lesson_that_keeps_what_it_knew(
    learnable_student, capsys, monkeypatch
):
    import model.evaluate
    from model.distill import promotion, training

    facts = [Item.from_task({"query": q, "reference": a, "check": "contains"}) for q, a in _ByScale.FACTS.items()]
    monkeypatch.setattr(model.evaluate, "regression_items", lambda path=None: list(facts))
    monkeypatch.setattr(training, "student_for", _ByScale)
    monkeypatch.setattr(promotion, "_student", _ByScale)
    store = Store()
    for q in GREETINGS:
        log_example(store, q, "Hello, how are you today?")

    code, result, err = run(FAST + ["--json", "--rejudge-seconds", "0"], capsys)

    assert code == 0, err
    assert result["status"] == "promoted" and result["reason"].startswith("at 0.5 of the learned change")
    tried = result["metrics"]["strengths_tried"]
    assert [(t["strength"], t["promoted"]) for t in tried] == [(1.0, False), (0.75, False), (0.5, True)]
    assert tried[0]["retention"] == 0.0 and tried[-1]["retention"] == 1.0 and tried[-1]["heldout"] == 1.0
    version = registry.get(result["version"])
    adapter = json.loads((version.adapter_path / "adapter_config.json").read_text())
    assert adapter["lora_parameters"]["scale"] == 10.0 and version.info["metrics"]["strength"] == 0.5

    # only the first share is tried when it passes, and none below one that did not learn
    code, result, err = run(FAST + ["--json", "--rejudge-seconds", "0", "--strengths", "0.5,1"], capsys)
    assert code == 0, err
    assert [t["strength"] for t in result["metrics"]["strengths_tried"]] == [1.0]  # not better: nothing new to learn

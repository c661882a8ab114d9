"""Constrained tool calls: inside `<tool_call>`, names and keys can only be a registered tool's, on a real tokenizer
and through the real Student; outside a call the answer is the same token for token."""

from __future__ import annotations

import re

import mlx.core as mx
import numpy as np
import pytest

from assistant import mlxlm
from assistant.errors import ApprenticeError
from assistant.student import Student
from assistant.tools import constrain, tools
from assistant.tools.constrain import OUTSIDE, CallConstraint, Grammar, Vocabulary

HEAD = '<tool_call>{"name": "'


@pytest.fixture(scope="module")
def tokenizer(tiny_checkpoint):
    mlxlm.full()
    from mlx_lm.utils import load_tokenizer

    return load_tokenizer(tiny_checkpoint)


@pytest.fixture(scope="module")
def vocabulary(tokenizer):
    return Vocabulary.of(tokenizer)


def ids(tokenizer, text: str) -> list[int]:
    return tokenizer.encode(text, add_special_tokens=False)


def decode_under_constraint(
    vocabulary, tokenizer, prefix: str, favoured: str, steps: int, seed: int = 0, grammar: Grammar | None = None
) -> str:
    """Greedy decoding after `prefix`, by logits that strongly favour the tokens of `favoured`
    (noise elsewhere), through the constraint; the text generated after the prefix."""
    prompt = ids(tokenizer, "Set a timer")
    forced = ids(tokenizer, prefix)
    constraint = CallConstraint(vocabulary, grammar)
    rng = np.random.default_rng(seed)
    size = len(vocabulary.texts)
    tokens = list(prompt)
    constraint(mx.array(tokens), mx.zeros((1, size)))  # the first call sees only the prompt
    tokens += forced
    bias = np.zeros(size, dtype=np.float32)
    bias[ids(tokenizer, favoured)] = 100.0
    out = []
    for _ in range(steps):
        logits = mx.array((rng.normal(size=size) + bias).astype(np.float32))[None]
        chosen = int(mx.argmax(constraint(mx.array(tokens), logits), axis=-1).item())
        tokens.append(chosen)
        out.append(chosen)
    return "".join(vocabulary.texts[i] for i in out)


def test_the_vocabulary_texts_spell_what_the_tokenizer_decodes(tokenizer, vocabulary):
    call = '<tool_call>{"name": "timer", "arguments": {"minutes": 10, "label": "tea"}}</tool_call>'
    assert "".join(vocabulary.texts[i] for i in ids(tokenizer, call)) == call
    for i, text in enumerate(vocabulary.texts):
        decoded = tokenizer.decode([i])
        assert text == decoded or ("\ufffd" in text and "\ufffd" in decoded), i  # a lone byte of a longer character


@pytest.mark.parametrize("invented", ["water", "cat", "move_car", "laundry", "date", "bytes"])
def test_an_invented_tool_name_cannot_be_spelled(tokenizer, vocabulary, invented):
    for seed in range(5):
        text = decode_under_constraint(vocabulary, tokenizer, HEAD, invented + '"', steps=16, seed=seed)
        name = text.split('"')[0]
        assert '"' in text and name in tools(), (invented, text)


def test_a_name_that_starts_well_can_only_end_as_a_registered_tool(tokenizer, vocabulary):
    # "c" begins calculate, clock and convert; the favoured "cat" cannot follow it
    text = decode_under_constraint(vocabulary, tokenizer, HEAD + "c", "at", steps=12)
    assert ("c" + text.split('"')[0]) in {"calculate", "clock", "convert"}


def test_an_argument_the_tool_does_not_have_cannot_be_spelled(tokenizer, vocabulary):
    prefix = HEAD + 'calculate", "arguments": {"'
    text = decode_under_constraint(vocabulary, tokenizer, prefix, "value", steps=16)
    assert text.startswith('expression"')  # calculate's one parameter, whatever the logits wanted
    prefix = HEAD + 'convert", "arguments": {"value": 5, "'
    text = decode_under_constraint(vocabulary, tokenizer, prefix, "unit", steps=16)
    assert text.split('"')[0] in {"from_unit", "to_unit"}  # not "unit", and not "value" a second time


def test_a_tool_with_all_its_arguments_given_can_only_close(tokenizer, vocabulary):
    prefix = HEAD + 'calculate", "arguments": {"expression": "17*23",'
    for seed in range(5):
        text = decode_under_constraint(vocabulary, tokenizer, prefix, ' "value', steps=4, seed=seed)
        assert text.startswith("}"), text


def test_a_timed_call_cannot_close_before_it_says_when(tokenizer, vocabulary):
    """ "Remind me in 50 minutes to feed the cat": the `}` that would leave out the 50 minutes is not allowed."""
    prefix = HEAD + 'reminder", "arguments": {"text": "feed the cat"'
    timed = Grammar.from_registry(timed=True)
    for seed in range(3):
        text = decode_under_constraint(vocabulary, tokenizer, prefix, "}}", steps=6, seed=seed, grammar=timed)
        assert timed.step(OUTSIDE, prefix + text) not in (None, constrain.DONE), text  # the call is still open
        # after a key that says when, the call closes as the model wants
        said = prefix + ', "minutes": 50'
        assert decode_under_constraint(vocabulary, tokenizer, said, "}}", 2, seed, timed).startswith("}")
        # with no number said, the call closes without one, and the tool asks when
        assert decode_under_constraint(vocabulary, tokenizer, prefix, "}}", 2, seed).startswith("}")
    # a call that does not act, and a tool with nothing it needs, close at once
    listed = HEAD + 'timer", "arguments": {"action": "list"'
    assert decode_under_constraint(vocabulary, tokenizer, listed, "}}", 2, grammar=timed).startswith("}")
    clock = HEAD + 'clock", "arguments": {'
    assert decode_under_constraint(vocabulary, tokenizer, clock, "}}", 2, grammar=timed).startswith("}")


@pytest.mark.parametrize(
    "query, says",
    [
        ("Remind me in 50 minutes to feed the cat.", True),
        ("Set a reminder for 4:15 pm: stretch.", True),
        ("Wake me in an hour.", True),
        ("Two and a half minutes on the clock.", True),
        ("Remind me to call mum.", False),
        ("Set a timer.", False),
        (None, False),
    ],
)
def test_a_number_said_is_what_makes_a_call_say_when(query, says):
    assert constrain.says_when(query) is says


def test_an_allowed_token_keeps_the_log_probability_the_model_gave_it(tokenizer, vocabulary):
    """The cascade trusts an answer by its token log-probabilities: a name the model was unsure of stays unsure."""
    size = len(vocabulary.texts)
    prompt = ids(tokenizer, "Tell me to water the plants")
    constraint = CallConstraint(vocabulary)
    constraint(mx.array(prompt), mx.zeros((1, size)))
    logits = mx.array(np.random.default_rng(0).normal(size=size).astype(np.float32) * 3)[None]
    out = constraint(mx.array(prompt + ids(tokenizer, HEAD)), logits)
    allowed = np.isfinite(np.array(out))[0]
    assert 0 < allowed.sum() < size / 4
    as_reported = np.array(out - mx.logsumexp(out, keepdims=True))[0]  # what mlx-lm reports: over the allowed only
    model_gave = np.array(logits - mx.logsumexp(logits, keepdims=True))[0]
    assert constraint.calls == 2 and constraint.unmasked(3) == 0.0  # a token with no mask needs nothing added
    np.testing.assert_allclose(as_reported[allowed] + constraint.unmasked(2), model_gave[allowed], rtol=1e-4)


def test_values_and_ordinary_text_are_free(vocabulary):
    grammar = Grammar.from_registry()
    value = grammar.step(OUTSIDE, HEAD + 'timer", "arguments": {"label": "tea, \\"two\\" {cups}')
    assert value[0] == "value" and vocabulary.mask(grammar, value, len(vocabulary.texts)) is None
    for text in ["The capital of France is Paris.", "a < b", "<tool", '{"name": "water"}']:
        state = grammar.step(OUTSIDE, text)
        assert state[0] == "out" and vocabulary.mask(grammar, state, len(vocabulary.texts)) is None
    # a call in another shape is left to the tolerant parser
    assert grammar.step(OUTSIDE, "<tool_call>{'name': 'water'") == constrain.DONE


def test_tokens_that_span_the_boundary_are_judged_by_every_character():
    texts = [
        'clock", "arguments": {"',  # closes a valid name and opens a key
        'cat", "',  # closes a name no tool has
        '"}',  # closes the name and the call: no arguments
        '", "arguments": {"place',  # a key clock has
        '", "arguments": {"value',  # a key clock does not have
        'place": "Paris"}}',  # a key, its value and the end of the call
        'value": 5',
        "c",
        "lock",
        " ",
    ]
    vocabulary = Vocabulary(texts)
    grammar = Grammar({"clock": ["place", "date"], "convert": ["value", "from_unit", "to_unit"]})

    def allowed(text):
        state = grammar.step(OUTSIDE, text)
        mask = vocabulary.mask(grammar, state, len(texts))
        return {texts[i] for i in range(len(texts)) if mask is None or mask[i].item()}

    assert allowed(HEAD) == {'clock", "arguments": {"', "c"}
    assert allowed(HEAD + "c") == {"lock"}
    assert allowed(HEAD + "clock") == {'"}', '", "arguments": {"place'}
    assert allowed(HEAD + 'clock", "arguments": {"') == {'place": "Paris"}}'}
    assert allowed(HEAD + 'convert", "arguments": {"') == {'value": 5'}
    assert allowed(HEAD + 'convert", "arguments": {') == {" "}  # `"value` is one token only after a quote
    # outside a call nothing is masked; in a string value, only what ends it and goes on with anything but a
    # `,` or a `}` (JSON's only ways on), or starts a key the tool does not have
    assert allowed("Hello") == set(texts)
    opens_a_bad_key = {'clock", "arguments": {"', '", "arguments": {"place', '", "arguments": {"value'}
    goes_on_badly = {'place": "Paris"}}', 'value": 5'}
    assert allowed(HEAD + 'clock", "arguments": {"place": "') == set(texts) - opens_a_bad_key - goes_on_badly
    assert allowed(HEAD + 'clock", "arguments": {"place": "Paris"') == {" "}  # no `"` here: `,`, `}` or a space


def answer(checkpoint, query, max_tokens=24):
    student = Student(checkpoint, name="tiny", system_prompt="You are terse.", context_tokens=512)
    try:
        response = student.stream([{"role": "user", "content": query}], max_tokens=max_tokens)
        text = "".join(response)
        return response, text, student
    finally:
        student.close()


def test_a_text_answer_is_unchanged_token_for_token(tiny_checkpoint, monkeypatch):
    query = "What is the capital of France?"
    on, on_text, student = answer(tiny_checkpoint, query, max_tokens=48)
    assert student.call_vocabulary is not None  # the constraint was there, watching
    monkeypatch.setenv("APPRENTICE_CONSTRAIN_CALLS", "0")
    off, off_text, _ = answer(tiny_checkpoint, query, max_tokens=48)
    assert on_text == off_text and on.usage.tokens == off.usage.tokens > 0
    assert on.logprobs == off.logprobs


class Force:
    """A processor that pushes the answer toward `target`'s tokens for as long as the answer follows them."""

    def __init__(self, target_ids):
        self.target = target_ids
        self.start = None

    def __call__(self, tokens, logits):
        if self.start is None:
            self.start = tokens.size
        done = tokens[self.start :].tolist()
        if done != self.target[: len(done)] or len(done) >= len(self.target):
            return logits
        push = np.zeros(logits.shape[-1], dtype=np.float32)
        push[self.target[len(done)]] = 1000.0
        return logits + mx.array(push)


@pytest.mark.parametrize(
    "target, check",
    [
        ('<tool_call>{"name": "water", "arguments": {}}</tool_call>', lambda name, key: name in tools()),
        (
            '<tool_call>{"name": "calculate", "arguments": {"value": 5}}</tool_call>',
            lambda name, key: name == "calculate" and key == "expression",
        ),
    ],
)
def test_the_student_makes_only_calls_that_can_run(tiny_checkpoint, tokenizer, monkeypatch, target, check):
    """A model pushed toward an invented tool or argument, through the Student as a user asks it."""
    real = constrain.processors
    monkeypatch.setattr(
        constrain, "processors", lambda student, query=None: [Force(ids(tokenizer, target))] + real(student, query)
    )
    response, text, _ = answer(tiny_checkpoint, "Set a timer for ten minutes", max_tokens=120)
    call = response.tool_call_text or ""
    name = re.match(r'<tool_call>\{"name": "([^"]*)"', call)
    key = re.search(r'"arguments": \{"([^"]*)"', call)
    assert name and check(name.group(1), key and key.group(1)), call
    # the same push without the constraint makes the call that cannot run
    monkeypatch.setenv("APPRENTICE_CONSTRAIN_CALLS", "0")
    response, _, _ = answer(tiny_checkpoint, "Set a timer for ten minutes", max_tokens=120)
    assert response.tool_call_text.startswith(target)


def test_the_student_says_when_a_reminder_acts_if_the_user_said_a_number(tiny_checkpoint, tokenizer, monkeypatch):
    """A model pushed to close a reminder without its time, through the Student as a user asks it."""
    target = '<tool_call>{"name": "reminder", "arguments": {"text": "feed the cat"}}</tool_call>'
    real = constrain.processors
    monkeypatch.setattr(
        constrain, "processors", lambda student, query=None: [Force(ids(tokenizer, target))] + real(student, query)
    )
    response, _, _ = answer(tiny_checkpoint, "Remind me in 50 minutes to feed the cat", max_tokens=60)
    closed = target.removesuffix("</tool_call>")
    call = response.tool_call_text or ""
    assert call.startswith(closed[:-2]) and not call.startswith(closed), call
    response, _, _ = answer(tiny_checkpoint, "Remind me to feed the cat", max_tokens=60)
    assert response.tool_call_text.startswith(closed)  # no number said: the tool will ask when


@pytest.mark.parametrize(
    "query, closed, held",
    [
        # a number said and left out: "um timer, one hour and twenty minutes" as hours=1
        ("um timer, one hour and twenty minutes", '<tool_call>{"name": "timer", "arguments": {"hours": 1}}', True),
        ("set a timer for one hour", '<tool_call>{"name": "timer", "arguments": {"hours": 1}}', False),
        # the days counted on from a day named; from one supposed to be today, the call runs counting them (as_said)
        ("What day comes after Tuesday?", '<tool_call>{"name": "clock", "arguments": {"date": "Tuesday"}}', True),
        (
            "If today is Saturday, what day is it tomorrow?",
            '<tool_call>{"name": "clock", "arguments": {"date": "Saturday"}}',
            False,
        ),
        (
            "What day of the week is Christmas?",
            '<tool_call>{"name": "clock", "arguments": {"date": "December 25"}}',
            False,
        ),
    ],
)
def test_a_call_that_leaves_out_what_was_said_cannot_close(
    tiny_checkpoint, tokenizer, monkeypatch, query, closed, held
):
    """A model pushed to close a call before it holds what the user said, through the Student as a user asks
    it: it goes on with another argument instead; a call that holds it all closes as the model wants."""
    target = closed + "</tool_call>"
    real = constrain.processors
    monkeypatch.setattr(
        constrain, "processors", lambda student, query=None: [Force(ids(tokenizer, target))] + real(student, query)
    )
    response, _, _ = answer(tiny_checkpoint, query, max_tokens=60)
    call = response.tool_call_text or ""
    assert call.startswith(closed[:-2]), call
    assert call.startswith(closed) is not held, call
    if held:  # it went on with another of the tool's own arguments
        assert call[len(closed) - 2 :].lstrip().startswith(","), call


def allowed_next(vocabulary, tokenizer, query: str, written: str) -> tuple[list[str], CallConstraint]:
    """The texts of the tokens allowed after `written`, for `query`, and the constraint that allowed them."""
    size = len(vocabulary.texts)
    prompt = ids(tokenizer, query)
    constraint = CallConstraint(vocabulary, query=query)
    constraint(mx.array(prompt), mx.zeros((1, size)))
    logits = mx.array(np.random.default_rng(0).normal(size=size).astype(np.float32) * 3)[None]
    out = constraint(mx.array(prompt + ids(tokenizer, written)), logits)
    return [vocabulary.texts[i] for i in np.flatnonzero(np.isfinite(np.array(out))[0])], constraint


CONVERT = HEAD + 'convert", "arguments": {'


@pytest.mark.parametrize(
    "query, written, unit",
    [
        ("How many inches is 178 centimeters?", '"value": 178, "from_unit":', "centimeters"),
        ("How many inches is 178 centimeters?", '"value": 178, "from_unit": "centimeters", "to_unit":', "inches"),
        ("Express 50 ounces in grams.", '"value": 50, "from_unit":', "ounces"),
        ("the recipe wants 7 ounces of chocolate, how many grams?", '"value": 7, "from_unit":', "ounces"),
        ("How many degrees Celsius is 86 degrees Fahrenheit?", '"value": 86, "from_unit":', "degrees Fahrenheit"),
    ],
)
def test_a_conversion_is_written_in_the_units_the_user_said(tokenizer, vocabulary, query, written, unit):
    """Where a unit begins, only the unit said can be spelled: token by token, each allowed token goes on with
    it, and the model's doubt about it is not added to the answer's."""
    whole, spelled = f'"{unit}"', ""
    for _ in range(len(whole)):
        allowed, constraint = allowed_next(vocabulary, tokenizer, query, CONVERT + written + spelled)
        fits = [text for text in allowed if whole.startswith((spelled + text).lstrip())]
        assert fits and all(text in fits or (spelled + text).lstrip().startswith(whole) for text in allowed), allowed
        assert constraint.unmasked(2) == 0.0
        spelled += max(fits, key=len)
        if spelled.lstrip() == whole:
            break
    assert spelled.lstrip() == whole


def test_a_call_cannot_close_without_an_argument_its_tool_requires(tokenizer, vocabulary):
    """A conversion that holds only its value could not run: after it, only the `,` that goes on is allowed."""
    query = "The recipe wants 350 degrees Fahrenheit; what is that in Celsius?"
    allowed, _ = allowed_next(vocabulary, tokenizer, query, CONVERT + '"value": 350')
    assert not any("}" in text for text in allowed) and any(text.startswith(",") for text in allowed), allowed
    allowed, _ = allowed_next(
        vocabulary, tokenizer, query, CONVERT + '"value": 350, "from_unit": "degrees Fahrenheit", "to_unit": "Celsius"'
    )
    assert any(text.startswith("}") for text in allowed)


@pytest.mark.parametrize(
    "query, below",
    [
        ("it's minus ten celsius out, what's that in fahrenheit?", True),
        ("What is -4 °F in Celsius?", True),
        ("convert 10 celsius to fahrenheit", False),  # said above zero: the model's
        ("What is 405 minus 61 in metres?", False),  # a subtraction, and two numbers
    ],
)
def test_a_value_said_below_zero_is_converted_below_zero(tokenizer, vocabulary, query, below):
    allowed, constraint = allowed_next(vocabulary, tokenizer, query, CONVERT + '"value":')
    if below:
        assert allowed and all(text.lstrip().startswith("-") for text in allowed), allowed
        assert constraint.unmasked(2) == 0.0  # read from the user's words: no doubt of the model's
    else:
        assert len(allowed) > 0.9 * len(vocabulary.texts)


def test_a_unit_begins_after_one_space_at_most(tokenizer, vocabulary):
    """A model that wants another unit cannot write spaces before the one said, on and on."""
    query = "How many inches is 178 centimeters?"
    allowed, _ = allowed_next(vocabulary, tokenizer, query, CONVERT + '"value": 178, "from_unit": ')
    assert allowed and all(text.lstrip().startswith('"') for text in allowed), allowed


def test_the_student_converts_from_the_unit_the_user_said(tiny_checkpoint, tokenizer, monkeypatch):
    """A model pushed to swap the units, through the Student as a user asks it: the call converts from the
    unit said after the value; with the constraint off, the same push swaps them."""
    swapped = CONVERT + '"value": 178, "from_unit": "inches", "to_unit": "centimeters"}}</tool_call>'
    real = constrain.processors
    monkeypatch.setattr(
        constrain, "processors", lambda student, query=None: [Force(ids(tokenizer, swapped))] + real(student, query)
    )
    response, _, _ = answer(tiny_checkpoint, "How many inches is 178 centimeters?", max_tokens=60)
    call = response.tool_call_text or ""
    assert re.match(re.escape(CONVERT + '"value": 178, "from_unit":') + r'\s*"centimeters"', call), call
    monkeypatch.setenv("APPRENTICE_CONSTRAIN_CALLS", "0")
    response, _, _ = answer(tiny_checkpoint, "How many inches is 178 centimeters?", max_tokens=60)
    assert response.tool_call_text.startswith(swapped.removesuffix("</tool_call>")), response.tool_call_text


@pytest.mark.parametrize(
    "query, written",
    [
        ("convert 5 km to miles", '"from_unit":'),  # no value yet: which number is the unit's is unknown
        ("How many inches is 178 centimeters?", '"value": 178, "from_unit": "inch'),  # begun another way
        ("What is the capital of France?", '"value": 3, "to_unit":'),  # no unit asked for
    ],
)
def test_a_unit_the_user_did_not_say_is_the_models(tokenizer, vocabulary, query, written):
    allowed, _ = allowed_next(vocabulary, tokenizer, query, CONVERT + written)
    assert len(allowed) > 0.9 * len(vocabulary.texts)


def test_the_sign_of_a_count_of_days_is_the_codes_and_costs_the_answer_no_confidence(tokenizer, vocabulary):
    """The way days are counted is read from what the user said: every token allowed begins the count with a
    minus, and the model's doubt about the sign is not added to the answer's (the cascade would send it away)."""
    size = len(vocabulary.texts)
    prompt = ids(tokenizer, "What was the date 3 days ago?")
    constraint = CallConstraint(vocabulary, query="What was the date 3 days ago?")
    constraint(mx.array(prompt), mx.zeros((1, size)))
    logits = mx.array(np.random.default_rng(0).normal(size=size).astype(np.float32) * 3)[None]
    out = constraint(mx.array(prompt + ids(tokenizer, HEAD + 'clock", "arguments": {"days":')), logits)
    allowed = np.flatnonzero(np.isfinite(np.array(out))[0])
    assert len(allowed) > 0 and all(vocabulary.texts[i].lstrip().startswith("-") for i in allowed)
    assert constraint.unmasked(2) == 0.0


@pytest.mark.parametrize(
    "query, days, way",
    [
        ("What was the date 3 days ago?", "3", "-"),  # counted back: the count begins with a minus
        ("What day will it be in three days?", "-3", ""),  # counted on: it may not
        ("What day comes 2 days before Friday?", "2", "-"),
        ("What is the date 3 days from March 1?", "-3", None),  # no way said: as the model writes it
        ("What is the date 3 days from March 1?", "3", None),
    ],
)
def test_a_count_of_days_begins_the_way_the_user_counted(tiny_checkpoint, tokenizer, monkeypatch, query, days, way):
    """A model pushed to count days the other way from the one the user said, through the Student as a user
    asks it: the count it writes goes the way they said; where they said no way, it is the model's."""
    begun = '<tool_call>{"name": "clock", "arguments": {"days":'
    target = begun + " " + days + "}}</tool_call>"
    real = constrain.processors
    monkeypatch.setattr(
        constrain, "processors", lambda student, query=None: [Force(ids(tokenizer, target))] + real(student, query)
    )
    response, _, _ = answer(tiny_checkpoint, query, max_tokens=40)
    call = response.tool_call_text or ""
    assert call.startswith(begun), call
    written = call[len(begun) :].lstrip()
    if way is None:
        assert call.startswith(target.removesuffix("</tool_call>")), call
    else:
        assert written.startswith("-") is (way == "-"), call


@pytest.mark.parametrize(
    "query, value, grows",
    [
        ("set a 15 minute timer", "1", True),  # "1" of "15": only the `}` is barred
        ("set a 25 minute timer", "1", False),  # nothing said begins with 1: the value ends here
        ("um timer, one hour and ten minutes", "1", True),  # hours=1, or the 10 begun
    ],
)
def test_a_number_begun_may_grow_into_the_one_said(query, value, grows):
    from assistant.tools.calls import ToolCall

    key = "minutes" if "minute timer" in query else "hours"
    opened = HEAD + f'timer", "arguments": {{"{key}": {value}'
    assert constrain._may_grow(opened, ToolCall("timer", {key: int(value)}), query) is grows


def test_a_call_begun_within_the_token_bound_is_read_to_its_end(tiny_checkpoint, tokenizer, monkeypatch):
    """`--max-tokens 12` bounds words, not actions: a convert call of about 30 tokens still runs."""
    target = '<tool_call>{"name": "convert", "arguments": '
    target += '{"value": 1.5, "from_unit": "cups", "to_unit": "milliliters"}}</tool_call>'
    assert len(ids(tokenizer, target)) > 12
    real = constrain.processors
    monkeypatch.setattr(
        constrain, "processors", lambda student, query=None: [Force(ids(tokenizer, target))] + real(student, query)
    )
    response, text, _ = answer(tiny_checkpoint, "convert 1.5 cups to milliliters", max_tokens=12)
    assert response.tool_call_text == target and text == ""
    assert response.tool_call.arguments == {"value": 1.5, "from_unit": "cups", "to_unit": "milliliters"}
    assert response.finish_reason == "stop" and response.usage.tokens == len(ids(tokenizer, target))
    # words are still cut at the bound
    monkeypatch.setattr(constrain, "processors", real)
    response, text, _ = answer(tiny_checkpoint, "What is the capital of France?", max_tokens=5)
    assert response.tool_call_text is None and response.usage.tokens == 5 and response.finish_reason == "length"


def test_the_setting_turns_it_off_and_a_bad_value_says_what_to_set(tiny_checkpoint, monkeypatch):
    student = Student(tiny_checkpoint, name="tiny", context_tokens=512)
    try:
        assert [type(p) for p in constrain.processors(student)] == [CallConstraint]
        vocabulary = student.call_vocabulary
        constrain.processors(student)
        assert student.call_vocabulary is vocabulary  # decoded once per tokenizer
        monkeypatch.setenv("APPRENTICE_CONSTRAIN_CALLS", "0")
        assert constrain.processors(student) == []
        monkeypatch.setenv("APPRENTICE_CONSTRAIN_CALLS", "maybe")
        with pytest.raises(ApprenticeError, match="APPRENTICE_CONSTRAIN_CALLS is 'maybe': set it to 1"):
            list(student.stream([{"role": "user", "content": "Hello"}], max_tokens=4))
    finally:
        student.close()


def test_the_vocabulary_is_decoded_once_and_kept_on_disk(tiny_checkpoint, tmp_path, monkeypatch):
    cache = tmp_path / "cache" / "prompts"
    first = Student(tiny_checkpoint, name="tiny", context_tokens=512, cache_dir=cache)
    try:
        constrain.processors(first)
    finally:
        first.close()
    assert len(list((tmp_path / "cache" / "tokenizers").glob("*.texts"))) == 1

    def no_decoding(tokenizer):
        raise AssertionError("decoded again")

    monkeypatch.setattr(constrain, "token_texts", no_decoding)
    second = Student(tiny_checkpoint, name="tiny", context_tokens=512, cache_dir=cache)
    try:
        constrain.processors(second)
        assert second.call_vocabulary.texts == first.call_vocabulary.texts
        assert second.call_vocabulary.opening == first.call_vocabulary.opening
    finally:
        second.close()

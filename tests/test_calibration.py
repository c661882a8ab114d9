"""A distilled version's cascade lines: drawn with a stated guarantee, one for calls and one for text."""

from __future__ import annotations

import pytest

from assistant import config
from assistant.core import CascadeStep
from assistant.engine import Token
from assistant.errors import ApprenticeError
from assistant.student import _DONE, CALL_TOKENS, StudentResponse
from assistant.tools.calls import ToolCall, inside_call
from model.distill.calibration import NEVER, Point, draw, load, points, risk_line, save
from model.evaluate import Item, Scored, evaluate

CALL = '<tool_call>{"name": "timer", "arguments": {"minutes": 10}}</tool_call>'


def p(confidence, right, call=False, source="heldout"):
    return Point(confidence, right, call, source)


def test_risk_line_keeps_the_surest_answers_while_wrong_kept_plus_one_over_n_plus_one_is_within_the_risk():
    # 39 answers: surest first, 30 right, then a wrong one, then 8 more right, one wrong near the bottom
    pts = [p(-0.01 * k, True) for k in range(1, 31)] + [p(-0.35, False)]
    pts += [p(-0.4 - 0.01 * k, True) for k in range(7)] + [p(-0.9, False)]
    # at risk 0.05 (n = 39): (wrong + 1) / 40 ≤ 0.05 allows one wrong kept, not two
    assert risk_line(pts, 0.05) == pytest.approx(-0.46)
    # at risk 0.03: no wrong answer may be kept: the line stops above the first wrong one
    assert risk_line(pts, 0.03) == pytest.approx(-0.30)
    # too few answers for any guarantee at that risk: nothing is kept
    assert risk_line(pts[:10], 0.05) == 0.0
    assert risk_line([], 0.05) == 0.0


def test_tied_confidences_are_kept_or_dropped_together():
    pts = [p(-0.1, True)] * 25 + [p(-0.2, True), p(-0.2, False), p(-0.2, False)]
    # at -0.2 two wrong are kept: (2 + 1) / 29 > 0.05, so the line stays at -0.1
    assert risk_line(pts, 0.05) == pytest.approx(-0.1)


def test_calls_that_validate_get_a_line_of_their_own():
    texts = [p(-0.05 * k, k < 20) for k in range(40)]  # sure text answers right, unsure ones wrong
    calls = [p(-1.0 - 0.02 * k, True, call=True) for k in range(40)]  # calls right even when unsure
    drawn = draw(texts + calls, method="risk", precision=0.9, risk=0.05)
    assert drawn["call_min_logprob"] < -1.5 < drawn["min_logprob"]
    assert drawn["n"] == 80 and drawn["calls"] == 40 and drawn["kept_wrong"] <= 2

    # "precision" draws on the held-out answers only; the retention set's are left out
    retention = [p(-0.01, True, source="regression")] * 50
    assert draw(texts + retention, method="precision", precision=0.9, risk=0.05)["n"] == 40
    with pytest.raises(ValueError):
        draw(texts, method="vibes", precision=0.9, risk=0.05)


def test_a_line_that_would_keep_only_wrong_answers_keeps_none():
    # 345 answers, one right at -0.789, the rest wrong from -0.35 down: 5% allows 16 wrong kept, but a
    # line that keeps them and not the right one gains nothing, so nothing is kept
    wrong = [p(-0.35 - 0.001 * k, False, source="local") for k in range(344)]
    assert risk_line([*wrong, p(-0.789, True, source="local")], 0.05) == NEVER
    # with a right answer among the surest, the bound decides as ever: 16 wrong kept beside it
    assert risk_line([*wrong, p(-0.3505, True, source="local")], 0.05) == pytest.approx(-0.365)


def test_a_kind_with_too_few_answers_for_a_bound_of_its_own_takes_the_line_over_all_answers():
    # 60 text answers, right down to -0.295; 30 calls: the 10 surest right, one wrong, then 19 right.
    # A call line of the calls' own could keep no wrong answer (30 < 39 at risk 0.05): it would stop
    # above the wrong one and send the 19 right calls below it to the teacher.
    texts = [p(-0.005 * k, True, source="local") for k in range(60)]
    calls = [p(-0.001 * k, True, call=True) for k in range(10)] + [p(-0.0105, False, call=True)]
    calls += [p(-0.011 - 0.001 * k, True, call=True) for k in range(19)]
    drawn = draw(texts + calls, method="risk", precision=0.9, risk=0.05)
    assert drawn["call_min_logprob"] == drawn["min_logprob"] == pytest.approx(-0.295)
    assert drawn["kept"] == 90 and drawn["kept_wrong"] == 1
    # with enough calls for a bound of their own, they get it
    more = calls + [p(-0.03 - 0.001 * k, True, call=True) for k in range(9)]
    assert draw(texts + more, method="risk", precision=0.9, risk=0.05)["call_min_logprob"] == pytest.approx(-0.038)


def test_the_regression_set_draws_no_line_as_it_holds_only_what_the_student_knew():
    # The traffic's sentences: 30 held-out and local answers, wrong from -0.05 down. At risk 0.1 they allow
    # two wrong kept, (2 + 1) / 31 ≤ 0.1; with the regression set's 60 sure right facts in the count the
    # bound would allow eight, and the line would fall to -0.19.
    traffic = [p(-0.001 * k, True, source="local") for k in range(20)]
    traffic += [p(-0.05 - 0.02 * k, False) for k in range(10)]
    facts = [p(-0.005 * k, True, source="regression") for k in range(60)]
    drawn = draw(traffic + facts, method="risk", precision=0.9, risk=0.1)
    assert drawn["min_logprob"] == pytest.approx(-0.07)
    assert drawn["n"] == 30 and drawn["kept"] == 22 and drawn["kept_wrong"] == 2
    # the regression answers alone draw nothing: with no traffic answer, the student keeps none
    assert draw(facts, method="risk", precision=0.9, risk=0.1)["min_logprob"] == 0.0


def test_points_are_kept_with_the_version_and_read_back(tmp_path):
    scores = [Scored(CALL, True, 1.0, -0.2, "call"), Scored("Paris", False, 0.3, -0.8, "judge")]
    scores.append(Scored('<tool_call>{"name": "teleport", "arguments": {}}</tool_call>', False, 0, -0.1, ""))
    scores.append(Scored("no confidence", True, 1.0, None, "judge"))
    pts = points(scores, "heldout")
    assert [(x.call, x.right) for x in pts] == [(True, True), (False, False), (False, False)]  # no such tool
    save(tmp_path, pts)
    assert load(tmp_path) == pts and load(tmp_path / "nowhere") == []


class _Scripted:
    """A student that says what it is given token by token, through the real StudentResponse."""

    def __init__(self, pieces):
        self.pieces = pieces

        class _Tok:
            def encode(self, text):
                return text.split()

        self.tokenizer = _Tok()

    def stream(self, messages, max_tokens=64):
        response = StudentResponse("scripted", messages, None, max_tokens)
        for piece in self.pieces:
            response._queue.put(Token(piece, -0.1))
        response._queue.put(_DONE)
        return response


def test_a_held_out_call_is_scored_as_the_call_the_student_wrote():
    # the call is read, never shown, so it is not in the response's text: the gate must still see it
    student = _Scripted(['<tool_call>{"name": "timer", ', '"arguments": {"minutes": 10}}', "</tool_call>"])
    item = Item([{"role": "user", "content": "ten minute timer"}], CALL, "call")
    report = evaluate(student, [item])
    assert report.scores[0].right and report.scores[0].answer == CALL


def test_a_held_out_call_is_scored_as_it_runs_for_the_query_and_judged_as_the_cascade_judges_it():
    # "40 minute countdown for the laundry" written without the name runs as the laundry timer: right as
    # the user gets it, and right for the line, which `call_doubt` also judges as it runs (not vetoed)
    from model.distill.calibration import vetoed

    query = "40 minute countdown for the laundry, please."
    named = '<tool_call>{"name": "timer", "arguments": {"minutes": 40, "label": "laundry"}}</tool_call>'
    student = _Scripted(['<tool_call>{"name": "timer", ', '"arguments": {"minutes": 40}}', "</tool_call>"])
    scored = evaluate(student, [Item([{"role": "user", "content": query}], named, "call")]).scores[0]
    assert scored.right and not vetoed(scored.answer, query)
    # a call wrong however it runs is still wrong
    student = _Scripted(['<tool_call>{"name": "timer", ', '"arguments": {"minutes": 4}}', "</tool_call>"])
    assert not evaluate(student, [Item([{"role": "user", "content": query}], named, "call")]).scores[0].right


class _Budgeted(_Scripted):
    """A scripted student that stops where its token budget ends, as a real one does: a call begun
    within the budget is read to its end, up to CALL_TOKENS more (tests/test_constrain.py holds the
    real student to that)."""

    def stream(self, messages, max_tokens=64):
        n = max_tokens
        while n < min(len(self.pieces), max_tokens + CALL_TOKENS) and inside_call("".join(self.pieces[:n])):
            n += 1
        response = _Scripted(self.pieces[:n]).stream(messages, max_tokens)
        response.finish_reason = "length" if inside_call("".join(self.pieces[:n])) or n < len(self.pieces) else "stop"
        return response


def test_a_right_answer_cut_by_a_budget_sized_for_the_reference_is_asked_again_whole():
    words = "The famous Colosseum is a very large old monument that is located in Rome".split()
    wordy = [words[0]] + [" " + w for w in words[1:]] + ["."]
    item = Item([{"role": "user", "content": "In which city is the Colosseum?"}], "Rome", "contains")
    whole = evaluate(_Budgeted(wordy), [item], max_tokens=48).scores[0]
    assert whole.right and whole.finished and whole.answer.endswith("Rome.")
    # within the cap and still cut: wrong, and marked as cut (the gate never replays such an answer)
    cut = evaluate(_Budgeted(wordy), [item], max_tokens=12).scores[0]
    assert not cut.right and not cut.finished


def test_a_call_longer_than_the_retention_budget_is_scored_whole():
    # a local reminder kept as its call: 60 pieces, past the retention set's 48 tokens
    text = ['<tool_call>{"name": "reminder", "arguments": {"minutes": 30, "text": "']
    call = text + ["x"] * 56 + ['"}}', "</tool_call>"]
    said = "".join(call)
    item = Item([{"role": "user", "content": "Remind me in 30 minutes."}], said)
    whole = evaluate(_Budgeted(call), [item], max_tokens=48).scores[0]
    assert whole.right and whole.finished and whole.answer == said
    # one that never closes is cut CALL_TOKENS past the budget, and is wrong
    endless = text + ["x"] * (48 + CALL_TOKENS + 10)
    cut = evaluate(_Budgeted(endless), [item], max_tokens=48).scores[0]
    assert not cut.right and not cut.finished


def test_a_call_that_computes_is_scored_by_what_it_shows_and_one_that_acts_is_not_run():
    calc = ['<tool_call>{"name": "calculate", ', '"arguments": ', '{"expression": ', '"4 * 10"}}', "</tool_call>"]
    # the teacher said it in words: "40" is two tokens, a budget of 11; the call is whole within it
    said = Item([{"role": "user", "content": "Multiply 4 by 10."}], "40", "number")
    report = evaluate(_Budgeted(calc), [said])
    assert report.scores[0].right and report.scores[0].answer.startswith("<tool_call>")
    # a call cut by a budget sized for a short sentence is asked again whole
    long_call = calc[:3] + ['"4'] + ["4"] * 12 + ['"}}', "</tool_call>"]  # "4444…" is not 40: scored, and wrong
    cut = evaluate(_Budgeted(long_call), [said], max_tokens=64).scores[0]
    assert cut.answer.endswith("</tool_call>") and not cut.right
    # a logged example whose teacher answered with the call itself (no check named): compared as calls
    logged = Item([{"role": "user", "content": "Multiply 4 by 10."}], calc[0] + "".join(calc[1:]))
    assert evaluate(_Budgeted(calc), [logged]).scores[0].right
    wrong = Item(logged.messages, logged.reference.replace("4 * 10", "4 * 11"))
    assert not evaluate(_Budgeted(calc), [wrong]).scores[0].right
    # a call that sets something is never run by the gate: against a text reference it is not right
    timer = ['<tool_call>{"name": "timer", ', '"arguments": {"minutes": 10}}', "</tool_call>"]
    words = Item([{"role": "user", "content": "ten minute timer"}], "Timer set for 10 minutes.", "contains")
    assert not evaluate(_Budgeted(timer), [words]).scores[0].right


def test_a_cascade_call_stands_at_the_call_line_and_a_sentence_at_the_text_line():
    def response(pieces):
        r = _Scripted(pieces).stream([])
        r.complete()
        return r

    call = response([CALL])
    assert call.tool_call is not None and call.confidence == pytest.approx(-0.1)
    assert CascadeStep(call, line=-0.05, call_line=-0.5).sure
    assert not CascadeStep(call, line=-0.05).sure  # no call line: the text line decides
    sentence = response(["Paris."])
    assert not CascadeStep(sentence, line=-0.05, call_line=-0.5).sure
    assert CascadeStep(sentence, line=-0.5).sure


def test_a_sure_sentence_the_calendar_contradicts_does_not_stand():
    def response(pieces):
        r = _Scripted(pieces).stream([])
        r.complete()
        return r

    wrong = CascadeStep(
        response(["The day after Tuesday is Friday."]), line=-100.0, query="What day comes after Tuesday?"
    )
    assert wrong.confident
    assert wrong.words_doubt == "its answer says “day after Tuesday is Friday”, where the calendar says Wednesday"
    # its words cannot stand; the computation it named, for the day asked about, is the clock's to answer
    assert wrong.computed == ToolCall("clock", {"date": "Tuesday", "days": 1}) and wrong.sure
    assert "the clock tool answers what it named" in wrong.why_sure
    right = CascadeStep(response(["The day after Tuesday is Wednesday."]), line=-100.0)
    assert right.sure and right.words_doubt is None and right.computed is None


def test_a_sure_sentence_that_counts_months_wrong_is_answered_by_the_clock():
    r = _Scripted(["5 months after September is December."]).stream([])
    r.complete()
    step = CascadeStep(r, line=-100.0, query="what month will it be 5 months after september")
    assert step.words_doubt is not None and "February" in step.words_doubt
    assert step.computed == ToolCall("clock", {"date": "September", "months": 5}) and step.sure


def test_a_false_claim_with_the_numbers_the_wrong_way_round_is_computed_in_the_order_said():
    from assistant.tools.as_said import as_said

    r = _Scripted(["19 - 100 = 9"]).stream([])
    r.complete()
    query = "If I take 19 away from 100, what's left?"
    step = CascadeStep(r, line=-100.0, query=query)
    assert step.sure and step.computed is not None
    assert as_said(query, step.computed) == ToolCall("calculate", {"expression": "100 - 19"})  # as it runs: 81


@pytest.mark.parametrize(
    "said, query",
    [
        ("The day after Tuesday is Friday.", "What day comes before Tuesday?"),  # not the day asked about
        ("The day after Tuesday is Friday.", "What is 3 days after Monday?"),  # another day counted from
        ("19 - 100 = 9", "If I take 19 away from 200, what's left?"),  # numbers not said
        ("The day after Tuesday is Friday. It is a weekday.", "What day comes after Tuesday?"),  # more than a claim
    ],
)
def test_a_false_claim_about_anything_but_what_was_asked_is_sent_on(said, query):
    r = _Scripted([said]).stream([])
    r.complete()
    step = CascadeStep(r, line=-100.0, query=query)
    assert step.computed is None and not step.sure


def test_a_false_claim_that_counts_other_days_from_the_day_asked_runs_counting_the_days_asked():
    """The student counted from the right weekday and got the count wrong: the clock counts the days said."""
    from assistant.tools.as_said import as_said

    query = "What is 3 days after Tuesday?"
    r = _Scripted(["The day after Tuesday is Friday."]).stream([])
    r.complete()
    step = CascadeStep(r, line=-100.0, query=query)
    assert step.sure and as_said(query, step.computed) == ToolCall("clock", {"date": "Tuesday", "days": 3})


def test_an_unsure_sentence_a_tool_shows_for_the_question_asked_stands():
    def step(said, query):
        r = _Scripted([said]).stream([])
        r.complete()
        return CascadeStep(r, line=0.0, query=query)  # a line no answer clears: unsure, every one

    # the calendar shows it, and the call that shows it counts after the day the user named
    assert step("The day after Sunday is Monday.", "What day comes after Sunday?").sure
    assert step("The month after December is January.", "Which month comes after December?").sure
    assert step("44 divided by 4 equals 11.", "What is 44 divided by 4?").sure
    # shown, but not for the question asked, or not shown at all: the line decides, and it is unsure
    assert not step("The day after Sunday is Monday.", "What day comes before Sunday?").sure
    assert not step("12 × 4 = 48.", "What is 12 times 5?").sure
    # shown by a call the tool would run otherwise for the question: the sentence answers another one
    assert not step("3 - 10 = -7.", "What is 10 minus 3?").sure
    assert not step("Two days after Sunday is Tuesday.", "What day comes after Sunday?").sure
    assert not step("The capital of Kenya is Nairobi.", "What is the capital of Kenya?").sure


def test_a_bad_calibration_setting_is_a_sentence(monkeypatch):
    from assistant import config

    monkeypatch.setenv("APPRENTICE_CASCADE_CALIBRATION", "vibes")
    with pytest.raises(ApprenticeError, match="cascade_calibration must be one of risk, precision"):
        config.load()
    monkeypatch.setenv("APPRENTICE_CASCADE_CALIBRATION", "risk")
    monkeypatch.setenv("APPRENTICE_CASCADE_RISK", "1.5")
    with pytest.raises(ApprenticeError, match="cascade_risk"):
        config.load()


def test_replay_rehearses_only_everyday_answers_that_ended_on_their_own_in_words(monkeypatch):
    from assistant import config
    from model.distill import training

    queries = [row["query"] for row in training.read_jsonl(config.assets_dir() / "distill" / training.EVERYDAY_FILE)]
    said = {}

    class _Student(_Budgeted):
        """Rambles on the first query asked, calls a tool on the second, answers the rest in a sentence."""

        def __init__(self):
            super().__init__([])

        def stream(self, messages, max_tokens=64):
            query = messages[-1]["content"]
            order = said.setdefault(query, len(said))
            self.pieces = ["Well"] + [" and"] * 99 if order == 0 else [CALL] if order == 1 else ["Fine", ", thanks."]
            return super().stream(messages, max_tokens)

        def close(self):
            pass

    monkeypatch.setattr(training, "student_for", lambda *a, **k: _Student())
    active = type("Active", (), {"path": None, "name": "base", "adapter_path": None})()
    rows = training.everyday_answers(active, config.Settings(), wanted=3, seed=0)

    assert len(said) == 5 and set(said) <= set(queries)  # two more asked in place of the two left out
    assert [r["answer"] for r in rows] == ["Fine, thanks."] * 3
    assert {r["query"] for r in rows} == {q for q, order in said.items() if order >= 2}
    assert training.everyday_answers(active, config.Settings(), wanted=0, seed=0) == []


def test_a_text_line_over_too_few_sentences_is_marked_as_not_its_own():
    calls = [p(-0.001 * k, True, call=True) for k in range(30)]
    few = [p(-0.3 - 0.01 * k, True, source="local") for k in range(5)]
    drawn = draw(calls + few, method="risk", precision=0.9, risk=0.05)
    assert drawn["text_own"] is False and drawn["min_logprob"] == drawn["call_min_logprob"]
    many = [p(-0.3 - 0.01 * k, True, source="local") for k in range(40)]
    drawn = draw(calls + many, method="risk", precision=0.9, risk=0.05)
    assert drawn["text_own"] is True and drawn["min_logprob"] == pytest.approx(-0.69)


def _distilled(name: str, checkpoint, cascade: dict, fine_tune_type: str = "lora", parent: str = "tiny"):
    """A registered version with an adapter folder (what `cascade_line` reads; no model is loaded)."""
    import json

    from assistant.models import registry

    staging = registry.staging_folder(name)
    (staging / "adapter_config.json").write_text(json.dumps({"fine_tune_type": fine_tune_type}))
    (staging / "adapters.safetensors").write_bytes(b"")
    version = registry.new_version(
        name, source="distill", bits=32, parent=parent, external_path=str(checkpoint), info={"cascade": cascade}
    )
    registry.register(staging, version, make_active=True)


def test_a_base_students_sentences_stand_by_the_configured_line_when_the_version_drew_none_for_them(
    home, monkeypatch, tiny_checkpoint
):
    # A day-1 version: 20 held-out calls and 6 sentences, so its text line is the pooled one (-0.003),
    # which would send every sentence the base student kept before distilling to the teacher.
    from assistant.core import Assistant

    pooled = {"min_logprob": -0.003, "call_min_logprob": -0.003, "text_own": False}
    _distilled("distill-1", tiny_checkpoint, pooled)
    configured = config.Settings().cascade_min_logprob
    assert Assistant().cascade_line() == configured  # the configured line: the base student's words
    assert Assistant().cascade_line("call") == -0.003  # its calls are its own
    monkeypatch.setenv("APPRENTICE_STUDENT_WORDS_FROM_BASE", "0")  # its words are the adapter's
    assert Assistant().cascade_line() == -0.003
    monkeypatch.delenv("APPRENTICE_STUDENT_WORDS_FROM_BASE")
    _distilled("distill-2", tiny_checkpoint, pooled, fine_tune_type="dora")  # DoRA keeps its own words
    assert Assistant().cascade_line() == -0.003
    _distilled("distill-3", tiny_checkpoint, {**pooled, "text_own": True})  # drawn on sentences of its own
    assert Assistant().cascade_line() == -0.003
    _distilled("distill-4", tiny_checkpoint, {"min_logprob": -0.2})  # drawn before lines were marked: as drawn
    assert Assistant().cascade_line() == -0.2


def test_a_distilled_students_base_words_stand_by_the_line_its_base_carries(home, tiny_checkpoint):
    # Gemma as pulled carries a line that keeps none of its sentences; distilled, its sentences are
    # still Gemma's, so they keep standing by that line and not by the one configured for the default student.
    from assistant.core import Assistant
    from assistant.models import registry

    pulled = registry.new_version(
        "gemma", source="test", bits=32, external_path=str(tiny_checkpoint), info={"cascade": {"min_logprob": 0.0}}
    )
    registry.register(registry.staging_folder("gemma"), pulled, make_active=True)
    pooled = {"min_logprob": -0.003, "call_min_logprob": -0.003, "text_own": False}
    _distilled("distill-1", tiny_checkpoint, pooled, parent="gemma")
    _distilled("distill-2", tiny_checkpoint, pooled, parent="distill-1")
    registry.remove("distill-1")  # the one it was distilled from is gone; its base checkpoint is not
    assert Assistant().cascade_line() == 0.0
    assert Assistant().cascade_line("call") == -0.003  # its calls are the adapter's, by its own line


def test_a_call_the_cascade_would_send_on_is_no_risk_to_the_line():
    # 45 held-out calls, right down to -0.05 but for two wrong ones near the top: at risk 0.05 the
    # bound allows one wrong kept, so the line would stop above the second. When both are calls the
    # cascade sends on however sure (a reminder with no time), no line keeps them, and it falls past.
    calls = [p(-0.001 * k, True, call=True) for k in range(43)]
    wrong = [Point(-0.0015, False, True, "heldout", vetoed=True), Point(-0.0025, False, True, "heldout", vetoed=True)]
    drawn = draw(calls + wrong, method="risk", precision=0.9, risk=0.05)
    assert drawn["call_min_logprob"] == pytest.approx(-0.042)
    assert drawn["kept"] == 43 and drawn["kept_wrong"] == 0
    seen = [Point(x.confidence, x.right, x.call, x.source) for x in wrong]  # the same answers, not vetoed
    assert draw(calls + seen, method="risk", precision=0.9, risk=0.05)["call_min_logprob"] == pytest.approx(-0.002)


def test_points_mark_the_calls_the_cascade_would_send_on(tmp_path):
    reminder = '<tool_call>{"name": "reminder", "arguments": {"text": "water the plants at 9 pm"}}</tool_call>'
    timer = '<tool_call>{"name": "timer", "arguments": {"minutes": 50}}</tool_call>'
    said = (reminder, timer, timer, "Paris.", "The month after February is December.")
    scores = [Scored(a, False, 0.0, -0.01, "call") for a in said]
    asked = ["Remind me to water the plants at 9 pm.", "Set a timer for 5 minutes.", "Set a 50 minute timer.", "?", "?"]
    pts = points(scores, "heldout", asked)
    # no time; a number not said; as said; words with no claim shown false; a claim the calendar contradicts
    assert [x.vetoed for x in pts] == [True, True, False, False, True]
    save(tmp_path, pts)
    assert load(tmp_path) == pts

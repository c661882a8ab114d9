"""Hard queries go to the teacher only as the privacy mode allows, redacted, after consent;
every fallback is recorded; a failing teacher never costs the user an answer.
The real Assistant, the tiny random student, the real SDK and the fake Gemini over HTTP."""

import json
import os
import socket
import stat

import pytest

from assistant import config
from assistant.cli import main
from assistant.core import Assistant
from assistant.store import Store
from tests.conftest import sent_requests

WEATHER = "What's the weather in Paris tomorrow?"


def run(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def ask(capsys, *args):
    code, out, err = run(capsys, "ask", *args, "--json", "--max-tokens", "8")
    assert code == 0, err
    return json.loads(out)


def test_auto_sends_a_live_query_to_the_teacher_and_logs_the_example(capsys, tiny_student, gemini):
    fake = gemini(answers={WEATHER: "Sunny and 21 °C in Paris tomorrow."})
    data = ask(capsys, WEATHER, "--mode", "auto")
    assert data["route"] == "cloud" and data["model"] == "gemini-2.5-flash"
    assert "live information" in data["reason"] and data["answer"] == "Sunny and 21 °C in Paris tomorrow."
    code, out, _ = run(capsys, "log", "list", "--examples", "--json")
    (example,) = json.loads(out)
    assert example["turn_id"] == data["turn_id"] and example["query_sent"] == WEATHER
    assert example["teacher_answer"] == data["answer"] and example["consent"] == "auto"
    assert {"example_id", "student_answer", "student_confidence", "teacher_model", "created"} <= set(example)
    assert len(sent_requests(fake)) == 1


def test_private_mode_opens_no_socket_at_all(capsys, tiny_student, gemini, monkeypatch):
    fake = gemini(answers={WEATHER: "Sunny."})
    connects = []
    real_connect = socket.socket.connect

    def guard(self, address):
        connects.append(address)
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guard)
    data = ask(capsys, WEATHER, "--mode", "private")
    assert data["route"] == "local" and data["reason"].startswith("private mode")
    assert connects == [] and sent_requests(fake) == []
    code, _, err = run(capsys, "ask", WEATHER, "--mode", "private", "--cloud")
    assert code == 2 and "refused in private mode" in err
    assert connects == []


def test_private_until_a_key_is_set_then_ask(tiny_student, gemini, monkeypatch):
    assert Assistant().default_mode() == "private"
    gemini()
    assert Assistant().default_mode() == "ask"
    monkeypatch.setenv("APPRENTICE_MODE", "auto")
    assert Assistant(config.load()).default_mode() == "auto"


def test_what_leaves_is_redacted_and_the_user_sees_the_original(capsys, tiny_student, gemini):
    fake = gemini(answers={"Write to [EMAIL_1] about the weather today": "Done: I wrote to [EMAIL_1]."})
    data = ask(capsys, "Write to ada@example.com about the weather today", "--mode", "auto")
    assert data["answer"] == "Done: I wrote to ada@example.com."
    body = json.dumps(sent_requests(fake))
    assert "ada@example.com" not in body and "[EMAIL_1]" in body
    (example,) = Store().examples()
    assert example["query_sent"] == "Write to [EMAIL_1] about the weather today"  # logged as sent
    assert "ada@example.com" not in example["teacher_answer"]
    assert any("redacted" in n for n in data["notes"])


@pytest.mark.parametrize("says_yes", [True, False])
def test_ask_mode_shows_the_exact_redacted_text_and_obeys(tiny_student, gemini, says_yes):
    fake = gemini(answers={"Is call [PHONE_1] the latest number?": "I cannot check that."})
    shown = []

    def consent(text):
        shown.append(text)
        return says_yes

    answer = Assistant().answer("Is call +44 20 7946 0958 the latest number?", mode="ask", consent=consent)
    text = "".join(answer)
    assert shown == ["Is call [PHONE_1] the latest number?"]
    if says_yes:
        assert answer.decision.route == "cloud" and text == "I cannot check that."
        assert [r["body"]["contents"][-1]["parts"][0]["text"] for r in sent_requests(fake)] == shown
    else:
        assert answer.decision.route == "local" and "You kept this query on this machine." in answer.notes
        assert sent_requests(fake) == [] and Store().examples(include_failed=True) == []


def test_ask_mode_without_a_terminal_stays_local_and_says_so(capsys, tiny_student, gemini):
    fake = gemini(answers={WEATHER: "Sunny."})
    data = ask(capsys, WEATHER, "--mode", "ask")  # pytest has no terminal to ask on
    assert data["route"] == "local" and any("no one to ask" in n for n in data["notes"])
    assert sent_requests(fake) == []


@pytest.mark.parametrize("fault", ["503", "garbage", "429::60s"])
def test_a_failing_teacher_still_gets_the_user_an_answer(capsys, tiny_student, gemini, monkeypatch, fault):
    monkeypatch.setenv("APPRENTICE_TEACHER_RETRIES", "1")
    gemini(answers={WEATHER: "Sunny."}, faults=[fault])
    data = ask(capsys, WEATHER, "--mode", "auto")
    assert data["route"] == "local" and data["model"] == "tiny" and data["tokens"] == 8
    assert any("Gemini could not answer" in n for n in data["notes"])
    assert Store().turn(data["turn_id"])["query"] == WEATHER  # the query is never lost
    assert Store().examples() == []  # no training example from a failure…
    (failed,) = Store().examples(include_failed=True)  # …but the audit trail says what left
    assert failed["status"] == "failed" and failed["query_sent"] == WEATHER


def test_a_cut_stream_is_not_stored_as_an_example(capsys, tiny_student, gemini):
    gemini(answers={WEATHER: "one two three four five six seven eight nine ten eleven twelve"}, faults=["cut"])
    data = ask(capsys, WEATHER, "--mode", "auto")
    assert data["route"] == "local" and "student's answer follows" in data["answer"]
    assert Store().examples() == []


def test_no_log_still_records_what_left(capsys, tiny_student, gemini):
    gemini(answers={WEATHER: "Sunny."})
    data = ask(capsys, WEATHER, "--mode", "auto", "--no-log")
    assert data["turn_id"] is None and data["route"] == "cloud"
    assert Store().turns() == []
    (example,) = Store().examples()
    assert example["turn_id"] is None and example["query_sent"] == WEATHER


def test_the_daily_cap_keeps_answers_local(capsys, tiny_student, gemini, monkeypatch):
    monkeypatch.setenv("APPRENTICE_TEACHER_DAILY_CAP", "1")
    fake = gemini(answers={WEATHER: "Sunny."})
    assert ask(capsys, WEATHER, "--mode", "auto")["route"] == "cloud"
    second = ask(capsys, WEATHER, "--mode", "auto")
    assert second["route"] == "local" and any("limit of 1" in n for n in second["notes"])
    assert len(sent_requests(fake)) == 1


def test_the_cascade_escalates_an_unsure_student_and_the_router_learns(tiny_student, gemini):
    # The tiny random student is never sure, so every unfamiliar query escalates, and its
    # answer is judged against the teacher's: an outcome the router uses for similar queries.
    gemini(answers={"Who wrote the novel Middlemarch?": "George Eliot wrote Middlemarch."})
    assistant = Assistant()
    first = assistant.answer("Who wrote the novel Middlemarch?", mode="auto")
    assert "".join(first) == "George Eliot wrote Middlemarch."
    assert first.decision.route == "cloud" and "the student was unsure" in first.decision.reason
    (example,) = Store().examples()
    configured = config.Settings().cascade_min_logprob
    assert example["student_answer"] is not None and example["student_confidence"] < configured
    outcomes = Store().outcomes("tiny")
    assert len(outcomes) == 1 and outcomes[0]["wrong"] == 1
    second = assistant.answer("Who was the author of Middlemarch?", mode="auto")
    "".join(second)
    assert second.decision.route == "cloud"
    assert "1 answered wrong by the student" in second.decision.reason and "Middlemarch" in second.decision.reason


def test_a_sure_student_keeps_its_answer(tiny_student, gemini, monkeypatch):
    monkeypatch.setenv("APPRENTICE_CASCADE_MIN_LOGPROB", "-100")
    fake = gemini()
    answer = Assistant().answer("Tell me about rivers", mode="auto")
    text = "".join(answer)
    assert answer.decision.route == "local" and "the student was sure" in answer.decision.reason
    assert text == Store().turns()[0]["answer"] and sent_requests(fake) == []


def test_a_distilled_version_decides_with_its_own_calibrated_line(tiny_checkpoint, home, gemini):
    # The configured line would escalate the tiny student's answer; a version whose
    # held-out answers were right down to -100 keeps it, and a line of 0.0 keeps nothing.
    from assistant.models import registry

    fake = gemini(answers={"Tell me about rivers": "Rivers flow."})
    for name, line in (("calibrated", -100.0), ("strict", 0.0)):
        staging = registry.staging_folder(name)
        version = registry.new_version(
            name, source="test", bits=32, external_path=str(tiny_checkpoint), info={"cascade": {"min_logprob": line}}
        )
        registry.register(staging, version, make_active=True)
        answer = Assistant().answer("Tell me about rivers", mode="auto")
        "".join(answer)
        assert answer.decision.route == ("local" if name == "calibrated" else "cloud"), answer.decision.reason
    assert len(sent_requests(fake)) == 1


def test_marking_an_answer_bad_sends_similar_queries_to_the_teacher(capsys, tiny_student, gemini):
    first = ask(capsys, "What is the tallest mountain in Africa?")  # private: the student answers
    assert first["route"] == "local"
    code, _, err = run(capsys, "log", "bad", str(first["turn_id"]))
    assert code == 0 and "similar queries" in err
    gemini(answers={"Which is the highest mountain in Africa?": "Kilimanjaro."})
    data = ask(capsys, "Which is the highest mountain in Africa?", "--mode", "auto")
    assert data["route"] == "cloud" and "answered wrong by the student" in data["reason"]


def test_export_writes_mlx_chat_jsonl(capsys, tiny_student, gemini, tmp_path):
    gemini(answers={WEATHER: "Sunny."})
    ask(capsys, WEATHER, "--mode", "auto")
    out = tmp_path / "train.jsonl"
    code, _, err = run(capsys, "log", "export", "--examples", "--format", "mlx", "-o", str(out))
    assert code == 0
    (line,) = [json.loads(line_) for line_ in out.read_text().splitlines()]
    assert line == {"messages": [{"role": "user", "content": WEATHER}, {"role": "assistant", "content": "Sunny."}]}


def test_keys_set_stores_the_key_privately_and_never_shows_it(capsys, home, monkeypatch, tiny_student):
    import io

    key = "AIzaSyExampleKeyThatIsLongEnough123"
    monkeypatch.setattr("sys.stdin", io.StringIO(key + "\n"))
    code, out, err = run(capsys, "keys", "set", "gemini")
    assert code == 0 and key not in out + err
    path = home / "keys" / "gemini"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    code, out, err = run(capsys, "keys", "status")
    assert "set, from the key file" in out and key not in out + err
    ask(capsys, "hello")
    assert key.encode() not in (home / "apprentice.db").read_bytes()


def test_a_kept_answer_is_remembered_as_weak_evidence_and_doubt_takes_it_back(
    capsys, tiny_student, gemini, monkeypatch
):
    """The router's memory holds the student's sure answers too, not only its failures: a kept answer
    counts as a third of a wrong one's weight toward the teacher (`KEPT_WRONG`), under the line where
    the cascade's check would be skipped. The user's /bad takes it back."""
    from assistant.embedder import shared
    from assistant.outcomes import KEPT_WRONG

    monkeypatch.setenv("APPRENTICE_CASCADE_MIN_LOGPROB", "-100")
    fake = gemini()
    shared().encode(["warm the embedder"])  # loaded, as in a session that has routed before
    assistant = Assistant()
    for query in ("Tell me about rivers", "Tell me about lakes", "Tell me about the rivers of Europe"):
        answer = assistant.answer(query, mode="auto")
        "".join(answer)
        assert answer.decision.route == "local" and "the student was sure" in answer.decision.reason
    assert sent_requests(fake) == []
    kept = Store().outcomes("tiny")
    assert [(o["query"], o["wrong"], o["origin"]) for o in kept][0] == ("Tell me about rivers", KEPT_WRONG, "kept")
    assert len(kept) == 3
    last = assistant.answer("Tell me about rivers, please", mode="auto")
    "".join(last)
    # three kept neighbours pull the score under the prior (0.45) but never to "local" (0.3): the cascade still checks
    assert last.decision.score is not None and 0.3 < last.decision.score < 0.45
    assert "kept by the student, sure of it" in last.decision.reason
    code, _, err = run(capsys, "log", "bad", str(last.turn_id))
    assert code == 0, err
    rows = Store().db.query("SELECT query, origin FROM outcomes WHERE turn_id = ?", [last.turn_id])
    assert [(r["query"], r["origin"]) for r in rows] == [("Tell me about rivers, please", "marked_bad")]


def student_writes(call: str, checkpoint, monkeypatch) -> None:
    """Push the tiny student's answers toward `call`'s tokens (as tests/test_constrain.py does), with
    the sentence templates off so that the student, not the fast path, makes the call."""
    from mlx_lm.utils import load_tokenizer

    from assistant.tools import constrain
    from tests.test_constrain import Force

    target = load_tokenizer(checkpoint).encode(call, add_special_tokens=False)
    real = getattr(constrain.processors, "unforced", constrain.processors)  # one push at a time

    def forced(student, query=None):
        return [Force(target)] + real(student, query)

    forced.unforced = real
    monkeypatch.setattr(constrain, "processors", forced)
    monkeypatch.setenv("APPRENTICE_FAST_PATH", "0")


def test_a_sure_call_that_cannot_compute_goes_to_the_teacher(tiny_student, gemini, monkeypatch, tiny_checkpoint):
    """However sure the student is, a calculation its tool cannot read is no answer: the teacher is asked.
    A call that computes stays local, and in private mode the tool's sentence says what went wrong."""
    monkeypatch.setenv("APPRENTICE_CASCADE_MIN_LOGPROB", "-100")  # every answer is sure by its confidence
    query = "Multiply 12 by 3."
    fake = gemini(answers={query: "12 × 3 = 36"})
    student_writes(
        '<tool_call>{"name": "calculate", "arguments": {"expression": "multiply 12 by 3"}}',
        tiny_checkpoint,
        monkeypatch,
    )
    answer = Assistant().answer(query, mode="auto")
    assert "".join(answer) == "12 × 3 = 36"
    assert answer.decision.route == "cloud" and "its call could not run (I cannot read" in answer.decision.reason
    assert len(sent_requests(fake)) == 1
    private = Assistant().answer(query, mode="private")
    assert "I cannot read" in "".join(private) and private.decision.route == "local"
    student_writes(
        '<tool_call>{"name": "calculate", "arguments": {"expression": "12 * 3"}}', tiny_checkpoint, monkeypatch
    )
    kept = Assistant().answer(query, mode="auto")
    assert "36" in "".join(kept) and kept.decision.route == "local" and "the student was sure" in kept.decision.reason
    assert len(sent_requests(fake)) == 1


def test_a_sure_sentence_the_calendar_contradicts_goes_to_the_teacher(
    tiny_student, gemini, monkeypatch, tiny_checkpoint
):
    """However sure the student is, "The day after Tuesday is Friday." is no answer: the teacher is
    asked, and the reason says what the calendar says. The right sentence stays local."""
    monkeypatch.setenv("APPRENTICE_CASCADE_MIN_LOGPROB", "-100")  # every answer is sure by its confidence
    query = "What day comes after Tuesday?"
    fake = gemini(answers={query: "Wednesday."})
    student_writes("The day after Tuesday is Friday.", tiny_checkpoint, monkeypatch)
    answer = Assistant().answer(query, mode="auto")
    assert "".join(answer) == "Wednesday."
    assert answer.decision.route == "cloud" and "where the calendar says Wednesday" in answer.decision.reason
    assert len(sent_requests(fake)) == 1
    student_writes("The day after Tuesday is Wednesday.", tiny_checkpoint, monkeypatch)
    kept = Assistant().answer(query, mode="auto")
    assert "".join(kept).startswith("The day after Tuesday is Wednesday.")
    assert kept.decision.route == "local" and "the student was sure" in kept.decision.reason
    assert len(sent_requests(fake)) == 1


def test_a_sure_call_with_a_number_the_user_did_not_say_goes_to_the_teacher(
    tiny_student, gemini, monkeypatch, tiny_checkpoint
):
    """A call that runs but holds a number the query does not (a year made up for "April 9") is no
    answer however sure the student is: the teacher is asked, and the reason names the number. The
    same call with the user's own numbers stays local."""
    monkeypatch.setenv("APPRENTICE_CASCADE_MIN_LOGPROB", "-100")  # every answer is sure by its confidence
    query = "How many days until April 9?"
    fake = gemini(answers=[{"query": query, "call": {"name": "clock", "arguments": {"to_date": "April 9"}}}])
    student_writes(
        '<tool_call>{"name": "clock", "arguments": {"to_date": "April 9, 2022"}}', tiny_checkpoint, monkeypatch
    )
    answer = Assistant().answer(query, mode="auto")
    shown = "".join(answer)
    assert answer.decision.route == "cloud" and "its call holds 2022, which you did not say" in answer.decision.reason
    assert len(sent_requests(fake)) == 1 and "ago" not in shown
    student_writes('<tool_call>{"name": "clock", "arguments": {"to_date": "April 9"}}', tiny_checkpoint, monkeypatch)
    kept = Assistant().answer(query, mode="auto")
    "".join(kept)
    assert kept.decision.route == "local" and "the student was sure" in kept.decision.reason
    assert len(sent_requests(fake)) == 1


def test_a_sure_reminder_that_would_never_ring_goes_to_the_teacher(tiny_student, gemini, monkeypatch, tiny_checkpoint):
    """A reminder whose time is only in its words ("water the plants at 9 pm", no time set) is refused by
    the reminder tool whenever it runs: the cascade asks the tool before anything is set, and the
    teacher's reminder is the one set. Private mode shows the tool's sentence, and sets nothing."""
    monkeypatch.setenv("APPRENTICE_CASCADE_MIN_LOGPROB", "-100")  # every answer is sure by its confidence
    # The call constraint would not let this call close (a number was said, and it holds no time:
    # tests/test_constrain.py); the tool's own check behind it is what is tested here.
    monkeypatch.setenv("APPRENTICE_CONSTRAIN_CALLS", "0")
    query = "Set a reminder to water the plants at 9 pm."
    call = {"name": "reminder", "arguments": {"text": "water the plants", "time": "9 pm"}}
    fake = gemini(answers=[{"query": query, "call": call}])
    student_writes(
        '<tool_call>{"name": "reminder", "arguments": {"text": "water the plants at 9 pm"}}',
        tiny_checkpoint,
        monkeypatch,
    )
    answer = Assistant().answer(query, mode="auto")
    shown = "".join(answer)
    assert (
        answer.decision.route == "cloud" and "its call could not run (Say when to remind you" in answer.decision.reason
    )
    assert len(sent_requests(fake)) == 1 and "at 21:00" in shown
    assert [t["label"] for t in Store().timers()] == ["water the plants"]
    private = Assistant().answer(query, mode="private")
    assert "Say when to remind you" in "".join(private) and len(Store().timers()) == 1


def test_a_call_the_teacher_also_made_is_remembered_as_right(tiny_student, gemini, monkeypatch, tiny_checkpoint):
    """The cascade escalates the student's tool call; the teacher makes the same call. The router must
    remember the student as right (a call is not in the shown text, so judging the text alone would
    call every escalated call wrong and send its whole kind of query to the teacher), the log must keep
    the call the student wrote, and a new student judged again after a promotion is read the same way."""
    call = '<tool_call>{"name": "timer", "arguments": {"minutes": 10}}</tool_call>'
    student_writes(call, tiny_checkpoint, monkeypatch)
    monkeypatch.setenv("APPRENTICE_CASCADE_MIN_LOGPROB", "0")  # nothing is sure: the cascade escalates
    query = "Set a timer for ten minutes"
    fake = gemini(answers=[{"query": query, "call": {"name": "timer", "arguments": {"minutes": 10}}}])
    answer = Assistant().answer(query, mode="auto")
    "".join(answer)
    assert answer.decision.route == "cloud" and "the student was unsure" in answer.decision.reason
    assert len(sent_requests(fake)) == 1
    (example,) = Store().examples()
    assert example["student_answer"].startswith(call) and example["teacher_answer"] == call
    (outcome,) = Store().outcomes("tiny")
    assert (outcome["wrong"], outcome["origin"]) == (0, "judged")
    # After a promotion the memory is judged again with the new student: its call is read as a call too.
    from assistant.outcomes import rejudge
    from assistant.student import Student

    student = Student(tiny_checkpoint, name="next", context_tokens=512)
    try:
        rejudged = rejudge(Store(), student, previous="tiny", seconds=60, agree_similarity=0.8)
    finally:
        student.close()
    assert (rejudged.rejudged, rejudged.now_right) == (1, 1)
    assert [(o["wrong"], o["origin"]) for o in Store().outcomes("next")] == [(0, "rejudged")]


# counted from another day, the call shows another weekday (a count of other days from the day said
# runs as said: `as_said.with_supposed_said`)
@pytest.mark.parametrize("day, wrong", [("Saturday", 0), ("Sunday", 1)])
def test_a_computing_call_the_teacher_answered_in_words_is_judged_by_what_it_shows(
    tiny_student, gemini, monkeypatch, tiny_checkpoint, day, wrong
):
    """The student hands "4 days after Saturday" to the clock and the teacher answers in words. The
    router remembers the student right when what the call shows says what the teacher said (else a
    student that learned to use the clock would send its whole kind of query to the teacher), and
    wrong when it does not; a new student judged again after a promotion is read the same way."""
    call = f'<tool_call>{{"name": "clock", "arguments": {{"date": "{day}", "days": 4}}}}</tool_call>'
    student_writes(call, tiny_checkpoint, monkeypatch)
    monkeypatch.setenv("APPRENTICE_CASCADE_MIN_LOGPROB", "0")  # nothing is sure: the cascade escalates
    query = "What day of the week is 4 days after Saturday?"
    fake = gemini(answers={query: "4 days after Saturday is Wednesday."})
    answer = Assistant().answer(query, mode="auto")
    assert "".join(answer) == "4 days after Saturday is Wednesday."
    assert answer.decision.route == "cloud" and len(sent_requests(fake)) == 1
    (outcome,) = Store().outcomes("tiny")
    assert (outcome["wrong"], outcome["origin"]) == (wrong, "judged")
    from assistant.outcomes import rejudge
    from assistant.student import Student

    student = Student(tiny_checkpoint, name="next", context_tokens=512)
    try:
        rejudged = rejudge(Store(), student, previous="tiny", seconds=60, agree_similarity=0.8)
    finally:
        student.close()
    assert (rejudged.rejudged, rejudged.now_right) == (1, 1 - wrong)


def test_a_call_the_router_left_to_the_student_is_checked_before_it_runs(
    tiny_student, gemini, monkeypatch, tiny_checkpoint
):
    """The router trusts the student with a query (no past queries, a low prior): its call, read and never
    shown, still has to hold the numbers the user said. One that does not goes to the teacher, and the
    timer set is the user's; the user's own numbers stay local. Private mode, and a note, never leave."""
    monkeypatch.setenv("APPRENTICE_ROUTER_PRIOR", "0.1")  # at or below the local threshold: the student alone
    query = "Set a timer for 5 minutes."
    fake = gemini(answers=[{"query": query, "call": {"name": "timer", "arguments": {"minutes": 5}}}])
    student_writes('<tool_call>{"name": "timer", "arguments": {"minutes": 5}}', tiny_checkpoint, monkeypatch)
    kept = Assistant().answer(query, mode="auto")
    assert "5 minutes" in "".join(kept) and kept.decision.route == "local" and sent_requests(fake) == []
    student_writes('<tool_call>{"name": "timer", "arguments": {"minutes": 50}}', tiny_checkpoint, monkeypatch)
    answer = Assistant().answer(query, mode="auto")
    shown = "".join(answer)
    assert answer.decision.route == "cloud", answer.decision.reason
    assert "the student should know" in answer.decision.reason
    assert "its call holds 50, which you did not say" in answer.decision.reason
    # "50 minutes", not "50": the ring time shown ("it rings at 07:50") may hold 50
    assert "5 minutes" in shown and "50 minutes" not in shown and len(sent_requests(fake)) == 1
    private = Assistant().answer(query, mode="private")  # nothing leaves: the call runs as written
    assert "50 minutes" in "".join(private) and private.decision.route == "local"
    note = "Remember that the gate code is 2580."
    remembered = Assistant().answer(note, mode="auto")  # the student's note call holds no 2580, and stays
    "".join(remembered)
    assert remembered.decision.rule == "notes" and remembered.decision.route == "local"
    assert len(sent_requests(fake)) == 1

"""`apprentice log stats`: how many of the user's own questions left the machine, period by period.
The real Assistant, the tiny random student, the real SDK and the fake Gemini over HTTP, and the
real SQLite log; only the turns' dates are moved, since a test cannot wait a week."""

import datetime as dt
import json

import pytest

from assistant.cli import main
from assistant.intervals import wilson
from assistant.store import Store
from assistant.usage import count, period_of

WEATHER = "What's the weather in Paris tomorrow?"


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def ask(capsys, *args) -> dict:
    code, out, err = run(capsys, "ask", *args, "--json", "--max-tokens", "8")
    assert code == 0, err
    return json.loads(out)


def backdate(turn_id: int, days: int) -> None:
    store = Store()
    created = (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat(timespec="milliseconds")
    store.db.execute("UPDATE turns SET created = ? WHERE id = ?", [created, turn_id])
    store.db.conn.commit()


def test_the_share_sent_is_counted_per_week_from_what_really_left(capsys, tiny_student, gemini, monkeypatch, tmp_path):
    gemini(answers={WEATHER: "Sunny and 21 °C."})
    last_week = [ask(capsys, WEATHER, "--mode", "auto"), ask(capsys, "Hello there", "--mode", "private")]
    for turn in last_week:
        backdate(turn["turn_id"], 7)
    this_week = [ask(capsys, WEATHER, "--mode", "private"), ask(capsys, "Thanks", "--mode", "private")]
    monkeypatch.setenv("APPRENTICE_TEACHER_RETRIES", "1")
    gemini(answers={WEATHER: "Sunny."}, faults=["503"])
    failed = ask(capsys, WEATHER, "--mode", "auto")  # the student answers, but the query went out
    assert failed["route"] == "local" and [a["route"] for a in last_week] == ["cloud", "local"]
    store = Store()  # a benchmark's turn, and one still being answered, are no question of the user's
    conversation = store.new_conversation("bench", "bench")
    store.start_turn(conversation, "What is 2 + 2?", "bench", route="local", status="done")
    store.start_turn(this_week[0]["conversation_id"], "Still typing", "ask", route="cascade", status="pending")

    code, out, _ = run(capsys, "log", "stats", "--json")
    result = json.loads(out)
    assert code == 0 and result["by"] == "week"
    before, now = result["periods"]
    assert (before["questions"], before["here"], before["sent"], before["teacher_share"]) == (2, 1, 1, 0.5)
    assert (now["questions"], now["here"], now["sent"]) == (3, 2, 1)  # the failed request left too
    assert before["students"] == now["students"] == ["tiny"]
    assert result["total"]["questions"] == 5 and result["total"]["sent"] == 2
    assert before["interval"][0] < 0.5 < before["interval"][1]

    code, out, _ = run(capsys, "log", "stats", "--plot", str(tmp_path / "share.png"))
    assert code == 0 and "to teacher" in out and "fell from 50% to 33%" in out
    assert (tmp_path / "share.png").read_bytes()[:4] == b"\x89PNG"
    code, out, _ = run(capsys, "log", "stats", "--by", "student", "--json")
    (tiny,) = json.loads(out)["periods"]
    assert tiny["period"] == "tiny" and tiny["questions"] == 5


def test_no_questions_yet_and_bad_values_are_sentences(capsys, home, tmp_path):
    code, out, err = run(capsys, "log", "stats")
    assert code == 0 and "No questions logged yet" in err and out == ""
    code, out, _ = run(capsys, "log", "stats", "--json")
    assert json.loads(out)["periods"] == [] and json.loads(out)["total"]["teacher_share"] is None
    code, _, err = run(capsys, "log", "stats", "--by", "year")
    assert code == 2 and "'year' is not one of" in err


def test_a_plot_that_cannot_be_written_says_so(capsys, home, tmp_path):
    store = Store()
    conversation = store.new_conversation("t", "ask")
    store.start_turn(conversation, "Hi", "ask", route="local", status="done", model="base")
    code, _, err = run(capsys, "log", "stats", "--plot", str(tmp_path / "missing" / "share.png"))
    assert code == 1 and "Cannot write the plot to" in err and "name a file in a folder that exists" in err


@pytest.mark.parametrize(
    "created, by, period",
    [
        ("2026-12-02T10:00:00+00:00", "week", "2026-11-30"),  # a Wednesday: its week starts on Monday
        ("2026-11-30T10:00:00+00:00", "week", "2026-11-30"),
        ("2026-12-02T10:00:00+00:00", "day", "2026-12-02"),
        ("2026-12-02T10:00:00+00:00", "month", "2026-12"),
    ],
)
def test_a_turn_falls_in_its_local_week_day_or_month(created, by, period, utc):
    assert period_of(created, by) == period


def test_the_interval_is_honest_at_the_edges():
    assert wilson(0, 0) is None
    low, high = wilson(0, 10)
    assert low == 0 and 0.2 < high < 0.35  # none sent of ten is no proof that none ever will be
    low, high = wilson(10, 10)
    assert high == 1 and 0.65 < low < 0.8
    assert count([], "week")["total"]["questions"] == 0

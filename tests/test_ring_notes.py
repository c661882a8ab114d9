"""Rings nobody saw, at the start of a command that answers: `apprentice ask` (and `voice`) carry
them as the answer's first notes, so with --json they go to stderr and into `"notes"`, and stdout
stays one JSON object. A real store, the real command, the tiny student registered (a fast-path
answer loads no model).

    python -m pytest tests/test_ring_notes.py -q
"""

from __future__ import annotations

import datetime as dt
import json

import pytest

from assistant.cli import main
from assistant.store import Store
from assistant.tools import rings


@pytest.fixture
def rang_an_hour_ago(home, monkeypatch) -> int:
    """A 10-minute timer that rang an hour ago while no surface was open."""
    monkeypatch.setenv("APPRENTICE_RINGER", "off")
    store = Store()
    hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    timer_id = store.add_timer(
        "timer", rings.utc_iso(hour_ago), created=rings.utc_iso(hour_ago - dt.timedelta(minutes=10))
    )
    store.claim_due(rings.utc_iso(hour_ago))
    with store.db.conn:
        store.db.execute("UPDATE timers SET rang_at = ? WHERE id = ?", [rings.utc_iso(hour_ago), timer_id])
    return timer_id


def ask(capsys, *args) -> tuple[int, str, str]:
    code = main(["ask", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_ask_json_carries_a_missed_ring_in_its_notes_and_stdout_stays_one_object(
    tiny_student, rang_an_hour_ago, capsys
):
    code, out, err = ask(capsys, "what is 17 times 23", "--json")
    assert code == 0, err
    answer = json.loads(out)  # nothing but the object on stdout
    assert "391" in answer["answer"]
    missed = f"Missed: timer #{rang_an_hour_ago} of 10 minutes rang at "
    assert [n for n in answer["notes"] if n.startswith(missed)], answer["notes"]
    assert err.count(missed) == 1 and f"note: {missed}" in err  # said once, on stderr
    assert Store().timer(rang_an_hour_ago)["shown_at"] is not None
    code, out, err = ask(capsys, "what is 2 plus 2", "--json")
    assert code == 0 and "Missed" not in err and not any("Missed" in n for n in json.loads(out)["notes"])


def test_ask_streaming_says_the_missed_ring_before_the_answer(tiny_student, rang_an_hour_ago, capsys):
    code, out, err = ask(capsys, "what is 17 times 23")
    assert code == 0 and "391" in out and "Missed" not in out
    assert err.startswith(f"note: Missed: timer #{rang_an_hour_ago} of 10 minutes rang at ")


def test_a_command_that_fails_before_answering_leaves_the_ring_for_the_next(tiny_student, rang_an_hour_ago, capsys):
    code, out, err = ask(capsys, "   ")
    assert code == 2 and "The query is empty" in err and "Missed" not in err
    assert Store().timer(rang_an_hour_ago)["shown_at"] is None  # nobody saw it yet
    assert main(["timers"]) == 0
    assert f"Missed: timer #{rang_an_hour_ago} of 10 minutes rang at " in capsys.readouterr().err

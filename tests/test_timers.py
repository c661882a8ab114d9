"""Timers, alarms and reminders: each tool alone at a fixed time, the sentences for bad input, and
the ringer as a real detached process ringing a real store (set by a process that has exited,
missed while none ran, never twice, never two ringers)."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import wave
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from assistant.store import Store
from assistant.tools import ToolContext, ToolError, ready, ringer, rings, run
from assistant.tools.calls import parse_call
from assistant.tools.timer_commands import announce_missed, timers_command
from assistant.tools.timers import next_clock_time, spoken_clock

PARIS = ZoneInfo("Europe/Paris")
NOW = dt.datetime(2026, 3, 2, 14, 22, 0, tzinfo=PARIS)  # a Monday, 13:22 UTC


@pytest.fixture
def store(home) -> Store:
    return Store()


@pytest.fixture(autouse=True)
def ringer_allowed(monkeypatch):
    """The ringer starts on demand here, whatever the environment says."""
    monkeypatch.delenv("APPRENTICE_RINGER", raising=False)
    monkeypatch.delenv("APPRENTICE_RING_WAV", raising=False)


@pytest.fixture
def quiet(monkeypatch):
    """Tools alone: at a fixed time in the past, no ringer would have anything to ring."""
    monkeypatch.setenv("APPRENTICE_RINGER", "off")


@pytest.fixture
def ctx(store, quiet) -> ToolContext:
    return ToolContext(store=store, now=NOW)


@pytest.fixture
def in_paris(monkeypatch):
    """This machine's own zone is Paris, for commands that show times in it."""
    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture(autouse=True)
def no_ringer_left(home):
    """A test's ringer does not outlive it (only the one this test's home started)."""
    yield
    pid = ringer.running(home)
    if pid:
        os.kill(pid, signal.SIGTERM)


def wait_for(check, seconds: float, step: float = 0.05):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(step)
    return check()


def rung_count(home, timer_id: int) -> int:
    log = home / "logs" / "ringer.log"
    lines = log.read_text().splitlines() if log.exists() else []
    return sum(f" {timer_id}: " in line and " rang " in line for line in lines)


# -- timer ------------------------------------------------------------------------------------


def test_timer_set_says_when_it_rings_and_stores_it(ctx, store):
    result = run("timer", {"minutes": 10}, ctx)
    assert result.text == "Timer set for 10 minutes; it rings at 14:32."
    assert result.badge == "timer · 10 min"
    assert result.data["due_local"] == "2026-03-02T14:32:00+01:00"
    (row,) = store.timers()
    assert (row["kind"], row["status"], row["due"]) == ("timer", "pending", "2026-03-02T13:32:00.000+00:00")


def test_timer_adds_hours_minutes_and_seconds_and_takes_numbers_as_text(ctx):
    result = run("timer", {"hours": "1", "minutes": 30, "seconds": 5, "label": "bread"}, ctx)
    assert result.text == "Timer “bread” set for 1 hour 30 minutes 5 seconds; it rings at 15:52."
    short = run("timer", {"seconds": 45}, ctx)
    assert short.text == "Timer set for 45 seconds; it rings at 14:22:45."


def test_a_call_as_a_model_writes_it_runs(ctx):
    call = parse_call("Sure! <tool_call>{'name': 'timer', 'arguments': {'minutes': '5',}}</tool_call>")
    assert run(call.name, call.arguments, ctx).text == "Timer set for 5 minutes; it rings at 14:27."


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({"minutes": -5}, "A timer cannot be set for a negative time (-5 minutes)"),
        ({"hours": 24 * 365 * 10}, "A timer of 87600 hours is out of range; the longest is 7 days."),
        ({"seconds": 0.2}, "at least 1 second"),
        ({}, "Say how long"),
        ({"minutes": "ten"}, "must be a number"),
        ({"action": "pause"}, "must be one of set, list, cancel"),
        ({"minutes": 5, "colour": "red"}, "timer has no argument 'colour'"),
    ],
)
def test_timer_bad_input_is_one_sentence_and_sets_nothing(ctx, store, arguments, says):
    with pytest.raises(ToolError) as caught:
        run("timer", arguments, ctx)
    message = str(caught.value)
    assert says in message
    assert message.endswith(".") and "\n" not in message
    assert store.timers(status=None) == []


def test_timer_list_and_cancel(ctx, store):
    assert run("timer", {"action": "list"}, ctx).text == "No timers are set."
    run("timer", {"minutes": 10}, ctx)
    run("timer", {"minutes": 3, "label": "tea"}, ctx)
    listed = run("timer", {"action": "list"}, ctx)
    assert listed.text == (
        "Timers: #2 “tea” 3 minutes, rings at 14:25 (in 3 minutes); #1 10 minutes, rings at 14:32 (in 10 minutes)."
    )
    assert [t["id"] for t in listed.data["timers"]] == [2, 1]
    with pytest.raises(ToolError, match=r"2 timers are set \(#2, #1\); say which one to cancel by its number\."):
        run("timer", {"action": "cancel"}, ctx)
    assert run("timer", {"action": "cancel", "label": "TEA"}, ctx).text == "Timer 2 (“tea” 3 minutes) cancelled."
    assert run("timer", {"action": "cancel"}, ctx).text == "Timer 1 (10 minutes) cancelled."
    assert [r["status"] for r in store.timers(status=None)] == ["cancelled", "cancelled"]
    with pytest.raises(ToolError, match="No timer is set, so there is none to cancel."):
        run("timer", {"action": "cancel"}, ctx)
    with pytest.raises(ToolError, match="Timer 1 is already cancelled"):
        run("timer", {"action": "cancel", "id": 1}, ctx)


# -- alarm ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("time_said", "answer", "due_local"),
    [
        ("19:30", "Alarm set for 19:30; it rings in 5 hours 8 minutes.", "2026-03-02T19:30:00+01:00"),
        ("7:30 pm", "Alarm set for 19:30; it rings in 5 hours 8 minutes.", "2026-03-02T19:30:00+01:00"),
        ("7 am", "Alarm set for 07:00 tomorrow: 07:00 has already passed today.", "2026-03-03T07:00:00+01:00"),
        ("07:30", "Alarm set for 07:30 tomorrow: 07:30 has already passed today.", "2026-03-03T07:30:00+01:00"),
        (
            "at 7",
            "Alarm set for 19:00: the next 7 o'clock (say “7 am” for the other one).",
            "2026-03-02T19:00:00+01:00",
        ),
        (
            "7:00",
            "Alarm set for 19:00: the next 7 o'clock (say “7 am” for the other one).",
            "2026-03-02T19:00:00+01:00",
        ),
        (
            "at 7 in the morning",
            "Alarm set for 07:00 tomorrow: 07:00 has already passed today.",
            "2026-03-03T07:00:00+01:00",
        ),
        ("noon", "Alarm set for 12:00 tomorrow: 12:00 has already passed today.", "2026-03-03T12:00:00+01:00"),
        (
            "6:10 tomorrow morning",
            "Alarm set for 06:10 tomorrow; it rings in 15 hours 48 minutes.",
            "2026-03-03T06:10:00+01:00",
        ),
        ("8 tonight", "Alarm set for 20:00; it rings in 5 hours 38 minutes.", "2026-03-02T20:00:00+01:00"),
        ("12 at night", "Alarm set for 00:00 tomorrow; it rings in 9 hours 38 minutes.", "2026-03-03T00:00:00+01:00"),
        ("1 tonight", "Alarm set for 01:00 tomorrow; it rings in 10 hours 38 minutes.", "2026-03-03T01:00:00+01:00"),
        (
            "9 tomorrow evening",
            "Alarm set for 21:00 tomorrow; it rings in 1 day 6 hours 38 minutes.",
            "2026-03-03T21:00:00+01:00",
        ),
        # said in words, as people say them and a model copies them into its call
        (
            "half past eight in the evening",
            "Alarm set for 20:30; it rings in 6 hours 8 minutes.",
            "2026-03-02T20:30:00+01:00",
        ),
        (
            "seven thirty am",
            "Alarm set for 07:30 tomorrow: 07:30 has already passed today.",
            "2026-03-03T07:30:00+01:00",
        ),
        ("a quarter to seven pm", "Alarm set for 18:45; it rings in 4 hours 23 minutes.", "2026-03-02T18:45:00+01:00"),
        ("ten past nine tonight", "Alarm set for 21:10; it rings in 6 hours 48 minutes.", "2026-03-02T21:10:00+01:00"),
        (
            "tomorrow at 6:45am",
            "Alarm set for 06:45 tomorrow; it rings in 16 hours 23 minutes.",
            "2026-03-03T06:45:00+01:00",
        ),
        # "tomorrow" as typed in a hurry
        (
            "8:50 tmrw morning",
            "Alarm set for 08:50 tomorrow; it rings in 18 hours 28 minutes.",
            "2026-03-03T08:50:00+01:00",
        ),
        (
            "tmr at 9 pm",
            "Alarm set for 21:00 tomorrow; it rings in 1 day 6 hours 38 minutes.",
            "2026-03-03T21:00:00+01:00",
        ),
    ],
)
def test_alarm_rings_at_the_next_such_time_and_says_which(ctx, time_said, answer, due_local):
    result = run("alarm", {"time": time_said}, ctx)
    assert result.text == answer
    assert result.data["due_local"] == due_local


@pytest.mark.parametrize(
    "said, read",
    [
        ("half past eight in the evening", "8:30 in the evening"),
        ("a quarter to seven", "6:45"),
        ("ten to nine", "8:50"),
        ("quarter to one", "12:45"),
        ("seven thirty am", "7:30 am"),
        ("five to seven minutes", "5 to 7 minutes"),  # a range of lengths, no time
        ("half past 8:30", "half past 8:30"),  # not a time this reads: left for the tool to refuse
    ],
)
def test_a_time_said_in_words_is_read_as_digits_and_other_words_are_left(said, read):
    assert spoken_clock(said) == read


def test_an_ambiguous_hour_in_the_evening_takes_the_morning_one():
    late = NOW.replace(hour=21)
    when, note = next_clock_time("at 7", late)
    assert (when.isoformat(), note) == (
        "2026-03-03T07:00:00+01:00",
        "the next 7 o'clock (say “7 pm” for the other one)",
    )


def test_an_alarm_across_the_change_to_summer_time_rings_at_the_wall_clock_hour(store, quiet, in_paris):
    saturday_night = dt.datetime(2026, 3, 28, 22, 0).astimezone()  # +01:00; clocks go forward at 02:00
    alarm = run("alarm", {"time": "7 am"}, ToolContext(store=store, now=saturday_night))
    assert alarm.data["due_local"] == "2026-03-29T07:00:00+02:00"
    timer = run("timer", {"hours": 10}, ToolContext(store=store, now=saturday_night))
    assert timer.text == "Timer set for 10 hours; it rings at 09:00 tomorrow."  # 10 hours of real time


@pytest.mark.parametrize(
    ("time_said", "says"),
    [
        ("25:00", "'25:00' is not a clock time; say it like 7:30, 7 am or 19:00."),
        ("13 pm", "'13 pm' is not a clock time; say it like 7:30, 7 am or 19:00."),
        ("half past the cat", "'half past the cat' is not a clock time I can read"),
        ("", "Say when the alarm should ring, for example 7 am."),
    ],
)
def test_alarm_bad_time_is_a_sentence(ctx, store, time_said, says):
    with pytest.raises(ToolError) as caught:
        run("alarm", {"time": time_said}, ctx)
    assert says in str(caught.value)
    assert store.timers(status=None) == []


def test_alarm_list_and_cancel_by_number(ctx):
    run("alarm", {"time": "7 am", "label": "wake up"}, ctx)
    assert (
        run("alarm", {"action": "list"}, ctx).text == "Alarms: #1 “wake up” at 07:00 tomorrow, in 16 hours 38 minutes."
    )
    assert run("alarm", {"action": "cancel", "id": "1"}, ctx).text == "Alarm 1 (“wake up” at 07:00 tomorrow) cancelled."
    assert run("alarm", {"action": "list"}, ctx).text == "No alarms are set."


def test_a_number_of_another_kind_is_not_cancelled(ctx, store):
    """One numbering serves timers, alarms and reminders: "delete reminder 1" must not cancel alarm 1."""
    run("alarm", {"time": "7 am"}, ctx)
    with pytest.raises(ToolError, match="Number 1 is an alarm, not a reminder; say “cancel alarm 1” to cancel it."):
        run("reminder", {"action": "cancel", "id": 1}, ctx)
    assert [t["status"] for t in store.timers()] == ["pending"]


# -- reminder ---------------------------------------------------------------------------------


def test_reminder_after_a_delay_or_at_a_time(ctx, store):
    assert run("reminder", {"text": "call mum", "minutes": 20}, ctx).text == (
        "Reminder set: “call mum” at 14:42, in 20 minutes."
    )
    assert run("reminder", {"text": "take the bins out", "time": "8 pm"}, ctx).text == (
        "Reminder set: “take the bins out” at 20:00, in 5 hours 38 minutes."
    )
    assert [(r["kind"], r["label"]) for r in store.timers()] == [
        ("reminder", "call mum"),
        ("reminder", "take the bins out"),
    ]
    assert run("reminder", {"action": "cancel", "text": "bins"}, ctx).text == (
        "Reminder 2 (“take the bins out”) cancelled."
    )


def test_a_delay_given_where_a_clock_time_goes_counts_from_now(ctx):
    assert run("alarm", {"time": "in 10 minutes"}, ctx).text == "Alarm set for 14:32; it rings in 10 minutes."
    assert run("reminder", {"text": "water the plants", "time": "in 2 days"}, ctx).text == (
        "Reminder set: “water the plants” at 14:22 on Wednesday, in 2 days."
    )
    with pytest.raises(ToolError, match="either a time or a delay, not both"):
        run("reminder", {"text": "stretch", "time": "in 1 hour", "minutes": 5}, ctx)


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        ({"minutes": 5}, "Say what to remind you of"),
        ({"text": "stretch"}, "Say when to remind you"),
        ({"text": "stretch", "minutes": 5, "time": "17:00"}, "either a time or a delay, not both"),
        ({"text": "stretch", "hours": 24 * 365 * 10}, "out of range; the longest is 366 days"),
        ({"text": "stretch", "minutes": -1}, "negative time"),
    ],
)
def test_reminder_bad_input(ctx, store, arguments, says):
    with pytest.raises(ToolError, match=says):
        run("reminder", arguments, ctx)
    assert store.timers(status=None) == []


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("reminder", {"text": "water the plants at 9 pm"}),  # when only in its words: it would never ring
        ("reminder", {"minutes": 5}),
        ("reminder", {"text": "stretch", "minutes": 5, "time": "17:00"}),
        ("reminder", {"text": "stretch", "time": "half past the cat"}),
        ("reminder", {"text": "stretch", "time": "in 400 days"}),
        ("timer", {}),
        ("timer", {"minutes": -5}),
        ("alarm", {"time": "25:00"}),
        ("alarm", {}),
    ],
)
def test_a_call_that_could_not_act_says_so_before_it_acts_and_as_it_would_acting(ctx, store, name, arguments):
    """`ready` is what the cascade asks of a sure call to a tool that acts: the same sentence the tool
    would say, with nothing set and no store at hand."""
    refused = ready(name, arguments)
    assert isinstance(refused, ToolError)
    with pytest.raises(ToolError) as caught:
        run(name, arguments, ctx)
    assert str(refused) == str(caught.value)
    assert store.timers(status=None) == []
    good = {
        "reminder": {"text": "water the plants", "time": "9 pm"},
        "alarm": {"time": "9 pm"},
        "timer": {"minutes": 5},
    }
    assert ready(name, good[name]) is None and ready(name, {"action": "list"}) is None


# -- the command ----------------------------------------------------------------------------


def test_timers_command_lists_and_cancels(ctx, store, in_paris):
    run("timer", {"minutes": 10}, ctx)
    run("alarm", {"time": "7 am"}, ctx)
    cli = CliRunner()
    listed = cli.invoke(timers_command, ["--json"])
    assert listed.exit_code == 0
    assert [(t["id"], t["kind"], t["status"]) for t in json.loads(listed.output)] == [
        (1, "timer", "pending"),
        (2, "alarm", "pending"),
    ]
    done = cli.invoke(timers_command, ["cancel", "2"])
    assert done.exit_code == 0 and done.output == "Alarm 2 (at 07:00 on Tue 3 Mar 2026) cancelled.\n"
    again = cli.invoke(timers_command, ["cancel", "2"], standalone_mode=False)
    assert "Alarm 2 is already cancelled: nothing to cancel." in str(again.exception)
    assert [t["id"] for t in json.loads(cli.invoke(timers_command, ["list", "--json"]).output)] == [1]
    assert len(json.loads(cli.invoke(timers_command, ["list", "--all", "--json"]).output)) == 2


def test_the_apprentice_command_has_timers(home):
    from assistant.cli import main

    Store()
    assert main(["timers", "cancel", "7"]) == 2


# -- missed -------------------------------------------------------------------------------------


def test_what_came_due_while_nothing_ran_is_shown_missed_once(store, quiet, home):
    hour_ago = dt.datetime.now(dt.UTC).astimezone() - dt.timedelta(hours=1)
    run("timer", {"minutes": 10}, ToolContext(store=store, now=hour_ago))  # due 50 minutes ago
    later = (hour_ago + dt.timedelta(hours=4)).strftime("%H:%M")  # whatever the time of day the test runs
    run("alarm", {"time": later}, ToolContext(store=store, now=hour_ago))  # still to come
    said: list[str] = []
    announce_missed(said.append)  # the next command's start ("restart")
    assert len(said) == 1
    assert said[0].startswith("Missed: timer #1 of 10 minutes came due at ")
    assert said[0].endswith(" while nothing was running to ring it.")
    assert [(r["id"], r["status"]) for r in store.timers(status=None)] == [(1, "missed"), (2, "pending")]
    said.clear()
    announce_missed(said.append)
    assert said == []  # shown once


def test_a_ring_no_surface_showed_counts_as_missed(store, quiet):
    run("timer", {"seconds": 1}, ToolContext(store=store, now=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=2)))
    (rang,) = store.claim_due(rings.utc_iso(dt.datetime.now(dt.UTC)))  # what the ringer does
    (unshown,) = rings.due_unshown(store)
    assert unshown["id"] == rang["id"] and unshown["status"] == "rung"
    assert rings.missed_text(unshown).startswith("Missed: timer #1 of 1 second rang at ")
    assert rings.notice(unshown) == "Timer done: 1 second."  # an open surface sees it ring as it happens
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    assert rings.notice(unshown, later).startswith("Missed: timer #1 of 1 second rang at ")
    assert rings.mark_shown(store, [unshown["id"]]) == 1
    assert rings.due_unshown(store) == []


def test_an_open_surface_polling_every_second_sees_each_ring_once(store, quiet, home):
    run("timer", {"seconds": 1}, ToolContext(store=store, now=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)))
    ringer.ring_due(store, home)  # what the ringer does when it comes due
    hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    run("timer", {"minutes": 10}, ToolContext(store=store, now=hour_ago))  # came due while nothing ran
    seen = rings.poll(store)
    assert [(r["id"], r["status"]) for r in seen] == [(2, "missed"), (1, "rung")]
    assert [rings.ringing(r) for r in seen] == [False, True]  # the bell only for the one ringing now
    rings.mark_shown(store, [r["id"] for r in seen])
    assert rings.poll(store) == []


# -- the ringer -------------------------------------------------------------------------------

SET_AND_EXIT = textwrap.dedent(
    """
    import sys
    from assistant.store import Store
    from assistant.tools import ToolContext, run
    print(run("timer", {"seconds": float(sys.argv[1])}, ToolContext.here(Store())).text, flush=True)
    """
)


def test_a_timer_set_by_a_process_that_exited_rings_within_3_seconds(home, store):
    setter = subprocess.run(
        [sys.executable, "-c", SET_AND_EXIT, "1"], capture_output=True, text=True, timeout=60, check=True
    )
    exited = time.monotonic()
    assert setter.stdout.startswith("Timer set for 1 second; it rings at ")
    row = wait_for(lambda: store.timer(1)["status"] == "rung" and store.timer(1), 3.0)
    assert row, f"no ring recorded 3 s after the setter exited; ringer log: {_log(home)}"
    took = time.monotonic() - exited
    late = (rings.parse_utc(row["rang_at"]) - rings.parse_utc(row["due"])).total_seconds()
    print(f"ring recorded {took:.2f} s after the setter exited, {late:.2f} s after it was due")
    assert late >= 0 and rung_count(home, 1) == 1
    assert wait_for(lambda: ringer.running(home) is None, 10), "the ringer did not exit with nothing pending"


def test_a_timer_set_by_apprentice_ask_rings_after_it_exited(home, default_student):
    asked = subprocess.run(
        ["apprentice", "ask", "set a timer for 1 second", "--json"], capture_output=True, text=True, timeout=120
    )
    exited = time.monotonic()
    assert asked.returncode == 0, asked.stderr
    answer = json.loads(asked.stdout)
    assert answer["action"]["name"] == "timer" and answer["action"]["arguments"]["seconds"] == 1
    assert answer["answer"].startswith("Timer set for 1 second; it rings at ")
    store = Store()
    timer_id = answer["action"]["result"]["id"]
    assert wait_for(lambda: store.timer(timer_id)["status"] == "rung", 3.0), _log(home)
    print(f"ring recorded {time.monotonic() - exited:.2f} s after `apprentice ask` exited")
    shown = subprocess.run(["apprentice", "timers"], capture_output=True, text=True, timeout=60)
    assert f"Missed: timer #{timer_id} of 1 second rang at " in shown.stderr  # nobody saw it ring


def test_a_running_ringer_is_woken_by_an_earlier_timer(home, store):
    ctx = ToolContext.here(store)
    run("timer", {"minutes": 30}, ctx)
    pid = wait_for(lambda: ringer.running(home), 10)
    assert pid, f"no ringer started; log: {_log(home)}"
    started = time.monotonic()
    run("timer", {"seconds": 1}, ToolContext.here(store))
    assert wait_for(lambda: store.timer(2)["status"] == "rung", 4.0)
    assert time.monotonic() - started < ringer.POLL_S  # woken, not found at its next look
    assert ringer.running(home) == pid  # the same ringer, still waiting for the 30-minute timer
    run("timer", {"action": "cancel", "id": 1}, ToolContext.here(store))
    assert wait_for(lambda: ringer.running(home) is None, 3.0), "the ringer outlived its last timer"


def test_a_ringer_whose_home_was_removed_ends(home, store):
    run("timer", {"minutes": 30}, ToolContext.here(store))
    pid = wait_for(lambda: ringer.running(home), 10)
    assert pid
    store.path.unlink()
    os.kill(pid, signal.SIGUSR1)  # what setting or cancelling a timer does; else it notices within POLL_S
    assert wait_for(lambda: ringer.running(home) is None, 5), _log(home)
    assert "is gone: nothing left to ring" in _log(home)


def test_there_is_never_a_second_ringer(home, store):
    run("timer", {"minutes": 30}, ToolContext.here(store))
    pid = wait_for(lambda: ringer.running(home), 10)
    assert pid
    second = subprocess.run(
        [sys.executable, "-m", "assistant.tools.ringer"], capture_output=True, text=True, timeout=60
    )
    assert second.returncode == 0 and "A ringer already runs" in second.stderr
    assert ringer.ensure_running() == pid  # setting another timer wakes it, starts none
    assert ringer.running(home) == pid


def test_a_killed_ringer_leaves_no_lock_behind(home, store):
    run("timer", {"minutes": 30}, ToolContext.here(store))
    killed = wait_for(lambda: ringer.running(home), 10)
    assert killed
    os.kill(killed, signal.SIGKILL)
    assert wait_for(lambda: ringer.running(home) is None, 5)  # the kernel let go of its lock
    run("timer", {"seconds": 1}, ToolContext.here(store))
    assert wait_for(lambda: store.timer(2)["status"] == "rung", 5), _log(home)
    assert ringer.running(home) not in (None, killed)  # a new ringer, for the 30-minute timer


def test_two_ringers_started_together_ring_each_timer_once(home, store):
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)  # both are up by then, even on a busy machine
    ids = [store.add_timer("timer", rings.utc_iso(soon + dt.timedelta(milliseconds=50 * i))) for i in range(5)]
    both = [
        subprocess.Popen(
            [sys.executable, "-m", "assistant.tools.ringer"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outcomes = [p.communicate(timeout=60) for p in both]
    assert sum("A ringer already runs" in err for _, err in outcomes) == 1
    assert [store.timer(i)["status"] for i in ids] == ["rung"] * 5
    said = "".join(out for out, _ in outcomes)
    assert [said.count(f"rang timer {i}:") for i in ids] == [1] * 5


CLAIM_LOOP = textwrap.dedent(
    """
    import datetime as dt, json, sys, time
    from assistant.store import Store
    from assistant.tools.rings import utc_iso
    store, mine, end = Store(), [], time.monotonic() + 20
    while time.monotonic() < end and store.next_due() is not None:
        mine += [row["id"] for row in store.claim_due(utc_iso(dt.datetime.now(dt.UTC)))]
    print(json.dumps(mine))
    """
)


def test_two_processes_claiming_at_once_never_ring_the_same_timer(store):
    start = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=3)  # after both processes are up, even on a busy machine
    ids = [store.add_timer("timer", rings.utc_iso(start + dt.timedelta(milliseconds=10 * i))) for i in range(300)]
    both = [subprocess.Popen([sys.executable, "-c", CLAIM_LOOP], stdout=subprocess.PIPE, text=True) for _ in range(2)]
    claimed = [json.loads(p.communicate(timeout=60)[0]) for p in both]
    assert sorted(claimed[0] + claimed[1]) == ids  # every timer rang, and none twice
    assert claimed[0] and claimed[1], "one process claimed everything: no race was run"
    print(f"two processes claimed {len(claimed[0])} and {len(claimed[1])} of {len(ids)} timers, none twice")


@pytest.mark.skipif(not shutil.which("espeak-ng"), reason="espeak-ng is not installed (sudo apt install espeak-ng)")
def test_the_ring_is_spoken(home, store, monkeypatch):
    monkeypatch.setenv("APPRENTICE_RING_WAV", "1")
    run("timer", {"seconds": 1}, ToolContext.here(store))
    wav = home / "rings" / "1.wav"
    assert wait_for(wav.exists, 10), f"no spoken ring; log: {_log(home)}"
    assert wait_for(lambda: ringer.running(home) is None, 10)
    with wave.open(str(wav)) as spoken:
        assert spoken.getnframes() / spoken.getframerate() > 0.5  # "Timer done: 1 second." is said aloud


def _log(home) -> str:
    log = home / "logs" / "ringer.log"
    return log.read_text() if log.exists() else "(none)"


@pytest.mark.parametrize(
    ("label", "shown"),
    [
        ("The laundry.", "Timer “laundry”"),
        ("timer", "Timer set"),
        ("my countdown", "Timer set"),
        ("tea", "Timer “tea”"),
        ("the bread timer", "Timer “bread”"),  # what it times, without the word for the timer itself
    ],
)
def test_a_label_is_shown_as_a_name_and_one_that_names_only_the_timer_is_none(ctx, label, shown):
    result = run("timer", {"minutes": 3, "label": label}, ctx)
    assert result.text.startswith(shown)
    assert (ctx.store.timers()[0]["label"] or "") == result.arguments.get("label", "")


def test_an_alarm_asked_for_politely_is_read(ctx):
    assert run("alarm", {"time": "8:45 pm, please"}, ctx).text.startswith("Alarm set for 20:45")
    with pytest.raises(ToolError, match="not a clock time"):
        run("alarm", {"time": "please"}, ctx)


@pytest.mark.parametrize(
    ("tool", "arguments", "repeat"),
    [
        ("alarm", {"time": "weekdays at 7"}, "weekdays"),
        ("alarm", {"time": "7 am every morning"}, "every morning"),
        ("reminder", {"text": "take my pills every day", "time": "8 pm"}, "every day"),
        ("reminder", {"text": "put the bins out", "time": "9 am on Mondays"}, "on Mondays"),
        ("reminder", {"text": "stretch", "hours": 1, "time": ""}, None),
        ("reminder", {"text": "water every plant", "time": "8 pm"}, None),
    ],
)
def test_a_repeat_is_refused_in_a_sentence_and_nothing_is_set_to_look_repeated(ctx, tool, arguments, repeat):
    """Nothing here repeats: an alarm for weekdays set once would look set for good."""
    if repeat is None:
        assert "set" in run(tool, arguments, ctx).text
        return
    with pytest.raises(ToolError) as caught:
        run(tool, arguments, ctx)
    assert f"rings once, not one that repeats (“{repeat}”)" in str(caught.value)
    assert ctx.store.timers(status="pending") == []

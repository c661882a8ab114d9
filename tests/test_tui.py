"""The chat app, driven as a user would: pilot tests against the real Assistant with the tiny
random student (and fake-gemini as the teacher), /distill running a real distillation of it as
a child process, plus snapshots of the main screen, the consent modal and the history sidebar.

    python -m pytest tests/test_tui.py -q
    python -m pytest tests/test_tui.py --snapshot-update     # after a deliberate change of look

The tiny student samples at temperature 1 so it says something (greedy, it only says
newlines); snapshots never show model output or machine speed: they show conversations
written into the store with fixed times and speeds.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time

import pytest
from test_distill import PARIS, log_example
from textual.widgets import Button, ProgressBar, Static

from assistant import config
from assistant.store import Store
from assistant.tui import commands
from assistant.tui.app import ApprenticeApp
from assistant.tui.screens.consent import ConsentScreen
from assistant.tui.screens.distill import DistillScreen
from assistant.tui.screens.help import HelpScreen
from assistant.tui.screens.models import ModelScreen
from assistant.tui.widgets.conversation import AnswerView
from assistant.tui.widgets.status import StatusBar
from assistant.usage import period_of

SIZE = (80, 24)
WEATHER = "What's the weather in Paris tomorrow?"


def make_app(**settings) -> ApprenticeApp:
    return ApprenticeApp(config.load({"max_tokens": 24, "temperature": 1.0, **settings}))


def run(scenario):
    """Run an async pilot scenario (no pytest-asyncio needed)."""
    return asyncio.run(scenario())


async def until(pilot, predicate, what: str, timeout: float = 60.0, shown=None) -> None:
    """Wait for `predicate`; generous, so a busy 2-core machine only makes a test slower.

    `shown` (a function returning text) says what was on screen when the wait ran out.
    """
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            screen = f"; the screen showed:\n{shown()}" if shown else ""
            raise AssertionError(f"timed out waiting for {what}{screen}")
        await pilot.pause(0.02)


async def click(pilot, selector: str) -> None:
    """Click `selector` once it is laid out where the mouse would land on it.

    A modal is focused before its first layout, and on a busy machine a click sent then lands on
    whatever lies at the widget's not-yet-placed origin: the click would be lost, not slow.
    """

    def placed() -> bool:
        widget = pilot.app.screen.query_one(selector)
        region = widget.region
        if not region.area:
            return False
        try:
            return pilot.app.screen.get_widget_at(*region.center)[0] is widget
        except Exception:  # noqa: BLE001 - nothing at that point yet
            return False

    await until(pilot, placed, f"{selector} to be laid out")
    assert await pilot.click(selector), f"the click missed {selector}"


async def ask(pilot, text: str) -> AnswerView:
    """Type `text`, press Enter, wait for the answer to finish; the answer's view."""
    app = pilot.app
    before = len(app.conversation.answers())
    await pilot.press(*text)
    await pilot.press("enter")
    await until(pilot, lambda: len(app.conversation.answers()) > before, "the question to show")
    await until(pilot, lambda: not app.answering, "the answer to finish")
    await pilot.pause()
    return app.conversation.last_answer()


def status_text(app) -> str:
    return app.query_one(StatusBar).render().plain


def badge_text(view: AnswerView) -> str:
    from textual.widgets import Collapsible

    title = view.query_one(Collapsible).title
    return getattr(title, "plain", str(title))


def screen_text(app) -> str:
    """What the terminal shows, as plain text."""
    import io

    from rich.console import Console

    console = Console(
        width=app.size.width,
        height=app.size.height,
        file=io.StringIO(),
        record=True,
        force_terminal=True,
        color_system="truecolor",
        legacy_windows=False,
        safe_box=False,
    )
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text(styles=False)


def notifications(app) -> str:
    return "\n".join(n.message for n in app._notifications)


def seed(store: Store, title: str, updated: str, turns: list[dict]) -> int:
    """A finished conversation written straight into the store, with fixed times."""
    cid = (
        store.db["conversations"]
        .insert({"title": title, "source": "chat", "created": updated, "updated": updated})
        .last_pk
    )
    for turn in turns:
        store.db["turns"].insert(
            {
                "conversation_id": cid,
                "source": "chat",
                "status": "done",
                "notes": "[]",
                "created": updated,
                "score": None,
                "tokens": 12,
                "ttft_ms": 80.0,
                **turn,
            }
        )
    return cid


CAPITALS = [
    {
        "query": "What is the capital of France?",
        "answer": "The capital of France is **Paris**.",
        "route": "local",
        "model": "tiny",
        "reason": "private mode: nothing leaves this machine",
        "tokens_per_s": 41.5,
    },
    {
        "query": WEATHER,
        "answer": "Sunny, around 24 °C, with a light breeze in the afternoon.",
        "route": "cloud",
        "model": "gemini-2.5-flash",
        "score": 0.92,
        "reason": "needs live data (weather) that the student cannot know",
        "tokens_per_s": None,
    },
    {
        "query": "Print hello in Python",
        "answer": '```python\nprint("hello")\n```',
        "route": "local",
        "model": "tiny",
        "reason": "the student answers this kind of query well",
        "tokens_per_s": 38.2,
    },
]


@pytest.fixture
def gemini(monkeypatch, tmp_path):
    """fake-gemini as the teacher; `.record` holds every request that left the machine."""
    from assistant.dev.fake_gemini import FakeGemini

    record = tmp_path / "sent.jsonl"
    with FakeGemini(answers={WEATHER: "Sunny and 24 °C in Paris tomorrow."}, record=record) as fake:
        monkeypatch.setenv("GEMINI_API_KEY", "test-key")
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake.url)
        fake.sent = lambda: [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []
        yield fake


# -- chat --------------------------------------------------------------------------------


def test_a_question_streams_an_answer_with_a_local_badge(tiny_student):
    async def scenario():
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            view = await ask(pilot, "What is the capital of France?")
            assert view.text, "the student said nothing"
            assert badge_text(view).startswith("⌂ local · tiny")
            assert "private mode" in badge_text(view)  # the router's reason, on the badge line
            turn = Store().turn(view.turn_id)
            assert turn["answer"].strip() == view.text and turn["route"] == "local" and turn["source"] == "chat"
            assert app.prompt.text == ""  # sent, so cleared
            assert f"{turn['tokens_per_s']:.1f} tok/s" in status_text(app)
            assert "student tiny" in status_text(app)
            # the badge line expands to the details
            await pilot.click("AnswerView CollapsibleTitle")
            await pilot.pause()
            details = view.query_one("#details").render().plain
            assert f"turn #{view.turn_id}" in details and "tok/s" in details

    run(scenario)


def test_the_prompt_stays_responsive_and_esc_stops_the_answer(tiny_student):
    async def scenario():
        app = make_app(max_tokens=400)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.status.busy == "", "the student to load")
            app._student_lock.acquire()  # hold the answer back, as a slow student would
            try:
                await pilot.press(*"Tell me a long story", "enter")
                await until(pilot, lambda: app.answering, "the answer to start")
                assert app.check_action("stop", ()) and "Stop" in screen_text(app)  # Esc shows in the footer
                await pilot.press(*"next one", "enter")  # typing works while answering; Enter waits
                assert app.prompt.text == "next one"
                assert "still coming" in notifications(app)
                await pilot.press("escape")
            finally:
                app._student_lock.release()
            await until(pilot, lambda: not app.answering, "the answer to stop")
            await pilot.pause()
            view = app.conversation.last_answer()
            turn = Store().turn(view.turn_id)
            assert turn["status"] == "interrupted"
            assert turn["tokens"] < 400
            assert "interrupted" in view.query_one("#answer-notes").render().plain
            assert view.text == turn["answer"].strip()  # what arrived is kept
            assert badge_text(view).startswith("⌂ local")

    run(scenario)


def test_modes_switch_by_command_and_key_and_show_in_the_status_bar(tiny_student, monkeypatch):
    async def scenario():
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            assert "⌂ private" in status_text(app) and "no Gemini key" in status_text(app)
            await pilot.press(*"/ask", "enter")
            assert app.mode == "ask"
            assert "? ask (no key: private)" in status_text(app)
            assert "needs a Gemini key" in notifications(app)
            await pilot.press("ctrl+t")
            assert "☁ auto (no key: private)" in status_text(app)
            await pilot.press("ctrl+t")
            assert status_text(app).startswith("⌂ private")
            await pilot.press("ctrl+p", *"Auto mode")  # the command palette has the same commands
            await until(pilot, lambda: "Auto mode (/auto)" in screen_text(app), "the palette's search")
            await pilot.press("enter")
            await until(pilot, lambda: app.current_mode() == "auto", "the palette to switch modes")
            await pilot.press(*"/private", "enter")
            monkeypatch.setenv("GEMINI_API_KEY", "test-key")
            await pilot.press(*"/auto", "enter")
            assert "☁ auto │" in status_text(app) and "Gemini key set" in status_text(app)
            assert "test-key" not in status_text(app)  # a key is never shown
            # without a key the answer is private and says why
            monkeypatch.delenv("GEMINI_API_KEY")
            view = await ask(pilot, "hello")
            assert badge_text(view).startswith("⌂ local")
            assert "needs a Gemini key" in view.query_one("#answer-notes").render().plain

    run(scenario)


def test_the_consent_modal_keeps_local_by_default_and_sends_on_request(tiny_student):
    async def scenario():
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            text = "Mail [EMAIL_1] about the weather in Paris"
            answers: list[bool] = []

            def worker():  # as the Assistant would, from its worker thread
                answers.append(app.ask_consent(text))

            for press in (["enter"], ["escape"], ["click-send"]):
                thread = threading.Thread(target=worker)
                thread.start()
                await until(
                    pilot, lambda: isinstance(app.screen, ConsentScreen) and app.screen.focused, "the consent modal"
                )
                shown = app.screen.query_one("#consent-text Static").render().plain
                assert shown == text  # the exact text that would leave
                assert app.screen.focused.id == "keep-local"  # the default button
                if press == ["click-send"]:
                    await click(pilot, "#send")
                else:
                    await pilot.press(*press)
                await until(pilot, lambda t=thread: not t.is_alive(), "the worker to get its answer")
                await pilot.pause()
                assert not isinstance(app.screen, ConsentScreen)
            assert answers == [False, False, True]

    run(scenario)


def test_history_restores_a_conversation_after_restarting_the_app(tiny_student):
    async def first_run():
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            view = await ask(pilot, "What is the capital of France?")
            return view.text, app.conversation_id

    async def second_run():
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            assert app.conversation.answers() == []  # a new app starts a new conversation
            await pilot.press("ctrl+r")
            options = app.query_one("#history-list")
            assert options.get_option_at_index(0).prompt.plain.startswith("What is the capital of France?")
            await pilot.press(*"zebra")
            assert options.get_option_at_index(0).disabled  # "No matches."
            for _ in "zebra":
                await pilot.press("backspace")
            await pilot.press(*"capi", "enter", "enter")  # search, go to the list, open
            await until(pilot, lambda: app.conversation.answers(), "the conversation to show")
            assert app.conversation_id == conversation_id
            view = app.conversation.answers()[0]
            assert view.text == first_answer and badge_text(view).startswith("⌂ local · tiny")
            assert app.focused is app.prompt and not app.history.is_open
            await ask(pilot, "And of Italy?")  # continues where it left off
            rows = Store().conversation_turns(conversation_id)
            assert [r["query"] for r in rows] == ["What is the capital of France?", "And of Italy?"]

    first_answer, conversation_id = run(first_run)
    run(second_run)


def test_control_characters_in_answers_are_shown_inert(tiny_student):
    store = Store()
    evil = "Look: \x1b]0;pwned\x07\x1b[31mred\x1b[0m and a bell\x07 \x9b2J"
    seed(
        store,
        "escapes",
        "2025-01-15T09:30:00+00:00",
        [
            {
                "query": "say \x1b[2Jsomething",
                "answer": evil,
                "route": "local",
                "model": "tiny",
                "reason": "test",
                "tokens_per_s": 1.0,
            }
        ],
    )

    async def scenario():
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("ctrl+r", "tab", "enter")
            await until(pilot, lambda: app.conversation.answers(), "the conversation to show")
            await pilot.pause()
            screen = screen_text(app)
            md = app.conversation.answers()[0].query_one("#answer-text")
            assert "\x1b" not in md.source and "\x07" not in md.source and "\x9b" not in md.source
            assert "␛]0;pwned␇␛[31mred" in md.source
            assert "say ␛[2Jsomething" in app.conversation.query_one("QueryMessage").render().plain
            assert "␛]0;pwned␇␛[31mred" in screen and "\x1b" not in screen
            # and live: whatever the tiny student samples (it likes C0 controls) is made inert too
            view = await ask(pilot, "Say something odd")
            source = view.query_one("#answer-text").source
            assert not any((ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F for c in source)

    run(scenario)


def test_everything_fits_in_80_by_24(tiny_student):
    seed(Store(), "Capitals", "2025-01-15T09:30:00+00:00", CAPITALS)

    async def scenario():
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("ctrl+r", "tab", "enter")
            await until(pilot, lambda: app.conversation.answers(), "the conversation to show")
            screen = app.screen.region
            for selector in ("#prompt", "#status", "Footer", "#conversation"):
                region = app.query_one(selector).region
                assert screen.contains_region(region) and region.height > 0, selector
            assert app.query_one("#prompt").region.height >= 3
            assert app.query_one("#conversation").region.height >= 12
            assert len(status_text(app)) <= 78
            footer = app.query_one("Footer")
            assert footer.region.width == 80
            thread = threading.Thread(target=app.ask_consent, args=("x " * 300,))
            thread.start()
            await until(pilot, lambda: isinstance(app.screen, ConsentScreen), "the consent modal")
            text = app.screen.query_one("#consent-text")
            # a long text opens on its end, where the new query is (scrolling lands after layout)
            await until(pilot, lambda: 0 < text.max_scroll_y == text.scroll_y, "the consent text scrolled to its end")
            for button in app.screen.query("Button"):
                assert app.screen.region.contains_region(button.region) and button.region.height > 0
            await pilot.press("escape")
            await until(pilot, lambda: not thread.is_alive(), "the worker")

    run(scenario)


# -- commands ------------------------------------------------------------------------------


def test_slash_commands_are_parsed_and_unknown_ones_explained():
    assert commands.parse("/cloud What's up?")[0].name == "cloud"
    assert commands.parse("/cloud What's up?")[1] == "What's up?"
    assert commands.parse("/etc/hosts: what is this file?") is None  # a question, not a command
    assert commands.parse("What is 2/3?") is None
    with pytest.raises(commands.UnknownCommand, match="/help"):
        commands.parse("/fly")


def test_help_lists_every_key_binding_and_command(tiny_student):
    async def scenario():
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f1")
            assert isinstance(app.screen, HelpScreen)
            text = "\n".join(w.render().plain for w in app.screen.query("Static"))
            for binding in app.BINDINGS:
                assert hasattr(app, f"action_{binding.action}"), binding.action  # every key does something
                key = binding.key.split(",")[0].replace("ctrl+", "Ctrl+").replace("escape", "Esc")
                assert key.upper() in text.upper(), key
            for command in commands.COMMANDS:
                assert f"/{command.name}" in text
            await pilot.press("escape")
            assert not isinstance(app.screen, HelpScreen)
            await pilot.press(*"/help", "enter")
            assert isinstance(app.screen, HelpScreen)

    run(scenario)


def test_copy_new_and_unknown_commands(tiny_student):
    async def scenario():
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("ctrl+y")
            assert "no answer to copy" in notifications(app)
            first = await ask(pilot, "hello")
            second = await ask(pilot, "hello again")
            await pilot.press("ctrl+y")
            assert app.clipboard == second.text
            first.focus()  # a selected answer
            await pilot.press("c")
            assert app.clipboard == first.text
            app.prompt.focus()
            await pilot.press(*"/fly", "enter")
            assert "no command /fly" in notifications(app)
            assert app.prompt.text == "/fly"  # kept, to fix
            app.prompt.clear()
            conversation = app.conversation_id
            await pilot.press(*"/new", "enter")
            assert app.conversation.answers() == [] and app.conversation_id is None
            await ask(pilot, "hi")
            assert app.conversation_id != conversation
            await pilot.press("ctrl+n")  # the same, by key
            assert app.conversation.answers() == [] and app.conversation_id is None

    run(scenario)


def test_model_lists_versions_and_switches_the_student(tiny_student, tiny_checkpoint):
    from conftest import register_checkpoint

    from assistant.models import registry

    register_checkpoint(tiny_checkpoint, "tiny2")
    registry.use("tiny")

    async def scenario():
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press(*"/model", "enter")
            assert isinstance(app.screen, ModelScreen)
            names = [o.id for o in app.screen.query_one("OptionList")._options]
            assert names == ["tiny", "tiny2"]
            await pilot.press("down", "enter")
            await pilot.pause()
            assert registry.active_name() == "tiny2" and "student tiny2" in status_text(app)
            view = await ask(pilot, "hello")
            assert badge_text(view).startswith("⌂ local · tiny2")
            await pilot.press(*"/model nope", "enter")
            assert "No student version named 'nope'" in notifications(app)

    run(scenario)


def test_a_missing_student_is_explained_not_a_crash():
    async def scenario():
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: "No student model is installed" in notifications(app), "the notice")
            assert "no student" in status_text(app)
            view = await ask(pilot, "hello")
            assert "apprentice model pull" in badge_text(view)
            assert "-failed" in view.classes

    run(scenario)


def test_bad_marks_the_last_answer_wrong(tiny_student):
    async def scenario():
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press(*"/bad", "enter")
            assert "no logged answer" in notifications(app)
            view = await ask(pilot, "What is the capital of France?")
            await pilot.press(*"/bad", "enter")
            await until(pilot, lambda: "Marked answer" in notifications(app), "the answer to be marked")
            assert f"Marked answer #{view.turn_id} wrong; the router learns from it" in notifications(app)
            assert "marked wrong" in badge_text(view)
            assert Store().turn(view.turn_id)["bad"] == 1
            outcomes = Store().outcomes("tiny")  # what the router learns from
            assert [(o["query"], o["wrong"], o["origin"]) for o in outcomes] == [
                ("What is the capital of France?", 1, "marked_bad")
            ]

    run(scenario)


# -- actions: a tool's answer, rings while the app is open, /timers ------------------------------


@pytest.fixture
def ringer_stops(home):
    """A ringer this test's app started does not outlive the test."""
    import os
    import signal

    from assistant.tools import ringer

    yield
    if pid := ringer.running(home):
        os.kill(pid, signal.SIGTERM)


def test_a_tool_answer_shows_an_action_badge_and_its_call(tiny_student, monkeypatch):
    monkeypatch.setenv("APPRENTICE_RINGER", "off")  # the timer is only set here; nothing needs to ring

    async def scenario():
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            app._student_lock.acquire()  # as while the student loads: a template's match does not wait for it
            try:
                view = await ask(pilot, "Set a timer for 10 minutes")
            finally:
                app._student_lock.release()
            assert badge_text(view).startswith("⚙ timer · 10 min"), badge_text(view)
            assert "sentence template" in badge_text(view)  # the reason: no model ran
            assert "Timer set for 10 minutes" in view.text and "-failed" not in view.classes
            await pilot.click("AnswerView CollapsibleTitle")
            await pilot.pause()
            details = view.query_one("#details").render().plain
            assert 'call: timer(action="set", seconds=600)' in details and "tokens" not in details, details
            [timer] = Store().timers()
            assert timer["kind"] == "timer" and timer["status"] == "pending"
            app.prompt.focus()  # the click selected the answer
            view = await ask(pilot, "what is 17 times 23")
            assert badge_text(view).startswith("⚙ calculate") and "391" in view.text

    run(scenario)


REFUSED = "A timer can be at most 7 days; for longer, set a reminder."


def action_turns() -> list[dict]:
    """Turns a tool answered, as core stores them: a timer that ran, and a call that could not run."""
    from assistant.core import ActionStep
    from assistant.tools import ToolResult
    from assistant.tools.calls import ToolCall

    ran = ActionStep(
        ToolCall("timer", {"minutes": 5}),
        "fast path",
        result=ToolResult(
            "timer", {"seconds": 300}, {"id": 1}, "Timer set for 5 minutes; it rings at 09:35.", "timer · 5 min"
        ),
    )
    failed = ActionStep(ToolCall("timer", {"minutes": -5}), "base", error=REFUSED)
    return [
        {
            "query": "set a timer for five minutes",
            "answer": ran.result.text,
            "route": "local",
            "model": "tiny",
            "reason": "a sentence template matched: timer (no model ran)",
            "tokens_per_s": None,
            "action": json.dumps(ran.to_json() | {"local_only": False}),
        },
        {
            "query": "timer for minus five minutes",
            "answer": REFUSED,
            "route": "local",
            "model": "tiny",
            "reason": "private mode: nothing leaves this machine",
            "tokens_per_s": None,
            "action": json.dumps(failed.to_json() | {"local_only": False}),
        },
    ]


def test_actions_read_back_from_the_log_keep_their_badge_and_a_failed_one_shows_failed(tiny_student):
    """A stored turn's badge comes from its action JSON; a call that could not run shows its sentence, failed."""
    refused = REFUSED
    seed(Store(), "timers", "2025-01-15T09:30:00+00:00", action_turns())

    async def scenario():
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("ctrl+r", "tab", "enter")
            await until(pilot, lambda: len(app.conversation.answers()) == 2, "the conversation to show")
            await pilot.pause()
            ok, bad = app.conversation.answers()
            assert badge_text(ok).startswith("⚙ timer · 5 min") and "-failed" not in ok.classes
            assert badge_text(bad).startswith("⚙ timer · not run") and "-failed" in bad.classes
            assert bad.text == refused
            assert "call: timer(minutes=-5)" in bad.query_one("#details").render().plain

    run(scenario)


def test_a_timer_rings_in_the_app_mid_conversation_and_is_marked_shown(tiny_student, ringer_stops):
    async def scenario():
        app = make_app()
        bells: list[float] = []
        app.bell = lambda: bells.append(time.monotonic())  # the terminal bell, counted
        async with app.run_test(size=SIZE) as pilot:
            view = await ask(pilot, "set a timer for 1 second")
            assert badge_text(view).startswith("⚙ timer · 1 s")
            [timer] = Store().timers()
            await ask(pilot, "hello")  # the conversation goes on; the ringer rings meanwhile
            await until(pilot, lambda: "Timer done: 1 second." in notifications(app), "the ring", timeout=15)
            assert bells, "the terminal bell did not ring"
            await until(pilot, lambda: Store().timer(timer["id"])["shown_at"], "the ring marked shown")  # not missed
            assert Store().timer(timer["id"])["status"] == "rung"
            assert "Missed" not in notifications(app)

    run(scenario)


def test_what_rang_while_the_app_was_closed_shows_as_missed_at_start(tiny_student, monkeypatch):
    import datetime as dt

    from assistant.tools import rings

    monkeypatch.setenv("APPRENTICE_RINGER", "off")
    store = Store()
    hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    timer_id = store.add_timer(
        "timer", rings.utc_iso(hour_ago), created=rings.utc_iso(hour_ago - dt.timedelta(minutes=10))
    )
    store.claim_due(rings.utc_iso(hour_ago))  # it rang an hour ago, with no app open to show it
    with store.db.conn:
        store.db.execute("UPDATE timers SET rang_at = ? WHERE id = ?", [rings.utc_iso(hour_ago), timer_id])

    async def scenario():
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: "Missed" in notifications(app), "the missed notice")
            assert f"Missed: timer #{timer_id} of 10 minutes rang at" in notifications(app)
            await until(pilot, lambda: Store().timer(timer_id)["shown_at"], "the ring marked shown")
            await pilot.pause(1.5)  # a second look finds nothing more to show
            assert notifications(app).count("Missed") == 1

    run(scenario)


def test_timers_lists_what_is_set_soonest_first_and_cancels_one(tiny_student, monkeypatch):
    import datetime as dt

    from assistant.tools import rings
    from assistant.tui.screens.timers import TimersScreen

    monkeypatch.setenv("APPRENTICE_RINGER", "off")
    store = Store()
    now = dt.datetime.now(dt.UTC)
    later = store.add_timer("timer", rings.utc_iso(now + dt.timedelta(minutes=20)), created=rings.utc_iso(now))
    sooner = store.add_timer("reminder", rings.utc_iso(now + dt.timedelta(minutes=5)), label="call mum")

    async def scenario():
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press(*"/timers", "enter")
            await until(pilot, lambda: isinstance(app.screen, TimersScreen), "the timers screen")
            options = app.screen.query_one("OptionList")
            shown = [options.get_option_at_index(i).prompt.plain for i in range(options.option_count)]
            assert shown[0].startswith(f"#{sooner} reminder “call mum”, rings at") and "(in 5 minutes)" in shown[0]
            assert shown[1].startswith(f"#{later} timer 20 minutes, rings at") and len(shown) == 2
            await pilot.press("x")  # cancels the selected one: the soonest
            await pilot.pause()
            assert Store().timer(sooner)["status"] == "cancelled" and Store().timer(later)["status"] == "pending"
            assert f"Reminder {sooner} (“call mum”) cancelled." in notifications(app)
            assert options.option_count == 1 and options.get_option_at_index(0).id == str(later)
            await pilot.press("delete")
            await pilot.pause()
            assert Store().timers() == []
            assert "No timers, alarms or reminders are set." in options.get_option_at_index(0).prompt.plain
            await pilot.press("escape")
            assert not isinstance(app.screen, TimersScreen)

    run(scenario)


@pytest.mark.usefixtures("gemini")
def test_stats_shows_how_many_questions_left_week_by_week_and_by_student(tiny_student, utc):
    from assistant.tui.screens.stats import StatsScreen

    async def scenario():
        app = make_app(mode="auto")
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press(*"/stats", "enter")
            await until(pilot, lambda: isinstance(app.screen, StatsScreen), "the stats screen")
            assert "No questions logged yet" in str(app.screen.query_one("#table", Static).render())
            await pilot.press("escape")
            await ask(pilot, WEATHER)  # live information: the teacher answers it
            await ask(pilot, "/local Hello there")  # answered here
            await pilot.press(*"/stats", "enter")
            await until(pilot, lambda: isinstance(app.screen, StatsScreen), "the stats screen")
            rows = [line.split() for line in str(app.screen.query_one("#table", Static).render()).splitlines()]
            week = period_of(Store().traffic()[0]["created"], "week")
            # week, questions, answered here, sent to the teacher, share sent, [95%], students
            assert [week, "2", "1", "1", "50%"] in [row[:5] for row in rows] and rows[1][-1] == "tiny"
            await pilot.press("tab")
            rows = [line.split() for line in str(app.screen.query_one("#table", Static).render()).splitlines()]
            assert rows[0][0] == "student" and rows[1][:5] == ["tiny", "2", "1", "1", "50%"]
            await pilot.press("escape")
            assert not isinstance(app.screen, StatsScreen)

    run(scenario)


# -- /distill: a real distillation of the tiny student, run as a child process ---------------------

# the tiny random model learns to say "Paris" in 150 steps at this rate (see test_distill.py)
FAST_DISTILL = {
    "min_examples": 4,
    "iters": 150,
    "learning_rate": 1e-3,
    "num_layers": -1,
    "batch_size": 4,
    "save_every": 10,
}


def distill_settings(monkeypatch, **settings) -> None:
    """`distill_*` settings in the environment: the app reads them, and the child inherits them."""
    for name, value in settings.items():
        monkeypatch.setenv(f"APPRENTICE_DISTILL_{name.upper()}", str(value))


def distill_text(app) -> str:
    """What the /distill screen shows: its texts and the labels of its visible buttons."""
    screen = app.screen

    def visible(w) -> bool:
        return all(a.display for a in w.ancestors_with_self if a is not screen and a is not app)

    shown = [w for w in screen.query("Static") if not isinstance(w, Button) and visible(w)]
    texts = [getattr(r, "plain", str(r)) for w in shown if (r := w.render())]
    return "\n".join(texts + [f"[{b.label}]" for b in screen.query(Button) if b.display])


async def open_distill(pilot) -> DistillScreen:
    await pilot.press(*"/distill", "enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, DistillScreen), "the distill screen")
    await pilot.pause()
    return pilot.app.screen


def test_distill_shows_the_examples_waiting_and_an_interrupted_run(tiny_student, tiny_checkpoint, monkeypatch):
    from assistant import training
    from assistant.models import registry

    store = Store()
    ids = [log_example(store, q, "Paris") for q in PARIS[:6]]
    learned = registry.new_version(
        "distill-1",
        source="test",
        bits=None,
        parent="tiny",
        external_path=str(tiny_checkpoint),
        info={"dataset": {"example_ids": ids[:2]}},
    )
    registry.register(registry.staging_folder("distill-1"), learned, make_active=True)
    staging = registry.staging_folder("distill-2")
    (staging / training.STATE).write_text(json.dumps({"name": "distill-2", "done_iters": 30, "iters": 150}))

    distill_settings(monkeypatch, min_examples=4)

    async def scenario():
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_distill(pilot)
            text = distill_text(app)
            assert "6 teacher answers are logged for training; distill-1 has not learned from 4 of them." in text
            assert "distill-2 was interrupted at step 30 of 150" in text
            assert "[Resume]" in text and "[Start over]" in text and "[Close]" in text
            assert screen.focused.id == "resume"
            for button in screen.query(Button):  # usable at 80×24
                assert not button.display or screen.region.contains_region(button.region)
            await pilot.press("escape")
            assert not isinstance(app.screen, DistillScreen)
            # the command palette has it too
            await pilot.press("ctrl+p", *"Distill")
            await until(pilot, lambda: "Distill the student (/distill)" in screen_text(app), "the palette")
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, DistillScreen), "the distill screen from the palette")

    run(scenario)


def test_distill_with_too_few_examples_says_how_many_more(tiny_student, monkeypatch):
    from assistant.models import registry

    store = Store()
    for q in PARIS[:3]:
        log_example(store, q, "Paris")

    distill_settings(monkeypatch, min_examples=5)

    async def scenario():
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await open_distill(pilot)
            text = distill_text(app)
            assert "3 teacher answers are logged" in text
            assert "it takes at least 5 usable teacher answers; 2 more are needed" in text
            assert "[Start]" not in text and "[Close]" in text
            await pilot.press("escape")
            # enough by count, but two are the same question: the child says how many more after dedup
            log_example(store, "What is the capital of Japan?", "Tokyo")
            log_example(store, "what is the capital of japan", "Tokyo")
            await open_distill(pilot)
            assert "[Start]" in distill_text(app)
            await click(pilot, "#start")
            await until(pilot, lambda: "Too few examples" in distill_text(app), "the child's answer")
            text = distill_text(app)
            assert "needs at least 5 usable teacher answers and there are 4 (left out: duplicate 1)" in text
            assert "1 more is needed" in text
            assert "[Close]" in text
            assert [v.name for v in registry.versions()] == ["tiny"]

    run(scenario)


@pytest.mark.usefixtures("adapter_words")  # it teaches the tiny model "Paris" in words
def test_distill_runs_a_child_that_promotes_and_the_next_question_uses_it(learnable_student, monkeypatch):
    store = Store()
    for q in PARIS:
        log_example(store, q, "Paris")

    distill_settings(monkeypatch, **FAST_DISTILL)

    async def scenario():
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_distill(pilot)
            text = distill_text(app)
            assert "12 teacher answers are logged for training; tiny has not learned from 12 of them." in text
            await pilot.press("enter")  # Start has the focus
            bar = screen.query_one(ProgressBar)
            await until(pilot, lambda: "Training · step" in distill_text(app), "training progress")
            assert bar.total == 150 and 0 < bar.progress <= 150
            assert " left" in distill_text(app) or "almost done" in distill_text(app)  # seconds, or minutes when busy
            assert "[Cancel]" in distill_text(app) and "[Start]" not in distill_text(app)
            await until(
                pilot,
                lambda: "is now the active student" in distill_text(app),
                "the promotion",
                timeout=300,
                shown=lambda: distill_text(app),
            )
            text = distill_text(app)
            assert "distill-1 is now the active student: held-out accuracy" in text
            assert "takes effect at your next question" in text
            assert "tiny has not learned from" not in text  # the counts are read again
            assert "student distill-1" in status_text(app)
            await pilot.press("escape")
            view = await ask(pilot, "What is the capital of France?")
            assert badge_text(view).startswith("⌂ local · distill-1")
            assert Store().turn(view.turn_id)["model"] == "distill-1"

    run(scenario)


def test_cancelling_a_distillation_keeps_the_student_and_offers_resume(tiny_student, monkeypatch):
    from assistant.models import registry

    store = Store()
    for q in PARIS[:8]:
        log_example(store, q, "Paris")

    distill_settings(monkeypatch, **{**FAST_DISTILL, "iters": 2000})  # long enough to cancel mid-run

    async def scenario():
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_distill(pilot)
            await pilot.press("enter")
            # past a saved step of training itself (the bar also counts the answers measured before it)
            await until(
                pilot,
                lambda: "Training · step" in distill_text(app) and screen.query_one(ProgressBar).progress > 12,
                "a saved step",
            )
            await pilot.press("escape")
            assert "Stopping" in distill_text(app)
            await until(pilot, lambda: "Cancelled" in distill_text(app), "the child to stop")
            text = distill_text(app)
            assert "the active student (tiny) is unchanged" in text
            assert "Resume continues distill-1 from its last saved step" in text
            assert "[Resume]" in text and isinstance(app.screen, DistillScreen)
            assert registry.active_name() == "tiny" and "student tiny" in status_text(app)

    run(scenario)


def test_closing_the_app_mid_distillation_stops_the_child(tiny_student, monkeypatch):
    import os

    store = Store()
    for q in PARIS[:8]:
        log_example(store, q, "Paris")

    distill_settings(monkeypatch, **{**FAST_DISTILL, "iters": 2000})

    async def scenario():
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_distill(pilot)
            await pilot.press("enter")
            await until(pilot, lambda: screen.process is not None, "the child to start")
            pid = screen.process.pid
        return pid

    pid = run(scenario)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_a_distillation_that_crashes_is_one_sentence_and_logged(tiny_student, home, monkeypatch):
    from assistant.tui.screens import distill as screen_module

    for q in PARIS[:4]:
        log_example(Store(), q, "Paris")
    crash = "import sys; print('loading', file=sys.stderr); raise RuntimeError('the disk is full')"
    monkeypatch.setattr(screen_module, "CHILD", ("-c", crash))

    distill_settings(monkeypatch, min_examples=4)

    async def scenario():
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await open_distill(pilot)
            await pilot.press("enter")
            await until(pilot, lambda: "stopped unexpectedly" in distill_text(app), "the crash to show")
            text = distill_text(app)
            log = home / "logs" / "errors.log"
            assert f"(exit status 1): RuntimeError: the disk is full. Its output is in {log}." in text
            assert "Traceback" not in text
            assert "Traceback" in log.read_text() and "the disk is full" in log.read_text()
            assert app.screen.focused.id == "close"

    run(scenario)


# -- the teacher: fake-gemini with the real google-genai client -----------------------------


def test_auto_mode_sends_a_weather_question_to_gemini_with_a_badge_and_reason(tiny_student, gemini):
    async def scenario():
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press(*"/auto", "enter")
            view = await ask(pilot, WEATHER)
            badge = badge_text(view)
            assert badge.startswith("☁ Gemini · gemini-"), badge
            assert len(badge.split("  ", 1)[1].strip()) > 5  # the router's reason
            assert "Sunny and 24 °C" in view.text
            assert Store().turn(view.turn_id)["route"] == "cloud"
            assert gemini.sent(), "nothing reached the teacher"
            assert f"sent to Gemini: {WEATHER}" in view.query_one("#details").render().plain

    run(scenario)


def test_ask_mode_shows_the_redacted_text_and_obeys_both_buttons(tiny_student, gemini):
    async def scenario():
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press(*"/ask", "enter")
            for choice in ("#keep-local", "#send"):
                await pilot.press(*"What's the weather tomorrow where bob@example.com lives?", "enter")
                await until(
                    pilot, lambda: isinstance(app.screen, ConsentScreen) and app.screen.focused, "the consent modal"
                )
                shown = app.screen.query_one("#consent-text Static").render().plain
                assert "[EMAIL_1]" in shown and "bob@example.com" not in shown
                await click(pilot, choice)
                await until(pilot, lambda: not app.answering, "the answer")
                await pilot.pause()
                view = app.conversation.last_answer()
                if choice == "#keep-local":
                    assert badge_text(view).startswith("⌂ local")
                    assert gemini.sent() == []  # nothing left the machine
                else:
                    assert badge_text(view).startswith("☁ Gemini")
                    assert "[EMAIL_1]" in view.query_one("#details").render().plain  # what was sent
                    sent = json.dumps(gemini.sent())
                    assert "[EMAIL_1]" in sent and "bob@example.com" not in sent

    run(scenario)


# -- snapshots: fixed conversations, fixed times and speeds -------------------------------------


async def _steady(pilot) -> None:
    app = pilot.app
    await app.workers.wait_for_complete()
    app.prompt.cursor_blink = False
    app.clear_notifications()
    await pilot.pause()


async def _open_first_conversation(pilot) -> None:
    app = pilot.app
    await pilot.press("ctrl+r", "tab", "enter")
    await until(pilot, lambda: app.conversation.answers(), "the conversation to show")
    await _steady(pilot)


def test_snapshot_main_screen(tiny_student, utc, snap_compare):
    seed(Store(), "What is the capital of France?", "2025-01-15T09:30:00+00:00", CAPITALS)
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_open_first_conversation)


def test_snapshot_main_screen_light_theme(tiny_student, utc, snap_compare):
    seed(Store(), "What is the capital of France?", "2025-01-15T09:30:00+00:00", CAPITALS)

    async def run_before(pilot):
        await pilot.press("f2")
        await _open_first_conversation(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_snapshot_consent_modal(tiny_student, utc, snap_compare):
    async def run_before(pilot):
        await _steady(pilot)
        pilot.app.push_screen(
            ConsentScreen(
                "Write to [EMAIL_1] and call [PHONE_1] about the weather in Paris tomorrow; my card is [CARD_1]."
            )
        )
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_snapshot_history_sidebar(tiny_student, utc, snap_compare):
    store = Store()
    seed(store, "What is the capital of France?", "2025-01-13T18:05:00+00:00", CAPITALS[:1])
    seed(store, "What's the weather in Paris tomorrow?", "2025-01-14T07:45:00+00:00", CAPITALS[1:2])
    seed(store, "Print hello in Python", "2025-01-15T09:30:00+00:00", CAPITALS[2:])

    async def run_before(pilot):
        await _steady(pilot)
        await pilot.press("ctrl+r")
        pilot.app.query_one("#history-search").cursor_blink = False  # the cursor shown, whenever the shot is taken
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run_before)


def test_snapshot_action_badges(tiny_student, utc, snap_compare):
    seed(Store(), "set a timer for five minutes", "2025-01-15T09:30:00+00:00", CAPITALS[:1] + action_turns())
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_open_first_conversation)

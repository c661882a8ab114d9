"""The chat app with `apprentice serve` running: questions go to the server over its socket.

Driven with textual's pilot as tests/test_tui.py drives the app, against a real server: a
`python -m assistant serve` child with the tiny student (as tests/test_serve.py starts one), or,
where a test must hold the server's desk, a server inside the test process. Each checks what
a user would see: the same answers and conversation as without a server, a discreet "served"
mark, consent asked in the app, Esc stopping a served answer, and a server killed mid-answer
said in one sentence with the question back in the prompt.

    python -m pytest tests/test_tui_served.py -q
"""

from __future__ import annotations

import json
import signal

import pytest
from test_serve import Running
from test_tui import SIZE, WEATHER, ask, badge_text, click, run, status_text, until

from assistant import config
from assistant.store import Store
from assistant.tui.app import SERVER_GONE, ApprenticeApp
from assistant.tui.screens.consent import ConsentScreen


@pytest.fixture
def served_env(monkeypatch, tiny_student):
    """Greedy, short answers on any free port: the server child reads the same environment as the app."""
    monkeypatch.setenv("APPRENTICE_SERVE_PORT", "0")
    monkeypatch.setenv("APPRENTICE_MAX_TOKENS", "8")
    monkeypatch.setenv("APPRENTICE_TEMPERATURE", "0")
    return tiny_student


@pytest.fixture
def gemini(monkeypatch, tmp_path):
    """fake-gemini as the teacher, for the app and a server started after it."""
    from assistant.dev.fake_gemini import FakeGemini

    record = tmp_path / "sent.jsonl"
    with FakeGemini(answers={WEATHER: "Sunny and 24 °C in Paris tomorrow."}, record=record) as fake:
        monkeypatch.setenv("GEMINI_API_KEY", "test-key")
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake.url)
        fake.sent = lambda: [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []
        yield fake


def chat_turns() -> list[dict]:
    return list(reversed([t for t in Store().turns(limit=None) if t["source"] == "chat"]))  # oldest first


def test_the_app_asks_a_running_server_and_answers_alike_without_it(served_env):
    running = Running()

    async def scenario():
        app = ApprenticeApp(config.load())
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.status.served, "the app to find the server", shown=lambda: status_text(app))
            served = [await ask(pilot, "Hello"), await ask(pilot, "And then?")]
            assert app.assistant._student is None  # the server's student answered; none was loaded here
            for view in served:
                assert badge_text(view).startswith("⌂ local · tiny · served")
            assert "student tiny · served" in status_text(app)

            running.stop()  # the next conversation is answered by the app itself
            await pilot.press("ctrl+n")
            alone = [await ask(pilot, "Hello"), await ask(pilot, "And then?")]
            for view in alone:
                assert badge_text(view).startswith("⌂ local · tiny") and "served" not in badge_text(view)
            assert "served" not in status_text(app)
            return [v.text for v in served], [v.text for v in alone]

    try:
        served, alone = run(scenario)
    finally:
        running.stop()
    assert served == alone  # greedy: the same answers, so the server saw the same conversation
    turns = chat_turns()
    assert [t["query"] for t in turns] == ["Hello", "And then?"] * 2
    assert turns[0]["conversation_id"] == turns[1]["conversation_id"] != turns[2]["conversation_id"]
    assert turns[2]["conversation_id"] == turns[3]["conversation_id"]
    assert all(t["status"] == "done" and t["tokens"] == 8 for t in turns)


def test_esc_stops_a_served_answer_and_keeps_what_arrived(served_env, monkeypatch):
    from assistant.server.daemon import Server

    monkeypatch.setenv("APPRENTICE_MAX_TOKENS", "200")
    server = Server(config.load())
    server.start()

    async def scenario():
        app = ApprenticeApp(config.load())
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.status.served, "the app to find the server")
            server.desk._turn.acquire()  # someone else is being answered: this question waits its turn
            try:
                await pilot.press(*"Tell me a long story", "enter")
                await until(pilot, lambda: server.desk.waiting == 1, "the question to reach the server")
                await pilot.press("escape")
            finally:
                server.desk._turn.release()
            await until(pilot, lambda: not app.answering, "the answer to stop")
            await pilot.pause()
            view = app.conversation.last_answer()
            return view.turn_id, view.text, view.query_one("#answer-notes").render().plain, badge_text(view)

    try:
        turn_id, text, notes, badge = run(scenario)
    finally:
        server.stop()
    turn = Store().turn(turn_id)
    assert turn["status"] == "interrupted" and turn["tokens"] < 200
    assert "interrupted" in notes and badge.startswith("⌂ local · tiny · served")
    assert text == turn["answer"].strip()  # what arrived is kept


def test_consent_is_asked_in_the_app_and_a_killed_server_leaves_the_question_to_resend(served_env, gemini):
    running = Running()  # started with the key and fake-gemini in its environment: ask mode

    async def scenario():
        app = ApprenticeApp(config.load())
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: app.status.served, "the app to find the server")
            # the server's consent question is shown here, and "Send" is relayed back to it
            await pilot.press(*WEATHER, "enter")
            await until(
                pilot, lambda: isinstance(app.screen, ConsentScreen) and app.screen.focused, "the consent modal"
            )
            await click(pilot, "#send")
            await until(pilot, lambda: not app.answering, "the served answer")
            await pilot.pause()
            sent = app.conversation.last_answer()
            assert badge_text(sent).startswith("☁ Gemini") and "served" in badge_text(sent)
            assert sent.text == "Sunny and 24 °C in Paris tomorrow." and len(gemini.sent()) == 1

            # killed while it waits for the user's consent: mid-answer
            await pilot.press(*WEATHER, "enter")
            await until(
                pilot, lambda: isinstance(app.screen, ConsentScreen) and app.screen.focused, "the second consent modal"
            )
            running.process.send_signal(signal.SIGKILL)
            running.process.wait()
            await click(pilot, "#keep-local")
            await until(pilot, lambda: not app.answering, "the answer to break off")
            await pilot.pause()
            broken = app.conversation.last_answer()
            assert badge_text(broken) == SERVER_GONE
            assert app.prompt.text == WEATHER  # nothing lost: Enter sends it again
            await until(pilot, lambda: not app.status.served, "the status bar to drop the mark")

            await pilot.press("enter")  # answered by the app itself now, asking here as before
            await until(
                pilot,
                lambda: isinstance(app.screen, ConsentScreen) and app.screen.focused,
                "the app's own consent modal",
            )
            await click(pilot, "#keep-local")
            await until(pilot, lambda: not app.answering, "the app's own answer", timeout=120)
            await pilot.pause()
            again = app.conversation.last_answer()
            assert badge_text(again).startswith("⌂ local · tiny") and "served" not in badge_text(again)
            assert len(gemini.sent()) == 1  # kept local, both times

    try:
        run(scenario)
    finally:
        running.stop()
    assert [t["query"] for t in chat_turns()][-1] == WEATHER


def test_no_server_is_used_when_the_config_says_so(served_env, monkeypatch):
    running = Running()
    monkeypatch.setenv("APPRENTICE_USE_SERVER", "0")

    async def scenario():
        app = ApprenticeApp(config.load())
        async with app.run_test(size=SIZE) as pilot:
            view = await ask(pilot, "Hello")
            assert app.assistant._student is not None  # loaded here
            return badge_text(view) + status_text(app)

    try:
        shown = run(scenario)
    finally:
        running.stop()
    assert "served" not in shown

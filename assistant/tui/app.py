"""The chat app: a prompt at the bottom, the conversation above, privacy always in view.

    apprentice                      # opens it (or: python -m assistant.tui)

Every question goes through the one `Assistant`, on a thread worker, so the prompt stays
responsive while an answer streams; the student itself runs on its own owner thread.
When `apprentice serve` runs for this APPRENTICE_HOME, the question goes to it over its
socket instead (the same conversation, the same log, the same answer; the badge and the
status bar say "served"), and the app does not load a student of its own; if the server
goes away, the next question is answered here. In `ask` mode the worker calls
`ask_consent`, which shows the consent screen on the UI thread and waits for the user's
choice, for a served question too: the server relays it.

Timers ring here too: every second a worker looks for rings no surface has shown (a read of
the store, and a look at the ringer's lock so one runs while anything is pending); a ring that
just happened is a notification and the terminal bell, an older one is shown as missed.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Iterable
from concurrent.futures import Future
from contextlib import nullcontext
from functools import partial

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer

from assistant import config, privacy
from assistant.errors import ApprenticeError, log_crash
from assistant.server.client import ServerGone
from assistant.store import Store
from assistant.tui import commands
from assistant.tui.screens.consent import ConsentScreen
from assistant.tui.screens.distill import DistillScreen
from assistant.tui.screens.help import HelpScreen
from assistant.tui.screens.models import ModelScreen
from assistant.tui.screens.stats import StatsScreen
from assistant.tui.screens.timers import TimersScreen
from assistant.tui.widgets.conversation import AnswerView, Conversation
from assistant.tui.widgets.history import HistorySidebar
from assistant.tui.widgets.prompt import PromptInput
from assistant.tui.widgets.status import StatusBar

MODES = config.MODES  # private → ask → auto
THEMES = ("textual-dark", "textual-light")
BUSY_NOTE = "An answer is still coming; press Esc to stop it first."
RING_POLL_S = 1.0  # a ring shows within about a second of the ringer's
RING_TITLES = {"timer": "Timer", "alarm": "Alarm", "reminder": "Reminder"}
SERVER_GONE = "The server stopped mid-answer; your question is back in the prompt: press Enter to ask it here."


class ApprenticeApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "Apprentice"
    BINDINGS = [
        Binding("escape", "stop", "Stop"),
        Binding("escape", "close_history", "Close history"),
        Binding("ctrl+t", "next_mode", "Mode"),
        Binding("ctrl+r", "toggle_history", "History"),
        Binding("ctrl+n", "new_conversation", "New"),
        Binding("ctrl+y", "copy", "Copy", priority=True),
        Binding("f1", "help", "Help"),
        Binding("f2", "toggle_theme", "Theme", show=False),
    ]

    def __init__(self, settings: config.Settings | None = None, assistant=None) -> None:
        super().__init__()
        self.warnings: list[str] = []  # what config.toml sets but Apprentice ignores: notified once the app is up
        if assistant is None:
            from assistant.core import Assistant

            settings = settings or config.load(warn=self.warnings.append)
            assistant = Assistant(settings, store=Store(on_wait=self.waiting))
        self.assistant = assistant
        self.settings = assistant.settings
        self.mode: str | None = None  # set by /private /ask /auto; None: the configured default
        self.conversation_id: int | None = None
        self.reader = Store(assistant.store.path, on_wait=self.waiting)  # the UI thread's own (WAL: reads never wait)
        self.last_query: str | None = None
        self.answering = False
        self._answer = None  # the Answer in flight
        self._stop_requested = False
        self._student_lock = threading.Lock()  # one student load at a time
        self._consents: set[Future] = set()  # consent questions waiting for the user
        self._ring_store: Store | None = None  # the ring poller's own connection, opened on its thread
        self._polling_rings = False  # one look at a time: a slow disk must not pile looks up
        self._ring_error: str | None = None  # said once, not every second

    # -- layout -------------------------------------------------------------------------

    def compose(self):
        with Horizontal(id="body"):
            yield HistorySidebar(self.reader, id="history")
            with Vertical(id="main"):
                yield Conversation(id="conversation")
                yield PromptInput(id="prompt")
        yield StatusBar(id="status")
        yield Footer()

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    @property
    def conversation(self) -> Conversation:
        return self.query_one(Conversation)

    @property
    def history(self) -> HistorySidebar:
        return self.query_one(HistorySidebar)

    @property
    def prompt(self) -> PromptInput:
        return self.query_one(PromptInput)

    def on_mount(self) -> None:
        self.refresh_status()
        self.prompt.focus()
        for warning in self.warnings:
            self.notify(warning, title="config.toml", severity="warning", timeout=15, markup=False)
        self.warm_student()
        self.check_rings()  # what rang or came due while the app was closed shows now, as missed
        self.set_interval(RING_POLL_S, self.check_rings)

    def waiting(self, sentence: str) -> None:
        """The store waits for another process's lock (from any thread): say so, the app stays usable."""
        self.notify(sentence, severity="warning", markup=False)

    def refresh_status(self) -> None:
        from assistant.models import registry

        status = self.status
        status.mode = self.current_mode()
        status.has_key = privacy.gemini_key() is not None
        try:
            status.student = registry.active_name()
        except ApprenticeError:
            status.student = None

    def current_mode(self) -> str:
        """The privacy mode the next question is asked in (before the key check)."""
        return self.mode or self.assistant.default_mode()

    # -- the student: loaded off the UI thread -------------------------------------------

    def server(self):
        """The running `apprentice serve` of this home (a RemoteAssistant), or None: looked for at each
        question, so a server started or stopped while the app is open is noticed."""
        if not self.settings.use_server:
            return None
        from assistant.server.client import served

        return served()

    @work(thread=True, group="student", exit_on_error=False)
    def warm_student(self) -> None:
        """Load the active student now, so the first answer does not wait for it; not while a server
        answers (it holds the student already)."""
        if self.server() is not None:
            self._ui(setattr, self.status, "served", True)
            return
        self._ui(setattr, self.status, "busy", "loading the student…")
        try:
            with self._student_lock:
                self.assistant.student()  # loads it; the line is read at each query
        except ApprenticeError as exc:
            self._ui(self.notify, str(exc), title="No student", severity="error", timeout=15)
        finally:
            self._ui(setattr, self.status, "busy", "answering…" if self.answering else "")

    def _ui(self, fn, *args, **kwargs):
        """Run `fn` on the UI thread from a worker; None if the app is already gone."""
        try:
            return self.call_from_thread(fn, *args, **kwargs)
        except RuntimeError:  # the app closed under us
            return None

    # -- rings: timers, alarms and reminders, shown while the app is open --------------------

    def check_rings(self) -> None:
        if not self._polling_rings:
            self._polling_rings = True
            self.poll_rings()

    @work(thread=True, group="rings", exit_on_error=False)
    def poll_rings(self) -> None:
        """Off the UI thread: the rings nobody has seen are shown, then marked shown (so not missed)."""
        from assistant.tools import rings

        try:
            if self._ring_store is None:
                self._ring_store = Store(self.assistant.store.path)  # no waiting notice: the next second retries
            self._ui(self._show_served, self.server() is not None)  # a server started or stopped meanwhile
            rows = rings.poll(self._ring_store)
            if rows and self._ui(self.show_rings, rows):
                rings.mark_shown(self._ring_store, [r["id"] for r in rows])
            self._ring_error = None
        except (ApprenticeError, sqlite3.Error) as exc:  # busy or unreadable now: say it once, keep looking
            sentence = str(exc) if isinstance(exc, ApprenticeError) else f"Timers cannot be read now ({exc})."
            if sentence != self._ring_error:
                self._ring_error = sentence
                self._ui(self.notify, sentence, title="Timers", severity="error", markup=False)
        finally:
            self._polling_rings = False

    def _show_served(self, served: bool) -> None:
        if not self.answering:  # while answering, the answer itself says how it was answered
            self.status.served = served

    def show_rings(self, rows: list[dict]) -> bool:
        """A ring as it happens: a notification and the bell; one from before: a notice that it was missed."""
        from assistant.render import inert
        from assistant.tools import rings

        now = dt.datetime.now(dt.UTC)
        bell = False
        for row in rows:
            text = inert(rings.notice(row, now))
            if rings.ringing(row, now):
                title = f"⏰ {RING_TITLES.get(row['kind'], 'Timer')}"
                self.notify(text, title=title, severity="warning", timeout=30, markup=False)
                bell = True
            else:
                self.notify(text, title="Missed", timeout=20, markup=False)
        if bell:
            self.bell()
        return True

    # -- asking ----------------------------------------------------------------------------

    @on(PromptInput.Submitted)
    async def prompt_submitted(self, event: PromptInput.Submitted) -> None:
        try:
            parsed = commands.parse(event.text)
        except commands.UnknownCommand as exc:
            self.notify(str(exc), severity="warning")
            return
        if parsed is None:
            if self.answering:
                self.notify(BUSY_NOTE, severity="warning")
                return
            event.prompt.clear()
            await self.send(event.text)
        else:
            event.prompt.clear()
            command, argument = parsed
            await self.run_command(command.name, argument)

    async def send(self, query: str, force: str | None = None) -> None:
        """Show the question and stream its answer in."""
        if self.answering:
            self.notify(BUSY_NOTE, severity="warning")
            return
        self.answering, self._stop_requested, self.last_query = True, False, query
        self.status.busy = "answering…"
        self.refresh_bindings()
        view = await self.conversation.add_exchange(query)
        self.answer(query, force, view)

    @work(thread=True, group="answer", exit_on_error=False)
    def answer(self, query: str, force: str | None, view: AnswerView) -> None:
        """On a worker thread: route, stream the answer into `view`, log it (core does)."""
        sent: list[str] = []

        def consent(text: str) -> bool:
            allowed = self.ask_consent(text, forced=force == "cloud")
            if allowed:
                sent.append(text)
            return allowed

        result = None
        try:
            answer = self._start_answer(query, force, consent)
            self._answer = answer
            if self._stop_requested:
                answer.cancel()
            self._ui(setattr, self.status, "served", getattr(answer, "served", False))
            self._ui(view.set_route, answer.decision.route, answer.model, answer.decision.reason)
            for chunk in answer:
                self._ui(view.write, chunk)
                if not self.is_running:  # the app quit mid-answer: stop the student, keep what arrived
                    answer.cancel()
            result = answer.result()
            shown = self.assistant.store.query_sent(answer.turn_id) if answer.turn_id is not None else None
            self._ui(view.finish, result, shown or (sent[-1] if sent else None), answer.decision.score)
        except ServerGone:  # the server ended mid-answer: say so; the next question is answered here
            self._ui(view.fail, SERVER_GONE)
            self._ui(self._resend_later, query)
        except ApprenticeError as exc:
            self._ui(view.fail, str(exc))
        except Exception as exc:  # a bug: say so in the app, keep the details in the error log
            self._ui(
                view.fail, f"Something went wrong ({type(exc).__name__}: {exc}). Details are in {log_crash('(chat)')}."
            )
        finally:
            self._answer = None
            self._ui(self.answer_done, result)

    def _start_answer(self, query: str, force: str | None, consent):
        """The running server's answer when one runs, else this process's: they stream and end alike.
        A server that cannot be reached, or ends before answering, leaves the question to this process."""
        remote = self.server()
        if remote is not None:
            try:
                # the mode this app would ask in, so a server started with other settings asks alike
                return remote.answer(
                    query, self.conversation_id, source="chat", force=force, mode=self.current_mode(), consent=consent
                )
            except ServerGone:
                self._ui(self.warm_student)
        with self._student_lock if self._needs_student(query, force) else nullcontext():
            answer = self.assistant.answer(
                query, self.conversation_id, source="chat", force=force, mode=self.mode, consent=consent
            )
        return answer

    def _resend_later(self, query: str) -> None:
        """Put the question back in the prompt (unless something else was typed), and load the student here."""
        self.status.served = False
        if not self.prompt.text.strip():
            self.prompt.text = query
            self.prompt.move_cursor(self.prompt.document.end)
        self.warm_student()

    def _needs_student(self, query: str, force: str | None) -> bool:
        """Whether answering may load the student, and so waits for a load in progress. A sentence
        template's match ("set a timer for 5 minutes") runs its tool at once, even while it loads."""
        if not self.settings.fast_path or force == "cloud":  # /cloud skips the templates
            return True
        from assistant.tools import fastpath

        return fastpath.match(query) is None

    def answer_done(self, result: dict | None) -> None:
        self.answering = False
        self.status.busy = ""
        self.refresh_bindings()
        if result is not None:
            if result.get("conversation_id") is not None:
                self.conversation_id = result["conversation_id"]
            if result.get("route") == "local" and result.get("tokens_per_s") is not None:
                self.status.tokens_per_s = result["tokens_per_s"]  # the student's speed, beside its name
        self.refresh_status()  # a distillation or `apprentice model use` may have changed the student
        if self.history.is_open:
            self.history.reload()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "stop":  # Esc stops an answer; else it closes the history; the footer shows which
            return self.answering
        if action == "close_history":
            sidebars = self.query(HistorySidebar)
            return not self.answering and bool(sidebars and sidebars.first().is_open)
        return True

    def action_stop(self) -> None:
        """Esc: stop the answer in flight; what arrived is kept."""
        if self.answering:
            self._stop_requested = True
            if self._answer is not None:
                self._answer.cancel()
            self.status.busy = "stopping…"

    def action_close_history(self) -> None:
        if self.history.is_open:
            self.action_toggle_history()

    # -- consent: called from the worker thread, answered on the UI thread ----------------

    def ask_consent(self, text: str, forced: bool = False) -> bool:
        """Show the exact redacted `text` and wait for "Send to Gemini" (True) or "Keep local"."""
        if threading.get_ident() == self._thread_id:
            raise RuntimeError("ask_consent waits for the user: call it from a worker thread")
        decision: Future = Future()
        self._consents.add(decision)

        def show() -> None:
            self.push_screen(
                ConsentScreen(text, forced=forced),
                callback=lambda allowed: decision.done() or decision.set_result(bool(allowed)),
            )

        if self._ui(show) is None and not self.is_running:
            return False
        try:
            return decision.result()
        finally:
            self._consents.discard(decision)

    async def on_unmount(self) -> None:
        for decision in list(self._consents):  # nobody is left to say yes
            if not decision.done():
                decision.set_result(False)
        if self._answer is not None:
            self._answer.cancel()

    # -- commands: the prompt's slash commands and the palette share them -----------------

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for command in commands.COMMANDS:
            yield SystemCommand(
                f"{command.title} (/{command.name})", command.help, partial(self.run_command, command.name, "")
            )

    async def run_command(self, name: str, argument: str) -> None:
        await getattr(self, f"command_{name}")(argument)

    async def command_private(self, _: str) -> None:
        self.set_mode("private")

    async def command_ask(self, _: str) -> None:
        self.set_mode("ask")

    async def command_auto(self, _: str) -> None:
        self.set_mode("auto")

    async def command_cloud(self, question: str) -> None:
        await self._ask_forced(question, "cloud")

    async def command_local(self, question: str) -> None:
        await self._ask_forced(question, "local")

    async def _ask_forced(self, question: str, force: str) -> None:
        question = question or self.last_query or ""
        if not question:
            self.notify(f"Nothing to ask yet: type /{force} and a question.", severity="warning")
            return
        await self.send(question, force=force)

    async def command_bad(self, _: str) -> None:
        view = self.conversation.last_answer()
        if self.answering:
            self.notify(BUSY_NOTE, severity="warning")
        elif view is None or view.turn_id is None:
            self.notify("There is no logged answer to mark yet.", severity="warning")
        else:
            self.mark_bad(view)

    @work(thread=True, group="bad", exit_on_error=False)
    def mark_bad(self, view: AnswerView) -> None:
        """Off the UI thread: learning from it may need the embedder."""
        try:
            turn = self.assistant.mark_bad(view.turn_id)
        except ApprenticeError as exc:
            self._ui(self.notify, str(exc), severity="error")
            return
        self._ui(view.mark_bad)
        why = (
            "the router learns from it"
            if turn.get("route") == "local"
            else "it will never be used to train the student"
        )
        if turn.get("correction"):  # Gemini answered the same question since: its answer corrects this one
            why += "; Gemini's answer to it becomes a correction the student trains on"
        elif turn.get("route") == "local":
            why += "; /cloud asks Gemini, and its answer becomes a correction the student trains on"
        self._ui(self.notify, f"Marked answer #{view.turn_id} wrong; {why}.")

    async def command_model(self, name: str) -> None:
        from assistant.models import registry

        if self.answering:
            self.notify(BUSY_NOTE, severity="warning")
            return
        if name:
            self.use_student(name)
            return
        try:
            versions, active = registry.versions(), registry.active_name()
        except ApprenticeError as exc:
            self.notify(str(exc), severity="error")
            return
        if not versions:
            self.notify("No student versions yet; run `apprentice model pull`.", severity="warning")
            return
        self.push_screen(ModelScreen(versions, active), callback=lambda chosen: chosen and self.use_student(chosen))

    def use_student(self, name: str) -> None:
        from assistant.models import registry

        try:
            registry.use(name)
        except ApprenticeError as exc:
            self.notify(str(exc), severity="error")
            return
        self.refresh_status()
        self.notify(f"Student {name!r} is active.")
        self.warm_student()

    async def command_distill(self, _: str) -> None:
        if not isinstance(self.screen, DistillScreen):
            self.push_screen(DistillScreen(self.reader, self.settings))

    @on(DistillScreen.Finished)
    def distill_finished(self, event: DistillScreen.Finished) -> None:
        """A promotion shows in the status bar now; the student loads now, so the next question need not wait."""
        self.refresh_status()
        if event.result and event.result.get("promoted"):
            self.warm_student()

    async def command_timers(self, _: str) -> None:
        if not isinstance(self.screen, TimersScreen):
            self.push_screen(TimersScreen(self.reader))

    async def command_stats(self, _: str) -> None:
        if not isinstance(self.screen, StatsScreen):
            self.push_screen(StatsScreen(self.reader))

    async def command_new(self, _: str) -> None:
        if self.answering:
            self.notify(BUSY_NOTE, severity="warning")
            return
        self.conversation_id = None
        await self.conversation.clear()
        self.prompt.focus()

    async def action_new_conversation(self) -> None:
        await self.command_new("")

    async def command_history(self, _: str) -> None:
        self.action_toggle_history()

    async def command_copy(self, _: str) -> None:
        self.action_copy()

    async def command_help(self, _: str) -> None:
        self.action_help()

    # -- modes, history, copy, help, theme ----------------------------------------------------

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self.refresh_status()
        has_key = self.status.has_key
        _, note = privacy.effective_mode(mode, has_key)
        if note:
            self.notify(note, title=f"{mode} mode", severity="warning")
        else:
            self.notify(
                {
                    "private": "Private: nothing leaves this machine.",
                    "ask": "Ask: you will see what would be sent, and decide each time.",
                    "auto": "Auto: hard queries go to Gemini, redacted, without asking.",
                }[mode],
                title=f"{mode} mode",
            )

    def action_next_mode(self) -> None:
        self.set_mode(MODES[(MODES.index(self.current_mode()) + 1) % len(MODES)])

    def action_toggle_history(self) -> None:
        self.history.toggle()
        self.refresh_bindings()
        if not self.history.is_open:
            self.prompt.focus()

    @on(HistorySidebar.Opened)
    async def open_conversation(self, event: HistorySidebar.Opened) -> None:
        """Restore a stored conversation; the next question continues it (the student rebuilds its prompt cache)."""
        if self.answering:
            self.notify(BUSY_NOTE, severity="warning")
            return
        rows = self.reader.conversation_turns(event.conversation_id)
        self.conversation_id = event.conversation_id
        await self.conversation.show_turns(rows, sent={r["id"]: self.reader.query_sent(r["id"]) for r in rows})
        speeds = [r["tokens_per_s"] for r in rows if r.get("route") == "local" and r.get("tokens_per_s") is not None]
        self.status.tokens_per_s = speeds[-1] if speeds else None
        self.last_query = rows[-1]["query"] if rows else None
        self.action_toggle_history()

    def action_copy(self) -> None:
        focused = self.focused
        view = next((w for w in (focused, *(focused.ancestors if focused else ())) if isinstance(w, AnswerView)), None)
        view = view or self.conversation.last_answer()
        if view is None or not view.text:
            self.notify("There is no answer to copy yet.", severity="warning")
            return
        view.action_copy()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = THEMES[1] if self.theme == THEMES[0] else THEMES[0]


def main(argv: list[str] | None = None) -> int:
    """Open the chat app; errors before it starts become one sentence and exit status 1."""
    import sys

    try:
        app = ApprenticeApp()
    except ApprenticeError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return exc.exit_code
    app.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

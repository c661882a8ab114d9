"""/distill: what the student could learn, a distillation run as a child process, and its result.

The screen first shows `assistant.training.waiting()`: the teacher answers logged, how many the
active student has not learned from, and whether an interrupted run can be resumed. Start (or Resume)
runs `python -m model.distill --json --progress jsonl` as a child process, so training never
blocks the chat; its stderr lines drive the progress bar and its stdout is the one JSON result.
Esc cancels with SIGINT: the child keeps the active student and leaves its last saved step for
Resume. Closing the screen or the app stops a child still running. The result is said in the
words `apprentice distill` uses (assistant/training.py); the app never imports the training code.
"""

from __future__ import annotations

import asyncio
import json
import math
import signal
import sys
from collections import deque
from dataclasses import dataclass

from textual import on, work
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, ProgressBar, Static

from assistant import config, training
from assistant.errors import UNWRITTEN, log_crash
from assistant.render import inert

PHASES = {  # the child's phase names, as a person would say them
    "retention: current": "Asking the current student what it knows",
    "replay: current": "Collecting the current student's own answers to rehearse",
    "train": "Training",
    "evaluate current": "Testing the current student",
    "evaluate candidate": "Testing the new version",
    "re-judge outcomes": "Re-judging the router's memory",
    "rationales": "Asking Gemini for rationales",
}
CHILD = ("-m", "model.distill")  # run with this Python, so the child sees the same packages
STOP_GRACE_S = 10.0  # after SIGINT the child only prints a sentence and exits; past this it is killed
LINE_LIMIT = 2**20  # a stderr line longer than this (1 MiB) is not progress: it is dropped


def eta_words(seconds: float | None) -> str:
    if seconds is None:
        return ""
    if seconds < 1:
        return "almost done"
    if seconds < 60:
        return f"about {math.ceil(seconds)} s left"
    if seconds < 3600:
        return f"about {round(seconds / 60)} min left"
    return f"about {int(seconds // 3600)} h {round(seconds % 3600 / 60)} min left"


class DistillScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    DistillScreen { align: center middle; }
    DistillScreen > Vertical {
        width: 76;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: round $primary;
        border-title-align: center;
        border-subtitle-align: center;
        background: $surface;
        padding: 0 1;
    }
    DistillScreen #distill-intro { color: $text-muted; margin-bottom: 1; }
    DistillScreen #distill-hint { color: $text-warning; margin-top: 1; }
    DistillScreen #distill-progress { height: auto; margin-top: 1; display: none; }
    DistillScreen #distill-progress.-shown { display: block; }
    DistillScreen #distill-phase { text-style: bold; }
    DistillScreen ProgressBar { width: 100%; }
    DistillScreen ProgressBar Bar { width: 1fr; }
    DistillScreen Bar > .bar--bar, DistillScreen Bar > .bar--indeterminate {
        background: $foreground 15%;  /* the track: the default, $surface, vanishes on this modal */
    }
    DistillScreen #distill-message {
        color: $text-muted;
        text-style: italic;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    DistillScreen #distill-result { margin-top: 1; padding: 0 1; }
    DistillScreen #distill-result.-good { border-left: thick $success; }
    DistillScreen #distill-result.-warn { border-left: thick $warning; }
    DistillScreen #distill-result.-bad { border-left: thick $error; }
    DistillScreen #distill-buttons { height: auto; align-horizontal: right; margin-top: 1; }
    DistillScreen Button { margin-left: 2; }
    """

    BINDINGS = [Binding("escape", "escape", "Cancel or close")]

    @dataclass
    class Finished(Message):
        """A run ended; `result` is the child's JSON object, or None when it gave none."""

        result: dict | None

    def __init__(self, store=None, settings=None) -> None:
        super().__init__()
        self.store = store
        self.settings = settings
        self.process: asyncio.subprocess.Process | None = None
        self.cancelling = False
        self.finished = False  # a run ended while the screen was open
        self.waiting: training.Waiting | None = None

    def compose(self):
        with Vertical(id="distill-box") as box:
            box.border_title = "Distill the student"
            yield Static(
                "Distillation fine-tunes the student on Gemini's logged answers, then makes the new "
                "version active only if it answers held-out questions better.",
                id="distill-intro",
            )
            yield Static(id="distill-waiting", markup=False)
            yield Static(id="distill-hint", markup=False)
            with Vertical(id="distill-progress"):
                yield Static(id="distill-phase", markup=False)
                yield ProgressBar(total=None, show_eta=False, id="distill-bar")
                yield Static(id="distill-message", markup=False)
            yield Static(id="distill-result", markup=False)
            with Horizontal(id="distill-buttons"):
                yield Button("Resume", id="resume", variant="primary")
                yield Button("Start", id="start", variant="primary")
                yield Button("Cancel", id="cancel", variant="error")
                yield Button("Close", id="close")

    def on_mount(self) -> None:
        self.query_one("#distill-result").display = False  # until a run ends
        self.show_waiting()

    # -- before a run: what is waiting -------------------------------------------------------------

    def min_examples(self) -> int:
        """The fewest examples the child will accept: the setting it reads too (it inherits the environment)."""
        return (self.settings or config.load()).distill_min_examples

    def show_waiting(self) -> None:
        from assistant.models import registry

        self.waiting = w = training.waiting(self.store)
        student = registry.active_name() or "The student"
        if w.examples == 0:
            counts = (
                "No teacher answers are logged yet: the student learns from what Gemini answers in ask or auto mode."
            )
        else:
            learned = (
                f"{student} has learned from all of them"
                if w.new == 0
                else f"{student} has not learned from {w.new} of them"
            )
            counts = f"{w.examples} teacher answers are logged for training; {learned}."
        self.query_one("#distill-waiting", Static).update(counts)

        hints = []
        pending = w.interrupted
        if pending:
            hints.append(
                f"The run for {pending.version} was interrupted at step {pending.step} of "
                f"{pending.steps}: Resume continues it; Start over begins a new one."
            )
        least = self.min_examples()
        needed = least - w.examples
        if needed > 0 and w.examples > 0:
            hints.append(
                f"Too few to distill: it takes at least {least} usable teacher answers; "
                f"{training.more(needed)}. Keep asking in ask or auto mode, then distill again."
            )
        hint = self.query_one("#distill-hint", Static)
        hint.update("\n".join(hints))
        hint.display = bool(hints)

        self._buttons(running=False, can_start=needed <= 0)

    def _buttons(self, running: bool, can_start: bool = True) -> None:
        pending = self.waiting is not None and self.waiting.interrupted is not None
        start, resume = self.query_one("#start", Button), self.query_one("#resume", Button)
        cancel, close = self.query_one("#cancel", Button), self.query_one("#close", Button)
        resume.display = pending and not running
        start.display = can_start and not running
        start.label = "Start over" if pending else "Start again" if self.finished else "Start"
        start.variant = "default" if pending else "primary"
        cancel.display = running
        close.display = not running
        self.query_one("#distill-box").border_subtitle = "Esc cancels the run" if running else "Esc closes"
        # after a run, Enter closes rather than starting another by accident
        first = close if self.finished and not running else next(b for b in (resume, start, cancel, close) if b.display)
        first.focus()

    # -- the run ---------------------------------------------------------------------------------------

    @on(Button.Pressed, "#start")
    def start(self) -> None:
        self.run_child(resume=False)

    @on(Button.Pressed, "#resume")
    def resume(self) -> None:
        self.run_child(resume=True)

    @on(Button.Pressed, "#cancel")
    def cancel(self) -> None:
        if self._interrupt():
            cancel = self.query_one("#cancel", Button)
            cancel.label, cancel.disabled = "Stopping…", True
            self._phase("Stopping… the active student stays as it is.")

    def _interrupt(self) -> bool:
        """SIGINT, once: the child keeps the active student and its last saved step; False if nothing to stop."""
        if self.process is None or self.process.returncode is not None or self.cancelling:
            return False
        self.cancelling = True
        try:
            self.process.send_signal(signal.SIGINT)
        except ProcessLookupError:  # it ended on its own meanwhile
            return False
        return True

    async def _stop(self) -> None:
        """Interrupt the child and wait for it to end; kill it if it lingers."""
        process = self.process
        if process is None or process.returncode is not None:
            return
        self._interrupt()
        try:
            await asyncio.wait_for(process.wait(), STOP_GRACE_S)
        except TimeoutError:
            pass
        finally:
            if process.returncode is None:
                process.kill()

    @on(Button.Pressed, "#close")
    def close(self) -> None:
        self.dismiss(None)

    def action_escape(self) -> None:
        if self.process is not None:
            self.cancel()
        else:
            self.dismiss(None)

    def _phase(self, text: str) -> None:
        self.query_one("#distill-phase", Static).update(text)

    def _message(self, text: str) -> None:
        self.query_one("#distill-message", Static).update(inert(text))

    @work(exclusive=True, group="distill", exit_on_error=False)
    async def run_child(self, resume: bool) -> None:
        try:
            await self._run_child(resume)
        except Exception as exc:  # a bug here: say so on the screen, keep the details in the error log
            self.process = None
            self._finish(
                None,
                f"Something went wrong ({type(exc).__name__}: {exc}). Details are in {log_crash('distill (chat)')}.",
                "-bad",
            )

    async def _run_child(self, resume: bool) -> None:
        self.cancelling = False
        self.query_one("#distill-hint").display = False
        self.query_one("#distill-result").display = False
        self.query_one("#distill-progress").add_class("-shown")
        self.query_one(ProgressBar).update(total=None, progress=0)
        self._phase("Resuming the interrupted run…" if resume else "Preparing the examples…")
        self._message("")
        cancel = self.query_one("#cancel", Button)
        cancel.label, cancel.disabled = "Cancel", False
        argv = [
            sys.executable,
            *CHILD,
            "--json",
            "--progress",
            "jsonl",
        ]  # its settings: config.toml and the environment
        if resume:
            argv.append("--resume")
        try:
            self.process = await asyncio.create_subprocess_exec(
                *argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                limit=LINE_LIMIT,
            )
        except OSError as exc:
            self._finish(None, f"Could not start the distillation: {exc}.", "-bad")
            return
        self._buttons(running=True)
        process, tail = self.process, deque(maxlen=200)
        try:
            # stdout is read alongside stderr: a full pipe would stall the child
            out = asyncio.ensure_future(process.stdout.read())
            while True:
                try:
                    raw = await process.stderr.readline()
                except ValueError:  # longer than LINE_LIMIT
                    continue
                if not raw:
                    break
                line = raw.decode("utf-8", errors="replace").rstrip()
                if line:
                    tail.append(line)
                    self._child_line(line)
            stdout = (await out).decode("utf-8", errors="replace")
            code = await process.wait()
        finally:
            if process.returncode is None:  # the screen or the app is closing under us
                await self._stop()
        self.process = None
        self._ended(code, stdout, list(tail))

    def _child_line(self, line: str) -> None:
        """A JSON progress line moves the bar; a note or any other line is the latest message."""
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            event = None
        if not isinstance(event, dict):
            self._message(line)
        elif "phase" in event:
            if self.cancelling:
                return
            done, total = event.get("done", 0), event.get("total") or None
            self.query_one(ProgressBar).update(total=total, progress=done)
            phase = PHASES.get(event["phase"], str(event["phase"]).capitalize())
            step = f"step {done} of {total}" if event["phase"] == "train" else f"{done} of {total}"
            self._phase(" · ".join(p for p in (phase, step, eta_words(event.get("eta_s"))) if p))
        elif "note" in event:
            self._message(str(event["note"]))

    def _ended(self, code: int, stdout: str, tail: list[str]) -> None:
        try:
            result = json.loads(stdout) if stdout.strip() else None
        except json.JSONDecodeError:
            result = None
        if isinstance(result, dict) and "status" in result:
            said = training.result_text(result, use="/model {version}")
            notes = [n for n in result.get("notes", []) if isinstance(n, str)]
            self._finish(result, "\n".join([said.headline, *notes]), f"-{said.tone}")
        elif code in (130, -signal.SIGINT):
            self._finish(None, self._stopped_text(), "-warn")
        else:
            self._finish(None, self._crash_text(code, tail), "-bad")

    def _stopped_text(self) -> str:
        from assistant.models import registry

        what = "Cancelled" if self.cancelling else "Interrupted"
        pending = training.interrupted()
        student = registry.active_name() or "none"
        if pending is None:
            return f"{what} before training began; the active student ({student}) is unchanged."
        return (
            f"{what}; the active student ({student}) is unchanged. Resume continues {pending.version} "
            f"from its last saved step, {pending.step} of {pending.steps}."
        )

    def _crash_text(self, code: int, tail: list[str]) -> str:
        """One sentence for a child that died without a result; its stderr goes to the error log."""
        path = log_crash(f"distill (from the chat app), exit status {code}", "\n".join(tail))
        where = f"Its output is in {path}." if path != UNWRITTEN else ""
        last = tail[-1] if tail else "no output"
        how = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
        return f"The distillation stopped unexpectedly ({how}): {last}. {where}".rstrip()

    def _finish(self, result: dict | None, text: str, style: str) -> None:
        self.cancelling, self.finished = False, True
        self.query_one("#distill-progress").remove_class("-shown")
        shown = self.query_one("#distill-result", Static)
        shown.update(inert(text))
        shown.set_classes(style)
        shown.display = True
        self.show_waiting()  # new counts; Resume if the run was interrupted
        self.query_one("#distill-hint").display = False  # the result says it now
        self.post_message(self.Finished(result))

    async def on_unmount(self) -> None:
        await self._stop()  # the app is closing mid-run: no orphan child

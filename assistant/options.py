"""What every way of asking from the command line shares (`apprentice ask`, `apprentice voice`):
the options, and the setup between reading them and the first answer.

    @click.command()
    @query_options
    def ask(options: QueryOptions, ...):
        asking = Asking(options, source="ask")   # settings read: a bad one fails here, fast
        asking.start()                            # first-run pull, the Assistant, the conversation
        answer = asking.answer("What is the capital of France?")

The chat app has its own setup (assistant/tui/app.py): it asks its user in a dialog, not on
the terminal, and shows notes as notifications.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import click

from assistant import config
from assistant.errors import BadInput
from assistant.output import say

OPTIONS = [
    click.option("--mode", type=click.Choice(config.MODES), help="Privacy mode (default: from config)."),
    click.option(
        "--local", "force", flag_value="local", help="Answer with the local student, whatever the router says."
    ),
    click.option("--cloud", "force", flag_value="cloud", help="Ask the teacher (still needs consent and a key)."),
    click.option("--continue", "-c", "continue_", is_flag=True, help="Go on with the most recent conversation."),
    click.option("--conversation", "conversation_id", type=int, metavar="ID", help="Go on with conversation ID."),
    click.option("--no-log", is_flag=True, help="Keep the turns out of the history."),
    click.option("--max-tokens", type=int, help="Longest answer, in tokens (a tool call begun within it is finished)."),
    click.option("--temperature", type=float, help="Sampling temperature (0: greedy, repeatable)."),
]


@dataclass(frozen=True)
class QueryOptions:
    """The options of `query_options`, as read from the command line."""

    mode: str | None = None  # None: the configured mode
    force: str | None = None  # "local" (--local) or "cloud" (--cloud)
    continue_: bool = False
    conversation_id: int | None = None
    no_log: bool = False
    max_tokens: int | None = None
    temperature: float | None = None

    def __post_init__(self):
        if self.continue_ and self.conversation_id is not None:
            raise BadInput("Use --continue or --conversation ID, not both.")

    def overrides(self) -> dict:
        """The settings these flags set (None: not given), for config.load."""
        return {"mode": self.mode, "max_tokens": self.max_tokens, "temperature": self.temperature}


def query_options(fn):
    """Add the options every way of asking shares; the command receives them as `options: QueryOptions`."""
    names = [f.name for f in QueryOptions.__dataclass_fields__.values()]

    @functools.wraps(fn)
    def command(*args, **kwargs):
        options = QueryOptions(**{name: kwargs.pop(name) for name in names})
        return fn(*args, options=options, **kwargs)

    for option in reversed(OPTIONS):
        command = option(command)
    return command


@dataclass
class Asking:
    """One command's questions (one for `ask`, a conversation for `voice`): the settings, the
    Assistant, the conversation they go on, and whether the person at the terminal may be asked
    for consent.

    Setting up can leave notes (a setting ignored, no conversation to continue): they are shown
    with the first answer and go into its `"notes"`.
    """

    options: QueryOptions
    source: str  # "ask" or "voice": what the log records
    notes: list[str] = field(default_factory=list)

    def __post_init__(self):
        # read before anything slow (a model load, a first-run pull): a bad setting fails at once
        self.settings = config.load(self.options.overrides(), warn=self.notes.append)
        from assistant.tools.timer_commands import held_notes  # rings nobody saw: notes of this answer

        self.notes.extend(held_notes())
        self.assistant = None
        self._remote = None  # the running server, once looked for (False: none)
        self.conversation_id = self.options.conversation_id
        self.consent = None

    def start(self):
        """Use a running `apprentice serve` when there is one; else fetch the default student on first
        use (saying so) and build the Assistant here. Then find the conversation to go on with.
        Returns the Assistant (or the server's, which answers alike)."""
        from assistant.consent import terminal_consent

        self.assistant = self.served()
        if self.assistant is None:
            from assistant.core import Assistant
            from assistant.models.pull import ensure_default
            from assistant.store import Store

            ensure_default(say)
            self.assistant = Assistant(self.settings, store=Store(on_wait=say))
        if self.options.continue_:
            self.conversation_id = self.assistant.store.last_conversation_id()
            if self.conversation_id is None:
                self.notes.append("No earlier conversation to continue; starting a new one.")
        self.consent = terminal_consent()
        return self.assistant

    def served(self):
        """The running server's Assistant, when one runs and answers as this command would here.

        --max-tokens and --temperature change how the student decodes, which the server set
        when it started: with them, the command answers by itself."""
        if not self.settings.use_server or self.options.max_tokens is not None or self.options.temperature is not None:
            return None
        if self._remote is None:
            from assistant.server.client import served

            self._remote = served() or False  # looked for once a command
        return self._remote or None

    def recognizer(self, choice: str):
        """The speech recognizer `--stt` names: the running server's, kept loaded there, else loaded here."""
        remote = self.served()
        if remote is not None:
            from assistant.server.client import RemoteRecognizer

            return RemoteRecognizer(remote, choice)
        from assistant import speech

        return speech.recognizer(choice, say=say)

    def answer_options(self) -> dict:
        """Keyword arguments of Assistant.answer that the command line decides."""
        # the mode as this command reads it (flag, environment, config.toml), so a server started
        # with other settings answers in this command's mode
        mode = self.settings.mode or None
        return {"log": not self.options.no_log, "force": self.options.force, "consent": self.consent, "mode": mode}

    def answer(self, text: str):
        """Start answering `text` on this command's conversation; iterate the Answer for its text."""
        return self.assistant.answer(text, self.conversation_id, source=self.source, **self.answer_options())

    def close(self) -> None:
        if self.assistant is not None:
            self.assistant.close()

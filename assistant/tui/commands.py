"""Slash commands and key bindings: one table, read by the prompt, the command palette and /help.

A prompt whose first word is a known command runs it (`/cloud What's the weather?`);
a first word that looks like a command but is not one (`/fly`) is an error; anything
else (`/etc/hosts: what is it?`) is a question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    name: str  # "private", typed as /private
    title: str  # what the command palette shows
    help: str
    args: str = ""  # e.g. "[QUESTION]"


COMMANDS = [
    Command("private", "Private mode", "Nothing leaves this machine."),
    Command("ask", "Ask mode", "Ask before each query goes to Gemini, showing exactly what would be sent."),
    Command("auto", "Auto mode", "Hard queries go to Gemini, redacted, without asking."),
    Command(
        "cloud",
        "Ask Gemini",
        "Send this question (or the last one again) to Gemini, still through consent and redaction.",
        "[QUESTION]",
    ),
    Command(
        "local", "Ask the student", "Answer this question (or the last one again) with the local student.", "[QUESTION]"
    ),
    Command(
        "bad",
        "Mark answer wrong",
        "Mark the last answer wrong: the router learns from it; /cloud then makes Gemini's answer a correction.",
    ),
    Command(
        "model", "Student versions", "List the student versions and switch; /model NAME switches at once.", "[NAME]"
    ),
    Command(
        "distill",
        "Distill the student",
        "Show the teacher answers waiting, then fine-tune the student on them; "
        "a better version becomes active at the next question.",
    ),
    Command("timers", "Timers", "What is set (timers, alarms, reminders), soonest first; cancel one."),
    Command("stats", "What left this machine", "How many of your questions went to Gemini, week by week."),
    Command("new", "New conversation", "Start a new conversation."),
    Command("history", "History", "Show or hide past conversations."),
    Command("copy", "Copy last answer", "Copy the last answer to the clipboard."),
    Command("help", "Help", "List every command and key binding."),
]
BY_NAME = {c.name: c for c in COMMANDS}

# (keys, what they do): the help screen's list; the bindings themselves live on the app and widgets
KEYS = [
    ("Enter", "send the question"),
    ("Shift+Enter, Ctrl+J", "new line in the prompt"),
    ("Esc", "stop the answer that is streaming (what arrived is kept); in /distill, cancel the run"),
    ("Ctrl+T", "next privacy mode: private → ask → auto"),
    ("Ctrl+R", "show or hide the history (type to search, Enter opens)"),
    ("Ctrl+N", "new conversation"),
    ("Ctrl+Y", "copy the selected answer, or the last one"),
    ("c", "on a selected answer: copy it"),
    ("Enter / click", "on an answer's badge: show why it was routed there, and a tool's call"),
    ("x, Delete", "in /timers: cancel the selected timer, alarm or reminder"),
    ("Tab, Shift+Tab", "move between the prompt, answers and history"),
    ("F1", "this help"),
    ("F2", "switch between the dark and the light theme"),
    ("Ctrl+P", "command palette: every command by name"),
    ("Ctrl+Q", "quit"),
]

_LOOKS_LIKE_COMMAND = re.compile(r"^/[A-Za-z][\w-]*$")


class UnknownCommand(ValueError):
    pass


def parse(text: str) -> tuple[Command, str] | None:
    """(command, its argument) for a slash command; None for a question."""
    first, _, rest = text.strip().partition(" ")
    if not _LOOKS_LIKE_COMMAND.match(first):
        return None
    command = BY_NAME.get(first[1:].lower())
    if command is None:
        raise UnknownCommand(f"There is no command {first}; /help lists them.")
    return command, rest.strip()

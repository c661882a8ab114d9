"""Errors a user can meet: each carries a sentence that says what to do next, and an exit status.

Exit statuses follow docs/CONTRACTS.md: 1 an error the message explains, 2 bad usage or input.
"""


class ApprenticeError(Exception):
    """An error whose message is fit to show a user as it is."""

    exit_code = 1


class BadInput(ApprenticeError):
    """The user's input cannot be used (empty query, unreadable file)."""

    exit_code = 2


class ModelMissing(ApprenticeError):
    """No usable student model on disk."""


UNWRITTEN = "(could not write the error log)"  # what log_crash returns when it cannot


def log_crash(where: str, details: str | None = None) -> str:
    """Append `details` (by default the current traceback) to APPRENTICE_HOME/logs/errors.log under a
    dated line naming `where`; returns the log's path, to tell the user, or a sentence if it cannot be written.

    The one error log: the CLI and the chat app write their own tracebacks here, and the chat app
    the output of a child process that died without a result (a distillation)."""
    import datetime as dt
    import traceback

    from assistant import config

    path = config.home() / "logs" / "errors.log"
    text = traceback.format_exc() if details is None else details
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as f:
            f.write(f"--- {dt.datetime.now().isoformat()} apprentice {where}\n{text.rstrip()}\n")
        return str(path)
    except OSError:
        return UNWRITTEN

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


def log_crash(where: str) -> str:
    """Append the current traceback to APPRENTICE_HOME/logs/errors.log; the path, to tell the user."""
    import datetime as dt
    import traceback

    from assistant import config

    path = config.home() / "logs" / "errors.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as f:
            f.write(f"--- {dt.datetime.now().isoformat()} apprentice {where}\n{traceback.format_exc()}")
        return str(path)
    except OSError:
        return "(could not write the error log)"

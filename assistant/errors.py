"""Errors a user can meet: each carries a sentence that says what to do next, and an exit status.

Exit statuses follow DESIGN.md: 1 an error the message explains, 2 bad usage or input.
"""


class ApprenticeError(Exception):
    """An error whose message is fit to show a user as it is."""

    exit_code = 1


class BadInput(ApprenticeError):
    """The user's input cannot be used (empty query, unreadable file)."""

    exit_code = 2


class ModelMissing(ApprenticeError):
    """No usable student model on disk."""

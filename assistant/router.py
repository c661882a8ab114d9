"""The router: should the local student answer, or the teacher? No I/O of its own.

`Decision.score` is the estimated probability that the student's answer would be
wrong (higher: more likely to go to the teacher); None when there is no estimate.
Rules come first: the privacy mode and an explicit --local/--cloud decide outright.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Decision:
    route: str  # "local" or "cloud"
    score: float | None
    reason: str


class Router:
    def decide(self, query: str, *, mode: str, force: str | None = None) -> Decision:
        if force == "local":
            return Decision("local", None, "you asked for the local student")
        if mode == "private":
            return Decision("local", None, "private mode: nothing leaves this machine")
        return Decision("local", None, "the student answers; no teacher is set up")

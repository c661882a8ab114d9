"""One shape for what an engine gives back, whichever engine it is: the student or the teacher.

An engine's `stream(messages)` returns a `Response` at once. Iterating it yields the
answer's text as it arrives; once iteration ends the response holds the rest: usage and
timings, the student's confidence (token log-probabilities), and a tool call when the
engine chose one. The caller never branches on which engine answered.

    response = engine.stream([{"role": "user", "content": "What is 17 times 23?"}])
    for chunk in response:
        print(chunk, end="")
    response.usage.tokens, response.confidence, response.tool_call
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.tools.calls import ToolCall


@dataclass
class Usage:
    """What an answer cost and how fast it came."""

    prompt_tokens: int | None = None  # tokens in the whole prompt
    cached_tokens: int = 0  # of those, read from a prompt cache instead of computed
    tokens: int = 0  # generated
    ttft_ms: float | None = None  # request to first text
    tokens_per_s: float | None = None  # decode speed after the first token
    latency_ms: float | None = None  # request to last chunk, retries included
    attempts: int = 1  # requests made (the teacher retries before the first chunk)


class Response:
    """One answer in flight. Iterate for text chunks; afterwards read `text`, `usage`, `confidence`, `tool_call`.

    Engines subclass it and implement `_chunks()`, filling `usage`, `logprobs`, `notes`,
    `finish_reason` and `tool_call` as they go. Iterating twice replays the text.
    """

    def __init__(self, model: str):
        self.model = model
        self.text = ""
        self.usage = Usage()
        self.logprobs: list[float] = []  # per generated token, where the engine gives them
        self.tool_call: ToolCall | None = None
        self.tool_call_text: str | None = None  # a call the engine wrote as text (the student), readable or not
        self.finish_reason: str | None = None  # stop | length | cancelled
        self.notes: list[str] = []
        self.started = time.perf_counter()
        self.done = False
        self._cancel = threading.Event()

    def _chunks(self) -> Iterator[str]:
        raise NotImplementedError

    def __iter__(self) -> Iterator[str]:
        if self.done:
            if self.text:
                yield self.text
            return
        for chunk in self._chunks():
            self.text += chunk
            yield chunk
        self.done = True

    def complete(self) -> str:
        """Read the whole answer without showing it; its text."""
        for _ in self:
            pass
        return self.text

    def note(self, text: str) -> None:
        """Add a note about this answer, once however often it is said."""
        if text not in self.notes:
            self.notes.append(text)

    def cancel(self) -> None:
        """Stop after the current chunk; what arrived stays valid."""
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def said(self) -> str:
        """The whole answer, to judge or keep: the text, then any call it made as the student writes one
        (a call is read, never shown, so it is not in `text`)."""
        if self.tool_call_text is not None:
            return self.text + self.tool_call_text
        if self.tool_call is not None:
            from assistant.tools.calls import format_call

            return self.text + format_call(self.tool_call)
        return self.text

    @property
    def confidence(self) -> float | None:
        """The mean token log-probability, where the engine gives them (the student does)."""
        return statistics.fmean(self.logprobs) if self.logprobs else None


@dataclass
class Token:
    """One generated token as the student's owner thread hands it over."""

    text: str
    logprob: float | None  # log-probability the student gave the token it chose

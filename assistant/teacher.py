"""The teacher: Gemini through the google-genai SDK, streamed, with bounded retries.

Only built when a query may leave the machine (never in private mode). The SDK's own
retry options back off exponentially but ignore the `retryDelay` Google sends with a
429, so retries happen here: before the first chunk arrives, on 408/429/5xx and
connection errors, waiting what the server asks within `max_retry_delay_s`. A stream
that breaks after it started is an error (the caller answers locally), never a
half answer passed off as whole. The key never appears in a message.

    GEMINI_API_KEY=… python -m assistant.teacher "question"
    GOOGLE_GEMINI_BASE_URL=http://127.0.0.1:PORT   # e.g. `apprentice dev fake-gemini`
"""

from __future__ import annotations

import random
import re
import sys
import time
from collections.abc import Iterator

from assistant.engine import Response

RETRY_STATUSES = {408, 429, 500, 502, 503, 504}


class TeacherError(Exception):
    """The teacher could not give a whole answer; the message is fit to show (no key in it)."""


def _retry_delay(exc) -> float | None:
    """Seconds from a google.rpc.RetryInfo detail ('1.5s'), if the error carries one."""
    body = getattr(exc, "details", None)
    try:
        for detail in body["error"]["details"]:
            if detail.get("@type", "").endswith("google.rpc.RetryInfo"):
                return float(re.sub(r"s$", "", str(detail["retryDelay"])))
    except (TypeError, KeyError, ValueError, AttributeError):
        pass
    return None


class Teacher:
    """Streams Gemini's answer to a list of chat messages (role user/assistant)."""

    def __init__(
        self,
        key: str,
        model: str = "gemini-2.5-flash",
        *,
        system_prompt: str = "",
        timeout_s: float = 60.0,
        retries: int = 3,
        max_retry_delay_s: float = 10.0,
    ):
        from google import genai
        from google.genai import types

        self._key = key
        self.model = model
        self.system_prompt = system_prompt
        self.retries = retries
        self.max_retry_delay_s = max_retry_delay_s
        self._types = types
        # One attempt per call: the retries below read the server's retry delay.
        self._client = genai.Client(api_key=key, http_options=types.HttpOptions(timeout=int(timeout_s * 1000)))

    @classmethod
    def from_settings(cls, key: str, settings, system_prompt: str | None = None) -> Teacher:
        """The teacher as the settings describe it (model, timeouts, retries); the one place it is built."""
        from assistant import config

        return cls(
            key,
            settings.gemini_model,
            system_prompt=config.system_prompt(settings) if system_prompt is None else system_prompt,
            timeout_s=settings.teacher_timeout_s,
            retries=settings.teacher_retries,
            max_retry_delay_s=settings.teacher_max_retry_delay_s,
        )

    def _safe(self, text: str) -> str:
        # keys are long; a short test key would mangle ordinary words
        return text.replace(self._key, "[key]") if len(self._key) >= 8 else text

    def _describe(self, exc: BaseException) -> str:
        from google.genai import errors

        if isinstance(exc, errors.APIError):
            return self._safe(f"{exc.code} {exc.status or ''}: {exc.message or ''}".strip())
        name = type(exc).__name__
        if "Timeout" in name:
            return "no reply in time"
        if isinstance(exc, ValueError):
            return "a malformed reply"
        return self._safe(f"{name}: {exc}")

    def _retryable(self, exc: BaseException) -> tuple[bool, float | None]:
        from google.genai import errors

        if isinstance(exc, errors.APIError):
            return exc.code in RETRY_STATUSES, _retry_delay(exc)
        if isinstance(exc, ValueError):  # garbage: asking again rarely helps, and costs quota
            return False, None
        return True, None  # connection refused, reset, timed out

    def stream(self, messages: list[dict]) -> TeacherResponse:
        """Gemini's answer to `messages`; iterating it raises TeacherError if no whole answer arrives."""
        return TeacherResponse(self, messages)

    def _contents(self, messages: list[dict]) -> list:
        types = self._types
        return [
            types.Content(role="model" if m["role"] == "assistant" else "user", parts=[types.Part(text=m["content"])])
            for m in messages
        ]

    def _first_chunk(self, response: TeacherResponse):
        """Open the stream and read its first chunk, retrying what may succeed on a second try."""
        config = self._types.GenerateContentConfig(system_instruction=self.system_prompt or None)
        contents = self._contents(response.messages)
        for attempt in range(self.retries + 1):
            response.usage.attempts = attempt + 1
            try:
                chunks = self._client.models.generate_content_stream(model=self.model, contents=contents, config=config)
                return next(chunks, None), chunks  # the request happens here; errors before any text are retryable
            except Exception as exc:
                retry, delay = self._retryable(exc)
                if not retry or attempt == self.retries:
                    raise TeacherError(f"Gemini failed after {attempt + 1} attempt(s): {self._describe(exc)}") from None
                if delay is None:
                    delay = min(self.max_retry_delay_s, 0.5 * 2**attempt) * (0.5 + random.random() / 2)
                elif delay > self.max_retry_delay_s:
                    raise TeacherError(
                        f"Gemini is rate-limited and asks to wait {delay:.0f} s, longer than the "
                        f"{self.max_retry_delay_s:.0f} s allowed."
                    ) from None
                time.sleep(delay)
        raise AssertionError("unreachable: the last attempt returns or raises")


class TeacherResponse(Response):
    """Gemini's streamed answer; usage and timings are filled from the chunks' metadata."""

    def __init__(self, teacher: Teacher, messages: list[dict]):
        super().__init__(teacher.model)
        self.messages = messages
        self._teacher = teacher

    def _chunks(self) -> Iterator[str]:
        usage = self.usage
        chunk, chunks = self._teacher._first_chunk(self)
        first_text = time.perf_counter()
        usage.ttft_ms = (first_text - self.started) * 1000
        try:
            while chunk is not None:
                meta = getattr(chunk, "usage_metadata", None)
                if meta is not None:
                    usage.prompt_tokens = meta.prompt_token_count or usage.prompt_tokens
                    usage.tokens = meta.candidates_token_count or usage.tokens
                if chunk.text:
                    yield chunk.text
                if self.cancelled:
                    raise TeacherError("the answer was cancelled")
                chunk = next(chunks, None)
        except TeacherError:
            raise
        except Exception as exc:
            raise TeacherError(f"Gemini's answer broke off ({self._teacher._describe(exc)}).") from None
        self.finish_reason = "stop"
        usage.latency_ms = (time.perf_counter() - self.started) * 1000
        elapsed = time.perf_counter() - first_text
        if usage.tokens and elapsed > 0:
            usage.tokens_per_s = usage.tokens / elapsed


def main(argv: list[str] | None = None) -> int:
    from assistant import privacy

    argv = sys.argv[1:] if argv is None else argv
    key = privacy.gemini_key()
    if not key or not argv:
        print("usage: GEMINI_API_KEY=… python -m assistant.teacher QUESTION", file=sys.stderr)
        return 2
    response = Teacher(key).stream([{"role": "user", "content": " ".join(argv)}])
    try:
        for text in response:
            print(text, end="", flush=True)
    except TeacherError as exc:
        print(f"\n{exc}", file=sys.stderr)
        return 1
    print(f"\n[{response.usage}]", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

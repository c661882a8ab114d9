"""The teacher: Gemini through the google-genai SDK, streamed, with bounded retries.

Only built when a query may leave the machine (never in private mode). The SDK's own
retry options back off exponentially but ignore the `retryDelay` Google sends with a
429, so retries happen here: before the first chunk arrives, on 408/429/5xx and
connection errors, waiting what the server asks within `max_retry_delay_s`. A stream
that breaks after it started is an error (the caller answers locally), never a
half answer passed off as whole. The key never appears in a message.

The teacher is told the tool registry's declarations through Gemini's function calling,
with the SDK's automatic function calling off, so the SDK never runs anything: a
`functionCall` in the reply becomes the response's `tool_call`, as it arrives (arguments
unvalidated, redaction placeholders still in them); the caller validates it and runs it on
this machine. Tools that must stay local (notes) are never declared. A call in the history
(an assistant turn whose text is a `<tool_call>`) goes back as a `functionCall` part of a
model turn and nothing else: a tool's result never leaves the machine, so no request ever
carries a `functionResponse`. A history call to a local-only tool is left out, with the
question that led to it: both hold the note.

    GEMINI_API_KEY=… python -m assistant.teacher "question"
    GOOGLE_GEMINI_BASE_URL=http://127.0.0.1:PORT   # e.g. `apprentice dev fake-gemini`
"""

from __future__ import annotations

import random
import re
import sys
import time
from collections.abc import Iterable, Iterator

from assistant.engine import Response
from assistant.tools.calls import ToolCall, format_call, has_call, parse_call

RETRY_STATUSES = {408, 429, 500, 502, 503, 504}
# Finish reasons that mean Gemini tried a call and failed to make one: there is no answer to show.
FAILED_CALL = {
    "MALFORMED_FUNCTION_CALL": "a malformed tool call",
    "UNEXPECTED_TOOL_CALL": "a call to an undeclared tool",
}


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
        tools: bool | Iterable[str] = False,
    ):
        from google import genai
        from google.genai import types

        self._key = key
        self.model = model
        self.system_prompt = system_prompt
        self.retries = retries
        self.max_retry_delay_s = max_retry_delay_s
        self._types = types
        self.tool = _declared(tools)
        # One attempt per call: the retries below read the server's retry delay.
        self._client = genai.Client(api_key=key, http_options=types.HttpOptions(timeout=int(timeout_s * 1000)))

    @classmethod
    def from_settings(
        cls, key: str, settings, system_prompt: str | None = None, *, tools: bool | Iterable[str] = True
    ) -> Teacher:
        """The teacher as the settings describe it (model, timeouts, retries, the tools); the one place it is built."""
        from assistant import config

        return cls(
            key,
            settings.gemini_model,
            system_prompt=config.system_prompt(settings) if system_prompt is None else system_prompt,
            timeout_s=settings.teacher_timeout_s,
            retries=settings.teacher_retries,
            max_retry_delay_s=settings.teacher_max_retry_delay_s,
            tools=tools,
        )

    @property
    def tool_names(self) -> list[str]:
        """The tools declared to Gemini, in the registry's order."""
        return [d.name for d in self.tool.function_declarations] if self.tool else []

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
        """Chat messages as Gemini's contents; an assistant turn that made a call is sent as that call alone."""
        from assistant.tools import local_only

        types = self._types
        contents: list = []
        for m in messages:
            role = "model" if m["role"] == "assistant" else "user"
            call = parse_call(m["content"]) if role == "model" and has_call(m["content"]) else None
            if call is None:
                contents.append(types.Content(role=role, parts=[types.Part(text=m["content"])]))
                continue
            # Gemini refuses a call turn that does not follow a user turn (a history cut short can
            # start with one); dropping it loses nothing the next question needs.
            if not contents or contents[-1].role != "user":
                continue
            if local_only(call.name):
                # A note's call holds the note, and so does the question that led to it: neither leaves.
                contents.pop()
                continue
            # Only the call, never text around it: whatever a caller appended (a tool's result)
            # stays here. No thought signature: Gemini checks them only in the current turn,
            # and a history call is never in it (a user's text always follows).
            function_call = types.FunctionCall(name=call.name, args=dict(call.arguments))
            contents.append(types.Content(role="model", parts=[types.Part(function_call=function_call)]))
        return contents

    def _config(self):
        types = self._types
        return types.GenerateContentConfig(
            system_instruction=self.system_prompt or None,
            tools=[self.tool] if self.tool else None,
            # Off: with it on, the SDK would run Python callables itself; calls run only through assistant.tools.
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        )

    def _first_chunk(self, response: TeacherResponse):
        """Open the stream and read its first chunk, retrying what may succeed on a second try."""
        config = self._config()
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


def _declared(tools: bool | Iterable[str]):
    """The google-genai Tool declaring `tools` (True: every tool that may leave the machine), or None."""
    if tools is False or tools is None:
        return None
    from assistant import tools as registry

    declared = registry.gemini_tool().function_declarations or []
    local = {name for name, t in registry.tools().items() if t.local_only}
    if tools is True:
        kept = [d for d in declared if d.name not in local]
    else:
        wanted = list(tools)
        if not wanted:
            return None
        known = {d.name for d in declared}
        unknown = [n for n in wanted if n not in known]
        if unknown:
            raise ValueError(f"no such tool to declare to Gemini: {', '.join(unknown)}")
        if local & set(wanted):
            raise ValueError(f"{', '.join(sorted(local & set(wanted)))} must stay on this machine; never declare it")
        kept = [d for d in declared if d.name in wanted]
    if not kept:
        return None
    from google.genai import types

    return types.Tool(function_declarations=kept)


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
        calls: list[ToolCall] = []
        finish = None
        try:
            while chunk is not None:
                meta = getattr(chunk, "usage_metadata", None)
                if meta is not None:
                    usage.prompt_tokens = meta.prompt_token_count or usage.prompt_tokens
                    usage.tokens = meta.candidates_token_count or usage.tokens
                candidate = chunk.candidates[0] if chunk.candidates else None
                if candidate is not None and candidate.finish_reason is not None:
                    finish = candidate.finish_reason
                # Parts, not chunk.text: a chunk may carry a functionCall, and thoughts are never the answer.
                parts = candidate.content.parts if candidate is not None and candidate.content else None
                for part in parts or ():
                    if part.function_call is not None and part.function_call.name:
                        calls.append(ToolCall(part.function_call.name, dict(part.function_call.args or {})))
                    elif part.text and not part.thought:
                        yield part.text
                if self.cancelled:
                    raise TeacherError("the answer was cancelled")
                chunk = next(chunks, None)
        except TeacherError:
            raise
        except Exception as exc:
            raise TeacherError(f"Gemini's answer broke off ({self._teacher._describe(exc)}).") from None
        reason = getattr(finish, "value", finish)
        if reason in FAILED_CALL and not calls:
            raise TeacherError(f"Gemini sent {FAILED_CALL[reason]}.")
        if calls:
            self.tool_call = calls[0]
            if len(calls) > 1:
                self.notes.append(
                    f"Gemini asked for {len(calls)} tool calls at once; only the first, {calls[0].name}, runs."
                )
        self.finish_reason = "length" if reason == "MAX_TOKENS" else "stop"
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
    response = Teacher(key, tools=True).stream([{"role": "user", "content": " ".join(argv)}])
    try:
        for text in response:
            print(text, end="", flush=True)
    except TeacherError as exc:
        print(f"\n{exc}", file=sys.stderr)
        return 1
    if response.tool_call is not None:
        print(format_call(response.tool_call), end="")
    print(f"\n[{response.usage}]", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

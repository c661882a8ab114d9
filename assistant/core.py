"""The Assistant: query → route → answer stream → log. Every surface (ask, chat, voice) uses it.

    answer = assistant.answer("What is the capital of France?", source="ask")
    for chunk in answer:          # text as it arrives
        print(chunk, end="")
    answer.result()               # the answer object of docs/CONTRACTS.md

One query's life, in the order `Answer` lives it:

1. `Assistant.answer` checks the query, settles the privacy mode, matches the commonest
   phrasings against sentence templates (the fast path: a tool call, no model), answers a
   question about the user's own things from the note that holds it (`tools.note.recall`), asks the
   router, and writes the query to the log before anything answers (a crash keeps it).
2. On a cascade the student answers first, unseen (`CascadeStep`); if it is sure of
   itself by the active version's line, any call it made can stand (`tools.standing`) and
   its words can stand (`tools.claims`: not the request said back, not shown false), its answer stands; if not, the
   query escalates.
3. A query for the teacher is redacted and, in `ask` mode, shown to the user for consent
   (`TeacherStep`). What leaves is recorded whatever happens next; a whole answer becomes
   a distillation example. If the teacher fails, the student answers and a note says why.
4. Otherwise the student answers; a query that needs live information, when the teacher
   cannot be asked, gets a short true answer instead of a made-up one. Its words stream as
   they come; a call is read, never shown, so when the router chose the student and the
   teacher could be asked, a call that cannot stand (`tools.standing`) escalates as a
   cascade's would (`_checked_locally`).
5. Whoever answered may have chosen a tool: the call is validated and run here
   (`ActionStep`), and its result, rendered by the tool's template, is the answer. A tool's
   result never leaves the machine. A distilled student's computation that cannot stand, where
   no teacher answers, gives way to the base student's words (`_words_instead`).
6. The turn is finished in the log with what arrived, even when interrupted.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant import config, privacy
from assistant.embedder import shared as shared_embedder
from assistant.engine import Response
from assistant.errors import BadInput
from assistant.outcomes import KEPT_WRONG, query_key
from assistant.prompts import student_system_prompt
from assistant.router import Decision, OutcomeIndex, Router, Thresholds, needs_live_information
from assistant.store import Store
from assistant.student import Student, base_words
from assistant.tools import COMPUTING, ToolContext, ToolError, ToolResult, local_only, validate
from assistant.tools import run as run_tool
from assistant.tools.as_said import as_said
from assistant.tools.calls import ToolCall, format_call
from assistant.tools.claims import contradiction, sentence_doubt
from assistant.tools.note import recall
from assistant.tools.reproduced import call_of, claimed_call
from assistant.tools.standing import call_doubt
from assistant.turns import answer_fields

if TYPE_CHECKING:  # imported where a query is redacted: its phone and ID number libraries cost a cold start
    from assistant.redact import Redactor

Consent = Callable[[str], bool]
NO_LINE = float("-inf")  # a cascade line every answer clears
# How a turn a sentence template answered begins its reason: no model chose its call, so the log does
# not count it as the student's (model/evaluate.py `local_items`).
FAST_PATH_REASON = "a sentence template matched"
RECALL_REASON = "one of your notes answers it, and notes never leave this machine (no model ran)"
LINK_TURNS = 200  # how far back, in turns, a query asked again is linked to its earlier answer


@dataclass
class CascadeStep:
    """The student answered first, unseen; its mean token log-probability decides whether it stands."""

    response: Response
    line: float  # the active version's cascade line (mean log-prob) for a text answer
    call_line: float | None = None  # ... and for a tool call (None: the same line)
    query: str = ""  # what the user asked: a call's numbers are checked against it
    # the share of the answers the student gave asked again that name what its sentence named (`said_again`),
    # and the share at which that sentence stands; None: not asked
    said_again: float | None = None
    again_line: float | None = None

    @property
    def text(self) -> str:
        """What the student said, its call included: what the teacher's answer is judged against."""
        return self.response.said

    @property
    def confidence(self) -> float:
        confidence = self.response.confidence
        return confidence if confidence is not None else float("-inf")  # no tokens: no confidence

    @property
    def confident(self) -> bool:
        """At or above the version's line for its kind of answer (a valid call is evidence of its own,
        so calls have a line of their own)."""
        called = made_call(self.response) and self.call_line is not None
        return self.confidence >= (self.call_line if called else self.line)

    @functools.cached_property
    def call_doubt(self) -> str | None:
        """Why the student's call cannot stand (`tools.standing`): it could not be read or run, it
        would fail its tool's own checks ("say when to remind you"), or it does not hold the numbers
        the user said ("its call holds 2022, which you did not say"); None for a call that can stand,
        or no call. However sure the student was, such a call is no answer, and the teacher can give one."""
        return call_doubt(self.response.tool_call, self.query) if made_call(self.response) else None

    @functools.cached_property
    def words_doubt(self) -> str | None:
        """Why the student's sentence cannot stand (`tools.claims`): it only says the request back,
        repeats itself, or states what the calendar, arithmetic or a unit conversion shows is false
        ("The day after Tuesday is Friday."); None for a call, or a sentence that can stand."""
        return None if made_call(self.response) else sentence_doubt(self.query, self.response.said)

    @functools.cached_property
    def shown(self) -> bool:
        """Whether the student's sentence is one a tool shows ("The day after Sunday is Monday.", "12 ÷ 3
        = 4."), by a call that could stand for the query: then it is as sure as that call would be,
        whatever its log-probability, for this machine has shown it (`tools.reproduced`). The call must
        stand as the sentence says it: one the tool would run otherwise for the query (`as_said`: "3 - 10
        = -7" for "10 minus 3") shows the sentence of another answer."""
        if made_call(self.response):
            return False
        call = call_of(self.response.said.strip())
        return call is not None and as_said(self.query, call) == call and call_doubt(call, self.query) is None

    @functools.cached_property
    def computed(self) -> ToolCall | None:
        """The call the student's sentence names, where the tool shows the sentence false and the call
        stands for the query (`tools.reproduced.claimed_call`): "The day after Tuesday is Friday." for
        "What day comes after Tuesday?" is clock(date="Tuesday", days=1). The student chose the right
        computation and got its result wrong, as a small model does; the tool computes it here, as it
        would had the student written the call. None for a call, a sentence nothing shows false, or a
        claim about something other than what was asked (its call cannot stand for the query)."""
        said = self.response.said.strip()
        if made_call(self.response) or contradiction(said) is None:
            return None
        call = claimed_call(said)
        return call if call is not None and call_doubt(call, self.query) is None else None

    @property
    def worth_asking_again(self) -> bool:
        """Whether to ask the student again (`said_again`): a sentence below its line, not shown by a
        tool, that nothing shows false; a call, or a sentence already sure or doubted, is settled."""
        if made_call(self.response) or self.confident or self.shown or self.words_doubt is not None:
            return False
        return bool(self.response.said.strip())

    @property
    def repeated(self) -> bool:
        """Whether the student said its sentence again, asked again, at or above the line for that."""
        return self.said_again is not None and self.again_line is not None and self.said_again >= self.again_line

    @property
    def doubt(self) -> str:
        """Why the answer does not stand, for the router's reason."""
        if self.confident and (self.call_doubt or self.words_doubt):
            return self.call_doubt or self.words_doubt
        if self.said_again is not None:
            named = f"{self.said_again:.0%} of its answers named it"
            return f"the student was unsure, and did not say it again when asked again ({named})"
        return "the student was unsure"

    @property
    def why_sure(self) -> str:
        """Why the answer stands, for the router's reason."""
        if self.computed is not None:
            return f"{self.words_doubt}; the {self.computed.name} tool answers what it named"
        if self.repeated and not (self.confident or self.shown):
            return f"the student said it again when asked again ({self.said_again:.0%} of its answers named it)"
        return "the student was sure"

    @property
    def sure(self) -> bool:
        """Sure enough to stand: confident, or its sentence is shown by a tool, or said again when asked
        again; any call it made can stand, and nothing it said is shown false. Or its sentence is shown
        false, and the tool computes what it named (`computed`)."""
        if self.computed is not None:
            return True
        stands = self.confident or self.shown or self.repeated
        return stands and self.call_doubt is None and self.words_doubt is None


@dataclass
class TeacherStep:
    """A query meant for the teacher: what would leave, whether it did, and what came back."""

    sent: list[dict]  # the redacted messages: what leaves, and what the user is shown in ask mode
    redactor: Redactor
    allowed: bool = False
    response: Response | None = None
    error: str | None = None  # why the teacher gave no whole answer
    example_id: int | None = None  # the record of what left (an example when whole, else a failed row)

    @property
    def ok(self) -> bool:
        return self.allowed and self.response is not None and self.response.done and self.error is None


@dataclass
class ActionStep:
    """A tool call, chosen by a sentence template, the student or the teacher, validated and run here."""

    call: ToolCall | None  # None when a model began a call that could not be read
    by: str  # "fast path", or the model that chose it
    result: ToolResult | None = None
    error: str | None = None  # the sentence the user sees when it could not run

    @property
    def local_only(self) -> bool:
        """A call to a tool whose turns never leave (notes)."""
        return self.call is not None and local_only(self.call.name)

    def to_json(self) -> dict:
        """`action` in the answer object: {"name", "arguments", "result"} (and "error" when it did not run)."""
        name = self.call.name if self.call else None
        arguments = self.result.arguments if self.result else (self.call.arguments if self.call else {})
        data = {"name": name, "arguments": arguments, "result": self.result.data if self.result else None}
        data |= {"badge": self.result.badge} if self.result else {}  # the chat app's label, live and read back
        if self.error:
            data["error"] = self.error
        return data


@dataclass
class QueryContext:
    """What answering a query needs: the mode in force, the key, the student and its line, the history."""

    mode: str  # the privacy mode in force
    key: str | None  # the Gemini key, when one is set
    student_name: str  # the active version
    line: float  # the active version's cascade line
    history: list[dict]  # earlier turns of the conversation
    call_line: float | None = None  # the version's line for a tool call (None: `line`)
    vector: object = None  # the query's embedding, when the router computed one
    consent: Consent | None = None
    fast_call: ToolCall | None = None  # a sentence template matched: this call answers, no model runs
    load_student: Callable[[], Student] | None = None  # loads the student when a query first needs it
    max_tokens: int | None = None  # an API request's bound (within the configured one); None: the configured
    temperature: float | None = None  # an API request's; None: the configured

    @property
    def student(self) -> Student:
        return self.load_student()


class Answer:
    """One answer in flight: iterate for text chunks, then read `result()`.

    Only the typed steps set what the answer became: `decision` (the final route),
    `cascade`, `teacher`, `action`, and `response` (the engine whose text was shown).
    """

    def __init__(
        self,
        assistant: Assistant,
        query: str,
        decision: Decision,
        context: QueryContext,
        conversation_id: int | None,
        turn_id: int | None,
        notes: list[str],
    ):
        self.query = query
        self.decision = decision
        self.conversation_id = conversation_id
        self.turn_id = turn_id
        self.notes = notes
        self.text = ""
        self.cascade: CascadeStep | None = None
        self.teacher: TeacherStep | None = None
        self.action: ActionStep | None = None
        self.response: Response | None = None
        self.started = time.perf_counter()
        self._assistant = assistant
        self.context = context
        self._cancel = threading.Event()
        self._finished = False
        self.served = False  # set by `apprentice serve` for the answers it gives

    # -- what a surface uses ---------------------------------------------------------------

    def __iter__(self) -> Iterator[str]:
        status = "failed"
        try:
            for chunk in self._answer():
                self.text += chunk
                yield chunk
            status = "interrupted" if self.cancelled else "done"
        except BaseException:  # Ctrl-C, a failure, or the reader stopped: stop, keep what arrived
            self.cancel()
            status = "interrupted"
            raise
        finally:
            self._finish(status)

    def cancel(self) -> None:
        self._cancel.set()
        if self.response is not None:
            self.response.cancel()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def model(self) -> str:
        """Who answered: the engine whose text was shown, else the active student."""
        return self.response.model if self.response is not None else self.context.student_name

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def _finish(self, status: str) -> None:
        if self._finished:
            return
        self._finished = True
        if status == "interrupted":
            self.note("The answer was interrupted; what arrived is kept.")
        self._assistant.finish(self, status)

    def result(self) -> dict:
        """The answer object of docs/CONTRACTS.md."""
        usage = self.response.usage if self.response is not None else None
        return answer_fields(
            answer=self.text,
            route=self.decision.route,
            reason=self.decision.reason,
            model=self.model,
            turn_id=self.turn_id,
            conversation_id=self.conversation_id,
            tokens=usage.tokens if usage else 0,
            ttft_ms=usage.ttft_ms if usage else None,
            tokens_per_s=usage.tokens_per_s if usage else None,
            notes=self.notes,
            action=self.action.to_json() if self.action else None,
            served=self.served,
        )

    # -- one query's life -------------------------------------------------------------------

    def _answer(self) -> Iterator[str]:
        messages = self.context.history + [{"role": "user", "content": self.query}]
        if self.context.fast_call is not None:
            yield from self._act(self.context.fast_call, "fast path")
            return
        if self.decision.route == "cascade":
            self.cascade = self._ask_student_first(messages)
            if self.cascade.sure or self.cancelled:
                self._settle("local", f"{self.cascade.why_sure} (mean log-prob {self.cascade.confidence:.2f})")
                computed = self.cascade.computed
                if computed is not None and not self.cancelled:
                    yield from self._act(computed, self.cascade.response.model)
                    return
                yield from self._show(self.cascade.response)
                return
            self._settle("cloud", f"{self.cascade.doubt} (mean log-prob {self.cascade.confidence:.2f})")
        elif self._checked_locally():
            response = self._student(messages)
            yield from self._stream(response)
            step = CascadeStep(response, NO_LINE, NO_LINE, self.query)  # no line: only the checks of a call
            if step.sure or self.cancelled or response.text:  # words shown before a call: act as they said
                yield from self._act_on(response)
                return
            self.cascade, self.response = step, None
            self._settle("cloud", step.doubt)
        if self.decision.route == "cloud":
            self.teacher = self._offer_to_teacher(messages)
            if self.teacher.allowed:
                yield from self._show_teacher(self.teacher)
                if self.teacher.ok or self.cancelled:
                    return
                self._settle("local", "the teacher failed, the student answered")
            else:
                self._settle("local", "kept local")
        if self.decision.rule == "live":  # nothing here knows it, and the teacher was not asked
            yield self._cannot_know()
            return
        if self.cascade is not None:  # the student already answered; do not ask it twice
            yield from self._show(self.cascade.response)
            return
        yield from self._show(self._student(messages))

    def _checked_locally(self) -> bool:
        """Whether the router chose the student and the teacher could be asked (not private, not
        forced local, never about notes): then its words stream as they come, but a call, read and
        never shown, is checked before it runs, and one that could not stand escalates."""
        decision, context = self.decision, self.context
        chosen = decision.route == "local" and decision.score is not None and decision.rule != "notes"
        return chosen and context.mode != "private" and context.key is not None

    def _settle(self, route: str, why: str) -> None:
        self.decision = Decision(route, self.decision.score, f"{self.decision.reason}; {why}")

    def _student(self, messages: list[dict], words: bool = False) -> Response:
        conversation = str(self.conversation_id) if self.conversation_id is not None else None
        messages = [{"role": m["role"], "content": m["content"]} for m in messages]
        options = {"max_tokens": self.context.max_tokens or self._assistant.settings.max_tokens}
        if words:  # the base student's words, the adapter unused (`_words_instead`)
            options["words"] = True
        if self.context.temperature is not None:  # an API request's, for this answer only
            options["temperature"] = self.context.temperature
        response = self.context.student.stream(messages, conversation=conversation, **options)
        if self.cancelled:
            response.cancel()
        return response

    def _show(self, response: Response) -> Iterator[str]:
        """Stream `response` as the answer (a finished one replays its text), then act on its call."""
        yield from self._stream(response)
        self._doubt_words(response)
        yield from self._act_on(response)

    def _doubt_words(self, response: Response) -> None:
        """A note on words shown unchecked (private mode, /local, no teacher to ask) that this machine
        shows false, or that only say the request back (`tools.claims`): "This may be wrong: its answer
        says “day before Friday is Sunday”, where the calendar says Thursday." The words were already
        streamed; the note says what the calendar, arithmetic or a conversion shows instead, and it
        never leaves the machine. A sure cascade answer has none (it could not have stood)."""
        if made_call(response) or self.cancelled:
            return
        cascade = self.cascade
        known = cascade is not None and cascade.response is response  # the cascade's: already checked
        doubt = cascade.words_doubt if known else sentence_doubt(self.query, response.said)
        if doubt:
            self.note(f"This may be wrong: {doubt}.")

    def _stream(self, response: Response) -> Iterator[str]:
        """Stream `response`'s words as the answer; its notes become the answer's."""
        self.response = response
        try:
            yield from response
        finally:
            for note in response.notes:
                self.note(note)

    def _act_on(self, response: Response) -> Iterator[str]:
        """Run the student's call. One that ran but does not keep what the user said (`call_doubt`:
        the teacher could not be asked, or failed) is shown with a note that says so, never silently;
        but a distilled student's computation that cannot stand gives way to its own words."""
        if made_call(response) and not self.cancelled:
            instead = self._words_instead(response)
            if instead is not None:
                self.note(
                    f"The student's {response.tool_call.name} call could not stand "
                    f"({call_doubt(response.tool_call, self.query)}); this is its answer in words, unchecked."
                )
                yield from self._stream(instead)
                self._doubt_words(instead)
                yield from self._act_on(instead)
                return
            yield from self._act(response.tool_call, response.model)
            doubt = call_doubt(response.tool_call, self.query) if self.action.result is not None else None
            if doubt:
                self.note(f"This may not be what you asked: {doubt}. Check it, or ask again in other words.")

    def _words_instead(self, response: Response) -> Response | None:
        """The base student's words, for a distilled student's call to calculate, convert or the clock
        that cannot stand (`call_doubt`) and had no words before it; else None.

        Such a call is the adapter's, and the adapter learned it from a few days of fallbacks: "What
        day comes after Sunday?" as the date of Sunday, "Which month comes after December?" as a date
        the clock cannot read. The base student answered many of those right in words before it was
        distilled ("The day after Sunday is Monday."), and a computation that cannot stand is no
        answer. An acting call (a timer, a note) keeps its note instead: words would only say that
        something was done. Where the teacher answers, such a call goes to it and never comes here:
        tried as the cascade's second look (the words kept when sure by the line for words), they
        added wrong answers and kept no right one from the teacher (README, The flywheel)."""
        student, call = self.context.student, response.tool_call
        if (
            getattr(response, "words", True)  # not a student's answer, or already its words
            or not getattr(student, "words_apart", False)  # a student with no adapter to set aside
            or call is None
            or call.name not in COMPUTING
            or response.text.strip()
            or call_doubt(call, self.query) is None
        ):
            return None
        return self._student(self.context.history + [{"role": "user", "content": self.query}], words=True)

    def _act(self, call: ToolCall | None, by: str) -> Iterator[str]:
        """Validate and run a call here; its rendered result, or a sentence saying why not, is the answer.
        The call runs as said (`as_said.as_said`): a clock time it leaves in either half of the day is
        read in the half the user said, a timer or alarm it left unnamed has the name the user gave, and
        one set for a request to be reminded is the reminder that says what for."""
        if call is not None:
            call = as_said(self.query, call)
        self.action = step = ActionStep(call, by)
        try:
            if call is None:
                raise ToolError("The model began a tool call that could not be read; ask again in other words.")
            step.result = run_tool(
                call.name, call.arguments, ToolContext.here(self._assistant.store, self._assistant.settings)
            )
        except ToolError as exc:
            step.error = str(exc)
        yield step.result.text if step.result else step.error

    def _cannot_know(self) -> str:
        """A short true answer for what needs live information, when the teacher cannot be asked."""
        found = needs_live_information(self.query)  # else the fast path's currency conversion
        why = f"it needs live information (“{found.group(0)}”)" if found else "it needs today's exchange rates"
        text = f"I can't know that on this machine: {why}."
        if self.context.mode == "private":
            text += (
                " To let Gemini answer questions like this, set a Gemini key (`apprentice keys set gemini`)"
                " and use ask or auto mode."
            )
        return text

    def _ask_student_first(self, messages: list[dict]) -> CascadeStep:
        """The cascade: the student's whole answer, unshown, and its mean token log-probability."""
        step = CascadeStep(self._student(messages), self.context.line, self.context.call_line, self.query)
        self.response = step.response  # so a cancel reaches it
        step.response.complete()
        self.response = None
        again = self._assistant.settings.cascade_said_again
        if again <= 1 and not self.cancelled and step.worth_asking_again:
            step.said_again, step.again_line = self._asked_again(messages, step.response.said, again), again
        return step

    def _asked_again(self, messages: list[dict], said: str, needed: float) -> float | None:
        """The share of `said_again.SAMPLES` more answers, sampled at a temperature in the base student's
        words, each from a seed of the query's, that name a name or number of `said` again; None when
        `said` names nothing to say again. Asking stops once the share `needed` is out of reach: the
        verdict is the same, and each answer not asked is a second or so the user does not wait."""
        from assistant import said_again

        if not said_again.key_words(said, self.query):
            return None
        samples = []
        for seed in said_again.seeds(self.query):
            if said_again.out_of_reach(said, samples, self.query, needed):
                break
            response = self.context.student.stream(
                [{"role": m["role"], "content": m["content"]} for m in messages],
                max_tokens=said_again.MAX_TOKENS,
                temperature=said_again.TEMPERATURE,
                words=True,
                seed=seed,
            )
            self.response = response  # so a cancel reaches it
            samples.append(response.complete())
            self.response = None
            if self.cancelled:
                return None
        return said_again.agreement(said, samples, self.query)

    def _offer_to_teacher(self, messages: list[dict]) -> TeacherStep:
        """Redact; then may it leave? Auto: within the daily cap. Ask: if the user says yes to this text."""
        from assistant.redact import Redactor  # its phone and ID number libraries: only for a query that may leave

        redactor = Redactor(self._assistant.settings.redact_terms)
        step = TeacherStep([{**m, "content": redactor.redact(m["content"])} for m in for_teacher(messages)], redactor)
        mode, consent = self.context.mode, self.context.consent
        if mode == "auto":
            cap = self._assistant.settings.teacher_daily_cap
            if self._assistant.store.teacher_calls_since(local_midnight_utc(), "auto") >= cap:
                self.note(f"Today's limit of {cap} Gemini queries in auto mode is reached; the student answered.")
            else:
                step.allowed = True
        elif mode == "ask":
            if consent is None:
                self.note("Ask mode, but no one to ask whether this may go to Gemini; it stayed on this machine.")
            elif consent(transcript(step.sent)):
                step.allowed = True
            else:
                self.note("You kept this query on this machine.")
        return step

    def _show_teacher(self, step: TeacherStep) -> Iterator[str]:
        """Stream the teacher's answer with redactions restored; record what left, whole or not."""
        from assistant.redact import RestoringStream
        from assistant.teacher import TeacherError

        teacher = self._assistant.teacher(self.context.key)
        if step.redactor.found:
            self.note("Sent redacted: " + ", ".join(f"{n} {k.lower()}" for k, n in step.redactor.found.items()) + ".")
        step.response = response = teacher.stream(step.sent)
        self.response = response
        restoring, shown = RestoringStream(step.redactor), False
        try:
            for chunk in response:
                if out := restoring.feed(chunk):
                    shown = True
                    yield out
                if self.cancelled:
                    raise TeacherError("the answer was cancelled")
            if tail := restoring.flush():
                yield tail
            for note in response.notes:
                self.note(note)
            if response.tool_call is not None and not self.cancelled:
                yield from self._act(restored(response.tool_call, step.redactor), response.model)
        except TeacherError as exc:
            step.error = str(exc)
            if not self.cancelled:
                self.note(f"Gemini could not answer ({exc}); the student answered instead.")
                self.response = None
                if shown:  # the user saw part of it: say where the student's answer begins
                    yield "\n\n(Gemini broke off; the student's answer follows.)\n\n"
        finally:
            step.example_id = self._assistant.record_sent(self, step)


class Assistant:
    """Answers queries with the active student or, when allowed, the teacher; logs every turn."""

    def __init__(self, settings: config.Settings | None = None, store: Store | None = None):
        self.settings = settings or config.load()
        self.store = store or Store()
        s = self.settings
        self.router = Router(
            Thresholds(
                cloud=s.router_cloud_threshold,
                local=s.router_local_threshold,
                prior=s.router_prior,
                prior_weight=s.router_prior_weight,
            )
        )
        self.embedder = shared_embedder()
        self._student: Student | None = None
        self._teacher = None
        self._index: OutcomeIndex | None = None

    # -- what answers ---------------------------------------------------------------

    def default_mode(self) -> str:
        return privacy.default_mode(self.settings)

    def student(self, version=None) -> Student:
        """The active student, loaded; reloaded when another version became active since the last query."""
        from assistant.models import registry

        version = version or registry.active()
        if self._student is None or self._student.name != version.name:
            if self._student is not None:
                self._student.close()
            self._student = None
            self._index = None  # outcomes are per student version
            self._student = Student(
                version.path,
                name=version.name,
                system_prompt=student_system_prompt(self.settings),
                temperature=self.settings.temperature,
                top_p=self.settings.top_p,
                context_tokens=self.settings.context_tokens,
                cache_dir=config.home() / "cache" / "prompts",
                cache_conversations=self.settings.prompt_cache_conversations,
                adapter_path=version.adapter_path,
                words_from_base=self.settings.student_words_from_base,
            )
        return self._student

    def cascade_line(self, kind: str = "text") -> float:
        """The active version's cascade line for a `kind` of answer ("text" or "call"): its own,
        calibrated when it was distilled, else the configured one (`registry.cascade_line`), or the
        line its base student carries when its words are that student's (Gemma's)."""
        from assistant.models import registry

        version = registry.active()
        words = kind == "text" and self.settings.student_words_from_base and base_words(version.adapter_path)
        configured = self.settings.cascade_min_logprob
        base = registry.base_of(version) if words else None
        if base is not None:  # its words are its base student's: so is their line, where that student has one
            configured = base.cascade_min_logprob(configured, kind)
        return version.cascade_min_logprob(configured, kind, base_words=words)

    def teacher(self, key: str):
        """The Gemini client, built the first time a query may leave (never in private mode)."""
        from assistant.teacher import Teacher

        if self._teacher is None:
            self._teacher = Teacher.from_settings(key, self.settings)
        return self._teacher

    def outcome_index(self, version: str) -> OutcomeIndex:
        """Past outcomes for the active student, loaded from the store once, then kept up to date."""
        if self._index is None:
            self._index = OutcomeIndex()
        self._index.add(self.store.outcomes(version, after_id=self._index.last_id))
        return self._index

    # -- one query ----------------------------------------------------------------------

    def answer(
        self,
        query: str,
        conversation_id: int | None = None,
        *,
        source: str = "ask",
        log: bool = True,
        force: str | None = None,
        mode: str | None = None,
        consent: Consent | None = None,
    ) -> Answer:
        """Start answering `query`; iterate the returned Answer for its text.

        `force` is "local" or "cloud" (--local/--cloud, /local, /cloud); `mode` overrides the
        configured privacy mode for this query; `consent(text)` is asked, in `ask` mode, whether
        the exact redacted `text` may go to the teacher (None: no one to ask, stay local).
        """
        query = query.strip()
        if not query:
            raise BadInput("The query is empty; say what you want to ask.")
        if conversation_id is not None and not self.store.conversation_exists(conversation_id):
            raise BadInput(f"There is no conversation {conversation_id}; `apprentice log list` shows them.")
        key = privacy.gemini_key()
        mode, why_private = privacy.effective_mode(mode or self.default_mode(), key is not None)
        if force == "cloud" and mode == "private":
            raise BadInput(
                "--cloud needs a Gemini key (set GEMINI_API_KEY or run `apprentice keys set gemini`)."
                if key is None
                else "--cloud is refused in private mode; use --mode ask or --mode auto."
            )
        from assistant.models import registry

        version = registry.active()
        line = self.cascade_line()
        history = self.store.history(conversation_id) if conversation_id is not None else []
        context = QueryContext(
            mode, key, version.name, line, history, call_line=self.cascade_line("call"), consent=consent
        )
        context.load_student = lambda: self.student(version)
        context.fast_call = self._fast_path(query, force)
        recalled = context.fast_call is None and self.settings.fast_path and recall(self.store, query)
        if recalled:
            context.fast_call = recalled
            decision = Decision("local", 0.0, RECALL_REASON, rule="notes")
        elif context.fast_call is not None and needs_live_rates(context.fast_call):
            context.fast_call = None  # a currency: only the teacher has today's rates
            why = "currencies need today's exchange rates, which nothing on this machine knows"
            route = "cloud" if mode != "private" and force != "local" else "local"
            decision = Decision(route, 0.9, why, rule="live")
        elif context.fast_call is not None:
            why = f"{FAST_PATH_REASON}: {context.fast_call.name} (no model ran)"
            decision = Decision("local", 0.0, why, rule="fast path")
        else:
            self.student(version)  # loaded before routing: the embedder's torch loads while it answers
            if self.settings.rephrase_signal and conversation_id is not None:
                self._rephrased(query, conversation_id)  # before routing, so this query's route weighs it
            decision = self._decide(query, context, force)
        turn_id = None
        if log:
            if conversation_id is None:
                conversation_id = self.store.new_conversation(query, source)
            turn_id = self.store.start_turn(
                conversation_id,
                query,
                source,
                route=decision.route,
                reason=decision.reason,
                score=decision.score,
                model=version.name,
                private=int(decision.rule == "notes"),
            )
        notes = [why_private] if why_private else []
        return Answer(self, query, decision, context, conversation_id, turn_id, notes)

    def _fast_path(self, query: str, force: str | None) -> ToolCall | None:
        """The commonest phrasings, matched by sentence templates before any model runs (`fast_path` setting)."""
        if not self.settings.fast_path:
            return None
        from assistant.tools import fastpath

        call = fastpath.match(query)
        if call is None or (force == "cloud" and not local_only(call.name)):
            return None  # --cloud asks the teacher, except about notes, which never leave
        return call

    def _rephrased(self, query: str, conversation_id: int) -> None:
        """Asked again right after a local answer: weak evidence that answer was wrong (assistant/rephrase.py).
        The router counts it as half a wrong answer; it never becomes a training example."""
        from assistant.rephrase import REPHRASE_WRONG, is_rephrase

        turns = self.store.conversation_turns(conversation_id)
        last = turns[-1] if turns else None
        if last is None or last["route"] != "local" or last["bad"] or last["status"] != "done" or not last["answer"]:
            return
        age = dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(last["created"])
        if age.total_seconds() > self.settings.rephrase_window_s:
            return
        if not is_rephrase(last["query"], query, self.embedder, self.settings.rephrase_similarity):
            return
        self._forget_kept(last["id"])
        self.store.add_outcome(
            query=last["query"],
            embedding=self.embedder.encode([last["query"]])[0].tobytes(),
            student_version=last["model"],
            wrong=REPHRASE_WRONG,
            origin="rephrased",
            turn_id=last["id"],
        )

    def _decide(self, query: str, context: QueryContext, force: str | None) -> Decision:
        """The router's decision, with past outcomes when the mode lets the query leave at all."""
        index = None
        if context.mode != "private":
            self.embedder.start()  # after the student is loaded: torch loads while it answers
            if force is None:
                index = self.outcome_index(context.student_name)
                # Only wait for the embedder when there are outcomes to compare against.
                if len(index) or self.embedder.ready:
                    context.vector = self.embedder.encode([query])[0]
        return self.router.decide(query, mode=context.mode, force=force, vector=context.vector, index=index)

    # -- what the answer leaves behind ----------------------------------------------------------

    def record_sent(self, answer: Answer, step: TeacherStep) -> int:
        """Record what left the machine: an example when the teacher answered whole, else a failed row.

        When the student had answered too (a cascade), judge it against the teacher so similar
        queries route better next time.
        """
        response, cascade = step.response, answer.cascade
        ok = step.ok and not answer.cancelled
        if ok and not callable_call(response):
            # A call the registry refuses taught as an example would teach the student to make it.
            ok, step.error = False, "the teacher's tool call did not pass validation"
        example_id = self.store.add_example(
            turn_id=answer.turn_id,
            query_sent=step.sent[-1]["content"],
            messages_sent=json.dumps(step.sent),
            redactions=json.dumps(step.redactor.found),
            teacher_model=response.model,
            consent=answer.context.mode,
            score=answer.decision.score,
            reason=answer.decision.reason,
            student_version=answer.context.student_name,
            student_answer=cascade.text if cascade else None,
            student_confidence=cascade.confidence if cascade else None,
            status="ok" if ok else "failed",
            error=None if ok else (step.error or "the answer was cancelled"),
            teacher_answer=response.said or None,
            prompt_tokens=response.usage.prompt_tokens if ok else None,
            answer_tokens=response.usage.tokens if ok else None,
            latency_ms=response.usage.latency_ms,
        )
        if ok and cascade is not None:
            self._learn(answer, cascade.text, response.said, example_id)
        elif ok:
            self._after_local(answer, response.said, example_id)
        return example_id

    def _after_local(self, answer: Answer, teacher_text: str, example_id: int) -> None:
        """The teacher answered a query the student had answered before. If the user marked that
        answer wrong (/bad, then /cloud), the teacher's answer is a correction, which distillation
        weighs more. If not, and it came right before in the same conversation (/cloud straight after
        a local answer), the user did not say the student was wrong, maybe only wanted a second
        opinion: the student's answer is judged against the teacher's, for the router, as a cascade's."""
        earlier = self.earlier_turn(answer.query, answer.turn_id)
        if earlier is None or earlier["route"] != "local" or not earlier["answer"]:
            return
        if earlier["bad"]:
            self.store.mark_correction(example_id, earlier["id"])
            return
        previous = self.store.conversation_turns(answer.conversation_id)
        previous = [t for t in previous if t["id"] < answer.turn_id]
        if (
            previous
            and previous[-1]["id"] == earlier["id"]
            and not earlier["action"]  # a tool's rendered result cannot be judged against a call's text
            and earlier["model"] == answer.context.student_name
        ):
            self._learn(answer, earlier["answer"], teacher_text, example_id)

    def earlier_turn(self, query: str, turn_id: int | None) -> dict | None:
        """The newest turn before `turn_id` that asked the same query (case, spacing and end punctuation aside)."""
        if turn_id is None:  # --no-log: nothing to link, and the example is never trained on
            return None
        key = query_key(query)
        for turn in self.store.turns(limit=LINK_TURNS):
            if turn["id"] < turn_id and query_key(turn["query"]) == key:
                return turn
        return None

    def _learn(self, answer: Answer, student_answer: str, teacher_answer: str, example_id: int) -> None:
        """The student answered too: judge it against the teacher, so similar queries route better."""
        from assistant.judge import judge

        verdict = judge(
            student_answer,
            teacher_answer,
            query=answer.query,
            embedder=self.embedder,
            agree_similarity=self.settings.judge_agree_similarity,
        )
        vector = answer.context.vector
        if vector is None:
            vector = self.embedder.encode([answer.query])[0]
        self.store.add_outcome(
            query=answer.query,
            embedding=vector.tobytes(),
            student_version=answer.context.student_name,
            wrong=int(not verdict.agree),
            origin="judged",
            similarity=verdict.similarity,
            turn_id=answer.turn_id,
            example_id=example_id,
        )

    def finish(self, answer: Answer, status: str) -> None:
        """Write what arrived into the turn the query started."""
        if answer.turn_id is None:
            return
        if status == "done":
            self._kept(answer)
        usage = answer.response.usage if answer.response is not None else None
        self.store.finish_turn(
            answer.turn_id,
            answer=answer.text,
            status=status,
            notes=json.dumps(answer.notes),
            route=answer.decision.route,
            reason=answer.decision.reason,
            score=answer.decision.score,
            model=answer.model,
            prompt_tokens=usage.prompt_tokens if usage else None,
            tokens=usage.tokens if usage else 0,
            ttft_ms=usage.ttft_ms if usage else None,
            tokens_per_s=usage.tokens_per_s if usage else None,
            duration_ms=(time.perf_counter() - answer.started) * 1000,
            action=json.dumps(answer.action.to_json() | {"local_only": local_only(answer.action.call.name)})
            if answer.action is not None and answer.action.call is not None
            else None,
            private=int(answer.decision.rule == "notes" or answer.action is not None and answer.action.local_only),
        )

    def _kept(self, answer: Answer) -> None:
        """The cascade kept the student's answer: remember that, weakly (`KEPT_WRONG`), for the router.

        Without it the memory holds a query's outcome only when the teacher was asked, so it learns
        where the student fails and never where it succeeds: similar failures then send whole kinds
        of query it answers right straight to the teacher. A kept answer was vouched for by the
        student's own confidence alone, so it weighs as doubt that lets the cascade check, never as
        a reason to skip the check. A call that did not run is no success and is left out."""
        cascade, vector = answer.cascade, answer.context.vector
        if cascade is None or not cascade.sure or answer.decision.route != "local":
            return
        if answer.action is not None and answer.action.error is not None:
            return
        if vector is None:  # the router had no memory to compare with; the embedder may still be loading,
            if not self.embedder.ready:  # and the answer's end must not wait for it
                return
            vector = self.embedder.encode([answer.query])[0]
        self.store.add_outcome(
            query=answer.query,
            embedding=vector.tobytes(),
            student_version=answer.context.student_name,
            wrong=KEPT_WRONG,
            origin="kept",
            turn_id=answer.turn_id,
        )

    def _forget_kept(self, turn_id: int) -> None:
        """A kept answer the user doubts (/bad, or asked again) is no longer a success to remember."""
        if self.store.forget_kept_outcome(turn_id):
            self._index = None  # reloaded without it on the next decision

    def mark_bad(self, turn_id: int) -> dict:
        """The user says an answer was wrong: never train on it; if the student gave it, learn to route,
        and if the teacher has since answered the same query (/cloud, then /bad on the local answer),
        its answer becomes a correction (`correction` in the returned turn: that example's id)."""
        turn = self.store.mark_bad(turn_id)
        turn["correction"] = None
        if turn["route"] == "local":
            key = query_key(turn["query"])
            later = [
                t for t in self.store.turns(limit=LINK_TURNS) if t["id"] > turn_id and query_key(t["query"]) == key
            ]
            if later and later[-1]["route"] == "cloud" and not later[-1]["bad"]:  # the next time it was asked
                examples = self.store.examples_of_turn(later[-1]["id"])
                if examples:
                    self.store.mark_correction(examples[-1]["id"], turn_id)
                    turn["correction"] = examples[-1]["id"]
            self._forget_kept(turn_id)
            vector = self.embedder.encode([turn["query"]])[0]
            self.store.add_outcome(
                query=turn["query"],
                embedding=vector.tobytes(),
                student_version=turn["model"],
                wrong=1,
                origin="marked_bad",
                turn_id=turn_id,
            )
        return turn

    def close(self) -> None:
        if self._student is not None:
            self._student.close()
            self._student = None


def needs_live_rates(call: ToolCall) -> bool:
    """A conversion between currencies: its rates change daily, so it is the teacher's to answer."""
    if call.name != "convert":
        return False
    from assistant.tools.convert import is_currency

    return is_currency(str(call.arguments.get("from_unit", "")), str(call.arguments.get("to_unit", "")))


def made_call(response: Response) -> bool:
    """Whether the engine chose a tool, whether or not its call can be read."""
    return response.tool_call is not None or response.tool_call_text is not None


def callable_call(response: Response) -> bool:
    """No call at all, or a call that names a tool and passes its validation."""
    if not made_call(response):
        return True
    if response.tool_call is None:
        return False
    try:
        validate(response.tool_call.name, response.tool_call.arguments)
    except ToolError:
        return False
    return True


def restored(call: ToolCall, redactor: Redactor) -> ToolCall:
    """The teacher's call with the private values it saw as placeholders put back, to run here."""

    def put_back(value):
        if isinstance(value, str):
            return redactor.restore(value)
        if isinstance(value, list):
            return [put_back(v) for v in value]
        if isinstance(value, dict):
            return {k: put_back(v) for k, v in value.items()}
        return value

    return ToolCall(call.name, put_back(call.arguments))


def for_teacher(messages: list[dict]) -> list[dict]:
    """The conversation as it may leave: a tool's turn as its call alone, a private turn not at all.

    A tool's result never leaves the machine; a note's text is in the question that made it,
    so a turn about notes (`private`) is left out whole.
    """
    sent: list[dict] = []
    for message in messages:
        if message.get("private"):
            continue
        action = message.get("action")
        if action and action.get("name"):
            content = format_call(ToolCall(action["name"], action.get("arguments") or {}))
            sent.append({"role": "assistant", "content": content})
            continue
        sent.append({"role": message["role"], "content": message["content"]})
    return sent


def local_midnight_utc() -> str:
    """The start of the user's day, as the store's UTC timestamps spell it."""
    midnight = dt.datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(dt.UTC).isoformat()


def transcript(messages: list[dict]) -> str:
    """What would leave the machine, as a person reads it: the query alone, or the conversation."""
    if len(messages) == 1:
        return messages[0]["content"]
    names = {"user": "You", "assistant": "Apprentice"}
    return "\n\n".join(f"{names.get(m['role'], m['role'])}: {m['content']}" for m in messages)

"""The Assistant: query → route → answer stream → log. Every surface (ask, chat, voice) uses it.

    answer = assistant.answer("What is the capital of France?", source="ask")
    for chunk in answer:          # text as it arrives
        print(chunk, end="")
    answer.result()               # the JSON object of DESIGN.md's contracts

The query is written to the log before anything answers, and the answer after, so a
crash or Ctrl-C mid-answer keeps the query and what arrived. A query goes to the
teacher only when the privacy mode allows it, after consent in `ask` mode, redacted;
whatever left the machine is recorded (an example when the teacher answered whole).
If the teacher fails, the student answers and a note says why.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import threading
import time
from collections.abc import Callable, Iterator

from assistant import config, privacy
from assistant.embedder import shared as shared_embedder
from assistant.errors import BadInput
from assistant.redact import Redactor, RestoringStream
from assistant.router import Decision, OutcomeIndex, Router, Thresholds
from assistant.store import Store
from assistant.student import Student

Consent = Callable[[str], bool]


class Answer:
    """One answer in flight: iterate for text chunks, then read `result()`."""

    def __init__(
        self,
        assistant: Assistant,
        query: str,
        decision: Decision,
        model: str,
        conversation_id: int | None,
        turn_id: int | None,
        notes: list[str],
    ):
        self.query = query
        self.decision = decision  # the final route: local or cloud
        self.model = model
        self.conversation_id = conversation_id
        self.turn_id = turn_id
        self.notes = notes
        self.text = ""
        self.logprobs: list[float] = []  # per generated token of a local answer: the student's confidence
        self.tokens = 0
        self.ttft_ms: float | None = None
        self.tokens_per_s: float | None = None
        self.prompt_tokens: int | None = None
        self.started = time.perf_counter()
        self._assistant = assistant
        self._flow: Iterator[str] | None = None
        self._cancel = threading.Event()
        self._generation = None  # the student's Generation while one runs
        self._finished = False

    def __iter__(self):
        status = "failed"
        try:
            for chunk in self._flow:
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
        if self._generation is not None:
            self._generation.cancel()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def _finish(self, status: str) -> None:
        if self._finished:
            return
        self._finished = True
        if status == "interrupted":
            self.note("The answer was interrupted; what arrived is kept.")
        store = self._assistant.store
        if self.turn_id is not None:
            store.finish_turn(
                self.turn_id,
                answer=self.text,
                status=status,
                notes=json.dumps(self.notes),
                route=self.decision.route,
                reason=self.decision.reason,
                score=self.decision.score,
                model=self.model,
                prompt_tokens=self.prompt_tokens,
                tokens=self.tokens,
                ttft_ms=self.ttft_ms,
                tokens_per_s=self.tokens_per_s,
                duration_ms=(time.perf_counter() - self.started) * 1000,
            )

    def result(self) -> dict:
        """The answer object of DESIGN.md's contracts."""
        return {
            "answer": self.text.strip(),
            "route": self.decision.route,
            "reason": self.decision.reason,
            "model": self.model,
            "turn_id": self.turn_id,
            "conversation_id": self.conversation_id,
            "tokens": self.tokens,
            "ttft_ms": round(self.ttft_ms, 1) if self.ttft_ms is not None else None,
            "tokens_per_s": round(self.tokens_per_s, 1) if self.tokens_per_s is not None else None,
            "notes": list(self.notes),
        }


class Assistant:
    """Answers queries with the active student or, when allowed, the teacher; logs every turn."""

    def __init__(self, settings: config.Settings | None = None, store: Store | None = None):
        self.settings = settings or config.load()
        self.store = store or Store()
        s = self.settings
        self.router = Router(
            Thresholds(cloud=s.router_cloud_threshold, local=s.router_local_threshold, prior=s.router_prior)
        )
        self.embedder = shared_embedder()
        self._student: Student | None = None
        self._teacher = None
        self._index: OutcomeIndex | None = None
        self.cascade_min_logprob = s.cascade_min_logprob  # the active version's own, once it is loaded

    # -- what answers ---------------------------------------------------------------

    def default_mode(self) -> str:
        """The configured mode; unset means private until a key is set, then ask."""
        return privacy.default_mode(self.settings)

    def student(self) -> Student:
        """The active student, reloaded when another version became active since the last query."""
        from assistant.models import registry

        version = registry.active()
        if self._student is None or self._student.name != version.name:
            if self._student is not None:
                self._student.close()
            self._student = None
            self._index = None  # outcomes are per student version
            self._student = Student(
                version.path,
                name=version.name,
                system_prompt=config.system_prompt(self.settings),
                temperature=self.settings.temperature,
                top_p=self.settings.top_p,
                context_tokens=self.settings.context_tokens,
                cache_dir=config.home() / "cache" / "prompts",
                cache_conversations=self.settings.prompt_cache_conversations,
                adapter_path=version.adapter_path,
            )
            self.cascade_min_logprob = version.cascade_min_logprob(self.settings.cascade_min_logprob)
        return self._student

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
        requested = mode or self.default_mode()
        mode, why_private = privacy.effective_mode(requested, key is not None)
        if force == "cloud" and mode == "private":
            raise BadInput(
                "--cloud needs a Gemini key (set GEMINI_API_KEY or run `apprentice keys set gemini`)."
                if key is None
                else "--cloud is refused in private mode; use --mode ask or --mode auto."
            )
        notes = [why_private] if why_private else []
        student = self.student()
        vector = index = None
        if mode != "private":
            self.embedder.start()  # after the student is loaded: torch loads while it answers
        if mode != "private" and force is None:
            index = self.outcome_index(student.name)
            # Only wait for the embedder when there are outcomes to compare against.
            if len(index) or self.embedder.ready:
                vector = self.embedder.encode([query])[0]
        decision = self.router.decide(query, mode=mode, force=force, vector=vector, index=index)
        history = self.store.history(conversation_id) if conversation_id is not None else []
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
                model=student.name,
            )
        answer = Answer(self, query, decision, student.name, conversation_id, turn_id, notes)
        answer._flow = self._flow(answer, student, history, mode, key, consent, vector)
        return answer

    def _flow(
        self,
        ans: Answer,
        student: Student,
        history: list[dict],
        mode: str,
        key: str | None,
        consent: Consent | None,
        vector,
    ) -> Iterator[str]:
        messages = history + [{"role": "user", "content": ans.query}]
        conversation = str(ans.conversation_id) if ans.conversation_id is not None else None
        decision = ans.decision
        tried = None  # (text, confidence) when the cascade asked the student first
        if decision.route == "cascade":
            tried = self._try_student(ans, student, messages, conversation)
            confidence = tried[1]
            if ans.cancelled or confidence >= self.cascade_min_logprob:
                ans.decision = Decision(
                    "local", decision.score, f"{decision.reason}; the student was sure (mean log-prob {confidence:.2f})"
                )
                yield tried[0]
                return
            decision = ans.decision = Decision(
                "cloud", decision.score, f"{decision.reason}; the student was unsure (mean log-prob {confidence:.2f})"
            )
        if decision.route == "cloud":
            redactor = Redactor(self.settings.redact_terms)
            sent = [{**m, "content": redactor.redact(m["content"])} for m in messages]
            allowed = self._may_send(ans, mode, consent, sent)
            if allowed:
                done = yield from self._ask_teacher(ans, key, redactor, sent, mode, tried, student, vector)
                if done:
                    return
            ans.decision = Decision(
                "local",
                decision.score,
                decision.reason + ("; kept local" if not allowed else "; the teacher failed, the student answered"),
            )
        ans.model = student.name
        if tried is not None:
            yield tried[0]
            return
        yield from self._stream_student(ans, student, messages, conversation)

    # -- the student ------------------------------------------------------------------------

    def _stream_student(self, ans: Answer, student: Student, messages, conversation) -> Iterator[str]:
        gen = ans._generation = student.generate(
            messages, conversation=conversation, max_tokens=self.settings.max_tokens
        )
        if ans.cancelled:
            gen.cancel()
        try:
            for token in gen:
                if token.logprob is not None:
                    ans.logprobs.append(token.logprob)
                yield token.text
        finally:
            ans._generation = None
            stats = gen.stats
            ans.tokens, ans.ttft_ms, ans.tokens_per_s = stats.tokens, stats.ttft_ms, stats.tokens_per_s
            ans.prompt_tokens = stats.prompt_tokens
            for note in stats.notes:
                ans.note(note)

    def _try_student(self, ans: Answer, student: Student, messages, conversation) -> tuple[str, float]:
        """The cascade: the student's whole answer, unshown, and its mean token log-probability."""
        text = "".join(self._stream_student(ans, student, messages, conversation))
        confidence = statistics.fmean(ans.logprobs) if ans.logprobs else float("-inf")
        return text, confidence

    # -- the teacher --------------------------------------------------------------------------

    def _may_send(self, ans: Answer, mode: str, consent: Consent | None, sent: list[dict]) -> bool:
        """May the redacted `sent` leave? Auto: within the daily cap. Ask: if the user says yes."""
        if mode == "auto":
            cap = self.settings.teacher_daily_cap
            midnight = dt.datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
            if self.store.teacher_calls_since(midnight.astimezone(dt.UTC).isoformat(), "auto") >= cap:
                ans.note(f"Today's limit of {cap} Gemini queries in auto mode is reached; the student answered.")
                return False
            return True
        if mode == "ask":
            if consent is None:
                ans.note("Ask mode, but no one to ask whether this may go to Gemini; it stayed on this machine.")
                return False
            if not consent(transcript(sent)):
                ans.note("You kept this query on this machine.")
                return False
            return True
        return False

    def _ask_teacher(
        self, ans: Answer, key: str, redactor: Redactor, sent: list[dict], mode: str, tried, student: Student, vector
    ):
        """Stream the teacher's answer, restored; True if it answered whole. Records what left."""
        from assistant.teacher import TeacherError

        teacher = self.teacher(key)
        record = dict(
            turn_id=ans.turn_id,
            query_sent=sent[-1]["content"],
            messages_sent=json.dumps(sent),
            redactions=json.dumps(redactor.found),
            teacher_model=teacher.model,
            consent=mode,
            score=ans.decision.score,
            reason=ans.decision.reason,
            student_version=student.name,
            student_answer=tried[0] if tried else None,
            student_confidence=tried[1] if tried else None,
        )
        if redactor.found:
            ans.note("Sent redacted: " + ", ".join(f"{n} {k.lower()}" for k, n in redactor.found.items()) + ".")
        raw, shown = "", ""
        restoring = RestoringStream(redactor)
        try:
            for chunk in teacher.stream(sent):
                raw += chunk
                if out := restoring.feed(chunk):
                    shown += out
                    yield out
                if ans.cancelled:
                    raise TeacherError("the answer was cancelled")
            if tail := restoring.flush():
                shown += tail
                yield tail
        except TeacherError as exc:
            usage = teacher.usage
            self.store.add_example(
                **record, status="failed", error=str(exc), teacher_answer=raw or None, latency_ms=usage.latency_ms
            )
            if ans.cancelled:
                ans.model = teacher.model
                return True
            ans.note(f"Gemini could not answer ({exc}); the student answered instead.")
            if shown:  # the user saw part of it: say where the student's answer begins
                yield "\n\n(Gemini broke off; the student's answer follows.)\n\n"
            return False
        usage = teacher.usage
        ans.model = teacher.model
        ans.tokens, ans.ttft_ms, ans.tokens_per_s = usage.answer_tokens or 0, usage.ttft_ms, usage.tokens_per_s
        ans.prompt_tokens = usage.prompt_tokens
        example_id = self.store.add_example(
            **record,
            status="ok",
            teacher_answer=raw,
            prompt_tokens=usage.prompt_tokens,
            answer_tokens=usage.answer_tokens,
            latency_ms=usage.latency_ms,
        )
        if tried is not None:
            self._learn(ans, student, tried[0], raw, example_id, vector)
        return True

    def _learn(
        self, ans: Answer, student: Student, student_answer: str, teacher_answer: str, example_id: int, vector
    ) -> None:
        """The student answered too: judge it against the teacher, so similar queries route better."""
        from assistant.judge import judge

        verdict = judge(
            student_answer,
            teacher_answer,
            embedder=self.embedder,
            agree_similarity=self.settings.judge_agree_similarity,
        )
        if vector is None:
            vector = self.embedder.encode([ans.query])[0]
        self.store.add_outcome(
            query=ans.query,
            embedding=vector.tobytes(),
            student_version=student.name,
            wrong=int(not verdict.agree),
            origin="judged",
            similarity=verdict.similarity,
            turn_id=ans.turn_id,
            example_id=example_id,
        )

    def mark_bad(self, turn_id: int) -> dict:
        """The user says an answer was wrong: never train on it; if the student gave it, learn to route."""
        turn = self.store.mark_bad(turn_id)
        if turn["route"] == "local":
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


def transcript(messages: list[dict]) -> str:
    """What would leave the machine, as a person reads it: the query alone, or the conversation."""
    if len(messages) == 1:
        return messages[0]["content"]
    names = {"user": "You", "assistant": "Apprentice"}
    return "\n\n".join(f"{names.get(m['role'], m['role'])}: {m['content']}" for m in messages)

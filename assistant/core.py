"""The Assistant: query → route → answer stream → log. Every surface (ask, chat, voice) uses it.

    answer = assistant.answer("What is the capital of France?", source="ask")
    for chunk in answer:          # text as it arrives
        print(chunk, end="")
    answer.result()               # the JSON object of DESIGN.md's contracts

The query is written to the log before the student starts, and the answer after, so a
crash or Ctrl-C mid-answer keeps the query and what arrived of the answer.
"""

from __future__ import annotations

import json
import time
from typing import Callable

from assistant import config, privacy
from assistant.errors import BadInput
from assistant.router import Decision, Router
from assistant.store import Store
from assistant.student import Generation, Student


class Answer:
    """One answer in flight: iterate for text chunks, then read `result()`."""

    def __init__(self, query: str, decision: Decision, model: str, conversation_id: int | None,
                 turn_id: int | None, generation: Generation, store: Store | None, notes: list[str]):
        self.query = query
        self.decision = decision
        self.model = model
        self.conversation_id = conversation_id
        self.turn_id = turn_id
        self.notes = notes
        self.text = ""
        self.logprobs: list[float] = []  # per generated token: the student's confidence, for the router
        self._gen = generation
        self._store = store
        self._finished = False

    def __iter__(self):
        status = "failed"
        try:
            for token in self._gen:
                self.text += token.text
                if token.logprob is not None:
                    self.logprobs.append(token.logprob)
                yield token.text
            status = "interrupted" if self._gen.cancelled else "done"
        except BaseException:  # Ctrl-C, a failure, or the reader stopped: stop the student, keep what arrived
            self._gen.cancel()
            status = "interrupted"
            raise
        finally:
            self._finish(status)

    def cancel(self) -> None:
        self._gen.cancel()

    def _finish(self, status: str) -> None:
        if self._finished:
            return
        self._finished = True
        stats = self._gen.stats
        for note in stats.notes:
            if note not in self.notes:
                self.notes.append(note)
        if status == "interrupted":
            self.notes.append("The answer was interrupted; what arrived is kept.")
        if self._store is not None and self.turn_id is not None:
            self._store.finish_turn(
                self.turn_id,
                answer=self.text,
                status=status,
                notes=json.dumps(self.notes),
                prompt_tokens=stats.prompt_tokens,
                tokens=stats.tokens,
                ttft_ms=stats.ttft_ms,
                tokens_per_s=stats.tokens_per_s,
                duration_ms=(time.perf_counter() - self._gen.started) * 1000,
            )

    def result(self) -> dict:
        """The answer object of DESIGN.md's contracts."""
        stats = self._gen.stats
        return {
            "answer": self.text.strip(),
            "route": self.decision.route,
            "reason": self.decision.reason,
            "model": self.model,
            "turn_id": self.turn_id,
            "conversation_id": self.conversation_id,
            "tokens": stats.tokens,
            "ttft_ms": round(stats.ttft_ms, 1) if stats.ttft_ms is not None else None,
            "tokens_per_s": round(stats.tokens_per_s, 1) if stats.tokens_per_s is not None else None,
            "notes": list(self.notes),
        }


class Assistant:
    """Answers queries with the active student, routed by the privacy mode, logged to the store."""

    def __init__(self, settings: config.Settings | None = None, store: Store | None = None):
        self.settings = settings or config.load()
        self.store = store or Store()
        self.router = Router()
        self._student: Student | None = None

    def student(self) -> Student:
        """The active student, reloaded when another version became active since the last query."""
        from model import registry  # the one import from model/ at query time

        version = registry.active()
        if self._student is None or self._student.name != version.name:
            if self._student is not None:
                self._student.close()
            self._student = None
            self._student = Student(
                version.path,
                name=version.name,
                system_prompt=config.system_prompt(self.settings),
                temperature=self.settings.temperature,
                top_p=self.settings.top_p,
                context_tokens=self.settings.context_tokens,
                cache_dir=config.home() / "cache" / "prompts",
                cache_conversations=self.settings.prompt_cache_conversations,
            )
        return self._student

    def answer(self, query: str, conversation_id: int | None = None, *, source: str = "ask",
               log: bool = True, force: str | None = None, mode: str | None = None,
               consent: Callable[[str], bool] | None = None) -> Answer:
        """Start answering `query`; iterate the returned Answer for its text.

        `force` is "local" or "cloud" (--local/--cloud, /local, /cloud); `mode` overrides the
        configured privacy mode for this query; `consent(text)` is asked, in `ask` mode, whether
        the exact redacted `text` may go to the teacher (None: no one to ask, stay local).
        """
        query = query.strip()
        if not query:
            raise BadInput("The query is empty; say what you want to ask.")
        notes: list[str] = []
        if conversation_id is not None and not self.store.conversation_exists(conversation_id):
            raise BadInput(f"There is no conversation {conversation_id}; `apprentice log list` shows them.")
        mode, note = privacy.effective_mode(mode or self.settings.mode, privacy.gemini_key() is not None)
        if note:
            notes.append(note)
        decision = self.router.decide(query, mode=mode, force=force)
        student = self.student()
        history = self.store.history(conversation_id) if conversation_id is not None else []
        turn_id = None
        if log:
            if conversation_id is None:
                conversation_id = self.store.new_conversation(query, source)
            turn_id = self.store.start_turn(
                conversation_id, query, source,
                route=decision.route, reason=decision.reason, score=decision.score, model=student.name,
            )
        generation = student.generate(
            history + [{"role": "user", "content": query}],
            conversation=str(conversation_id) if conversation_id is not None else None,
            max_tokens=self.settings.max_tokens,
        )
        return Answer(query, decision, student.name, conversation_id, turn_id, generation,
                      self.store if log else None, notes)

    def close(self) -> None:
        if self._student is not None:
            self._student.close()
            self._student = None

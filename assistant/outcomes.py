"""The router's memory: past queries whose outcome is known for one student version, and re-judging them.

An outcome is a query, its embedding, and whether the student answered it wrong: judged against
the teacher's answer when both answered (assistant/core.py), or marked bad by the user. The
router (assistant/router.py) scores a new query by its nearest outcomes in an `OutcomeIndex`.

Outcomes belong to a version: a new student knows other things than the one they were judged
for. After a promotion, `rejudge` gives the new student a memory of its own: the previous
version's outcomes, newest first, answered again by the new student and judged against the
teacher's answers with the same judge, for at most a time budget. Outcomes not reached in time
are left out (similar queries go to the cascade, which learns again); answers the user marked
wrong carry over, as there is no teacher's answer to judge them against.
"""

from __future__ import annotations

import contextlib
import functools
import re
import time
from collections.abc import Collection
from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np


def query_key(text: str) -> str:
    """A query with case, spacing and end punctuation aside: what makes two queries the same one."""
    return re.sub(r"[\s.,;:!?]+$", "", " ".join(text.split()).lower())


def token_budget(tokenizer, reference: str, cap: int) -> int:
    """Enough tokens to say what the teacher said, not enough to ramble for long: 1.5 times the
    reference's length plus 8, at most `cap`. A rambling student then costs bounded time."""
    return max(8, min(cap, int(1.5 * len(tokenizer.encode(reference))) + 8))


# -- the index -------------------------------------------------------------------------------------


@functools.cache
def _numpy_blas() -> list:
    """numpy's own BLAS libraries (threadpoolctl controllers); MLX's BLAS is another library."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return []
    return [lib for lib in ThreadpoolController().lib_controllers if "numpy" in lib.filepath]


@contextlib.contextmanager
def one_blas_thread():
    """numpy's BLAS on one thread for the kNN product (and the embedder's), then as it was. Its threads wait for each
    other by spinning, and with the student's threads on the same cores a decision at 10,000
    outcomes took 80-110 ms instead of 8-16 (2-core machine, medians). Only here: the rest of
    the process (Whisper's features, for one) keeps numpy's threads and their exact numbers."""
    libs = _numpy_blas()
    before = [lib.num_threads for lib in libs]
    for lib in libs:
        lib.set_num_threads(1)
    try:
        yield
    finally:
        for lib, n in zip(libs, before):
            lib.set_num_threads(n)


class OutcomeIndex:
    """Embeddings of past queries with known outcomes for one student version, in memory."""

    def __init__(self, dim: int = 384):
        self.vectors = np.zeros((0, dim), dtype=np.float32)  # (n, dim), normalized
        self.wrong = np.zeros((0,), dtype=np.float32)  # (n,): 1.0 where the student was wrong
        self.queries: list[str] = []
        self.last_id = 0

    def __len__(self) -> int:
        return len(self.queries)

    def add(self, rows: list[dict]) -> None:
        """Rows from the store: query, embedding (float32 bytes), wrong, id."""
        if not rows:
            return
        vecs = np.stack([np.frombuffer(r["embedding"], dtype=np.float32) for r in rows])
        self.vectors = np.concatenate([self.vectors, vecs])
        self.wrong = np.concatenate([self.wrong, np.array([r["wrong"] for r in rows], dtype=np.float32)])
        self.queries += [r["query"] for r in rows]
        self.last_id = max(self.last_id, max(r["id"] for r in rows))

    def nearest(self, vector: np.ndarray, k: int, min_similarity: float) -> list[tuple[int, float]]:
        if not len(self):
            return []
        with one_blas_thread():
            sims = self.vectors @ vector  # (n,): cosine, vectors are normalized
        k = min(k, len(sims))
        top = np.argpartition(-sims, k - 1)[:k]
        top = top[np.argsort(-sims[top])]
        return [(int(i), float(sims[i])) for i in top if sims[i] >= min_similarity]


# -- re-judging after a promotion ---------------------------------------------------------------------


class Progress(Protocol):
    """Where re-judging reports how far it got (model/distill/progress.py's Progress is one)."""

    def task(self, name: str, total: int): ...


@dataclass(frozen=True)
class Rejudged:
    """What re-judging did; `to_json()` is the `rejudged` object of `apprentice distill --json`."""

    outcomes: int  # outcomes with a teacher's answer to judge against
    rejudged: int  # of those, answered again in time
    now_right: int  # of those, right with the new student
    left_out: int  # not reached within the budget
    carried_marked_wrong: int  # answers the user marked wrong, carried over as they are
    seconds: float
    budget_s: float

    def to_json(self) -> dict:
        return asdict(self)


def rejudge(
    store,
    student,
    *,
    previous: str,
    seconds: float,
    agree_similarity: float,
    skip: Collection[int] = frozenset(),
    progress: Progress | None = None,
) -> Rejudged:
    """Give `student` (the newly active version, an assistant.student.Student) a router memory:
    the outcomes logged for `previous`, judged again with it, newest first, for at most `seconds`.

    Outcomes of examples in `skip` (those it trained on, unless asked otherwise) are left out:
    right on an answer learned by heart says little about the similar queries the router would
    send it."""
    from assistant.embedder import shared
    from assistant.judge import judge

    embedder = shared()
    seen, todo, carried = set(), [], 0
    for row in store.outcomes_with_answers(previous):  # newest first: the newest outcome of a query wins
        if query_key(row["query"]) in seen:
            continue
        seen.add(query_key(row["query"]))
        if row["origin"] == "marked_bad":  # the user said the answer was wrong: no teacher to judge against
            store.add_outcome(
                query=row["query"],
                embedding=row["embedding"],
                student_version=student.name,
                wrong=1,
                origin="marked_bad",
                turn_id=row["turn_id"],
            )
            carried += 1
        elif row["teacher_answer"] and row["example_id"] not in skip:
            todo.append(row)
    started = time.monotonic()
    deadline = started + seconds
    task = progress.task("re-judge outcomes", len(todo)) if progress is not None else None
    done = right = 0
    for row in todo:
        if time.monotonic() > deadline:
            break
        budget = token_budget(student.tokenizer, row["teacher_answer"], 128)
        response = student.stream([{"role": "user", "content": row["query"]}], max_tokens=budget)
        verdict = judge(
            response.complete().strip(), row["teacher_answer"], embedder=embedder, agree_similarity=agree_similarity
        )
        store.add_outcome(
            query=row["query"],
            embedding=row["embedding"],
            student_version=student.name,
            wrong=int(not verdict.agree),
            origin="rejudged",
            similarity=verdict.similarity,
            turn_id=row["turn_id"],
            example_id=row["example_id"],
        )
        done += 1
        right += verdict.agree
        if task is not None:
            task.advance()
    return Rejudged(
        outcomes=len(todo),
        rejudged=done,
        now_right=right,
        left_out=len(todo) - done,
        carried_marked_wrong=carried,
        seconds=round(time.monotonic() - started, 1),
        budget_s=seconds,
    )

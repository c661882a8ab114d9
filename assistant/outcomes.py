"""The router's memory: past queries whose outcome is known for one student version, and re-judging them.

An outcome is a query, its embedding, and whether the student answered it wrong: judged against
the teacher's answer when both answered (assistant/core.py), or marked bad by the user; an answer
the cascade kept, sure of it, counts as weak evidence it was right (`KEPT_WRONG`). The
router (assistant/router.py) scores a new query by its nearest outcomes in an `OutcomeIndex`.

Outcomes belong to a version: a new student knows other things than the one they were judged
for. After a promotion, `rejudge` gives the new student a memory of its own: the previous
version's outcomes, newest first, answered again by the new student and judged against the
teacher's answers with the same judge, for at most a time budget. Outcomes not reached in time
are left out (similar queries go to the cascade, which learns again); answers the user marked
wrong carry over, as there is no teacher's answer to judge them against. Kept answers stay with
their version: a new student's confidence is its own.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import time
from collections.abc import Collection
from dataclasses import asdict, dataclass
from typing import Protocol

import numpy as np

# An outcome's `wrong` for an answer the cascade kept, sure of it: under the router's local threshold
# (0.3) is where it would skip the cascade's check, so a kept answer alone never gets there; it only
# outweighs similar failures. (A user's /bad weighs 1.0, an answer judged right 0.)
KEPT_WRONG = 0.35
REJUDGE_MAX_TOKENS = 128  # the longest answer re-judging asks for: a call is asked again up to it, whole


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
    """Embeddings of past queries with known outcomes for one student version, in memory.

    Each embedding is kept as float32 (the exact one) and as int8 with a scale per row, `scale *
    code`, with a bound on how far that is from the float32 row. With many outcomes, `nearest`
    first scans the int8 codes (assistant/scan.c: a quarter of the bytes; the float32 product over
    every row was half of a decision's CPU), then computes the exact similarity only of the rows
    that the bounds leave in reach of the k nearest: the neighbours are the float32 search's."""

    def __init__(self, dim: int = 384):
        self.vectors = np.zeros((0, dim), dtype=np.float32)  # (n, dim), normalized
        self.codes = np.zeros((0, dim), dtype=np.int8)  # (n, dim): vectors ≈ scales * codes
        self.scales = np.zeros((0,), dtype=np.float32)
        self.errors = np.zeros((0,), dtype=np.float32)  # ‖vector - scale * code‖, rounded up
        self.code_norms = np.zeros((0,), dtype=np.float32)  # ‖scale * code‖, rounded up
        self.wrong = np.zeros((0,), dtype=np.float32)  # (n,): 1.0 where the student was wrong
        self.queries: list[str] = []
        self.origins: list[str] = []  # judged | rejudged | marked_bad | rephrased | kept
        self.last_id = 0

    def __len__(self) -> int:
        return len(self.queries)

    def add(self, rows: list[dict]) -> None:
        """Rows from the store: query, embedding (float32 bytes), wrong, id, and origin when known."""
        if not rows:
            return
        vecs = np.stack([np.frombuffer(r["embedding"], dtype=np.float32) for r in rows])
        codes, scales, errors, norms = quantize(vecs)
        self.vectors = np.concatenate([self.vectors, vecs])
        self.codes = np.concatenate([self.codes, codes])
        self.scales = np.concatenate([self.scales, scales])
        self.errors = np.concatenate([self.errors, errors])
        self.code_norms = np.concatenate([self.code_norms, norms])
        self.wrong = np.concatenate([self.wrong, np.array([r["wrong"] for r in rows], dtype=np.float32)])
        self.queries += [r["query"] for r in rows]
        self.origins += [r.get("origin") or "judged" for r in rows]
        self.last_id = max(self.last_id, max(r["id"] for r in rows))

    def nearest(self, vector: np.ndarray, k: int, min_similarity: float) -> list[tuple[int, float]]:
        """The (up to) k outcomes most similar to `vector` with similarity at least `min_similarity`,
        as (row, cosine), most similar first; among equal similarities the newest outcome first."""
        n = len(self)
        if not n or k <= 0:
            return []
        vector = np.ascontiguousarray(vector, dtype=np.float32)
        k = min(k, n)
        scan = _scan() if n >= SCAN_MIN_ROWS else None
        if scan is None:
            with one_blas_thread():
                sims = self.vectors @ vector  # (n,): cosine, vectors are normalized
            lower = upper = sims
        else:
            lower, upper = self._bounds(vector, scan)
        # A row among the k nearest is at least as similar as the k-th best lower bound, and it
        # must reach min_similarity: rows whose upper bound falls short of either cannot be.
        kth = float(np.partition(lower, n - k)[n - k])
        rows = np.flatnonzero(upper >= max(min_similarity, kth) - SLACK)
        # The similarities of the rows still in reach, each summed on its own in float64 and rounded
        # to float32: a matrix product's rounding depends on where a row sits in the matrix, and two
        # equal rows (a query logged twice) must tie, whichever other rows were in reach.
        sims = (self.vectors[rows].astype(np.float64) * vector.astype(np.float64)).sum(axis=1).astype(np.float32)
        keep = sims >= min_similarity
        rows, sims = rows[keep], sims[keep]
        order = np.lexsort((-rows, -sims))[:k]  # most similar first; the newest first among equals
        return [(int(rows[i]), float(sims[i])) for i in order]

    def _bounds(self, vector: np.ndarray, scan) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds of every row's similarity to `vector`, from the int8 scan.

        With x ≈ a·X (the row) and q ≈ b·Q (the query, quantized the same way),
        |x·q - ab(X·Q)| ≤ ‖x - aX‖·‖q‖ + ‖aX‖·‖q - bQ‖, and X·Q is an exact integer. The bound
        is taken with the largest row error and code norm, one number for all rows: a little
        looser, and two passes fewer over the rows."""
        codes, scales, errors, norms = quantize(vector[None])
        dots = np.empty(len(self), dtype=np.int32)
        scan(self.codes, len(self), self.codes.shape[1], codes[0], dots)
        approx = np.multiply(dots, self.scales, dtype=np.float32)
        approx *= scales[0]
        q_norm = float(np.linalg.norm(vector.astype(np.float64)))
        eps = float(self.errors.max()) * q_norm + float(self.code_norms.max()) * float(errors[0]) + SLACK
        return approx - eps, approx + eps


SCAN_MIN_ROWS = 4096  # below this many outcomes the float32 product is as quick as the scan's bookkeeping
# float32 rounding: a similarity of 384 terms is off by at most about 384·2⁻²⁴·Σ|xᵢqᵢ| < 3e-5, the
# bounds' float32 arithmetic by less; rows within this of a cut are kept and compared exactly.
SLACK = 1e-4


def quantize(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Rows as int8 codes times a scale per row (the largest |value| maps to 127), with each row's
    error ‖x - scale·code‖ and code norm ‖scale·code‖, computed in float64 and rounded up to float32.
    In blocks of rows, so that loading a large index needs little memory beside it."""
    parts = [_quantize(vectors[i : i + 4096]) for i in range(0, len(vectors), 4096)] or [_quantize(vectors)]
    return tuple(np.concatenate(p) for p in zip(*parts))


def _quantize(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x = vectors.astype(np.float64)
    peak = np.abs(x).max(axis=1, initial=0.0)
    scales = np.where(peak > 0, peak / 127, 1.0).astype(np.float32)  # an all-zero row: codes 0, error 0
    codes = np.clip(np.rint(x / scales[:, None]), -127, 127).astype(np.int8)
    decoded = codes * scales.astype(np.float64)[:, None]
    up = np.float32(np.inf)  # float64 → float32 may round down: one step up makes each a bound
    errors = np.nextafter(np.linalg.norm(x - decoded, axis=1).astype(np.float32), up)
    norms = np.nextafter(np.linalg.norm(decoded, axis=1).astype(np.float32), up)
    return codes, scales, errors, norms


@functools.cache
def _scan_library():
    """assistant/scan.c built next to this module (setup.py; Linux), or None: then the float32 product."""
    import ctypes
    from pathlib import Path

    for path in sorted(Path(__file__).parent.glob("_scan*.so")):
        try:
            lib = ctypes.CDLL(str(path))
        except OSError:
            continue
        fn = lib.apprentice_scan_i8
        fn.restype = None
        fn.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p]
        lib.apprentice_scan_isa.restype = ctypes.c_int
        return lib
    return None


def _scan():
    """The int8 scan as a function of numpy arrays, or None where it is not built or
    APPRENTICE_ROUTER_SCAN=0 turns it off (to compare with the float32 search)."""
    if os.environ.get("APPRENTICE_ROUTER_SCAN", "1") == "0":
        return None
    lib = _scan_library()
    if lib is None:
        return None

    def scan(codes: np.ndarray, n: int, dim: int, query: np.ndarray, out: np.ndarray) -> None:
        # ctypes lets go of the GIL for the call: the student's thread runs Python meanwhile
        lib.apprentice_scan_i8(codes.ctypes.data, n, dim, query.ctypes.data, out.ctypes.data)

    return scan


def scan_isa() -> str | None:
    """Which loop the int8 scan runs on this CPU, or None where it is not built (for doctor and bench)."""
    lib = _scan_library()
    return None if lib is None else ("plain C", "AVX2", "AVX-512BW")[lib.apprentice_scan_isa()]


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
    from assistant.tools.calls import CALL_CLOSE

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
        messages = [{"role": "user", "content": row["query"]}]
        response = student.stream(
            messages, max_tokens=token_budget(student.tokenizer, row["teacher_answer"], REJUDGE_MAX_TOKENS)
        )
        response.complete()
        opened = response.tool_call_text
        if opened is not None and CALL_CLOSE not in opened:
            # a call cut by a budget sized for the teacher's short sentence: asked again whole (greedy, the same call)
            response = student.stream(messages, max_tokens=REJUDGE_MAX_TOKENS)
            response.complete()
        verdict = judge(
            response.said.strip(),
            row["teacher_answer"],
            query=row["query"],
            embedder=embedder,
            agree_similarity=agree_similarity,
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

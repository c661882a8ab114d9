"""A student against the teacher's answers on held-out queries: the metric distillation promotes on.

The metric, per query: **right** when the student's answer agrees with the teacher's. Where the
query carries a checkable reference, the check decides: a benchmark line's own check (exact,
contains, number, json, similar), or, for a logged example, the check the teacher's answer
allows by its shape (a JSON object must parse equal, a bare number must match). Elsewhere the
judge decides, the same `assistant.judge.judge` the router learns from: the teacher's short
answer contained in the student's, or embedding similarity of at least 0.75. The score is the
share of queries answered right; the mean similarity is reported next to it.

Answers are greedy, and each is cut at 1.5 times the teacher's answer length in tokens plus 8
(at most `max_tokens`), which bounds the time a rambling student can take. The bound is on words: a
tool call begun within it is read to its end (assistant/student.py), as for a user.
A call to a tool that only computes or reads the clock (`assistant.tools.COMPUTING`), answering a text
reference, is run, and what it shows is what is scored, as the user would read it: the teacher
said "4 × 10 = 40", the student called calculate, and both answered right. Calls that set
timers, alarms, reminders or notes are never run here; they are right only against the teacher's
own call (the `call` check).

Retention, what the promotion gate also measures so that a candidate cannot forget unnoticed: the
held-out split is drawn from fallbacks, the queries the current student got wrong, so it never
shows what the student already answered right. The retention set is

- the current student's confident local answers (`local_items`): turns it answered locally, not
  marked bad, with no earlier turn in their conversation (the query alone is the whole question);
  where the teacher answered the same query too, the answer is kept only if it agrees with the
  teacher's, which then becomes the reference; elsewhere the student's own answer is the reference.
  A turn the student answered with a tool is kept as the call it ran (a call that did not run, or
  one a sentence template chose, is not the student's to keep): most of what a distilled student
  answers locally is calls, and a candidate that stops making them has forgotten as much as one
  that loses a fact;
- the regression set shipped with the project (`regression_items`, assets/bench/regression.jsonl).

    python -m model.evaluate PATH [--adapter FOLDER] --tasks FILE.jsonl     # score a checkpoint
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from assistant import config
from assistant.outcomes import query_key, token_budget

# The regression set: everyday questions (facts, definitions, simple how-to, greetings) written by
# hand, not from the benchmark's templates (assets/bench/make_tasks.py), none of them about a fact
# in the benchmark's train or test files. Each candidate was answered by the base default student
# (SmolLM2-135M-Instruct as `apprentice model pull` gives it, with the tool list in its system
# prompt) and scored exactly as here, greedy, at REGRESSION_MAX_TOKENS; only the lines it answered
# right were kept, and of those only where its answer says the fact (not "grass is brown, or green"),
# so a student that loses one has forgotten something the base student knew. 158 lines: on 62, one
# forgotten fact was 1.6 points and whether a candidate passed 5 points turned on a question or two.
REGRESSION_FILE = "regression.jsonl"
# Answers to the regression set are short facts and sentences: a tight cap keeps the gate fast
# (each reference's own budget, 1.5 times its length plus 8 tokens, is usually smaller still).
REGRESSION_MAX_TOKENS = 48


@dataclass
class Item:
    """One held-out query: the conversation, the teacher's answer, and how to check it."""

    messages: list[dict]
    reference: str  # the teacher's answer (or the benchmark's reference)
    check: str | None = None  # None: the judge decides
    tolerance: float | None = None
    threshold: float | None = None
    family: str | None = None
    example_id: int | None = None

    @classmethod
    def from_task(cls, row: dict) -> Item:
        return cls(
            [{"role": "user", "content": row["query"]}],
            row["reference"],
            row["check"],
            row.get("tolerance"),
            row.get("threshold"),
            row.get("family"),
        )


@dataclass
class Scored:
    answer: str
    right: bool
    similarity: float
    confidence: float | None  # mean token log-probability of the answer
    how: str  # what decided: a check's name, or the judge's reason
    seconds: float = 0.0
    finished: bool = True  # the answer ended on its own, not where its token budget cut it


@dataclass
class Report:
    scores: list[Scored] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return sum(s.right for s in self.scores) / len(self.scores) if self.scores else 0.0

    @property
    def similarity(self) -> float:
        return statistics.fmean(s.similarity for s in self.scores) if self.scores else 0.0

    def to_json(self) -> dict:
        return {
            "accuracy": round(self.accuracy, 4),
            "similarity": round(self.similarity, 4),
            "right": sum(s.right for s in self.scores),
            "n": len(self.scores),
        }


def answer(student, messages: list[dict], max_tokens: int) -> tuple[str, float | None, bool]:
    """The student's whole greedy answer, with any tool call it wrote, its mean token log-probability,
    and whether it ended on its own (False: its token budget cut it)."""
    response = student.stream(messages, max_tokens=max_tokens)
    response.complete()
    return response.said.strip(), response.confidence, response.finish_reason != "length"


def score(text: str, item: Item, *, embedder=None, agree_similarity: float | None = None) -> Scored:
    """Right or wrong, by the item's check where it has one, else by the judge; with the similarity.

    A call to a tool that only computes (calculate, convert, clock) against an answer in words is
    scored by what it shows when run, as the user would read it (assistant/judge.py); against the
    teacher's own call it is compared as a call, never run."""
    from assistant.judge import AGREE_SIMILARITY, as_run, judge, shown
    from model.bench import checks

    query = item.messages[-1]["content"]
    agree = agree_similarity or AGREE_SIMILARITY
    verdict = judge(text, item.reference, query=query, embedder=embedder, agree_similarity=agree)
    kind = item.check or checks.infer(item.reference)
    if kind is None:
        return Scored(text, verdict.agree, verdict.similarity, None, verdict.reason)
    # a call is judged as it runs for the query (`as_run`), and a computing one by what it then shows, as
    # the judge does ("391" against 17 × 23)
    judged = as_run(text, query)
    result = shown(judged) if kind != "call" else None
    right = checks.check(
        result.text if result else judged,
        item.reference,
        kind,
        tolerance=item.tolerance,
        threshold=item.threshold,
        embedder=embedder,
    )
    return Scored(text, right, verdict.similarity, None, kind)


def evaluate(
    student,
    items: list[Item],
    *,
    max_tokens: int = 128,
    embedder=None,
    agree_similarity: float | None = None,
    advance: Callable[[], None] | None = None,
    deadline: float | None = None,
) -> Report:
    """Answer each item with `student` (an assistant.student.Student) and score it."""
    report = Report()
    for item in items:
        if deadline is not None and time.monotonic() > deadline:
            break
        started = time.perf_counter()
        budget = token_budget(student.tokenizer, item.reference, max_tokens)
        judged = (item, embedder, agree_similarity)
        scored = _answer_and_score(student, judged, budget)
        if not scored.right and not scored.finished and max_tokens > budget:
            # Cut by a budget sized for the reference ("Rome": 9 tokens) before it said it: the user would
            # read the rest, so a wordier right answer is asked again whole (greedy: the same start).
            scored = _answer_and_score(student, judged, max_tokens)
        scored.seconds = time.perf_counter() - started
        report.scores.append(scored)
        if advance:
            advance()
    return report


def _answer_and_score(student, judged: tuple, tokens: int) -> Scored:
    """One answer of `tokens` at most (a call begun within them read whole), scored; `judged` is
    (item, embedder, agree_similarity)."""
    item, embedder, agree_similarity = judged
    text, confidence, finished = answer(student, item.messages, tokens)
    scored = score(text, item, embedder=embedder, agree_similarity=agree_similarity)
    scored.confidence, scored.finished = confidence, finished
    return scored


def regression_items(path: Path | None = None) -> list[Item]:
    """The regression set shipped with the project (see REGRESSION_FILE above)."""
    from model.dataset import read_tasks

    path = path or config.assets_dir() / "bench" / REGRESSION_FILE
    return [Item.from_task(row) for row in read_tasks(path)] if path.exists() else []


def local_items(
    store,
    version: str,
    *,
    limit: int,
    exclude: set[str] = frozenset(),
    embedder=None,
    agree_similarity: float | None = None,
) -> list[tuple[Item, int, str]]:
    """The newest `limit` confident local answers of `version`, as (item, turn id, what it said: the
    answer the user saw, or the call an action ran): the part of the retention set that comes from the
    user's own use (see the module's docstring). `exclude`: query keys to leave out (benchmark test
    queries, the regression set)."""
    from assistant.core import FAST_PATH_REASON
    from assistant.router import needs_live_information

    teacher = {}  # query key → the teacher's newest whole answer, when it was asked too
    for row in store.distill_examples():  # those still in the log, not marked wrong
        if row["turn_found"] is not None and not (row["bad"] or row["turn_bad"]):
            teacher[query_key(row["turn_query"] or row["query_sent"] or "")] = row["teacher_answer"]
    seen_conversations: set[int] = set()
    candidates = []
    for turn in store.iter_turns():  # oldest first
        first = turn["conversation_id"] not in seen_conversations
        seen_conversations.add(turn["conversation_id"])
        if not (first and turn["route"] == "local" and turn["model"] == version and turn["status"] == "done"):
            continue
        # A private turn is about the user's notes; a live query's answer was made up when it was given.
        if turn["bad"] or turn["private"] or needs_live_information(turn["query"]):
            continue
        if turn["action"] and (turn["reason"] or "").startswith(FAST_PATH_REASON):
            continue  # a sentence template chose that call, not the student
        answer = said_call(turn["action"]) if turn["action"] else (turn["answer"] or "").strip()
        if answer:
            candidates.append((turn, answer))
    out: dict[str, tuple[Item, int, str]] = {}
    for turn, answer in reversed(candidates):  # newest first: a query's newest answer is the one kept
        key = query_key(turn["query"])
        if key in exclude or key in out:
            continue
        messages = [{"role": "user", "content": turn["query"]}]
        if key in teacher:  # re-checked against the teacher: a confident wrong answer is not retained
            item = Item(messages, teacher[key])
            if not score(answer, item, embedder=embedder, agree_similarity=agree_similarity).right:
                continue
        else:
            item = Item(messages, answer)
        item.family = "kept locally"
        out[key] = (item, turn["id"], answer)
        if len(out) >= limit:
            break
    return list(out.values())


def said_call(action: str) -> str | None:
    """The call a turn's action ran, as the student says a call (its answer in the log is the rendered
    result); None for a call that did not run."""
    from assistant.tools.calls import ToolCall, format_call

    data = json.loads(action)
    if not data.get("name") or data.get("error") or data.get("result") is None:
        return None
    return format_call(ToolCall(data["name"], data.get("arguments") or {}))


def cascade_threshold(scores: list[Scored], precision: float) -> float:
    """The cascade's line for a student: the least mean token log-probability at which its answers
    were right at least `precision` of the time, among the answers at least that sure.

    Answers sorted surest first, the line is drawn at the right answer that ends the longest prefix
    whose share of right answers is at least `precision`. When no prefix qualifies, the line is
    0.0, which no answer reaches: the cascade then asks the teacher whenever the router is unsure.
    """
    ranked = sorted((s for s in scores if s.confidence is not None), key=lambda s: -s.confidence)
    line, right = 0.0, 0
    for k, s in enumerate(ranked, 1):
        right += s.right
        if s.right and right / k >= precision - 1e-9:
            line = s.confidence
    return line


def main(argv: list[str] | None = None) -> int:
    from assistant import blas, config

    blas.ensure()
    from assistant.prompts import student_system_prompt
    from assistant.student import Student
    from model.dataset import read_tasks

    parser = argparse.ArgumentParser(prog="python -m model.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--adapter", type=Path)
    parser.add_argument("--tasks", type=Path, required=True)
    parser.add_argument("--max-tokens", type=int, default=64)
    args = parser.parse_args(argv)
    settings = config.load()
    student = Student(
        args.checkpoint,
        name="eval",
        system_prompt=student_system_prompt(settings),
        adapter_path=args.adapter,
        words_from_base=settings.student_words_from_base,
    )
    items = [Item.from_task(row) for row in read_tasks(args.tasks)]
    report = evaluate(student, items, max_tokens=args.max_tokens)
    for item, s in zip(items, report.scores):
        print(
            f"{'✓' if s.right else '✗'} {item.messages[-1]['content'][:60]!r} → {s.answer[:60]!r} ({s.how})",
            file=sys.stderr,
        )
    print(json.dumps(report.to_json()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

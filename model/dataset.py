"""Logged fallbacks → the dataset a distillation trains and evaluates on (mlx-lm chat JSONL).

An example is the conversation as it was sent to the teacher (redacted) and the teacher's
whole answer. What is left out, and why (the counts are shown by `apprentice distill --dry-run`):

- answers the user marked wrong, examples whose turn was removed from the log, and those asked
  with --no-log (kept for the audit trail, never learned);
- queries that need live information (the router's rule: weather, news, prices, "today"): the
  teacher's answer is true only when it was given, and a student trained on it learns to make
  such answers up;
- duplicates: the same conversation (case, spacing and end punctuation aside), or a near-duplicate,
  keeping the newest. Near-duplicate: the queries' embeddings have cosine similarity of at least
  `dedup_similarity`, they hold the same numbers, and the answers agree (the same short answer,
  or longer answers as similar and with the same numbers; against a test line, an answer that
  contains the line's reference agrees too). Embeddings alone cannot tell "a timer
  for 5 minutes" from "for 7", or "the day after Monday" from "after Tuesday";
- anything in a benchmark test file (the shipped `assets/bench/test.jsonl` and any given), by the
  same rule, so a benchmark never measures what the student was trained on.

The held-out split is a function of each conversation's text (a hash), so an example stays on
its side as the log grows: a student distilled earlier never trained on today's held-out set.

    python -m model.dataset [--exclude TEST.jsonl]      # print the dataset the log gives now
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from assistant import config
from assistant.errors import BadInput
from assistant.outcomes import query_key

HELDOUT_FRACTION = 0.2
DEDUP_SIMILARITY = 0.85
SHORT_ANSWER_WORDS = 8
RATIONALE_REQUEST = "Give a short rationale first, then the answer."
RATIONALE_REPLY = re.compile(r"^\s*Rationale:\s*(?P<rationale>.+?)\s*\n\s*Answer:\s*(?P<answer>.+?)\s*$", re.S | re.I)
TASK_KEYS = ("query", "reference", "check", "family")
NUMBER = re.compile(r"\d+(?:[.,]\d+)?")


@dataclass
class Example:
    id: int
    messages: list[dict]  # the conversation as sent (redacted), ending with the user's query
    answer: str  # the teacher's answer, as received
    source: str  # the turn's: ask, chat, voice, bench
    created: str
    query: str  # the user's query as typed (the redacted one if the turn is gone)
    rationale: str | None = None  # the teacher's "Rationale: …\nAnswer: …" reply, when asked

    @property
    def text(self) -> str:
        """The conversation in one string: what duplicates and the split are decided on."""
        return "\n".join(m["content"] for m in self.messages)


@dataclass
class Dataset:
    train: list[Example]
    heldout: list[Example]
    left_out: Counter = field(default_factory=Counter)  # why → how many

    @property
    def examples(self) -> list[Example]:
        return self.train + self.heldout

    def __len__(self) -> int:
        return len(self.train) + len(self.heldout)

    @property
    def hash(self) -> str:
        """What the version was trained on, in 16 hex digits: the examples and their split."""
        digest = hashlib.sha256()
        for split, rows in (("train", self.train), ("heldout", self.heldout)):
            for ex in sorted(rows, key=lambda e: e.id):
                digest.update(json.dumps([split, ex.id, ex.messages, ex.answer, ex.rationale]).encode())
        return digest.hexdigest()[:16]

    def sources(self) -> dict[str, int]:
        return dict(Counter(ex.source for ex in self.examples).most_common())

    def rows(self, split: str, system_prompt: str, rationales: bool = False) -> list[dict]:
        """mlx-lm chat rows: the system prompt the student answers with, the conversation, the
        teacher's answer. With `rationales`, each training example also teaches a second task
        (Distilling step-by-step): asked for a rationale, give the teacher's rationale and answer."""
        system = [{"role": "system", "content": system_prompt}] if system_prompt else []
        out = []
        for ex in self.train if split == "train" else self.heldout:
            out.append({"messages": system + ex.messages + [{"role": "assistant", "content": ex.answer}]})
            if rationales and split == "train" and parse_rationale(ex.rationale):
                asked = ex.messages[:-1] + [
                    {"role": "user", "content": f"{ex.messages[-1]['content']}\n\n{RATIONALE_REQUEST}"}
                ]
                out.append({"messages": system + asked + [{"role": "assistant", "content": ex.rationale}]})
        return out

    def summary(self) -> dict:
        return {
            "examples": len(self),
            "train": len(self.train),
            "heldout": len(self.heldout),
            "sources": self.sources(),
            "left_out": dict(self.left_out.most_common()),
            "hash": self.hash,
            "rationales": sum(1 for ex in self.train if parse_rationale(ex.rationale)),
        }


# -- task files (the benchmark's format) ------------------------------------------------------


def read_tasks(path: Path | str) -> list[dict]:
    """A JSONL file of {"query", "reference", "check", "family", "answer"?, "rationale"?} lines (the
    benchmark's format); BadInput says what is wrong."""
    from model.bench.checks import CHECKS

    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"Cannot read the task file {path} ({getattr(exc, 'strerror', None) or exc}).") from None
    rows = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BadInput(f"{path}, line {n} is not valid JSON ({exc.msg}).") from None
        if isinstance(row, dict) and "call" in row:
            row = call_task(row, f"{path}, line {n}")  # an action: its reference is the call's text
        if not isinstance(row, dict) or not all(isinstance(row.get(k), str) and row[k].strip() for k in TASK_KEYS):
            raise BadInput(f'{path}, line {n} needs "query", "reference", "check" and "family" strings.')
        if not isinstance(row.get("answer", ""), str) or not isinstance(row.get("rationale", ""), str):
            raise BadInput(f'{path}, line {n}: "answer" and "rationale", when given, must be strings.')
        if row["check"] not in CHECKS:
            raise BadInput(f"{path}, line {n}: check {row['check']!r} is not one of {', '.join(CHECKS)}.")
        rows.append(row)
    if not rows:
        raise BadInput(f"The task file {path} holds no queries.")
    return rows


def call_task(row: dict, where: str) -> dict:
    """An action line, {"query", "call": {"name", "arguments"}, "family"}, with the `call` check and
    the call's canonical text as its reference (what a student learns to emit)."""
    from assistant.tools.calls import ToolCall, format_call

    call = row.get("call")
    if (
        not isinstance(call, dict)
        or not isinstance(call.get("name"), str)
        or not isinstance(call.get("arguments", {}), dict)
    ):
        raise BadInput(f'{where}: "call" must be {{"name": string, "arguments": object}}.')
    reference = format_call(ToolCall(call["name"], dict(call.get("arguments", {}))))
    return {**row, "reference": row.get("reference") or reference, "check": row.get("check", "call")}


def shipped_test_file() -> Path:
    return config.assets_dir() / "bench" / "test.jsonl"


# -- building ----------------------------------------------------------------------------------


def split_of(ex: Example, fraction: float) -> str:
    bucket = int(hashlib.sha256(query_key(ex.text).encode()).hexdigest()[:8], 16) / 2**32
    return "heldout" if bucket < fraction else "train"


def parse_rationale(reply: str | None) -> tuple[str, str] | None:
    """("rationale", "answer") from the teacher's "Rationale: …\\nAnswer: …" reply, else None."""
    m = RATIONALE_REPLY.match(reply or "")
    return (m["rationale"], m["answer"]) if m else None


def _same_numbers(a: str, b: str) -> bool:
    return sorted(NUMBER.findall(a)) == sorted(NUMBER.findall(b))


class _NearDuplicates:
    """The near-duplicate rule of the module docstring, over one embedder."""

    def __init__(self, embedder, similarity: float):
        self.embedder = embedder
        self.similarity = similarity

    def same_answer(self, a: str, b: str) -> bool:
        if query_key(a) == query_key(b):
            return True
        if len(a.split()) <= SHORT_ANSWER_WORDS or len(b.split()) <= SHORT_ANSWER_WORDS or not _same_numbers(a, b):
            return False
        x, y = self.embedder.encode([a, b])
        return float(x @ y) >= self.similarity

    def pairs(self, texts_a: list[str], texts_b: list[str]):
        """(i, j) with query a_i and b_j similar enough and holding the same numbers."""
        if not texts_a or not texts_b:
            return
        va, vb = self.embedder.encode(texts_a), self.embedder.encode(texts_b)
        sims = va @ vb.T  # (len a, len b): cosine, rows are normalized
        for i, j in zip(*(sims >= self.similarity).nonzero()):
            if _same_numbers(texts_a[i], texts_b[j]):
                yield int(i), int(j)


def build(
    store=None,
    *,
    exclude: list[Path | str] | None = None,
    exclude_rows: list[dict] | None = None,
    embedder=None,
    heldout_fraction: float = HELDOUT_FRACTION,
    dedup_similarity: float = DEDUP_SIMILARITY,
    include_shipped_test: bool = True,
) -> Dataset:
    """The dataset the log gives now. `exclude` names task files (JSONL) whose queries must stay out,
    `exclude_rows` gives such queries directly; the shipped benchmark test file is always excluded."""
    from assistant.judge import contains_reference
    from assistant.router import LIVE
    from assistant.store import Store

    store = store or Store()
    left = Counter()
    rationales = store.rationales()
    candidates: dict[str, Example] = {}  # query_key(text) → newest example
    for row in store.distill_examples():
        if row["bad"] or row["turn_bad"]:
            left["marked wrong"] += 1
            continue
        if row["turn_id"] is None:
            left["asked with --no-log"] += 1
            continue
        if row["turn_found"] is None:
            left["removed from the log"] += 1
            continue
        answer = (row["teacher_answer"] or "").strip()
        try:
            messages = json.loads(row["messages_sent"] or "[]")
        except json.JSONDecodeError:
            messages = []
        if not answer or not messages or messages[-1].get("role") != "user":
            left["unusable record"] += 1
            continue
        if LIVE.search(messages[-1]["content"]):
            left["needs live information"] += 1
            continue
        ex = Example(
            id=row["id"],
            messages=messages,
            answer=answer,
            source=row["source"] or "unknown",
            created=row["created"],
            query=row["turn_query"] or messages[-1]["content"],
            rationale=rationales.get(row["id"]),
        )
        k = query_key(ex.text)
        if k in candidates:
            left["duplicate"] += 1
        candidates[k] = ex  # oldest first: the newest answer wins
    examples = list(candidates.values())

    tasks = list(exclude_rows or [])
    files = [shipped_test_file()] if include_shipped_test and shipped_test_file().exists() else []
    for path in [*files, *(exclude or [])]:
        tasks += read_tasks(path)
    task_keys = {query_key(t["query"]): t for t in tasks}
    kept = []
    for ex in examples:
        if len(ex.messages) == 1 and query_key(ex.text) in task_keys:
            left["in a benchmark test file"] += 1
        else:
            kept.append(ex)
    examples = kept

    if examples:
        if embedder is None:
            from assistant.embedder import shared

            embedder = shared()
        near = _NearDuplicates(embedder, dedup_similarity)
        texts = [ex.text for ex in examples]
        task_list = list(task_keys.values())
        contaminated = set()
        for i, j in near.pairs(texts, [t["query"] for t in task_list]):
            task = task_list[j]
            if i not in contaminated and (
                near.same_answer(examples[i].answer, task.get("answer", task["reference"]))
                or contains_reference(examples[i].answer, task["reference"])
            ):
                contaminated.add(i)
        left["in a benchmark test file"] += len(contaminated)
        examples = [ex for i, ex in enumerate(examples) if i not in contaminated]
        texts = [ex.text for ex in examples]
        drop = set()
        # Newest first: an example is dropped when a newer one it duplicates is kept.
        order = sorted(range(len(examples)), key=lambda i: examples[i].id, reverse=True)
        rank = {i: r for r, i in enumerate(order)}
        for i, j in sorted(near.pairs(texts, texts), key=lambda p: (rank[p[0]], rank[p[1]])):
            if i == j or rank[i] <= rank[j] or i in drop or j in drop:
                continue  # i is the older of the two; j must still be kept
            if near.same_answer(examples[i].answer, examples[j].answer):
                drop.add(i)
        left["near-duplicate"] += len(drop)
        examples = [ex for i, ex in enumerate(examples) if i not in drop]

    examples.sort(key=lambda e: e.id)
    train = [ex for ex in examples if split_of(ex, heldout_fraction) == "train"]
    heldout = [ex for ex in examples if split_of(ex, heldout_fraction) == "heldout"]
    if not heldout and len(train) >= 2 and heldout_fraction > 0:  # a tiny log still needs something to evaluate on
        first = min(train, key=lambda e: hashlib.sha256(query_key(e.text).encode()).hexdigest())
        train.remove(first)
        heldout.append(first)
    return Dataset(train, heldout, +left)


def describe(ds: Dataset) -> str:
    """The dataset for a person: counts, then every example (train and held-out)."""
    s = ds.summary()
    lines = [
        f"{s['examples']} examples: {s['train']} to train on, {s['heldout']} held out to evaluate "
        f"(dataset {s['hash']})."
    ]
    if s["sources"]:
        lines.append("By source: " + ", ".join(f"{k} {v}" for k, v in s["sources"].items()) + ".")
    if s["left_out"]:
        lines.append("Left out: " + ", ".join(f"{k} {v}" for k, v in s["left_out"].items()) + ".")
    if s["rationales"]:
        lines.append(f"With a teacher's rationale: {s['rationales']}.")
    for split, rows in (("train", ds.train), ("held-out", ds.heldout)):
        for ex in rows:
            q = " ".join(ex.messages[-1]["content"].split())
            a = " ".join(ex.answer.split())
            lines.append(f"  {split:8} #{ex.id:<5} {ex.source:6} {q[:70]!r} → {a[:60]!r}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m model.dataset", description=__doc__.splitlines()[0])
    parser.add_argument("--exclude", action="append", default=[], metavar="TEST.jsonl")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    ds = build(exclude=args.exclude)
    print(json.dumps(ds.summary(), indent=2) if args.json else describe(ds))
    return 0


if __name__ == "__main__":
    sys.exit(main())

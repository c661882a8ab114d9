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

Corrections: an example whose query the student had answered locally and the user marked wrong
(`/bad`, then `/cloud`; `apprentice log bad ID`, then `apprentice ask --cloud` on the same query)
is the user's own word that the student needs the teacher's answer. It is trained as the
conversation the student got wrong (the wrong answer and the repeated question, sent to the
teacher as history, are left out of its prompt) and repeated `correction_weight` times in the
training rows. Its split is decided by its query alone, and every example that asks the same
query follows it, so a corrected query is never both trained on and held out.

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
    kind: str = "fallback"  # fallback | correction (the user marked the student's answer to it wrong)

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
                kind = [ex.kind] if ex.kind != "fallback" else []  # a correction is trained more: another dataset
                digest.update(json.dumps([split, ex.id, ex.messages, ex.answer, ex.rationale, *kind]).encode())
        return digest.hexdigest()[:16]

    def sources(self) -> dict[str, int]:
        return dict(Counter(ex.source for ex in self.examples).most_common())

    def corrections(self) -> int:
        return sum(1 for ex in self.examples if ex.kind == "correction")

    def rows(
        self,
        split: str,
        system_prompt: str,
        rationales: bool = False,
        correction_weight: int = 1,
        targets: dict[int, str] | None = None,
    ) -> list[dict]:
        """mlx-lm chat rows: the system prompt the student answers with, the conversation, the
        teacher's answer, or what `targets` teaches in its place (example id → the answer to
        learn: model/distill/tool_targets.py). With `rationales`, each training example also teaches a second task
        (Distilling step-by-step): asked for a rationale, give the teacher's rationale and answer.
        A correction is a training row `correction_weight` times: mlx-lm's trainer has no per-row
        loss weight, and a row seen k times an epoch weighs k times in the loss, as one would."""
        system = [{"role": "system", "content": system_prompt}] if system_prompt else []
        out = []
        for ex in self.train if split == "train" else self.heldout:
            answer = (targets or {}).get(ex.id, ex.answer)
            row = {"messages": system + ex.messages + [{"role": "assistant", "content": answer}]}
            repeat = max(1, correction_weight) if split == "train" and ex.kind == "correction" else 1
            out += [row] * repeat
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
            "corrections": self.corrections(),
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
    from assistant.tools.as_said import as_said

    # the call as it runs for this query: a clock time read in the half of the day said ("11:00" for "11 am")
    settled = as_said(str(row.get("query") or ""), ToolCall(call["name"], dict(call.get("arguments", {}))))
    reference = format_call(settled)
    return {**row, "reference": row.get("reference") or reference, "check": row.get("check", "call")}


def shipped_test_file() -> Path:
    return config.assets_dir() / "bench" / "test.jsonl"


# -- building ----------------------------------------------------------------------------------


def split_of(ex: Example, fraction: float, key: str | None = None) -> str:
    """`key` decides the side (by default the conversation's text)."""
    key = key if key is not None else query_key(ex.text)
    bucket = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 2**32
    return "heldout" if bucket < fraction else "train"


def last_query_key(ex: Example) -> str:
    return query_key(ex.messages[-1]["content"])


def as_corrected(messages: list[dict]) -> list[dict]:
    """A correction's conversation as the student got it wrong: sent after /bad in the same
    conversation, it ends with the question, the wrong answer and the question again; the wrong
    answer stays out of what is learned, so the pair is dropped."""
    if len(messages) >= 3 and messages[-2]["role"] == "assistant" and messages[-3]["role"] == "user":
        if query_key(messages[-3]["content"]) == query_key(messages[-1]["content"]):
            return messages[:-3] + messages[-1:]
    return messages


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
    from assistant.router import needs_live_information
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
        if needs_live_information(messages[-1]["content"]):
            left["needs live information"] += 1
            continue
        kind = "correction" if row.get("kind") == "correction" else "fallback"
        ex = Example(
            id=row["id"],
            messages=as_corrected(messages) if kind == "correction" else messages,
            answer=answer,
            source=row["source"] or "unknown",
            created=row["created"],
            query=row["turn_query"] or messages[-1]["content"],
            rationale=rationales.get(row["id"]),
            kind=kind,
        )
        k = query_key(ex.text)
        if k in candidates:
            left["duplicate"] += 1
            if candidates[k].kind == "correction":  # the user's word about this query outlives a newer answer
                ex.kind = "correction"
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
                if examples[i].kind == "correction":
                    examples[j].kind = "correction"
        left["near-duplicate"] += len(drop)
        examples = [ex for i, ex in enumerate(examples) if i not in drop]

    examples.sort(key=lambda e: e.id)
    corrected = {last_query_key(ex) for ex in examples if ex.kind == "correction"}

    def side_key(ex: Example) -> str:
        """A corrected query decides the side of every example that asks it; others go by their text."""
        return last_query_key(ex) if last_query_key(ex) in corrected else query_key(ex.text)

    train = [ex for ex in examples if split_of(ex, heldout_fraction, side_key(ex)) == "train"]
    heldout = [ex for ex in examples if split_of(ex, heldout_fraction, side_key(ex)) == "heldout"]
    if not heldout and len(train) >= 2 and heldout_fraction > 0:  # a tiny log still needs something to evaluate on
        first = min(train, key=lambda e: hashlib.sha256(side_key(e).encode()).hexdigest())
        group = [ex for ex in train if side_key(ex) == side_key(first)]  # all of them, or none, leave train
        if len(group) < len(train):
            train = [ex for ex in train if ex not in group]
            heldout += group
    return Dataset(train, heldout, +left)


def describe(ds: Dataset, correction_weight: int | None = None) -> str:
    """The dataset for a person: counts, then every example (train and held-out)."""
    s = ds.summary()
    lines = [
        f"{s['examples']} examples: {s['train']} to train on, {s['heldout']} held out to evaluate "
        f"(dataset {s['hash']})."
    ]
    if s["sources"]:
        lines.append("By source: " + ", ".join(f"{k} {v}" for k, v in s["sources"].items()) + ".")
    if s["corrections"]:
        times = f", each trained {correction_weight} times" if correction_weight and correction_weight > 1 else ""
        lines.append(f"Corrections (a local answer marked wrong, then the teacher's): {s['corrections']}{times}.")
    if s["left_out"]:
        lines.append("Left out: " + ", ".join(f"{k} {v}" for k, v in s["left_out"].items()) + ".")
    if s["rationales"]:
        lines.append(f"With a teacher's rationale: {s['rationales']}.")
    for split, rows in (("train", ds.train), ("held-out", ds.heldout)):
        for ex in rows:
            q = " ".join(ex.messages[-1]["content"].split())
            a = " ".join(ex.answer.split())
            label = ex.source if ex.kind == "fallback" else f"{ex.source} correction"
            lines.append(f"  {split:8} #{ex.id:<5} {label:6} {q[:70]!r} → {a[:60]!r}")
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

"""The cascade line a distilled version carries: from which confidence its own answers stand.

A version's line is drawn from its answers to the queries the gate asks it (`Point`: the mean
token log-probability of an answer, whether it was right, and whether it was a tool call that
validates). Two ways to draw it, named by the `cascade_calibration` setting:

- `precision`: on the held-out split alone, the least confidence at which the answers at least
  that sure were right at least `cascade_precision` of the time (`model.evaluate.cascade_threshold`).
  The held-out split is a fifth of a day's fallbacks, often 10 to 20 answers, and all of them
  queries the current student got wrong, so the line is drawn on few, hard answers.
- `risk`: conformal risk control (Angelopoulos et al., "Conformal Risk Control", 2022) over the
  answers that come from the user's own traffic: the held-out split and the retention set's local
  answers (`TRAFFIC`), calls among them (model/evaluate.py `local_items`). The loss of a query at
  line λ is 1 when its answer is kept (confidence ≥ λ, and not a call the cascade sends on however
  sure: `vetoed`, `assistant.tools.standing` and `assistant.tools.claims`) and wrong; it only falls
  as λ rises. The line is the least λ with (Σ loss + 1) / (n + 1) ≤ α, `cascade_risk`: if the
  queries to come are exchangeable with these, the expected share of them answered wrongly by a kept
  local answer is at most α. A line that would keep no right answer keeps nothing. With too few
  answers for any λ (n + 1 < 1/α) nothing is kept.

  The held-out split is the hard end of the traffic (what the current student got wrong) and the
  local answers its easy end, the more common one: a distilled student answers most queries itself
  with a call. Without its calls the list was short: distill-2 of a three-day run drew its line on
  25 held-out and 6 local answers, where the bound allows no kept wrong answer, so its call line
  sat at its surest wrong call (−0.0074) and sent on calls it made right; with its 44 local calls
  too (75 answers), the bound allows two, and the line fell to −0.092. A local answer is right
  when the candidate gives it again (against the teacher's answer where the teacher was asked too),
  so the bound trusts that the user marks what was wrong (`/bad`); the benchmark checks each one
  against its line instead.

  The shipped regression set is measured by the gate but draws no line: it is chosen as what the
  student already knows (everyday facts it answers right), so it is the easy end of the traffic,
  and its sure right sentences pulled the text line down to where the traffic's wrong sentences
  stood. A day-1 student's text line over all 86 gate answers (62 of them regression) was −0.27;
  on 248 queries of the next two days it had not seen, that line kept 49 of the 72 sentences its
  cascade judged, 36 of them wrong: routed accuracy 77% at a teacher share of 21%. On a day-1
  list of 24 traffic answers the
  bound allows no wrong answer kept at α = 0.05 and one at α = 0.10, and that one lets the line
  fall far: at 0.10 two day-1 students routed 95% and 90% of those 248 queries right (shares 54%
  and 39%), at 0.05 96% and 93% (82% and 47%). α = 0.05 is the routed-accuracy goal itself.

Either way a call that validates and a text answer get lines of their own (`call` and `text`):
a valid call is itself evidence, so calls can be trusted at lower confidence than sentences.
A kind with no answers of its own takes the other kind's line. Under `risk`, a kind also needs
enough answers for its own bound to allow one wrong answer kept, (1 + 1) / (n + 1) ≤ α (39 at
α = 0.05); with fewer it takes the line drawn over all answers, calls and text together, whose
bound holds for the mix. A kind's own line over too few answers keeps only what sits above its
surest wrong answer: a distilled student's 37 held-out calls, 14 of them wrong, drew a call line
of −0.0018 that kept 23 of the 83 right answers it gave to a day of queries it had not seen, where
the line over all its 116 answers (−0.0044) kept 44, with 2 wrong (`apprentice bench distill`
reports each method on the test set).

A text line drawn over all answers is marked (`text_own` false), and a version whose words are the
base student's does not use it: that line is set by calls, sure at −0.01 where a right sentence sits
near −0.4, so it sent every sentence to the teacher, facts the base student kept before distilling
among them. Such a version's sentences stand by the configured line instead, the base student's
own (`assistant.models.registry.cascade_line`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from assistant import config
from model.evaluate import Scored, cascade_threshold

METHODS = config.CALIBRATIONS
NEVER = 0.0  # a mean log-probability no answer reaches (it would need probability 1 at every token)
POINTS_FILE = "calibration.jsonl"  # kept in the version's folder, so a line can be drawn again
TRAFFIC = ("heldout", "local")  # the sources that come from the user's own queries


@dataclass(frozen=True)
class Point:
    confidence: float
    right: bool
    call: bool  # a tool call that validates
    source: str  # "heldout", or the retention set's source ("local", "regression")
    vetoed: bool = False  # a call that cannot stand, or a sentence shown false (`vetoed`): no line keeps it


def points(scores: list[Scored], source: str | list[str], queries: list[str] | None = None) -> list[Point]:
    """Calibration points from a report's scores (answers without a confidence are left out), each
    call checked against its query as the cascade checks it."""
    sources = source if isinstance(source, list) else [source] * len(scores)
    asked = queries if queries is not None else [""] * len(scores)
    return [
        Point(float(s.confidence), bool(s.right), valid_call(s.answer), src, vetoed(s.answer, query))
        for s, src, query in zip(scores, sources, asked)
        if s.confidence is not None
    ]


def vetoed(answer: str, query: str) -> bool:
    """Whether the cascade would send an answer on however sure the student was: a call that cannot
    stand (`assistant.tools.standing`), or a sentence that cannot (`assistant.tools.claims`)."""
    from assistant.tools.calls import has_call, parse_call
    from assistant.tools.claims import sentence_doubt
    from assistant.tools.standing import call_doubt

    if has_call(answer):
        return call_doubt(parse_call(answer), query) is not None
    return sentence_doubt(query, answer) is not None


def valid_call(answer: str) -> bool:
    """Whether an answer is a tool call that names a tool and passes its validation."""
    from assistant.tools import ToolError, validate
    from assistant.tools.calls import parse_call

    call = parse_call(answer)
    if call is None:
        return False
    try:
        validate(call.name, call.arguments)
    except ToolError:
        return False
    return True


def risk_line(pts: list[Point], risk: float) -> float:
    """The least line at which (wrong answers kept + 1) / (n + 1) ≤ `risk`; NEVER if none is, or if
    that line keeps no right answer.

    A student that is almost never right (Gemma 3 270M as pulled: 1 of 345 train answers, at −0.79)
    would otherwise keep 16 answers, all wrong, because 16 of 345 is within 5%. Short of that, the
    line is not raised to the last right answer it keeps: on a sparse list the gap below it is often
    one wrong answer wide, and a three-day run's last student, so raised (−0.69 → −0.013), would have
    sent 7 right test calls to the teacher to catch 1 wrong one."""
    n = len(pts)
    if n == 0 or 1 / (n + 1) > risk + 1e-12:
        return NEVER
    ranked = sorted(pts, key=lambda p: -p.confidence)
    best, wrong, right, right_kept = NEVER, 0, 0, 0
    for k, p in enumerate(ranked):
        wrong += not p.right and not p.vetoed  # a vetoed answer is never kept, right or wrong
        right += p.right and not p.vetoed
        tied = k + 1 < n and ranked[k + 1].confidence == p.confidence
        if tied:
            continue  # a line keeps all answers at one confidence or none of them
        if (wrong + 1) / (n + 1) <= risk + 1e-12:
            best, right_kept = p.confidence, right
        else:
            break  # the kept wrong answers only grow as the line falls
    return best if right_kept else NEVER


def precision_line(pts: list[Point], precision: float) -> float:
    scored = [Scored("", p.right, 0.0, p.confidence, "") for p in pts if not p.vetoed]
    return cascade_threshold(scored, precision)


def draw(pts: list[Point], *, method: str, precision: float, risk: float) -> dict:
    """The `cascade` object a version carries: a line per kind of answer, and what it was drawn on."""
    if method not in METHODS:
        raise ValueError(f"cascade_calibration must be one of {', '.join(METHODS)}, not {method!r}")
    used = [p for p in pts if p.source in (TRAFFIC if method == "risk" else ("heldout",))]

    def line(subset: list[Point]) -> float:
        return risk_line(subset, risk) if method == "risk" else precision_line(subset, precision)

    calls, texts = [p for p in used if p.call], [p for p in used if not p.call]
    pooled = line(used)

    def enough(kind: list[Point]) -> bool:
        """Enough answers of one kind for a line of its own: under `risk`, for a bound that allows one
        wrong answer kept."""
        return bool(kind) and not (method == "risk" and len(kind) + 1 < 2 / risk - 1e-9)

    text_line = line(texts) if enough(texts) else pooled
    call_line = line(calls) if enough(calls) else pooled
    kept = [p for p in used if not p.vetoed and p.confidence >= (call_line if p.call else text_line)]
    return {
        "method": method,
        "min_logprob": round(text_line, 4),
        "text_own": enough(texts),  # False: the pooled line, which a base student's words do not use
        "call_min_logprob": round(call_line, 4),
        "precision": precision,
        "risk": risk,
        "kept": len(kept),
        "kept_wrong": sum(not p.right for p in kept),
        "n": len(used),
        "calls": len(calls),
    }


def save(folder: Path, pts: list[Point]) -> None:
    (folder / POINTS_FILE).write_text("".join(json.dumps(asdict(p)) + "\n" for p in pts))


def load(folder: Path) -> list[Point]:
    path = folder / POINTS_FILE
    if not path.exists():
        return []
    return [Point(**json.loads(line)) for line in path.read_text().splitlines() if line.strip()]

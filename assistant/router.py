"""The router: should the local student answer, or the teacher? No I/O of its own.

`Decision.score` is the estimated probability that the student's answer would be wrong
(higher: more likely to go to the teacher). Signals, in order:

1. the privacy mode and an explicit --local/--cloud decide outright;
2. rules: notes are personal and never leave ("remember that…", "what did I note…"), in
   any mode; the time and date are this machine's to tell; what a small offline model
   cannot know (weather, news, prices, anything "latest") and an explicit "ask Gemini" go
   to the teacher, unless the query asks for an action ("remind me tomorrow at 9 to check the
   news" is a reminder this machine sets, not a question about tomorrow's news);
3. nearest neighbours, by embedding, among past queries whose outcome is known for the
   active student (judged against the teacher, or marked bad by the user; assistant/outcomes.py).
   Their similarity-weighted share of wrong outcomes is drawn toward the prior, which counts as
   `prior_weight` past queries: one past query is weak evidence, so a single wrong neighbour
   leaves the decision to the cascade and it takes two to send a query straight to the teacher
   (or, the other way, to skip the cascade's check). Answers the cascade kept count as weak
   evidence of success (assistant/outcomes.py `KEPT_WRONG`), so the memory is not of failures
   alone. After a distillation a student's memory holds the held-out queries it still gets
   wrong, one per template or so; with a single wrong neighbour deciding, a day of queries it
   had not seen went 56 times straight to the teacher, 44 of them answered right by the student;
4. in between the thresholds, a cascade: the student answers first, and a low mean
   token log-probability escalates (the Assistant runs that part).

    python -m assistant.router "What's the weather in Paris tomorrow?"
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

import numpy as np

from assistant.outcomes import OutcomeIndex

# What changes by the hour: the weather without the word ("will it rain"), news, prices, scores, "latest".
# "current" as a word before another ("the current price"), not the noun ("an electric current").
LIVE_TOPIC = re.compile(
    r"\b(weather|forecast|news|headlines?|"
    r"will it (rain|snow|hail|storm|freeze|be (sunny|cloudy|cold|hot|warm|windy|wet|dry|nice))|"
    r"right now|currently|(?<!electric )(?<!electrical )current(?=\s+\w)|latest|recent(ly)?|stock|share price|"
    r"prices?|exchange rate|score|election)\b",
    re.IGNORECASE,
)
# A day: live information in a question about the world ("who won yesterday?"), not in a request for
# something to be made or done ("a workout for today", "how do I make pancakes today?").
LIVE_DAY = re.compile(r"\b(today|tonight|tomorrow|yesterday|this (week|month|year))\b", re.IGNORECASE)
ASKS_TO_MAKE = re.compile(
    r"^\W*(?:(?:please|hey|ok|okay|can you|could you)\W+)*(how (do|can|should|would) (i|we|you)|how to|give me|"
    r"suggest|recommend|tell me (a|an|some)|what (should|can|could) (i|we)|ideas? for|write|make me|help me|plan)\b",
    re.IGNORECASE,
)
# The clock and calendar of this machine answer these (the clock tool); the teacher cannot know them.
# "What day of the week" only about today: "…is 3 days after Monday?" is counting, not the clock.
CLOCK = re.compile(
    r"\b(what time is it|what'?s the time|the time (now|here|in \w+)|what day is it|what'?s the date|"
    r"today'?s date|date today|what day of the week (is it|is today)|what day of the week\s*\?*$|"
    # "What date have we got today?", "What day is it tomorrow?": today's date, a day on or back
    r"(what|which) (date|day)\b[^.?!]*\b(today|tomorrow|yesterday)\s*\?*$)",
    re.IGNORECASE,
)
# A day the user says it is ("If today is Saturday, what day is it tomorrow?"): a question about the
# calendar, which neither this machine's clock nor the world's news answers.
WEEKDAY_NAMES = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
SUPPOSED_DAY = re.compile(
    r"\b(?:if|suppose|supposing|say|assuming|assume|imagine|pretend)\b[^.?!]*?\b(?P<when>today|tomorrow|yesterday)"
    rf"\s+(?:is|was|were|would be|will be)\b(?:\s+(?:a\s+)?(?P<day>{WEEKDAY_NAMES})\b)?"
    rf"|\b(?P<when2>today|tomorrow|yesterday)'s\s+(?:a\s+)?(?P<day2>{WEEKDAY_NAMES})\b"
    # "Say it's Thursday today.", "Suppose it is a Monday tomorrow"
    rf"|\b(?:if|suppose|supposing|say|assuming|assume|imagine|pretend)\s+(?:it's|it\s+is|it\s+was)\s+(?:a\s+)?"
    rf"(?P<day3>{WEEKDAY_NAMES})\s+(?P<when3>today|tomorrow|yesterday)\b",
    re.IGNORECASE,
)
# A question about the calendar or the clock somewhere ("Christmas this year lands on which weekday?", "Is it
# morning or evening in Seoul right now?"): its "this year" or "right now" is when, which the clock tool
# answers on this machine, not news.
CALENDAR = re.compile(
    r"\b(weekday|day of the week|(?:fall|falls|land|lands) on (?:a |which\b|what\b)|"
    r"(?:morning|day|night|evening|afternoon) or (?:morning|day|night|evening|afternoon))\b",
    re.IGNORECASE,
)
WHEN_ONLY = re.compile(r"right now|currently", re.IGNORECASE)  # the live words that only say when
# Notes are personal data: a query that makes or reads one stays on this machine in every mode.
NOTES = re.compile(
    r"\b(remember (that|this)|(make|take|add) a note|note (that|down)|(write|jot) (that |this |it )?down|"
    r"what did i (note|write down|save)|my notes?|notes? (about|on))\b",
    re.IGNORECASE,
)
# A request to act on this machine's timers: the tools act on it here, whatever day it names, so
# "tomorrow" in it is when, not news. Any alarm, timer or reminder named is one ("I need an alarm at
# quarter to eight tomorrow morning", "what alarms do I have tomorrow?"), and so is getting up ("I have
# to be up by 7 tomorrow"); "remind me what the news said" is a question, not a reminder.
ACTION = re.compile(
    r"\b(remind me(?! (what|who|when|where|why|how|which|whether|if|of)\b)|wake me|(don'?t|do not) let me forget|"
    r"(alarm|timer|reminder|countdown)s?|(be|get|wake) (me )?up (at|by|for)\b)\b",
    re.IGNORECASE,
)


def needs_live_information(query: str) -> re.Match | None:
    """The words that say `query` needs what only the world knows now, else None. A request to act
    ("remind me tomorrow at 9 to check the news"), a request for something made ("a workout for
    today") and a question about the calendar or the clock ("which weekday is July 4th this year?")
    do not; a question about a day ("who won yesterday?") and a topic that changes do.
    The router sends such a query to the teacher, or says it cannot know; it is never trained on."""
    if ACTION.search(query):
        return None
    topics = list(LIVE_TOPIC.finditer(query))
    if CALENDAR.search(query) and all(WHEN_ONLY.fullmatch(t[0]) for t in topics):
        return None  # when, on the calendar or the clock: the clock tool's to answer
    if topics:
        return topics[0]
    return None if ASKS_TO_MAKE.search(query) or SUPPOSED_DAY.search(query) else LIVE_DAY.search(query)


def asks_the_clock(query: str) -> bool:
    """Whether `query` asks what this machine's clock says (the time, today's date), not a day the user supposes."""
    return bool(CLOCK.search(query)) and not SUPPOSED_DAY.search(query)


EXPLICIT = re.compile(r"\b(ask|use|check with|consult)\s+(gemini|the teacher|the cloud)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Decision:
    route: str  # "local", "cloud", or "cascade" (the student first, escalate if unsure)
    score: float | None
    reason: str
    rule: str | None = None  # the rule that decided, if one did: notes | clock | live | explicit | fast path


@dataclass(frozen=True)
class Thresholds:
    cloud: float = 0.6  # score at or above: the teacher
    local: float = 0.3  # score at or below: the student alone
    prior: float = 0.45  # score with no similar past query: a cascade
    prior_weight: float = 3.0  # the prior counts as this many past queries at full similarity
    neighbours: int = 5
    min_similarity: float = 0.6  # cosine similarity for a past query to count as similar


class Router:
    def __init__(self, thresholds: Thresholds | None = None):
        self.t = thresholds or Thresholds()

    def decide(
        self,
        query: str,
        *,
        mode: str,
        force: str | None = None,
        vector: np.ndarray | None = None,
        index: OutcomeIndex | None = None,
    ) -> Decision:
        """`vector` is the query's embedding, `index` the outcomes known for the active student."""
        if NOTES.search(query):
            return Decision("local", 0.0, "about your notes, which never leave this machine", rule="notes")
        if force == "local":
            return Decision("local", None, "you asked for the local student")
        live = needs_live_information(query)
        if mode == "private":
            if (m := live) and not asks_the_clock(query):
                why = f"needs live information (“{m.group(0)}”) that nothing on this machine knows"
                return Decision("local", None, f"private mode: nothing leaves this machine; {why}", rule="live")
            return Decision("local", None, "private mode: nothing leaves this machine")
        if force == "cloud":
            return Decision("cloud", None, "you asked for the teacher")
        if EXPLICIT.search(query):
            return Decision("cloud", 1.0, "you asked for Gemini", rule="explicit")
        if asks_the_clock(query):
            return Decision("local", 0.0, "the time and date are this machine's to tell", rule="clock")
        if m := live:
            why = f"needs live information (“{m.group(0)}”) that an offline model cannot know"
            return Decision("cloud", 0.9, why, rule="live")
        if vector is None or index is None:
            return self._by_score(self.t.prior, "no similarity index yet")
        near = index.nearest(vector, self.t.neighbours, self.t.min_similarity)
        if not near:
            return self._by_score(self.t.prior, "no similar past query")
        weights = np.array([s for _, s in near])
        wrong = np.array([index.wrong[i] for i, _ in near])
        m = self.t.prior_weight
        score = float(((weights * wrong).sum() + m * self.t.prior) / (weights.sum() + m))
        closest = index.queries[near[0][0]]
        origins = [index.origins[i] for i, _ in near]
        n_wrong = int((wrong >= 1).sum())
        extra = "".join(
            f", {n} {what}"
            for n, what in (
                (origins.count("rephrased"), "rephrased right after"),
                (origins.count("kept"), "kept by the student, sure of it"),
            )
            if n
        )
        return self._by_score(
            score,
            f"{len(near)} similar past quer{'y' if len(near) == 1 else 'ies'}, "
            f"{n_wrong} answered wrong by the student{extra} (closest: “{closest[:60]}”)",
        )

    def _by_score(self, score: float, why: str) -> Decision:
        if score >= self.t.cloud:
            return Decision("cloud", score, f"likely too hard for the student: {why}")
        if score <= self.t.local:
            return Decision("local", score, f"the student should know: {why}")
        return Decision("cascade", score, f"unsure, the student tries first: {why}")


if __name__ == "__main__":
    print(Router().decide(" ".join(sys.argv[1:]), mode="auto"))

"""Router decisions and the reasons a person reads, with real all-MiniLM-L6-v2 embeddings."""

import numpy as np
import pytest

from assistant import config
from assistant.embedder import shared
from assistant.errors import ApprenticeError
from assistant.judge import contains_reference, judge
from assistant.outcomes import OutcomeIndex
from assistant.router import Router, Thresholds


@pytest.fixture(scope="module")
def embed():
    return lambda texts: shared().encode(texts)


def index_of(embed, outcomes: dict[str, int]) -> OutcomeIndex:
    index = OutcomeIndex()
    vecs = embed(list(outcomes))
    index.add(
        [
            {"id": i + 1, "query": q, "embedding": v.tobytes(), "wrong": w}
            for i, ((q, w), v) in enumerate(zip(outcomes.items(), vecs))
        ]
    )
    return index


@pytest.mark.parametrize(
    "query, word",
    [
        ("What's the weather in Paris tomorrow?", "weather"),
        ("latest news about the election", "latest"),
        ("what is the bitcoin price right now", "price"),
        ("Will it rain in Paris?", "will it rain"),  # the weather, without the word
        ("Will it be sunny on Saturday?", "will it be sunny"),
    ],
)
def test_live_information_goes_to_the_teacher(query, word):
    d = Router().decide(query, mode="auto")
    assert d.route == "cloud" and d.score >= 0.6 and word.lower() in d.reason.lower() and d.rule == "live"


@pytest.mark.parametrize(
    "query",
    [
        "What day is it?",
        "What time is it?",
        "what's the date today",
        "What time is it in Tokyo?",
        "What date have we got today?",
        "What day is it tomorrow?",
        "Which day was it yesterday",
    ],
)
def test_the_clock_and_calendar_stay_on_this_machine(query):
    for mode in ("ask", "auto", "private"):
        d = Router().decide(query, mode=mode)
        assert d.route == "local" and d.rule in ("clock", None), (mode, d)


@pytest.mark.parametrize(
    "query",
    [
        "If today is Saturday, what day is it tomorrow?",
        "Suppose today is Monday. What day was yesterday?",
        "Today's a Friday, so what day is it in 3 days?",
        "Say it's Thursday today. What day will it be 4 days from now?",
    ],
)
def test_a_day_the_user_supposes_is_a_question_of_the_calendar_not_of_the_clock_or_the_news(query):
    d = Router().decide(query, mode="auto")
    assert d.route == "cascade" and d.rule is None, d  # the teacher is right where the student is unsure


@pytest.mark.parametrize(
    "query", ["What day of the week is it?", "what day of the week is today", "What day of the week?"]
)
def test_todays_weekday_is_the_clocks(query):
    assert Router().decide(query, mode="auto").rule == "clock"


@pytest.mark.parametrize("query", ["What is the weather today?", "What day is the match on? Is it today?"])
def test_live_words_about_other_things_still_go_to_the_teacher(query):
    assert Router().decide(query, mode="auto").rule == "live"


@pytest.mark.parametrize(
    "query",
    [
        "Remind me tomorrow to call the bank",
        "Remind me to check the weather tomorrow at 8",
        "Wake me up tomorrow morning",
        "Set me an alarm for tomorrow",
        "Don't let me forget the match tonight",
        "Start a timer for the news at 6 today",
        "I need an alarm at quarter to eight tomorrow morning",
        "I have to be up by 7 tomorrow",
        "What alarms do I have tomorrow?",
    ],
)
def test_a_request_to_act_is_not_a_question_about_the_world(query):
    """A reminder or an alarm for tomorrow is set here; it is not live information to ask for."""
    for mode in ("auto", "private"):
        d = Router().decide(query, mode=mode)
        assert d.route != "cloud" and d.rule is None, (mode, d)


@pytest.mark.parametrize(
    "query",
    [
        "How do I make pancakes for breakfast today?",
        "Give me a workout for today",
        "What should I cook tonight?",
        "Tell me a joke for today",
        "What is an electric current?",
    ],
)
def test_a_day_in_a_request_for_something_made_or_a_noun_is_not_live_information(query):
    """Refused in private mode as "it needs live information (“today”)" before; the student can try."""
    for mode in ("auto", "private"):
        assert Router().decide(query, mode=mode).rule is None


@pytest.mark.parametrize(
    "query",
    [
        "Christmas this year lands on which weekday?",
        "what day of the week does July 4th fall on this year",
        "Is it morning or evening in Seoul right now?",
    ],
)
def test_a_question_about_the_calendar_or_a_clock_is_not_live_information(query):
    """Its "this year" or "right now" says when, which the clock tool answers on this machine."""
    for mode in ("auto", "private"):
        assert Router().decide(query, mode=mode).rule != "live"


def test_news_about_a_day_of_the_week_is_still_live_information():
    assert Router().decide("Which weekday is the election this year?", mode="auto").rule == "live"
    assert Router().decide("Is it morning or evening in Seoul right now? And the weather?", mode="auto").rule == "live"


@pytest.mark.parametrize(
    "query",
    ["Who won the match yesterday?", "What's on TV tonight?", "What is the current price of gold?", "news today?"],
)
def test_a_question_about_the_world_on_a_day_still_is(query):
    assert Router().decide(query, mode="auto").rule == "live"


@pytest.mark.parametrize("query", ["Can you remind me what the news said today?", "remind me of yesterday's score"])
def test_being_reminded_of_the_news_is_still_a_question_about_it(query):
    assert Router().decide(query, mode="auto").rule == "live"


def test_counting_weekdays_is_not_a_question_for_the_clock():
    # the clock tool tells today's date; "3 days after Monday" is Thursday whatever the date
    d = Router().decide("What day of the week is 3 days after Monday?", mode="auto")
    assert d.rule is None and d.route == "cascade"


@pytest.mark.parametrize(
    "query", ["Remember that the boiler code is 4411", "what did I note about the boiler?", "take a note: call mum"]
)
def test_notes_never_leave_in_any_mode_even_when_forced(query):
    for mode in ("ask", "auto"):
        for force in (None, "cloud"):
            d = Router().decide(query, mode=mode, force=force)
            assert d.route == "local" and d.rule == "notes", (mode, force, d)


def test_live_information_in_private_mode_is_marked_so_the_answer_can_say_it_cannot_know():
    d = Router().decide("What's the weather in Paris tomorrow?", mode="private")
    assert d.route == "local" and d.rule == "live" and "weather" in d.reason


def test_modes_and_forcing_decide_first():
    r = Router()
    assert r.decide("weather today?", mode="private").route == "local"
    assert r.decide("weather today?", mode="auto", force="local").reason == "you asked for the local student"
    assert r.decide("2+2?", mode="ask", force="cloud").route == "cloud"
    assert r.decide("please ask Gemini: what is a monad?", mode="auto").reason == "you asked for Gemini"


def test_a_query_like_ones_the_student_got_wrong_goes_to_the_teacher(embed):
    index = index_of(
        embed,
        {
            "What is the capital of Australia?": 1,
            "Name the capital city of Australia.": 1,
            "What's the capital city of Canada?": 1,
            "How many legs does a spider have?": 0,
            "How many legs has a spider got?": 0,
        },
    )
    router = Router()
    hard = router.decide(
        "Which city is the capital of Australia?",
        mode="auto",
        vector=embed(["Which city is the capital of Australia?"])[0],
        index=index,
    )
    assert hard.route == "cloud" and "answered wrong" in hard.reason and "Australia" in hard.reason
    easy = router.decide(
        "How many legs do spiders have?", mode="auto", vector=embed(["How many legs do spiders have?"])[0], index=index
    )
    assert easy.route == "local" and easy.score <= 0.3
    new = router.decide(
        "Write a poem about the sea", mode="auto", vector=embed(["Write a poem about the sea"])[0], index=index
    )
    assert new.route == "cascade" and "no similar past query" in new.reason


def test_the_judge_checks_short_facts_exactly_and_long_answers_by_meaning():
    assert judge("The capital of France is Paris.", "Paris").agree
    assert not judge("The capital of France is Lyon.", "Paris").agree
    assert contains_reference("It is New York City.", "New York") and not contains_reference("York", "New York")
    # a number said below zero is not the number
    assert contains_reference("50 − 19 = 31", "31") and contains_reference("That is 31.", "31.")
    assert not contains_reference("19 − 50 = −31", "31") and not contains_reference("It is -31.", "31")
    assert contains_reference("It is -31.", "-31") and contains_reference("31.0 in all", "31")
    assert judge(
        "Water boils at 100 degrees Celsius at sea level.", "At sea level, water boils at 100 °C (212 °F)."
    ).agree
    assert not judge(
        "Bananas are yellow fruit rich in potassium.", "At sea level, water boils at 100 °C (212 °F)."
    ).agree


def test_nearest_neighbours_scale_to_many_outcomes():
    rng = np.random.default_rng(0)
    vecs = rng.standard_normal((10_000, 384)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    index = OutcomeIndex()
    index.add([{"id": i + 1, "query": f"q{i}", "embedding": v.tobytes(), "wrong": i % 2} for i, v in enumerate(vecs)])
    near = index.nearest(vecs[1234], k=5, min_similarity=0.5)
    assert near[0] == (1234, pytest.approx(1.0, abs=1e-5)) and len(index) == 10_000


@pytest.mark.parametrize(
    "student, teacher, agree",
    [
        ("3 kilograms is 1.36 pounds.", "3 kilograms is 6.61 pounds.", False),  # a wrong number
        ("Three kilograms equal 6.61 pounds.", "3 kilograms is 6.61 pounds.", True),
        ("The capital of Australia is Sydney.", "Canberra is the capital of Australia.", False),  # a wrong name
        ("The capital of Australia is Canberra.", "Canberra is the capital of Australia.", True),
    ],
)
def test_the_judge_catches_wrong_facts_that_read_alike(student, teacher, agree):
    assert judge(student, teacher).agree is agree


def test_one_similar_past_query_alone_leaves_the_decision_to_the_cascade(embed):
    # a single wrong neighbour, however close, is weak evidence: the student tries first
    one = index_of(embed, {"Set an alarm for 6:15 am.": 1})
    vector = embed(["Set an alarm for 7:30 am."])[0]
    d = Router().decide("Set an alarm for 7:30 am.", mode="auto", vector=vector, index=one)
    assert d.route == "cascade" and "1 similar past query, 1 answered wrong" in d.reason
    # a second one sends it to the teacher
    two = index_of(embed, {"Set an alarm for 6:15 am.": 1, "Set an alarm for 8:45 am.": 1})
    assert Router().decide("Set an alarm for 7:30 am.", mode="auto", vector=vector, index=two).route == "cloud"
    # and with the prior weighing nothing, one decides, as a plain nearest-neighbour vote would
    plain = Router(Thresholds(prior_weight=0))
    assert plain.decide("Set an alarm for 7:30 am.", mode="auto", vector=vector, index=one).route == "cloud"


def test_a_negative_prior_weight_is_a_sentence(monkeypatch):
    monkeypatch.setenv("APPRENTICE_ROUTER_PRIOR_WEIGHT", "-1")
    with pytest.raises(ApprenticeError, match="router_prior_weight counts past queries"):
        config.load()

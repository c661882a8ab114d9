"""Write the distillation benchmark's task files: train.jsonl and test.jsonl, from a seed.

One query a line: {"query", "reference", "check", "family", "answer"?, "rationale"?}. The
`answer` is what the teacher says, as a sentence ("17 + 25 = 42."; the fake Gemini answers
with it, else with the reference), the `reference` what the check looks for ("42"), and the
`rationale` what the teacher says when asked for one. Six families a Siri-like assistant meets, each with its own check:

| family     | what                                                        | check              |
|------------|-------------------------------------------------------------|--------------------|
| device     | timers, alarms, reminders as tool calls; messages (no tool sends one) as JSON intents | call/json |
| conversion | units (length, weight, temperature, volume, time)          | number             |
| dates      | weekdays, months, days in a month, ISO date arithmetic      | contains/number/exact |
| arithmetic | + − × ÷ and percentages                                     | number             |
| facts      | what a small model often knows: capitals, symbols, authors  | contains/similar   |
| fresh      | weather, news, prices: only the teacher can know            | contains           |

Then the action families, one per tool, as call lines: {"query", "call": {"name", "arguments"},
"check": "call", "family"}. A line is right when the call made is the call named (the judge's
`judge_calls`: the same tool, the same normalized arguments), or when the answer's text holds what
running that call shows. 20 train and 9 test lines each for timer, alarm, reminder, clock, calculate
and convert, then 25 more train lines each in phrasings of their own (as a user's own traffic brings
many ways of saying one thing; a train call writes a clock time as the user said it, "6:45 pm", as
the tool's declaration asks); 6 note lines in the test file only: a note never goes to the teacher, so no teacher's
call can teach one (they measure the sentence templates and the student as it is). The phrasings are
not the sentence templates' ("set a timer for N minutes"), and train and test phrasings differ: the
test measures what the student learned for phrasings the templates miss. They are drawn from a
generator of their own, after the text families, so the text families' lines stay as they were.
assets/bench/test_fresh.jsonl is a second, small action test file written by hand (README, Sets never tuned on).

Queries are unique across both files (the test file is what distillation must never see).
The same seed writes the same files.

    python assets/bench/make_tasks.py [--seed 7] [--train-per-family 17] [--test-per-family 10] [--out assets/bench]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import re
from pathlib import Path

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
ORDINALS = [
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
]
NAMES = [
    "Anna",
    "Bob",
    "Carlos",
    "Dana",
    "Eve",
    "Farid",
    "Grace",
    "Hugo",
    "Ines",
    "Jack",
    "Kemal",
    "Lena",
    "Marta",
    "Noah",
    "Olga",
    "Pablo",
    "Rosa",
    "Sam",
    "Tara",
    "Umar",
    "Vera",
    "Will",
    "Yuki",
    "Zoe",
]
MESSAGES = [
    "I'm running late",
    "see you at the station",
    "dinner is ready",
    "call me back",
    "the meeting moved to Friday",
    "happy birthday",
    "I bought the tickets",
    "on my way",
    "can you pick up bread",
    "the keys are under the mat",
    "thanks for the flowers",
    "good luck today",
]
TASKS = [
    "call the dentist",
    "buy milk",
    "water the plants",
    "pay the rent",
    "take out the trash",
    "book a table",
    "send the report",
    "feed the cat",
    "charge my phone",
    "pick up the kids",
    "renew my passport",
    "stretch",
    "check the oven",
    "move the car",
]
CAPITALS = {
    "France": "Paris",
    "Japan": "Tokyo",
    "Italy": "Rome",
    "Germany": "Berlin",
    "Spain": "Madrid",
    "Canada": "Ottawa",
    "Egypt": "Cairo",
    "Russia": "Moscow",
    "China": "Beijing",
    "Greece": "Athens",
    "Portugal": "Lisbon",
    "Norway": "Oslo",
    "Sweden": "Stockholm",
    "Kenya": "Nairobi",
    "Peru": "Lima",
    "Ireland": "Dublin",
    "Austria": "Vienna",
    "Poland": "Warsaw",
    "Argentina": "Buenos Aires",
    "Thailand": "Bangkok",
    "Mexico": "Mexico City",
    "South Korea": "Seoul",
    "Cuba": "Havana",
    "Finland": "Helsinki",
    "Denmark": "Copenhagen",
    "Hungary": "Budapest",
    "India": "New Delhi",
    "Australia": "Canberra",
    "Turkey": "Ankara",
    "Chile": "Santiago",
}
SYMBOLS = {
    "gold": "Au",
    "silver": "Ag",
    "iron": "Fe",
    "sodium": "Na",
    "potassium": "K",
    "oxygen": "O",
    "hydrogen": "H",
    "carbon": "C",
    "copper": "Cu",
    "lead": "Pb",
    "helium": "He",
    "mercury": "Hg",
    "tin": "Sn",
    "calcium": "Ca",
    "nitrogen": "N",
    "zinc": "Zn",
}
AUTHORS = {
    "Romeo and Juliet": "Shakespeare",
    "Hamlet": "Shakespeare",
    "Pride and Prejudice": "Jane Austen",
    "1984": "George Orwell",
    "War and Peace": "Tolstoy",
    "Don Quixote": "Cervantes",
    "The Odyssey": "Homer",
    "Moby-Dick": "Herman Melville",
    "Frankenstein": "Mary Shelley",
    "Les Misérables": "Victor Hugo",
    "The Origin of Species": "Charles Darwin",
    "Oliver Twist": "Charles Dickens",
    "Faust": "Goethe",
    "Dracula": "Bram Stoker",
}
EXPLAIN = {  # free-form answers, checked by similarity
    "Why is the sky blue?": "Air molecules scatter blue sunlight more than red light, so the sky looks blue.",
    "What does a thermometer measure?": "A thermometer measures temperature.",
    "What do bees make?": "Bees make honey and beeswax.",
    "Why do we have seasons?": (
        "Earth's tilted axis changes how directly sunlight hits each hemisphere during the year."
    ),
    "What is photosynthesis?": (
        "Photosynthesis is how plants turn sunlight, water and carbon dioxide into sugar and oxygen."
    ),
    "What does a compass show?": "A compass shows the direction of magnetic north.",
    "What is the largest planet in the solar system?": "Jupiter is the largest planet in the solar system.",
    "What is the freezing point of water in Celsius?": "Water freezes at 0 degrees Celsius.",
    "Which planet is known as the Red Planet?": "Mars is known as the Red Planet.",
    "How many continents are there?": "There are seven continents.",
    "What gas do plants absorb from the air?": "Plants absorb carbon dioxide from the air.",
    "What is the longest river in Africa?": "The Nile is the longest river in Africa.",
}
CITIES = [
    "Paris",
    "London",
    "Tokyo",
    "New York",
    "Berlin",
    "Madrid",
    "Rome",
    "Sydney",
    "Toronto",
    "Cairo",
    "Lisbon",
    "Seoul",
    "Mumbai",
    "Oslo",
    "Lima",
    "Nairobi",
]
SKIES = ["sunny", "cloudy", "light rain", "snow", "fog", "thunderstorms", "clear skies", "windy"]
COMPANIES = ["Apple", "Microsoft", "Toyota", "Nestle", "Siemens", "Samsung", "Shell", "Airbus", "Sony", "Nike"]
CURRENCIES = ["dollar", "yen", "pound", "franc", "krone", "peso", "rupee", "won"]
TOPICS = [
    "the Mars mission",
    "the football final",
    "the climate summit",
    "the election in Brazil",
    "the new iPhone",
    "the marathon",
    "the central bank",
    "the film festival",
    "the chess championship",
]


def device(r: random.Random) -> dict:
    """Timers, alarms and reminders as the tool calls that set them (a time written as said, as the
    tool's declaration asks); messages, which no tool sends, as a JSON intent."""
    kind = r.choice(["timer", "timer", "alarm", "reminder", "message", "message"])
    if kind == "timer":
        if r.random() < 0.2:
            hours = r.randint(1, 3)
            query = r.choice(
                ["Set a timer for {h} hour{s}.", "Start a {h} hour timer.", "Timer for {h} hour{s}, please."]
            )
            query = query.format(h=hours, s="s" if hours > 1 else "")
            call = _call("timer", hours=hours)
        else:
            minutes = r.choice([1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 25, 30, 40, 45, 50, 90])
            query = r.choice(
                [
                    "Set a timer for {m} minutes.",
                    "Start a {m} minute timer.",
                    "Timer for {m} minutes, please.",
                    "Count down {m} minutes.",
                    "Set a {m} minute timer for the pasta.",
                ]
            ).format(m=minutes)
            labelled = {"label": "pasta"} if "pasta" in query else {}
            call = _call("timer", minutes=minutes, **labelled)
        return {"query": query, "call": call, "check": "call", "family": "device"}
    if kind == "alarm":
        hour, minute, pm = r.randint(1, 12), r.choice([0, 0, 15, 30, 45]), r.random() < 0.3
        spoken = f"{hour}:{minute:02d}" if minute else f"{hour}"
        query = r.choice(["Wake me up at {t} {ap}.", "Set an alarm for {t} {ap}.", "Alarm at {t} {ap}, please."])
        query = query.format(t=spoken, ap="pm" if pm else "am")
        call = _call("alarm", time=f"{spoken} {'pm' if pm else 'am'}")
        return {"query": query, "call": call, "check": "call", "family": "device"}
    if kind == "reminder":
        task, hour = r.choice(TASKS), r.randint(1, 11)
        pm = r.random() < 0.6
        query = r.choice(["Remind me to {task} at {h} {ap}.", "Set a reminder to {task} at {h} {ap}."])
        query = query.format(task=task, h=hour, ap="pm" if pm else "am")
        call = _call("reminder", text=task, time=f"{hour} {'pm' if pm else 'am'}")
        return {"query": query, "call": call, "check": "call", "family": "device"}
    name, text = r.choice(NAMES), r.choice(MESSAGES)
    query = r.choice(["Text {n} that {t}.", "Send {n} a message saying {t}.", "Message {n}: {t}."]).format(
        n=name, t=text
    )
    ref = {"intent": "message", "to": name, "text": text}
    why = f"The message goes to {name} and says: {text}."
    return {"query": query, "reference": json.dumps(ref), "check": "json", "family": "device", "rationale": why}


CONVERSIONS = [  # (from, to, factor or function, unit words)
    ("kilometers", "miles", 0.621371),
    ("miles", "kilometers", 1.609344),
    ("kilograms", "pounds", 2.204623),
    ("pounds", "kilograms", 0.453592),
    ("centimeters", "inches", 0.393701),
    ("inches", "centimeters", 2.54),
    ("meters", "feet", 3.28084),
    ("feet", "meters", 0.3048),
    ("liters", "gallons", 0.264172),
    ("hours", "minutes", 60),
    ("minutes", "seconds", 60),
    ("days", "hours", 24),
    ("kilograms", "grams", 1000),
    ("degrees Celsius", "degrees Fahrenheit", "c2f"),
    ("degrees Fahrenheit", "degrees Celsius", "f2c"),
]


def _fmt(x: float) -> str:
    return f"{x:.0f}" if abs(x - round(x)) < 1e-9 else f"{x:.2f}".rstrip("0").rstrip(".")


def conversion(r: random.Random) -> dict:
    src, dst, factor = r.choice(CONVERSIONS)
    value = r.choice([1, 2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 75, 100])
    if factor == "c2f":
        value = r.choice([0, 10, 15, 20, 25, 30, 35, 37, 40, 100])
        result, how = value * 9 / 5 + 32, f"{value} × 9/5 + 32"
    elif factor == "f2c":
        value = r.choice([32, 41, 50, 59, 68, 77, 86, 95, 104, 212])
        result, how = (value - 32) * 5 / 9, f"({value} − 32) × 5/9"
    else:
        result, how = value * factor, f"{value} × {factor}"
    query = r.choice(["Convert {v} {s} to {d}.", "How many {d} is {v} {s}?", "What is {v} {s} in {d}?"])
    query = query.format(v=value, s=src, d=dst)
    return {
        "query": query,
        "reference": f"{_fmt(result)} {dst}",
        "check": "number",
        "family": "conversion",
        "answer": f"{value} {src} is {_fmt(result)} {dst}.",
        "rationale": f"{how} = {_fmt(result)}.",
    }


def dates(r: random.Random) -> dict:
    kind = r.choice(["after", "before", "plus", "month_after", "nth_month", "days_in", "iso"])
    if kind in ("after", "before"):
        i = r.randrange(7)
        j = (i + (1 if kind == "after" else -1)) % 7
        query = f"What day comes {kind} {WEEKDAYS[i]}?"
        return {
            "query": query,
            "reference": WEEKDAYS[j],
            "check": "contains",
            "family": "dates",
            "answer": f"The day {kind} {WEEKDAYS[i]} is {WEEKDAYS[j]}.",
            "rationale": f"The week runs {', '.join(WEEKDAYS)}; {kind} {WEEKDAYS[i]} is {WEEKDAYS[j]}.",
        }
    if kind == "plus":
        i, n = r.randrange(7), r.randint(2, 6)
        query = f"What day of the week is {n} days after {WEEKDAYS[i]}?"
        return {
            "query": query,
            "reference": WEEKDAYS[(i + n) % 7],
            "check": "contains",
            "family": "dates",
            "answer": f"{n} days after {WEEKDAYS[i]} is {WEEKDAYS[(i + n) % 7]}.",
            "rationale": f"Counting {n} days on from {WEEKDAYS[i]} lands on {WEEKDAYS[(i + n) % 7]}.",
        }
    if kind == "month_after":
        i = r.randrange(12)
        return {
            "query": f"Which month comes after {MONTHS[i]}?",
            "reference": MONTHS[(i + 1) % 12],
            "check": "contains",
            "family": "dates",
            "answer": f"{MONTHS[(i + 1) % 12]} comes after {MONTHS[i]}.",
            "rationale": f"{MONTHS[(i + 1) % 12]} follows {MONTHS[i]} in the calendar.",
        }
    if kind == "nth_month":
        i = r.randrange(12)
        return {
            "query": f"What is the {ORDINALS[i]} month of the year?",
            "reference": MONTHS[i],
            "check": "contains",
            "family": "dates",
            "answer": f"The {ORDINALS[i]} month of the year is {MONTHS[i]}.",
            "rationale": f"Counting from January, month {i + 1} is {MONTHS[i]}.",
        }
    if kind == "days_in":
        i = r.randrange(12)
        return {
            "query": f"How many days are there in {MONTHS[i]}?",
            "reference": str(DAYS_IN_MONTH[i]),
            "check": "number",
            "family": "dates",
            "answer": f"{MONTHS[i]} has {DAYS_IN_MONTH[i]} days.",
            "rationale": f"{MONTHS[i]} has {DAYS_IN_MONTH[i]} days" + (" (29 in a leap year)." if i == 1 else "."),
        }
    start = dt.date(2024, 1, 1) + dt.timedelta(days=r.randrange(366))
    n = r.randint(1, 10)
    end = start + dt.timedelta(days=n)
    return {
        "query": f"What date is {n} days after {start.isoformat()}? Answer as YYYY-MM-DD.",
        "reference": end.isoformat(),
        "check": "exact",
        "family": "dates",
        "rationale": f"{start.isoformat()} plus {n} days is {end.isoformat()}.",
    }


def arithmetic(r: random.Random) -> dict:
    op = r.choice(["+", "-", "*", "/", "%"])
    if op == "+":
        a, b = r.randint(2, 99), r.randint(2, 99)
        query, result = (
            r.choice(["What is {a} + {b}?", "What is {a} plus {b}?", "Add {a} and {b}."]).format(a=a, b=b),
            a + b,
        )
        why, said = (
            f"{a} + {b}: {a} + {b - b % 10} = {a + b - b % 10}, then + {b % 10} = {result}.",
            f"{a} + {b} = {result}.",
        )
    elif op == "-":
        a, b = r.randint(20, 99), r.randint(2, 19)
        query, result = (
            r.choice(["What is {a} - {b}?", "What is {a} minus {b}?", "Subtract {b} from {a}."]).format(a=a, b=b),
            a - b,
        )
        why, said = (
            f"{a} − {b}: {a} − {b - b % 10} = {a - b + b % 10}, then − {b % 10} = {result}.",
            f"{a} - {b} = {result}.",
        )
    elif op == "*":
        a, b = r.randint(2, 12), r.randint(2, 12)
        query, result = (
            r.choice(["What is {a} times {b}?", "What is {a} x {b}?", "Multiply {a} by {b}."]).format(a=a, b=b),
            a * b,
        )
        why, said = f"{a} × {b} is {b} added {a} times: {result}.", f"{a} × {b} = {result}."
    elif op == "/":
        b, result = r.randint(2, 12), r.randint(2, 12)
        a = b * result
        query = r.choice(["What is {a} divided by {b}?", "What is {a} / {b}?"]).format(a=a, b=b)
        why, said = f"{b} × {result} = {a}, so {a} ÷ {b} = {result}.", f"{a} ÷ {b} = {result}."
    else:
        p, base = r.choice([10, 20, 25, 50, 75]), r.choice([40, 60, 80, 100, 120, 200, 400])
        query, result = f"What is {p}% of {base}?", p * base // 100
        why, said = f"{p}% of {base} is {base} × {p}/100 = {result}.", f"{p}% of {base} is {result}."
    return {
        "query": query,
        "reference": str(result),
        "check": "number",
        "family": "arithmetic",
        "answer": said,
        "rationale": why,
    }


def facts(r: random.Random) -> dict:
    kind = r.choice(["capital", "capital", "symbol", "author", "explain"])
    if kind == "capital":
        country = r.choice(list(CAPITALS))
        query = r.choice(["What is the capital of {c}?", "Which city is the capital of {c}?"]).format(c=country)
        return {
            "query": query,
            "reference": CAPITALS[country],
            "check": "contains",
            "family": "facts",
            "answer": f"The capital of {country} is {CAPITALS[country]}.",
            "rationale": f"{CAPITALS[country]} is the seat of government of {country}.",
        }
    if kind == "symbol":
        element = r.choice(list(SYMBOLS))
        return {
            "query": f"What is the chemical symbol for {element}?",
            "reference": SYMBOLS[element],
            "check": "contains",
            "family": "facts",
            "answer": f"The chemical symbol for {element} is {SYMBOLS[element]}.",
            "rationale": f"On the periodic table, {element} is written {SYMBOLS[element]}.",
        }
    if kind == "author":
        book = r.choice(list(AUTHORS))
        return {
            "query": f"Who wrote {book}?",
            "reference": AUTHORS[book],
            "check": "contains",
            "family": "facts",
            "answer": f"{book} was written by {AUTHORS[book]}.",
            "rationale": f"{book} is a famous work by {AUTHORS[book]}.",
        }
    query = r.choice(list(EXPLAIN))
    return {
        "query": query,
        "reference": EXPLAIN[query],
        "check": "similar",
        "family": "facts",
        "rationale": "This is basic science and geography.",
    }


def fresh(r: random.Random) -> dict:
    kind = r.choice(["weather", "weather", "stock", "news", "rate"])
    if kind == "weather":
        city, sky, temp = r.choice(CITIES), r.choice(SKIES), r.randint(-5, 33)
        query = r.choice(
            [
                "What's the weather in {c} right now?",
                "What is the weather forecast for {c} tomorrow?",
                "Is it raining in {c} today?",
            ]
        ).format(c=city)
        reference = f"{sky.capitalize()}, {temp}°C in {city}."
    elif kind == "stock":
        company, price = r.choice(COMPANIES), r.randint(20, 900)
        query = r.choice(["What is {c}'s share price right now?", "What is the current stock price of {c}?"]).format(
            c=company
        )
        reference = f"{company} trades at {price} dollars."
    elif kind == "news":
        topic, n = r.choice(TOPICS), r.randint(2, 9)
        query = r.choice(["What's the latest news about {t}?", "Any news today on {t}?"]).format(t=topic)
        reference = f"The latest on {topic}: update number {n} came in an hour ago."
    else:
        currency, rate = r.choice(CURRENCIES), round(r.uniform(0.8, 1.3), 3)
        query = r.choice(
            [
                "What is the euro to {c} exchange rate today?",
                "What's the current exchange rate from euros to {c}s?",
                "How many {c}s is one euro right now?",
            ]
        ).format(c=currency)
        reference = f"One euro is {rate} {currency}s."
    return {"query": query, "reference": reference, "check": "contains", "family": "fresh"}


FAMILIES = {
    "device": device,
    "conversion": conversion,
    "dates": dates,
    "arithmetic": arithmetic,
    "facts": facts,
    "fresh": fresh,
}


# -- actions: tool calls ---------------------------------------------------------------------------------
#
# Each action line names the call that does it: {"query", "call": {"name", "arguments"}, "family"}.
# The phrasings are not the fast path's sentence templates ("set a timer for N minutes"): they are
# what the student must learn when the templates miss. Train and test phrasings are disjoint, so the
# test measures a phrasing the student never saw, not a memorised one. Notes are in the test file
# only: a note never goes to the teacher, so no teacher's call can teach one.

TIMER_LABELS = ["tea", "pasta", "eggs", "laundry", "bread", "rice", "pizza", "workout", "nap", "oven"]
REMINDER_TASKS = [
    "call mum",
    "take out the bins",
    "check the oven",
    "water the plants",
    "feed the cat",
    "move the car",
    "take my medicine",
    "stretch",
    "send the invoice",
    "book the dentist",
    "pick up the kids",
    "reply to Anna",
]
ZONES = ["Tokyo", "Paris", "London", "Berlin", "Sydney", "New York", "Los Angeles", "Singapore", "Mumbai", "Toronto"]
UNIT_PAIRS = [  # (from, to), as a user writes them
    ("miles", "kilometers"),
    ("kilometers", "miles"),
    ("kilograms", "pounds"),
    ("pounds", "kilograms"),
    ("liters", "gallons"),
    ("feet", "meters"),
    ("inches", "centimeters"),
    ("ounces", "grams"),
    ("degrees Fahrenheit", "degrees Celsius"),
    ("degrees Celsius", "degrees Fahrenheit"),
    ("gigabytes", "megabytes"),
    ("hours", "minutes"),
    ("cups", "milliliters"),
    ("yards", "meters"),
]
NOTE_FACTS = [
    ("the boiler code is 4312", "boiler"),
    ("the spare key is under the blue pot", "spare key"),
    ("Sam's shoe size is 42", "Sam"),
    ("the car is parked on level 2", "car"),
    ("the plumber's number is 555 0199", "plumber"),
    ("the bike lock combination is 7781", "bike lock"),
    ("the router password is on the fridge", "router"),
    ("Lena likes oat milk", "Lena"),
]


def _clock12(r: random.Random) -> tuple[str, str]:
    """A clock time as said ("6:45 pm") and as a call writes it ("18:45")."""
    hour, minute, pm = r.randint(1, 12), r.choice([0, 0, 15, 30, 45]), r.random() < 0.5
    said = f"{hour}{'' if minute == 0 else f':{minute:02d}'} {'pm' if pm else 'am'}"
    return said, f"{hour % 12 + (12 if pm else 0):02d}:{minute:02d}"


def _hhmm(said: str) -> str:
    """ "6:45 pm" as "18:45": how a said time and a written one are compared between the splits."""
    clock, half = said.split()
    hour, _, minute = clock.partition(":")
    return f"{int(hour) % 12 + (12 if half == 'pm' else 0):02d}:{int(minute or 0):02d}"


def _same_call(call: dict) -> str:
    """A call as compared between the splits: a time said "6:45 pm" is the same as "18:45"."""
    arguments = dict(call["arguments"])
    if isinstance(arguments.get("time"), str) and arguments["time"].endswith(("am", "pm")):
        arguments["time"] = _hhmm(arguments["time"])
    return json.dumps({"name": call["name"], "arguments": arguments}, sort_keys=True)


def _day(r: random.Random) -> str:
    month = r.randrange(12)
    return f"{MONTHS[month]} {r.randint(1, DAYS_IN_MONTH[month])}"


def _call(name: str, **arguments) -> dict:
    return {"name": name, "arguments": arguments}


def timer_phrasings(r: random.Random, test: bool) -> dict:
    n = r.choice([2, 3, 4, 5, 6, 7, 8, 9, 12, 15, 18, 20, 25, 35, 40, 45, 50, 90])
    label = r.choice(TIMER_LABELS)
    secs = r.choice([10, 20, 30, 40, 45, 50, 75, 90])
    hours = r.choice([2, 3, 4])
    train = [
        (f"Could you count down {n} minutes for me?", _call("timer", minutes=n)),
        (f"I need a {n} minute countdown.", _call("timer", minutes=n)),
        (f"Start a countdown of {n} minutes.", _call("timer", minutes=n)),
        (f"Time {n} minutes for the {label}.", _call("timer", minutes=n, label=label)),
        (f"Run a {secs} second countdown.", _call("timer", seconds=secs)),
        (f"Begin timing {secs} seconds.", _call("timer", seconds=secs)),
        (f"Can you time {hours} hours for me?", _call("timer", hours=hours)),
        (f"Give me {n} minutes on the clock for the {label}.", _call("timer", minutes=n, label=label)),
    ]
    test_ = [
        (f"Please time {n} minutes.", _call("timer", minutes=n)),
        (f"Put {n} minutes on a countdown.", _call("timer", minutes=n)),
        (f"Track {secs} seconds for me, please.", _call("timer", seconds=secs)),
        (f"Let me know when {n} minutes are up.", _call("timer", minutes=n)),
        (f"{n} minute countdown for the {label}, please.", _call("timer", minutes=n, label=label)),
        (f"Could you clock {hours} hours for me?", _call("timer", hours=hours)),
    ]
    return r.choice(test_ if test else train)


def alarm_phrasings(r: random.Random, test: bool) -> dict:
    said, hhmm = _clock12(r)
    train = [
        f"Get me up at {said}.",
        f"I need to be woken at {said}.",
        f"Put an alarm on for {said}.",
        f"Alarm at {said}, please.",
        f"Make sure I'm awake by {said}.",
        f"Could you ring an alarm at {said}?",
    ]
    test_ = [
        f"Rouse me at {said}.",
        f"Schedule an alarm for {said}.",
        f"Buzz me awake at {said}.",
        f"Have an alarm go off at {said}.",
    ]
    # A train call writes the time as said: the teacher is asked to copy it, and the tool reads it.
    return r.choice(test_ if test else train), _call("alarm", time=hhmm if test else said)


def reminder_phrasings(r: random.Random, test: bool) -> dict:
    task = r.choice(REMINDER_TASKS)
    n = r.choice([5, 10, 15, 20, 25, 30, 40, 45, 90])
    hours = r.choice([1, 2, 3, 4])
    said, hhmm = _clock12(r)
    train = [
        (f"In {n} minutes, remind me to {task}.", _call("reminder", text=task, minutes=n)),
        (f"Don't let me forget to {task} in {n} minutes.", _call("reminder", text=task, minutes=n)),
        (f"Nudge me to {task} in {hours} hours.", _call("reminder", text=task, hours=hours)),
        (f"I need a reminder to {task} in {n} minutes.", _call("reminder", text=task, minutes=n)),
        (f"At {said}, remind me to {task}.", _call("reminder", text=task, time=said)),
    ]
    test_ = [
        (f"Give me a reminder in {n} minutes to {task}.", _call("reminder", text=task, minutes=n)),
        (f"Tell me to {task} in {hours} hours.", _call("reminder", text=task, hours=hours)),
        (f"Prompt me to {task} at {said}.", _call("reminder", text=task, time=hhmm)),
        (f"{n} minutes from now, remind me to {task}.", _call("reminder", text=task, minutes=n)),
    ]
    return r.choice(test_ if test else train)


def clock_phrasings(r: random.Random, test: bool) -> dict:
    zone, day = r.choice(ZONES), _day(r)
    train = [
        ("What's the time right now?", _call("clock")),
        ("Tell me the current time.", _call("clock")),
        ("What's today's date?", _call("clock")),
        (f"What hour is it in {zone}?", _call("clock", place=zone)),
        (f"Which day of the week does {day} fall on?", _call("clock", date=day)),
        (f"How many days remain until {day}?", _call("clock", to_date=day)),
        (f"Tell me the local time in {zone}.", _call("clock", place=zone)),
    ]
    test_ = [
        ("Got the time?", _call("clock")),
        ("What date have we got today?", _call("clock")),
        (f"Current time in {zone}, please.", _call("clock", place=zone)),
        (f"What weekday will {day} be?", _call("clock", date=day)),
        (f"How long until {day}, in days?", _call("clock", to_date=day)),
    ]
    return r.choice(test_ if test else train)


def calculate_phrasings(r: random.Random, test: bool) -> dict:
    a, b = r.randint(12, 99), r.randint(3, 29)
    p, sq, k = r.choice([5, 10, 12, 15, 20, 25, 30, 40]), r.randint(4, 30) ** 2, r.randint(2, 5)
    total = r.randint(100, 990)
    train = [
        (f"Work out {a} multiplied by {b}.", _call("calculate", expression=f"{a} * {b}")),
        (f"What do you get when you add {total} and {b}?", _call("calculate", expression=f"{total} + {b}")),
        (f"Take {b} away from {total}.", _call("calculate", expression=f"{total} - {b}")),
        (f"What's {p} percent of {total}?", _call("calculate", expression=f"{p}% of {total}")),
        (f"Find the square root of {sq}.", _call("calculate", expression=f"sqrt({sq})")),
        (f"What is {b} raised to the power of {k}?", _call("calculate", expression=f"{b}^{k}")),
        (f"Split {total} by {b} and tell me the result.", _call("calculate", expression=f"{total} / {b}")),
    ]
    test_ = [
        (f"Multiply {a} by {b} for me.", _call("calculate", expression=f"{a} * {b}")),
        (f"Compute the sum of {total} and {b}.", _call("calculate", expression=f"{total} + {b}")),
        (f"Deduct {b} from {total}.", _call("calculate", expression=f"{total} - {b}")),
        (f"Figure out {p}% of {total}.", _call("calculate", expression=f"{p}% of {total}")),
        (f"Give me the square root of {sq}.", _call("calculate", expression=f"sqrt({sq})")),
    ]
    return r.choice(test_ if test else train)


def convert_phrasings(r: random.Random, test: bool) -> dict:
    source, target = r.choice(UNIT_PAIRS)
    v = r.choice([2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 40, 50, 75, 100])
    train = [
        f"How many {target} are in {v} {source}?",
        f"Turn {v} {source} into {target}.",
        f"{v} {source} equals how many {target}?",
        f"Express {v} {source} in {target}.",
    ]
    test_ = [
        f"What is {v} {source} when measured in {target}?",
        f"Recalculate {v} {source} in {target}.",
        f"I have {v} {source}; how many {target} is that?",
    ]
    return r.choice(test_ if test else train), _call("convert", value=v, from_unit=source, to_unit=target)


def note_phrasings(r: random.Random, test: bool) -> dict:
    fact, topic = r.choice(NOTE_FACTS)
    return r.choice(
        [
            (f"Jot down that {fact}.", _call("note", text=fact)),
            (f"Make a note: {fact}.", _call("note", text=fact)),
            (f"What did I write down about the {topic}?", _call("note", find=topic)),
            (f"Look up my notes on {topic}.", _call("note", find=topic)),
        ]
    )


ACTIONS = {  # family: (phrasings, train lines, test lines); a family is named after its tool
    "timer": (timer_phrasings, 20, 9),
    "alarm": (alarm_phrasings, 20, 9),
    "reminder": (reminder_phrasings, 20, 9),
    "clock": (clock_phrasings, 20, 9),
    "calculate": (calculate_phrasings, 20, 9),
    "convert": (convert_phrasings, 20, 9),
    "note": (note_phrasings, 0, 6),  # test only: the teacher never sees a note, so none is learned from it
}


def actions(seed: int, seen: set[str]) -> tuple[list[dict], list[dict]]:
    """The action lines, from a generator of their own so that the text families' lines stay as they were."""
    r = random.Random(seed * 1000 + 12)
    train, test = [], []
    for family, (phrasings, n_train, n_test) in ACTIONS.items():
        for split, n, out in (("test", n_test, test), ("train", n_train, train)):
            # Numbers differ between splits too: a test call never equals a train call on a near query.
            calls = {_same_call(row["call"]) for row in test} if split == "train" else set()
            drawn, tries = 0, 0
            while drawn < n:
                tries += 1
                if tries > 10_000:
                    raise SystemExit(f"Cannot draw {n} distinct {family} {split} queries.")
                query, call = phrasings(r, split == "test")
                if key(query) in seen or _same_call(call) in calls:
                    continue
                seen.add(key(query))
                out.append({"query": query, "call": call, "check": "call", "family": family})
                drawn += 1
    return train, test


# More train phrasings per action, as a user's own traffic brings: one thing said many ways. None is
# a test phrasing. Drawn from a generator of their own after everything else, so the lines above
# stay as they were. A train call writes a clock time as the user said it ("6:45 pm").


def more_timer(r: random.Random) -> tuple[str, dict]:
    n = r.choice([2, 3, 4, 5, 6, 8, 10, 11, 12, 14, 16, 20, 22, 25, 30, 35, 40, 60, 75])
    secs, hours, label = r.choice([15, 25, 30, 35, 60, 80, 100, 120]), r.choice([1, 2, 5]), r.choice(TIMER_LABELS)
    return r.choice(
        [
            (f"Count down {n} minutes.", _call("timer", minutes=n)),
            (f"Start timing {n} minutes now.", _call("timer", minutes=n)),
            (f"I'd like a {n} minute timer.", _call("timer", minutes=n)),
            (f"Time me for {n} minutes.", _call("timer", minutes=n)),
            (f"Can you run a timer of {n} minutes?", _call("timer", minutes=n)),
            (f"Timer, {n} minutes.", _call("timer", minutes=n)),
            (f"Need a timer: {n} minutes.", _call("timer", minutes=n)),
            (f"Count {secs} seconds for me.", _call("timer", seconds=secs)),
            (f"Start a {secs} second timer.", _call("timer", seconds=secs)),
            (f"Could you set up a {hours} hour timer?", _call("timer", hours=hours)),
            (f"Start the {label} timer for {n} minutes.", _call("timer", minutes=n, label=label)),
            (f"{label.capitalize()} timer, {n} minutes.", _call("timer", minutes=n, label=label)),
            (f"Set {n} minutes for the {label}.", _call("timer", minutes=n, label=label)),
        ]
    )


def more_alarm(r: random.Random) -> tuple[str, dict]:
    said, _ = _clock12(r)
    query = r.choice(
        [
            f"Wake me at {said}.",
            f"Set my alarm to {said}.",
            f"I want an alarm at {said}.",
            f"Can you wake me up at {said}?",
            f"Please set an alarm at {said}.",
            f"Add an alarm for {said}.",
            f"Create an alarm at {said}.",
            f"I have to get up at {said}.",
            f"Alarm {said}.",
            f"Could you make sure I wake at {said}?",
        ]
    )
    return query, _call("alarm", time=said)


def more_reminder(r: random.Random) -> tuple[str, dict]:
    task, n, hours = r.choice(REMINDER_TASKS), r.choice([2, 5, 10, 12, 20, 30, 35, 50, 60]), r.choice([2, 5, 6, 8])
    said, _ = _clock12(r)
    return r.choice(
        [
            (f"Remind me to {task} in {n} minutes.", _call("reminder", text=task, minutes=n)),
            (f"Remind me in {n} minutes to {task}.", _call("reminder", text=task, minutes=n)),
            (f"Remind me after {n} minutes to {task}.", _call("reminder", text=task, minutes=n)),
            (f"Alert me to {task} in {n} minutes.", _call("reminder", text=task, minutes=n)),
            (f"In {hours} hours, remind me to {task}.", _call("reminder", text=task, hours=hours)),
            (f"Can you remind me to {task} in {hours} hours?", _call("reminder", text=task, hours=hours)),
            (f"Set a reminder to {task} at {said}.", _call("reminder", text=task, time=said)),
            (f"Remind me at {said} to {task}.", _call("reminder", text=task, time=said)),
            (f"Please remind me to {task} at {said}.", _call("reminder", text=task, time=said)),
            (f"Set a reminder for {said}: {task}.", _call("reminder", text=task, time=said)),
        ]
    )


def more_clock(r: random.Random) -> tuple[str, dict]:
    zone, day = r.choice(ZONES), _day(r)
    return r.choice(
        [
            ("What time is it?", _call("clock")),
            ("What's the time?", _call("clock")),
            ("Do you know what time it is?", _call("clock")),
            ("What is the date today?", _call("clock")),
            ("Which day is it today?", _call("clock")),
            ("Tell me today's date, please.", _call("clock")),
            (f"What time is it in {zone}?", _call("clock", place=zone)),
            (f"What's the time in {zone} now?", _call("clock", place=zone)),
            (f"What day of the week is {day}?", _call("clock", date=day)),
            (f"On what day does {day} fall?", _call("clock", date=day)),
            (f"How many days until {day}?", _call("clock", to_date=day)),
            (f"Count the days to {day}.", _call("clock", to_date=day)),
        ]
    )


def more_calculate(r: random.Random) -> tuple[str, dict]:
    a, b, total = r.randint(11, 99), r.randint(2, 39), r.randint(100, 999)
    p, sq, k = r.choice([5, 8, 10, 15, 20, 35, 50, 75]), r.randint(3, 40) ** 2, r.randint(2, 4)
    return r.choice(
        [
            (f"What is {a} times {b}?", _call("calculate", expression=f"{a} * {b}")),
            (f"Calculate {a} x {b}.", _call("calculate", expression=f"{a} * {b}")),
            (f"What is {total} plus {b}?", _call("calculate", expression=f"{total} + {b}")),
            (f"Add {b} to {total}.", _call("calculate", expression=f"{total} + {b}")),
            (f"What is {total} minus {b}?", _call("calculate", expression=f"{total} - {b}")),
            (f"Subtract {b} from {total}.", _call("calculate", expression=f"{total} - {b}")),
            (f"What's {total} divided by {b}?", _call("calculate", expression=f"{total} / {b}")),
            (f"How much is {p} percent of {total}?", _call("calculate", expression=f"{p}% of {total}")),
            (f"What's the square root of {sq}?", _call("calculate", expression=f"sqrt({sq})")),
            (f"What is {b} to the power of {k}?", _call("calculate", expression=f"{b}^{k}")),
        ]
    )


def more_convert(r: random.Random) -> tuple[str, dict]:
    source, target = r.choice(UNIT_PAIRS)
    v = r.choice([1, 3, 6, 7, 9, 11, 16, 30, 45, 60, 80, 120, 250])
    query = r.choice(
        [
            f"Convert {v} {source} to {target}.",
            f"How much is {v} {source} in {target}?",
            f"{v} {source} in {target}?",
            f"What's {v} {source} in {target}?",
            f"Change {v} {source} to {target}.",
            f"Can you convert {v} {source} into {target}?",
            f"How many {target} is {v} {source}?",
        ]
    )
    return query, _call("convert", value=v, from_unit=source, to_unit=target)


MORE_ACTIONS = {  # family: (phrasings, train lines)
    "timer": (more_timer, 25),
    "alarm": (more_alarm, 25),
    "reminder": (more_reminder, 25),
    "clock": (more_clock, 25),
    "calculate": (more_calculate, 25),
    "convert": (more_convert, 25),
}


def more_actions(seed: int, seen: set[str], test: list[dict]) -> list[dict]:
    """More train lines per action; a call with numbers never equals a test call (a bare `clock()` can)."""
    r = random.Random(seed * 1000 + 13)
    calls = {_same_call(row["call"]) for row in test if row["call"]["arguments"]}
    out = []
    for family, (phrasings, n) in MORE_ACTIONS.items():
        drawn, tries = 0, 0
        while drawn < n:
            tries += 1
            if tries > 10_000:
                raise SystemExit(f"Cannot draw {n} more distinct {family} train queries.")
            query, call = phrasings(r)
            if key(query) in seen or _same_call(call) in calls:
                continue
            seen.add(key(query))
            out.append({"query": query, "call": call, "check": "call", "family": family})
            drawn += 1
    return out


def key(query: str) -> str:
    """What makes two queries the same: case, spacing and end punctuation do not."""
    return re.sub(r"[\s.,;:!?]+$", "", " ".join(query.split()).lower())


def make(seed: int, train_per_family: int, test_per_family: int) -> tuple[list[dict], list[dict]]:
    r = random.Random(seed)
    seen: set[str] = set()
    train, test = [], []
    for family, make_row in FAMILIES.items():
        rows = []
        tries = 0
        while len(rows) < train_per_family + test_per_family:
            tries += 1
            if tries > 10_000:
                raise SystemExit(f"Cannot draw {train_per_family + test_per_family} distinct {family} queries.")
            row = make_row(r)
            if key(row["query"]) in seen:
                continue
            seen.add(key(row["query"]))
            rows.append(row)
        test += rows[:test_per_family]
        train += rows[test_per_family:]
    r.shuffle(train)
    r.shuffle(test)
    action_train, action_test = actions(seed, seen)
    more_train = more_actions(seed, seen, action_test)
    return train + action_train + more_train, test + action_test


def write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the distillation benchmark's train and test files.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--train-per-family", type=int, default=17)
    parser.add_argument("--test-per-family", type=int, default=10)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent)
    args = parser.parse_args(argv)
    train, test = make(args.seed, args.train_per_family, args.test_per_family)
    args.out.mkdir(parents=True, exist_ok=True)
    write(args.out / "train.jsonl", train)
    write(args.out / "test.jsonl", test)
    print(f"wrote {len(train)} train and {len(test)} test queries to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

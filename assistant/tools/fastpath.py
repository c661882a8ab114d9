"""The fast path: the commonest requests matched by sentence templates, before any model runs.

As Home Assistant's Assist does, "set a timer for 10 minutes", "what time is it", "5 miles
in km", "17 * 23" and "remember that ..." are recognized by hassil against the templates in
assets/intents.yaml, then turned into a tool call here. A match whose slots make no sense (a
number that is not one, a place with no time zone, words that are not arithmetic) is
dropped, so what is left for the router is only what the templates truly cover. A match
costs well under a millisecond; `python -m assistant.tools.fastpath --bench FILE` measures it,
over a file of queries (one a line) or of benchmark items (JSONL with "query", "call", "family"),
and says what share of each family the templates catch.

    python -m assistant.tools.fastpath "convert 5 miles to km"
"""

from __future__ import annotations

import ast
import functools
import os
import re
import sys
import time
from collections.abc import Callable

from assistant.tools import ToolError, validate
from assistant.tools.calls import ToolCall, format_call
from assistant.tools.clock import WEEKDAYS
from assistant.tools.numbers import parse_number, plain_number, words_to_digits

MAX_QUERY = 200  # characters: a longer query is a conversation, not a command

# -- the templates ----------------------------------------------------------------------------------


@functools.cache
def _intents():
    """The templates, with {unit} and {unit2} filled by every unit name the convert tool reads.

    Reading the YAML and parsing every template took about a tenth of a second of each command
    that answers, so the parsed templates are kept in cache/intents, named by the templates' text,
    the unit names and hassil's version: any change gives another name."""
    from assistant import config
    from assistant.tools.convert import unit_vocabulary

    source = (config.assets_dir() / "intents.yaml").read_bytes()
    units = sorted(unit_vocabulary(), key=len, reverse=True)
    path = _intents_file(source, units)
    intents = _read_intents(path)
    if intents is None:
        intents = _parse_intents(source, units)
        _write_intents(path, intents)
    return intents


def _parse_intents(source: bytes, units: list[str]):
    import yaml
    from hassil import Intents, TextSlotList

    intents = Intents.from_dict(yaml.safe_load(source.decode("utf-8")))
    for name in ("unit", "unit2"):
        intents.slot_lists[name] = TextSlotList.from_strings(units, allow_template=False, name=name)
    for intent in intents.intents.values():
        for data in intent.data:
            _ = data.sentences  # parsed on first use otherwise: parsed now, so the file holds them parsed
    return intents


def _intents_file(source: bytes, units: list[str]):
    import hashlib
    import json
    from importlib.metadata import version

    from assistant import config

    key = [hashlib.sha256(source).hexdigest(), sorted(units), version("hassil"), sys.version]
    digest = hashlib.sha256(json.dumps(key).encode()).hexdigest()[:24]
    return config.home() / "cache" / "intents" / f"{digest}.pickle"


def _read_intents(path):
    import pickle

    try:
        # Apprentice's own file in the user's own home, named by the templates and hassil's version
        return pickle.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except Exception:  # torn, or from another hassil: parsed from the YAML again and written anew
        path.unlink(missing_ok=True)
        return None


def _write_intents(path, intents) -> None:
    import os
    import pickle
    import threading

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.{threading.get_ident()}.partial")
        tmp.write_bytes(pickle.dumps(intents, protocol=pickle.HIGHEST_PROTOCOL))
        tmp.replace(path)
        for old in sorted(path.parent.glob("*.pickle"), key=lambda p: p.stat().st_mtime)[:-2]:
            old.unlink(missing_ok=True)  # the templates before an update may still be wanted; older ones go
    except OSError:  # a read-only or full disk: the templates are parsed again next time
        pass


def _entities(result, text: str) -> dict[str, str]:
    """Each slot as the user wrote it: a wildcard's own span of the query keeps its punctuation."""
    found = {}
    for name, entity in result.entities.items():
        span = getattr(entity, "text_span", None)
        if entity.is_wildcard and span:
            found[f"{name}_before"] = text[: span[0]]
            # hassil skips "please" around the template's words, not at the end of a wildcard's words
            found[name] = re.sub(r"[\s,]+(?:please|thanks|thank you)$", "", text[span[0] : span[1]].strip(), flags=re.I)
        elif name in ("time_unit", "time_unit2", "action", "topic", "day") or not entity.text:
            found[name] = str(entity.value)  # a list's output value, or a slot the template fixes
        else:
            found[name] = str(entity.text).strip()
    return found


def match(query: str) -> ToolCall | None:
    """The tool call a template recognizes in `query`, or None; only calls that validate are returned."""
    text = " ".join((query or "").split())
    if not text or len(text) > MAX_QUERY:
        return None
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 1,000 -> 1000: the number lists read digits only
    text = re.sub(r"(?<=\d)-(?=[a-z])", " ", text, flags=re.I)  # a 30-minute timer
    text = re.sub(r"#\s*(?=\d)", "number ", text)  # "cancel timer #4": hassil drops the sign
    found = _first_call(text)
    if found is None:
        # "five minutes": the number lists read digits, so number words are made digits and matched again;
        # only now, so a note's own words ("I owe Bob two pounds") stay as written
        digits = words_to_digits(text)
        if digits != text:
            found = _first_call(digits, skip=("note_add", "note_find"))
    return found


def _first_call(text: str, skip: tuple = ()) -> ToolCall | None:
    from hassil import recognize_all

    results = [r for r in recognize_all(text, _intents()) if r.intent.name not in skip]
    # the most literal words matched wins: "convert 5 miles to km" is a conversion before it is an expression
    results.sort(key=lambda r: -r.text_chunks_matched)
    for result in results:
        build = BUILDERS.get(result.intent.name)
        if build is None:
            continue
        slots = {**_entities(result, text), **(result.intent_metadata or {})}
        try:
            call = build(slots)
            if call is not None:
                return ToolCall(call.name, validate(call.name, call.arguments))
        except ToolError:
            continue
    return None


# -- from slots to calls ----------------------------------------------------------------------------


def _number(s: dict, whole: str, fraction: str) -> float | None:
    """The number of a slot and its optional decimals ({n}.{frac}: "2" and "05" are 2.05)."""
    if whole not in s:
        return None
    return parse_number(f"{s[whole]}.{s[fraction]}" if s.get(fraction) else s[whole])


def _names_nothing(label: str, words: tuple[str, ...]) -> bool:
    """A label wildcard that caught no name: a number ("10 minute"), a sentence, or a bare word."""
    return bool(re.search(r"\d", label)) or len(label) > 40 or label.lower() in words


def _cancel(name: str, s: dict) -> ToolCall | None:
    """ "cancel the tea timer", "delete alarm 3", "stop my reminder" (the only one set: the tool says
    which it cancelled, or asks which one when there are several)."""
    arguments: dict = {"action": "cancel"}
    if "n" in s:
        number = parse_number(s["n"])
        if number is None or number != int(number) or number < 1:
            return None
        arguments["id"] = int(number)
    label = s.get("label", "").strip()
    if label:
        if _names_nothing(label, ("a", "an", "the", "my", "this", "that")):
            return None
        arguments["label"] = label
    return ToolCall(name, arguments)


def _timer(s: dict) -> ToolCall | None:
    if s.get("action") == "list":
        return ToolCall("timer", {"action": "list"})
    if s.get("action") == "cancel":
        return _cancel("timer", s)
    arguments: dict = {}
    for number, fraction, unit in (("n", "frac", "time_unit"), ("n2", "frac2", "time_unit2")):
        value = _number(s, number, fraction)
        if number in s and (value is None or value <= 0):
            return None
        if value:
            arguments[s[unit]] = plain_number(arguments.get(s[unit], 0) + value)
    label = s.get("label", "").strip()
    if label:
        if _names_nothing(label, ("a", "an", "the", "my", "new")):
            return None  # "set a 10 minute timer for 5 minutes" is not a timer named "10 minute"
        arguments["label"] = label
    return ToolCall("timer", arguments) if arguments else None


def _clock_time(text: str) -> str | None:
    """A clock time as the timers tool reads it ("7", "7:30", "seven am"), else None."""
    from assistant.tools.timers import parse_clock

    text = words_to_digits(text.strip().rstrip(".?!"))
    try:
        parse_clock(text)
    except (ToolError, ValueError):
        return None
    return text


def _delay(text: str) -> str | None:
    """A delay as the alarm tool reads it ("in 8 hours"), else None."""
    from assistant.tools.timers import parse_delay

    text = words_to_digits(text.strip().rstrip(".?!"))
    return text if text.lower().startswith("in ") and parse_delay(text) else None


def _repeat(text: str) -> str | None:
    """A time that asks for a repeat ("weekdays at 7"): the tool says in a sentence that it cannot."""
    from assistant.tools.timers import REPEATING

    return text.strip() if REPEATING.search(text) else None


def _alarm(s: dict) -> ToolCall | None:
    if s.get("action") == "list":
        return ToolCall("alarm", {"action": "list"})
    if s.get("action") == "cancel":
        return _cancel("alarm", s)
    said = s.get("time", "")
    when = _clock_time(said) or _delay(said) or _repeat(said)
    return ToolCall("alarm", {"time": when}) if when else None


_DAY_AT_END = re.compile(
    r"[\s,]+(tomorrow(?: (?:morning|afternoon|evening|night))?|tonight|(?:this|in the) (?:morning|afternoon|evening)|"
    rf"(?:on|this|next) (?:{'|'.join(WEEKDAYS)}))$",
    re.IGNORECASE,
)


def _reminder(s: dict) -> ToolCall | None:
    if s.get("action") == "list":
        return ToolCall("reminder", {"action": "list"})
    if s.get("action") == "cancel":
        return _cancel("reminder", s)
    what = s.get("text", "").strip().rstrip(".!?")
    if not what:
        return None
    if "day" in s:  # "remind me tomorrow to call the bank": the day's own time
        return ToolCall("reminder", {"text": what, "time": s["day"]})
    if "time" in s:
        # "to call mum tomorrow at 9": the day is the time's, not the reminder's words
        day = _DAY_AT_END.search(what)
        if day and day.start() > 0:
            what, said = what[: day.start()].rstrip(" ,"), f"{s['time']} {day.group(1)}"
        else:
            said = s["time"]
        when = _clock_time(said) or _repeat(said)
        return ToolCall("reminder", {"text": what, "time": when}) if when else None
    value = _number(s, "n", "frac")
    if value is None or value <= 0:
        return None
    return ToolCall("reminder", {"text": what, s["time_unit"]: plain_number(value)})


def _clock_now(s: dict) -> ToolCall:
    return ToolCall("clock", {})


def _clock_place(s: dict) -> ToolCall | None:
    from assistant.tools.clock import find_zone

    place = s.get("place", "").strip().rstrip(".?!")
    find_zone(place)  # a place with no known zone is not this template's: ToolError, and the next match is tried
    return ToolCall("clock", {"place": place})


def _dates(*texts: str) -> bool:
    import datetime as dt

    from assistant.tools.clock import parse_date

    for text in texts:
        parse_date(text, dt.date.today())  # ToolError when it is not a date
    return True


def _clock_date(s: dict) -> ToolCall | None:
    date = s["date"].strip().rstrip(".?!")
    return ToolCall("clock", {"date": date}) if _dates(date) else None


def _clock_until(s: dict) -> ToolCall | None:
    if "date2" in s:
        start, end = s["date"].strip(), s["date2"].strip().rstrip(".?!")
        return ToolCall("clock", {"date": start, "to_date": end}) if _dates(start, end) else None
    end = s["date"].strip().rstrip(".?!")
    if s.get("since"):  # "how many days since January 1": the last one, up to today
        start = end if re.search(r"\d{4}|^(last|yesterday)\b", end, re.IGNORECASE) else f"last {end}"
        return ToolCall("clock", {"date": start, "to_date": "today"}) if _dates(start) else None
    return ToolCall("clock", {"to_date": end}) if _dates(end) else None


def _clock_month(s: dict) -> ToolCall | None:
    import datetime as dt

    from assistant.tools import months

    if "ordinal" in s:  # "the sixth month of the year"; "the last month" of a year is December, not November
        ordinal = s["ordinal"].strip()
        date = "last month of the year" if ordinal.lower() == "last" else f"{ordinal} month"
    else:
        date = s["date"].strip().rstrip(".?!")
    # a month by itself, else not this template's ("How many days are there in a leap year?")
    return ToolCall("clock", {"date": date}) if months.read(date, dt.date.today()) else None


def _clock_days(s: dict) -> ToolCall | None:
    count = parse_number(s["n"]) if "n" in s else 1  # "the day after" is one day
    if count is None or count <= 0 or count != int(count):
        return None
    arguments: dict = {}
    date = s.get("date", "").strip().rstrip(".?!")
    if date and date.lower() not in ("now", "today"):
        _dates(date)  # ToolError when it is no date ("the day after the party"): the next match is tried
        arguments["date"] = date
    arguments["days"] = int(count) if s["way"] == "after" else -int(count)
    return ToolCall("clock", arguments)


def _convert(s: dict) -> ToolCall | None:
    if "n2" in s:  # "5 feet 11 inches": a height, in inches
        feet, inches = _number(s, "n", "frac"), _number(s, "n2", "frac2")
        if feet is None or inches is None or inches >= 12:
            return None
        s = {**s, "value": str(plain_number(feet * 12 + inches))}
    value = _number(s, "value", "frac")
    if value is None:
        return None
    to_unit = s["unit2"]
    if s.get("height") and to_unit.lower() in ("feet", "foot", "ft"):
        to_unit = "feet and inches"
    return ToolCall("convert", {"value": plain_number(value), "from_unit": s["unit"], "to_unit": to_unit})


_NAMES = {"sqrt", "cbrt", "abs", "round", "floor", "ceil", "log", "ln", "log2", "exp", "factorial", "pct", "pi", "e"}


def is_arithmetic(expression: str) -> bool:
    """Whether the words are arithmetic the calculate tool reads: numbers and at least one operation."""
    from assistant.tools.calculate import normalize

    text = normalize(expression)
    if not re.search(r"\d", text) or re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/\d{2,4}", text):
        return False  # no number, or a date
    if set(re.findall(r"[a-z_]+", text)) - _NAMES:
        return False
    try:
        tree = ast.parse(text, mode="eval").body
    except SyntaxError:
        return False
    while isinstance(tree, ast.UnaryOp):
        tree = tree.operand
    return isinstance(tree, ast.BinOp | ast.Call)


_PERCENT = re.compile(r"^(\d+(?:\.\d+)?)\s*(?:%|percent|per cent)$", re.IGNORECASE)
_MONEY = re.compile(r"[$€£¥]|\b(?:dollars?|euros?|pounds?|bucks|quid|yen)\b", re.IGNORECASE)


def _calculate(s: dict) -> ToolCall | None:
    if s.get("op") == "tip":  # "a 15% tip on 84 dollars": the tip, in the bill's own money
        percent = _PERCENT.match(words_to_digits(s["x"]).strip())
        amount = parse_number(_MONEY.sub(" ", s["y"]).strip().rstrip("?.!"))
        if not percent or amount is None:
            return None
        s = {"expression": f"{percent[1]}% of {amount:g}"}
    elif "op" in s:  # "multiply 13 by 17": the operation is the verb
        s = {"expression": f"({s['x']}) {s['op']} ({s['y']})"}
    expression = words_to_digits(s.get("expression", "")).strip().rstrip("?.!= ")
    return ToolCall("calculate", {"expression": expression}) if is_arithmetic(expression) else None


_OWN = ("my", "our", "i", "i'm", "we", "we're", "mine")


def _note_add(s: dict) -> ToolCall | None:
    text = s.get("text", "").strip().lstrip(":").strip()
    if s.get("statement") and text.split(" ", 1)[0].lower() not in _OWN:
        return None  # "remember when we went to Paris" is a conversation, not a note
    if s.get("colon") and ":" not in s.get("text_before", ""):
        return None  # "note the difference between affect and effect" is a question
    return ToolCall("note", {"text": text}) if text else None


def _note_find(s: dict) -> ToolCall:
    topic = s.get("topic", "").strip().rstrip("?.!")
    return ToolCall("note", {"find": topic} if topic else {})


BUILDERS: dict[str, Callable[[dict], ToolCall | None]] = {
    "timer": _timer,
    "alarm": _alarm,
    "reminder": _reminder,
    "clock_now": _clock_now,
    "clock_place": _clock_place,
    "clock_date": _clock_date,
    "clock_until": _clock_until,
    "clock_days": _clock_days,
    "clock_month": _clock_month,
    "convert": _convert,
    "calculate": _calculate,
    "note_add": _note_add,
    "note_find": _note_find,
}


# -- measuring it -----------------------------------------------------------------------------------


def bench(queries: list[str], rounds: int = 1) -> dict:
    """Latency of `match` over the queries (after one warm-up run): p50, p99 and max in ms, and the share matched."""
    for query in queries:
        match(query)
    times, hits = [], 0
    for _ in range(rounds):
        for query in queries:
            start = time.perf_counter()
            hits += match(query) is not None
            times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {
        "queries": len(times),
        "matched": hits / len(times),
        "p50_ms": times[len(times) // 2],
        "p99_ms": times[min(len(times) - 1, int(len(times) * 0.99))],
        "max_ms": times[-1],
    }


def coverage(items: list[dict]) -> dict:
    """Per family of benchmark items ({"query", "call": {"name", "arguments"} | None, "family"}): how many
    the templates catch with the right tool, with exactly the right arguments, and wrongly (an item with no call)."""
    families: dict[str, dict] = {}
    for item in items:
        found = match(item["query"])
        expected = item.get("call")
        row = families.setdefault(item.get("family") or "other", {"items": 0, "caught": 0, "exact": 0, "wrong": 0})
        row["items"] += 1
        if expected is None:
            row["wrong"] += found is not None
            continue
        if found is not None and found.name == expected["name"]:
            row["caught"] += 1
            try:
                row["exact"] += _same(found, ToolCall(expected["name"], expected.get("arguments", {})))
            except ToolError:
                pass
        elif found is not None:
            row["wrong"] += 1
    return families


def _same(found: ToolCall, expected: ToolCall) -> bool:
    """The same call: arguments equal once validated; for arithmetic, the same value ("17 times 23" is 17 * 23)."""
    if found.name == "calculate" == expected.name:
        from assistant.tools.calculate import evaluate

        return evaluate(found.arguments["expression"])[1] == evaluate(expected.arguments.get("expression", ""))[1]
    return found.arguments == validate(expected.name, expected.arguments)


def main(argv: list[str]) -> int:
    if argv[:1] != ["--bench"]:
        found = match(" ".join(argv))
        print(format_call(found) if found else "no match")
        return 0
    import json

    try:
        with open(argv[1], encoding="utf-8") as f:
            lines = [line.strip() for line in f if line.strip()]
        items = [json.loads(line) if line.startswith("{") else {"query": line} for line in lines]
        queries = [str(i["query"]) for i in items]
    except IndexError:
        print("--bench needs a file: one query a line, or JSON lines with a query (and a call).", file=sys.stderr)
        return 2
    except (KeyError, TypeError):
        print(f'A line of {argv[1]} has no query; JSON lines need one: {{"query": "..."}}.', file=sys.stderr)
        return 2
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        print(f"Cannot read {argv[1]}: {exc}. Give one query a line, or JSON lines with a query.", file=sys.stderr)
        return 2
    try:
        print(json.dumps(bench(queries, rounds=3)))
        if any("call" in i for i in items):
            for family, row in sorted(coverage(items).items()):
                print(json.dumps({"family": family, **row}))
        sys.stdout.flush()
    except BrokenPipeError:  # read by `head`: what it took was enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

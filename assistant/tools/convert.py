"""The convert tool: units through pint (length, mass, volume, temperature, speed, area, data, time, energy).

Units are read as people write them ("miles", "km/h", "°F", "square feet", "fl oz", "GB")
and handed to pint, whose registry knows the rest; temperatures are converted as offsets
(100 °C = 212 °F), not as factors. Results show 3 significant digits ("5 miles = 8.05 km").
Currencies need live rates this machine does not have: `CurrencyNeeded` says so, and the
core sends such a query to the teacher when the mode allows.

    python -m assistant.tools.convert 5 miles km
"""

from __future__ import annotations

import functools
import re
import sys

from assistant.tools import ToolContext, ToolError, ToolResult, tool


class CurrencyNeeded(ToolError):
    """A conversion between currencies: it needs today's rates, which only the teacher can look up."""


# What people write, as pint reads it (keys lower-case, spaces single).
ALIASES = {
    **dict.fromkeys(
        [
            "c",
            "°c",
            "ºc",
            "celsius",
            "centigrade",
            "degree c",
            "degrees c",
            "deg c",
            "degree celsius",
            "degrees celsius",
        ],
        "degC",
    ),
    **dict.fromkeys(["f", "°f", "ºf", "fahrenheit", "degree f", "degrees f", "deg f", "degree fahrenheit"], "degF"),
    **dict.fromkeys(["degrees fahrenheit"], "degF"),
    **dict.fromkeys(["k", "kelvin", "kelvins", "degrees kelvin"], "kelvin"),
    **dict.fromkeys(["kph", "kmh", "km/h", "kmph", "kilometers per hour", "kilometres per hour"], "km/h"),
    **dict.fromkeys(["km per hour", "kms per hour", "km an hour", "kilometers an hour", "kilometres an hour"], "km/h"),
    **dict.fromkeys(["mph", "miles per hour", "mile per hour", "miles an hour"], "mile/hour"),
    **dict.fromkeys(["m/s", "meters per second", "metres per second", "mps"], "m/s"),
    **dict.fromkeys(["knots", "knot", "kn", "kt", "kts"], "knot"),
    **dict.fromkeys(["fl oz", "fl. oz", "fl.oz", "floz", "fluid ounce", "fluid ounces"], "fluid_ounce"),
    **dict.fromkeys(["tbsp", "tablespoon", "tablespoons", "tbs"], "tablespoon"),
    **dict.fromkeys(["tsp", "teaspoon", "teaspoons"], "teaspoon"),
    **dict.fromkeys(["lb", "lbs", "pound", "pounds"], "pound"),
    **dict.fromkeys(["oz", "ounce", "ounces"], "ounce"),
    **dict.fromkeys(["st", "stone", "stones"], "stone"),
    **dict.fromkeys(["l", "liter", "liters", "litre", "litres", "ltr"], "liter"),
    **dict.fromkeys(["ml", "milliliter", "milliliters", "millilitre", "millilitres"], "milliliter"),
    **dict.fromkeys(["cc", "cm3", "cm³", "cubic centimeter", "cubic centimeters"], "cubic_centimeter"),
    **dict.fromkeys(["hr", "hrs", "h", "hour", "hours"], "hour"),
    **dict.fromkeys(["min", "mins", "minute", "minutes"], "minute"),
    **dict.fromkeys(["s", "sec", "secs", "second", "seconds"], "second"),
    **dict.fromkeys(["ms", "millisecond", "milliseconds"], "millisecond"),
    **dict.fromkeys(["kcal", "kilocalorie", "kilocalories", "food calorie", "food calories"], "kilocalorie"),
    **dict.fromkeys(["cal", "calorie", "calories"], "calorie"),
    **dict.fromkeys(["kwh", "kilowatt hour", "kilowatt hours", "kilowatt-hour", "kilowatt-hours"], "kilowatt_hour"),
    **dict.fromkeys(["btu", "btus"], "BTU"),
    **dict.fromkeys(["ha", "hectare", "hectares"], "hectare"),
    **dict.fromkeys(["ton", "tons", "short ton", "short tons"], "short_ton"),
    **dict.fromkeys(["tonne", "tonnes", "metric ton", "metric tons"], "metric_ton"),
    **dict.fromkeys(["nautical mile", "nautical miles", "nmi"], "nautical_mile"),
    **dict.fromkeys(["in", "inch", "inches", '"'], "inch"),
    **dict.fromkeys(["ft", "foot", "feet", "'"], "foot"),
    **dict.fromkeys(["yd", "yds", "yard", "yards"], "yard"),
    **dict.fromkeys(["mi", "mile", "miles"], "mile"),
    **dict.fromkeys(["m", "meter", "meters", "metre", "metres"], "meter"),
    **dict.fromkeys(["km", "kilometer", "kilometers", "kilometre", "kilometres", "kms"], "kilometer"),
    **dict.fromkeys(["cm", "centimeter", "centimeters", "centimetre", "centimetres"], "centimeter"),
    **dict.fromkeys(["mm", "millimeter", "millimeters", "millimetre", "millimetres"], "millimeter"),
    **dict.fromkeys(["g", "gram", "grams", "gramme", "grammes", "gr"], "gram"),
    **dict.fromkeys(["kg", "kgs", "kilo", "kilos", "kilogram", "kilograms"], "kilogram"),
    **dict.fromkeys(["mg", "milligram", "milligrams"], "milligram"),
    **dict.fromkeys(["gal", "gallon", "gallons"], "gallon"),
    **dict.fromkeys(["b", "byte", "bytes"], "byte"),
    **dict.fromkeys(["bit", "bits"], "bit"),
    **dict.fromkeys(["hp", "horsepower"], "horsepower"),
}
# Bytes as people write them: a lone "gb" is gigabytes, never pint's gilbert.
ALIASES.update(
    {
        **{"kb": "kilobyte", "mb": "megabyte", "gb": "gigabyte", "tb": "terabyte", "pb": "petabyte"},
        **{"kib": "kibibyte", "mib": "mebibyte", "gib": "gibibyte", "tib": "tebibyte", "pib": "pebibyte"},
        **{"kbit": "kilobit", "mbit": "megabit", "gbit": "gigabit", "tbit": "terabit"},
    }
)

CURRENCIES = {
    *("usd", "$", "dollar", "dollars", "us dollars", "us dollar", "bucks"),
    *("eur", "€", "euro", "euros"),
    *("gbp", "£", "pounds sterling", "pound sterling", "sterling", "british pounds", "quid"),
    *("jpy", "¥", "yen", "cny", "rmb", "yuan", "renminbi", "inr", "₹", "rupee", "rupees"),
    *("chf", "swiss francs", "franc", "francs", "cad", "canadian dollars", "aud", "australian dollars"),
    *("mxn", "peso", "pesos", "brl", "real", "reais", "krw", "won", "sek", "nok", "dkk", "krona", "krone", "kronor"),
    *("rub", "ruble", "rubles", "rouble", "roubles", "try", "lira", "zar", "rand", "pln", "zloty", "zlotys"),
    *("btc", "bitcoin", "bitcoins", "eth", "ether", "ethereum"),
}
_AMBIGUOUS_CURRENCY = {"pound", "pounds", "lb", "lbs"}  # a currency only next to another currency

DIMENSIONS = {
    "[length]": "a length",
    "[mass]": "a mass",
    "[length] ** 3": "a volume",
    "[temperature]": "a temperature",
    "[length] / [time]": "a speed",
    "[length] ** 2": "an area",
    "[time]": "a time",
    "[length] ** 2 * [mass] / [time] ** 2": "an energy",
    "[length] ** 2 * [mass] / [time] ** 3": "a power",
    "[mass] / [length] / [time] ** 2": "a pressure",
    "dimensionless": "a count",
}


@functools.cache
def registry():
    """pint's registry, built once per process (about a second): only a conversion pays for it."""
    import pint

    return pint.UnitRegistry(autoconvert_offset_to_baseunit=True)


def unit_name(text: str) -> str:
    """A unit as written, made into one pint reads: aliases, "square feet" -> foot**2, "per" -> /."""
    # pint's gallon, pint, cup and ton are the US ones: "US gallons" is its "gallons"
    raw = re.sub(r"^U\.?S\.?\s+", "", " ".join(text.strip().split()), flags=re.I)
    key = raw.lower().rstrip(".")
    if key in ALIASES:
        return ALIASES[key]
    key = re.sub(r"^(?:a|an|one)\s+", "", key)
    for word, power in (("square", 2), ("sq", 2), ("cubic", 3), ("cu", 3)):
        match = re.fullmatch(rf"{word}\.?\s+(.+)", key)
        if match:
            return f"({unit_name(match[1])})**{power}"
    match = re.fullmatch(r"(.+?)\s*(?:\^?([23])|([²³]))", key)
    if match and not key[-1].isalpha():
        power = match[2] or {"²": "2", "³": "3"}[match[3]]
        return f"({unit_name(match[1])})**{power}"
    if " per " in key or "/" in key:
        top, bottom = re.split(r"\s+per\s+|/", key, maxsplit=1)
        return f"({unit_name(top)})/({unit_name(bottom)})"
    if key.endswith("s") and key[:-1] in ALIASES:
        return ALIASES[key[:-1]]
    return raw.replace(" ", "_")


# Names pint reads as they are, which the fast path's templates should know too.
PLAIN_UNITS = (
    "cup cups pint pints quart quarts acre acres joule joules kj kilojoule kilojoules watt watts w kw kilowatt"
    " kilowatts mw megawatt megawatts wh bar bars psi atm atmosphere atmospheres pa pascal pascals kpa hpa day days"
    " week weeks month months year years decade decades century centuries microsecond microseconds nanosecond"
    " nanoseconds fortnight fortnights furlong furlongs league leagues micrometer micrometers micron microns"
    " nanometer nanometers lightyear lightyears parsec parsecs au radian radians degree degrees electronvolt ev"
).split()
_LENGTHS = ("m", "km", "cm", "mm", "ft", "feet", "foot", "in", "inch", "inches", "yd", "yard", "yards", "mi", "mile")
_LENGTHS += ("miles", "meter", "meters", "metre", "metres", "kilometer", "kilometers", "kilometre", "kilometres")


# A height as people say it: "180 cm in feet and inches" → 5 ft 10.9 in
FEET_AND_INCHES = re.compile(r"^\s*(?:feet|foot|ft)\s*(?:and|&|\+)?\s*(?:inches|inch|in)\s*$", re.IGNORECASE)


def unit_vocabulary() -> set[str]:
    """Every unit name the fast path should recognize: aliases, currencies (to refuse them), areas and volumes."""
    words = {k for k in ALIASES if k not in ('"', "'")} | CURRENCIES | set(PLAIN_UNITS)
    words |= {"feet and inches", "foot and inches", "ft and in", "feet inches"}
    words |= {"light year", "light years", "calories", "kilowatts", "gigawatt hours"}
    for prefix in ("kilo", "mega", "giga", "tera", "peta", "kibi", "mebi", "gibi", "tebi"):
        words |= {f"{prefix}byte", f"{prefix}bytes", f"{prefix}bit", f"{prefix}bits"}
    for length in _LENGTHS:
        words |= {f"square {length}", f"sq {length}", f"{length}2", f"{length}²", f"{length}^2"}
        words |= {f"cubic {length}", f"cu {length}", f"{length}3", f"{length}³", f"{length}^3"}
    return words


def is_currency(from_unit: str, to_unit: str) -> bool:
    """Whether this is a currency conversion: a currency on one side, and one (or a bare "pounds") on the other."""
    keys = [" ".join(u.lower().split()) for u in (from_unit, to_unit)]
    codes = [re.fullmatch(r"[A-Z]{3}", u.strip()) is not None for u in (from_unit, to_unit)]
    money = [k in CURRENCIES or code for k, code in zip(keys, codes, strict=True)]
    return any(money) and all(m or k in _AMBIGUOUS_CURRENCY for m, k in zip(money, keys, strict=True))


def show_value(x: float) -> str:
    """3 significant digits, but whole numbers past 1000 in full (1 mile = 1,609 m, not 1,610), and a value
    that is exact in 2 decimals as it is (0 °C = 273.15 K, not 273)."""
    if x == 0:
        return "0"
    size = abs(x)
    if 1e-2 <= size < 1000 and round(x, 2) == round(x, 9):
        return f"{round(x, 2):.2f}".rstrip("0").rstrip(".")
    if size >= 1e15 or size < 1e-4:
        mantissa, exponent = f"{x:.3g}".split("e")
        return f"{mantissa} × 10^{int(exponent)}"
    if size >= 1000:
        return f"{round(x):,}"
    shown = f"{x:.3g}"
    if "e" in shown:  # .3g of 100..999 never has one, but 999.7 rounds to 1e+03
        return f"{round(x):,}"
    return shown


def _unit(ureg, text: str):
    import pint

    # pint's parser reads arithmetic too ("m!" is a factorial): a unit name holds none of it
    if not re.search(r"[^\w\s/^*²³°º.'\"()µμ-]", text):
        try:
            return ureg.Unit(unit_name(text))
        except pint.UndefinedUnitError:
            pass
        except Exception:  # pint's tokenizer and syntax errors on stray symbols have no common base
            pass
    raise ToolError(f"I don't know the unit {text.strip()!r}; try a common name or symbol like km, lb or °F.")


def said_unit(text: str, value: float):
    """The unit `text` writes right after the number `value` ("How many feet is 3 metres?" → "metres"),
    as written and as pint's unit; None when no unit it knows follows that number."""
    ureg = registry()
    for match in re.finditer(r"(?<![\w.])(\d+(?:\.\d+)?)\s*([^\d?!,;:()]*)", text):
        if float(match[1]) != value:
            continue
        words = match[2].split()[:3]
        for k in range(len(words), 0, -1):  # the longest reading first: "degrees Fahrenheit", not "degrees"
            phrase = " ".join(words[:k]).rstrip(".")
            try:
                return phrase, _unit(ureg, phrase)
            except ToolError:
                continue
    return None


# Where a question names the unit it wants: "how many cups …", "… in pounds?", "… to Celsius."
TARGET_FIRST = re.compile(
    r"\bhow many ((?:[^\W\d_]+ ?){1,3}?)(?=\s+(?:is|are|in|does|do|make|makes|fit|to|there)\b|\s*\W*$)", re.I
)
TARGET_LAST = re.compile(r"\b(?:in|into|to|as) ((?:[^\W\d_°º]+ ?|[°º]\w ?){1,3}?)\s*[?.!]*\s*$", re.I)


def target_unit(text: str):
    """The unit a question asks for, as written and as pint's unit ("How many ounces is 250 grams?"
    → "ounces"); None when it names none this reads, or two that differ."""
    ureg = registry()
    found = [unit for pattern in (TARGET_FIRST, TARGET_LAST) if (unit := _target(ureg, pattern, text))]
    if not found or any(unit[1] != found[0][1] for unit in found):
        return None
    return found[0]


def _target(ureg, pattern: re.Pattern, text: str):
    found = pattern.search(text.strip())
    if not found:
        return None
    words = re.sub(r"^(?:the|a|an)\s+", "", found[1].strip(), flags=re.I).split()
    for k in range(len(words), 0, -1):  # the longest reading first: "degrees Celsius", not "degrees"
        phrase = " ".join(words[:k])
        if phrase.lower() in ("in", "a", "an"):
            continue
        try:
            return phrase, _unit(ureg, phrase)
        except ToolError:
            continue
    return None


def other_unit(said, written: str) -> bool:
    """Whether `written` is another unit of the same kind as `said` (feet for metres): a swap, not a
    reading of the query that went astray (an angle's "degrees" for °F)."""
    try:
        unit = _unit(registry(), written)
    except ToolError:
        return False
    return unit != said and unit.dimensionality == said.dimensionality


def _kind(unit) -> str:
    return DIMENSIONS.get(str(unit.dimensionality), "something else")


@tool("convert")
def convert(ctx: ToolContext, value: float, from_unit: str, to_unit: str) -> ToolResult:
    """Convert a quantity between units: length, mass, volume, temperature, speed, area, data, time, energy.

    Args:
      value: the amount, e.g. 5
      from_unit: the unit it is in, e.g. "miles", "°F", "GB"
      to_unit: the unit wanted, e.g. "km", "°C", "MB"
    """
    import pint

    arguments = {"value": value, "from_unit": from_unit, "to_unit": to_unit}
    if is_currency(from_unit, to_unit):
        raise CurrencyNeeded(
            f"Converting {from_unit.strip()} to {to_unit.strip()} needs today's exchange rates, which this machine"
            " does not have: currency questions go to the teacher, in ask or auto mode."
        )
    ureg = registry()
    in_feet_and_inches = FEET_AND_INCHES.match(to_unit) is not None
    source, target = _unit(ureg, from_unit), _unit(ureg, "inches" if in_feet_and_inches else to_unit)
    source, target, shown = _read_beside(ureg, source, target, from_unit, to_unit)
    try:
        result = ureg.Quantity(value, source).to(target).magnitude
    except pint.DimensionalityError:
        raise ToolError(
            f"{from_unit.strip()} cannot become {to_unit.strip()}: {_kind(source)} is not {_kind(target)}."
        ) from None
    except (OverflowError, ValueError):
        raise ToolError(f"{value:g} {from_unit.strip()} is out of range for a conversion.") from None
    left, right = _show_unit(shown[0], source), _show_unit(shown[1], target)
    shown_result = f"{show_value(result)} {right}"
    data = {"value": value, "from_unit": str(source), "to_unit": str(target), "result": result}
    if in_feet_and_inches:
        feet, inches = divmod(round(result, 1), 12)
        shown_result = f"{feet:.0f} ft {show_value(inches)} in"
        data |= {"feet": int(feet), "inches": inches}
    text = f"{show_value(value) if value < 1000 else f'{value:,g}'} {left} = {shown_result}"
    return ToolResult("convert", arguments, data, text, f"convert · {shown_result}")


def _read_beside(ureg, source, target, from_unit: str, to_unit: str):
    """A unit read by the one beside it, and the answer says how (source, target, units to show):
    "How many ounces in a cup?" is fluid ounces (US) beside a volume ("fl oz"), the ounce of weight
    beside a mass; "How many miles is a 5k?" is kilometres beside a length ("km"), kelvin beside a
    temperature."""
    shown = [from_unit, to_unit]
    for said, meant, written in (("ounce", "fluid_ounce", "fl oz"), ("kelvin", "kilometer", "km")):
        said, meant = ureg.Unit(said), ureg.Unit(meant)
        if source == said and target.dimensionality == meant.dimensionality:
            source, shown[0] = meant, written
        elif target == said and source.dimensionality == meant.dimensionality:
            target, shown[1] = meant, written
    return source, target, shown


def _show_unit(text: str, unit) -> str:
    """The unit as the user wrote it, but temperatures as symbols (°C, not "c")."""
    return {"degree_Celsius": "°C", "degree_Fahrenheit": "°F", "kelvin": "K"}.get(str(unit), text.strip())


if __name__ == "__main__":
    from assistant.tools import help_asked, on_command_line

    if help_asked():
        sys.exit(0)
    if len(sys.argv) != 4:
        sys.exit("usage: python -m assistant.tools.convert AMOUNT FROM_UNIT TO_UNIT   (e.g. 5 miles km)")
    try:
        amount = float(sys.argv[1])
    except ValueError:
        sys.exit(f"{sys.argv[1]!r} is not a number: give the amount first, e.g. 5 miles km")
    sys.exit(on_command_line(convert, value=amount, from_unit=sys.argv[2], to_unit=sys.argv[3]))

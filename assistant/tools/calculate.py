"""The calculate tool: exact arithmetic through a safe evaluator, never Python's `eval`.

An expression as people write it ("17 times 23", "nine times seven", "15% of 80", "square root of 144",
"2^10", "7 ÷ 2") is rewritten into arithmetic, parsed by simpleeval into a tree that may
hold only numbers, + - × ÷ // % ^, and a few named functions, and evaluated on fractions,
so 0.1 + 0.2 is 0.3 and 2^100 is every digit of it. Exponents and results are bounded, so no
expression can hold the machine.

    python -m assistant.tools.calculate "15% of 80"
"""

from __future__ import annotations

import ast
import math
import operator
import re
import sys
from fractions import Fraction

import simpleeval

from assistant.tools import ToolContext, ToolError, ToolResult, tool
from assistant.tools.numbers import words_to_digits

MAX_EXPRESSION = 300  # characters, after rewriting
MAX_DIGITS = 1000  # digits of any exact number along the way
MAX_EXPONENT = 10_000
MAX_FACTORIAL = 450  # 450! has 1001 digits
SIGNIFICANT = 12  # digits shown of an inexact result


class _Refused(Exception):
    """An expression or result past the bounds: the message is for the user."""


def _exact(value) -> Fraction | float:
    """Numbers are kept as fractions while they stay exact; irrational results are floats."""
    if isinstance(value, Fraction):
        if max(abs(value.numerator), value.denominator) >= 10**MAX_DIGITS:
            raise _Refused(f"The result has more than {MAX_DIGITS} digits, too long to show.")
        return value
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _Refused("That is not arithmetic.")
    if isinstance(value, float) and not math.isfinite(value):
        raise _Refused("The result is too large to compute.")
    return Fraction(value) if isinstance(value, int) else value


def _binary(fn):
    def run(a, b):
        if isinstance(a, float) or isinstance(b, float):
            return _exact(fn(float(a), float(b)))
        return _exact(fn(a, b))

    return run


def _power(a, b):
    if abs(b) > MAX_EXPONENT:
        raise _Refused(f"Exponents are limited to {MAX_EXPONENT:,}.")
    if a and abs(float(b)) * math.log10(abs(float(a))) > MAX_DIGITS:
        raise _Refused(f"The result has more than {MAX_DIGITS} digits, too long to show.")
    if isinstance(b, Fraction) and b.denominator == 1 and isinstance(a, Fraction):
        return _exact(a ** int(b))
    if isinstance(b, Fraction) and b.denominator != 1 and a < 0:
        raise _Refused("A fractional power of a negative number has no real answer.")
    root = _exact_root(a, b) if isinstance(a, Fraction) and isinstance(b, Fraction) else None
    return root if root is not None else _exact(float(a) ** float(b))


def _exact_root(a: Fraction, b: Fraction) -> Fraction | None:
    """a ** (p/q) when a is a perfect q-th power (4 ** 0.5 is 2 exactly, not 2.0000000001)."""
    if b.denominator > 20 or a < 0:
        return None
    num, den = _iroot(a.numerator, b.denominator), _iroot(a.denominator, b.denominator)
    if num is None or den is None:
        return None
    return _power(Fraction(num, den), Fraction(b.numerator))


def _iroot(n: int, k: int) -> int | None:
    guess = round(n ** (1 / k)) if n < 10**300 else None
    if guess is None:
        return None
    for candidate in (guess - 1, guess, guess + 1):
        if candidate >= 0 and candidate**k == n:
            return candidate
    return None


def _divide(a, b):
    if b == 0:
        raise ZeroDivisionError
    return _binary(operator.truediv)(a, b)


def _sqrt(x):
    if x < 0:
        raise _Refused("The square root of a negative number has no real answer.")
    return _power(_exact(x), Fraction(1, 2))


def _cbrt(x):
    return -_power(-_exact(x), Fraction(1, 3)) if x < 0 else _power(_exact(x), Fraction(1, 3))


def _round(x, places=0):
    if places != int(places) or not 0 <= places <= 15:  # round(x, 10**9) would build a 10**9-digit number
        raise _Refused("Round to between 0 and 15 decimal places.")
    return _exact(round(x, int(places)))


def _log(x, base=10):
    if x <= 0 or base <= 0 or base == 1:
        raise _Refused("Logarithms are defined for positive numbers only.")
    value = math.log(float(x), float(base))
    whole = round(value)
    if base in (2, 10) and abs(whole) <= MAX_DIGITS and Fraction(base) ** whole == x:
        return Fraction(whole)  # log 1000 is 3, not 2.9999999999999996
    return _exact(value)


def _factorial(n):
    if n != int(n) or n < 0:
        raise _Refused("Factorials are defined for whole numbers from 0 up.")
    if n > MAX_FACTORIAL:
        raise _Refused(f"Factorials are limited to {MAX_FACTORIAL}!, whose result is already {MAX_DIGITS} digits.")
    return Fraction(math.factorial(int(n)))


FUNCTIONS = {
    "sqrt": _sqrt,
    "cbrt": _cbrt,
    "abs": lambda x: abs(_exact(x)),
    "round": lambda x, n=0: _round(x, n),
    "floor": lambda x: Fraction(math.floor(x)),
    "ceil": lambda x: Fraction(math.ceil(x)),
    "log": _log,
    "ln": lambda x: _log(x, math.e),
    "log2": lambda x: _log(x, 2),
    "exp": lambda x: _power(math.e, x),
    "factorial": _factorial,
    "pct": lambda x: _exact(x) / 100,  # "15%": written by the rewriting below, shown as 15%
}
NAMES = {"pi": math.pi, "e": math.e}
OPERATORS = {
    ast.Add: _binary(operator.add),
    ast.Sub: _binary(operator.sub),
    ast.Mult: _binary(operator.mul),
    ast.Div: _divide,
    ast.FloorDiv: lambda a, b: Fraction(math.floor(_divide(a, b))),
    ast.Mod: lambda a, b: _binary(operator.mod)(a, b) if b != 0 else _divide(a, b),
    ast.Pow: _power,
    ast.USub: lambda a: -_exact(a),
    ast.UAdd: lambda a: _exact(a),
}


class _Evaluator(simpleeval.SimpleEval):
    """simpleeval reduced to arithmetic: no strings, attributes, subscripts, comparisons or assignments."""

    def __init__(self):
        super().__init__(operators=OPERATORS, functions=FUNCTIONS, names=NAMES)
        self.nodes = {
            ast.Expr: self._eval_expr,
            ast.Name: self._eval_name,
            ast.UnaryOp: self._eval_unaryop,
            ast.BinOp: self._eval_binop,
            ast.Call: self._eval_call,
            ast.Constant: self._eval_number,
        }

    @staticmethod
    def _eval_number(node):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise _Refused("That is not arithmetic.")
        # a literal as written: 0.1 is one tenth, not the float nearest to it
        return Fraction(repr(node.value)) if isinstance(node.value, float) else _exact(node.value)


# -- from words to an expression ---------------------------------------------------------------

_NUMBER = r"\d+(?:\.\d+)?|\.\d+"
_OPERAND = rf"(?:{_NUMBER}|\([^()]*\)|pi|e)"
_REWRITES = [
    (r"^\s*(?:what\s+is|what's|whats|how\s+much\s+is|calculate|compute|evaluate|work\s+out|solve)\s+", ""),
    (r"\?+\s*$|(?<![\d)\s])!+\s*$|\s*=\s*$|\s+equals?\s*$", ""),
    (r"(?<=\d),(?=\d{3}\b)", ""),  # 1,000 -> 1000
    (r"[×·✕✖]|(?<=[\d)\s])x(?=[\s\d(])", "*"),
    (r"[÷∶]", "/"),
    (r"[−–—]", "-"),
    (r"\^", "**"),
    (r"\bmultiplied\s+by\b|\btimes\b", "*"),
    (r"\bdivided\s+by\b|\bover\b", "/"),
    (r"\bplus\b|\badded\s+to\b", "+"),
    (r"\bminus\b|\bless\b", "-"),
    (r"\bmod(?:ulo)?\b", "%"),
    (r"\bto\s+the\s+(\d+)(?:st|nd|rd|th)?\s+power\b", r"** \1"),  # 2 to the 10th power
    (r"\bhalf\s+of\b", "0.5 *"),
    (r"\b(?:a\s+)?quarter\s+of\b", "0.25 *"),
    (r"\bto\s+the\s+power\s+of\b|\braised\s+to(?:\s+the\s+power\s+of)?\b|\bto\s+the\b|\bpow\b", "**"),
    (r"\bsquared\b", "**2"),
    (r"\bcubed\b", "**3"),
    (r"\bpercent\b|\bper\s+cent\b", "%"),
    (rf"\b(?:the\s+)?square\s+root\s+of\s+({_OPERAND})", r"sqrt(\1)"),
    (rf"\b(?:the\s+)?cube\s+root\s+of\s+({_OPERAND})", r"cbrt(\1)"),
    (rf"√\s*({_OPERAND})", r"sqrt(\1)"),
    (rf"∛\s*({_OPERAND})", r"cbrt(\1)"),
    (rf"\b(?:the\s+)?factorial\s+of\s+({_OPERAND})", r"factorial(\1)"),
    (rf"({_NUMBER})\s*!", r"factorial(\1)"),
    (rf"({_OPERAND})\s*([+-])\s*({_NUMBER})\s*%(?!\s*[\d(])", r"(\1*(1\2pct(\3)))"),  # 80 + 15% = 92
    (rf"({_NUMBER})\s*%\s*of\b", r"pct(\1)*"),
    (rf"({_NUMBER})\s*%(?!\s*[\d(.])", r"pct(\1)"),
    (r"\bthe\b|\bof\b", " "),
    (rf"\b(sqrt|cbrt|ln|log|log2|exp|abs)\s+({_OPERAND})", r"\1(\2)"),  # ln 10 -> ln(10)
]


def normalize(expression: str) -> str:
    """Arithmetic written in words and symbols, as the evaluator reads it ("nine times seven" is 9 * 7)."""
    text = words_to_digits(expression.strip().lower())
    for pattern, replacement in _REWRITES:
        text = re.sub(pattern, replacement, text)
    return " ".join(text.split())


# -- showing it -------------------------------------------------------------------------------

_SYMBOLS = {ast.Add: "+", ast.Sub: "−", ast.Mult: "×", ast.Div: "÷", ast.FloorDiv: "//", ast.Mod: "mod", ast.Pow: "^"}
_PRECEDENCE = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2, ast.FloorDiv: 2, ast.Mod: 2, ast.Pow: 4}


def show_expression(node: ast.AST, parent: int = 0, right: bool = False) -> str:
    """The tree written for people: 17 × 23, √144, 15% × 80, 2^10."""
    if isinstance(node, ast.Expression):
        return show_expression(node.body)
    if isinstance(node, ast.Constant):
        if isinstance(node.value, float) and "e" in repr(node.value):  # 1e308 as written, not 309 digits
            mantissa, exponent = repr(node.value).split("e")
            return f"{_trim(mantissa)} × 10^{int(exponent)}"
        return show_number(Fraction(repr(node.value)))[0] if isinstance(node.value, float) else str(node.value)
    if isinstance(node, ast.Name):
        return "π" if node.id == "pi" else node.id
    if isinstance(node, ast.UnaryOp):
        inner = show_expression(node.operand, 3)
        text = ("-" if isinstance(node.op, ast.USub) else "+") + inner
        return f"({text})" if parent >= 3 or right else text
    if isinstance(node, ast.BinOp):
        level = _PRECEDENCE.get(type(node.op), 2)
        power = isinstance(node.op, ast.Pow)
        left = show_expression(node.left, level + (1 if power else 0))
        right_text = show_expression(node.right, level + (0 if power else 1), right=True)
        text = f"{left}^{right_text}" if power else f"{left} {_SYMBOLS[type(node.op)]} {right_text}"
        return f"({text})" if level < parent or (level == parent and right) else text
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        args = [show_expression(a) for a in node.args]
        name = node.func.id
        if name == "pct" and len(args) == 1:
            return f"{args[0]}%"
        simple = len(args) == 1 and isinstance(node.args[0], ast.Constant | ast.Name)
        if name in ("sqrt", "cbrt") and len(args) == 1:
            text = ("√" if name == "sqrt" else "∛") + (args[0] if simple else f"({args[0]})")
            return f"({text})" if parent >= 4 else text  # (√2)^2, not √2^2
        if name == "factorial" and simple:
            return f"{args[0]}!"
        return f"{name}({', '.join(args)})"
    return ast.unparse(node)


def show_number(value: Fraction | float) -> tuple[str, bool]:
    """The number as shown, and whether it is exact (an exact fraction like 1/3 is shown rounded, marked ≈)."""
    if isinstance(value, Fraction) and value.denominator == 1:
        number = value.numerator
        return (f"{number:,}" if abs(number) >= 10**5 and abs(number) < 10**21 else str(number)), True
    if isinstance(value, Fraction):
        decimals = _terminating(value)
        if decimals is not None and decimals <= 15:
            return _trim(f"{float(value):.{decimals}f}"), True
    number = float(value)
    if number == 0:
        return "0", isinstance(value, Fraction)
    shown = f"{number:.{SIGNIFICANT}g}"
    if "e" in shown:
        mantissa, exponent = shown.split("e")
        shown = f"{_trim(mantissa)} × 10^{int(exponent)}"
    else:
        shown = _trim(shown)
    return shown, False


def _terminating(value: Fraction) -> int | None:
    """How many decimals a fraction needs, when its decimal expansion ends (den = 2^a 5^b)."""
    den, twos, fives = value.denominator, 0, 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    return max(twos, fives) if den == 1 else None


def _trim(text: str) -> str:
    return text.rstrip("0").rstrip(".") if "." in text else text


# -- the tool ---------------------------------------------------------------------------------


def evaluate(expression: str) -> tuple[str, Fraction | float]:
    """(the expression as shown, its value); ToolError with a sentence when it cannot be computed."""
    text = normalize(expression)
    if not text:
        raise ToolError("Give me something to calculate, e.g. 17 * 23.")
    if len(text) > MAX_EXPRESSION:
        raise ToolError(f"That expression is too long; keep it under {MAX_EXPRESSION} characters.")
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError):  # ValueError: a NUL or a lone surrogate, which no arithmetic holds
        raise ToolError(
            f"I cannot read {expression.strip()!r} as arithmetic; write it like 17 * 23 or 15% of 80."
        ) from None
    try:
        value = _Evaluator().eval(text, previously_parsed=tree.body)
    except ZeroDivisionError:
        raise ToolError("Division by zero has no answer.") from None
    except _Refused as refusal:
        raise ToolError(str(refusal)) from None
    except (OverflowError, simpleeval.NumberTooHigh):
        raise ToolError("The result is too large to compute.") from None
    except (simpleeval.NameNotDefined, simpleeval.FunctionNotDefined) as exc:
        what = getattr(exc, "name", None) or getattr(exc, "func_name", None) or "a word"
        raise ToolError(f"I don't know {what!r} in arithmetic; use numbers, + - × ÷ ^ %, and sqrt.") from None
    except (simpleeval.InvalidExpression, TypeError, ValueError):
        raise ToolError(f"I cannot compute {expression.strip()!r}; write it like 17 * 23 or 15% of 80.") from None
    return show_expression(tree), _exact(value)


@tool("calculate")
def calculate(ctx: ToolContext, expression: str) -> ToolResult:
    """Exact arithmetic: + - * / ^, percentages, square roots, in digits or words.

    Args:
      expression: the arithmetic, e.g. "17 * 23", "15% of 80", "sqrt(144)", "2^10"
    """
    shown, value = evaluate(expression)
    result, exact = show_number(value)
    text = f"{shown} {'=' if exact else '≈'} {result}"
    data = {"expression": shown, "result": result, "exact": exact}
    if isinstance(value, Fraction) and value.denominator == 1:
        data["value"] = value.numerator
    elif isinstance(value, float) or abs(value) < 10**300:
        data["value"] = float(value)
    return ToolResult("calculate", {"expression": expression}, data, text, f"calculate · {_short(result)}")


def _short(text: str) -> str:
    return text if len(text) <= 24 else text[:21] + "…"


if __name__ == "__main__":
    from assistant.tools import on_command_line

    sys.exit(on_command_line(calculate, expression=" ".join(sys.argv[1:])))

"""Tool calls as text: the format a student is trained to emit, and a tolerant reader of it.

The format is Qwen's and Hermes': `<tool_call>{"name": "calculate", "arguments": {...}}</tool_call>`.
Small models bend it: text around the call, single quotes, trailing commas, a closing tag or
brace cut off by the token limit, `"arguments"` as a JSON string. `parse_call` reads all of
those and returns None when there is no call; whether a call may run is `validate()`'s job.

    python -m assistant.tools.calls 'sure <tool_call>{"name": "clock", "arguments": {},}'
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field

from assistant.tools import ToolError

CALL_OPEN, CALL_CLOSE = "<tool_call>", "</tool_call>"

_OPEN = re.compile(r"<\s*tool_call\s*>", re.I)
_CLOSE = re.compile(r"<\s*/\s*tool_call\s*>", re.I)
_WORDS = {"true": "true", "false": "false", "null": "null", "True": "true", "False": "false", "None": "null"}


@dataclass(frozen=True)
class ToolCall:
    name: str
    arguments: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"name": self.name, "arguments": dict(self.arguments)}


def format_call(call: ToolCall) -> str:
    """The canonical text of a call, as a student learns to emit it."""
    body = json.dumps({"name": call.name, "arguments": call.arguments}, ensure_ascii=False)
    return f"{CALL_OPEN}{body}{CALL_CLOSE}"


def has_call(text: str) -> bool:
    """Whether the text tries to make a call (an opening tag), readable or not."""
    return bool(_OPEN.search(text or ""))


def inside_call(text: str) -> bool:
    """Whether `text` ends inside a call: one opened and not closed, or what may be the start of its tag."""
    opened = list(_OPEN.finditer(text))
    if opened:
        return not _CLOSE.search(text, opened[-1].end())
    tail = text[text.rfind("<") :] if "<" in text else ""
    return bool(tail) and CALL_OPEN.startswith(tail)


def parse_call(text: str, strict: bool = False) -> ToolCall | None:
    """The first call in `text`, or None when there is none.

    A text that opens a call the reader cannot make sense of gives None too, or, with
    `strict`, a ToolError whose sentence the user can be shown.
    """
    text = text or ""
    opened = _OPEN.search(text)
    if opened:
        rest = text[opened.end() :]
        closed = _CLOSE.search(rest)
        body = rest[: closed.start()] if closed else rest
    else:
        # a bare call object with nothing around it (a fence at most): small models drop the tags
        bare = re.sub(r"^```(?:json)?\s*|\s*```$", "", text.strip())
        if not (bare.startswith("{") and bare.endswith("}") and re.search(r"[\"']name[\"']", bare)):
            return None
        body = bare
    call = _read(body)
    if call is None and (strict and opened):
        raise ToolError("The model's tool call could not be read; ask again in other words.")
    return call


def _read(body: str) -> ToolCall | None:
    start = body.find("{")
    if start < 0:
        return None
    data = _loads(_balanced(body[start:]))
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("function"), dict):  # {"function": {"name", "arguments"}}, OpenAI's nesting
        data = data["function"]
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        return None
    arguments = data.get("arguments", data.get("parameters", data.get("args", {})))
    if isinstance(arguments, str):  # OpenAI-style: the arguments as a JSON string
        arguments = _loads(arguments) if arguments.strip() else {}
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, dict):
        return None
    return ToolCall(name.strip(), arguments)


def _balanced(text: str) -> str:
    """The first {...} object of `text`; one cut off by the token limit is closed."""
    stack: list[str] = []  # the closers of the brackets open so far
    quote, escaped = "", False
    for i, ch in enumerate(text):
        if quote:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]" and stack:
            stack.pop()
            if not stack:
                return text[: i + 1]
    if quote:
        return ""  # cut off inside a value: what it would have said is not guessed
    # cut off between values (the closing tag and braces lost to the token limit): close every open bracket
    return text.rstrip().rstrip(",") + "".join(reversed(stack))


def _loads(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    try:
        return json.loads(_to_json(text))
    except (json.JSONDecodeError, ValueError):
        return None


def _to_json(text: str) -> str:
    """Loose JSON as small models write it (single quotes, bare keys, Python words, trailing commas) made strict."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "\"'":
            j, chars = i + 1, []
            while j < n and text[j] != ch:
                if text[j] == "\\" and j + 1 < n:
                    nxt = text[j + 1]
                    chars.append({"n": "\n", "t": "\t", '"': '"', "'": "'", "\\": "\\"}.get(nxt, "\\" + nxt))
                    j += 2
                    continue
                chars.append(text[j])
                j += 1
            out.append(json.dumps("".join(chars), ensure_ascii=False))
            i = j + 1
        elif ch.isalpha() or ch == "_":
            j = i
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            word = text[i:j]
            if word in _WORDS:
                out.append(_WORDS[word])
            elif text[j:].lstrip().startswith(":"):
                out.append(json.dumps(word))  # a bare key
            else:
                raise ValueError(f"bare word {word!r}")
            i = j
        elif ch == ",":
            if re.match(r"\s*[}\]]", text[i + 1 :]):
                i += 1  # a trailing comma
                continue
            out.append(ch)
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


if __name__ == "__main__":
    found = parse_call(" ".join(sys.argv[1:]) or sys.stdin.read())
    print(format_call(found) if found else "no call")

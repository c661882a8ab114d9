"""The tool registry: what the assistant can do on this machine, as typed Python functions.

A tool is a function `fn(ctx: ToolContext, **arguments) -> ToolResult` registered with
`@tool("name")`. Its declaration (name, description, JSON-schema parameters) is derived once
from the signature and docstring by google-genai (no client needed) and serves everything:
the student's system prompt, Gemini's function_declarations, validation here, and
`apprentice tools`. A model only *chooses* a call; `run()` validates it against that
declaration and executes it. Nothing but a registered tool can run, and no tool opens a
network connection or a shell.

    python -m assistant.tools        # print the declarations as JSON
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import importlib
import importlib.util
import inspect
import json
import math
import os
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from assistant.errors import ApprenticeError
from assistant.render import whole

if TYPE_CHECKING:
    from assistant.config import Settings
    from assistant.store import Store

# The modules whose import registers tools; one missing from a checkout is skipped, never guessed at.
TOOL_MODULES = ("clock", "calculate", "convert", "note", "timers")

# Tools that only compute or read the clock: they change nothing and read neither the store nor the
# settings, so a call to one can be run before anyone decides to show what it shows (`trial_run`).
COMPUTING = frozenset({"calculate", "convert", "clock"})

_REGISTRY: dict[str, Tool] = {}


class ToolError(ApprenticeError):
    """A call that cannot run: unknown tool, bad or out-of-range argument. The message is one sentence for the user."""

    exit_code = 2


@dataclass(frozen=True)
class ToolContext:
    store: Store  # assistant.store.Store (SQLite)
    now: dt.datetime  # aware datetime in the user's zone (tests pass a fixed one)
    settings: Settings | None = None

    @classmethod
    def here(cls, store: Store, settings: Settings | None = None) -> ToolContext:
        """A context at this machine's current time, in its local zone."""
        return cls(store=store, now=dt.datetime.now().astimezone(), settings=settings)


@dataclass
class ToolResult:
    name: str
    arguments: dict  # validated, normalized arguments that ran
    data: dict  # JSON-able result (what `ask --json` shows as action.result)
    text: str  # the answer shown to the user, from the tool's own template
    badge: str  # short label for the chat app, e.g. "timer · 10 min"

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Tool:
    name: str
    function: Callable
    declaration: dict  # {"name", "description", "parameters": JSON schema (type object)}
    local_only: bool = False  # True for "note": a query about notes is never routed to the teacher
    ready: Callable[..., None] | None = None  # the checks an acting call passes before it acts (`ready`)
    needs: tuple[str, ...] = ()  # arguments of which a call holds one, to say when it acts (constrain.py)

    @property
    def parameters(self) -> dict:
        return self.declaration["parameters"]["properties"]

    @property
    def required(self) -> list[str]:
        return self.declaration["parameters"].get("required", [])


def tool(
    name: str,
    *,
    local_only: bool = False,
    limits: dict[str, tuple[float | None, float | None]] | None = None,
    ready: Callable[..., None] | None = None,
    needs: tuple[str, ...] = (),
):
    """Register a typed function as a tool.

    `limits` states ranges the schema cannot express from types alone, {"minutes": (0, 10080)};
    they become `minimum`/`maximum` in the declaration, so the teacher sees them and validation
    enforces them. `ready(**arguments)`, for a tool that acts, raises the ToolError its call would
    meet whatever the store holds and whenever it runs ("say when to remind you"); `run()` asks it
    before the tool acts, and `ready()` asks it alone. `needs` names the arguments of which a call holds
    at least one to act at all (a reminder's when: minutes, hours, seconds, time or an action);
    assistant/tools/constrain.py holds a student's call to it when the user said a number.
    """

    def register(fn: Callable) -> Callable:
        if name in _REGISTRY and _REGISTRY[name].function is not fn:
            raise ValueError(f"two tools are named {name!r}")
        _REGISTRY[name] = Tool(name, fn, _declare(name, fn, limits or {}), local_only, ready, needs)
        return fn

    return register


def _declare(name: str, fn: Callable, limits: dict) -> dict:
    """The declaration of `fn`, from the cache of derived declarations when this exact source was seen before.

    Importing google-genai costs about a second, which a private-mode `apprentice ask` would otherwise pay
    on every run just to read seven schemas; the cache is keyed by everything the derivation reads
    (name, signature, docstring, limits, the google-genai version), so an edit derives again.
    """
    signature = inspect.signature(fn, eval_str=True)
    params = list(signature.parameters.values())[1:]  # the first is ctx: the program's, never a model's
    key = _cache_key(name, params, fn.__doc__ or "", limits)
    cached = _read_cache().get(key)
    if cached is not None:
        return cached
    declaration = _derive(name, fn, signature, params, limits)
    _write_cache(key, declaration)
    return declaration


def _cache_key(name: str, params: list, doc: str, limits: dict) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        genai_version = version("google-genai")
    except PackageNotFoundError:
        genai_version = "?"
    shape = [name, [str(p) for p in params], doc, sorted((k, list(v)) for k, v in limits.items()), genai_version]
    return hashlib.sha256(json.dumps(shape).encode()).hexdigest()[:32]


def _cache_path():
    from assistant import config

    return config.cache_dir() / "tool-declarations.json"


@functools.cache
def _read_cache() -> dict:
    try:
        return json.loads(_cache_path().read_text())
    except (OSError, ValueError):
        return {}


def _write_cache(key: str, declaration: dict) -> None:
    """Add one declaration to the cache file, atomically: processes starting together never see half a file."""
    cache = _read_cache()
    cache[key] = declaration
    path = _cache_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        on_disk = json.loads(path.read_text()) if path.exists() else {}
        temporary = path.with_name(f".{path.name}.{os.getpid()}")
        temporary.write_text(json.dumps({**on_disk, **cache}))
        os.replace(temporary, path)
    except (OSError, ValueError):
        pass  # a read-only cache only costs the derivation next time


def _derive(name: str, fn: Callable, signature: inspect.Signature, params: list, limits: dict) -> dict:
    """The declaration google-genai derives from `fn` without its ctx parameter, as a plain dict."""
    from google.genai import types

    # google-genai reads the signature and the docstring; a wrapper with only what a model fills in
    def shape(**kwargs):  # pragma: no cover - never called
        raise NotImplementedError

    shape.__name__ = name
    shape.__doc__ = _summary(fn.__doc__ or "")
    shape.__signature__ = signature.replace(parameters=params, return_annotation=dict)
    shape.__annotations__ = {**{p.name: p.annotation for p in params}, "return": dict}
    declared = types.FunctionDeclaration.from_callable_with_api_option(
        callable=shape, api_option="GEMINI_API", use_json_schema=True
    )
    schema = declared.parameters_json_schema or {"type": "object", "properties": {}}
    properties = {}
    for key, prop in schema.get("properties", {}).items():
        properties[key] = _plain(prop)
    for key, text in _arg_docs(fn.__doc__ or "").items():
        if key in properties:
            properties[key]["description"] = text
    for key, (low, high) in limits.items():
        if key not in properties:
            raise ValueError(f"limit on unknown parameter {key!r} of {name}")
        if low is not None:
            properties[key]["minimum"] = low
        if high is not None:
            properties[key]["maximum"] = high
    parameters = {"type": "object", "properties": properties, "required": list(schema.get("required", []))}
    return {"name": name, "description": declared.description or "", "parameters": parameters}


def _plain(prop: dict) -> dict:
    """`X | None = None` comes as anyOf [X, null]: an optional X, which `required` already says."""
    prop = dict(prop)
    options = prop.pop("anyOf", None)
    if options:
        kept = [o for o in options if o.get("type") != "null"]
        if len(kept) == 1:
            prop = {**kept[0], **prop}
    if prop.get("default", 0) is None:
        del prop["default"]
    prop.pop("title", None)
    return prop


def _summary(doc: str) -> str:
    """The docstring up to its Args: section, on one line: what the tool does, for every model."""
    head = re.split(r"^\s*Args:\s*$", inspect.cleandoc(doc), maxsplit=1, flags=re.M)[0]
    return " ".join(head.split())


def _arg_docs(doc: str) -> dict[str, str]:
    """Google-style `Args:` lines, {"name": "description"}."""
    parts = re.split(r"^\s*Args:\s*$", inspect.cleandoc(doc), maxsplit=1, flags=re.M)
    if len(parts) < 2:
        return {}
    found: dict[str, str] = {}
    last = None
    for line in parts[1].splitlines():
        match = re.match(r"^\s{2,}(\w+)(?:\s*\([^)]*\))?:\s*(.*)$", line)
        if match:
            last = match.group(1)
            found[last] = match.group(2).strip()
        elif last and line.strip() and not re.match(r"^\S", line):
            found[last] += " " + line.strip()
        elif re.match(r"^\S", line):  # a new section (Returns:, Raises:)
            break
    return found


def tools() -> dict[str, Tool]:
    """Every registered tool, by name, in the order of TOOL_MODULES and, within a module, of its source.

    The order is the student's system prompt, so it must not hang on which module a command happened to
    import first: a student taught by `apprentice distill` under one tool list and asked by `apprentice
    ask` under another is asked in words it never learned."""
    for module in TOOL_MODULES:
        full = f"{__name__}.{module}"
        if importlib.util.find_spec(full) is not None:
            importlib.import_module(full)
    return {t.name: t for t in sorted(_REGISTRY.values(), key=_module_rank)}


def _module_rank(t: Tool) -> int:
    """Where the module that registered `t` stands in TOOL_MODULES (any other module after them all);
    `sorted` is stable, so a module's own tools keep the order they are defined in."""
    module = t.function.__module__.removeprefix(f"{__name__}.")
    return TOOL_MODULES.index(module) if module in TOOL_MODULES else len(TOOL_MODULES)


def declarations() -> list[dict]:
    """The declarations, for Gemini's function_declarations and `apprentice tools`."""
    return [t.declaration for t in tools().values()]


def gemini_tool():
    """The declarations as one google-genai `types.Tool`, the same dicts the student and validation use."""
    from google.genai import types

    return types.Tool(
        function_declarations=[
            types.FunctionDeclaration(
                name=d["name"], description=d["description"], parameters_json_schema=d["parameters"]
            )
            for d in declarations()
        ]
    )


def local_only(name: str) -> bool:
    """Whether a call to this tool must stay on this machine (notes), in any mode."""
    found = tools().get(name)
    return bool(found and found.local_only)


def student_prompt() -> str:
    """The tool list and the call format, compact: it sits in every system prompt of a small student."""
    from assistant.tools.calls import CALL_CLOSE, CALL_OPEN

    listed = "; ".join(f"{t.name}({', '.join(t.parameters)})" for t in tools().values())
    return f'Tools: {listed}.\nTo use a tool, reply only {CALL_OPEN}{{"name": "...", "arguments": {{...}}}}{CALL_CLOSE}'


def validate(name: str, arguments: dict) -> dict:
    """The arguments checked against the declaration and normalized ("10" -> 10); ToolError if they cannot run."""
    found = tools().get(name)
    if found is None:
        known = ", ".join(sorted(tools()))
        raise ToolError(f"There is no tool called {name!r}; the tools are {known}.")
    if not isinstance(arguments, dict):
        raise ToolError(f"The arguments of {name} must be a JSON object of names and values.")
    properties = found.parameters
    clean: dict[str, Any] = {}
    for key, value in arguments.items():
        if key not in properties:
            allowed = ", ".join(properties) or "none"
            raise ToolError(f"{name} has no argument {key!r}; its arguments are: {allowed}.")
        if value is None or (isinstance(value, str) and not value.strip()):
            continue  # left out: the tool's default applies, or `required` below says it is missing
        clean[key] = _check(name, key, value, properties[key])
    for key in found.required:
        if key not in clean:
            raise ToolError(f"{name} needs the argument {key!r}.")
    return clean


def _check(tool_name: str, key: str, value: Any, schema: dict) -> Any:
    kind = schema.get("type")
    where = f"{key!r} of {tool_name}"
    if kind == "integer":
        number = _number(value, where, "a whole number")
        if number != int(number):
            raise ToolError(f"The argument {where} must be a whole number, not {value!r}.")
        value = int(number)
    elif kind == "number":
        value = _number(value, where, "a number")
        if value == int(value) and abs(value) < 2**53:
            value = int(value)
    elif kind == "boolean":
        if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "false", "no", "0"):
            value = value.strip().lower() in ("true", "yes", "1")
        elif not isinstance(value, bool):
            raise ToolError(f"The argument {where} must be true or false, not {value!r}.")
    elif kind == "string":
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise ToolError(f"The argument {where} must be text, not {json.dumps(value)}.")
        value = whole(str(value)).strip()  # before any tool keeps the text
    if "enum" in schema:
        choices = {str(c).lower(): c for c in schema["enum"]}
        if str(value).lower() not in choices:
            raise ToolError(
                f"The argument {where} must be one of {', '.join(map(str, schema['enum']))}, not {value!r}."
            )
        value = choices[str(value).lower()]
    low, high = schema.get("minimum"), schema.get("maximum")
    if low is not None and value < low:
        raise ToolError(f"The argument {where} must be at least {low:g}, not {value:g}.")
    if high is not None and value > high:
        raise ToolError(f"The argument {where} must be at most {high:g}, not {value:g}.")
    return value


def _number(value: Any, where: str, kind: str) -> float:
    if isinstance(value, bool):
        raise ToolError(f"The argument {where} must be {kind}, not {value!r}.")
    if isinstance(value, int | float):
        number = float(value)
    else:
        try:
            number = float(str(value).strip().replace(",", "").replace("_", ""))
        except ValueError:
            raise ToolError(f"The argument {where} must be {kind}, not {value!r}.") from None
    if not math.isfinite(number):
        raise ToolError(f"The argument {where} must be a finite number, not {value!r}.")
    return number


def run(name: str, arguments: dict, ctx: ToolContext) -> ToolResult:
    """Validate a call, then run it here; nothing that is not a registered tool can run."""
    clean = _ready(name, arguments)
    result = tools()[name].function(ctx, **clean)
    if not isinstance(result, ToolResult):  # a tool's own bug, never a model's doing
        raise TypeError(f"tool {name} returned {type(result).__name__}, not ToolResult")
    return result


def trial_run(name: str, arguments: dict) -> ToolResult | ToolError | None:
    """Run a call to one of the COMPUTING tools now: its result, or the ToolError saying why it cannot
    run. None for a call to any other tool, which is never run before it is meant to act."""
    if name not in COMPUTING:
        return None
    try:
        return run(name, arguments, ToolContext(None, dt.datetime.now().astimezone()))
    except ToolError as exc:
        return exc


def ready(name: str, arguments: dict) -> ToolError | None:
    """Why a call could not run whatever the store holds and whenever it runs, without running it
    (a reminder with no time or delay, a timer of no length): the ToolError, else None. A computing
    call is tried whole instead (`trial_run`)."""
    try:
        _ready(name, arguments)
    except ToolError as exc:
        return exc
    return None


def _ready(name: str, arguments: dict) -> dict:
    """The validated arguments, once the tool's own `ready` check passed them; ToolError if not."""
    clean = validate(name, arguments)
    check = tools()[name].ready
    if check is not None:
        check(**clean)
    return clean


def on_command_line(fn: Callable, **arguments) -> int:
    """Run a tool's function from its module's command line (`python -m assistant.tools.calculate "17 * 23"`),
    on this machine's store and clock: its answer printed, or its refusal as a sentence, exit status 1.
    `-h` or `--help` prints the module's own description and runs nothing (no note of "--help")."""
    from assistant.store import Store

    if help_asked():
        return 0
    try:
        print(fn(ToolContext.here(Store()), **arguments).text)
    except ToolError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


def help_asked() -> bool:
    """Whether a tool's module was run with `-h` or `--help`; if so, its description (the module's
    docstring, with an example) is printed."""
    if not {"-h", "--help"} & set(sys.argv[1:]):
        return False
    print(inspect.cleandoc(sys.modules["__main__"].__doc__ or ""))
    return True


def main() -> None:
    print(json.dumps(declarations(), indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()

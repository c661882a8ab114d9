"""Constrained decoding of tool calls: inside a call, the student can only name a registered tool and its arguments.

A distilled student sometimes invents a tool ("water", "move_car") or an argument the tool does
not have (calculate given "value"); such a call never runs, and the user gets a refusal. Like
llama.cpp's grammars or lm-format-enforcer, a logits processor (mlx-lm's `logits_processors`)
watches the text generated so far and, once it reads `<tool_call>{"name": "`, allows only tokens
that keep the name a prefix of a registered tool's name or close it with `"`; inside
`"arguments": {` each key is held to the chosen tool's parameters in the same way, and `}` may
close once the call holds every argument its tool requires ("350 degrees Fahrenheit" as
convert(value=350) could not run). Values stay free: the tool's validation and the tolerant parser
judge them, except that a string value may only be followed by what JSON allows there, a `,` or the
`}` (a model told it cannot close goes on with `"feed the cat" + 50 * 1000 + " minutes"` otherwise).
Outside a call nothing changes, so an ordinary answer is the same token for token.

A call that acts must say when: a timer its length, an alarm its time, a reminder either (the tool's
`needs`). A small student often closes one too early ("Remind me in 50 minutes to feed the cat" as
reminder(text="feed the cat")), a call its tool can only answer with "say when to remind you";
made to go on, it writes the `"minutes": 50` it left out. So when the user said a number
(`says_when`), the `}` that would close such a call is not allowed until one of those arguments is
there, and after a string value the `,` that begins the next argument is the only way on. When they
said none, the call may close without one, and the tool asks when.

Nor may any call close while it leaves out what one more of its arguments could hold
(`standing.left_out`): a number the user said ("um timer, one hour and twenty minutes" as hours=1),
or the days counted before or after a day named ("What day comes after Tuesday?" as
clock(date="Tuesday")) or on from the one supposed to be today. Such a call could not stand (the
cascade's checks send it to the teacher); held open, the student writes the argument, and every
check judges what it wrote. A bare value (a number) then ends with the `,`, unless it may still grow
into the number left out ("1" of "10"). The call is read from the answer so far at each token where
a `}` could close it, so this costs a parse and the checks on those few tokens.

A count of days begins the way the user counted (`grounding.way_counted`): with a `-` for "3 days
ago" or "the day before Friday", without one for "in 9 days" or "after". A small student often writes
days=1 for "What day comes before Wednesday?"; the check that would send that call away reads the way
from the same words. So the sign is the code's decision, not the model's, and unlike a name the mask
chose, the model's doubt about it is not counted against the answer. A conversion's value begins with
a `-` in the same way when the one number the user said was below zero ("it's minus ten celsius out").

A conversion's units are the user's too (`grounding.said_units`): `from_unit` is written as they wrote
the unit after its value, `to_unit` as the one they asked for, where they said one. A small student
swaps them ("How many inches is 178 centimeters?" from inches) or reads another word as the unit
("7 ounces of chocolate" from "chocolate"), a call the cascade would send away. As with the sign, the
model's doubt about a unit the code chose is not counted against the answer.

It stays cheap: the text of every vocabulary id is decoded once per tokenizer (`Vocabulary`,
kept on the Student), a token is checked by running this small grammar over its text (a token
such as `clock", "arguments": {"` may close the name and open a key: it is allowed when every
character of it fits), and only the few tokens that can matter in a state are checked (in a
free stretch, only those holding a `"`, `{` or `,` before their last character can reach a
constrained one, or a `}` close the call). Each state's mask is computed once and cached; applying it
is one `mx.where`. The log-probability a token gets is still the model's own
(`CallConstraint.unmasked`): the router reads it.

APPRENTICE_CONSTRAIN_CALLS=0 turns it off.

    python -m assistant.tools.constrain CHECKPOINT '<tool_call>{"name": "c'   # the tokens allowed next
"""

from __future__ import annotations

import functools
import itertools
import os
import re
import sys
from collections import OrderedDict
from pathlib import Path

from assistant.errors import ApprenticeError
from assistant.tools.calls import CALL_OPEN

SETTING = "APPRENTICE_CONSTRAIN_CALLS"
HELD = "\0held"  # a need no argument meets: the call may not close (`Grammar.held_open`)
WHITESPACE = " \t\n\r"  # JSON's
COUNT_BEGINS = re.compile(r'"(?:days|months)"\s*:\s*$')  # the answer so far ends where a count of days begins
VALUE_BEGINS = re.compile(r'"value"\s*:\s*$')  # or where a conversion's value begins


def _pattern(template: str) -> tuple[tuple[str, bool], ...]:
    """A literal as (character, whether whitespace may come before it); a space in `template` marks where it may."""
    return tuple((ch, template[i - 1 : i] == " ") for i, ch in enumerate(template) if ch != " ")


# What comes between the opening tag and the name, and between the name and the first key
HEAD = _pattern(' { "name" : "')
SEPARATOR = _pattern(' , "arguments" : {')

# States of the grammar, as tuples (hashable: each state's mask is cached):
#   ("out", partial)            outside a call; `partial` is the end of the text that may begin CALL_OPEN
#   ("head", i)                 after CALL_OPEN, HEAD[:i] read                                   free
#   ("name", prefix)            inside the name's quotes                                         constrained
#   ("sep", name, i)            after the name, SEPARATOR[:i] read                               free
#   ("kstart", name, used)      where a key or the closing `}` goes                              constrained
#   ("key", name, used, prefix) inside a key's quotes                                            constrained
#   ("colon", name, used)       after a key, before its `:`                                      constrained
#   ("value", name, used, depth, quote, escaped)  a value, read only to find where it ends       free
#   ("after", name, used)       after a string value: only `,` or `}` (and whitespace) may follow  constrained
#   ("minus", name, used)       a count of days the user counted back: it begins with `-`          constrained
#   ("unsigned", name, used)    a count of days the user counted on: it does not begin with `-`   free
#   ("done",)                   after the arguments, or a call in another shape: never constrained
DONE = ("done",)
OUTSIDE = ("out", "")
CONSTRAINED = frozenset({"name", "kstart", "key", "colon", "after", "minus", "copy"})
SIGNS = frozenset({"minus", "unsigned"})  # the states that hold a count of days to the way the user counted
# the answer so far ends in a conversion's unit, begun or not yet: (the key, the space after its colon, the
# string written so far)
UNIT_BEGUN = re.compile(r'"(from_unit|to_unit)"\s*:(\s*)("[^"\\]*)?$')
# the states whose mask is read from the user's words, as a check reads them: the model's doubt is no doubt
READ_FROM_QUERY = SIGNS | {"copy"}


def enabled() -> bool:
    """Whether calls are constrained: APPRENTICE_CONSTRAIN_CALLS, on unless set to 0 (or false, no, off)."""
    raw = os.environ.get(SETTING, "").strip().lower()
    if raw in ("", "1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ApprenticeError(f"{SETTING} is {raw!r}: set it to 1 (constrain tool calls, the default) or 0, or unset it.")


class Grammar:
    """The call format over the registered tools: `step` reads text from a state and says where it ends up.
    `needs`: for a tool, the arguments of which its call must hold one before it may close; `required`: those
    it must hold every one of (its schema's), or it could not run."""

    def __init__(
        self,
        tools: dict[str, list[str]],
        needs: dict[str, tuple[str, ...]] | None = None,
        required: dict[str, tuple[str, ...]] | None = None,
    ):
        self.tools = {name: tuple(params) for name, params in tools.items()}
        self.needs = {name: frozenset(keys) for name, keys in (needs or {}).items() if keys}
        self.required = {name: frozenset(keys) for name, keys in (required or {}).items() if keys}
        # what the masks cached for this grammar depend on
        needed, whole = (
            tuple(sorted((name, tuple(sorted(keys))) for name, keys in held.items()))
            for held in (self.needs, self.required)
        )
        self.key = (tuple(sorted(self.tools.items())), needed, whole)
        self._held: dict[str, Grammar] = {}

    def held_open(self, name: str) -> Grammar:
        """This grammar, with a call to `name` not allowed to close at all: it must go on with another argument."""
        if name not in self._held:
            self._held[name] = Grammar(self.tools, {**self.needs, name: (HELD,)}, self.required)
        return self._held[name]

    @classmethod
    def from_registry(cls, timed: bool = False) -> Grammar:
        """The registered tools; `timed`: each call held to its tool's `needs`."""
        return _registry_grammar(timed)

    def closes(self, name: str, used: frozenset) -> bool:
        """Whether a call to `name` with the arguments `used` may end here."""
        needs = self.needs.get(name)
        return self.required.get(name, frozenset()) <= used and (not needs or bool(needs & used))

    def words(self, state: tuple) -> tuple[str, ...]:
        """The words a name state may spell (tool names), or a key state (the chosen tool's unused parameters)."""
        if state[0] == "name":
            return tuple(self.tools)
        return tuple(p for p in self.tools.get(state[1], ()) if p not in state[2])

    def step(self, state: tuple, text: str) -> tuple | None:
        """The state after `text`, or None when some character of it breaks the call's name or keys."""
        for ch in text:
            state = self._char(state, ch)
            if state is None or state is DONE:
                return state
        return state

    def _char(self, state: tuple, ch: str) -> tuple | None:
        kind = state[0]
        if kind == "out":
            partial = state[1] + ch
            if partial == CALL_OPEN:
                return ("head", 0)
            while partial and not CALL_OPEN.startswith(partial):
                partial = partial[1:]
            return ("out", partial)
        if kind == "head":
            nxt = _literal(HEAD, state[1], ch)
            if nxt is None:
                return DONE  # a call in another shape ({"function": ...}): the parser's business, not ours
            return ("name", "") if nxt == len(HEAD) else ("head", nxt)
        if kind == "name":
            prefix = state[1]
            if ch == '"':
                return ("sep", prefix, 0) if prefix in self.tools else None
            prefix += ch
            return ("name", prefix) if any(n.startswith(prefix) for n in self.tools) else None
        if kind == "sep":
            nxt = _literal(SEPARATOR, state[2], ch)
            if nxt is None:
                return DONE  # no arguments object (`"}`): nothing more to hold to the tool
            return ("kstart", state[1], frozenset()) if nxt == len(SEPARATOR) else ("sep", state[1], nxt)
        if kind == "kstart":
            if ch == "}":
                return DONE if self.closes(state[1], state[2]) else None
            if not self.words(state):
                # every parameter given: only the closing brace is left. Whitespace is not allowed here either,
                # or a model that wants another key's ` "` could only write spaces, on and on.
                return None
            if ch in WHITESPACE:
                return state
            return ("key", state[1], state[2], "") if ch == '"' else None
        if kind == "key":
            _, name, used, prefix = state
            params = self.words(state)
            if ch == '"':
                return ("colon", name, used | {prefix}) if prefix in params else None
            prefix += ch
            return ("key", name, used, prefix) if any(p.startswith(prefix) for p in params) else None
        if kind == "colon":
            if ch in WHITESPACE:
                return state
            return ("value", state[1], state[2], 0, "", False) if ch == ":" else None
        if kind == "value":
            after = _value(state, ch)
            return None if after is DONE and not self.closes(state[1], state[2]) else after
        if kind == "copy":  # only ever a state to mask by: a string the user said, to be written as said
            _, rest, begun, name, used = state  # begun: 0 nothing after the colon, 1 a space, 2 the string
            if begun < 2 and ch in WHITESPACE:
                return ("copy", rest, 1, name, used)
            if ch != rest[0]:
                return None
            return ("copy", rest[1:], 2, name, used) if rest[1:] else ("after", name, used)
        if kind in SIGNS:  # only ever a state to mask by (`CallConstraint._grammar_here`)
            if ch in WHITESPACE:
                return state
            if (ch == "-") != (kind == "minus"):
                return None
            return self._char(("value", state[1], state[2], 0, "", False), ch)
        if kind == "after":
            if ch == ",":
                return ("kstart", state[1], state[2])
            if not self.closes(state[1], state[2]):
                return None  # not even whitespace: a model that wants `}` would write spaces, on and on
            if ch == "}":
                return DONE
            return state if ch in WHITESPACE else None
        return state  # done


@functools.cache
def _registry_grammar(timed: bool) -> Grammar:
    from assistant.tools import tools

    registered = tools()
    needs = {name: tool.needs for name, tool in registered.items()} if timed else None
    required = {name: tuple(tool.required) for name, tool in registered.items()}
    return Grammar({name: list(tool.parameters) for name, tool in registered.items()}, needs, required)


def says_when(query: str | None) -> bool:
    """Whether the user said a number ("in 50 minutes", "at 4:15 pm", "an hour"): then a timer, alarm or
    reminder call must say when it acts."""
    from assistant.tools.numbers import words_to_digits

    return bool(query) and any(ch.isdigit() for ch in words_to_digits(query))


def _literal(pattern: tuple, i: int, ch: str) -> int | None:
    """How much of `pattern` is read after `ch`, from `i` read; None when `ch` does not fit."""
    expected, spaced = pattern[i]
    if ch == expected:
        return i + 1
    if spaced and ch in WHITESPACE:
        return i
    return None


def _value(state: tuple, ch: str) -> tuple:
    """A value is free; it is read only to find the `,` that starts the next key or the `}` that ends the call.
    Strings in either quote are skipped, as the tolerant parser reads them."""
    _, name, used, depth, quote, escaped = state
    if quote:
        if escaped:
            return ("value", name, used, depth, quote, False)
        if ch == "\\":
            return ("value", name, used, depth, quote, True)
        if ch == quote and depth == 0:
            return ("after", name, used)  # a string value ends: JSON allows only `,` or `}` next
        return ("value", name, used, depth, "" if ch == quote else quote, False)
    if ch in "\"'":
        return ("value", name, used, depth, ch, False)
    if ch in "{[":
        return ("value", name, used, depth + 1, "", False)
    if ch in "}]":
        return DONE if depth == 0 else ("value", name, used, depth - 1, "", False)
    if ch == "," and depth == 0:
        return ("kstart", name, used)
    return state


class Vocabulary:
    """The text of every token of one tokenizer, decoded once, and the indexes that states look tokens up in.

    Only what plain text needs is made up front (which tokens could begin a call); the indexes a call
    needs are made at the first call, so an answer that makes none pays for neither."""

    def __init__(self, texts: list[str], tokenizer=None, opening: list[int] | None = None):
        self.tokenizer = tokenizer  # whose ids these are (the Student keeps one Vocabulary per tokenizer)
        self.texts = texts
        if opening is None:
            tails = tuple(CALL_OPEN[k:] for k in range(1, len(CALL_OPEN)))
            opening = [i for i, text in enumerate(texts) if CALL_OPEN in text or text.startswith(tails)]
        # the tokens that can take plain text into a call: those that finish a partial tag, or hold a whole one
        self.opening = opening
        self._indexes: tuple | None = None
        self._quiet: dict = {}
        self._masks: OrderedDict = OrderedDict()

    @classmethod
    def of(cls, tokenizer, cache: Path | None = None) -> Vocabulary:
        """The vocabulary of `tokenizer`, from `cache` when it holds one (decoding 49k tokens took about a
        tenth of a second of the first answer), else decoded and written there."""
        import pickle

        if cache is not None and cache.exists():
            try:
                # Apprentice's own file in the user's own cache, named by the tokenizer's files and libraries
                texts, opening = pickle.loads(cache.read_bytes())
                if len(texts) == len(tokenizer):
                    return cls(texts, tokenizer, opening)
            except Exception:  # torn, or from other libraries: decoded again below
                pass
        vocabulary = cls(token_texts(tokenizer), tokenizer)
        if cache is not None:
            try:
                cache.parent.mkdir(parents=True, exist_ok=True)
                partial = cache.with_name(f"{cache.name}.{os.getpid()}.partial")
                partial.write_bytes(pickle.dumps((vocabulary.texts, vocabulary.opening), pickle.HIGHEST_PROTOCOL))
                partial.replace(cache)
                kept = sorted(cache.parent.glob("*.texts"), key=lambda p: p.stat().st_mtime)
                for old in kept[:-4]:  # a few tokenizers side by side; older ones go
                    old.unlink(missing_ok=True)
            except OSError:  # a read-only or full disk: decoded again next time, nothing else changes
                pass
        return vocabulary

    def _index(self) -> tuple[dict, dict, list, list]:
        """(first character -> ids, first character after leading whitespace -> ids, whitespace-only ids, ids with
        a `"`, `{` or `,` before their last character or a `}` anywhere: the only way out of a free stretch),
        made once."""
        if self._indexes is None:
            first: dict[str, list[int]] = {}
            after_space: dict[str, list[int]] = {}
            blank, inner = [], []
            for i, text in enumerate(self.texts):
                if not text:
                    continue
                first.setdefault(text[0], []).append(i)
                stripped = text.lstrip(WHITESPACE)
                if stripped:
                    after_space.setdefault(stripped[0], []).append(i)
                else:
                    blank.append(i)
                head = text[:-1]
                if '"' in head or "{" in head or "," in head or "}" in text:  # `}` may close a call too early
                    inner.append(i)
            self._indexes = first, after_space, blank, inner
        return self._indexes

    def starting(self, prefix: str) -> list[int]:
        """Ids whose text starts with `prefix`."""
        texts = self.texts
        return [i for i in self._index()[0].get(prefix[0], ()) if texts[i].startswith(prefix)]

    def candidates(self, grammar: Grammar, state: tuple) -> list[int]:
        """A superset of the tokens whose allowance is in question in `state`."""
        kind = state[0]
        if kind in ("name", "key"):
            prefix, found = state[-1], set()
            for word in grammar.words(state):
                if word.startswith(prefix):
                    rest = word[len(prefix) :] + '"'
                    # the token ends inside the word, or closes it and goes on
                    found.update(i for i in self.starting(rest[0]) if rest.startswith(self.texts[i]))
                    found.update(self.starting(rest))
            return sorted(found)
        if kind == "out":
            return self.opening
        if kind == "done":
            return []
        _, after_space, blank, inner = self._index()
        if kind == "kstart":
            return blank + after_space.get('"', []) + after_space.get("}", [])
        if kind == "colon":
            return blank + after_space.get(":", [])
        if kind == "after":
            return blank + after_space.get(",", []) + after_space.get("}", [])
        if kind == "minus":  # not whitespace alone: a model that wants a digit would write spaces, on and on
            return after_space.get("-", [])
        if kind == "unsigned":
            return after_space.get("-", []) + inner
        if kind == "copy":
            if state[2] == 2:
                return self._index()[0].get(state[1][0], [])
            # whitespace alone once at most: a model that wants another unit would write spaces, on and on
            return (blank if state[2] == 0 else []) + after_space.get('"', [])
        return inner

    def quiet_outside(self, grammar: Grammar) -> bool:
        """Whether plain text needs no mask on its next token: no single token holds a whole opening tag, and
        after any part of one (`<tool`) no single token could finish the tag and go wrong inside the name."""
        if grammar.key not in self._quiet:
            states = [("out", CALL_OPEN[:i]) for i in range(len(CALL_OPEN))]
            self._quiet[grammar.key] = not any(CALL_OPEN in self.texts[i] for i in self.opening) and all(
                self._build(grammar, state, len(self.texts)) is None for state in states
            )
        return self._quiet[grammar.key]

    def mask(self, grammar: Grammar, state: tuple, size: int):
        """A boolean (size,) mx.array of the allowed tokens in `state`, or None when every token is allowed."""
        key = (grammar.key, state, size)
        if key in self._masks:
            self._masks.move_to_end(key)
            return self._masks[key]
        mask = self._build(grammar, state, size)
        self._masks[key] = mask
        if len(self._masks) > 256:  # a few calls' worth of states; each is one byte per vocabulary entry
            self._masks.popitem(last=False)
        return mask

    def _build(self, grammar: Grammar, state: tuple, size: int):
        import mlx.core as mx
        import numpy as np

        ids = [i for i in self.candidates(grammar, state) if i < size]
        if state[0] in CONSTRAINED:
            allowed = [i for i in ids if self.texts[i] and grammar.step(state, self.texts[i]) is not None]
            if not allowed:  # a vocabulary that cannot spell any valid continuation: leave the model alone
                return None
            keep = np.zeros(size, dtype=bool)
            keep[allowed] = True
        else:
            banned = [i for i in ids if grammar.step(state, self.texts[i]) is None]
            if not banned:
                return None
            keep = np.ones(size, dtype=bool)
            keep[banned] = False
        return mx.array(keep)


def token_texts(tokenizer) -> list[str]:
    """The text of each id: Apprentice's own tokenizer decodes them all at once; an mlx-lm tokenizer's come
    from the token map its streaming detokenizer already holds.

    Decoding 49k ids one by one through transformers took 1.8 s; the detokenizer's map (a GPT-2
    byte-level string or SentencePiece bytes per id) decodes in a fraction of that. A byte that is
    only part of a character decodes to U+FFFD: it can never be part of a tool's name or key.
    """
    if hasattr(tokenizer, "token_texts"):
        return tokenizer.token_texts()
    from mlx_lm.tokenizer_utils import BPEStreamingDetokenizer, SPMStreamingDetokenizer

    detokenizer = getattr(tokenizer, "_detokenizer", None)
    if isinstance(detokenizer, BPEStreamingDetokenizer):
        tokens = detokenizer.tokenmap
        try:  # all at once: one translation, then each token's bytes (one per character of the byte alphabet)
            joined = "".join(tokens).translate(_byte_table()).encode("latin-1")
            ends = list(itertools.accumulate(map(len, tokens)))
            return [joined[start:end].decode("utf-8", "replace") for start, end in zip([0] + ends, ends)]
        except UnicodeEncodeError:  # an added token spelled in plain text (not in the byte alphabet): one by one
            pass
        texts = []
        for token in tokens:
            try:
                texts.append(token.translate(_byte_table()).encode("latin-1").decode("utf-8", "replace"))
            except UnicodeEncodeError:
                texts.append(token)
        return texts
    if isinstance(detokenizer, SPMStreamingDetokenizer):
        return [piece.replace("\u2581".encode(), b" ").decode("utf-8", "replace") for piece in detokenizer.tokenmap]
    ids = [[i] for i in range(len(tokenizer))]
    return tokenizer.batch_decode(ids, skip_special_tokens=False, clean_up_tokenization_spaces=False)


@functools.cache
def _byte_table() -> dict[int, str]:
    """GPT-2's byte-to-character alphabet reversed, as a str.translate table onto latin-1 characters."""
    from mlx_lm.tokenizer_utils import _byte_decoder

    return {ord(ch): chr(byte) for ch, byte in _byte_decoder().items()}


class CallConstraint:
    """An mlx-lm logits processor for one answer: `fn(tokens, logits) -> logits`.

    mlx-lm calls it before sampling each token with every token so far, the prompt's included;
    the first call's tokens are all prompt, and only what comes after is read. The newest token
    is still being computed when it is called (mlx-lm evaluates asynchronously): reading it would
    make decoding wait for it. Outside a call it is read at the next call instead, by which time it
    is known: one token cannot take an answer from plain text into a name or a key.
    """

    def __init__(self, vocabulary: Vocabulary, grammar: Grammar | None = None, query: str | None = None):
        self.vocabulary = vocabulary
        self.grammar = grammar or Grammar.from_registry()
        self.query = query  # what the user asked: a call that leaves out what they said is held open
        self.said = ""  # the answer so far, read token by token: the call is read from it
        self.state: tuple = OUTSIDE
        self.seen: int | None = None  # tokens read so far, the prompt's included
        self.unread = None  # (lazy) the tokens the previous call did not read
        self.calls = 0
        self.kept: dict = {}  # token number -> log of the share of the model's probability the mask kept
        # whether every state that plain text can leave (a partial opening tag at most) needs no mask
        self.quiet = vocabulary.quiet_outside(self.grammar)

    def __call__(self, tokens, logits):
        self.calls += 1  # one call per token of the answer: this one chooses token number `calls`
        if self.seen is None:
            self.seen = tokens.size
            return logits  # the first token of the answer: nothing has been said yet
        import mlx.core as mx

        if self.unread is not None:
            self._advance(self.unread.tolist())  # computed by now, before the token after it was begun
            self.unread = None
        # After a partial tag (`<tool`) the newest token may open a call; so may several tokens at once.
        if self.quiet and self.state == OUTSIDE and tokens.size == self.seen + 1:
            # The common case, an ordinary answer: the logits as they are, and no wait. The newest token is
            # copied out as soon as it is computed, ahead of the next step's work on the same stream.
            self.unread = tokens[self.seen :]
            mx.async_eval(self.unread)
            self.seen = tokens.size
            return logits
        if tokens.size > self.seen:
            self._advance(tokens[self.seen :].tolist())  # the mask may depend on the newest token: read it now
            self.seen = tokens.size
        if self.state is DONE:
            return logits
        grammar, state = self._grammar_here()
        mask = self.vocabulary.mask(grammar, state, logits.shape[-1])
        if mask is None:
            return logits
        if state[0] in READ_FROM_QUERY:
            # The way a count of days goes, or the unit converted, is read from what the user said, as a check
            # reads it: it is the code's, not the model's choice, and the model's doubt about it is no doubt
            # about its answer.
            return mx.where(mask, logits, -mx.inf)
        # mlx-lm reports log-probabilities over the allowed tokens only; what the model itself gave is that plus
        # the log of the share of its probability the mask kept (computed with this step, read with its token).
        # One exponential over the vocabulary serves both sums: on this CPU each costs about a millisecond.
        weights = mx.exp(logits - mx.max(logits, axis=-1, keepdims=True))
        share = mx.sum(mx.where(mask, weights, 0.0), axis=-1) / mx.sum(weights, axis=-1)
        kept = mx.log(mx.maximum(share, 1e-30))  # a share too small for float32 counts as 1e-30
        mx.async_eval(kept)
        allowed = mx.where(mask, logits, -mx.inf)
        self.kept[self.calls] = kept
        return allowed

    def unmasked(self, n: int) -> float:
        """What to add to the reported log-probability of the answer's `n`th token (from 1) to give the one the
        model gave it before the mask: the router's cascade trusts an answer by these, and a name the model was
        unsure of, that the mask made the only choice, must stay an unsure answer."""
        kept = self.kept.pop(n, None)
        return float(kept.item()) if kept is not None else 0.0

    def _grammar_here(self) -> tuple[Grammar, tuple]:
        """The grammar and state the next token is masked by: the call's own, or, where a `}` could close a
        call that leaves out what the user said (`standing.left_out`), a grammar that holds it open. A bare
        value such as a number then ends with the `,` that begins the next argument, as after a string,
        unless it may still grow into a number the user said and the call leaves out ("1" of "10": then
        only the `}` is barred, and a value grown wrong is the checks' to doubt). A count of days begins
        the way the user counted: with `-` for "3 days ago", without for "in 9 days"."""
        grammar, state = self._held_here()
        if self._counts_days():
            from assistant.tools.grounding import way_counted

            way = way_counted(self.query)
            if way is not None:
                return grammar, ("minus" if way[0] else "unsigned", state[1], state[2])
        if self._converts_below_zero():
            return grammar, ("minus", state[1], state[2])
        return grammar, self._copied_here() or state

    def _copied_here(self) -> tuple | None:
        """Where a conversion's unit is begun or about to begin, the state that holds it to the unit the user
        said (`grounding.said_units`: after its value for `from_unit`, the one asked for in `to_unit`), as they
        wrote it; None elsewhere, when they said none, or once the string has gone another way."""
        state = self.state
        if self.query is None or state[0] != "value" or state[1] != "convert" or state[3] or state[5]:
            return None
        begun = UNIT_BEGUN.search(self.said)
        if begun is None:
            return None
        from assistant.tools.calls import parse_call
        from assistant.tools.grounding import said_units

        opened = self.said[self.said.rfind(CALL_OPEN) : begun.start()].rstrip().rstrip(",")
        call = parse_call(opened)  # the call before this unit: its value says which number the unit follows
        value = call.arguments.get("value") if call is not None else None
        said = said_units(self.query, value if isinstance(value, (int, float, str)) else None)[begun[1]]
        written = begun[3] or ""
        target = f'"{said}"' if said else ""
        if not target.startswith(written) or len(written) >= len(target):
            return None
        return ("copy", target[len(written) :], 2 if written else 1 if begun[2] else 0, state[1], state[2])

    def _converts_below_zero(self) -> bool:
        """Whether the answer so far ends where a conversion's value begins, and the one number the user said
        was below zero (`grounding.below_zero`)."""
        if self.state[0] != "value" or self.state[1] != "convert" or not VALUE_BEGINS.search(self.said):
            return False
        from assistant.tools.grounding import below_zero

        return below_zero(self.query)

    def _counts_days(self) -> bool:
        """Whether the answer so far ends where the value of a clock call's `days` (or `months`) begins."""
        return self.state[0] == "value" and self.state[1] == "clock" and COUNT_BEGINS.search(self.said) is not None

    def _held_here(self) -> tuple[Grammar, tuple]:
        """The call's own grammar and state, or, where it leaves out what one more argument could hold, the
        grammar that holds it open and the state to mask by (`_grammar_here`)."""
        state = self.state
        if self.query is None or state[0] not in ("kstart", "after", "value"):
            return self.grammar, state
        if state[0] == "value" and (state[3] or state[4]):
            return self.grammar, state  # inside a string or a nested value: no `}` here closes the call
        name, used = state[1], state[2]
        if not self.grammar.closes(name, used) or not self.grammar.words(("kstart", name, used)):
            return self.grammar, state  # it may not close anyway, or has no argument left to go on with
        from assistant.tools.calls import parse_call
        from assistant.tools.standing import left_out

        opened = self.said[self.said.rfind(CALL_OPEN) :]
        call = parse_call(opened)  # what is open is closed to read it
        if call is None or call.name != name or not left_out(call, self.query):
            return self.grammar, state
        held = self.grammar.held_open(name)
        if state[0] == "value" and not _may_grow(opened, call, self.query):
            return held, ("after", name, used)  # no digit more: only the `,` that goes on
        return held, state

    def _advance(self, tokens: list[int]) -> None:
        texts = self.vocabulary.texts
        for token in tokens:
            if self.state is DONE:
                return
            text = texts[token] if token < len(texts) else ""
            if self.query is not None:
                self.said += text
            # None: a token the mask did not allow (another processor forced it): stop holding this call
            self.state = self.grammar.step(self.state, text) or DONE


def _may_grow(opened: str, call, query: str) -> bool:
    """Whether the bare value a call's text ends with may still grow into a number the user said and the
    call leaves out: "1" of `"minutes": 1` for "a 15 minute timer"."""
    from assistant.tools.as_said import as_said
    from assistant.tools.grounding import number_gaps

    value = opened[opened.rfind(":") + 1 :].strip()
    if not value:
        return True  # nothing of the value yet
    _, _, missing = number_gaps(query, as_said(query, call))
    return any(f"{n:g}".startswith(value) for n in missing)


def unmasked(processors: list, n: int) -> float:
    """What to add to the reported log-probability of the answer's `n`th token to give the model's own."""
    return sum(p.unmasked(n) for p in processors if isinstance(p, CallConstraint))


def processors(student, query: str | None = None) -> list:
    """The logits processors for one answer of `student` to `query`: the call constraint unless it is turned off.

    The vocabulary's texts are decoded once and kept on the student, for its tokenizer, and on disk in
    cache/tokenizers."""
    if not enabled():
        return []
    vocabulary = getattr(student, "call_vocabulary", None)
    if vocabulary is None or vocabulary.tokenizer is not student.tokenizer:
        cache = student._vocabulary_file()  # named by the tokenizer's files and the libraries that read them
        vocabulary = student.call_vocabulary = Vocabulary.of(student.tokenizer, cache)
    return [CallConstraint(vocabulary, Grammar.from_registry(timed=says_when(query)), query=query)]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    from assistant.chat_tokenizer import ChatTokenizer

    vocabulary = Vocabulary.of(ChatTokenizer(Path(argv[0])))
    grammar = Grammar.from_registry()
    state = grammar.step(OUTSIDE, argv[1])
    if state is None:
        print("that text already breaks a call", file=sys.stderr)
        return 1
    mask = vocabulary.mask(grammar, state, len(vocabulary.texts))
    if mask is None:
        print(f"state {state}: every token is allowed")
        return 0
    allowed = [i for i, ok in enumerate(mask.tolist()) if ok]
    print(f"state {state}: {len(allowed)} tokens allowed")
    for i in allowed[:60]:
        print(f"  {i}\t{vocabulary.texts[i]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

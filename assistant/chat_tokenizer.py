"""A checkpoint's tokenizer and chat template, read with the `tokenizers` library and jinja2 alone.

transformers' fast tokenizer is a wrapper around the same Rust tokenizer, read from the same
`tokenizer.json`; importing transformers for it was most of a private `ask`'s cold start. This
reads that file with `tokenizers` and renders the chat template as transformers does (the same
sandboxed jinja2 environment, `tojson` filter and globals, the special tokens as variables, the
rendered text tokenized without adding special tokens), so the prompt's token ids are the same.

A checkpoint it cannot read this way (no `tokenizer.json`, no jinja chat template, or a template
mlx-lm replaces with Python code) loads through mlx-lm and transformers as before: `readable()`.

    tokenizer = ChatTokenizer(folder)
    ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True)
    stream = TextStream(tokenizer); stream.add(token); stream.take()   # text as it decodes
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

SPECIAL_TOKENS = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")


def readable(folder: Path) -> bool:
    """Whether `folder`'s tokenizer and chat template can be read without transformers."""
    if not (folder / "tokenizer.json").exists():
        return False
    config = _json(folder / "tokenizer_config.json")
    if config is None or "chat_template_type" in config:  # mlx-lm renders these with Python code of its own
        return False
    template = _chat_template(folder, config)
    # transformers' `{% generation %}` tag marks an assistant's tokens for training; it is its own extension
    return template is not None and not re.search(r"\{%-?\s*generation\s*-?%\}", template)


class ChatTokenizer:
    """Token ids for text and chat messages, text for token ids: what the student's prompt and answer need."""

    def __init__(self, folder: Path, eos_token_ids=None):
        from tokenizers import Tokenizer

        self.folder = Path(folder)
        self._tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
        config = _json(self.folder / "tokenizer_config.json") or {}
        self.special_tokens = {key: _text(config[key]) for key in SPECIAL_TOKENS if config.get(key)}
        self.chat_template = _chat_template(self.folder, config)
        # as mlx-lm: the model's end-of-sequence ids (config.json) and the tokenizer's own
        ids = [eos_token_ids] if isinstance(eos_token_ids, int) else list(eos_token_ids or [])
        eos = self.special_tokens.get("eos_token")
        if eos is not None and self._tokenizer.token_to_id(eos) is not None:
            ids.append(self._tokenizer.token_to_id(eos))
        self.eos_token_ids = set(ids)
        self._template = None  # compiled at the first chat

    def __len__(self) -> int:
        return self._tokenizer.get_vocab_size(with_added_tokens=True)

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        return self._tokenizer.encode(text, add_special_tokens=add_special_tokens).ids

    def decode(self, ids, skip_special_tokens: bool = False) -> str:
        return self._tokenizer.decode(list(ids), skip_special_tokens=skip_special_tokens)

    def token_texts(self) -> list[str]:
        """The text of each id alone (a byte that is only part of a character decodes to U+FFFD)."""
        return self._tokenizer.decode_batch([[i] for i in range(len(self))], skip_special_tokens=False)

    def apply_chat_template(self, messages: list[dict], add_generation_prompt: bool = False, tokenize: bool = True):
        """The prompt for `messages` as the checkpoint's chat template writes it: token ids, or its text."""
        if self._template is None:
            self._template = _compile(self.chat_template)
        messages = [{k: v for k, v in m.items() if v is not None} for m in messages]
        text = self._template.render(
            messages=messages,
            tools=None,
            documents=None,
            add_generation_prompt=add_generation_prompt,
            **self.special_tokens,
        )
        return self.encode(text, add_special_tokens=False) if tokenize else text


class TextStream:
    """The text of generated tokens as they come: each piece once, none cut inside a character.

    The tokens since the last line break are decoded again at each token (a line is a few dozen
    tokens, microseconds to decode), so whatever a tokenizer's decoder does across tokens (byte
    fallback, merged spaces) comes out as it does for the whole answer; text that ends in an
    unfinished character waits for the token that finishes it. Any tokenizer with `decode(ids)`
    serves (mlx-lm's too, for checkpoints read through it).
    """

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self._line: list[int] = []
        self._shown = 0  # characters of the current line's text already taken

    def add(self, token: int) -> None:
        self._line.append(token)

    def take(self, final: bool = False) -> str:
        """The text that is new since the last take; `final` gives whatever is left, unfinished or not."""
        text = self.tokenizer.decode(self._line)
        if text.endswith("\ufffd") and not final:
            return ""
        new = text[self._shown :]
        if text.endswith("\n") or final:
            self._line, self._shown = [], 0
        else:
            self._shown = len(text)
        return new


def _compile(template: str):
    """A chat template compiled in a jinja2 environment like transformers' own (`_compile_jinja_template`)."""
    import jinja2
    import jinja2.ext
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        # jinja2's own tojson escapes HTML characters, which a prompt must not
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    class Namespace(jinja2.utils.Namespace):
        # as transformers': no underscore names on a namespace, a way into Python's internals
        def __init__(*args, **kwargs):
            self, args = args[0], args[1:]
            attrs = dict(*args, **kwargs)
            for name in attrs:
                Namespace._check(name)
            jinja2.utils.Namespace.__init__(self, attrs)

        def __setitem__(self, name, value):
            Namespace._check(name)
            jinja2.utils.Namespace.__setitem__(self, name, value)

        @staticmethod
        def _check(name):
            if isinstance(name, str) and name.startswith("_"):
                raise jinja2.exceptions.SecurityError(f"a chat template cannot set {name!r} on a namespace")

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["namespace"] = Namespace
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    return env.from_string(template)


def _chat_template(folder: Path, config: dict) -> str | None:
    """The checkpoint's default chat template: its own file, else tokenizer_config.json's (a text or named list)."""
    path = folder / "chat_template.jinja"
    if path.exists():
        return path.read_text(encoding="utf-8")
    template = config.get("chat_template")
    if isinstance(template, list):
        named = {t.get("name"): t.get("template") for t in template if isinstance(t, dict)}
        template = named.get("default")
    return template if isinstance(template, str) else None


def _text(token) -> str:
    return token.get("content", "") if isinstance(token, dict) else str(token)  # an AddedToken's dict, or its text


def _json(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None

"""The local student: an MLX model owned by one long-lived thread.

MLX streams belong to the thread that made them (mlx-lm's server does the same), so
every MLX call (load, prefill, decode) happens on the owner thread; callers queue a
request and read the answer, each token with its log-probability, from a `StudentResponse`.
Each conversation keeps a prompt cache, in memory and on disk, so a follow-up only
reads the new turn instead of the whole history.

A distilled student's words are the base student's (`words_from_base`): its adapter begins each
answer, and only when that beginning is a tool call does the adapter go on; otherwise the adapter
is set to zero and the base student answers in words from the start. Distillation teaches a small
model when and how to act, and the same change of weights flips facts it held weakly ("Who wrote
The Great Gatsby?" → a made-up name). Each of the two keeps its own prompt caches, so both stay
exact: the words are token for token what the base student says.

    python -m assistant.student PATH "question"     # stream one answer from a checkpoint
"""

from __future__ import annotations

import gc
import json
import os
import queue
import sys
import threading
import time
from collections import OrderedDict
from pathlib import Path

from assistant import blas, mlxlm
from assistant.engine import Response, Token
from assistant.errors import ApprenticeError, ModelMissing
from assistant.tools.calls import CALL_OPEN, has_call, inside_call, parse_call
from assistant.tools.numbers import words_to_digits
from assistant.tools.timers import past_or_to

_DONE = object()
# A call begun within an answer's token bound may run this many tokens past it to close: the longest of
# the 537 shipped calls is 47 tokens (a conversion between milliliters and cups), and half a call does nothing.
CALL_TOKENS = 128
ADAPTED, WORDS = "adapted", "words"  # which weights answer: the student with its adapter, or the base's words
LOAD_LOCK = mlxlm.LOCK  # loads take turns: transformers' lazy modules break when two threads import them at once


def adapter_view(messages: list[dict]) -> list[dict]:
    """The conversation as a distilled student's adapter reads it, and is taught on
    (model/distill/training.py): number words in the user's turns made digits, and times said past or
    to an hour made clock times, "start a twenty minute timer" as "start a 20 minute timer" and "ten past
    two" as "2:10". Reading numbers is the code's to do: a 135M model copying "twenty" into a call writes
    2 about as often as 20, and "10 past 2" as 10 o'clock; it copies digits and clock times it is shown."""
    return [
        {**m, "content": past_or_to(words_to_digits(m["content"]))}
        if m.get("role") == "user" and isinstance(m.get("content"), str)
        else m
        for m in messages
    ]


class StudentResponse(Response):
    """The student's answer: tokens come from the owner thread through a queue, each with its log-probability."""

    def __init__(
        self,
        model: str,
        messages: list[dict],
        conversation: str | None,
        max_tokens: int,
        temperature=None,
        words: bool = False,
        seed: int | None = None,
    ):
        super().__init__(model)
        self.words = words  # the base student's words, not the adapter's call (Student.stream)
        self.messages = messages
        self.conversation = conversation
        self.max_tokens = max_tokens
        self.temperature = temperature  # None: the engine's own
        self.seed = seed  # sampling from this seed: the same answer each time it is asked (assistant/said_again.py)
        self._queue: queue.Queue = queue.Queue()

    def _chunks(self):
        held = ""  # text that may be the start of a tool call, not shown until it is known
        for token in self._tokens():
            if self.tool_call_text is not None:  # inside a call: it is read, never shown
                self.tool_call_text += token.text
                continue
            held += token.text
            start = held.find("<")
            if start < 0:
                yield held
                held = ""
            elif held[start:].startswith(CALL_OPEN):
                self.tool_call_text = held[start:]
                if held[:start]:
                    yield held[:start]
                held = ""
            elif not CALL_OPEN.startswith(held[start:]):
                yield held
                held = ""
        if held:
            yield held
        if self.tool_call_text is not None:
            self.tool_call = parse_call(self.tool_call_text)

    def _tokens(self):
        while True:
            item = self._queue.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            if item.logprob is not None:
                self.logprobs.append(item.logprob)
            yield item


class Student:
    """Load a checkpoint on an owner thread and answer chat messages with it."""

    def __init__(
        self,
        path: Path,
        name: str,
        system_prompt: str = "",
        temperature: float = 0.0,
        top_p: float = 1.0,
        context_tokens: int = 4096,
        cache_dir: Path | None = None,
        cache_conversations: int = 8,
        adapter_path: Path | None = None,
        words_from_base: bool = True,
    ):
        self.path = Path(path)
        self.adapter_path = Path(adapter_path) if adapter_path else None
        self.words_from_base = words_from_base
        self.name = name
        self.system_prompt = system_prompt
        self.temperature = temperature
        self.top_p = top_p
        self.context_tokens = context_tokens
        self.cache_dir = cache_dir
        self.cache_conversations = cache_conversations
        self._caches: OrderedDict[str, tuple[list, list[int]]] = OrderedDict()
        # the system prompt's cache, shared by new conversations: one for the adapted student, one for its words
        self._prefix: dict[str, tuple[list, list[int]]] = {}
        self._lora: list = []  # the adapter's layers whose output is set to zero for the base student's words
        self._mode = ADAPTED
        self._jobs: queue.Queue = queue.Queue()
        self._loaded = threading.Event()
        self._closed = threading.Event()
        self._load_error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"student-{name}", daemon=True)
        self._thread.start()
        self._loaded.wait()
        if self._load_error:
            raise self._load_error

    # -- public, any thread ------------------------------------------------------

    def stream(
        self,
        messages: list[dict],
        conversation: str | None = None,
        max_tokens: int = 512,
        temperature=None,
        words: bool = False,
        seed: int | None = None,
    ) -> StudentResponse:
        """Queue an answer to `messages` (user/assistant turns; the system prompt is added here);
        `temperature` replaces the engine's for this answer only (an API request's), and `seed` fixes
        what it samples. With `words`, a distilled student answers in the base student's words from the
        first token, its adapter unused: what is asked when the adapter's call could not stand
        (`words_apart`)."""
        response = StudentResponse(self.name, messages, conversation, max_tokens, temperature, words, seed)
        self._jobs.put(response)
        return response

    @property
    def words_apart(self) -> bool:
        """Whether the base student's words can answer apart from the adapter (`words_from_base`):
        a distilled student with a LoRA adapter, loaded."""
        return bool(self._lora)

    def close(self) -> None:
        """Finish the queued answers, then free the weights; the owner thread stays, parked."""
        self._jobs.put(None)
        self._closed.wait(timeout=10)

    # -- owner thread -------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._load()
        except BaseException as exc:  # reported to the constructor, which raises it
            self._load_error = exc
            self._loaded.set()
            threading.Event().wait()  # parked, not ended: see below
        self._loaded.set()
        while (response := self._jobs.get()) is not None:
            try:
                self._generate(response)
            except BaseException as exc:
                response._queue.put(exc)
            response._queue.put(_DONE)
        self.model = None  # the weights and caches are freed here, on the thread that made them
        self._caches.clear()
        gc.collect()
        self._closed.set()
        # The thread never ends. When a thread that used MLX ends, MLX's thread-local destructors
        # take the GIL; if the interpreter is exiting at that moment, the process aborts
        # ("terminate called without an active exception", one exit in two after a close()).
        # A parked daemon thread is simply dropped at exit.
        threading.Event().wait()

    def _load(self) -> None:
        from assistant import chat_tokenizer, checkpoint

        blas.ensure()
        # What the files allow is read without mlx-lm's loader and transformers: half a second of a cold start.
        self._light_model = checkpoint.light_loadable(self.path) and (
            self.adapter_path is None or checkpoint.adapters_loadable(self.adapter_path)
        )
        self._light_tokenizer = chat_tokenizer.readable(self.path)
        with LOAD_LOCK:
            import mlx.core as mx

            mlxlm.light() if self._light_model and self._light_tokenizer else mlxlm.full()

        self._mx = mx
        if not (self.path / "config.json").exists():
            raise ModelMissing(f"The student model at {self.path} is missing; run `apprentice model pull` to fetch it.")
        try:
            with LOAD_LOCK:
                self.model, self.tokenizer = self._load_checkpoint()
            from assistant import kernels

            kernels.install(self.model)  # a 4-bit student on Linux: the fast CPU path, when it was built
            if self.adapter_path and self.words_from_base:
                self._lora = lora_layers(self.model, self.adapter_path)
        except ApprenticeError:
            raise  # its own message says what is wrong (an invalid kernel setting), not "pull again"
        except Exception as exc:
            raise ModelMissing(
                f"The student model at {self.path} cannot be loaded ({type(exc).__name__}: {exc}); "
                "run `apprentice model pull` to fetch it again."
            ) from None
        config = json.loads((self.path / "config.json").read_text())
        model_limit = int(config.get("max_position_embeddings") or self.context_tokens)
        self.context_limit = min(self.context_tokens, model_limit)

    def _load_checkpoint(self):
        """The model (with its adapters) and its tokenizer: read without mlx-lm's loader and transformers where
        the files allow (the same weights, the same token ids), else as mlx-lm's `load` gives them."""
        from assistant import checkpoint
        from assistant.chat_tokenizer import ChatTokenizer

        if self._light_model:
            model, config = checkpoint.load(self.path)
            if self.adapter_path:
                model = checkpoint.load_adapters(model, self.adapter_path)
        else:
            from mlx_lm.utils import load_adapters, load_model

            model, config = load_model(self.path)
            if self.adapter_path:
                model = load_adapters(model, str(self.adapter_path))
                model.eval()
        if self._light_tokenizer:
            return model, ChatTokenizer(self.path, eos_token_ids=config.get("eos_token_id"))
        from mlx_lm.utils import load_tokenizer

        return model, load_tokenizer(self.path, eos_token_ids=config.get("eos_token_id"))

    def _vocabulary_file(self) -> Path | None:
        """Where the text of each of the tokenizer's ids is kept (the tool-call constraint reads it), named by
        the tokenizer's files (name, size, time) and the libraries that read them: any change, another name."""
        if not self.cache_dir:
            return None
        import hashlib
        from importlib.metadata import version

        files = [
            (f.name, f.stat().st_size, f.stat().st_mtime_ns)
            for f in sorted(self.path.iterdir())
            if f.suffix in (".json", ".jinja", ".model", ".txt", ".tiktoken")
        ]
        libraries = [version(name) for name in ("mlx-lm", "transformers", "tokenizers")] + [sys.version]
        key = [str(self.path.resolve()), files, libraries, type(self.tokenizer).__name__]
        digest = hashlib.sha256(json.dumps(key).encode()).hexdigest()[:24]
        return self.cache_dir.parent / "tokenizers" / f"{digest}.texts"

    def _prompt(self, gen: StudentResponse, adapter: bool = False) -> list[int]:
        """Prompt tokens for `gen`, cut to fit the context, with a note for each cut; `adapter`: the
        conversation as the adapter reads it (`adapter_view`)."""
        budget = self.context_limit - gen.max_tokens
        if budget < 64:
            gen.max_tokens = self.context_limit // 2
            budget = self.context_limit - gen.max_tokens
        system = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        messages = adapter_view(gen.messages) if adapter else gen.messages
        history, last = messages[:-1], messages[-1]
        template = self.tokenizer.apply_chat_template

        def encode(msgs):
            return list(template(system + msgs + [last], add_generation_prompt=True, tokenize=True))

        tokens = encode(history)
        dropped = 0
        while len(tokens) > budget and history:
            history = history[2:]  # oldest question and its answer
            dropped += 1
            tokens = encode(history)
        if dropped:
            gen.note(f"{dropped} earlier turn(s) left out to fit the student's context.")
        if len(tokens) > budget:
            query_ids = self.tokenizer.encode(last["content"], add_special_tokens=False)
            keep = max(16, len(query_ids) - (len(tokens) - budget) - 8)
            head, tail = query_ids[: keep // 2], query_ids[len(query_ids) - keep // 2 :]
            cut = self.tokenizer.decode(head) + " … " + self.tokenizer.decode(tail)
            last = {**last, "content": cut}
            tokens = encode([])
            gen.note(
                f"The query was {len(query_ids)} tokens, more than the student's context of "
                f"{self.context_limit} allows; its middle was cut to fit."
            )
        return tokens

    def _cache_for(self, conversation: str | None, tokens: list[int]):
        """A prompt cache for `tokens` and how many of them it already holds."""
        from mlx_lm.models.cache import can_trim_prompt_cache, make_prompt_cache, trim_prompt_cache

        entry = self._caches.pop(conversation, None) if conversation else None
        if entry is None and conversation:
            entry = self._load_cache(conversation)
        if entry is None:
            entry = self._system_prefix()
        if entry is not None:
            cache, cached = entry
            common = 0
            for a, b in zip(cached, tokens):
                if a != b:
                    break
                common += 1
            common = min(common, len(tokens) - 1)  # the model must read at least one token
            extra = len(cached) - common
            if common > 0 and (extra == 0 or can_trim_prompt_cache(cache)):
                if extra:
                    trim_prompt_cache(cache, extra)
                return cache, common
        return make_prompt_cache(self.model), 0

    def _system_prefix(self):
        """A copy of the cache that holds the system prompt (tools included), for a new conversation.

        Every conversation begins with the same system prompt; computing it once and starting
        each new conversation from a copy means the tool list costs no prefill per query. It is
        kept on disk too: its prefill (about 140 tokens) was a third of a cold start.
        """
        from mlx_lm.models.cache import KVCache, make_prompt_cache

        if self._mode not in self._prefix:
            tokens = self._prefix_tokens()
            cache = make_prompt_cache(self.model)
            if not tokens or not all(type(c) is KVCache for c in cache):
                self._prefix[self._mode] = ([], [])  # other cache kinds (sliding windows) start empty, as before
            else:
                loaded = self._load_prefix(tokens)
                if loaded is None:
                    self.model(self._mx.array(tokens)[None], cache=cache)
                    self._mx.eval([c.keys for c in cache] + [c.values for c in cache])
                    loaded = (cache, tokens)
                    self._save_prefix(cache, tokens)
                self._prefix[self._mode] = loaded
        cache, tokens = self._prefix[self._mode]
        if not tokens:
            return None
        copy = make_prompt_cache(self.model)
        for new, old in zip(copy, cache):
            # slices are new arrays: the copy's writes never reach the shared prefix
            new.keys, new.values = old.keys[..., : old.offset, :], old.values[..., : old.offset, :]
            new.offset = old.offset
        return copy, list(tokens)

    def _prefix_file(self, tokens: list[int]) -> Path | None:
        """Where the system prompt's cache is kept between runs, named by all its numbers depend on:
        the prompt's tokens, the weights and adapter files (name, size, time) and whether the adapter
        answers, MLX, the BLAS and the kernel path with its settings. Any change gives another name, so
        a stale cache is never read."""
        if not self.cache_dir:
            return None
        import hashlib
        import os

        from assistant import kernels

        files = [
            (str(f), f.stat().st_size, f.stat().st_mtime_ns)
            for folder in (self.path, self.adapter_path)
            if folder is not None and folder.is_dir()
            for f in sorted(folder.iterdir())
            if f.suffix in (".safetensors", ".json")
        ]
        settings = sorted((k, v) for k, v in os.environ.items() if k.startswith("APPRENTICE_QMATVEC"))
        key = [tokens, files, self._mx.__version__, blas.ensure(), kernels.describe(), settings]
        if self._mode != ADAPTED:
            key.append(self._mode)
        digest = hashlib.sha256(json.dumps(key, default=str).encode()).hexdigest()[:24]
        return self.cache_dir.parent / "prefix" / f"{digest}.safetensors"

    def _load_prefix(self, tokens: list[int]):
        """The system prompt's cache from disk, or None when there is none for these numbers."""
        from mlx_lm.models.cache import KVCache, load_prompt_cache

        path = self._prefix_file(tokens)
        if path is None or not path.exists():
            return None
        try:
            cache, meta = load_prompt_cache(str(path), return_metadata=True)
            if json.loads(meta["tokens"]) != tokens or not all(type(c) is KVCache for c in cache):
                return None
            self._mx.eval([c.keys for c in cache] + [c.values for c in cache])
            return cache, tokens
        except Exception:  # a torn or foreign file only costs the prefill it would have saved
            path.unlink(missing_ok=True)
            return None

    def _save_prefix(self, cache, tokens: list[int]) -> None:
        from mlx_lm.models.cache import KVCache, save_prompt_cache

        path = self._prefix_file(tokens)
        if path is None:
            return
        used = []
        for c in cache:  # the filled part only: a KV cache allocates room in steps of 256 tokens
            copy = KVCache()
            copy.keys, copy.values, copy.offset = c.keys[..., : c.offset, :], c.values[..., : c.offset, :], c.offset
            used.append(copy)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.stem}.{threading.get_ident()}.partial.safetensors")
            save_prompt_cache(str(tmp), used, {"model": self.name, "tokens": json.dumps(tokens)})
            tmp.replace(path)
            # a few system prompts and versions side by side (switching back is common); older ones go
            files = sorted(path.parent.glob("*.safetensors"), key=lambda p: p.stat().st_mtime)
            for old in files[:-4]:
                old.unlink(missing_ok=True)
        except OSError:  # a read-only or full disk: the prefill runs again next time, nothing else changes
            pass

    def _prefix_tokens(self) -> list[int]:
        """The tokens every prompt starts with: the template's common head for two different questions."""
        if not self.system_prompt:
            return []
        system = [{"role": "system", "content": self.system_prompt}]
        a, b = (
            list(self.tokenizer.apply_chat_template(system + [{"role": "user", "content": q}], tokenize=True))
            for q in ("a", "b")
        )
        common = 0
        while common < min(len(a), len(b)) and a[common] == b[common]:
            common += 1
        return a[:common]

    def _generate(self, gen: StudentResponse) -> None:
        if not self._lora:  # one set of weights: an adapter, if there is one, writes the words too
            self._answer(gen, self._prompt(gen, adapter=self.adapter_path is not None))
            return
        # The adapter begins the answer; unless that beginning is a tool call, the base student's
        # words are the answer, from its first token (the module's docstring says why).
        if not gen.words and self._answer(gen, self._prompt(gen, adapter=True), decide=True):
            return
        self._use(WORDS)
        try:
            self._answer(gen, self._prompt(gen))
        finally:
            self._use(ADAPTED)

    def _use(self, mode: str) -> None:
        """Answer with the adapter (ADAPTED) or without it (WORDS): its layers' output scaled by 1 or by 0."""
        for layer, scale in self._lora:
            layer.scale = scale if mode == ADAPTED else 0.0
        self._mode = mode

    def _answer(self, gen: StudentResponse, tokens: list[int], decide: bool = False) -> bool:
        """Decode an answer to `tokens` into `gen`. With `decide`, tokens are held back until they show
        whether the answer begins a tool call: if it does they are sent and decoding goes on (True);
        if not, nothing is sent and False is returned, for the base student to answer in words."""
        from mlx_lm.sample_utils import make_sampler

        from assistant import generation
        from assistant.chat_tokenizer import TextStream
        from assistant.tools import constrain

        key = gen.conversation and (gen.conversation if self._mode == ADAPTED else f"{gen.conversation}.{self._mode}")
        cache, reuse = self._cache_for(key, tokens)
        usage = gen.usage
        usage.prompt_tokens, usage.cached_tokens = len(tokens), reuse
        temperature = self.temperature if gen.temperature is None else gen.temperature
        sampler = make_sampler(temp=temperature, top_p=self.top_p)
        if gen.seed is not None:  # answers are decoded one at a time on this thread: the seed is this one's
            import mlx.core as mx

            mx.random.seed(gen.seed)
        generated: list[int] = []
        held: list[Token] = []  # while deciding: the tokens of what may be the start of a call
        first = None
        gen.finish_reason = "length"
        # inside a tool call only a registered tool's name and its parameters can be generated; each token's
        # log-probability stays the one the model gave it (constrain.unmasked), which the cascade reads
        asked = next((m["content"] for m in reversed(gen.messages) if m.get("role") == "user"), None)
        processors = constrain.processors(self, asked if isinstance(asked, str) else None)
        text = TextStream(self.tokenizer)
        said = ""  # the answer so far, to know whether it is inside a call
        for token, logprobs in generation.tokens(
            self.model, tokens[reuse:], cache, sampler, processors, gen.max_tokens + CALL_TOKENS
        ):
            if first is None:
                first = time.perf_counter()
                usage.ttft_ms = (first - gen.started) * 1000
            if token in self.tokenizer.eos_token_ids:
                if decide:
                    break  # an empty answer is the base student's to give
                if rest := text.take(final=True):
                    gen._queue.put(Token(rest, None))
                gen.finish_reason = "stop"
                break
            generated.append(token)
            text.add(token)
            logprob = logprobs[token].item() + constrain.unmasked(processors, len(generated))
            piece = text.take()
            said += piece
            # the bound is on words: a call begun within it is read to its end, for half a call does nothing
            last = len(generated) >= gen.max_tokens + CALL_TOKENS or (
                len(generated) >= gen.max_tokens and not inside_call(said)
            )
            out = Token(piece + text.take(final=True) if last else piece, logprob)
            if decide:
                held.append(out)
                begun = "".join(t.text for t in held).lstrip()
                if begun.startswith(CALL_OPEN):
                    decide = False  # a call: what was held is sent, and the adapter goes on
                    for t in held:
                        gen._queue.put(t)
                elif CALL_OPEN.startswith(begun) and not last:
                    continue
                else:
                    break
            else:
                gen._queue.put(out)
            if gen.cancelled:
                gen.finish_reason = "cancelled"
                break
            if repeating(generated):
                gen.finish_reason = "repetition"
                gen.notes.append("The student began repeating itself, so it was stopped.")
                break
            if last:
                if has_call(said) and not inside_call(said):
                    gen.finish_reason = "stop"  # the answer is a whole call: nothing after it is shown
                break
        if decide:
            self._keep_cache(key, cache, tokens)  # the prompt is kept for the next turn; the held tokens are not
            return False
        if first is not None:
            usage.tokens = len(generated)
            elapsed = time.perf_counter() - first
            usage.tokens_per_s = (len(generated) - 1) / elapsed if len(generated) > 1 and elapsed > 0 else None
        usage.latency_ms = (time.perf_counter() - gen.started) * 1000
        self._keep_cache(key, cache, tokens + generated)
        return True

    # -- prompt caches ----------------------------------------------------------------

    def _keep_cache(self, conversation: str | None, cache, known: list[int]) -> None:
        from mlx_lm.models.cache import trim_prompt_cache

        if not conversation:
            return
        offset = getattr(cache[0], "offset", len(known))
        if offset > len(known):  # a token was computed ahead but never seen: drop it
            trim_prompt_cache(cache, offset - len(known))
        known = known[: min(offset, len(known))]
        self._caches[conversation] = (cache, known)
        while len(self._caches) > self._cache_slots:
            self._caches.popitem(last=False)
        if self.cache_dir:
            self._save_cache(conversation, cache, known)

    @property
    def _cache_slots(self) -> int:
        """Caches kept: one per conversation, two where the base student's words have caches of their own."""
        return self.cache_conversations * (2 if self._lora else 1)

    def _cache_file(self, conversation: str) -> Path:
        return self.cache_dir / f"{conversation}.safetensors"

    def _save_cache(self, conversation: str, cache, known: list[int]) -> None:
        from mlx_lm.models.cache import save_prompt_cache

        self.cache_dir.mkdir(parents=True, exist_ok=True)
        path = self._cache_file(conversation)
        # Another process may save a cache into this folder at the same time: each writes a file of
        # its own, and a file that is renamed or removed while the newest are counted is passed over.
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.{threading.get_ident()}.partial.safetensors")
        save_prompt_cache(str(tmp), cache, {"model": self.name, "tokens": json.dumps(known)})
        tmp.replace(path)
        kept = []
        for file in self.cache_dir.glob("*.safetensors"):
            if ".partial" in file.name:
                continue
            try:
                kept.append((file.stat().st_mtime, file))
            except FileNotFoundError:
                continue
        for _, old in sorted(kept)[: -self._cache_slots]:
            old.unlink(missing_ok=True)

    def _load_cache(self, conversation: str):
        from mlx_lm.models.cache import load_prompt_cache

        if not self.cache_dir:
            return None
        path = self._cache_file(conversation)
        if not path.exists():
            return None
        try:
            cache, meta = load_prompt_cache(str(path), return_metadata=True)
            if meta.get("model") != self.name:
                return None
            return cache, json.loads(meta["tokens"])
        except Exception:  # a stale or torn cache file only costs a full prefill
            path.unlink(missing_ok=True)
            return None


def base_words(adapter_path: Path | None) -> bool:
    """Whether an adapter can leave the words to the base student: a LoRA adapter set to zero is the
    base student exactly; a DoRA adapter's learned magnitudes stay in the weights at scale 0."""
    if adapter_path is None:
        return False
    try:
        config = json.loads((Path(adapter_path) / "adapter_config.json").read_text())
    except (OSError, ValueError):
        return False  # unreadable: loading the adapter will say what is wrong
    return config.get("fine_tune_type", "lora") == "lora"


def lora_layers(model, adapter_path: Path) -> list:
    """The LoRA layers of `model`, each with its scale, when the adapter leaves the words to the base
    student (`base_words`); else []."""
    if not base_words(adapter_path):
        return []
    return [(m, m.scale) for m in model.modules() if hasattr(m, "lora_a") and hasattr(m, "scale")]


def repeating(tokens: list[int], longest: int = 64, span: int = 24) -> bool:
    """Whether the tokens end in one block said three times over, covering at least `span` tokens.

    A small model that loses its way says the same sentence again and again until the token
    limit. Checked after every token: for each block length up to `longest`, one comparison
    of the last token rules most lengths out, so the check costs microseconds a token.
    """
    n = len(tokens)
    for size in range(1, longest + 1):
        repeats = max(3, -(-span // size))  # ceil(span / size), and at least three
        if repeats * size > n:
            continue
        if tokens[-1 - size] != tokens[-1]:
            continue
        block = tokens[n - size :]
        if all(tokens[n - k * size : n - (k - 1) * size] == block for k in range(2, repeats + 1)):
            return True
    return False


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    student = Student(Path(argv[0]), name=Path(argv[0]).name)
    response = student.stream([{"role": "user", "content": argv[1]}])
    for text in response:
        print(text, end="", flush=True)
    u = response.usage
    print(f"\n[{u.tokens} tokens, {u.ttft_ms or 0:.0f} ms to first, {u.tokens_per_s or 0:.1f} tok/s]")
    return 0


if __name__ == "__main__":
    sys.exit(main())

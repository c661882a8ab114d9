"""The outcome index's search: the int8 scan (assistant/scan.c) finds the same neighbours as the float32 search."""

import shutil
import sys

import numpy as np
import pytest

from assistant import outcomes
from assistant.embedder import shared
from assistant.outcomes import OutcomeIndex, quantize


def index_of(vectors: np.ndarray) -> OutcomeIndex:
    index = OutcomeIndex(vectors.shape[1])
    index.add(
        [
            {"id": i + 1, "query": f"q{i}", "embedding": v.tobytes(), "wrong": i % 2}
            for i, v in enumerate(vectors.astype(np.float32))
        ]
    )
    return index


def brute_force(vectors: np.ndarray, query: np.ndarray, k: int, min_similarity: float) -> list[tuple[int, float]]:
    """Every row's similarity (float64, rounded to float32), most similar first, the newest first among equals."""
    sims = (vectors @ query.astype(np.float64)).astype(np.float32)
    order = np.lexsort((-np.arange(len(sims)), -sims))
    return [(int(i), float(sims[i])) for i in order[:k] if sims[i] >= min_similarity]


def clustered(n: int, seed: int) -> np.ndarray:
    """Unit vectors around 40 centres, many of them similar to each other, with exact duplicates
    (the same query logged twice), as a router's memory looks, not as random vectors do."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((40, 384)).astype(np.float32)
    x = centres[rng.integers(0, 40, n)] + 0.6 * rng.standard_normal((n, 384)).astype(np.float32)
    dup = min(200, n // 2)
    x[n // 2 : n // 2 + dup] = x[:dup]
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def queries_near(x: np.ndarray, count: int, seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = []
    for row in rng.integers(0, len(x), count):
        q = x[row] + 0.4 * rng.standard_normal(x.shape[1]).astype(np.float32)
        out.append((q / np.linalg.norm(q)).astype(np.float32))
    out.append(x[7].copy())  # a query equal to a logged one and its duplicate
    return out


# `pip install` builds the scan on Linux with a C compiler: there a missing one is a failure, not a skip.
BUILDABLE = sys.platform == "linux" and any(shutil.which(cc) for cc in ("cc", "gcc", "clang"))


@pytest.fixture
def scan_on(monkeypatch):
    if outcomes.scan_isa() is None:
        if not BUILDABLE:
            pytest.skip("the int8 scan is built only on Linux with a C compiler; the float32 search runs here")
        pytest.fail("assistant/scan.c is not built here: `pip install -e .` builds it on Linux")
    monkeypatch.setattr(outcomes, "SCAN_MIN_ROWS", 1)


def test_the_int8_scan_finds_the_neighbours_the_float32_search_finds(scan_on):
    x = clustered(8_000, seed=0)
    index, x64 = index_of(x), x.astype(np.float64)
    for q in queries_near(x, 60, seed=1):
        for k, min_similarity in ((5, 0.6), (5, 0.0), (25, 0.5), (1, 0.9)):
            got = index.nearest(q, k, min_similarity)
            want = brute_force(x64, q, k, min_similarity)
            assert [i for i, _ in got] == [i for i, _ in want], (k, min_similarity)
            assert np.allclose([s for _, s in got], [s for _, s in want], atol=1e-6, rtol=0)


def test_the_scan_and_the_float32_search_give_the_same_answer_through_the_switch(scan_on, monkeypatch):
    x = clustered(6_000, seed=2)
    index = index_of(x)
    for q in queries_near(x, 40, seed=3):
        scanned = index.nearest(q, 5, 0.6)
        monkeypatch.setenv("APPRENTICE_ROUTER_SCAN", "0")
        exact = index.nearest(q, 5, 0.6)
        monkeypatch.delenv("APPRENTICE_ROUTER_SCAN")
        assert scanned == exact


def test_a_query_logged_twice_counts_its_newest_outcome_first(scan_on):
    x = clustered(3_000, seed=4)
    index = index_of(x)
    near = index.nearest(x[7], 2, 0.6)
    assert [i for i, _ in near] == [1_500 + 7, 7] and near[0][1] == near[1][1]


def test_real_embeddings_route_to_the_same_neighbours(scan_on):
    texts = [f"How far is city number {i} from the coast?" for i in range(30)]
    texts += [f"What is {i} plus {i + 3}?" for i in range(30)] + [
        f"Translate 'cat number {i}' into French" for i in range(60)
    ]
    vecs = shared().encode(texts)
    index = index_of(vecs)
    for q in shared().encode(["How far is town 12 from the sea?", "what is 4 + 9", "Say 'dog' in French", "hello"]):
        assert index.nearest(q, 5, 0.6) == index_of(vecs).nearest(q, 5, 0.6)
        assert [i for i, _ in index.nearest(q, 5, 0.6)] == [
            i for i, _ in brute_force(vecs.astype(np.float64), q, 5, 0.6)
        ]


def test_quantized_rows_stay_within_their_stored_error():
    x = clustered(500, seed=5)
    x[3] = 0.0  # an all-zero row quantizes to zero codes, with no error
    codes, scales, errors, norms = quantize(x)
    decoded = codes * scales.astype(np.float64)[:, None]
    assert np.all(np.linalg.norm(x - decoded, axis=1) <= errors)
    assert np.all(np.linalg.norm(decoded, axis=1) <= norms)
    assert errors[3] == np.nextafter(np.float32(0), np.float32(1)) and not codes[3].any()
    assert errors.max() < 0.02  # tight enough that few rows need their exact similarity


def test_small_and_empty_indexes():
    index = OutcomeIndex()
    assert index.nearest(np.ones(384, np.float32) / np.sqrt(384), 5, 0.0) == []
    x = clustered(3, seed=6)  # rows 0 and 1 are equal
    assert [i for i, _ in index_of(x).nearest(x[2], 5, 0.99)] == [2]
    assert [i for i, _ in index_of(x).nearest(x[0], 5, 0.99)] == [1, 0]

"""The fast quantized kernel computes what MLX's own kernel computes, and answers do not change.

Skipped where the optional extension is not built (macOS, or a build without a compiler).
"""

import pytest

from assistant import kernels

pytestmark = pytest.mark.skipif(not kernels.available(), reason=f"fast kernel not in use: {kernels.why_not()}")


@pytest.mark.parametrize("bits", [4, 8])
@pytest.mark.parametrize("scale_dtype", ["float16", "float32"])
@pytest.mark.parametrize("rows,n,k", [(1, 200, 576), (1, 1536, 64), (3, 192, 576), (30, 64, 128), (100, 96, 256)])
def test_product_matches_mlx(bits, scale_dtype, rows, n, k):
    import mlx.core as mx

    mx.random.seed(bits * 1000 + n)
    w = mx.random.normal((n, k)).astype(getattr(mx, scale_dtype))
    wq, scales, biases = mx.quantize(w, group_size=32, bits=bits)
    x = mx.random.normal((rows, k))
    want = mx.quantized_matmul(x, wq, scales, biases, transpose=True, group_size=32, bits=bits)
    got = kernels.qmatmul(x, wq, scales, biases, 32, bits)  # the extension, or dequantize + BLAS past MAX_ROWS
    assert got.shape == want.shape and got.dtype == mx.float32
    assert mx.allclose(got, want, rtol=1e-4, atol=1e-4 * mx.abs(want).max().item()).item()


def test_batched_rows_keep_their_shape():
    import mlx.core as mx

    w = mx.random.normal((64, 128))
    wq, scales, biases = mx.quantize(w, group_size=32, bits=4)
    x = mx.random.normal((2, 3, 128))
    got = kernels._qmatvec.qmatvec(x, wq, scales, biases, 32, 4)
    want = mx.quantized_matmul(x, wq, scales, biases, transpose=True, group_size=32, bits=4)
    assert got.shape == (2, 3, 64) and mx.allclose(got, want, atol=1e-4).item()


def test_bad_shapes_are_refused():
    import mlx.core as mx

    wq, scales, biases = mx.quantize(mx.random.normal((64, 128)), group_size=32, bits=4)
    with pytest.raises(ValueError):
        kernels._qmatvec.qmatvec(mx.random.normal((1, 96)), wq, scales, biases, 32, 4)


def test_greedy_answers_do_not_change(tiny_checkpoint):
    """A 4-bit student answers token for token the same with the fast kernel as with MLX's."""
    import mlx.nn as nn
    from mlx_lm import generate, load

    model, tokenizer = load(str(tiny_checkpoint))
    nn.quantize(model, group_size=32, bits=4)
    prompts = ["What is the capital of France?", "Hello, how are you today?", "Apprentice answers"]

    def answers():
        return [generate(model, tokenizer, p, max_tokens=24) for p in prompts]

    kernels.uninstall()
    want = answers()
    try:
        assert kernels.install(model)
        got = answers()
    finally:
        kernels.uninstall()
    assert got == want

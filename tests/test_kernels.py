"""The fast quantized kernel computes what MLX's own kernel computes, and answers do not change.

With float activations it matches MLX to float rounding; with int8 activations it matches
MLX's product of x rounded to int8 per block of 32, which is within a fraction of a percent
of the product of x itself. Skipped where the optional extension is not built (macOS, or a
build without a compiler).
"""

import platform
import shutil
import sys

import pytest

from assistant import kernels

# `pip install` builds the extension on x86-64 Linux with a C++ compiler (CI installs g++): there
# a missing kernel is a failure (test_the_kernel_is_built_where_it_can_be), not a skip.
BUILDABLE = sys.platform == "linux" and platform.machine() == "x86_64" and shutil.which("c++") is not None
pytestmark = pytest.mark.skipif(
    not kernels.available() and not BUILDABLE, reason=f"fast kernel not in use on this platform: {kernels.why_not()}"
)


def test_the_kernel_is_built_where_it_can_be():
    assert kernels.available(), kernels.why_not()


@pytest.fixture
def int8():
    """Choose the activation path for one test (kernels.set_int8), then restore the environment's."""
    yield kernels.set_int8
    kernels.set_int8(kernels.INT8, kernels.VNNI)


@pytest.fixture
def float_path(int8):
    int8([])


def rounded_per_block(x):
    """x quantized as the int8 path does (per block of 32: d = max|x| / 127, round(x / d)), back in float."""
    import mlx.core as mx

    b = x.reshape(*x.shape[:-1], -1, 32)
    amax = mx.abs(b).max(axis=-1, keepdims=True)
    q = mx.round(b * mx.where(amax > 0, 127 / amax, 0))
    return (q * (amax / 127)).reshape(x.shape)


@pytest.mark.usefixtures("float_path")
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


@pytest.mark.parametrize("vnni", [True, False])  # without VNNI on the CPU both run AVX2
@pytest.mark.parametrize("bits", [4, 8])
@pytest.mark.parametrize("scale_dtype", ["float16", "float32"])
@pytest.mark.parametrize(
    "group_size,rows,n,k",
    [  # K = 96: an odd number of 32-blocks, so group 32 only
        (g, rows, n, k)
        for g in (32, 64)
        for rows, n, k in [
            (1, 200, 576),
            (1, 37, 96),
            (1, 1536, 64),
            (3, 192, 576),
            (5, 64, 1536),
            (7, 30, 320),
            (1, 8192, 576),
        ]  # the last one shares its rows between threads
        if k % g == 0
    ],
)
def test_int8_product_matches_mlx(int8, vnni, bits, group_size, scale_dtype, rows, n, k):
    import mlx.core as mx

    int8([4, 8], vnni)
    mx.random.seed(bits * 1000 + n + k)
    w = mx.random.normal((n, k)).astype(getattr(mx, scale_dtype))
    wq, scales, biases = mx.quantize(w, group_size=group_size, bits=bits)
    x = mx.random.normal((rows, k))
    got = kernels._qmatvec.qmatvec(x, wq, scales, biases, group_size, bits)
    # Exact, up to float rounding, for the rounded x ...
    want = mx.quantized_matmul(
        rounded_per_block(x), wq, scales, biases, transpose=True, group_size=group_size, bits=bits
    )
    assert got.shape == want.shape and got.dtype == mx.float32
    assert mx.allclose(got, want, rtol=1e-4, atol=1e-4 * mx.abs(want).max().item()).item()
    # ... and within the rounding of x (~0.5% here) of the product with x itself.
    exact = mx.quantized_matmul(x, wq, scales, biases, transpose=True, group_size=group_size, bits=bits)
    assert (mx.linalg.norm(got - exact) / mx.linalg.norm(exact)).item() < 0.008


def test_int8_switch_is_per_width(int8):
    import mlx.core as mx

    wq, scales, biases = mx.quantize(mx.random.normal((64, 128)), group_size=32, bits=4)
    x = mx.random.normal((1, 128))
    exact = mx.quantized_matmul(x, wq, scales, biases, transpose=True, group_size=32, bits=4)
    int8([8])  # the head only: 4-bit weights keep float activations
    assert kernels._qmatvec.int8() == [8]
    assert mx.allclose(kernels._qmatvec.qmatvec(x, wq, scales, biases, 32, 4), exact, atol=1e-4).item()
    int8([4])
    assert not mx.allclose(kernels._qmatvec.qmatvec(x, wq, scales, biases, 32, 4), exact, atol=1e-4).item()


@pytest.mark.usefixtures("float_path")
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


@pytest.mark.usefixtures("float_path")
def test_greedy_answers_do_not_change(tiny_checkpoint):
    """A 4-bit student answers token for token the same with the fast kernel (float activations) as with MLX's."""
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


def test_int8_logits_stay_close(int8, tiny_checkpoint):
    """A 4-bit student with an 8-bit head: int8 activations move its logits by about 1% (0.9% here)."""
    import mlx.core as mx
    import mlx.nn as nn
    from mlx_lm import load

    model, tokenizer = load(str(tiny_checkpoint))
    nn.quantize(
        model,
        group_size=32,
        bits=4,
        class_predicate=lambda _, m: (
            {"group_size": 32, "bits": 8} if isinstance(m, nn.Embedding) else hasattr(m, "to_quantized")
        ),
    )
    tokens = mx.array([tokenizer.encode("What is the capital of France?")[:3]])  # decode-sized: few rows

    kernels.uninstall()
    want = model(tokens)
    try:
        assert kernels.install(model)
        int8([4, 8])
        got = model(tokens)
    finally:
        kernels.uninstall()
    assert 0 < (mx.linalg.norm(got - want) / mx.linalg.norm(want)).item() < 0.02


@pytest.mark.parametrize("shape", [(1, 1, 576), (3, 64)])
def test_fused_rms_norm_matches_mlx(shape):
    import mlx.core as mx

    kernels.uninstall()  # MLX's own ops as the reference
    x, w = mx.random.normal(shape), mx.random.normal((shape[-1],))
    got = kernels._qmatvec.rms_norm(x, w, 1e-5)
    assert mx.allclose(got, mx.fast.rms_norm(x, w, 1e-5), rtol=1e-5, atol=1e-5).item()


@pytest.mark.parametrize(
    "dims,base,scale,offset", [(64, 10000.0, 1.0, 0), (64, 100000.0, 1.0, 37), (32, 10000.0, 0.5, 1000)]
)
def test_fused_rope_matches_mlx(dims, base, scale, offset):
    import mlx.core as mx

    kernels.uninstall()
    x = mx.random.normal((1, 9, 1, 64))
    got = kernels._qmatvec.rope(x, dims, base, scale, offset)
    want = mx.fast.rope(x, dims, traditional=False, base=base, scale=scale, offset=offset)
    assert mx.allclose(got, want, rtol=1e-4, atol=1e-4).item()


@pytest.mark.parametrize("length", [1, 40, 256])
@pytest.mark.parametrize("layout", ["cache slice", "transposed"])
def test_fused_decode_attention_matches_mlx(length, layout):
    """One query row per head, 9 query heads sharing 3 key/value heads, keys read where they lie:
    a slice of a KV cache's preallocated buffer, or a transposed view that must be gathered."""
    import mlx.core as mx

    kernels.uninstall()
    q = mx.random.normal((1, 9, 1, 64))
    if layout == "cache slice":
        buffer_k, buffer_v = mx.random.normal((1, 3, 256, 64)), mx.random.normal((1, 3, 256, 64))
        k, v = buffer_k[:, :, :length, :], buffer_v[:, :, :length, :]
    else:
        k = mx.random.normal((1, 3, 64, length)).transpose(0, 1, 3, 2)
        v = mx.random.normal((1, 3, length, 64))
    got = kernels._qmatvec.decode_attention(q, k, v, 0.125)
    want = mx.fast.scaled_dot_product_attention(q, k, v, scale=0.125)
    assert got.shape == want.shape == (1, 9, 1, 64)
    assert mx.allclose(got, want, rtol=1e-4, atol=1e-5).item()


def test_prefill_and_training_keep_mlx_ops(tiny_checkpoint):
    """The fused steps have no gradients: inputs longer than a decode step go to MLX's own ops,
    so a LoRA step through an installed model still computes its loss and gradients."""
    import mlx.core as mx
    import mlx.nn as nn
    from mlx_lm import load
    from mlx_lm.tuner.trainer import default_loss

    model, tokenizer = load(str(tiny_checkpoint))
    try:
        assert kernels.install() is True
        batch = mx.array([tokenizer.encode("What is the capital of France? Paris is the capital.")])
        (loss, _), grads = nn.value_and_grad(model, default_loss)(model, batch, mx.array([[0, batch.shape[1]]]))
        mx.eval(loss, grads)
    finally:
        kernels.uninstall()
    assert loss.item() > 0

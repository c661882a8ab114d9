"""The student loads without mlx-lm's loader or transformers: the same weights, adapters, token ids
and text as mlx-lm and transformers give; what it cannot read goes to mlx-lm's loader; and mlx-lm
whole still imports, without PyTorch, when something asks for it."""

import json
import random
import shutil
import subprocess
import sys

import pytest

from assistant import checkpoint, mlxlm
from assistant.chat_tokenizer import ChatTokenizer, TextStream, readable
from assistant.student import Student

CONVERSATIONS = [
    [{"role": "user", "content": "Say hello."}],
    [{"role": "system", "content": "You are Apprentice. Be brief."}, {"role": "user", "content": "What's 17 × 23?"}],
    [
        {"role": "system", "content": "S"},
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "b  \n c"},
        {"role": "user", "content": "<|im_end|> ünïcode 🙂 tabs\there"},
    ],
    [{"role": "user", "content": "  leading and trailing spaces  "}],
]


def reference_tokenizer(folder):
    """mlx-lm's tokenizer (transformers' fast tokenizer inside), as the student loaded it before."""
    mlxlm.full()
    from mlx_lm.utils import load_tokenizer

    return load_tokenizer(folder, eos_token_ids=checkpoint.config_of(folder).get("eos_token_id"))


@pytest.fixture(params=["tiny", "default"])
def folder(request):
    return request.getfixturevalue(f"{request.param}_checkpoint")


def test_prompts_and_text_are_those_of_transformers(folder):
    assert readable(folder)
    ours, theirs = ChatTokenizer(folder, checkpoint.config_of(folder).get("eos_token_id")), reference_tokenizer(folder)
    assert len(ours) == len(theirs) and ours.eos_token_ids == theirs.eos_token_ids
    for messages in CONVERSATIONS:
        for add in (True, False):
            expected = list(theirs.apply_chat_template(messages, add_generation_prompt=add, tokenize=True))
            assert ours.apply_chat_template(messages, add_generation_prompt=add) == expected
            assert ours.apply_chat_template(messages, add_generation_prompt=add, tokenize=False) == (
                theirs.apply_chat_template(messages, add_generation_prompt=add, tokenize=False)
            )
    for text in ("Hello world", " x  y ", "héllo\n\nthere 🙂", "don't , stop ."):
        assert ours.encode(text) == theirs.encode(text)
        assert ours.encode(text, add_special_tokens=False) == theirs.encode(text, add_special_tokens=False)
    draw = random.Random(0)
    for _ in range(200):
        ids = [draw.randrange(len(ours)) for _ in range(draw.randrange(1, 40))]
        assert ours.decode(ids) == theirs.decode(ids)


def test_streamed_text_is_the_whole_text_and_never_half_a_character(default_checkpoint):
    tokenizer = ChatTokenizer(default_checkpoint)
    ids = tokenizer.encode("Ünïcode 🙂 and 漢字\nnext line 🙂🙂 done", add_special_tokens=False)
    stream, pieces = TextStream(tokenizer), []
    for token in ids:
        stream.add(token)
        pieces.append(stream.take())
    pieces.append(stream.take(final=True))
    assert "".join(pieces) == tokenizer.decode(ids)
    assert not any("\ufffd" in piece for piece in pieces)
    assert any(piece == "" for piece in pieces[:-1])  # an emoji's first bytes waited for the rest


def logits(model):
    import mlx.core as mx

    return model(mx.array([[1, 5, 9, 30, 2]]))


def same_parameters(a, b) -> bool:
    import mlx.core as mx
    from mlx.utils import tree_flatten

    left, right = dict(tree_flatten(a.parameters())), dict(tree_flatten(b.parameters()))
    return left.keys() == right.keys() and all(
        left[k].dtype == right[k].dtype and mx.array_equal(left[k], right[k]).item() for k in left
    )


def test_a_checkpoint_loads_with_mlx_lms_weights_and_outputs(folder):
    import mlx.core as mx

    assert checkpoint.light_loadable(folder)
    ours, _ = checkpoint.load(folder)
    mlxlm.full()
    from mlx_lm.utils import load_model

    theirs, _ = load_model(folder)
    assert same_parameters(ours, theirs)
    assert mx.array_equal(logits(ours), logits(theirs)).item()


def test_adapters_go_in_as_mlx_lm_puts_them(tiny_checkpoint, tmp_path):
    import mlx.core as mx
    from mlx.utils import tree_flatten

    mlxlm.full()
    from mlx_lm.tuner.utils import linear_to_lora_layers, load_adapters
    from mlx_lm.utils import load_model

    trained, _ = load_model(tiny_checkpoint)
    lora = {"rank": 4, "scale": 10.0, "dropout": 0.0}
    linear_to_lora_layers(trained, 1, lora)
    mx.random.seed(3)
    weights = {
        name: mx.random.normal(p.shape) * 0.1
        for name, p in tree_flatten(trained.trainable_parameters())
        if name.endswith(("lora_a", "lora_b"))
    }
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    mx.save_safetensors(str(adapter / "adapters.safetensors"), weights)
    (adapter / "adapter_config.json").write_text(
        json.dumps({"fine_tune_type": "lora", "num_layers": 1, "lora_parameters": lora})
    )
    assert checkpoint.adapters_loadable(adapter)

    base, _ = checkpoint.load(tiny_checkpoint)
    before = logits(base)
    ours = checkpoint.load_adapters(base, adapter)
    theirs = load_adapters(load_model(tiny_checkpoint)[0], str(adapter))
    theirs.eval()
    assert same_parameters(ours, theirs)
    assert mx.array_equal(logits(ours), logits(theirs)).item()
    assert not mx.allclose(logits(ours), before).item()  # the adapters changed the answer


def test_adapters_that_do_not_fit_are_named(tiny_checkpoint, tmp_path):
    import mlx.core as mx

    adapter = tmp_path / "adapter"
    adapter.mkdir()
    mx.save_safetensors(str(adapter / "adapters.safetensors"), {"model.layers.1.mlp.up_proj.lora_a": mx.zeros((3, 3))})
    lora = {"rank": 4, "scale": 10.0, "dropout": 0.0}
    (adapter / "adapter_config.json").write_text(json.dumps({"num_layers": 1, "lora_parameters": lora}))
    model, _ = checkpoint.load(tiny_checkpoint)
    with pytest.raises(ValueError, match="do not fit this model"):
        checkpoint.load_adapters(model, adapter)


def test_what_it_cannot_read_goes_to_mlx_lms_loader_and_still_answers(tiny_checkpoint, tmp_path):
    remapped = tmp_path / "remapped"
    shutil.copytree(tiny_checkpoint, remapped)
    config = checkpoint.config_of(remapped)
    (remapped / "config.json").write_text(json.dumps({**config, "model_type": "mistral"}))  # mlx-lm maps it to llama
    template = (remapped / "chat_template.jinja").read_text()  # transformers' training tag: its own extension
    (remapped / "chat_template.jinja").write_text(
        template.replace("{{ m['content'] }}", "{% generation %}{{ m['content'] }}{% endgeneration %}")
    )
    assert not checkpoint.light_loadable(remapped) and not readable(remapped)
    foreign = tmp_path / "foreign"
    shutil.copytree(tiny_checkpoint, foreign)
    (foreign / "config.json").write_text(json.dumps({**config, "quantization_config": {"quant_method": "awq"}}))
    assert not checkpoint.light_loadable(foreign)
    (foreign / "tokenizer.json").unlink()
    assert not readable(foreign)

    student = Student(remapped, name="remapped", context_tokens=512)
    try:
        assert "transformers" in sys.modules  # it went through mlx-lm's loader
        response = student.stream([{"role": "user", "content": "Hello"}], max_tokens=4)
        response.complete()
        assert response.usage.tokens >= 1
    finally:
        student.close()


PROBE = """
import sys
from assistant import mlxlm
mlxlm.light()
from mlx_lm.models import llama
from mlx_lm.models.cache import KVCache
light = "transformers" in sys.modules
from mlx_lm import load, stream_generate
print("ASKED", light, "transformers" in sys.modules, "torch" in sys.modules, callable(load), mlxlm.is_light())
"""


def test_mlx_lm_whole_imports_when_asked_and_without_pytorch():
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("ASKED")[-1].split() == ["False", "True", "False", "True", "False"]

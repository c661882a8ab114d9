"""A checkpoint in MLX's own format, loaded with mlx-lm's model classes and nothing else of it.

mlx-lm's `load_model` lives beside its Hugging Face downloader and tokenizers, whose imports
cost more of a cold start than loading the weights. For a folder in MLX's format (a config
naming one of mlx-lm's model types, safetensors weights, affine quantization described by
`quantization` as mlx-lm writes it) this does what `load_model` does: build the model from its
config, let it rename weights (`sanitize`), quantize the layers the weights say are quantized,
with each layer's own group size and bits, and load them strictly. Any other folder (a remapped
model type, a `quantization_config` from another toolkit, custom model code) goes to mlx-lm's
own loader: `light_loadable()` says which. A distilled version's LoRA or DoRA adapters are put in
as mlx-lm's `load_adapters` puts them (its tuner module imports the loader too).

    model, config = checkpoint.load(folder)
    checkpoint.load_adapters(model, adapter_folder)    # when adapters_loadable(adapter_folder)
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path


def config_of(folder: Path) -> dict:
    return json.loads((Path(folder) / "config.json").read_text())


def light_loadable(folder: Path) -> bool:
    """Whether `folder` loads here without mlx-lm's loader (and so without transformers)."""
    try:
        config = config_of(folder)
    except (OSError, ValueError):
        return False
    if "quantization_config" in config or "model_file" in config or "text_config" in config:
        return False
    quantization = config.get("quantization")
    if quantization is not None and quantization.get("mode", "affine") != "affine":
        return False
    if not sorted(Path(folder).glob("model*.safetensors")):
        return False
    return _classes(config) is not None


def load(folder: Path):
    """The model in `folder` with its weights, evaluated, and its config."""
    import mlx.core as mx
    import mlx.nn as nn

    folder = Path(folder)
    config = config_of(folder)
    model_class, args_class = _classes(config)
    weights = {}
    for file in sorted(folder.glob("model*.safetensors")):
        weights.update(mx.load(str(file)))
    model = model_class(args_class.from_dict(config))
    if hasattr(model, "sanitize"):
        weights = model.sanitize(weights)
    if (quantization := config.get("quantization")) is not None:

        def quantized(path, module):
            if path in quantization:  # a layer with its own group size and bits
                return quantization[path]
            if not hasattr(module, "to_quantized") or f"{path}.scales" not in weights:
                return False
            # as mlx-lm: a layer the map does not name was packed as its arrays' shapes say
            inputs = module.weight.shape[-1]
            group_size = inputs // weights[f"{path}.scales"].shape[-1]
            return {"group_size": group_size, "bits": weights[f"{path}.weight"].shape[-1] * 32 // inputs}

        nn.quantize(model, group_size=quantization["group_size"], bits=quantization["bits"], class_predicate=quantized)
    model.eval()
    model.load_weights(list(weights.items()), strict=True)
    mx.eval(model.parameters())
    return model, config


ADAPTER_KINDS = ("lora", "dora")  # a "full" fine-tune's weights go through mlx-lm's loader


def adapters_loadable(folder: Path) -> bool:
    """Whether the adapters in `folder` load here (LoRA or DoRA, as Apprentice's distillation writes them)."""
    try:
        config = json.loads((Path(folder) / "adapter_config.json").read_text())
    except (OSError, ValueError):
        return False
    parameters = config.get("lora_parameters")
    return (
        config.get("fine_tune_type", "lora") in ADAPTER_KINDS
        and isinstance(config.get("num_layers"), int)
        and isinstance(parameters, dict)
        and {"rank", "scale", "dropout"} <= parameters.keys()
        and (Path(folder) / "adapters.safetensors").exists()
    )


def load_adapters(model, folder: Path):
    """`model` with the adapters in `folder` put into its last layers, as mlx-lm's `load_adapters` does."""
    import mlx.core as mx
    import mlx.nn as nn
    from mlx.utils import tree_flatten, tree_unflatten
    from mlx_lm.models.switch_layers import QuantizedSwitchLinear, SwitchLinear
    from mlx_lm.tuner.dora import DoRAEmbedding, DoRALinear
    from mlx_lm.tuner.lora import LoRAEmbedding, LoRALinear, LoRASwitchLinear

    folder = Path(folder)
    config = json.loads((folder / "adapter_config.json").read_text())
    dora = config.get("fine_tune_type", "lora") == "dora"
    parameters = config["lora_parameters"]
    sizes = {"r": parameters["rank"], "scale": parameters["scale"], "dropout": parameters["dropout"]}
    linear = (nn.Linear, nn.QuantizedLinear)
    switch = (SwitchLinear, QuantizedSwitchLinear)
    embedding = (nn.Embedding, nn.QuantizedEmbedding)

    def adapted(layer):
        if not dora and hasattr(layer, "to_lora"):
            return layer.to_lora(**sizes)
        if isinstance(layer, linear):
            return (DoRALinear if dora else LoRALinear).from_base(layer, **sizes)
        if isinstance(layer, switch) and not dora:
            return LoRASwitchLinear.from_base(layer, **sizes)
        if isinstance(layer, embedding):
            return (DoRAEmbedding if dora else LoRAEmbedding).from_base(layer, **sizes)
        raise ValueError(f"cannot put an adapter on a layer of type {type(layer).__name__}")

    keys = parameters.get("keys")
    if keys is None:  # every layer of a kind an adapter fits, named within a block
        keys = set()
        for block in model.layers:
            for name, module in block.named_modules():
                if hasattr(module, "to_lora") or isinstance(module, linear + switch + embedding):
                    keys.add(name)
    keys = set(keys)
    for block in model.layers[-max(config["num_layers"], 0) :]:
        if swapped := [(name, adapted(module)) for name, module in block.named_modules() if name in keys]:
            block.update_modules(tree_unflatten(swapped))
    if swapped := [(name, adapted(module)) for name, module in model.named_modules() if name in keys]:
        model.update_modules(tree_unflatten(swapped))

    weights = mx.load(str(folder / "adapters.safetensors"))
    leaves = {
        name: p.shape
        for name, p in tree_flatten(model.parameters())
        if name.rsplit(".", 1)[-1] in ("lora_a", "lora_b", "m")
    }
    wrong = [name for name, w in weights.items() if leaves.get(name) != w.shape]
    if wrong:
        raise ValueError(f"the adapters in {folder} do not fit this model ({', '.join(sorted(wrong)[:3])})")
    model.load_weights(list(weights.items()), strict=False)
    model.eval()
    mx.eval(model.parameters())
    return model


def _classes(config: dict):
    """(Model, ModelArgs) of the config's model type in mlx-lm, or None when mlx-lm has no module of that name."""
    from assistant import mlxlm

    mlxlm.light()  # mlx-lm's model modules import MLX alone; its package's __init__ imports transformers
    model_type = config.get("model_type")
    if not isinstance(model_type, str) or not model_type.isidentifier():
        return None
    try:
        module = importlib.import_module(f"mlx_lm.models.{model_type}")
    except ImportError:
        return None
    return module.Model, module.ModelArgs

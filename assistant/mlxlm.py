"""mlx-lm, imported in two steps: its model classes at once, the rest only when something asks.

mlx-lm's package `__init__` imports its converter, generator and loader, and those import
transformers and huggingface_hub's HTTP stack: more than half a second of a private `ask`'s
cold start, for a query that needs only the model classes (`mlx_lm.models`), the prompt cache
and the sampler, which import MLX alone. `light()` registers the package without running its
`__init__`, so its submodules import on their own; the first time anything asks the package
itself for a name (`from mlx_lm import load`), `__init__` runs then (PEP 562's module
`__getattr__`), through `full()`.

`full()` imports mlx-lm whole without PyTorch: transformers imports torch whenever it is
installed, though a tokenizer never uses it and nothing in Apprentice runs a torch model.
Marking torch absent (`sys.modules[name] = None`, Python's way of blocking an import) while
transformers is first imported makes it skip torch; the mark is removed afterwards, so
`import torch` still works for anyone who asks for it.

    mlxlm.light()   # then: from mlx_lm.models import llama; from mlx_lm.models.cache import KVCache
    mlxlm.full()    # then: from mlx_lm.utils import load_model; from mlx_lm import stream_generate
"""

from __future__ import annotations

import importlib.util
import os
import sys
import threading

# transformers' lazy modules break when two threads import them at once (two models loading in
# one process), so imports take turns; reentrant, as a full import can start inside a light one's access.
LOCK = threading.RLock()


def light() -> None:
    """Make mlx-lm's submodules importable without its package `__init__` (and so without transformers)."""
    with LOCK:
        if "mlx_lm" in sys.modules:
            return
        spec = importlib.util.find_spec("mlx_lm")
        if spec is None:
            return  # not installed: the import that follows says so
        package = importlib.util.module_from_spec(spec)
        package.__getattr__ = _complete  # a name its __init__ defines: run __init__ then
        sys.modules["mlx_lm"] = package


def is_light() -> bool:
    """Whether mlx-lm is registered without its package `__init__` having run."""
    package = sys.modules.get("mlx_lm")
    return package is not None and package.__dict__.get("__getattr__") is _complete


def full() -> None:
    """Import mlx-lm whole (its loader, generator, trainer and tokenizers), without PyTorch."""
    with LOCK:
        if "mlx_lm" in sys.modules and not is_light():
            return
        if "transformers" in sys.modules or "torch" in sys.modules:
            _run_init()
            return
        os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")  # no "PyTorch was not found" on stderr
        from assistant import coldstart

        coldstart.install()  # transformers' export table from one file, not from scanning 3,400
        sys.modules["torch"] = None
        try:
            _run_init()
        finally:
            coldstart.uninstall()
            if "torch" in sys.modules and sys.modules["torch"] is None:
                del sys.modules["torch"]


def _run_init() -> None:
    """Run the package's `__init__`: in the light package when there is one (its submodules stay the ones
    already imported), else by a plain import."""
    package = sys.modules.get("mlx_lm")
    if package is None or not is_light():
        import mlx_lm  # noqa: F401

        return
    del package.__getattr__
    try:
        package.__spec__.loader.exec_module(package)
    except BaseException:
        package.__getattr__ = _complete  # still light: the next access tries again and raises the same error
        raise


def _complete(name: str):
    if name.startswith("__"):  # probes (`__path__` lookups, copy, pickle) never need the whole package
        raise AttributeError(name)
    full()
    package = sys.modules["mlx_lm"]
    try:
        return package.__dict__[name]
    except KeyError:
        raise AttributeError(f"module 'mlx_lm' has no attribute {name!r}") from None

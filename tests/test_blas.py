"""The BLAS under MLX: scipy-openblas32 through the forwarder on a machine with only Python, its
results equal to numpy's, its speed, and APPRENTICE_BLAS choosing or turning it off.

Each case runs in a child process: the BLAS is chosen once per process, before MLX loads.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import blas

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the BLAS is chosen on Linux only (macOS: Accelerate)")

# In the child: products and a singular value decomposition through MLX on the CPU, against numpy's,
# and the best of five timings of a 512x512 float32 product.
PROBE = """
import json, sys, time
from assistant import blas
blas.ensure()
import mlx.core as mx
import numpy as np

rng = np.random.default_rng(0)
a, b = rng.standard_normal((2, 512, 512), dtype=np.float32)
product = mx.matmul(mx.array(a), mx.array(b), stream=mx.cpu)
singular = mx.linalg.svd(mx.array(a[:64, :64]), compute_uv=False, stream=mx.cpu)
times = []
for _ in range(5):
    start = time.perf_counter()
    mx.eval(mx.matmul(mx.array(a), mx.array(b), stream=mx.cpu))
    times.append(time.perf_counter() - start)
maps = open("/proc/self/maps").read()
print(json.dumps({
    "describe": blas.describe(),
    "product_error": float(np.abs(np.array(product) - a.astype(np.float64) @ b).max()),
    "singular_error": float(np.abs(np.array(singular) - np.linalg.svd(a[:64, :64].astype(np.float64))[1]).max()),
    "seconds": min(times),
    "forwarder": "openblas/_forward" in maps,
}))
"""


def probe(setting: str) -> dict:
    # one OpenBLAS thread: two spinning threads on cores that other processes share measure the
    # sharing, not the library (0.1 s instead of 0.005 s on a loaded 2-core machine)
    env = {**os.environ, "APPRENTICE_BLAS": setting, "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def need_forwarder() -> None:
    if blas.scipy_openblas() is None:
        pytest.skip("scipy-openblas32 is not installed (a dependency on Linux): pip install -e .")
    if blas.forwarder() is None:
        pytest.skip("the BLAS forwarder was not built: it needs a C compiler at install (setup.py)")


def test_a_machine_with_only_python_computes_on_openblas_from_pypi_with_numpys_results():
    need_forwarder()
    fast = probe("scipy-openblas32")
    reference = probe("none")

    assert fast["describe"].startswith("OpenBLAS (1 thread, ") and "scipy-openblas32" in fast["describe"]
    assert fast["forwarder"] and not reference["forwarder"]
    assert "reference BLAS (APPRENTICE_BLAS=none)" in reference["describe"]
    # float32 products: within float32 rounding of float64's (sums of 512 terms of size ~1)
    assert fast["product_error"] < 1e-3 and reference["product_error"] < 1e-3
    assert fast["singular_error"] < 1e-3  # LAPACK's gesdd, forwarded too
    # what a user notices: prefill is matrix products, and OpenBLAS runs them many times faster
    # (30-70x on one thread here; 5x leaves room for a busy machine)
    assert fast["seconds"] * 5 < reference["seconds"], (fast["seconds"], reference["seconds"])


def test_the_forwarder_exports_every_blas_and_lapack_name_libmlx_imports():
    need_forwarder()
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("nm (binutils) is not installed, so libmlx's imports cannot be listed")
    import mlx

    libmlx = next(Path(p) / "lib" / "libmlx.so" for p in mlx.__path__ if (Path(p) / "lib" / "libmlx.so").exists())

    def symbols(path: Path, which: str) -> set[str]:
        out = subprocess.run([nm, "-D", which, str(path)], capture_output=True, text=True, check=True).stdout
        return {line.split()[-1].split("@")[0] for line in out.splitlines() if line.strip()}

    # cblas_* and Fortran LAPACK/BLAS names: a precision letter, the routine, a trailing underscore
    imported = {
        name
        for name in symbols(libmlx, "--undefined-only")
        if name.startswith("cblas_") or re.fullmatch(r"[sdcz][a-z]{2,6}_", name)
    }
    assert "cblas_sgemm" in imported
    assert imported <= symbols(blas.forwarder(), "--defined-only")


def test_apprentice_blas_names_a_library_or_turns_it_off():
    def which(setting: str) -> str:
        env = {**os.environ, "APPRENTICE_BLAS": setting}
        done = subprocess.run(
            [sys.executable, "-m", "assistant.blas"], env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    assert which("none") == "MLX's bundled reference BLAS (APPRENTICE_BLAS=none)"
    assert which("/nowhere/libopenblas.so.0") == (
        "MLX's bundled reference BLAS (APPRENTICE_BLAS=/nowhere/libopenblas.so.0 does not exist)"
    )
    system = blas.system_openblas()
    if system:  # a library's path is loaded as given, with no prefix to forward
        shown = which(system)
        assert shown.startswith("OpenBLAS (") and shown.endswith(f"APPRENTICE_BLAS): {system}")
    if blas.forwarder() and blas.scipy_openblas():
        # with no setting: the system's OpenBLAS where there is one, else the one from PyPI
        expected = "the system's" if system else "scipy-openblas32 from PyPI, through the forwarder"
        assert expected in which("")

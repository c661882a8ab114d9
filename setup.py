"""Build the optional native parts on Linux; all metadata is in pyproject.toml.

- assistant/kernels/_qmatvec, the fast quantized kernel. When CMake, a C++20 compiler, nanobind
  or MLX's headers are missing, or the build fails, installation goes on with a warning and the
  student runs MLX's own kernels (float32 by default on Linux). APPRENTICE_NO_KERNELS=1 skips it.
- assistant/openblas/_forward, the BLAS forwarder: MLX's BLAS and LAPACK names as jumps to
  scipy-openblas32's prefixed ones (assistant/blas.py). It needs only a C compiler; without one
  MLX keeps its reference BLAS, unless the system has OpenBLAS.

On macOS MLX's Metal and Accelerate paths are already fast, so nothing is built there.

    pip install -e .                      # builds both in place, next to their __init__.py
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
FORWARDER = "assistant.openblas._forward"


class CMakeExtension(Extension):
    def __init__(self, name: str, sourcedir: Path):
        super().__init__(name, sources=[], optional=True)
        self.sourcedir = str(sourcedir)


class OptionalCMakeBuild(build_ext):
    """Configure and build each CMakeExtension; a failure is a warning, never an install error."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - the extension is optional by design
            self._skip(exc)

    def build_extension(self, ext: Extension) -> None:
        try:
            if isinstance(ext, CMakeExtension):
                self._cmake(ext)
            else:
                super().build_extension(ext)
        except Exception as exc:  # noqa: BLE001 - each extension is optional by design
            self._skip(exc, ext)

    def _cmake(self, ext: CMakeExtension) -> None:
        cmake = shutil.which("cmake")
        if cmake is None:
            raise RuntimeError("cmake is not installed")
        out = Path(self.get_ext_fullpath(ext.name)).resolve().parent
        build = Path(self.build_temp).resolve() / ext.name
        build.mkdir(parents=True, exist_ok=True)
        args = [
            f"-DCMAKE_LIBRARY_OUTPUT_DIRECTORY={out}",
            f"-DPython_EXECUTABLE={sys.executable}",
            "-DCMAKE_BUILD_TYPE=Release",
        ]
        if shutil.which("ninja"):
            args += ["-G", "Ninja"]
        subprocess.run([cmake, ext.sourcedir, *args], cwd=build, check=True)
        subprocess.run([cmake, "--build", ".", "-j", str(os.cpu_count() or 2)], cwd=build, check=True)

    @staticmethod
    def _skip(exc: Exception, ext: Extension | None = None) -> None:
        if ext is not None and ext.name == FORWARDER:
            print(
                f"WARNING: the BLAS forwarder was not built ({exc}); "
                "MLX will use the system's OpenBLAS if there is one, else its slow reference BLAS.",
                file=sys.stderr,
            )
            return
        if ext is not None and ext.name == "assistant._scan":
            print(f"WARNING: the router's int8 scan was not built ({exc}); it searches in float32.", file=sys.stderr)
            return
        print(
            f"WARNING: the fast 4-bit kernel was not built ({exc}); "
            "the student will use MLX's own kernels (float32 on Linux).",
            file=sys.stderr,
        )


def extensions() -> list[Extension]:
    if sys.platform != "linux":
        return []
    # plain C, no Python API: a shared library that assistant/blas.py loads with ctypes
    # optional: an extension that failed is not copied next to its package, and the next one still builds
    out: list[Extension] = [Extension(FORWARDER, sources=["assistant/openblas/forward.c"], optional=True)]
    # the router's int8 scan (assistant/outcomes.py loads it with ctypes; without it, the float32 search)
    out.append(Extension("assistant._scan", sources=["assistant/scan.c"], optional=True, extra_compile_args=["-O2"]))
    if os.environ.get("APPRENTICE_NO_KERNELS") != "1":
        out.append(CMakeExtension("assistant.kernels._qmatvec", HERE / "assistant" / "kernels"))
    return out


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalCMakeBuild})

"""Build the optional fast quantized kernel (assistant/kernels/_qmatvec); all metadata is in pyproject.toml.

The extension is optional: when CMake, a C++20 compiler, nanobind or MLX's headers are
missing, or the build fails, installation goes on with a warning and the student runs
MLX's own kernels (float32 by default on Linux). APPRENTICE_NO_KERNELS=1 skips it.
On macOS MLX's Metal and Accelerate paths are already fast, so nothing is built there.

    pip install -e .                      # builds it in place, next to assistant/kernels/__init__.py
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


class CMakeExtension(Extension):
    def __init__(self, name: str, sourcedir: Path):
        super().__init__(name, sources=[])
        self.sourcedir = str(sourcedir)


class OptionalCMakeBuild(build_ext):
    """Configure and build each CMakeExtension; a failure is a warning, never an install error."""

    def run(self) -> None:
        try:
            super().run()
        except Exception as exc:  # noqa: BLE001 - the extension is optional by design
            self._skip(exc)

    def build_extension(self, ext: Extension) -> None:
        if not isinstance(ext, CMakeExtension):
            return super().build_extension(ext)
        try:
            self._cmake(ext)
        except Exception as exc:  # noqa: BLE001
            self._skip(exc)

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
    def _skip(exc: Exception) -> None:
        print(
            f"WARNING: the fast 4-bit kernel was not built ({exc}); "
            "the student will use MLX's own kernels (float32 on Linux).",
            file=sys.stderr,
        )


def extensions() -> list[Extension]:
    if sys.platform != "linux" or os.environ.get("APPRENTICE_NO_KERNELS") == "1":
        return []
    return [CMakeExtension("assistant.kernels._qmatvec", HERE / "assistant" / "kernels")]


setup(ext_modules=extensions(), cmdclass={"build_ext": OptionalCMakeBuild})

"""Matplotlib for the plots commands write with `--plot FILE.png`: drawn to a file, never a window.

matplotlib is a dependency of the project, but an install can lose it; then `--plot` says so in one
sentence instead of a traceback, and the rest of the command's output is unaffected.
"""

from __future__ import annotations

from assistant.errors import ApprenticeError


def pyplot():
    """`matplotlib.pyplot` on the Agg backend (no display needed, none opened)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ApprenticeError("--plot needs matplotlib: `pip install matplotlib`.") from None
    return plt

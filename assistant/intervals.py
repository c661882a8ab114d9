"""A 95% interval for a share counted out of a few: the Wilson score interval.

It stays inside 0 to 1 and is honest where the plain normal interval is not: for small counts and
for shares at 0 or 1 (none of ten sent is no proof that none ever will be). Used for the share of
questions sent to the teacher (`apprentice log stats`) and a signal's precision and recall
(`python -m model.bench.rephrase`).
"""

from __future__ import annotations

import math


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float] | None:
    """The 95% Wilson score interval of `k` out of `n` (None when `n` is 0)."""
    if n == 0:
        return None
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)

"""The BLAS forwarder's folder: forward.c, built at install into `_forward*.so` (setup.py).

It is a plain shared library, not a Python module: assistant/blas.py loads it with ctypes after
scipy-openblas32's library, so MLX's `cblas_sgemm` and LAPACK calls run on OpenBLAS.
"""

"""Benchmarks time the BLAS kernel OpenBLAS picks for this CPU, so they run without the variables that override it.

OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE may be set on these machines (for the test suite's reproducibility); with
them set, OpenBLAS takes slower AVX2 kernels. A benchmark calls ``run_with_machine_blas()`` before importing NumPy.
"""

from __future__ import annotations

import os
import sys

BLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def run_with_machine_blas() -> None:
    """Re-execute the running script without BLAS_OVERRIDES when any of them is set; return when none is."""
    if any(v in os.environ for v in BLAS_OVERRIDES):
        os.execve(sys.executable, [sys.executable, *sys.argv],
                  {k: v for k, v in os.environ.items() if k not in BLAS_OVERRIDES})

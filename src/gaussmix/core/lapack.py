"""Precision Cholesky factors of large covariance stacks by LAPACK, one matrix per thread, without the GIL.

SciPy's Python wrappers (``scipy.linalg.lapack``) hold the GIL for the whole call: the K factorisations of a
D = 1,024 M-step ran one after the other whatever the thread count (four potrf: 0.089 s on one thread, 0.077 s
on two). SciPy exports the same routines to Cython (``scipy.linalg.cython_lapack``, a public API); called here
through ctypes, which releases the GIL for the duration of a foreign call, four potrf + trtri took 0.143 s on one
thread and 0.081 s on two.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable

import numpy as np

from .threads import map_on_cores

_INT_P = ctypes.POINTER(ctypes.c_int)
# Our own prototypes of the two capsule functions (setting argtypes on ctypes.pythonapi's would change them for
# every other user of ctypes in the process).
_capsule_name = ctypes.PYFUNCTYPE(ctypes.c_char_p, ctypes.py_object)(("PyCapsule_GetName", ctypes.pythonapi))
_capsule_pointer = ctypes.PYFUNCTYPE(ctypes.c_void_p, ctypes.py_object, ctypes.c_char_p)(
    ("PyCapsule_GetPointer", ctypes.pythonapi))


@functools.cache
def _routine(name: str, n_flags: int) -> Callable | None:
    """LAPACK routine ``name`` (``n_flags`` character arguments, then n, a, lda, info) as a ctypes function, or
    None where SciPy does not export it."""
    try:
        from scipy.linalg import cython_lapack

        capsule = cython_lapack.__pyx_capi__[name]
        address = _capsule_pointer(capsule, _capsule_name(capsule))
    except (ImportError, AttributeError, KeyError, ValueError):
        return None
    prototype = ctypes.CFUNCTYPE(None, *([ctypes.c_char_p] * n_flags), _INT_P, ctypes.c_void_p, _INT_P, _INT_P)
    return prototype(address)


def available(dtype: np.dtype) -> bool:
    """Whether ``precisions_cholesky`` can serve a stack of ``dtype``."""
    prefix = {np.dtype(np.float64): "d", np.dtype(np.float32): "s"}.get(np.dtype(dtype))
    return prefix is not None and _routine(prefix + "potrf", 1) is not None and _routine(prefix + "trtri", 2) \
        is not None


def precisions_cholesky(covariances: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
    """P_k = inverse(cholesky(Σ_k))ᵀ (upper triangular, P_k P_kᵀ = Σ_k⁻¹) of a (K, D, D) stack of symmetric
    float32/float64 matrices, and the components that are not positive definite (their P_k is NaN).

    Each matrix is factorised in place in one C-ordered copy: LAPACK reads the copy as its transpose, the same
    symmetric matrix, writes Lᵀ into the upper triangle (potrf, "L"), then the transpose of L⁻¹, which is P_k
    (trtri, "L"). The K matrices run on all cores (``threads.map_on_cores``).
    """
    out = np.array(covariances, order="C")
    prefix = "d" if out.dtype == np.float64 else "s"
    potrf, trtri = _routine(prefix + "potrf", 1), _routine(prefix + "trtri", 2)
    if potrf is None or trtri is None or out.dtype.char not in "fd":
        raise ValueError(f"LAPACK's potrf/trtri are not available for {out.dtype}; see ``available``.")
    d = out.shape[-1]
    lower = np.tri(d, k=-1, dtype=bool)

    def factorise(k: int) -> bool:
        matrix = out[k]
        n, info = ctypes.c_int(d), ctypes.c_int(0)
        potrf(b"L", ctypes.byref(n), matrix.ctypes.data, ctypes.byref(n), ctypes.byref(info))
        if info.value == 0:
            trtri(b"L", b"N", ctypes.byref(n), matrix.ctypes.data, ctypes.byref(n), ctypes.byref(info))
        if info.value != 0 or not np.all(np.isfinite(matrix.diagonal())):  # NaN input passes potrf
            matrix[...] = np.nan
            return False
        np.copyto(matrix, 0.0, where=lower)  # the strict lower triangle still holds the input's values
        return True

    ok = map_on_cores(factorise, out.shape[0])
    return out, tuple(k for k, good in enumerate(ok) if not good)

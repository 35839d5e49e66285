"""The array namespace the core computes in: NumPy by default, any array-API library through array-api-compat.

The core's math is written against a namespace ``xp`` so that the same functions run on NumPy arrays and on
PyTorch tensors (on any device). The few operations the array-API standard lacks (triangular solves) live here.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np
import scipy.linalg


def array_namespace(*arrays: Any) -> ModuleType:
    """The namespace of the given arrays: ``numpy`` for NumPy arrays and scalars, array-api-compat's otherwise."""
    foreign = [a for a in arrays if a is not None and not isinstance(a, (np.ndarray, np.generic, int, float))]
    if not foreign:
        return np
    try:
        import array_api_compat
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"gaussmix needs array-api-compat for {type(foreign[0]).__name__} inputs: "
            'pip install "gaussmix[torch]"'
        ) from exc
    return array_api_compat.array_namespace(*foreign)


def is_numpy(xp: ModuleType) -> bool:
    """Whether ``xp`` is NumPy (or array-api-compat's wrapper of it), where SciPy fast paths apply."""
    return xp is np or getattr(xp, "__name__", "").endswith("numpy")


def to_numpy(a: Any) -> np.ndarray:
    """A NumPy copy (or view) of an array from any namespace, moved to the host."""
    if isinstance(a, np.ndarray):
        return a
    if hasattr(a, "detach"):  # torch.Tensor
        return a.detach().cpu().numpy()
    return np.asarray(a)


def device_kwargs(xp: ModuleType, like: Any) -> dict:
    """``{"device": like.device}`` for namespaces with devices, ``{}`` for NumPy: pass to xp.zeros, xp.eye, ..."""
    return {} if is_numpy(xp) else {"device": like.device}


def to_device(xp: ModuleType, host: np.ndarray, like: Any) -> Any:
    """A host NumPy array (random draws, row indices) as an array of ``like``'s namespace and device."""
    return host if is_numpy(xp) else xp.asarray(host, device=like.device)


def solve_lower_triangular(xp: ModuleType, lower: Any, rhs: Any) -> Any:
    """Solve ``lower @ out = rhs`` for a lower-triangular ``lower`` (batched over leading axes for non-NumPy)."""
    if is_numpy(xp):
        if lower.shape[-1] <= BATCHED_MAX_SIZE:
            return _forward_substitution(np.asarray(lower), np.asarray(rhs))
        if lower.ndim == 2:
            return scipy.linalg.solve_triangular(lower, rhs, lower=True, check_finite=False)
        return np.stack([
            scipy.linalg.solve_triangular(lower[k], rhs[k], lower=True, check_finite=False)
            for k in range(lower.shape[0])
        ])
    import torch

    return torch.linalg.solve_triangular(lower, rhs, upper=False)


def inverse_lower_triangular(xp: ModuleType, lower: Any) -> Any:
    """inverse(lower) of a lower-triangular (..., D, D) stack; NumPy beyond BATCHED_MAX_SIZE by LAPACK's
    trtri (D³/3 flops, a third of a solve against the identity: 0.2 of a 0.9 s EM iteration at D = 1,024), in
    place on each matrix's Fortran-ordered transpose (no copies in or out: 0.25 → 0.12 s for 4 × 1,024²)."""
    eye = xp.eye(lower.shape[-1], dtype=lower.dtype, **({} if is_numpy(xp) else {"device": lower.device}))
    if is_numpy(xp) and lower.shape[-1] <= BATCHED_MAX_SIZE:  # the identity broadcasts over the stack
        return _forward_substitution(np.asarray(lower), eye)
    if not is_numpy(xp) or lower.dtype.char not in "fd":
        rhs = xp.broadcast_to(eye, lower.shape)
        return solve_lower_triangular(xp, lower, rhs if is_numpy(xp) else xp.asarray(rhs, copy=True))
    trtri = scipy.linalg.get_lapack_funcs("trtri", dtype=lower.dtype)
    out = np.array(lower, order="C").reshape(-1, *lower.shape[-2:])
    upper = _strict_upper_mask(lower.shape[-1])
    for matrix in out:  # matrix.T is Fortran-ordered and upper triangular: LAPACK works on it in place
        inverse, info = trtri(matrix.T, lower=0, overwrite_c=1)
        if info != 0:  # a zero on the diagonal: not invertible, as a solve would have found
            raise np.linalg.LinAlgError(f"Singular triangular matrix (diagonal entry {info}).")
        if not np.shares_memory(inverse, matrix):
            matrix[...] = inverse.T
        np.copyto(matrix, 0.0, where=upper)  # the strict upper triangle still holds the input's values
    return out.reshape(lower.shape)


def cholesky_lower(a: np.ndarray) -> np.ndarray:
    """Lower Cholesky factors of a NumPy stack (..., D, D); NaN where a matrix is not positive definite (the whole
    stack when it takes ``np.linalg.cholesky``, which stops at the first failure).

    Beyond BATCHED_MAX_SIZE each matrix goes to LAPACK's potrf on its Fortran-ordered transpose (the
    matrix is symmetric), in place: ``np.linalg.cholesky`` copies each 1,024² matrix in and out (0.17 vs 0.10 s
    for four). Smaller stacks take ``np.linalg.cholesky`` whole.
    """
    if a.shape[-1] <= BATCHED_MAX_SIZE or a.dtype.char not in "fd":
        try:
            return np.linalg.cholesky(a)
        except np.linalg.LinAlgError:
            return np.full(a.shape, np.nan, dtype=np.result_type(a.dtype, np.float32))
    potrf = scipy.linalg.get_lapack_funcs("potrf", dtype=a.dtype)
    out = np.array(a, order="C").reshape(-1, *a.shape[-2:])
    for matrix in out:  # clean=1: LAPACK's wrapper zeroes the other triangle
        factor, info = potrf(matrix.T, lower=0, overwrite_a=1, clean=1)
        if info != 0:
            matrix[...] = np.nan
        elif not np.shares_memory(factor, matrix):
            matrix[...] = factor.T
    return out.reshape(a.shape)


def _strict_upper_mask(size: int) -> np.ndarray:
    return ~np.tri(size, dtype=bool)


#: NumPy matrices up to this size are factorised, inverted and solved as whole stacks (batched forward
#: substitution, ``np.linalg.cholesky``): OpenBLAS's threaded trsm takes milliseconds per small matrix on a busy
#: machine (thread wake-ups), the M-step's whole cost. Larger ones go to LAPACK one matrix at a time, in place
#: (``cholesky_lower``, ``inverse_lower_triangular``, ``lapack.precisions_cholesky``).
BATCHED_MAX_SIZE = 128


def _forward_substitution(lower: np.ndarray, rhs: np.ndarray) -> np.ndarray:
    """Solve lower @ out = rhs row by row for a (..., D, D) stack; no BLAS threads, exact zeros kept."""
    out = np.empty(np.broadcast_shapes(lower.shape[:-2], rhs.shape[:-2]) + rhs.shape[-2:],
                   dtype=np.result_type(lower, rhs))
    for i in range(lower.shape[-1]):
        partial = np.einsum("...j,...jm->...m", lower[..., i, :i], out[..., :i, :]) if i else 0.0
        out[..., i, :] = (rhs[..., i, :] - partial) / lower[..., i, i, None]
    return out

"""The worst-explained rows a block's statistics carry: the lowest log p(x), ranked the same for any split.

BLAS kernels and SIMD loops round a row's log-density differently depending on its position in a block, so
rows whose fast values (nearly) tie are re-ranked by a computation that depends on the row alone.
"""

from __future__ import annotations

import math

import numpy as np

from .params import GaussianParams, log_det_cholesky
from .stats import N_WORST

LOG_2PI = math.log(2.0 * math.pi)


def lowest_rows(values: np.ndarray, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``count`` smallest values below +inf and their indices, ordered by (value, index) so ties split alike."""
    candidates = np.flatnonzero(values < np.inf)
    if candidates.size > count:
        kth = np.partition(values[candidates], count - 1)[count - 1]
        candidates = candidates[values[candidates] <= kth]
    idx = candidates[np.lexsort((candidates, values[candidates]))][:count]
    return values[idx], idx.astype(np.int64)


#: Most rows tied (within rounding) with the N_WORST-th lowest log p(x) that are recomputed exactly per block...
MAX_TIED_ROWS = 256
#: ...and at most about this many multiply-adds for them (rows·K·D² for full/tied): at D = 1,024 a degenerate
#: model ties hundreds of rows within rounding, and recomputing 256 of them took 8 s per block.
MAX_TIED_WORK = 2**25


def worst_rows(candidates: np.ndarray, X: np.ndarray, params: GaussianParams,
                row_offset: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The N_WORST rows by (log p(x), row), the same for any split of the rows into blocks.

    BLAS kernels and SIMD loops round a row's value differently by its position in a block, so the candidates
    (and rows tied with the last within ``slack``) are recomputed by ``_row_log_prob``, a function of the row.
    """
    values, _ = lowest_rows(candidates, N_WORST)
    if values.size == 0:
        return values, np.zeros(0, np.int64), np.zeros((0, X.shape[1]))
    slack = 1e-6 * max(1.0, abs(float(values[-1])))
    certain = np.flatnonzero(candidates < values[-1] - slack)
    k, d = params.n_components, params.n_features
    work_per_row = k * d * (d if params.covariance_type in ("full", "tied") else 1)
    band = np.flatnonzero(np.abs(candidates - values[-1]) <= slack)[:min(MAX_TIED_ROWS,
                                                                         max(N_WORST, MAX_TIED_WORK // work_per_row))]
    near = np.union1d(certain, band)
    exact = _row_log_prob(X[near].astype(np.float64), params)
    order = np.lexsort((near, exact))[:N_WORST]
    rows = near[order].astype(np.int64)
    return exact[order], rows + row_offset, X[rows].astype(np.float64)


def _row_log_prob(X: np.ndarray, params: GaussianParams) -> np.ndarray:
    """log p(x) of a few float64 rows (n, D), each a function of its row alone: only elementwise NumPy
    (exactly rounded whatever the SIMD path), sums in a fixed order, math.exp and math.fsum."""
    kind, d = params.covariance_type, params.n_features
    with np.errstate(over="ignore", invalid="ignore"):  # a row beyond ~1e154: inf, or NaN (inf − inf, 0·inf)
        diff = X[:, None, :] - np.asarray(params.means, dtype=np.float64)  # (n, K, D), n ≤ N_WORST + ties
        p = np.asarray(params.precisions_cholesky, dtype=np.float64)
        if kind in ("full", "tied"):
            # C order: P_k arrives as a transposed (Fortran) view, and the row slices below would stride D
            # values apart (8 rows at D = 1,024: 0.18 s, 0.09 s after the copy)
            p3 = np.ascontiguousarray(p if kind == "full" else p[None])
            y = diff[:, :, 0, None] * p3[None, :, 0, :]
            # Upper-triangular P (every model's): row j adds nothing left of column j (adding 0·x changes no
            # value), so skipping it halves the work at high D. Fixed order either way.
            general = any_below_diagonal(p3)
            tmp = np.empty_like(y)
            for j in range(1, d):
                c = 0 if general else j
                np.multiply(diff[:, :, j, None], p3[None, :, j, c:], out=tmp[:, :, c:])
                np.add(y[:, :, c:], tmp[:, :, c:], out=y[:, :, c:])
        else:
            y = diff * (p if kind == "diag" else p[:, None])
        squares = y * y
        maha = squares[:, :, 0].copy()
        for j in range(1, d):
            maha += squares[:, :, j]
    maha[np.isnan(maha)] = np.inf  # overflowed (inf − inf, 0·inf): the row is that far
    with np.errstate(divide="ignore"):
        wlp = (np.log(np.asarray(params.weights, dtype=np.float64)) + log_det_cholesky(p, kind, d)
               - 0.5 * (d * LOG_2PI + maha))
    # Python floats row by row (one conversion, not a NumPy call per row: the re-ranking runs every pass).
    # Terms below e^-60 of the largest cannot move the sum; skipping them keeps this cheap for K = 2048.
    out = [peak if not math.isfinite(peak) else
           peak + math.log(math.fsum([math.exp(v - peak) for v in row if v >= peak - 60.0]))
           for row, peak in zip(wlp.tolist(), np.max(wlp, axis=1).tolist())]
    return np.array(out, dtype=np.float64)


def any_below_diagonal(p3: np.ndarray) -> bool:
    """Whether any matrix of the (K, D, D) stack has a non-zero below its diagonal, row by row (a tril copy of
    the stack cost more than the re-ranking of small models)."""
    return any(bool(np.any(p3[:, j, :j])) for j in range(1, p3.shape[-1]))

"""The E-step of rows with missing values (NaN): marginal densities, and expected statistics by conditioning.

A row x with observed coordinates o and missing m is explained by its marginal p(x_o) = Σ_k w_k N(x_o | μ_ko,
Σ_koo); given component k its missing part is N(x̂_km, C_k) with x̂_km = μ_km + B_k(x_o − μ_ko) and C_k the Schur
complement (``conditional``). The expected complete-data statistics then hold x̂_k in place of x and add C_k to
the scatter (Ghahramani & Jordan 1994, sec. 3; Little & Rubin 2002, sec. 11.2), so they are ordinary
``SufficientStats`` and the M-step is unchanged: EM on data missing at random, exact for every covariance type.

Rows are grouped by missingness pattern: each pattern is factorised once per call (``conditioning``), whatever
its number of rows. Rows with nothing observed contribute their prior (responsibilities = the weights); the
public edges refuse them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np

from .conditional import Conditioning, conditional_mean, conditioning, log_normalise, weighted_marginal_log_prob
from .params import GaussianParams
from .stats import N_WORST, SufficientStats
from .worst_rows import lowest_rows


def nan_rows(X: Any) -> np.ndarray | None:
    """The boolean mask (n,) of NumPy rows holding a NaN, or None when there is none (the common case, cheaply)."""
    if not isinstance(X, np.ndarray) or X.dtype.kind != "f" or X.size == 0:
        return None
    if not np.isnan(X.min()):  # NaN propagates through a minimum: one reduction, which cannot overflow
        return None
    rows = np.asarray(np.isnan(X).any(axis=1))
    return rows if rows.any() else None


def _patterns(X: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(rows, observed columns) of each missingness pattern of X (n, D), rows in increasing order."""
    missing = np.isnan(X)
    if X.shape[1] <= 62:  # a pattern as the bits of one integer: sorting integers, not rows of booleans
        codes = missing @ (np.int64(1) << np.arange(X.shape[1], dtype=np.int64))
    else:
        codes = np.unique(missing, axis=0, return_inverse=True)[1].reshape(-1)
    order = np.argsort(codes, kind="stable")
    starts = np.flatnonzero(np.r_[True, codes[order][1:] != codes[order][:-1]])
    for rows in np.split(order, starts[1:]):
        yield rows, np.flatnonzero(~missing[rows[0]])


def _pattern_log_prob(X: np.ndarray, params: GaussianParams) -> tuple[np.ndarray, list[tuple[Any, Conditioning]]]:
    """log w_k + log N(x_o | k) of every row (n, K), and each pattern's (rows, conditioning)."""
    wlp = np.empty((X.shape[0], params.n_components))
    parts = []
    for rows, observed in _patterns(X):
        cond = conditioning(params, observed)
        wlp[rows] = weighted_marginal_log_prob(cond, X[np.ix_(rows, observed)].astype(np.float64))
        parts.append((rows, cond))
    return wlp, parts


def missing_log_resp(X: np.ndarray, params: GaussianParams) -> tuple[np.ndarray, np.ndarray]:
    """log p(x_o) (n,) and log p(k | x_o) (n, K) of rows with NaN, from their observed coordinates, float64."""
    wlp, _ = _pattern_log_prob(X, params)
    return log_normalise(wlp)


def _completed(X: np.ndarray, rows: np.ndarray, cond: Conditioning, k: int) -> np.ndarray:
    """The pattern's rows (float64) with their missing coordinates replaced by E[x_m | x_o, k]."""
    filled = X[rows].astype(np.float64)
    filled[:, cond.rest] = conditional_mean(cond, filled[:, cond.given], k)
    return filled


def missing_chunk_stats(X: np.ndarray, params: GaussianParams, sample_weight: Any = None, row_offset: int = 0,
                        labels: np.ndarray | None = None) -> SufficientStats:
    """Expected sufficient statistics of rows with NaN (n, D), about ``params.means``.

    ``labels`` (n,) fixes each row's component (semi-supervised rows): responsibilities are one-hot and the
    log-likelihood is the joint log w_y + log N(x_o | y). The worst rows carry their conditional expectations.
    """
    kind = params.covariance_type
    center = np.asarray(params.means, dtype=np.float64)
    k_all, d = center.shape
    wlp, parts = _pattern_log_prob(X, params)
    w = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if labels is None:
        log_prob, log_resp = log_normalise(wlp)
        resp = np.exp(log_resp)
    else:
        resp = np.zeros_like(wlp)
        resp[np.arange(X.shape[0]), labels] = 1.0
        log_prob = wlp[np.arange(X.shape[0]), labels]
    rw = resp * w[:, None]
    first = np.zeros((k_all, d))
    second = np.zeros((k_all, d, d))
    expected = np.zeros((X.shape[0], d))  # E[x | x_o]: the worst rows' stand-ins
    for rows, cond in parts:
        for k in range(k_all):
            filled = _completed(X, rows, cond, k)
            expected[rows] += resp[rows, k][:, None] * filled
            r = rw[rows, k]
            diff = filled - center[k]
            first[k] += r @ diff
            second[k] += (r[:, None] * diff).T @ diff
            second[k][np.ix_(cond.rest, cond.rest)] += r.sum() * cond.cond_cov[k]
    positive = w > 0
    with np.errstate(invalid="ignore"):
        total = float(np.sum(np.where(positive, w * log_prob, 0.0)))
    worst_log_prob, worst = lowest_rows(np.where(positive, log_prob, np.inf), N_WORST)
    zero = SufficientStats.zeros(k_all, d, kind, center)
    return replace(zero, n=np.sum(w), log_likelihood=np.asarray(total), resp_sum=rw.sum(axis=0), first=first,
                   second=_reduce_scatter(second, kind), worst_log_prob=worst_log_prob,
                   worst_rows=worst.astype(np.int64) + row_offset, worst_points=expected[worst])


def _reduce_scatter(second: np.ndarray, kind: str) -> np.ndarray:
    """Full (K, D, D) scatters as the covariance type keeps them: summed (tied), diagonal, or trace."""
    if kind == "full":
        return second
    if kind == "tied":
        return second.sum(axis=0)
    diagonal = np.diagonal(second, axis1=1, axis2=2).copy()
    return diagonal if kind == "diag" else diagonal.sum(axis=1)


def impute_rows(X: np.ndarray, params: GaussianParams, rng: np.random.Generator | None = None) -> np.ndarray:
    """X (n, D) float64 with each NaN replaced by E[x_m | x_o] (``rng`` None) or a draw from p(x_m | x_o).

    A draw picks a component from the row's posterior p(k | x_o), then x_m from N(x̂_km, C_k): one completed row
    of a multiple imputation.
    """
    out = np.asarray(X, dtype=np.float64).copy()
    wlp, parts = _pattern_log_prob(out, params)
    _, log_resp = log_normalise(wlp)
    resp = np.exp(log_resp)
    for rows, cond in parts:
        if not cond.rest.size:
            continue
        if rng is None:
            fill = sum(resp[rows, k][:, None] * conditional_mean(cond, out[np.ix_(rows, cond.given)], k)
                       for k in range(cond.n_components))
            out[np.ix_(rows, cond.rest)] = fill
            continue
        cumulative = np.cumsum(resp[rows], axis=1)
        picks = np.minimum((rng.random(rows.size)[:, None] > cumulative).sum(axis=1), cond.n_components - 1)
        for k in np.unique(picks):
            chosen = rows[picks == k]
            mean = conditional_mean(cond, out[np.ix_(chosen, cond.given)], int(k))
            chol = np.linalg.cholesky(cond.cond_cov[k])
            out[np.ix_(chosen, cond.rest)] = mean + rng.standard_normal(mean.shape) @ chol.T
    return out

"""The E-step: responsibilities of a chunk of rows and the sufficient statistics they leave for the M-step."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from .density import logsumexp, weighted_log_prob
from .namespace import array_namespace, is_numpy
from .params import GaussianParams
from .stats import N_WORST, SufficientStats


def log_resp(X: Any, params: GaussianParams) -> tuple[Any, Any]:
    """log p(x_i), shape (n_samples,), and log p(k | x_i), shape (n_samples, n_components), in X's dtype."""
    wlp = weighted_log_prob(X, params)
    log_prob = logsumexp(wlp, axis=1)
    return log_prob, wlp - log_prob[:, None]


def chunk_stats(
    X: Any, params: GaussianParams, sample_weight: Any = None, row_offset: int = 0
) -> SufficientStats:
    """Sufficient statistics of the rows ``X`` (n_samples, n_features) under ``params``, centred on its means.

    ``sample_weight`` (n_samples,) non-negative or None for ones; ``row_offset`` is the global index of X's first
    row, so the worst-explained rows the statistics carry can be named in messages.
    """
    xp = array_namespace(X)
    log_prob, lr = log_resp(X, params)
    resp = xp.exp(lr)
    stats = resp_stats(X, resp, sample_weight, params.means, params.covariance_type)
    log_prob64 = xp.astype(log_prob, xp.float64)
    if sample_weight is None:
        total = xp.sum(log_prob64)
        candidates = log_prob64
    else:
        w = xp.asarray(sample_weight, dtype=xp.float64)
        positive = w > 0
        total = xp.sum(xp.where(positive, w * log_prob64, xp.zeros_like(w)))
        candidates = xp.where(positive, log_prob64, xp.full_like(w, xp.inf))
    worst_log_prob, worst_rows = _lowest(xp, candidates, N_WORST)
    return replace(
        stats,
        log_likelihood=total,
        worst_log_prob=worst_log_prob,
        worst_rows=worst_rows + row_offset,
        worst_points=xp.astype(X[worst_rows], xp.float64),
    )


def resp_stats(
    X: Any, resp: Any, sample_weight: Any, center: Any, covariance_type: str
) -> SufficientStats:
    """Statistics of rows ``X`` with given responsibilities ``resp`` (n_samples, n_components), about ``center``.

    The log-likelihood and worst rows are left empty; this is the part of the E-step that hard (k-means) or
    random initialisations share. Accumulates in float64.
    """
    xp = array_namespace(X)
    X64 = xp.astype(X, xp.float64)
    r = xp.astype(resp, xp.float64)
    if sample_weight is not None:
        r = r * xp.asarray(sample_weight, dtype=xp.float64)[:, None]
    center = xp.asarray(center, dtype=xp.float64)
    n_components, n_features = center.shape
    nk = xp.sum(r, axis=0)
    # First moments about a common centre g, then shifted to each component's centre: exact far from the origin.
    g = xp.mean(center, axis=0)
    first = r.T @ (X64 - g) - nk[:, None] * (center - g)
    if covariance_type in ("full", "tied"):
        scatters = []
        for k in range(n_components):
            diff = X64 - center[k]
            scatters.append((r[:, k][:, None] * diff).T @ diff)
        second = xp.stack(scatters) if covariance_type == "full" else sum(scatters[1:], scatters[0])
    else:
        second = xp.stack([r[:, k] @ ((X64 - center[k]) ** 2) for k in range(n_components)])
        if covariance_type == "spherical":
            second = xp.sum(second, axis=1)
    zero = SufficientStats.zeros(n_components, n_features, covariance_type, center)
    n = xp.sum(nk) if sample_weight is None else xp.sum(xp.asarray(sample_weight, dtype=xp.float64))
    return replace(zero, n=n, resp_sum=nk, first=first, second=second)


def _lowest(xp: Any, values: Any, count: int) -> tuple[Any, Any]:
    """The ``count`` smallest values below +inf and their indices, ordered by (value, index) so ties split alike."""
    if is_numpy(xp):
        candidates = np.flatnonzero(values < np.inf)
        if candidates.size > count:
            kth = np.partition(values[candidates], count - 1)[count - 1]
            candidates = candidates[values[candidates] <= kth]
        idx = candidates[np.lexsort((candidates, values[candidates]))][:count]
        return values[idx], idx.astype(np.int64)
    idx = xp.argsort(values, stable=True)[:count]
    idx = idx[values[idx] < float("inf")]
    return values[idx], xp.astype(idx, xp.int64)

"""The E-step: responsibilities of a chunk of rows and the sufficient statistics they leave for the M-step."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from . import fast_estep
from .density import logsumexp, weighted_log_prob
from .namespace import array_namespace, is_numpy
from .params import GaussianParams
from .stats import N_WORST, SufficientStats
from .worst_rows import lowest_rows


def log_resp(X: Any, params: GaussianParams) -> tuple[Any, Any]:
    """log p(x_i), shape (n_samples,), and log p(k | x_i), shape (n_samples, n_components), in X's dtype.

    NumPy arrays take the one-GEMM-per-block path of ``fast_estep``; other namespaces the per-component reference.
    """
    if _fast(X):
        return fast_estep.fast_log_resp(X, params)
    return log_resp_reference(X, params)


def log_resp_reference(X: Any, params: GaussianParams) -> tuple[Any, Any]:
    """``log_resp`` in any namespace, component by component: the readable reference the fast path is tested on."""
    wlp = weighted_log_prob(X, params)
    log_prob = logsumexp(wlp, axis=1)
    return log_prob, wlp - log_prob[:, None]


def chunk_stats(
    X: Any, params: GaussianParams, sample_weight: Any = None, row_offset: int = 0
) -> SufficientStats:
    """Sufficient statistics of the rows ``X`` (n_samples, n_features) under ``params``, centred on its means.

    ``sample_weight`` (n_samples,) non-negative or None for ones; ``row_offset`` is the global index of X's first
    row, so the worst-explained rows the statistics carry can be named in messages. NumPy arrays take the fused
    path of ``fast_estep`` (one feature block per row block feeds both the densities and the statistics).
    """
    if _fast(X):
        return fast_estep.fast_chunk_stats(X, params, sample_weight, row_offset)
    return chunk_stats_reference(X, params, sample_weight, row_offset)


def chunk_stats_reference(
    X: Any, params: GaussianParams, sample_weight: Any = None, row_offset: int = 0
) -> SufficientStats:
    """``chunk_stats`` in any namespace, component by component: the reference the fast path is tested on."""
    xp = array_namespace(X)
    log_prob, lr = log_resp_reference(X, params)
    resp = xp.exp(lr)
    stats = resp_stats_reference(X, resp, sample_weight, params.means, params.covariance_type)
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
    if _fast(X):
        return fast_estep.fast_resp_stats(X, resp, sample_weight, center, covariance_type)
    return resp_stats_reference(X, resp, sample_weight, center, covariance_type)


def resp_stats_reference(
    X: Any, resp: Any, sample_weight: Any, center: Any, covariance_type: str
) -> SufficientStats:
    """``resp_stats`` in any namespace, component by component: the reference the fast path is tested on."""
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


def _fast(X: Any) -> bool:
    """Whether X takes the NumPy fast path: a float32/float64 NumPy array (anything else, the reference)."""
    return is_numpy(array_namespace(X)) and getattr(X, "dtype", None) is not None and X.dtype.char in "fd"


def _lowest(xp: Any, values: Any, count: int) -> tuple[Any, Any]:
    """The ``count`` smallest values below +inf and their indices, ordered by (value, index) so ties split alike."""
    if is_numpy(xp):
        return lowest_rows(values, count)
    idx = xp.argsort(values, stable=True)[:count]
    idx = idx[values[idx] < float("inf")]
    return values[idx], xp.astype(idx, xp.int64)

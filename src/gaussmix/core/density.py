"""Log-densities of Gaussian components per covariance type, and a log-sum-exp that tolerates -inf rows."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .namespace import array_namespace
from .params import GaussianParams, log_det_cholesky

LOG_2PI = math.log(2.0 * math.pi)


def log_gaussian_prob(X: Any, params: GaussianParams) -> Any:
    """log N(x_i | mean_k, cov_k) for every row and component, shape (n_samples, n_components), in X's dtype.

    Every squared Mahalanobis distance is formed from centred differences (x − mean) or, for diag/spherical,
    from data centred on the mean of the means, so that data far from the origin loses no digits.
    """
    xp = array_namespace(X)
    dtype = X.dtype
    means = xp.asarray(params.means, dtype=dtype)
    prec_chol = xp.asarray(params.precisions_cholesky, dtype=dtype)
    n_features = params.n_features
    kind = params.covariance_type
    if kind in ("full", "tied"):
        columns = []
        for k in range(params.n_components):
            p = prec_chol[k] if kind == "full" else prec_chol
            y = (X - means[k]) @ p
            columns.append(xp.sum(y * y, axis=1))
        maha = xp.stack(columns, axis=1)
    else:
        # Expand ‖(x − μ)·p‖² = Σ x²p² − 2 x·(μp²) + Σ μ²p², about a common centre g to avoid cancellation.
        g = xp.mean(means, axis=0)
        Xg = X - g
        mg = means - g
        prec = prec_chol * prec_chol
        if kind == "spherical":
            maha = (xp.sum(Xg * Xg, axis=1)[:, None] * prec[None, :]
                    - 2.0 * (Xg @ (mg * prec[:, None]).T)
                    + (xp.sum(mg * mg, axis=1) * prec)[None, :])
        else:
            maha = ((Xg * Xg) @ prec.T - 2.0 * (Xg @ (mg * prec).T)
                    + xp.sum(mg * mg * prec, axis=1)[None, :])
        maha = xp.maximum(maha, xp.zeros_like(maha[:1]))
    log_det = xp.asarray(log_det_cholesky(prec_chol, kind, n_features), dtype=dtype)
    return -0.5 * (n_features * LOG_2PI + maha) + log_det


def weighted_log_prob(X: Any, params: GaussianParams) -> Any:
    """log(weight_k) + log N(x_i | k), shape (n_samples, n_components); -inf for zero-weight components."""
    xp = array_namespace(X)
    with np.errstate(divide="ignore"):  # a zero weight is a component that explains nothing: log 0 = -inf
        log_weights = xp.log(xp.asarray(params.weights, dtype=X.dtype))
    return log_gaussian_prob(X, params) + log_weights


def logsumexp(a: Any, axis: int = 1) -> Any:
    """log Σ exp(a) along ``axis`` without overflow; rows of all -inf give -inf, not NaN."""
    xp = array_namespace(a)
    peak = xp.max(a, axis=axis, keepdims=True)
    peak = xp.where(xp.isfinite(peak), peak, xp.zeros_like(peak))
    with np.errstate(divide="ignore"):  # log 0 = -inf for rows of all -inf is the answer, not a mistake
        out = xp.log(xp.sum(xp.exp(a - peak), axis=axis, keepdims=True)) + peak
    return xp.squeeze(out, axis=axis)

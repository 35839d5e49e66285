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
    from data centred on the mean of the means, so that data far from the origin loses no digits. A distance
    that overflows (a row beyond ~1e154, or ~1e19 in float32) gives -inf, never NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix import GaussianParams
    >>> from gaussmix.core import log_gaussian_prob
    >>> params = GaussianParams.from_covariances(np.array([0.5, 0.5]), np.array([[0.0], [2.0]]),
    ...                                          np.array([1.0, 1.0]), "spherical")
    >>> log_gaussian_prob(np.array([[0.0]]), params).round(3)
    array([[-0.919, -2.919]])
    """
    if params.covariance_type in ("full", "tied"):
        return centred_log_gaussian_prob(X, params)
    xp = array_namespace(X)
    means = xp.asarray(params.means, dtype=X.dtype)
    prec_chol = xp.asarray(params.precisions_cholesky, dtype=X.dtype)
    # Expand ‖(x − μ)·p‖² = Σ x²p² − 2 x·(μp²) + Σ μ²p², about a common centre g to avoid cancellation.
    g = xp.mean(means, axis=0)
    Xg = X - g
    mg = means - g
    prec = prec_chol * prec_chol
    with np.errstate(over="ignore", invalid="ignore"):  # overflow: NaN or inf, both made +inf below
        if params.covariance_type == "spherical":
            maha = (xp.sum(Xg * Xg, axis=1)[:, None] * prec[None, :]
                    - 2.0 * (Xg @ (mg * prec[:, None]).T)
                    + (xp.sum(mg * mg, axis=1) * prec)[None, :])
        else:
            maha = ((Xg * Xg) @ prec.T - 2.0 * (Xg @ (mg * prec).T)
                    + xp.sum(mg * mg * prec, axis=1)[None, :])
    maha = xp.maximum(maha, xp.zeros_like(maha[:1]))
    return _log_gaussian(xp, _overflow_to_inf(xp, maha), prec_chol, params)


def centred_log_gaussian_prob(X: Any, params: GaussianParams) -> Any:
    """``log_gaussian_prob`` from centred differences ‖(x − mean_k)·P_k‖², component by component, for every type.

    Exact far from the origin; -inf only where the distance itself overflows (the row is too far to represent).
    """
    xp = array_namespace(X)
    means = xp.asarray(params.means, dtype=X.dtype)
    prec_chol = xp.asarray(params.precisions_cholesky, dtype=X.dtype)
    kind = params.covariance_type
    columns = []
    with np.errstate(over="ignore", invalid="ignore"):  # overflow: NaN or inf, both made +inf below
        for k in range(params.n_components):
            diff = X - means[k]
            p = prec_chol if kind == "tied" else prec_chol[k]
            y = diff @ p if kind in ("full", "tied") else diff * p
            columns.append(xp.sum(y * y, axis=1))
    return _log_gaussian(xp, _overflow_to_inf(xp, xp.stack(columns, axis=1)), prec_chol, params)


def _overflow_to_inf(xp: Any, maha: Any) -> Any:
    """Squared distances whose computation overflowed (inf − inf, 0·inf: NaN) are +inf: the row is that far."""
    return xp.where(xp.isnan(maha), xp.full_like(maha, float("inf")), maha)


def _log_gaussian(xp: Any, maha: Any, prec_chol: Any, params: GaussianParams) -> Any:
    d = params.n_features
    log_det = xp.asarray(log_det_cholesky(prec_chol, params.covariance_type, d), dtype=maha.dtype)
    return -0.5 * (d * LOG_2PI + maha) + log_det


def weighted_log_prob(X: Any, params: GaussianParams) -> Any:
    """log(weight_k) + log N(x_i | k), shape (n_samples, n_components); -inf for zero-weight components.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix import GaussianParams
    >>> from gaussmix.core import weighted_log_prob
    >>> params = GaussianParams.from_covariances(np.array([0.5, 0.5]), np.array([[0.0], [2.0]]),
    ...                                          np.array([1.0, 1.0]), "spherical")
    >>> weighted_log_prob(np.array([[0.0]]), params).round(3)
    array([[-1.612, -3.612]])
    """
    return log_gaussian_prob(X, params) + log_weights(X, params)


def log_weights(X: Any, params: GaussianParams) -> Any:
    """log(weight_k), shape (n_components,), in X's namespace and dtype; -inf for a zero weight."""
    xp = array_namespace(X)
    with np.errstate(divide="ignore"):  # a zero weight is a component that explains nothing: log 0 = -inf
        return xp.log(xp.asarray(params.weights, dtype=X.dtype))


def logsumexp(a: Any, axis: int = 1) -> Any:
    """log Σ exp(a) along ``axis`` without overflow; rows of all -inf give -inf, not NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix.core import logsumexp
    >>> logsumexp(np.array([[0.0, 0.0], [1000.0, 1000.0], [-np.inf, -np.inf]])).round(4).tolist()
    [0.6931, 1000.6931, -inf]
    """
    xp = array_namespace(a)
    peak = xp.max(a, axis=axis, keepdims=True)
    peak = xp.where(xp.isfinite(peak), peak, xp.zeros_like(peak))
    with np.errstate(divide="ignore"):  # log 0 = -inf for rows of all -inf is the answer, not a mistake
        out = xp.log(xp.sum(xp.exp(a - peak), axis=axis, keepdims=True)) + peak
    return xp.squeeze(out, axis=axis)

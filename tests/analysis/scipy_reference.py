"""Slow, obviously correct references for the analysis tests: SciPy densities of a fitted mixture, per component."""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp
from scipy.stats import multivariate_normal


def dense_covariances(model) -> np.ndarray:
    """The model's covariances as (K, D, D) full matrices, whatever its covariance type."""
    k, d = model.means_.shape
    cov = np.asarray(model.covariances_)
    return {"full": lambda: cov, "tied": lambda: np.broadcast_to(cov, (k, d, d)),
            "diag": lambda: np.stack([np.diag(c) for c in cov]),
            "spherical": lambda: cov[:, None, None] * np.eye(d)}[model.covariance_type]()


def weighted_log_densities(model, X: np.ndarray) -> np.ndarray:
    """log w_k + log N(x | k) with SciPy, shape (n_samples, n_components)."""
    cov = dense_covariances(model)
    return np.column_stack([np.log(model.weights_[k]) + multivariate_normal(model.means_[k], cov[k]).logpdf(X)
                            for k in range(len(model.weights_))])


def posteriors(model, X: np.ndarray) -> np.ndarray:
    """p(k | x) with SciPy densities, shape (n_samples, n_components)."""
    log_w = weighted_log_densities(model, X)
    return np.exp(log_w - logsumexp(log_w, axis=1, keepdims=True))

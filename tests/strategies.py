"""Hypothesis strategies: bounded finite data, valid mixture parameters, split points."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gaussmix.core.params import COVARIANCE_TYPES, GaussianParams

covariance_types = st.sampled_from(COVARIANCE_TYPES)


@st.composite
def data_and_params(draw, max_rows: int = 60, max_features: int = 4, max_components: int = 4):
    """Data (n, d) of moderate finite values and valid parameters for a random covariance type."""
    n = draw(st.integers(2, max_rows))
    d = draw(st.integers(1, max_features))
    k = draw(st.integers(1, max_components))
    kind = draw(covariance_types)
    X = draw(arrays(np.float64, (n, d), elements=st.floats(-50, 50, allow_nan=False, width=64)))
    seed = draw(st.integers(0, 2**32 - 1))
    return X, random_params(np.random.default_rng(seed), k, d, kind, X)


def random_params(rng: np.random.Generator, k: int, d: int, kind: str, X: np.ndarray | None = None) -> GaussianParams:
    """Valid random parameters: Dirichlet weights, means near the data, well-conditioned covariances."""
    weights = rng.dirichlet(np.ones(k) * 2)
    center = np.zeros(d) if X is None else X.mean(axis=0)
    scale = 1.0 if X is None else max(float(X.std()), 1e-3)
    means = center + rng.normal(0, scale, (k, d))
    if kind == "full":
        a = rng.normal(size=(k, d, d))
        cov = scale**2 * (a @ np.transpose(a, (0, 2, 1)) / d + 0.5 * np.eye(d))
    elif kind == "tied":
        a = rng.normal(size=(d, d))
        cov = scale**2 * (a @ a.T / d + 0.5 * np.eye(d))
    elif kind == "diag":
        cov = scale**2 * rng.uniform(0.3, 2.0, (k, d))
    else:
        cov = scale**2 * rng.uniform(0.3, 2.0, k)
    return GaussianParams.from_covariances(weights, means, cov, kind)


@st.composite
def split_points(draw, n: int):
    """Sorted distinct cut points in (0, n) splitting range(n) into contiguous pieces."""
    cuts = draw(st.lists(st.integers(1, max(n - 1, 1)), max_size=5, unique=True))
    return sorted(c for c in cuts if 0 < c < n)

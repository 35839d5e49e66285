"""Drawing rows from a mixture: component counts from a multinomial, then each component's Gaussian."""

from __future__ import annotations

import numpy as np

from .params import GaussianParams


def sample_mixture(params: GaussianParams, n_samples: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n_samples`` rows (grouped by component, as scikit-learn returns them) and their component labels."""
    p = params.to_numpy()
    weights = p.weights / p.weights.sum()
    counts = rng.multinomial(n_samples, weights)
    d = p.n_features
    blocks, labels = [], []
    for k, count in enumerate(counts):
        if count == 0:
            continue
        z = rng.standard_normal((count, d))
        if p.covariance_type == "full":
            draw = z @ np.linalg.cholesky(p.covariances[k]).T
        elif p.covariance_type == "tied":
            draw = z @ np.linalg.cholesky(p.covariances).T
        else:  # diag (D,) or spherical scalar variances
            draw = z * np.sqrt(p.covariances[k])
        blocks.append(p.means[k] + draw)
        labels.append(np.full(count, k))
    return np.vstack(blocks), np.concatenate(labels)

"""Drawing rows from a mixture: component counts from a multinomial, then each component's Gaussian.

The draws come from the NumPy ``rng`` on the host and are transformed in the parameters' namespace and on their
device, so a torch-fitted model samples torch tensors, and the same seed gives the same rows in either namespace.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .namespace import array_namespace, device_kwargs, to_device, to_numpy
from .params import GaussianParams


def sample_mixture(params: GaussianParams, n_samples: int, rng: np.random.Generator) -> tuple[Any, Any]:
    """``n_samples`` rows (grouped by component, as scikit-learn returns them) and their component labels.

    Returns float64 rows (n_samples, n_features) and int64 labels (n_samples,) in the namespace of
    ``params.means``, on its device.
    """
    xp = array_namespace(params.means)
    on = device_kwargs(xp, params.means)
    weights = np.asarray(to_numpy(params.weights), dtype=np.float64)
    counts = rng.multinomial(n_samples, weights / weights.sum())
    means = xp.astype(params.means, xp.float64)
    covariances = xp.astype(params.covariances, xp.float64)
    kind = params.covariance_type
    chol: Any = xp.linalg.cholesky(covariances) if kind in ("full", "tied") else None
    blocks, labels = [], []
    for k, count in enumerate(counts):
        if count == 0:
            continue
        z = to_device(xp, rng.standard_normal((int(count), params.n_features)), params.means)
        if kind == "full":
            draw = z @ chol[k].T
        elif kind == "tied":
            draw = z @ chol.T
        else:  # diag (D,) or spherical scalar variances
            draw = z * xp.sqrt(covariances[k])
        blocks.append(means[k] + draw)
        labels.append(xp.full((int(count),), k, dtype=xp.int64, **on))
    return xp.concat(blocks, axis=0), xp.concat(labels, axis=0)

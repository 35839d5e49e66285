"""Lloyd's k-means of the initialisation: its NumPy fast path against the plain computation, and against
scikit-learn's KMeans from the same centres."""

from __future__ import annotations

import numpy as np
import pytest

from gaussmix.core import init
from gaussmix.core.init import kmeans_lloyd, squared_distances


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_nearest_centres_and_cluster_sums_match_the_plain_computation(rng, dtype):
    X = (rng.normal(size=(700, 5)) * 3 + 1e3).astype(dtype)
    centers = X[rng.choice(700, 9, replace=False)].astype(np.float64)
    origin = X.astype(np.float64).mean(axis=0)
    labels, nearest = init._nearest_centers(X, centers, origin)
    d2 = squared_distances(X, centers.astype(dtype), origin.astype(dtype)).astype(np.float64)
    np.testing.assert_array_equal(labels, np.argmin(d2, axis=1))  # no near-ties in this data
    scale = {np.float64: 1e-9, np.float32: 1e-3}[dtype] * float(np.max(d2))
    np.testing.assert_allclose(nearest, np.min(d2, axis=1), atol=scale)
    values = rng.normal(size=(700, 5))
    expected = np.zeros((12, 5))
    np.add.at(expected, labels, values)
    np.testing.assert_allclose(init._cluster_sums(labels, values, 12), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
def test_lloyd_agrees_with_scikit_learn_from_the_same_centres(rng, weighted):
    from sklearn.cluster import KMeans

    X = np.concatenate([rng.normal(c, 1.0, (200, 3)) for c in (0.0, 6.0, 12.0, 18.0)])
    start = X[[0, 1, 2, 3]]
    w = rng.uniform(0.5, 2.0, X.shape[0]) if weighted else None
    ours = kmeans_lloyd(X, start, sample_weight=w)
    theirs = KMeans(4, init=start, n_init=1, algorithm="lloyd").fit(X, sample_weight=w)
    order = np.lexsort(ours.centers.T[::-1]), np.lexsort(theirs.cluster_centers_.T[::-1])
    np.testing.assert_allclose(ours.centers[order[0]], theirs.cluster_centers_[order[1]], rtol=1e-10)
    assert ours.converged

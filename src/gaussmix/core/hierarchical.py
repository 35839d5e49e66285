"""mclust-style starts: model-based hierarchical agglomeration (Fraley 1998) cut at K, as statistics.

mclust 6 agglomerates the data after its "SVD" transformation (``hcUse = "SVD"``: standardised, rotated onto
the right singular vectors and scaled by 1/sqrt of the singular values) and cuts the tree at K. We agglomerate with
the EII classification likelihood, whose merge cost n_i n_j/(n_i + n_j)·‖x̄_i − x̄_j‖² is Ward's criterion (Fraley
1998, §2.1), in SciPy's O(n²)-memory implementation, on at most ``max_rows`` rows (a uniform sample beyond).
On the SVD-scaled data this plays the part of mclust's VVV agglomeration: the scaling removes the overall
correlation, which VVV's criterion learns per group.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from .estep import resp_stats
from .namespace import array_namespace, to_device, to_numpy
from .stats import SufficientStats

#: Rows the agglomeration sees when the caller does not say: O(n²) memory, 2000 rows take ~16 MB.
HC_MAX_ROWS = 2000


def svd_scaled(X: np.ndarray) -> np.ndarray:
    """mclust's "SVD" transformation: X centred and scaled to unit standard deviation per column, onto its right
    singular vectors, each scaled by 1/sqrt(s) (mclust ``hc``'s ``use = "SVD"``; constant columns dropped)."""
    sd = X.std(axis=0, ddof=1) if X.shape[0] > 1 else np.ones(X.shape[1])
    centred = (X - X.mean(axis=0))[:, sd > 0] / sd[sd > 0]
    _, s, Vt = np.linalg.svd(centred, full_matrices=False)
    keep = s > s[0] * 1e-12 if s.size else s > 0
    return centred @ Vt[keep].T / np.sqrt(s[keep])


def hc_labels(X: np.ndarray, n_clusters: int) -> np.ndarray:
    """Labels 0..K−1 (n_rows,) of the agglomeration of the SVD-scaled rows cut at ``n_clusters`` groups."""
    if n_clusters == 1 or X.shape[0] <= 1:
        return np.zeros(X.shape[0], dtype=np.int64)
    tree = linkage(svd_scaled(X), method="ward")
    labels = fcluster(tree, t=n_clusters, criterion="maxclust") - 1
    return np.unique(labels, return_inverse=True)[1].astype(np.int64)  # 0..K−1, in order of first appearance


def hc_stats(X: Any, n_components: int, rng: np.random.Generator, covariance_type: str, *,
             sample_weight: Any = None, max_rows: int | None = None) -> SufficientStats:
    """Statistics of the hard labels of the agglomeration cut at K, over the rows it saw (a uniform sample of at
    most ``max_rows`` positive-weight rows), about the groups' means; any M-step turns them into a start."""
    xp = array_namespace(X)
    host = np.asarray(to_numpy(X), dtype=np.float64)
    weight = None if sample_weight is None else np.asarray(to_numpy(sample_weight), dtype=np.float64)
    rows = np.arange(host.shape[0]) if weight is None else np.flatnonzero(weight > 0)
    limit = HC_MAX_ROWS if max_rows is None else max_rows
    if rows.size > limit:
        rows = np.sort(rng.choice(rows, size=limit, replace=False))
    labels = hc_labels(host[rows], n_components)
    onehot = np.zeros((rows.size, n_components))
    onehot[np.arange(rows.size), labels] = 1.0
    w = np.ones(rows.size) if weight is None else weight[rows]
    counts = onehot.T @ w
    centers = (onehot * w[:, None]).T @ host[rows] / np.where(counts > 0, counts, 1.0)[:, None]
    to_xp = lambda a: to_device(xp, np.ascontiguousarray(a), X)  # noqa: E731
    return resp_stats(X[to_xp(rows)], to_xp(onehot), None if weight is None else to_xp(w), to_xp(centers),
                      covariance_type)

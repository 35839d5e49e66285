"""mclust-style starts: model-based hierarchical agglomeration (Fraley 1998) cut at K, as statistics.

mclust 6 agglomerates the data after its "SVD" transformation (``hcUse = "SVD"``: standardised, rotated onto
the right singular vectors and scaled by 1/sqrt of the singular values) with its VVV criterion (``hcModelName``),
on at most 2000 rows (``mclust.options("subset")``), and cuts the tree at K. We do the same: the classification
likelihood of unconstrained groups, regularised as mclust's ``hcVVV`` regularises it, merged greedily on at most
``max_rows`` rows (a uniform sample beyond). Ties and its ``beta`` tuning parameter aside, this is mclust's start.
"""

from __future__ import annotations

from typing import Any

import numpy as np

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
    """Labels 0..K−1 (n_rows,) of the VVV agglomeration of the SVD-scaled rows cut at ``n_clusters`` groups."""
    return cut_tree(hc_tree(X), X.shape[0], n_clusters)


def hc_tree(X: np.ndarray) -> np.ndarray:
    """The merges (n_rows − 1, 2) of the VVV agglomeration of the SVD-scaled rows: row m joins group ``[m, 1]``
    into group ``[m, 0]`` (groups named by a row of theirs). Cut it at any K with :func:`cut_tree`."""
    if X.shape[0] <= 1:
        return np.zeros((0, 2), dtype=np.int64)
    return _agglomerate_vvv(svd_scaled(X), 1)


def cut_tree(merges: np.ndarray, n_rows: int, n_clusters: int) -> np.ndarray:
    """Labels 0..K−1 (n_rows,) after the first n_rows − K merges, numbered in order of first appearance."""
    parent = np.arange(n_rows)
    for i, j in merges[: max(n_rows - n_clusters, 0)]:
        parent[parent == j] = i
    return np.unique(parent, return_inverse=True)[1].astype(np.int64)


def _agglomerate_vvv(Z: np.ndarray, n_clusters: int) -> np.ndarray:
    """Greedy merges of the pair that raises C = Σ_g n_g log|(W_g + αI)/n_g| least (Fraley 1998's VVV criterion,
    α = tr(W)/(n·D) of all rows as mclust's ``hcVVV`` sets it, which keeps singletons finite).

    Each group keeps its size, mean and scatter; a merge's scatter is W_i + W_j + n_i n_j/(n_i + n_j)·δδᵀ. Every
    group caches its cheapest partner; a merge recomputes the merged group's costs, and a group that pointed at
    the pair keeps its old cost as a lower bound until it comes up as the cheapest (lazy updates): no n × n matrix
    of matrices is ever held.
    """
    n, d = Z.shape
    alpha = max(float(np.sum((Z - Z.mean(axis=0)) ** 2)) / (n * d), np.finfo(float).eps)
    eye = alpha * np.eye(d)
    size = np.ones(n)
    mean = Z.copy()
    scatter = np.zeros((n, d, d))
    own = np.full(n, d * np.log(alpha))  # n_g log|(W_g + αI)/n_g| of each group
    active = np.ones(n, dtype=bool)
    merges = np.zeros((max(n - n_clusters, 0), 2), dtype=np.int64)

    def costs(i: int, idx: np.ndarray) -> np.ndarray:
        """Increase of C when group i merges with each group in ``idx`` (inf for itself)."""
        n_ij = size[i] + size[idx]
        delta = mean[idx] - mean[i]
        spread = (size[i] * size[idx] / n_ij)[:, None, None] * delta[:, :, None] * delta[:, None, :]
        W = scatter[i] + scatter[idx] + spread
        out = n_ij * np.linalg.slogdet((W + eye) / n_ij[:, None, None])[1] - own[i] - own[idx]
        out[idx == i] = np.inf
        return out

    best_cost = np.full(n, np.inf)
    best_partner = np.zeros(n, dtype=np.int64)
    everyone = np.arange(n)
    # Two singletons cost more the farther apart they are: each row's cheapest partner is its nearest neighbour.
    sq = np.sum(Z * Z, axis=1)
    for block in range(0, n, 512):
        rows = everyone[block:block + 512]
        dist = sq[rows, None] - 2.0 * Z[rows] @ Z.T + sq[None, :]
        dist[np.arange(rows.size), rows] = np.inf
        best_partner[rows] = np.argmin(dist, axis=1)
    for i in range(n):
        best_cost[i] = costs(i, best_partner[i:i + 1])[0]

    def refresh(r: int, idx: np.ndarray) -> None:
        row = costs(r, idx)
        at = int(np.argmin(row))
        best_partner[r], best_cost[r] = idx[at], row[at]

    stale = np.zeros(n, dtype=bool)
    for step in range(n - n_clusters):
        while True:  # a stale row's cached cost is a lower bound: recompute it only when it comes up as cheapest
            i = int(np.argmin(best_cost))
            if not stale[i]:
                break
            refresh(i, np.flatnonzero(active))
            stale[i] = False
        j = int(best_partner[i])
        n_ij = size[i] + size[j]
        delta = mean[j] - mean[i]
        scatter[i] = scatter[i] + scatter[j] + (size[i] * size[j] / n_ij) * np.outer(delta, delta)
        mean[i] = (size[i] * mean[i] + size[j] * mean[j]) / n_ij
        size[i] = n_ij
        own[i] = n_ij * np.linalg.slogdet((scatter[i] + eye) / n_ij)[1]
        active[j] = False
        merges[step] = i, j
        best_cost[j] = np.inf
        idx = np.flatnonzero(active)
        # Groups that pointed at i or j keep their old cost as a lower bound (costs to the other groups have not
        # changed and were no lower), marked stale; the merged group's own row is recomputed now.
        stale |= active & ((best_partner == i) | (best_partner == j))
        stale[i] = False
        new_row = costs(i, idx)  # the merged group's costs: its own cheapest partner, and others may prefer it
        at = int(np.argmin(new_row))
        best_partner[i], best_cost[i] = idx[at], new_row[at]
        better = new_row < best_cost[idx]
        best_cost[idx[better]] = new_row[better]
        best_partner[idx[better]] = i
    return merges


def hc_rows(n_rows: int, sample_weight: Any, rng: np.random.Generator, max_rows: int | None) -> np.ndarray:
    """The rows the agglomeration sees: every positive-weight row, or a uniform sample of ``max_rows`` of them."""
    weight = None if sample_weight is None else np.asarray(to_numpy(sample_weight), dtype=np.float64)
    rows = np.arange(n_rows) if weight is None else np.flatnonzero(weight > 0)
    limit = HC_MAX_ROWS if max_rows is None else max_rows
    return np.sort(rng.choice(rows, size=limit, replace=False)) if rows.size > limit else rows


def hc_stats(X: Any, n_components: int, rng: np.random.Generator, covariance_type: str, *,
             sample_weight: Any = None, max_rows: int | None = None,
             tree: tuple[np.ndarray, np.ndarray] | None = None) -> SufficientStats:
    """Statistics of the hard labels of the agglomeration cut at K, over the rows it saw (a uniform sample of at
    most ``max_rows`` positive-weight rows), about the groups' means; any M-step turns them into a start.
    ``tree`` = (rows, merges) reuses one agglomeration for many K and models, as mclust does."""
    xp = array_namespace(X)
    host = np.asarray(to_numpy(X), dtype=np.float64)
    weight = None if sample_weight is None else np.asarray(to_numpy(sample_weight), dtype=np.float64)
    if tree is None:
        rows = hc_rows(host.shape[0], weight, rng, max_rows)
        tree = rows, hc_tree(host[rows])
    rows, merges = tree
    labels = cut_tree(merges, rows.size, n_components)
    onehot = np.zeros((rows.size, n_components))
    onehot[np.arange(rows.size), labels] = 1.0
    w = np.ones(rows.size) if weight is None else weight[rows]
    counts = onehot.T @ w
    centers = (onehot * w[:, None]).T @ host[rows] / np.where(counts > 0, counts, 1.0)[:, None]
    to_xp = lambda a: to_device(xp, np.ascontiguousarray(a), X)  # noqa: E731
    return resp_stats(X[to_xp(rows)], to_xp(onehot), None if weight is None else to_xp(w), to_xp(centers),
                      covariance_type)

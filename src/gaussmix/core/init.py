"""Initial parameters: k-means++ seeding, Lloyd's k-means over row blocks, and the random initialisations.

Every method ends the same way: responsibilities (hard labels or random) → statistics → the M-step, so an
initialisation is exactly a first M-step. They run on an in-memory array: all of X, or a uniform sample of the
rows of data that does not fit in memory.

The arithmetic runs in X's namespace and on its device (NumPy, or torch through array-api-compat). Random choices
are drawn on the host from the NumPy ``rng`` and moved to the device, so the same seed picks the same rows and
responsibilities whatever the namespace, and NumPy and torch fits from one seed agree to rounding.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import reduce
from operator import add
from typing import Any, Literal

import numpy as np

from .estep import resp_stats
from .mstep import MStepResult, params_from_stats
from .namespace import array_namespace, device_kwargs, is_numpy, to_device, to_numpy
from .stats import SufficientStats

InitParams = Literal["kmeans", "k-means++", "random", "random_from_data"]
INIT_METHODS: tuple[str, ...] = ("kmeans", "k-means++", "random", "random_from_data")


@dataclass(frozen=True, slots=True, eq=False)
class KMeansResult:
    centers: Any  # (n_clusters, n_features) float64, in X's namespace
    n_iter: int
    converged: bool


def row_blocks(n_rows: int, chunk_rows: int) -> list[slice]:
    """Consecutive row slices of at most ``chunk_rows`` rows covering ``range(n_rows)``."""
    return [slice(start, min(start + chunk_rows, n_rows)) for start in range(0, n_rows, chunk_rows)]


def squared_distances(X: Any, centers: Any, origin: Any) -> Any:
    """‖x − c‖², shape (n_rows, n_centers), from data and centres shifted to ``origin`` to keep the digits."""
    xp = array_namespace(X)
    Xo = X - origin
    Co = centers - origin
    d2 = _row_norms2(xp, Xo)[:, None] - 2.0 * (Xo @ Co.T) + _row_norms2(xp, Co)[None, :]
    return xp.clip(d2, min=0.0)


def kmeans_plusplus(
    X: Any, n_clusters: int, rng: np.random.Generator, sample_weight: Any = None,
    n_local_trials: int | None = None,
) -> tuple[Any, np.ndarray]:
    """Greedy k-means++ seeding (Arthur & Vassilvitskii 2007): centres (n_clusters, n_features) and their rows.

    Each new centre is the best of ``2 + log(k)`` candidates drawn with probability ∝ weight · D(x)², as in
    scikit-learn's implementation. The centres are float64 in X's namespace; the row indices a NumPy array.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix.core import kmeans_plusplus
    >>> X = np.array([[0.0, 0.0], [0.1, 0.0], [10.0, 10.0], [10.1, 10.0]])
    >>> centers, rows = kmeans_plusplus(X, 2, np.random.default_rng(0))
    >>> sorted(centers[:, 0].round().tolist())        # one seed in each cluster
    [0.0, 10.0]
    """
    xp = array_namespace(X)
    n_rows = X.shape[0]
    w_host = np.ones(n_rows) if sample_weight is None else np.asarray(to_numpy(sample_weight), dtype=np.float64)
    w = to_device(xp, w_host, X)
    trials = n_local_trials or 2 + int(math.log(n_clusters))
    origin = xp.astype(_weighted_mean(xp, X, w), X.dtype)
    first = int(rng.choice(n_rows, p=w_host / w_host.sum()))
    indices = [first]
    closest = squared_distances(X, X[first:first + 1], origin)[:, 0]
    for _ in range(1, n_clusters):
        cumulative = _cumsum(xp, closest * w)
        total = float(cumulative[-1])  # the entries are non-negative: zero only if every one is
        if total > 0:
            draws = to_device(xp, rng.uniform(size=trials) * total, X)
            candidates = xp.clip(xp.searchsorted(cumulative, draws), max=n_rows - 1)
        else:  # every row coincides with a centre: any positive-weight row will do
            candidates = to_device(xp, rng.choice(np.flatnonzero(w_host > 0), size=1), X)
        d2 = xp.minimum(closest[None, :], squared_distances(X, X[candidates], origin).T)
        best = int(xp.argmin(xp.astype(d2, xp.float64, copy=False) @ w))
        indices.append(int(candidates[best]))
        closest = d2[best]
    idx = np.asarray(indices)
    return xp.astype(X[to_device(xp, idx, X)], xp.float64), idx


def kmeans_lloyd(
    X: Any, centers: Any, sample_weight: Any = None, *, max_iter: int = 300,
    tol: float = 1e-4, chunk_rows: int = 8192,
) -> KMeansResult:
    """Lloyd's k-means from ``centers``: per block, nearest-centre counts and sums (statistics), then divide.

    ``tol`` is relative to the mean per-feature variance of X, as in scikit-learn. An empty cluster moves to the
    row farthest from its centre.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix.core import kmeans_lloyd
    >>> X = np.array([[0.0], [1.0], [10.0], [11.0]])
    >>> result = kmeans_lloyd(X, np.array([[2.0], [8.0]]))
    >>> result.centers.ravel().tolist(), result.converged
    ([0.5, 10.5], True)
    """
    xp = array_namespace(X)
    on = device_kwargs(xp, X)
    w = None if sample_weight is None else xp.asarray(sample_weight, dtype=xp.float64, **on)
    origin = _weighted_mean(xp, X, w)
    threshold = tol * float(xp.mean(_weighted_mean(xp, (X - origin) ** 2, w)))
    centers = xp.asarray(centers, dtype=xp.float64, **on)
    n_clusters = centers.shape[0]
    converged, n_iter = False, 0
    for n_iter in range(1, max_iter + 1):  # noqa: B007 - n_iter is read after the loop: the passes run
        counts = xp.zeros((n_clusters,), dtype=xp.float64, **on)
        sums = xp.zeros_like(centers)
        far_row, far_d2 = 0, -1.0
        for block in row_blocks(X.shape[0], chunk_rows):
            Xb = X[block]
            wb = xp.ones((Xb.shape[0],), dtype=xp.float64, **on) if w is None else w[block]
            if is_numpy(xp):
                labels, nearest = _nearest_centers(Xb, centers, origin)
                counts += np.bincount(labels, weights=wb, minlength=n_clusters)
                sums += _cluster_sums(labels, (Xb.astype(np.float64) - origin) * wb[:, None], n_clusters)
            else:
                d2 = squared_distances(Xb, xp.astype(centers, Xb.dtype), xp.astype(origin, Xb.dtype))
                block_counts, onehot = _assignments(xp, xp.argmin(d2, axis=1), n_clusters, wb)
                counts += block_counts
                sums += onehot.T @ (xp.astype(Xb, xp.float64) - origin)
                nearest = xp.min(d2, axis=1)
            nearest = nearest * xp.astype(wb > 0, nearest.dtype)
            i = int(xp.argmax(nearest))
            if float(nearest[i]) > far_d2:
                far_row, far_d2 = block.start + i, float(nearest[i])
        new_centers = xp.where(counts[:, None] > 0, sums / xp.clip(counts, min=1e-300)[:, None] + origin, centers)
        for k in np.flatnonzero(to_numpy(counts <= 0))[:1]:  # one relocation per pass, then re-assign
            new_centers[int(k)] = X[far_row]
        shift = float(xp.sum((new_centers - centers) ** 2))
        centers = new_centers
        if shift <= threshold and bool(xp.all(counts > 0)):
            converged = True
            break
    return KMeansResult(centers, n_iter, converged)


def stats_from_labels(
    X: Any, centers: Any, sample_weight: Any, covariance_type: str, chunk_rows: int = 8192,
) -> SufficientStats:
    """Statistics of hard nearest-centre assignments (one-hot responsibilities), about ``centers``."""
    xp = array_namespace(X)
    n_clusters = centers.shape[0]
    origin = _weighted_mean(xp, X, sample_weight)

    def block_stats(block: slice) -> SufficientStats:
        Xb = X[block]
        labels = xp.argmin(squared_distances(Xb, xp.astype(centers, Xb.dtype), xp.astype(origin, Xb.dtype)),
                           axis=1)
        _, onehot = _assignments(xp, labels, n_clusters, None)
        wb = None if sample_weight is None else sample_weight[block]
        return resp_stats(Xb, onehot, wb, centers, covariance_type)

    return _stats_from_blocks(X, block_stats, centers, covariance_type, chunk_rows)


def stats_from_random_resp(
    X: Any, n_components: int, rng: np.random.Generator, sample_weight: Any, covariance_type: str,
    chunk_rows: int = 8192,
) -> SufficientStats:
    """Statistics of uniform random responsibilities, normalised per row (scikit-learn's 'random' init)."""
    xp = array_namespace(X)
    resp = rng.uniform(size=(X.shape[0], n_components))
    resp /= resp.sum(axis=1, keepdims=True)
    resp = to_device(xp, resp, X)
    w = (xp.ones((X.shape[0],), dtype=xp.float64, **device_kwargs(xp, X)) if sample_weight is None
         else xp.asarray(sample_weight, dtype=xp.float64))
    weighted = resp * w[:, None]
    centers = weighted.T @ xp.astype(X, xp.float64) / xp.sum(weighted, axis=0)[:, None]

    def block_stats(block: slice) -> SufficientStats:
        wb = None if sample_weight is None else sample_weight[block]
        return resp_stats(X[block], resp[block], wb, centers, covariance_type)

    return _stats_from_blocks(X, block_stats, centers, covariance_type, chunk_rows)


def _stats_from_blocks(X, block_stats, centers, covariance_type, chunk_rows) -> SufficientStats:
    n_components, n_features = centers.shape
    zero = SufficientStats.zeros(n_components, n_features, covariance_type, centers)
    return reduce(add, (block_stats(b) for b in row_blocks(X.shape[0], chunk_rows)), zero)


def initial_params(
    X: Any, n_components: int, covariance_type: str, init_params: str, rng: np.random.Generator, *,
    reg_covar: float, sample_weight: Any = None, chunk_rows: int = 8192,
) -> MStepResult:
    """Initial maximum-likelihood parameters: the M-step on :func:`initial_stats`.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix.core import initial_params
    >>> X = np.array([[0.0], [1.0], [10.0], [11.0]])
    >>> start = initial_params(X, 2, "spherical", "kmeans", np.random.default_rng(0), reg_covar=1e-6)
    >>> sorted(start.params.means.ravel().tolist())
    [0.5, 10.5]
    """
    stats = initial_stats(X, n_components, covariance_type, init_params, rng, sample_weight=sample_weight,
                          chunk_rows=chunk_rows)
    return params_from_stats(stats, reg_covar)


def initial_stats(
    X: Any, n_components: int, covariance_type: str, init_params: str, rng: np.random.Generator, *,
    sample_weight: Any = None, chunk_rows: int = 8192,
) -> SufficientStats:
    """Statistics of the initial responsibilities by ``init_params`` ('kmeans', 'k-means++', 'random',
    'random_from_data') on rows X; any M-step (maximum likelihood, variational) turns them into a start.

    'kmeans' runs k-means++ seeding then Lloyd to convergence; 'k-means++' and 'random_from_data' take the seeds
    (D²-weighted or uniform distinct rows) as centres; all three then assign each row to its nearest centre.
    'random' draws random responsibilities. X (n_samples, n_features) and ``sample_weight`` (float64, or None)
    share a namespace and device; the statistics come back in it.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix.core import initial_stats
    >>> X = np.array([[0.0], [1.0], [10.0], [11.0]])
    >>> stats = initial_stats(X, 2, "diag", "kmeans", np.random.default_rng(0))
    >>> float(stats.n), stats.resp_sum.tolist()
    (4.0, [2.0, 2.0])
    """
    # Values past ~1e154 overflow when squared: k-means then meets inf and NaN distances, and the statistics come
    # out non-finite, which the M-step reports as "rescale the data". Nothing to warn about before that.
    with np.errstate(over="ignore", invalid="ignore"):
        return _initial_stats(X, n_components, covariance_type, init_params, rng, sample_weight, chunk_rows)


def _initial_stats(X: Any, n_components: int, covariance_type: str, init_params: str, rng: np.random.Generator,
                   sample_weight: Any, chunk_rows: int) -> SufficientStats:
    if init_params == "random":
        return stats_from_random_resp(X, n_components, rng, sample_weight, covariance_type, chunk_rows)
    if init_params == "random_from_data":
        xp = array_namespace(X)
        positive = (np.arange(X.shape[0]) if sample_weight is None
                    else np.flatnonzero(to_numpy(sample_weight) > 0))
        rows = rng.choice(positive, size=n_components, replace=False)
        centers = xp.astype(X[to_device(xp, rows, X)], xp.float64)
    else:
        centers, _ = kmeans_plusplus(X, n_components, rng, sample_weight)
        if init_params == "kmeans":
            centers = kmeans_lloyd(X, centers, sample_weight, chunk_rows=chunk_rows).centers
    return stats_from_labels(X, centers, sample_weight, covariance_type, chunk_rows)


def _nearest_centers(Xb: np.ndarray, centers: np.ndarray, origin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's nearest centre and its squared distance, NumPy: one GEMM and two passes over (rows, K).

    ‖x‖² does not change which centre is nearest, so it is added to the winners only; the full distance matrix
    of ``squared_distances`` took three more passes and two temporaries (Lloyd at 200,000 × 40, K = 256:
    0.75 s of a 1 s pass).
    """
    Xo = Xb - origin.astype(Xb.dtype)
    Co = (centers - origin).astype(Xb.dtype)
    scores = Xo @ Co.T
    scores *= -2.0
    scores += np.einsum("ij,ij->i", Co, Co)
    labels = np.argmin(scores, axis=1)
    best = np.take_along_axis(scores, labels[:, None], axis=1)[:, 0]
    return labels, np.maximum(np.einsum("ij,ij->i", Xo, Xo) + best, 0.0)


def _cluster_sums(labels: np.ndarray, values: np.ndarray, n_clusters: int) -> np.ndarray:
    """Σ of the rows of ``values`` per label, (n_clusters, D) float64, by sorting: a float64 one-hot matrix of
    (rows, K) and its GEMM cost 16 MB and K times the flops at K = 256."""
    order = np.argsort(labels, kind="stable")
    present, starts = np.unique(labels[order], return_index=True)
    sums = np.zeros((n_clusters, values.shape[1]))
    if present.size:
        sums[present] = np.add.reduceat(values[order], starts, axis=0)
    return sums


# -- namespace helpers: NumPy keeps its fast calls, other namespaces use the array-API equivalents -------------

def _row_norms2(xp: Any, A: Any) -> Any:
    return np.einsum("ij,ij->i", A, A) if is_numpy(xp) else xp.sum(A * A, axis=1)


def _cumsum(xp: Any, a: Any) -> Any:
    return np.cumsum(a) if is_numpy(xp) else xp.cumulative_sum(a)


def _weighted_mean(xp: Any, X: Any, w: Any) -> Any:
    """Column means of X weighted by w (None: unweighted, in X's dtype), as ``np.average(X, axis=0, weights=w)``."""
    if is_numpy(xp):
        return np.average(X, axis=0, weights=w)
    if w is None:
        return xp.mean(X, axis=0)
    w = xp.asarray(w, dtype=xp.float64)
    return xp.sum(xp.astype(X, xp.float64) * w[:, None], axis=0) / xp.sum(w)


def _assignments(xp: Any, labels: Any, n_clusters: int, weights: Any) -> tuple[Any, Any]:
    """Per-cluster (weighted) counts (K,) and the weighted one-hot matrix (rows, K) of hard labels, float64."""
    n_rows = labels.shape[0]
    if is_numpy(xp):
        wb = np.ones(n_rows) if weights is None else weights
        onehot = np.zeros((n_rows, n_clusters))
        onehot[np.arange(n_rows), labels] = wb
        return np.bincount(labels, weights=wb, minlength=n_clusters), onehot
    clusters = xp.arange(n_clusters, device=labels.device)
    onehot = xp.astype(labels[:, None] == clusters[None, :], xp.float64)
    if weights is not None:
        onehot = onehot * weights[:, None]
    return xp.sum(onehot, axis=0), onehot

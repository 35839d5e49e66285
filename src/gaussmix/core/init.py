"""Initial parameters: k-means++ seeding, Lloyd's k-means over row blocks, and the random initialisations.

Every method ends the same way: responsibilities (hard labels or random) → statistics → the M-step, so an
initialisation is exactly a first M-step. They run on an in-memory array: all of X, or a uniform sample of the
rows of data that does not fit in memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import reduce
from operator import add
from typing import Any, Literal

import numpy as np

from .mstep import MStepResult, params_from_stats
from .estep import resp_stats
from .stats import SufficientStats

InitParams = Literal["kmeans", "k-means++", "random", "random_from_data"]
INIT_METHODS: tuple[str, ...] = ("kmeans", "k-means++", "random", "random_from_data")


@dataclass(frozen=True, slots=True, eq=False)
class KMeansResult:
    centers: np.ndarray  # (n_clusters, n_features)
    n_iter: int
    converged: bool


def row_blocks(n_rows: int, chunk_rows: int) -> list[slice]:
    """Consecutive row slices of at most ``chunk_rows`` rows covering ``range(n_rows)``."""
    return [slice(start, min(start + chunk_rows, n_rows)) for start in range(0, n_rows, chunk_rows)]


def squared_distances(X: np.ndarray, centers: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """‖x − c‖², shape (n_rows, n_centers), from data and centres shifted to ``origin`` to keep the digits."""
    Xo = X - origin
    Co = centers - origin
    d2 = np.einsum("ij,ij->i", Xo, Xo)[:, None] - 2.0 * (Xo @ Co.T) + np.einsum("ij,ij->i", Co, Co)[None, :]
    return np.maximum(d2, 0.0)


def kmeans_plusplus(
    X: np.ndarray, n_clusters: int, rng: np.random.Generator, sample_weight: np.ndarray | None = None,
    n_local_trials: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy k-means++ seeding (Arthur & Vassilvitskii 2007): centres (n_clusters, n_features) and their rows.

    Each new centre is the best of ``2 + log(k)`` candidates drawn with probability ∝ weight · D(x)², as in
    scikit-learn's implementation.
    """
    n_rows = X.shape[0]
    w = np.ones(n_rows) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    trials = n_local_trials or 2 + int(math.log(n_clusters))
    origin = np.average(X, axis=0, weights=w).astype(X.dtype)
    first = int(rng.choice(n_rows, p=w / w.sum()))
    indices = [first]
    closest = squared_distances(X, X[[first]], origin)[:, 0]
    for _ in range(1, n_clusters):
        potential = closest * w
        total = potential.sum()
        if total > 0:
            cumulative = np.cumsum(potential)
            picks = np.searchsorted(cumulative, rng.uniform(size=trials) * cumulative[-1])
            candidates = np.minimum(picks, n_rows - 1)
        else:  # every row coincides with a centre: any positive-weight row will do
            candidates = rng.choice(np.flatnonzero(w > 0), size=1)
        d2 = np.minimum(closest[None, :], squared_distances(X, X[candidates], origin).T)
        best = int(np.argmin(d2 @ w))
        indices.append(int(candidates[best]))
        closest = d2[best]
    idx = np.asarray(indices)
    return X[idx].astype(np.float64), idx


def kmeans_lloyd(
    X: np.ndarray, centers: np.ndarray, sample_weight: np.ndarray | None = None, *, max_iter: int = 300,
    tol: float = 1e-4, chunk_rows: int = 8192,
) -> KMeansResult:
    """Lloyd's k-means from ``centers``: per block, nearest-centre counts and sums (statistics), then divide.

    ``tol`` is relative to the mean per-feature variance of X, as in scikit-learn. An empty cluster moves to the
    row farthest from its centre.
    """
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    origin = np.average(X, axis=0, weights=w)
    var = np.average((X - origin) ** 2, axis=0, weights=w).mean()
    threshold = tol * var
    centers = np.asarray(centers, dtype=np.float64)
    n_clusters = centers.shape[0]
    converged, n_iter = False, 0
    for n_iter in range(1, max_iter + 1):
        counts = np.zeros(n_clusters)
        sums = np.zeros_like(centers)
        far_row, far_d2 = 0, -1.0
        for block in row_blocks(X.shape[0], chunk_rows):
            Xb = X[block]
            d2 = squared_distances(Xb, centers.astype(Xb.dtype), origin.astype(Xb.dtype))
            labels = np.argmin(d2, axis=1)
            wb = np.ones(Xb.shape[0]) if w is None else w[block]
            counts += np.bincount(labels, weights=wb, minlength=n_clusters)
            onehot = np.zeros((Xb.shape[0], n_clusters))
            onehot[np.arange(Xb.shape[0]), labels] = wb
            sums += onehot.T @ (Xb.astype(np.float64) - origin)
            nearest = d2[np.arange(Xb.shape[0]), labels] * (wb > 0)
            i = int(np.argmax(nearest))
            if nearest[i] > far_d2:
                far_row, far_d2 = block.start + i, float(nearest[i])
        new_centers = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1e-300)[:, None] + origin, centers)
        for k in np.flatnonzero(counts <= 0)[:1]:  # one relocation per pass, then re-assign
            new_centers[k] = X[far_row]
        shift = float(np.sum((new_centers - centers) ** 2))
        centers = new_centers
        if shift <= threshold and np.all(counts > 0):
            converged = True
            break
    return KMeansResult(centers, n_iter, converged)


def params_from_labels(
    X: np.ndarray, centers: np.ndarray, sample_weight: np.ndarray | None, covariance_type: str,
    reg_covar: float, chunk_rows: int = 8192,
) -> MStepResult:
    """Parameters from hard nearest-centre assignments: one-hot responsibilities → statistics → M-step."""
    n_clusters = centers.shape[0]
    origin = np.average(X, axis=0, weights=sample_weight)

    def block_stats(block: slice) -> SufficientStats:
        Xb = X[block]
        labels = np.argmin(squared_distances(Xb, centers.astype(Xb.dtype), origin.astype(Xb.dtype)), axis=1)
        onehot = np.zeros((Xb.shape[0], n_clusters))
        onehot[np.arange(Xb.shape[0]), labels] = 1.0
        wb = None if sample_weight is None else sample_weight[block]
        return resp_stats(Xb, onehot, wb, centers, covariance_type)

    return _params_from_blocks(X, block_stats, centers, covariance_type, reg_covar, chunk_rows)


def params_from_random_resp(
    X: np.ndarray, n_components: int, rng: np.random.Generator, sample_weight: np.ndarray | None,
    covariance_type: str, reg_covar: float, chunk_rows: int = 8192,
) -> MStepResult:
    """Parameters from uniform random responsibilities, normalised per row (scikit-learn's 'random' init)."""
    resp = rng.uniform(size=(X.shape[0], n_components))
    resp /= resp.sum(axis=1, keepdims=True)
    w = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    centers = (resp * w[:, None]).T @ X.astype(np.float64) / (resp * w[:, None]).sum(axis=0)[:, None]

    def block_stats(block: slice) -> SufficientStats:
        wb = None if sample_weight is None else sample_weight[block]
        return resp_stats(X[block], resp[block], wb, centers, covariance_type)

    return _params_from_blocks(X, block_stats, centers, covariance_type, reg_covar, chunk_rows)


def _params_from_blocks(X, block_stats, centers, covariance_type, reg_covar, chunk_rows) -> MStepResult:
    n_components, n_features = centers.shape
    zero = SufficientStats.zeros(n_components, n_features, covariance_type, centers)
    stats = reduce(add, (block_stats(b) for b in row_blocks(X.shape[0], chunk_rows)), zero)
    return params_from_stats(stats, reg_covar)


def initial_params(
    X: np.ndarray, n_components: int, covariance_type: str, init_params: str, rng: np.random.Generator, *,
    reg_covar: float, sample_weight: np.ndarray | None = None, chunk_rows: int = 8192,
) -> MStepResult:
    """Initial parameters by ``init_params`` ('kmeans', 'k-means++', 'random', 'random_from_data') on rows X.

    'kmeans' runs k-means++ seeding then Lloyd to convergence; 'k-means++' and 'random_from_data' take the seeds
    (D²-weighted or uniform distinct rows) as centres; all three then assign each row to its nearest centre.
    'random' draws random responsibilities. Every method finishes with an M-step on those responsibilities.
    """
    if init_params == "random":
        return params_from_random_resp(X, n_components, rng, sample_weight, covariance_type, reg_covar, chunk_rows)
    if init_params == "random_from_data":
        positive = np.arange(X.shape[0]) if sample_weight is None else np.flatnonzero(sample_weight > 0)
        centers = X[rng.choice(positive, size=n_components, replace=False)].astype(np.float64)
    else:
        centers, _ = kmeans_plusplus(X, n_components, rng, sample_weight)
        if init_params == "kmeans":
            centers = kmeans_lloyd(X, centers, sample_weight, chunk_rows=chunk_rows).centers
    return params_from_labels(X, centers, sample_weight, covariance_type, reg_covar, chunk_rows)

"""The E-step: responsibilities of a chunk of rows and the sufficient statistics they leave for the M-step."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from . import batched_estep, fast_estep
from .batched_estep import BatchedPlan
from .density import log_weights, logsumexp, weighted_log_prob
from .fast_estep import DensityPlan
from .missing import missing_chunk_stats, missing_log_resp, nan_rows
from .namespace import array_namespace, is_numpy, to_numpy
from .params import GaussianParams
from .stats import N_WORST, SufficientStats
from .worst_rows import lowest_rows


@dataclass(frozen=True, slots=True, eq=False)
class HostPlan:
    """A pass over CPU tensors: NumPy's fast path runs on the tensors' own memory (no copy), with NumPy copies of
    the parameters; the statistics go back as tensors. The batched tensor path (``batched_estep``) is for
    accelerators: on a CPU it measured 0.57× the NumPy path's speed on the same rows (1M × 32, K = 64)."""

    params: GaussianParams
    fast: DensityPlan

    def serves(self, X: np.ndarray) -> bool:
        return self.fast.serves(X)


Plan = DensityPlan | BatchedPlan | HostPlan


def estep_plan(params: GaussianParams, dtype: Any) -> Plan | None:
    """What every block of one E-step pass over rows of ``dtype`` shares: computed once per pass, passed down.

    A ``fast_estep.DensityPlan`` for float32/float64 NumPy rows, a ``HostPlan`` (the same, with NumPy copies of
    the parameters) for CPU tensors, a ``batched_estep.BatchedPlan`` (the plan on the device) for tensors on an
    accelerator; None for other dtypes, whose reference path needs none. A plan is a value: prepare a new one
    whenever the parameters change.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix import GaussianParams
    >>> from gaussmix.core import chunk_stats, estep_plan
    >>> params = GaussianParams.from_covariances(np.array([1.0]), np.zeros((1, 2)), np.ones((1, 2)), "diag")
    >>> plan = estep_plan(params, np.float64)      # once per pass ...
    >>> blocks = np.random.default_rng(0).normal(size=(3, 10, 2))
    >>> total = sum((chunk_stats(b, params, plan=plan) for b in blocks[1:]),
    ...             chunk_stats(blocks[0], params, plan=plan))
    >>> float(total.n)                              # ... shared by every block
    30.0
    """
    xp = array_namespace(params.means)
    if not is_numpy(xp):
        if dtype not in (xp.float32, xp.float64):
            return None
        if _on_cpu(params.means):
            return host_plan(params, np.dtype(np.float32 if dtype == xp.float32 else np.float64))
        return batched_estep.batched_plan(params, dtype)
    try:
        dtype = np.dtype(dtype)
    except TypeError:  # a torch dtype with NumPy params
        return None
    return fast_estep.density_plan(params, dtype) if dtype.char in "fd" else None


def log_resp(X: Any, params: GaussianParams, plan: Plan | None = None) -> tuple[Any, Any]:
    """log p(x_i), shape (n_samples,), and log p(k | x_i), shape (n_samples, n_components), in X's dtype.

    NumPy arrays take the one-GEMM-per-block path of ``fast_estep``, float tensors its twin ``batched_estep``;
    anything else the per-component reference.
    ``plan`` is ``estep_plan(params, X.dtype)`` when the caller maps many blocks (computed here when None). A row
    too far from every component to represent scores -inf and is shared equally by the non-zero-weight components.
    Rows with NaN are scored on their observed coordinates (``missing``); the other rows take the path above.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix import GaussianParams
    >>> from gaussmix.core import log_resp
    >>> params = GaussianParams.from_covariances(np.array([0.5, 0.5]), np.array([[0.0], [2.0]]),
    ...                                          np.array([1.0, 1.0]), "spherical")
    >>> log_prob, log_resp_ = log_resp(np.array([[1.0], [2.0]]), params)
    >>> np.exp(log_resp_).round(3)
    array([[0.5  , 0.5  ],
           [0.119, 0.881]])
    """
    missing = nan_rows(X)
    if missing is not None:
        return _log_resp_with_missing(X, params, plan, missing)
    if _fast(X):
        return fast_estep.fast_log_resp(X, params, plan=_plan_for(X, plan))
    host = _host_rows(X, params)
    if host is not None:
        hp = _host_plan_for(host, params, plan)
        xp = array_namespace(X)
        return tuple(xp.asarray(a) for a in fast_estep.fast_log_resp(host, hp.params, plan=hp.fast))
    if _batched(X, params):
        return batched_estep.batched_log_resp(X, params, _batched_plan_for(X, plan))
    return log_resp_reference(X, params)


def log_resp_reference(X: Any, params: GaussianParams) -> tuple[Any, Any]:
    """``log_resp`` in any namespace, component by component: the readable reference the fast path is tested on."""
    xp = array_namespace(X)
    wlp = weighted_log_prob(X, params)
    log_prob = logsumexp(wlp, axis=1)
    with np.errstate(invalid="ignore"):  # -inf − -inf in the far rows, replaced below
        lr = wlp - log_prob[:, None]
    # A row too far from every component (log p = -inf) is shared equally by the live (non-zero-weight) ones.
    log_w = log_weights(X, params)
    live = xp.isfinite(log_w)
    equal_share = xp.where(live, -xp.log(xp.sum(xp.astype(live, X.dtype))), log_w)
    return log_prob, xp.where(xp.isfinite(log_prob)[:, None], lr, equal_share[None, :])


def chunk_stats(
    X: Any, params: GaussianParams, sample_weight: Any = None, row_offset: int = 0, plan: Plan | None = None,
    worst_rows: bool = True,
) -> SufficientStats:
    """Sufficient statistics of the rows ``X`` (n_samples, n_features) under ``params``, centred on its means.

    ``sample_weight`` (n_samples,) non-negative or None for ones; ``row_offset`` is the global index of X's first
    row, so the worst-explained rows the statistics carry can be named in messages. NumPy arrays take the fused
    path of ``fast_estep`` (one feature block per row block feeds both the densities and the statistics).
    ``plan`` is ``estep_plan(params, X.dtype)``, prepared once per pass by the executor (computed here when None).
    NaN marks a missing value: such rows add their expected statistics (``missing.missing_chunk_stats``), and
    the rows without NaN take the path above, unchanged.
    ``worst_rows=False`` may leave the worst-explained rows out (the fast paths skip their exact re-ranking): an
    EM pass needs them only when a component is re-seeded (``em.em_step`` then runs a pass that finds them).

    Examples
    --------
    Statistics of any split of the rows add up to those of the whole:

    >>> import numpy as np
    >>> from gaussmix import GaussianParams
    >>> from gaussmix.core import chunk_stats
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(0, 1, (100, 2)), rng.normal(5, 1, (100, 2))])
    >>> params = GaussianParams.from_covariances(np.array([0.5, 0.5]), np.array([[0.0, 0.0], [5.0, 5.0]]),
    ...                                          np.ones((2, 2)), "diag")
    >>> whole = chunk_stats(X, params)
    >>> halves = chunk_stats(X[:50], params) + chunk_stats(X[50:], params, row_offset=50)
    >>> float(whole.n), whole.resp_sum.round(1)
    (200.0, array([100., 100.]))
    >>> bool(np.allclose(halves.second, whole.second))
    True
    """
    missing = nan_rows(X)
    if missing is not None:
        return _stats_with_missing(X, params, sample_weight, row_offset, plan, missing, worst_rows)
    if _fast(X):
        return fast_estep.fast_chunk_stats(X, params, sample_weight, row_offset, plan=_plan_for(X, plan),
                                           worst_rows=worst_rows)
    host = _host_rows(X, params)
    if host is not None:
        hp = _host_plan_for(host, params, plan)
        weights = None if sample_weight is None else to_numpy(sample_weight)
        stats = fast_estep.fast_chunk_stats(host, hp.params, weights, row_offset, plan=hp.fast,
                                            worst_rows=worst_rows)
        return _as_tensors(stats, params.means)
    if _batched(X, params):
        stats, log_prob = batched_estep.batched_chunk_stats(X, params, sample_weight, _batched_plan_for(X, plan))
        return _with_log_likelihood(stats, X, log_prob, sample_weight, row_offset)
    return chunk_stats_reference(X, params, sample_weight, row_offset)


def _log_resp_with_missing(X: np.ndarray, params: GaussianParams, plan: Plan | None,
                           missing: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``log_resp`` of a block with some NaN rows: complete rows on the fast path, the others marginalised."""
    log_prob = np.empty(X.shape[0], dtype=X.dtype)
    lr = np.empty((X.shape[0], params.n_components), dtype=X.dtype)
    log_prob[missing], lr[missing] = missing_log_resp(X[missing], params)
    complete = ~missing
    if complete.any():
        log_prob[complete], lr[complete] = log_resp(X[complete], params, plan)
    return log_prob, lr


def _stats_with_missing(X: np.ndarray, params: GaussianParams, sample_weight: Any, row_offset: int,
                        plan: Plan | None, missing: np.ndarray, worst_rows: bool) -> SufficientStats:
    """``chunk_stats`` of a block with some NaN rows: the two groups' statistics, worst rows named globally."""
    rows = np.flatnonzero(missing)
    stats = missing_chunk_stats(X[rows], params, _rows_of(sample_weight, rows))
    stats = replace(stats, worst_rows=rows[stats.worst_rows] + row_offset)
    complete = np.flatnonzero(~missing)
    if complete.size:
        part = chunk_stats(X[complete], params, _rows_of(sample_weight, complete), 0, plan, worst_rows)
        stats = stats + replace(part, worst_rows=complete[part.worst_rows] + row_offset)
    return stats


def _rows_of(sample_weight: Any, rows: np.ndarray) -> Any:
    return None if sample_weight is None else np.asarray(sample_weight)[rows]


def _plan_for(X: np.ndarray, plan: Plan | None) -> DensityPlan | None:
    """The pass's plan if it was made for X's dtype; None (compute one) for a block of another dtype."""
    return plan if isinstance(plan, DensityPlan) and plan.serves(X) else None


def host_plan(params: GaussianParams, dtype: np.dtype) -> HostPlan:
    """The plan of a pass over CPU tensors of ``dtype``: NumPy copies of the parameters and their density plan."""
    host = GaussianParams(to_numpy(params.weights), to_numpy(params.means), to_numpy(params.covariances),
                          to_numpy(params.precisions_cholesky), params.covariance_type)
    return HostPlan(host, fast_estep.density_plan(host, dtype))


def _on_cpu(a: Any) -> bool:
    return getattr(getattr(a, "device", None), "type", None) == "cpu"


def _host_rows(X: Any, params: GaussianParams) -> np.ndarray | None:
    """X as a NumPy array sharing its memory when it is a float CPU tensor with tensor params, else None."""
    if not (_batched(X, params) and _on_cpu(X) and _on_cpu(params.means)):
        return None
    return X.detach().numpy()


def _host_plan_for(host: np.ndarray, params: GaussianParams, plan: Plan | None) -> HostPlan:
    return plan if isinstance(plan, HostPlan) and plan.serves(host) else host_plan(params, host.dtype)


def _as_tensors(stats: SufficientStats, like: Any) -> SufficientStats:
    """NumPy statistics as tensors on ``like``'s device, centred on ``like`` (the tensor means they were made with)."""
    xp = array_namespace(like)

    def put(a: Any) -> Any:
        return xp.asarray(np.array(a, order="C"), device=like.device)  # ascontiguousarray would make n 1-d

    return SufficientStats(put(stats.n), put(stats.log_likelihood), put(stats.resp_sum), put(stats.first),
                           put(stats.second), like, stats.covariance_type, put(stats.worst_log_prob),
                           put(stats.worst_rows), put(stats.worst_points))


def _batched_plan_for(X: Any, plan: Plan | None) -> BatchedPlan | None:
    return plan if isinstance(plan, BatchedPlan) and plan.dtype == X.dtype else None


def chunk_stats_reference(
    X: Any, params: GaussianParams, sample_weight: Any = None, row_offset: int = 0
) -> SufficientStats:
    """``chunk_stats`` in any namespace, component by component: the reference the fast path is tested on."""
    xp = array_namespace(X)
    log_prob, lr = log_resp_reference(X, params)
    resp = xp.exp(lr)
    stats = resp_stats_reference(X, resp, sample_weight, params.means, params.covariance_type)
    return _with_log_likelihood(stats, X, xp.astype(log_prob, xp.float64), sample_weight, row_offset)


def _with_log_likelihood(stats: SufficientStats, X: Any, log_prob64: Any, sample_weight: Any,
                         row_offset: int) -> SufficientStats:
    """``stats`` with Σw·log p(x) and the worst rows (by argsort: the non-NumPy paths) filled in."""
    xp = array_namespace(X)
    if sample_weight is None:
        total = xp.sum(log_prob64)
        candidates = log_prob64
    else:
        w = xp.asarray(sample_weight, dtype=xp.float64)
        positive = w > 0
        total = xp.sum(xp.where(positive, w * log_prob64, xp.zeros_like(w)))
        candidates = xp.where(positive, log_prob64, xp.full_like(w, xp.inf))
    worst_log_prob, worst_rows = _lowest(xp, candidates, N_WORST)
    return replace(
        stats,
        log_likelihood=total,
        worst_log_prob=worst_log_prob,
        worst_rows=worst_rows + row_offset,
        worst_points=xp.astype(X[worst_rows], xp.float64),
    )


def resp_stats(
    X: Any, resp: Any, sample_weight: Any, center: Any, covariance_type: str
) -> SufficientStats:
    """Statistics of rows ``X`` with given responsibilities ``resp`` (n_samples, n_components), about ``center``.

    The log-likelihood and worst rows are left empty; this is the part of the E-step that hard (k-means) or
    random initialisations share. Accumulates in float64.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix.core import params_from_stats, resp_stats
    >>> X = np.array([[0.0], [1.0], [10.0], [11.0]])
    >>> resp = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])   # known memberships
    >>> stats = resp_stats(X, resp, None, np.zeros((2, 1)), "diag")
    >>> params_from_stats(stats, reg_covar=0.0).params.means
    array([[ 0.5],
           [10.5]])
    """
    if _fast(X):
        return fast_estep.fast_resp_stats(X, resp, sample_weight, center, covariance_type)
    return resp_stats_reference(X, resp, sample_weight, center, covariance_type)


@np.errstate(over="ignore", invalid="ignore")  # squares beyond ~1e154 overflow; the M-step reports it
def resp_stats_reference(
    X: Any, resp: Any, sample_weight: Any, center: Any, covariance_type: str
) -> SufficientStats:
    """``resp_stats`` in any namespace, component by component: the reference the fast path is tested on."""
    xp = array_namespace(X)
    X64 = xp.astype(X, xp.float64)
    r = xp.astype(resp, xp.float64)
    if sample_weight is not None:
        r = r * xp.asarray(sample_weight, dtype=xp.float64)[:, None]
    center = xp.asarray(center, dtype=xp.float64)
    n_components, n_features = center.shape
    nk = xp.sum(r, axis=0)
    # First moments about a common centre g, then shifted to each component's centre: exact far from the origin.
    g = xp.mean(center, axis=0)
    first = r.T @ (X64 - g) - nk[:, None] * (center - g)
    if covariance_type in ("full", "tied"):
        scatters = []
        for k in range(n_components):
            diff = X64 - center[k]
            scatters.append((r[:, k][:, None] * diff).T @ diff)
        second = xp.stack(scatters) if covariance_type == "full" else sum(scatters[1:], scatters[0])
    else:
        second = xp.stack([r[:, k] @ ((X64 - center[k]) ** 2) for k in range(n_components)])
        if covariance_type == "spherical":
            second = xp.sum(second, axis=1)
    zero = SufficientStats.zeros(n_components, n_features, covariance_type, center)
    n = xp.sum(nk) if sample_weight is None else xp.sum(xp.asarray(sample_weight, dtype=xp.float64))
    return replace(zero, n=n, resp_sum=nk, first=first, second=second)


def _fast(X: Any) -> bool:
    """Whether X takes the NumPy fast path: a float32/float64 NumPy array (anything else, the reference)."""
    return is_numpy(array_namespace(X)) and getattr(X, "dtype", None) is not None and X.dtype.char in "fd"


def _batched(X: Any, params: GaussianParams) -> bool:
    """Whether X takes the batched tensor path: float32/float64 tensors with params in the same namespace."""
    xp = array_namespace(X)
    return (not is_numpy(xp) and X.dtype in (xp.float32, xp.float64)
            and not is_numpy(array_namespace(params.means)))


def _lowest(xp: Any, values: Any, count: int) -> tuple[Any, Any]:
    """The ``count`` smallest values below +inf and their indices, ordered by (value, index) so ties split alike."""
    if is_numpy(xp):
        return lowest_rows(values, count)
    idx = xp.argsort(values, stable=True)[:count]
    idx = idx[values[idx] < float("inf")]
    return values[idx], xp.astype(idx, xp.int64)

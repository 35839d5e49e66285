"""SufficientStats: what one E-step over a chunk of rows leaves for the M-step, and the monoid that sums them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .namespace import array_namespace, device_kwargs, is_numpy
from .params import covariance_shape

#: How many of the worst-explained rows the statistics carry, as re-seeding candidates for dead components.
N_WORST = 8


@dataclass(frozen=True, slots=True, eq=False)
class SufficientStats:
    """Weighted sufficient statistics of a Gaussian mixture over a set of rows, about a fixed centre.

    Law: for the same parameters, ``stats(A ∪ B) == stats(A) + stats(B)`` for any split of the rows and in any
    order (to rounding); ``zeros(...)`` is the identity. All arrays are float64 whatever the data's dtype.

    Fields (K components, D features; w = sample weight, r = responsibility, c = ``center``):
    ``n`` Σw; ``log_likelihood`` Σw·log p(x); ``resp_sum`` (K,) Σw·r; ``first`` (K, D) Σw·r·(x − c_k);
    ``second`` Σw·r·(x − c_k)(x − c_k)ᵀ as (K, D, D) for full, summed over k as (D, D) for tied, its diagonal
    (K, D) for diag, its trace (K,) for spherical; ``center`` (K, D), the means the E-step used (centring keeps
    the covariances exact far from the origin). ``worst_*`` hold the N_WORST rows with the lowest log p(x)
    (positive weight only): their log p(x), global row index and values, candidates for re-seeding.

    Examples
    --------
    Statistics of two blocks add up to those of both, and ``zeros`` is the identity of ``+``:

    >>> import numpy as np
    >>> from gaussmix import GaussianParams, SufficientStats
    >>> from gaussmix.core import chunk_stats
    >>> params = GaussianParams.from_covariances(np.array([1.0]), np.zeros((1, 2)), np.ones((1, 2)), "diag")
    >>> X = np.random.default_rng(0).normal(size=(10, 2))
    >>> a, b = chunk_stats(X[:4], params), chunk_stats(X[4:], params, row_offset=4)
    >>> both = SufficientStats.zeros(1, 2, "diag", params.means) + a + b
    >>> float(both.n), bool(np.allclose(both.first, chunk_stats(X, params).first))
    (10.0, True)
    """

    n: Any
    log_likelihood: Any
    resp_sum: Any
    first: Any
    second: Any
    center: Any
    covariance_type: str
    worst_log_prob: Any
    worst_rows: Any
    worst_points: Any

    @classmethod
    def zeros(cls, n_components: int, n_features: int, covariance_type: str, center: Any) -> SufficientStats:
        """The identity of ``+``: statistics of no rows."""
        xp = array_namespace(center)
        kw = device_kwargs(xp, center)
        k, d = n_components, n_features
        f64 = xp.float64
        return cls(
            n=xp.zeros((), dtype=f64, **kw),
            log_likelihood=xp.zeros((), dtype=f64, **kw),
            resp_sum=xp.zeros((k,), dtype=f64, **kw),
            first=xp.zeros((k, d), dtype=f64, **kw),
            second=xp.zeros(covariance_shape(covariance_type, k, d), dtype=f64, **kw),
            center=center,
            covariance_type=covariance_type,
            worst_log_prob=xp.zeros((0,), dtype=f64, **kw),
            worst_rows=xp.zeros((0,), dtype=xp.int64, **kw),
            worst_points=xp.zeros((0, d), dtype=f64, **kw),
        )

    @property
    def n_components(self) -> int:
        return int(self.resp_sum.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.first.shape[1])

    def __add__(self, other: SufficientStats) -> SufficientStats:
        if not isinstance(other, SufficientStats):
            return NotImplemented
        if other.covariance_type != self.covariance_type:
            raise ValueError(
                f"Cannot add {self.covariance_type!r} statistics to {other.covariance_type!r} statistics."
            )
        if other.center is not self.center and not _same_values(self.center, other.center):
            raise ValueError("Cannot add statistics computed about different centres (different parameters).")
        worst = _keep_worst(self, other)
        return SufficientStats(
            n=self.n + other.n,
            log_likelihood=self.log_likelihood + other.log_likelihood,
            resp_sum=self.resp_sum + other.resp_sum,
            first=self.first + other.first,
            second=self.second + other.second,
            center=self.center,
            covariance_type=self.covariance_type,
            worst_log_prob=worst[0],
            worst_rows=worst[1],
            worst_points=worst[2],
        )


def _same_values(a: Any, b: Any) -> bool:
    xp = array_namespace(a)
    return tuple(a.shape) == tuple(b.shape) and bool(xp.all(a == b))


def _keep_worst(a: SufficientStats, b: SufficientStats) -> tuple[Any, Any, Any]:
    """The N_WORST lowest log-probabilities of both sides; ties broken by row index so any order agrees."""
    xp = array_namespace(a.worst_log_prob)
    log_prob = xp.concat([a.worst_log_prob, b.worst_log_prob])
    rows = xp.concat([a.worst_rows, b.worst_rows])
    points = xp.concat([a.worst_points, b.worst_points], axis=0)
    if is_numpy(xp):
        order = np.lexsort((rows, log_prob))[:N_WORST]
    else:
        # torch: stable sort by row, then stable sort by log_prob, gives (log_prob, row) order.
        by_row = xp.argsort(rows, stable=True)
        order = by_row[xp.argsort(log_prob[by_row], stable=True)][:N_WORST]
    return log_prob[order], rows[order], points[order]

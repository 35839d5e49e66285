"""The M-step: new parameters from summed statistics, with dead or singular components re-seeded, never dropped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .namespace import array_namespace, device_kwargs, is_numpy, to_numpy
from .params import GaussianParams, NotPositiveDefiniteError
from .stats import SufficientStats
from .threads import map_on_cores

#: A component whose responsibility sum is below this fraction of the total weight has lost all its points.
DEAD_FRACTION = 1e-12


@dataclass(frozen=True, slots=True)
class Reseed:
    """One component re-seeded by the M-step: which, where (global row, -1 if unknown) and why.

    Examples
    --------
    >>> from gaussmix.core import Reseed
    >>> Reseed(component=2, row=88, reason="empty")
    Reseed(component=2, row=88, reason='empty')
    """

    component: int
    row: int
    reason: str  # "lost all its points" or "covariance not positive definite"


@dataclass(frozen=True, slots=True, eq=False)
class MStepResult:
    """What an M-step returns: the new parameters and the components it re-seeded (see :class:`Reseed`).

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix.core import params_from_stats, resp_stats
    >>> X = np.array([[0.0], [1.0], [10.0], [11.0]])
    >>> resp = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    >>> result = params_from_stats(resp_stats(X, resp, None, np.zeros((2, 1)), "spherical"), reg_covar=0.0)
    >>> result.params.covariances, result.reseeds
    (array([0.25, 0.25]), ())
    """

    params: GaussianParams
    reseeds: tuple[Reseed, ...]


def params_from_stats(stats: SufficientStats, reg_covar: float) -> MStepResult:
    """Maximum-likelihood parameters from summed statistics, ``reg_covar`` added to every variance.

    Components that lost all their points, or whose covariance is not positive definite, are re-seeded at the
    worst-explained rows the statistics carry, with the weighted mean of the healthy components' covariances.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix import GaussianParams
    >>> from gaussmix.core import chunk_stats, params_from_stats
    >>> X = np.array([[0.0], [1.0], [10.0], [11.0]])
    >>> params = GaussianParams.from_covariances(np.array([0.5, 0.5]), np.array([[1.0], [9.0]]),
    ...                                          np.array([1.0, 1.0]), "spherical")
    >>> new = params_from_stats(chunk_stats(X, params), reg_covar=1e-6).params
    >>> new.weights, new.means.ravel()
    (array([0.5, 0.5]), array([ 0.5, 10.5]))
    """
    xp = array_namespace(stats.first)
    _check_finite(xp, stats)
    nk = stats.resp_sum
    total = stats.n
    dead = _indices(nk <= DEAD_FRACTION * total)
    safe_nk = xp.where(nk > 0, nk, xp.ones_like(nk))
    delta = stats.first / safe_nk[:, None]
    means = stats.center + delta
    covariances = covariances_from_stats(stats, safe_nk, delta, reg_covar)
    weights = nk / total
    return checked_params(stats, weights, means, covariances, dead, reg_covar)


def checked_params(stats: SufficientStats, weights: Any, means: Any, covariances: Any, dead: tuple[int, ...],
                   reg_covar: float) -> MStepResult:
    """Parameters in the statistics' layout, with the ``dead`` components and any whose covariance is not positive
    definite re-seeded at the worst-explained rows (every M-step ends here, whatever its covariance model)."""
    xp = array_namespace(stats.first)
    kind = stats.covariance_type
    try:
        params = GaussianParams.from_covariances(weights, means, covariances, kind)
        singular: tuple[int, ...] = ()
    except NotPositiveDefiniteError as err:
        if kind == "tied":
            raise _singular_error(err, reg_covar) from None
        singular = err.components
    bad = sorted(set(dead) | set(singular))
    if not bad:
        return MStepResult(params, ())
    return _reseed(xp, stats, weights, means, covariances, bad, set(dead), reg_covar)


def _check_finite(xp: Any, stats: SufficientStats) -> None:
    """Raise if the statistics overflowed: squares of values beyond ~1e154 are inf, and no covariance follows."""
    moments = (stats.n, stats.resp_sum, stats.first, stats.second)
    if is_numpy(xp) and all(np.isfinite(m).all() for m in moments):  # methods: a third of np.all's cost
        return
    if not is_numpy(xp) and all(bool(xp.all(xp.isfinite(m))) for m in moments):
        return
    far = to_numpy(stats.worst_rows)
    where = f" (row {int(far[0])} is the worst explained)" if far.size else ""
    raise ValueError(
        f"The data's values overflow when squared{where}: the sufficient statistics are not finite. Rescale the "
        "data, e.g. subtract each column's median and divide by its spread."
    )


def covariances_from_stats(stats: SufficientStats, nk: Any, delta: Any, reg_covar: float) -> Any:
    """Covariances about the new means: centred second moments corrected by δ = new mean − centre.

    ``nk`` (K,) are the (positive) responsibility sums and ``delta`` (K, D) = first / nk; tied divides by ``stats.n``.
    """
    xp = array_namespace(stats.first)
    kind = stats.covariance_type
    d = stats.n_features
    if kind == "full" and is_numpy(xp) and d > COVARIANCE_TILE:
        return _full_covariances_by_tiles(stats.second, nk, delta, reg_covar)
    if kind == "full" and is_numpy(xp):  # the same operations in place: at K = 4, D = 1,024 each temporary
        cov = stats.second / nk[:, None, None]  # stack cost ~10 ms of page faults (0.13 s per M-step in all)
        cov -= delta[:, :, None] * delta[:, None, :]
        cov += np.transpose(cov, (0, 2, 1))  # NumPy buffers the overlapping operand
        cov *= 0.5
        cov.reshape(cov.shape[0], -1)[:, ::d + 1] += reg_covar
        return cov
    if kind == "full":
        cov = stats.second / nk[:, None, None] - delta[:, :, None] * delta[:, None, :]
        cov = 0.5 * (cov + xp.matrix_transpose(cov))
        return cov + reg_covar * xp.eye(d, dtype=cov.dtype, **device_kwargs(xp, cov))
    if kind == "tied":
        cov = (stats.second - (nk[:, None] * delta).T @ delta) / stats.n
        cov = 0.5 * (cov + cov.T)
        return cov + reg_covar * xp.eye(d, dtype=cov.dtype, **device_kwargs(xp, cov))
    if kind == "diag":
        var = stats.second / nk[:, None] - delta * delta
        return xp.maximum(var, xp.zeros_like(var)) + reg_covar
    var = (stats.second / nk - xp.sum(delta * delta, axis=1)) / d
    return xp.maximum(var, xp.zeros_like(var)) + reg_covar


#: Side of the square tiles of ``_full_covariances_by_tiles``: a pair of them (2 × 128 KiB) stays in the L2 cache.
COVARIANCE_TILE = 128


def _full_covariances_by_tiles(second: np.ndarray, nk: np.ndarray, delta: np.ndarray,
                               reg_covar: float) -> np.ndarray:
    """The NumPy full branch of ``covariances_from_stats`` at high D, bit-identical to it: each pair of mirrored
    tiles (I, J), (J, I) is read once and written once, where whole-stack passes read the transpose D values
    apart (K = 4, D = 1,024, one thread: 79 → 35-45 ms), and components run on all cores."""
    k_all, d, _ = second.shape
    cov = np.empty_like(second)

    def component(k: int) -> None:
        for i in range(0, d, COVARIANCE_TILE):
            rows = slice(i, i + COVARIANCE_TILE)
            for j in range(i, d, COVARIANCE_TILE):
                cols = slice(j, j + COVARIANCE_TILE)
                upper = second[k, rows, cols] / nk[k] - delta[k, rows, None] * delta[k, None, cols]
                lower = second[k, cols, rows] / nk[k] - delta[k, cols, None] * delta[k, None, rows]
                upper += lower.T
                upper *= 0.5
                cov[k, rows, cols] = upper
                cov[k, cols, rows] = upper.T

    map_on_cores(component, k_all)  # the tiles' NumPy operations release the GIL
    cov.reshape(k_all, -1)[:, ::d + 1] += reg_covar
    return cov


def _reseed(
    xp: Any, stats: SufficientStats, weights: Any, means: Any, covariances: Any,
    bad: list[int], dead: set[int], reg_covar: float,
) -> MStepResult:
    """Move each bad component to one of the worst-explained rows, with the healthy components' mean covariance."""
    kind = stats.covariance_type
    k_all = stats.n_components
    healthy = [k for k in range(k_all) if k not in bad]
    if kind == "tied":
        fallback = covariances
    elif healthy:
        w = weights[healthy] / xp.sum(weights[healthy])
        shape = (-1,) + (1,) * (covariances.ndim - 1)
        fallback = xp.sum(xp.reshape(w, shape) * covariances[healthy], axis=0)
    else:
        raise _singular_error(NotPositiveDefiniteError(tuple(bad)), reg_covar)
    n_worst = int(stats.worst_points.shape[0])
    rows = to_numpy(stats.worst_rows)
    new_means, new_cov, new_weights = _copy(xp, means), _copy(xp, covariances), _copy(xp, weights)
    reseeds = []
    for i, k in enumerate(bad):
        if n_worst:
            new_means[k] = stats.worst_points[i % n_worst]
        if kind != "tied":
            new_cov[k] = fallback
        new_weights[k] = 1.0 / k_all
        reason = "lost all its points" if k in dead else "covariance not positive definite"
        reseeds.append(Reseed(k, int(rows[i % n_worst]) if n_worst else -1, reason))
    new_weights = new_weights / xp.sum(new_weights)
    try:
        params = GaussianParams.from_covariances(new_weights, new_means, new_cov, kind)
    except NotPositiveDefiniteError as err:
        raise _singular_error(err, reg_covar) from None
    return MStepResult(params, tuple(reseeds))


def _singular_error(err: NotPositiveDefiniteError, reg_covar: float) -> ValueError:
    return ValueError(
        f"{err} Every component is singular, so none can be re-seeded from the others "
        f"(constant or collinear columns?). Increase reg_covar (now {reg_covar:g})."
    )


def _indices(mask: Any) -> tuple[int, ...]:
    import numpy as np

    return tuple(int(i) for i in np.flatnonzero(to_numpy(mask)))


def _copy(xp: Any, a: Any) -> Any:
    return a.copy() if is_numpy(xp) else a.clone()

"""GMM-UBM: MAP adaptation of a universal background model and log-likelihood-ratio scoring (Reynolds et al. 2000).

Reynolds, Quatieri & Dunn, "Speaker verification using adapted Gaussian mixture models", Digital Signal
Processing 10 (2000). With n_k = Σ_t w_t·p(k | x_t) under the UBM and α_k = n_k / (n_k + r):
means (eq. 12) μ̂ = α·E_k[x] + (1 − α)·μ; weights (eq. 11) ŵ ∝ α·n_k/T + (1 − α)·w; variances (eq. 13)
σ̂² = α·E_k[x²] + (1 − α)·(σ² + μ²) − μ̂². Eq. 13 adds the *squared* UBM means; bob.learn.em's implementation adds
the means themselves, which is wrong whenever μ ≠ 0 or 1.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._base import fitted_params
from .._dispatch import accumulator, mean_of_rows
from ..core.density import log_gaussian_prob, logsumexp, weighted_log_prob
from ..core.params import GaussianParams, NotPositiveDefiniteError
from ..core.stats import SufficientStats
from ..estimator import GaussianMixture
from ._rows import rows_source

UPDATES = ("m", "w", "v")


def map_adapt(
    ubm: Any, X_or_stats: Any, relevance_factor: float = 16.0, update: str = "m", *, sample_weight: Any = None,
) -> GaussianMixture:
    """A new model MAP-adapted from ``ubm`` towards the data, the UBM left untouched.

    Parameters
    ----------
    ubm : fitted GaussianMixture
        The universal background model (full, diag or spherical; tied only with ``update`` without "v").
    X_or_stats : array-like of shape (n_samples, n_features), path, ChunkSource, Dask collection, or SufficientStats
        The adaptation data, or its statistics under the UBM (e.g. summed over the chunks of an out-of-core
        set with ``gaussmix.core.chunk_stats``); they must be centred on the UBM's means.
    relevance_factor : float, default=16
        r >= 0: how many (weighted) points a component needs before its data outweighs the UBM. r = 0 gives
        one maximum-likelihood M-step (without ``reg_covar``); r = inf returns the UBM's parameters.
    update : str, default="m"
        Which parameters to adapt: any combination of "m" (means), "w" (weights) and "v" (variances). The
        variance update (eq. 13) uses the adapted means μ̂ of eq. 12 even when "m" is not in ``update``.
    sample_weight : array-like of shape (n_samples,), optional
        Row weights, for data (not for statistics).

    Returns
    -------
    GaussianMixture
        Fitted, with the UBM's hyper-parameters; ``lower_bound_`` is the UBM's mean log-likelihood of the data.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix import GaussianMixture, map_adapt
    >>> rng = np.random.default_rng(0)
    >>> ubm = GaussianMixture(2, covariance_type="diag", random_state=0).fit(rng.normal(size=(400, 3)))
    >>> speaker = map_adapt(ubm, rng.normal(0.5, 1.0, size=(50, 3)), relevance_factor=16)
    >>> speaker.means_.shape
    (2, 3)
    """
    params = fitted_params(ubm, "adapt").to_numpy()
    parts = _check_update(update)
    r = _check_relevance(relevance_factor)
    if "v" in parts and params.covariance_type == "tied":
        raise ValueError("Variance adaptation ('v' in update) needs per-component statistics; a 'tied' UBM shares "
                         "one covariance. Adapt 'm' and 'w' only, or use a 'diag' or 'full' UBM.")
    if isinstance(X_or_stats, SufficientStats):
        if sample_weight is not None:
            raise ValueError("sample_weight applies to data; statistics already carry their weights.")
        stats = X_or_stats
        _check_stats(stats, params)
    else:
        source = rows_source(X_or_stats, sample_weight, n_features=params.n_features,
                             feature_names=getattr(ubm, "feature_names_in_", None), owner=type(ubm).__name__,
                             n_components=params.n_components)
        stats = accumulator(source)(params)
    adapted = adapted_params(params, stats, r, update)
    n = float(stats.n)
    bound = float(stats.log_likelihood) / n if n > 0 else math.nan
    hyper = ubm.get_params() if isinstance(ubm, GaussianMixture) else \
        {"n_components": params.n_components, "covariance_type": params.covariance_type}
    names = getattr(ubm, "feature_names_in_", None)
    return GaussianMixture.from_params(adapted, **hyper, n_iter=1, converged=True, lower_bound=bound,
                                       lower_bounds=[bound], feature_names=None if names is None else tuple(names))


def adapted_params(params: GaussianParams, stats: SufficientStats, relevance_factor: float,
                   update: str = "m") -> GaussianParams:
    """MAP-adapted parameters from statistics centred on ``params.means`` (Reynolds et al. 2000, eqs. 11–13).

    Kept centred for accuracy far from the origin: with d = x − μ and δ = μ̂ − μ = α·E_k[d], eq. 13 equals
    α·E_k[d dᵀ] + (1 − α)·Σ − δ δᵀ exactly (the μ terms cancel), which is also how it extends to full and
    spherical covariances.

    Examples
    --------
    :func:`map_adapt` on statistics computed under the UBM's parameters, one layer down:

    >>> import numpy as np
    >>> from gaussmix import GaussianParams
    >>> from gaussmix.analysis import adapted_params
    >>> from gaussmix.core import chunk_stats
    >>> ubm = GaussianParams.from_covariances(np.array([0.5, 0.5]), np.array([[0.0], [10.0]]),
    ...                                       np.array([1.0, 1.0]), "spherical")
    >>> X = np.full((16, 1), 1.0)                    # 16 frames near component 0
    >>> adapted = adapted_params(ubm, chunk_stats(X, ubm), relevance_factor=16, update="m")
    >>> adapted.means.round(3).ravel().tolist()      # alpha = 16 / (16 + 16): halfway; component 1 unchanged
    [0.5, 10.0]
    """
    parts = _check_update(update)
    nk = np.asarray(stats.resp_sum, dtype=np.float64)
    alpha = adaptation_coefficients(nk, relevance_factor)
    has_data = nk > 0
    safe_nk = np.where(has_data, nk, 1.0)
    mean_offset = np.where(has_data[:, None], np.asarray(stats.first, dtype=np.float64) / safe_nk[:, None], 0.0)
    delta = alpha[:, None] * mean_offset
    means = params.means + delta if "m" in parts else params.means
    weights = params.weights
    if "w" in parts:
        blended = alpha * nk / float(stats.n) + (1.0 - alpha) * params.weights
        weights = blended / np.sum(blended)
    covariances = params.covariances
    if "v" in parts:
        covariances = _adapted_covariances(params, stats, alpha, safe_nk, delta)
    try:
        return GaussianParams.from_covariances(weights, means, covariances, params.covariance_type)
    except NotPositiveDefiniteError as err:
        raise ValueError(f"{err} After MAP adaptation with relevance_factor={relevance_factor!r}: a component "
                         "with alpha = 1 whose data has no spread; use relevance_factor > 0.") from None


def adaptation_coefficients(nk: Any, relevance_factor: float) -> np.ndarray:
    """α_k = n_k / (n_k + r); 0 for a component with no data (also when r = 0), 0 for r = inf."""
    nk = np.asarray(nk, dtype=np.float64)
    denominator = nk + relevance_factor
    return np.where((nk > 0) & (denominator > 0), nk / np.where(denominator > 0, denominator, 1.0), 0.0)


def _adapted_covariances(params: GaussianParams, stats: SufficientStats, alpha: np.ndarray, safe_nk: np.ndarray,
                         delta: np.ndarray) -> np.ndarray:
    """α·E_k[(x − μ)(x − μ)ᵀ] + (1 − α)·Σ − δδᵀ per component, the shape of the covariance type."""
    kind = params.covariance_type
    second = np.asarray(stats.second, dtype=np.float64)
    cov = params.covariances
    if kind == "full":
        scatter = second / safe_nk[:, None, None]
        new = (alpha[:, None, None] * scatter + (1.0 - alpha)[:, None, None] * cov
               - delta[:, :, None] * delta[:, None, :])
        return 0.5 * (new + np.swapaxes(new, 1, 2))
    if kind == "diag":
        return alpha[:, None] * (second / safe_nk[:, None]) + (1.0 - alpha)[:, None] * cov - delta * delta
    d = params.n_features
    return alpha * second / (safe_nk * d) + (1.0 - alpha) * cov - np.sum(delta * delta, axis=1) / d


def log_likelihood_ratio(model: Any, ubm: Any, X: Any, top_c: int | None = None) -> float:
    """Frame-averaged log-likelihood ratio (1/T)·Σ_t [log p(x_t | model) − log p(x_t | ubm)].

    Models come first and data last, as in every gaussmix function that takes both.

    Parameters
    ----------
    model : fitted GaussianMixture
        The claimed speaker's model, MAP-adapted from ``ubm`` (same components).
    ubm : fitted GaussianMixture
    X : array-like of shape (n_frames, n_features), path, ChunkSource or Dask collection
        The test frames (one utterance, or one row for a single-vector trial).
    top_c : int, optional
        Fast scoring: per frame only the UBM's ``top_c`` best components (largest w_k·N(x | k)) are evaluated in
        both models, the others taken as zero. Exact when None or >= n_components.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> import gaussmix
    >>> rng = np.random.default_rng(0)
    >>> ubm = gaussmix.GaussianMixture(4, covariance_type="diag", random_state=0).fit(rng.normal(size=(400, 2)))
    >>> speaker = gaussmix.map_adapt(ubm, rng.normal(0.5, 1, (100, 2)))
    >>> llr_same = gaussmix.log_likelihood_ratio(speaker, ubm, rng.normal(0.5, 1, (100, 2)))
    >>> llr_other = gaussmix.log_likelihood_ratio(speaker, ubm, rng.normal(-0.5, 1, (100, 2)))
    >>> bool(llr_same > 0 > llr_other)
    True
    """
    if hasattr(X, "means_") and not hasattr(model, "means_"):
        raise TypeError("log_likelihood_ratio takes (model, ubm, X): the models first, the data last (gaussmix 0.1 "
                        "took X first).")
    model_params, ubm_params = fitted_params(model, "score").to_numpy(), fitted_params(ubm, "score").to_numpy()
    if (model_params.n_components, model_params.n_features) != (ubm_params.n_components, ubm_params.n_features):
        raise ValueError(f"The model has {model_params.n_components} components of {model_params.n_features} "
                         f"features but the UBM {ubm_params.n_components} of {ubm_params.n_features}; the model must "
                         "be adapted from this UBM.")
    k = ubm_params.n_components
    if top_c is not None and not (isinstance(top_c, numbers.Integral) and not isinstance(top_c, bool) and top_c >= 1):
        raise ValueError(f"The 'top_c' parameter of log_likelihood_ratio must be None or an int >= 1; got {top_c!r}.")
    c = None if top_c is None or top_c >= k else int(top_c)
    source = rows_source(X, n_features=ubm_params.n_features, feature_names=getattr(ubm, "feature_names_in_", None),
                         owner="the UBM", n_components=k)
    mean, _ = mean_of_rows(source, _FrameLLR(model_params, ubm_params, c))
    return float(mean)


@dataclass(frozen=True)
class _FrameLLR:
    """Per-frame log p(x | model) − log p(x | ubm), a picklable row function for any executor."""

    model: GaussianParams
    ubm: GaussianParams
    top_c: int | None

    def __call__(self, X: np.ndarray) -> np.ndarray:
        ubm_wlp = np.asarray(weighted_log_prob(X, self.ubm), dtype=np.float64)
        if self.top_c is None:
            model_wlp = np.asarray(weighted_log_prob(X, self.model), dtype=np.float64)
            return logsumexp(model_wlp, axis=1) - logsumexp(ubm_wlp, axis=1)
        k = ubm_wlp.shape[1]
        top = np.argpartition(ubm_wlp, k - self.top_c, axis=1)[:, k - self.top_c:]
        ubm_top = np.take_along_axis(ubm_wlp, top, axis=1)
        return logsumexp(_selected_weighted_log_prob(X, self.model, top), axis=1) - logsumexp(ubm_top, axis=1)


def _selected_weighted_log_prob(X: np.ndarray, params: GaussianParams, top: np.ndarray) -> np.ndarray:
    """log w_k + log N(x_i | k) only for the components ``top[i]`` of each row: N·C densities, not N·K."""
    out = np.empty(top.shape, dtype=np.float64)
    log_weights = np.log(params.weights)
    for k in np.unique(top):
        rows, cols = np.nonzero(top == k)
        out[rows, cols] = log_weights[k] + log_gaussian_prob(X[rows], _component(params, int(k)))[:, 0]
    return out


def _component(params: GaussianParams, k: int) -> GaussianParams:
    """Component k alone, as a one-component mixture (a tied covariance stays shared)."""
    pick = slice(k, k + 1)
    if params.covariance_type == "tied":
        return GaussianParams(params.weights[pick], params.means[pick], params.covariances,
                              params.precisions_cholesky, "tied")
    return GaussianParams(params.weights[pick], params.means[pick], params.covariances[pick],
                          params.precisions_cholesky[pick], params.covariance_type)


def _check_update(update: Any) -> set[str]:
    if not isinstance(update, str) or not update or set(update) - set(UPDATES):
        raise ValueError(f"The 'update' parameter of map_adapt must be a non-empty combination of 'm', 'w' and 'v' "
                         f"(e.g. 'm' or 'mwv'); got {update!r}.")
    return set(update)


def _check_relevance(relevance_factor: Any) -> float:
    ok = isinstance(relevance_factor, numbers.Real) and not isinstance(relevance_factor, bool) \
        and not math.isnan(relevance_factor) and float(relevance_factor) >= 0
    if not ok:
        raise ValueError(f"The 'relevance_factor' parameter of map_adapt must be a real number >= 0 (inf allowed); "
                         f"got {relevance_factor!r}.")
    return float(relevance_factor)


def _check_stats(stats: SufficientStats, params: GaussianParams) -> None:
    """Statistics must be the UBM's: same type and sizes, centred on its means (computed under its parameters)."""
    found = (stats.covariance_type, stats.n_components, stats.n_features)
    expected = (params.covariance_type, params.n_components, params.n_features)
    if found != expected:
        raise ValueError(f"The statistics are of {found[1]} {found[0]!r} components of {found[2]} features; the UBM "
                         f"has {expected[1]} {expected[0]!r} components of {expected[2]} features.")
    center = np.asarray(stats.center, dtype=np.float64)
    if not np.array_equal(center, params.means):
        gap = float(np.max(np.abs(center - params.means)))
        raise ValueError(f"The statistics are centred {gap:.3g} away from the UBM's means: compute them under the "
                         "UBM, e.g. gaussmix.core.chunk_stats(X, ubm_params) summed over chunks.")

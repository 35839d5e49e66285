"""Gaussian conditioning per component (the Schur complement): what missing values, ``condition`` and regression share.

Each component N(μ, Σ) is split into given coordinates g and the rest r. Given x_g, the rest is N(μ_r + B(x_g −
μ_g), Σ_rr − B Σ_gr) with B = Σ_rg Σ_gg⁻¹, and the component's weight is multiplied by N(x_g | μ_g, Σ_gg)
(Bishop 2006, eqs. 2.81–2.82; Ghahramani & Jordan 1994). ``conditioning`` factorises Σ_gg once per set of given
coordinates; every row with those coordinates then costs a triangular solve per component.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.linalg import solve_triangular

from .params import GaussianParams

LOG_2PI = math.log(2.0 * math.pi)


@dataclass(frozen=True, slots=True, eq=False)
class Conditioning:
    """Every component of a mixture split into given coordinates ``given`` (G,) and the rest ``rest`` (R,).

    ``whiten`` (K, G, G): inverses of the lower Cholesky factors L of Σ_gg (z = L⁻¹(x_g − μ_g)); ``log_det``
    (K,): ½·log|Σ_gg|; ``coef`` (K, R, G): B_k; ``cond_cov`` (K, R, R): Σ_rr − B_k Σ_gr; ``means`` (K, D) and
    ``log_weights`` (K,) of the mixture. float64.
    """

    given: np.ndarray
    rest: np.ndarray
    means: np.ndarray
    log_weights: np.ndarray
    whiten: np.ndarray
    log_det: np.ndarray
    coef: np.ndarray
    cond_cov: np.ndarray

    @property
    def n_components(self) -> int:
        return int(self.means.shape[0])


def conditioning(params: GaussianParams, given: np.ndarray) -> Conditioning:
    """Factorise each component of ``params`` (NumPy) for conditioning on the coordinates ``given`` (int indices)."""
    means = np.asarray(params.means, dtype=np.float64)
    d = means.shape[1]
    given = np.asarray(given, dtype=np.intp)
    rest = np.setdiff1d(np.arange(d), given)
    cov = np.asarray(params.full_covariances, dtype=np.float64)
    with np.errstate(divide="ignore"):  # a zero weight: a component that explains nothing
        log_w = np.log(np.asarray(params.weights, dtype=np.float64))
    if params.covariance_type in ("diag", "spherical"):  # independent coordinates: Σ_rg = 0, nothing to solve
        var = np.diagonal(cov, axis1=1, axis2=2)
        whiten: np.ndarray = (1.0 / np.sqrt(var[:, given]))[:, :, None] * np.eye(given.size)
        log_det: np.ndarray = 0.5 * np.sum(np.log(var[:, given]), axis=1)
        independent = np.zeros((means.shape[0], rest.size, given.size))
        return Conditioning(given, rest, means, log_w, whiten, log_det, independent, cov[:, rest][:, :, rest])
    cov_gg = cov[:, given][:, :, given]
    cov_rg = cov[:, rest][:, :, given]
    chol = np.linalg.cholesky(cov_gg)
    log_det = np.sum(np.log(np.diagonal(chol, axis1=1, axis2=2)), axis=1)
    # One batched inverse of the (small) triangular factors serves every row of the pattern: a matmul per block
    # instead of a solve per component and block. B = Σ_rg Σ_gg⁻¹ = (Σ_rg L⁻ᵀ) L⁻¹.
    whiten = np.linalg.inv(chol)
    half = cov_rg @ np.transpose(whiten, (0, 2, 1))
    coef = half @ whiten
    cond_cov = cov[:, rest][:, :, rest] - half @ np.transpose(half, (0, 2, 1))
    cond_cov = 0.5 * (cond_cov + np.transpose(cond_cov, (0, 2, 1)))
    return Conditioning(given, rest, means, log_w, whiten, log_det, coef, cond_cov)


def weighted_marginal_log_prob(cond: Conditioning, X_given: np.ndarray) -> np.ndarray:
    """log w_k + log N(x_g | μ_kg, Σ_kgg) of rows ``X_given`` (n, G), shape (n, K); G = 0 gives log w_k."""
    n, g = X_given.shape
    out = np.empty((n, cond.n_components))
    for k in range(cond.n_components):
        z = (X_given - cond.means[k, cond.given]) @ cond.whiten[k].T
        out[:, k] = -0.5 * (g * LOG_2PI + np.einsum("ng,ng->n", z, z)) - cond.log_det[k]
    return out + cond.log_weights


def conditional_mean(cond: Conditioning, X_given: np.ndarray, k: int) -> np.ndarray:
    """E[x_r | x_g, component k] of rows ``X_given`` (n, G), shape (n, R)."""
    return cond.means[k, cond.rest] + (X_given - cond.means[k, cond.given]) @ cond.coef[k].T


def log_normalise(log_prob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise log Σ_k exp and the normalised log-probabilities of a (n, K) array (rows of all -inf: equal)."""
    peak = np.max(log_prob, axis=1, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0.0)
    with np.errstate(divide="ignore"):
        total = np.log(np.sum(np.exp(log_prob - peak), axis=1)) + peak[:, 0]
    with np.errstate(invalid="ignore"):
        normalised = log_prob - total[:, None]
    live = np.isfinite(log_prob).any(axis=0)
    equal = np.where(live, -math.log(max(1, int(live.sum()))), -np.inf)
    return total, np.where(np.isfinite(total)[:, None], normalised, equal)


@dataclass(frozen=True, slots=True, eq=False)
class ConditionalMixture:
    """The mixtures p(x_r | x_g) of n rows: one Gaussian mixture over the R remaining coordinates per row.

    ``weights`` (n, K) are each row's posterior p(k | x_g); ``means`` (n, K, R); ``covariances`` in the shape of
    ``covariance_type`` over R coordinates, shared by every row (conditioning keeps the type: a conditional
    covariance does not depend on the values given). ``rest`` holds the remaining coordinates' indices.

    Examples
    --------
    :meth:`GaussianMixtureRegressor.predict_distribution <gaussmix.GaussianMixtureRegressor.predict_distribution>`
    returns one, p(y | x) for every row x:

    >>> import numpy as np
    >>> from gaussmix import GaussianMixtureRegressor
    >>> rng = np.random.default_rng(0)
    >>> x = rng.uniform(0, 1, (200, 1))
    >>> y = 3 * x[:, 0] + 0.1 * rng.normal(size=200)
    >>> reg = GaussianMixtureRegressor(n_components=1, random_state=0).fit(x, y)
    >>> dist = reg.predict_distribution(np.array([[0.0], [1.0]]))
    >>> len(dist), dist.mean().round(1).ravel().tolist(), dist.covariance().shape
    (2, [0.0, 3.0], (2, 1, 1))
    """

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    covariance_type: str
    rest: np.ndarray

    def __len__(self) -> int:
        return int(self.weights.shape[0])

    def params(self, row: int) -> GaussianParams:
        """Row ``row``'s conditional mixture as GaussianParams."""
        return GaussianParams.from_covariances(self.weights[row], self.means[row], self.covariances,
                                               self.covariance_type)

    def _full_covariances(self) -> np.ndarray:
        k, r = self.means.shape[1:]
        cov = self.covariances
        if self.covariance_type == "full":
            return cov
        if self.covariance_type == "tied":
            return np.broadcast_to(cov, (k, r, r))
        variances = cov if self.covariance_type == "diag" else cov[:, None] * np.ones(r)
        return variances[:, :, None] * np.eye(r)

    def mean(self) -> np.ndarray:
        """E[x_r | x_g] of every row, shape (n, R)."""
        return np.einsum("nk,nkr->nr", self.weights, self.means)

    def covariance(self) -> np.ndarray:
        """Cov[x_r | x_g] of every row, shape (n, R, R): within-component plus between-component spread."""
        mean = self.mean()
        within = np.einsum("nk,krs->nrs", self.weights, self._full_covariances())
        between = np.einsum("nk,nkr,nks->nrs", self.weights, self.means, self.means) - mean[:, :, None] * mean[:, None]
        return within + between

    def log_prob(self, Y: np.ndarray) -> np.ndarray:
        """log p(y_i | x_g,i) of one point per row, Y (n, R): the log predictive density, shape (n,)."""
        Y = np.asarray(Y, dtype=np.float64).reshape(len(self), -1)
        cov = self._full_covariances()
        r = Y.shape[1]
        log_terms = np.empty(self.weights.shape)
        for k in range(cov.shape[0]):
            chol = np.linalg.cholesky(cov[k])
            z = solve_triangular(chol, (Y - self.means[:, k]).T, lower=True)
            log_det = np.sum(np.log(np.diagonal(chol)))
            log_terms[:, k] = -0.5 * (r * LOG_2PI + np.sum(z * z, axis=0)) - log_det
        with np.errstate(divide="ignore"):
            return log_normalise(np.log(self.weights) + log_terms)[0]


def condition_params(params: GaussianParams, given: np.ndarray, values: np.ndarray) -> ConditionalMixture:
    """The mixtures over the coordinates not in ``given`` (G,), given ``values`` (n, G) of those, per row."""
    cond = conditioning(params, given)
    values = np.asarray(values, dtype=np.float64)
    _, log_weights = log_normalise(weighted_marginal_log_prob(cond, values))
    means = np.stack([conditional_mean(cond, values, k) for k in range(cond.n_components)], axis=1)
    kind = params.covariance_type
    if kind == "full":
        covariances = cond.cond_cov
    elif kind == "tied":
        covariances = cond.cond_cov[0]
    elif kind == "diag":
        covariances = np.diagonal(cond.cond_cov, axis1=1, axis2=2).copy()
    else:
        covariances = np.asarray(params.covariances, dtype=np.float64).copy()
    return ConditionalMixture(np.exp(log_weights), means, covariances, kind, cond.rest)

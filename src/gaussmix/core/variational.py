"""Variational Bayesian EM on the same statistics: a Gaussian–Wishart posterior per component and a Dirichlet
(or stick-breaking Dirichlet-process) posterior on the weights (Bishop 2006, §10.2; Blei & Jordan 2006).

The E-step is the maximum-likelihood one, run on :meth:`VariationalPosterior.e_step_params`:
E[log π_k] + E[log N(x | μ_k, Λ_k)] is a Gaussian log-density with precision ν_k·W_k plus a per-component
constant −D/(2β_k) + ½E[log|Λ_k|] − ½log|ν_k W_k|, folded into the weight. The M-step
(:func:`posterior_from_stats`) turns summed statistics into posterior hyper-parameters, and :func:`elbo` computes
the lower bound from the same statistics, never from a second pass over the data. Conventions (the 10·eps added to
the counts, ``reg_covar`` in the scatter, the bound's terms) follow scikit-learn's BayesianGaussianMixture, so fits
agree with it from the same start. The posterior is small (K·D² numbers) and lives on the host in float64.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import betaln, digamma, gammaln

from .em import StepOutcome
from .mstep import covariances_from_stats
from .namespace import to_numpy
from .params import GaussianParams, log_det_cholesky, precisions_cholesky_from_covariances
from .stats import SufficientStats

WEIGHT_PRIOR_TYPES = ("dirichlet_process", "dirichlet_distribution")
#: Added to every component's count, as scikit-learn does, so that an empty component keeps finite statistics.
COUNT_FLOOR = 10 * np.finfo(np.float64).eps


@dataclass(frozen=True, slots=True, eq=False)
class GaussianWishartPrior:
    """The prior: on the weights a Dirichlet (``dirichlet_distribution``) or a stick-breaking Dirichlet process with
    concentration ``weight_concentration``; on each (μ_k, Λ_k) a Gaussian–Wishart with mean ``mean`` (D,),
    precision scale ``mean_precision`` (β₀), ``degrees_of_freedom`` (ν₀) and ``covariance`` (W₀⁻¹ in the covariance
    type's layout for one component: (D, D) full/tied, (D,) diag, a scalar spherical)."""

    weight_concentration_prior_type: str
    weight_concentration: float
    mean_precision: float
    mean: np.ndarray
    degrees_of_freedom: float
    covariance: Any


@dataclass(frozen=True, slots=True, eq=False)
class VariationalPosterior:
    """Posterior hyper-parameters, in scikit-learn's attribute layout.

    ``weight_concentration`` is (K,) Dirichlet parameters, or (2, K) Beta parameters of the sticks for a
    Dirichlet process; ``mean_precision`` β (K,); ``means`` m (K, D); ``degrees_of_freedom`` ν (K,) or a scalar for
    tied; ``covariances`` (ν W)⁻¹ and ``precisions_cholesky`` its inverse's Cholesky factor, in the covariance
    type's layout; ``prior`` the prior it was computed from.
    """

    weight_concentration: np.ndarray
    mean_precision: np.ndarray
    means: np.ndarray
    degrees_of_freedom: Any
    covariances: np.ndarray
    precisions_cholesky: np.ndarray
    covariance_type: str
    prior: GaussianWishartPrior

    @property
    def weight_concentration_prior_type(self) -> str:
        return self.prior.weight_concentration_prior_type

    @property
    def n_components(self) -> int:
        return int(self.means.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.means.shape[1])

    @property
    def weights(self) -> np.ndarray:
        """Posterior mean of the weights (the stick-breaking expectation for a Dirichlet process)."""
        if self.weight_concentration_prior_type == "dirichlet_process":
            a, b = self.weight_concentration
            stick = a / (a + b)
            remaining = np.concatenate([[1.0], np.cumprod(b / (a + b))[:-1]])
            weights = stick * remaining
            return weights / weights.sum()
        return self.weight_concentration / self.weight_concentration.sum()

    def params(self) -> GaussianParams:
        """The mixture the posterior's means stand for: posterior mean weights, ``means``, ``covariances``."""
        return GaussianParams(self.weights, self.means, self.covariances, self.precisions_cholesky,
                              self.covariance_type)

    def expected_log_weights(self) -> np.ndarray:
        """E[log π_k] under the posterior, shape (K,)."""
        if self.weight_concentration_prior_type == "dirichlet_process":
            a, b = self.weight_concentration
            digamma_sum = digamma(a + b)
            return digamma(a) - digamma_sum + np.concatenate([[0.0], np.cumsum(digamma(b) - digamma_sum)[:-1]])
        return digamma(self.weight_concentration) - digamma(np.sum(self.weight_concentration))

    def e_step_params(self) -> GaussianParams:
        """Parameters whose ordinary E-step gives the variational responsibilities (see the module docstring).

        Their weights need not sum to 1: log Σ_k of the weighted densities is the E-step's normaliser, not a
        log-likelihood.
        """
        d = self.n_features
        nu = np.asarray(self.degrees_of_freedom, dtype=np.float64)
        log_lambda = d * math.log(2.0) + np.sum(digamma(0.5 * (nu - np.arange(d)[:, None])), axis=0) if nu.ndim \
            else d * math.log(2.0) + float(np.sum(digamma(0.5 * (nu - np.arange(d)))))
        log_weights = (self.expected_log_weights() - 0.5 * d * np.log(nu)
                       + 0.5 * (log_lambda - d / self.mean_precision))
        return GaussianParams(np.exp(log_weights), self.means, self.covariances, self.precisions_cholesky,
                              self.covariance_type)


def posterior_from_stats(stats: SufficientStats, prior: GaussianWishartPrior, reg_covar: float) -> VariationalPosterior:
    """The variational M-step: posterior hyper-parameters from summed statistics (Bishop 2006, eqs. 10.58–10.63).

    Raises NotPositiveDefiniteError naming the components whose posterior covariance is not positive definite
    (only possible with a singular ``prior.covariance``).
    """
    kind = stats.covariance_type
    nk = np.asarray(to_numpy(stats.resp_sum), dtype=np.float64) + COUNT_FLOOR
    first = np.asarray(to_numpy(stats.first), dtype=np.float64)
    center = np.asarray(to_numpy(stats.center), dtype=np.float64)
    delta = first / nk[:, None]
    host_stats = SufficientStats(np.asarray(to_numpy(stats.n)), None, nk, first,
                                 np.asarray(to_numpy(stats.second), dtype=np.float64), center, kind, None, None, None)
    scatter = covariances_from_stats(host_stats, nk, delta, reg_covar)  # scikit-learn's sk, reg_covar included
    xk = center + delta
    k = nk.shape[0]
    beta0, nu0, m0 = prior.mean_precision, prior.degrees_of_freedom, np.asarray(prior.mean, dtype=np.float64)
    beta = beta0 + nk
    means = (beta0 * m0 + nk[:, None] * xk) / beta[:, None]
    diff = xk - m0
    shrink = nk * beta0 / beta  # n_k β₀ / β_k: how far the data mean pulls away from the prior mean
    if kind == "full":
        nu = nu0 + nk
        cov = (prior.covariance + nk[:, None, None] * scatter
               + shrink[:, None, None] * diff[:, :, None] * diff[:, None, :])
        cov = cov / nu[:, None, None]
    elif kind == "tied":
        nu = nu0 + nk.sum() / k
        cov = prior.covariance + scatter * nk.sum() / k + beta0 / k * ((nk / beta)[:, None] * diff).T @ diff
        cov = cov / nu
    elif kind == "diag":
        nu = nu0 + nk
        cov = (prior.covariance + nk[:, None] * scatter + shrink[:, None] * diff * diff) / nu[:, None]
    else:
        nu = nu0 + nk
        cov = (prior.covariance + nk * scatter + shrink * np.mean(diff * diff, axis=1)) / nu
    return VariationalPosterior(
        weight_concentration=_weight_concentration(prior, nk),
        mean_precision=beta,
        means=means,
        degrees_of_freedom=nu,
        covariances=cov,
        precisions_cholesky=precisions_cholesky_from_covariances(cov, kind),
        covariance_type=kind,
        prior=prior,
    )


def moments_from_stats(stats: SufficientStats) -> tuple[np.ndarray, Any]:
    """The data's mean and covariance (ddof=1 over the weighted row count) from one-component statistics, in the
    covariance type's one-component layout: (D, D) full/tied, (D,) diag, the mean variance for spherical."""
    n = float(to_numpy(stats.n))
    first = np.asarray(to_numpy(stats.first), dtype=np.float64)[0]
    second = np.asarray(to_numpy(stats.second), dtype=np.float64)
    mean = np.asarray(to_numpy(stats.center), dtype=np.float64)[0] + first / n
    delta = first / n
    denominator = max(n - 1.0, 1e-300)
    kind = stats.covariance_type
    if kind in ("full", "tied"):
        scatter = second[0] if kind == "full" else second
        return mean, (scatter - n * np.outer(delta, delta)) / denominator
    if kind == "diag":
        return mean, (second[0] - n * delta * delta) / denominator
    return mean, float((second[0] - n * delta @ delta) / denominator / first.shape[0])


def _weight_concentration(prior: GaussianWishartPrior, nk: np.ndarray) -> np.ndarray:
    if prior.weight_concentration_prior_type == "dirichlet_process":
        rest = np.concatenate([np.cumsum(nk[::-1])[-2::-1], [0.0]])  # Σ_{j>k} n_j: the data past stick k
        return np.stack([1.0 + nk, prior.weight_concentration + rest])
    return prior.weight_concentration + nk


def elbo(stats: SufficientStats, e_params: GaussianParams, posterior: VariationalPosterior) -> float:
    """scikit-learn's lower bound, from statistics: the responsibilities' entropy under the E-step's parameters,
    minus the Wishart, weight and mean normalisers of the new posterior (up to a constant).

    −Σ w r log r is Σ w log Z − Σ_nk w r log ρ_nk, and Σ_n w r_nk log ρ_nk takes only the counts and the centred
    second moments: n_k (log w_k + log|P_k| − D/2 log 2π) − ½ tr(P_k P_kᵀ S_k).
    """
    kind, d = posterior.covariance_type, posterior.n_features
    nk = np.asarray(to_numpy(stats.resp_sum), dtype=np.float64)
    second = np.asarray(to_numpy(stats.second), dtype=np.float64)
    prec_chol = np.asarray(to_numpy(e_params.precisions_cholesky), dtype=np.float64)
    with np.errstate(divide="ignore"):
        log_w = np.log(np.asarray(to_numpy(e_params.weights), dtype=np.float64))
    log_const = log_w + log_det_cholesky(prec_chol, kind, d) - 0.5 * d * math.log(2.0 * math.pi)
    # A weight that underflowed to 0 (log −inf) has no responsibility: its n_k · log ρ term is 0.
    weighted_log_rho = float(np.sum(nk * np.where(np.isfinite(log_const), log_const, 0.0))) - 0.5 * _precision_trace(
        prec_chol, second, kind)
    entropy = float(to_numpy(stats.log_likelihood)) - weighted_log_rho
    nu = posterior.degrees_of_freedom
    log_det = log_det_cholesky(posterior.precisions_cholesky, kind, d) - 0.5 * d * np.log(nu)
    log_wishart = _log_wishart_norm(nu, log_det, d)
    log_wishart = posterior.n_components * float(log_wishart) if kind == "tied" else float(np.sum(log_wishart))
    wc = posterior.weight_concentration
    if posterior.weight_concentration_prior_type == "dirichlet_process":
        log_norm_weight = -float(np.sum(betaln(wc[0], wc[1])))
    else:
        log_norm_weight = float(gammaln(np.sum(wc)) - np.sum(gammaln(wc)))
    return entropy - log_wishart - log_norm_weight - 0.5 * d * float(np.sum(np.log(posterior.mean_precision)))


def _precision_trace(prec_chol: np.ndarray, second: np.ndarray, kind: str) -> float:
    """Σ_k tr(P_k P_kᵀ S_k) for the covariance type's layouts (tied: one P, S summed over k)."""
    if kind == "full":
        return float(np.einsum("kij,kil,klj->", prec_chol, second, prec_chol))
    if kind == "tied":
        return float(np.sum(prec_chol * (second @ prec_chol)))
    return float(np.sum(prec_chol * prec_chol * second))  # diag (K, D) and spherical (K,) alike


def _log_wishart_norm(nu: Any, log_det_prec_chol: Any, d: int) -> Any:
    """log B(W, ν) of the Wishart normaliser, with log|W|^{1/2} given (Bishop 2006, eq. B.79)."""
    nu = np.asarray(nu, dtype=np.float64)
    gammas = np.sum(gammaln(0.5 * (nu - np.arange(d)[:, None])), axis=0) if nu.ndim \
        else float(np.sum(gammaln(0.5 * (nu - np.arange(d)))))
    return -(nu * log_det_prec_chol + nu * d * 0.5 * math.log(2.0) + gammas)


@dataclass(frozen=True, slots=True, eq=False)
class VariationalBayes:
    """The variational M-step as a value for ``run_em``: the state is a VariationalPosterior, the bound the ELBO,
    summed over rows as scikit-learn reports it and as its ``tol`` applies to it (a per-row tolerance stops the
    slow switching-off of surplus components too early)."""

    prior: GaussianWishartPrior
    reg_covar: float

    def e_step_params(self, state: VariationalPosterior) -> GaussianParams:
        return state.e_step_params()

    def __call__(self, stats: SufficientStats, state: VariationalPosterior) -> StepOutcome:
        posterior = posterior_from_stats(stats, self.prior, self.reg_covar)
        bound = elbo(stats, state.e_step_params(), posterior)
        return StepOutcome(posterior, (), bound)

"""mclust's conjugate prior (Fraley & Raftery 2007): MAP means and the prior's share of each covariance update.

The prior is normal on each mean given its covariance, μ_k | Σ_k ~ N(μ_P, Σ_k/κ_P), and inverse Wishart (full
models) or inverse gamma (diagonal and spherical models, per variance) on the covariance parameters, with ν_P
degrees of freedom and scale Λ_P. In the covariance update it adds to each scatter S_k = W_k + B_k + P and to each
weight a_k = n_k + c, where B_k = κ n_k/(κ + n_k)·(x̄_k − μ_P)(x̄_k − μ_P)ᵀ and (c, P) are the prior's counts and
scale per component (a prior on a shared parameter is shared equally among the K components).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .params import GaussianParams

#: Models whose MAP update mclust defines (Fraley & Raftery 2007, Table 2), by the covariance family of the prior.
PRIOR_FAMILIES = {
    "EII": "spherical", "VII": "spherical", "E": "spherical", "V": "spherical",
    "EEI": "diag", "VEI": "diag", "EVI": "diag", "VVI": "diag",
    "EEE": "full", "EEV": "full", "VEV": "full", "VVV": "full",
}
#: Models mclust fits without a prior only: their MAP updates are not published.
NO_PRIOR_MODELS = ("VEE", "EVE", "VVE", "EVV")


@dataclass(frozen=True, slots=True, eq=False)
class PriorTerms:
    """A conjugate prior resolved for one model, K and D: what its M-step adds.

    ``shrinkage`` κ_P, ``mean`` μ_P (D,), ``dof`` ν_P, ``scale`` in the model family's form ((D, D), (D,) or a
    scalar); ``count`` c and ``share`` P the per-component additions to a_k and S_k (P in the statistics layout).
    """

    model: str
    shrinkage: float
    mean: np.ndarray
    dof: float
    scale: Any
    count: float
    share: np.ndarray

    def augment(self, W: np.ndarray, nk: np.ndarray, xbar: np.ndarray, layout: str) -> tuple[np.ndarray, np.ndarray]:
        """Prior-augmented scatters S (layout of W) and weights a from the ML scatters W about x̄ (K, D)."""
        diff = xbar - self.mean
        factor = self.shrinkage * nk / (self.shrinkage + nk)
        if layout == "spherical":
            B = factor * np.sum(diff * diff, axis=1)
        elif layout == "diag":
            B = factor[:, None] * diff * diff
        else:
            B = factor[:, None, None] * diff[:, :, None] * diff[:, None, :]
            if layout == "tied":
                B = np.sum(B, axis=0, keepdims=True)
        k = nk.shape[0]
        share = self.share * (k if layout == "tied" else 1)  # the tied scatter is already summed over k
        return W + B + share, nk + self.count


def map_means(xbar: np.ndarray, nk: np.ndarray, prior: PriorTerms) -> np.ndarray:
    """Posterior-mode means (n_k x̄_k + κ μ_P)/(n_k + κ), shape (K, D) (x̄_k itself where mclust keeps it)."""
    if prior.model in UNSHRUNK_MEANS:
        return xbar
    return (nk[:, None] * xbar + prior.shrinkage * prior.mean) / (nk[:, None] + prior.shrinkage)


def log_prior(params: GaussianParams, prior: PriorTerms) -> float:
    """log p(θ) up to a constant: −½ Σ_k [c log|Σ_k| + tr((P + κ (μ_k − μ_P)(μ_k − μ_P)ᵀ) Σ_k⁻¹)] (host params)."""
    layout = params.covariance_type
    cov = np.asarray(params.covariances, dtype=np.float64)
    diff = np.asarray(params.means, dtype=np.float64) - prior.mean
    k, d = diff.shape
    if layout == "spherical":
        log_det = d * np.log(cov)
        quad = (prior.share + prior.shrinkage * np.sum(diff * diff, axis=1)) / cov
    elif layout == "diag":
        log_det = np.sum(np.log(cov), axis=1)
        quad = np.sum((prior.share + prior.shrinkage * diff * diff) / cov, axis=1)
    else:
        full = np.broadcast_to(cov, (k, d, d))
        log_det = np.linalg.slogdet(full)[1]
        M = prior.share + prior.shrinkage * diff[:, :, None] * diff[:, None, :]
        quad = np.trace(np.linalg.solve(full, M), axis1=1, axis2=2)
    return float(-0.5 * np.sum(prior.count * log_det + quad))


@dataclass(frozen=True, slots=True)
class ConjugatePrior:
    """mclust's conjugate prior (``priorControl()``); a field left None takes mclust's data-derived default.

    Parameters
    ----------
    shrinkage : float or None, default=None
        κ_P, the prior's weight on the mean, in rows (mclust: 0.01).
    mean : array-like of shape (n_features,) or None
        μ_P (mclust: the data mean).
    dof : float or None
        ν_P (mclust: n_features + 2).
    scale : float, array-like of shape (n_features,) or (n_features, n_features), or None
        Λ_P in the model family's form: a variance for EII/VII/E/V, variances for the diagonal models, a matrix
        for the others (mclust: the data's variance(s) or covariance, times K^(−2/D)).

    Examples
    --------
    mclust's default prior (``prior="default"``), or one with chosen fields, in a maximum a posteriori fit:

    >>> import numpy as np
    >>> from gaussmix import ConjugatePrior, GaussianMixture
    >>> X = np.random.default_rng(0).normal(size=(50, 2))
    >>> gm = GaussianMixture(2, covariance_type="VVV", prior=ConjugatePrior(shrinkage=0.1), random_state=0).fit(X)
    >>> gm.means_.shape
    (2, 2)
    """

    shrinkage: float | None = None
    mean: Any = None
    dof: float | None = None
    scale: Any = None


def resolve_prior(prior: ConjugatePrior, model: str, n_components: int, data_mean: np.ndarray,
                  data_covariance: np.ndarray, layout: str) -> PriorTerms:
    """The numbers of ``prior`` for one model and K, defaults from the data's mean and covariance (ddof 1) as
    mclust's ``defaultPrior`` takes them. Raises ValueError for the models without a MAP update."""
    family = PRIOR_FAMILIES.get(model)
    if family is None:
        raise ValueError(f"The conjugate prior is not available for covariance model {model!r}: mclust defines MAP "
                         f"updates for {', '.join(PRIOR_FAMILIES)} only (not {', '.join(NO_PRIOR_MODELS)}).")
    k, d = n_components, data_mean.shape[0]
    shrinkage = 0.01 if prior.shrinkage is None else float(prior.shrinkage)
    mean = data_mean if prior.mean is None else np.asarray(prior.mean, dtype=np.float64).reshape(d)
    dof = d + 2.0 if prior.dof is None else float(prior.dof)
    if prior.scale is None:
        factor = (1.0 / k) ** (2.0 / d)
        variances = np.diag(data_covariance)
        scale: Any = (factor * data_covariance if family == "full"  # one variance for spherical and diagonal
                      else factor * float(np.sum(variances)) / d)
    else:
        scale = np.asarray(prior.scale, dtype=np.float64)
    count, share = _counts(model, family, k, d, dof, scale)
    share = _in_layout(share, layout, family, d)
    return PriorTerms(model, shrinkage, mean, dof, scale, count, share)


def _counts(model: str, family: str, k: int, d: int, dof: float, scale: Any) -> tuple[float, Any]:
    """(c, P): the prior's count and scale per component, as mclust 6's EM (``me``) takes them, checked to 1e-8
    (its ``mstep`` differs for EEI, EVI and EEV; mclust fits with ``me``). A prior on a parameter shared by the K
    components is counted once (1/K per component)."""
    counts = {
        "V": 1.0 + (dof + 2.0) / d, "VII": 1.0 + (dof + 2.0) / d,  # inverse gamma on σ², D/2 from each mean
        "E": 1.0 + (dof + 2.0) / (k * d), "EII": 1.0 + (dof + 2.0) / (k * d),
        "EEI": (dof + 2.0) / k, "VVI": dof + 3.0,  # inverse gamma per variance (EEI: as mclust's EM, me(),
        # takes it; its mstep() adds 1 per component)
        "VEI": (dof + 3.0) / d, "EVI": (dof + 2.0) / k,
        "EEE": 1.0 + (dof + d + 1.0) / k, "VVV": dof + d + 2.0,  # inverse Wishart, normal means
        "EEV": (dof + d + 2.0) / k, "VEV": 0.0,
    }
    spread = k if model in ("E", "EII", "EEI", "EEE") else 1
    return counts[model], scale / spread


#: Models whose MAP step keeps the maximum-likelihood means x̄_k (mclust's EEI step does).
UNSHRUNK_MEANS = ("EEI",)


def _in_layout(share: Any, layout: str, family: str, d: int) -> np.ndarray:
    share = np.asarray(share, dtype=np.float64)
    if layout in ("full", "tied") and share.ndim < 2:
        return np.diag(np.broadcast_to(share if share.ndim else share / 1.0, (d,)))
    if layout == "diag" and share.ndim == 2:
        return np.diag(share).copy()
    if layout == "spherical" and share.ndim:
        return np.asarray(np.trace(share) if share.ndim == 2 else np.sum(share))
    return share

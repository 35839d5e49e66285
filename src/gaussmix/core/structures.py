"""Covariance structures: scikit-learn's four and mclust's 14 models as values (layout, parameter count, update).

A :class:`CovarianceStructure` says which statistics layout its E-step needs (the smallest that holds what its
update reads: traces for EII/VII, diagonals for the ``*I`` models, the summed scatter for EEE, full scatters
otherwise), how many free covariance parameters it has (mclust's ``nVarParams``), and its covariance update from
scatters (``core.covariance_models``). :class:`ModelBasedMStep` is the M-step of any structure, maximum likelihood
or MAP under a :class:`~gaussmix.core.prior.PriorTerms`; executors and the EM loop serve it unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import covariance_models as cm
from .em import StepOutcome
from .mstep import DEAD_FRACTION, MStepResult, checked_params, params_from_stats
from .namespace import array_namespace, to_device, to_numpy
from .params import COVARIANCE_TYPES, GaussianParams
from .prior import PriorTerms, log_prior, map_means
from .stats import SufficientStats

#: mclust's 14 multivariate models, in mclust's order, and its two univariate ones.
MCLUST_MODELS: tuple[str, ...] = ("EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "VEE", "EVE", "VVE", "EEV", "VEV",
                                  "EVV", "VVV")
MCLUST_UNIVARIATE: tuple[str, ...] = ("E", "V")
#: Every covariance_type a GaussianMixture takes.
STRUCTURE_NAMES: tuple[str, ...] = COVARIANCE_TYPES + MCLUST_MODELS + MCLUST_UNIVARIATE
#: scikit-learn's four types are these mclust models (the same fits, to rounding).
SKLEARN_EQUIVALENTS = {"full": "VVV", "tied": "EEE", "diag": "VVI", "spherical": "VII"}


@dataclass(frozen=True, slots=True)
class CovarianceStructure:
    """One covariance model: its name, statistics layout, covariance-parameter count and update.

    ``update(S, a, previous)`` minimises Σ_k a_k log|Σ_k| + tr(S_k Σ_k⁻¹) over the model's class, S in ``layout``
    (traces for spherical, diagonals for diag, full (K, D, D) scatters otherwise, the summed one as (1, D, D) for
    tied), returning covariances in ``layout``.

    Examples
    --------
    >>> from gaussmix.core import covariance_structure
    >>> vev = covariance_structure("VEV")        # ellipsoidal, equal shape, varying volume and orientation
    >>> vev.name, vev.layout, vev.n_covariance_parameters(3, 2)
    ('VEV', 'full', 7)
    """

    name: str
    layout: str
    n_covariance_parameters: Callable[[int, int], int]
    update: Callable[[int], cm.Update]  # n_features -> update

    def n_parameters(self, n_components: int, n_features: int) -> int:
        """Free parameters of a K-component mixture: K − 1 weights, K·D means, the covariances (mclust's df)."""
        k, d = n_components, n_features
        return self.n_covariance_parameters(k, d) + k * d + k - 1

    @property
    def is_mclust(self) -> bool:
        return self.name not in COVARIANCE_TYPES


def _fixed(update: cm.Update) -> Callable[[int], cm.Update]:
    return lambda d: update


def _eee_tied(S: np.ndarray, a: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    return cm.eee(S, a, previous)


_STRUCTURES: dict[str, tuple[str, Callable[[int, int], int], Callable[[int], cm.Update]]] = {
    "EII": ("spherical", lambda k, d: 1, cm.spherical_equal),
    "VII": ("spherical", lambda k, d: k, cm.spherical_variable),
    "EEI": ("diag", lambda k, d: d, _fixed(cm.eei)),
    "VEI": ("diag", lambda k, d: k + d - 1, _fixed(cm.vei)),
    "EVI": ("diag", lambda k, d: 1 + k * (d - 1), _fixed(cm.evi)),
    "VVI": ("diag", lambda k, d: k * d, _fixed(cm.vvi)),
    "EEE": ("tied", lambda k, d: d * (d + 1) // 2, _fixed(_eee_tied)),
    "VEE": ("full", lambda k, d: k + d * (d + 1) // 2 - 1, _fixed(cm.vee)),
    "EVE": ("full", lambda k, d: 1 + k * (d - 1) + d * (d - 1) // 2, _fixed(cm.eve)),
    "VVE": ("full", lambda k, d: k * d + d * (d - 1) // 2, _fixed(cm.vve)),
    "EEV": ("full", lambda k, d: d + k * d * (d - 1) // 2, _fixed(cm.eev)),
    "VEV": ("full", lambda k, d: k + d - 1 + k * d * (d - 1) // 2, _fixed(cm.vev)),
    "EVV": ("full", lambda k, d: 1 + k * (d * (d + 1) // 2 - 1), _fixed(cm.evv)),
    "VVV": ("full", lambda k, d: k * d * (d + 1) // 2, _fixed(cm.vvv)),
    "E": ("spherical", lambda k, d: 1, cm.spherical_equal),
    "V": ("spherical", lambda k, d: k, cm.spherical_variable),
}


def covariance_structure(name: str) -> CovarianceStructure:
    """The structure named by a covariance_type: scikit-learn's four are their mclust equivalents in their own
    layout (full, tied, diag, spherical), so that their fits stay scikit-learn's.

    Examples
    --------
    >>> from gaussmix.core import MCLUST_MODELS, covariance_structure
    >>> [covariance_structure(name).layout for name in ("EII", "VVI", "EEE", "VVV")]
    ['spherical', 'diag', 'tied', 'full']
    >>> len(MCLUST_MODELS)
    14
    """
    model = SKLEARN_EQUIVALENTS.get(name, name)
    _, count, update = _STRUCTURES[model]
    layout = name if name in COVARIANCE_TYPES else _STRUCTURES[model][0]
    return CovarianceStructure(name, layout, count, update)


def attribute_layout(name: str) -> str:
    """The layout of a fitted model's attributes: scikit-learn's for its four names, full (K, D, D) for mclust's."""
    return name if name in COVARIANCE_TYPES else "full"


def sklearn_type_of(name: str) -> str | None:
    """scikit-learn's covariance_type for a structure that has one (its four, VVV, EEE, VVI, VII), else None."""
    if name in COVARIANCE_TYPES:
        return name
    return {model: kind for kind, model in SKLEARN_EQUIVALENTS.items()}.get(name)


def in_layout(params: GaussianParams, layout: str) -> GaussianParams:
    """The same mixture with covariances in ``layout`` (full → diag takes the diagonals: exact for a model whose
    covariances are diagonal, which is when it is asked)."""
    if params.covariance_type == layout:
        return params
    xp = array_namespace(params.means)
    full = params.full_covariances
    if layout == "full":
        cov = full
    elif layout == "tied":
        cov = full[0]
    else:
        diagonal = xp.linalg.diagonal(full)
        cov = diagonal if layout == "diag" else xp.mean(diagonal, axis=1)
    return GaussianParams.from_covariances(params.weights, params.means, cov, layout)


@dataclass(frozen=True, slots=True, eq=False)
class ModelBasedMStep:
    """The M-step of any covariance structure: maximum likelihood, or MAP when ``prior`` is given.

    The bound it reports is the mean log-likelihood (plus the log prior density, up to its constant, for MAP) of
    the parameters the E-step used: what EM never decreases.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix import GaussianParams
    >>> from gaussmix.core import ModelBasedMStep, chunk_stats, covariance_structure, run_em
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(0, 1, (100, 2)), rng.normal(5, 2, (100, 2))])
    >>> params0 = GaussianParams.from_covariances(np.array([0.5, 0.5]), np.array([[1.0, 1.0], [4.0, 4.0]]),
    ...                                           np.array([np.eye(2), np.eye(2)]), "full")
    >>> m_step = ModelBasedMStep(covariance_structure("VII"), reg_covar=1e-6)
    >>> result = run_em(lambda p: chunk_stats(X, p), params0, m_step=m_step, tol=1e-8, max_iter=200)
    >>> result.converged, result.params.covariance_type      # VII: spherical, each its own volume
    (True, 'spherical')
    """

    structure: CovarianceStructure
    reg_covar: float
    prior: PriorTerms | None = None

    def e_step_params(self, state: GaussianParams) -> GaussianParams:
        return in_layout(state, self.structure.layout)

    def __call__(self, stats: SufficientStats, state: GaussianParams | None) -> StepOutcome:
        previous = None if state is None else in_layout(state, self.structure.layout)
        result = structured_params(stats, self.structure, self.reg_covar, self.prior, previous)
        bound = float(to_numpy(stats.log_likelihood))
        if self.prior is not None and previous is not None:
            bound += log_prior(previous.to_numpy(), self.prior)
        return StepOutcome(result.params, result.reseeds, bound / float(to_numpy(stats.n)))


def structured_params(stats: SufficientStats, structure: CovarianceStructure, reg_covar: float,
                      prior: PriorTerms | None = None, previous: GaussianParams | None = None) -> MStepResult:
    """New parameters from summed statistics for ``structure`` (ML, or MAP under ``prior``), dead or singular
    components re-seeded. scikit-learn's four types without a prior are ``params_from_stats`` exactly."""
    if prior is None and not structure.is_mclust:
        return params_from_stats(stats, reg_covar)
    layout = structure.layout
    host = lambda a: np.asarray(to_numpy(a), dtype=np.float64)  # noqa: E731 - the update runs on the host
    nk, total = host(stats.resp_sum), float(host(stats.n))
    d = stats.n_features
    dead = tuple(int(i) for i in np.flatnonzero(nk <= DEAD_FRACTION * total))
    safe_nk = np.where(nk > 0, nk, 1.0)
    delta = host(stats.first) / safe_nk[:, None]
    xbar = host(stats.center) + delta
    W = _scatter(host(stats.second), nk, delta, layout)
    if prior is None:
        means, S, a = xbar, W, nk
    else:
        means = map_means(xbar, nk, prior)
        S, a = prior.augment(W, nk, xbar, layout)
    if reg_covar:  # a_k·reg added to each scatter: the tied scatter is the sum, so it takes Σ a_k
        weight = np.sum(a, keepdims=True) if layout == "tied" else a
        S = S + reg_covar * weight.reshape((-1,) + (1,) * (S.ndim - 1)) * _unit(layout, d, S.shape)
    prev_cov = None if previous is None else host(previous.covariances)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        cov = structure.update(d)(S, a, prev_cov)
    cov = np.where(np.isfinite(cov), cov, 0.0)
    like = stats.first
    xp = array_namespace(like)
    to_xp = lambda a: to_device(xp, np.ascontiguousarray(a), like)  # noqa: E731
    return checked_params(stats, to_xp(nk / total), to_xp(means), to_xp(cov), dead, reg_covar)


def _scatter(second: np.ndarray, nk: np.ndarray, delta: np.ndarray, layout: str) -> np.ndarray:
    """Scatter about the new (ML) means from statistics centred elsewhere: (K, D, D), (1, D, D) summed for tied,
    (K, D) diagonals or (K,) traces."""
    if layout == "full":
        W = second - nk[:, None, None] * delta[:, :, None] * delta[:, None, :]
        return 0.5 * (W + np.swapaxes(W, 1, 2))
    if layout == "tied":
        W = second - (nk[:, None] * delta).T @ delta
        return (0.5 * (W + W.T))[None]
    if layout == "diag":
        return np.maximum(second - nk[:, None] * delta * delta, 0.0)
    return np.maximum(second - nk * np.sum(delta * delta, axis=1), 0.0)


def _unit(layout: str, d: int, shape: tuple[int, ...]) -> np.ndarray:
    """The identity in a layout: ``reg_covar`` adds a_k·reg·I to each scatter, so every model keeps its class."""
    if layout in ("full", "tied"):
        return np.eye(d)
    return np.ones(shape) * (d if layout == "spherical" else 1.0)

"""BayesianGaussianMixture: scikit-learn's variational Bayesian mixture on the same statistics, executors and E-step."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from . import _validation as check
from ._mixture import COMMON_PARAMETER_RULES, MixtureBase
from .core.em import EMResult, MStep
from .core.init import initial_stats
from .core.namespace import to_numpy
from .core.params import GaussianParams
from .core.variational import (
    WEIGHT_PRIOR_TYPES,
    GaussianWishartPrior,
    VariationalBayes,
    VariationalPosterior,
    moments_from_stats,
    posterior_from_stats,
)


def _positive_real(value: Any) -> str | None:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(float(value)) \
        and float(value) > 0
    return None if ok else "a finite real number > 0"


PARAMETER_RULES: dict[str, check.Rule] = {
    **COMMON_PARAMETER_RULES,
    "weight_concentration_prior_type": check.one_of(*WEIGHT_PRIOR_TYPES),
    "weight_concentration_prior": check.optional(_positive_real),
    "mean_precision_prior": check.optional(_positive_real),
    "mean_prior": check.is_array_like,
    "degrees_of_freedom_prior": check.optional(check.real_at_least(0.0)),
    "covariance_prior": lambda v: None if v is None or hasattr(v, "__len__") or hasattr(v, "shape") or (
        isinstance(v, numbers.Real) and not isinstance(v, bool)) else "None, a number or array-like",
}

#: The posterior and prior attributes a fit sets beyond the mixture's parameters (scikit-learn's names).
POSTERIOR_ATTRIBUTES = ("weight_concentration_", "mean_precision_", "degrees_of_freedom_")
PRIOR_ATTRIBUTES = ("weight_concentration_prior_", "mean_precision_prior_", "mean_prior_",
                    "degrees_of_freedom_prior_", "covariance_prior_")


class BayesianGaussianMixture(MixtureBase):
    """Variational Bayesian Gaussian mixture, fitted by variational EM over sufficient statistics.

    A drop-in replacement for ``sklearn.mixture.BayesianGaussianMixture``: the same parameters, defaults, fitted
    attributes and methods, on the same engine as :class:`GaussianMixture`, so it also takes ``sample_weight``,
    paths, ChunkSources, Dask collections and torch tensors, keeps float32 data in float32, saves to model files
    and stops on Ctrl-C with the best run so far. With ``weight_concentration_prior_type='dirichlet_process'`` (the
    default) and a small ``weight_concentration_prior``, components the data does not need get weights near 0.

    Parameters
    ----------
    n_components : int, default=1
        Upper bound on the number of components.
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
    tol : float, default=1e-3
        EM stops when the lower bound (the ELBO, summed over rows, as in scikit-learn) changes by less than ``tol``.
    reg_covar : float, default=1e-6
        Added to the diagonal of each component's scatter matrix.
    max_iter : int, default=100
    n_init : int, default=1
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, default='kmeans'
        The initial responsibilities (gaussmix's own k-means, as in :class:`GaussianMixture`).
    weight_concentration_prior_type : {'dirichlet_process', 'dirichlet_distribution'}, default='dirichlet_process'
    weight_concentration_prior : float or None, default=None
        γ₀ (process) or α₀ (distribution); None means 1 / n_components.
    mean_precision_prior : float or None, default=None
        β₀, how strongly the means are pulled to ``mean_prior``; None means 1.
    mean_prior : array-like of shape (n_features,) or None, default=None
        None means the data's mean.
    degrees_of_freedom_prior : float or None, default=None
        ν₀ > n_features − 1; None means n_features.
    covariance_prior : float or array-like, default=None
        W₀⁻¹: (D, D) for full and tied, (D,) for diag, a number for spherical; None means the data's covariance
        (variances for diag, their mean for spherical), with ddof=1.
    random_state, warm_start, verbose, verbose_interval, chunk_rows, init_sample_size
        As in :class:`GaussianMixture`.

    Attributes
    ----------
    weights_, means_, covariances_, precisions_, precisions_cholesky_ : ndarray
        The posterior means of the weights, the posterior means, and (ν W)⁻¹ with its inverse and Cholesky factor.
    weight_concentration_ : ndarray, or tuple of two ndarrays for a Dirichlet process
    mean_precision_ : ndarray of shape (n_components,)
    degrees_of_freedom_ : ndarray of shape (n_components,), or float for 'tied'
    weight_concentration_prior_, mean_precision_prior_, mean_prior_, degrees_of_freedom_prior_, covariance_prior_
        The priors used, defaults resolved from the data.
    converged_, n_iter_, lower_bound_, lower_bounds_, n_features_in_, feature_names_in_, reseeds_
        As in :class:`GaussianMixture`; ``lower_bound_`` is scikit-learn's ELBO (summed over rows, up to a
        constant), of the best initialisation before its last M-step.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix import BayesianGaussianMixture
    >>> rng = np.random.default_rng(0)
    >>> X = np.vstack([rng.normal(-4, 1, (200, 2)), rng.normal(4, 1, (200, 2))])
    >>> bgm = BayesianGaussianMixture(n_components=6, weight_concentration_prior=1e-3, random_state=0).fit(X)
    >>> int((bgm.weights_ > 0.05).sum())
    2
    """

    _parameter_rules = PARAMETER_RULES

    def __init__(
        self, *, n_components: int = 1, covariance_type: str = "full", tol: float = 1e-3, reg_covar: float = 1e-6,
        max_iter: int = 100, n_init: int = 1, init_params: str = "kmeans",
        weight_concentration_prior_type: str = "dirichlet_process", weight_concentration_prior: float | None = None,
        mean_precision_prior: float | None = None, mean_prior: Any = None,
        degrees_of_freedom_prior: float | None = None, covariance_prior: Any = None, random_state: Any = None,
        warm_start: bool = False, verbose: int = 0,
        verbose_interval: int = 10, chunk_rows: int | None = None, init_sample_size: int | None = None,
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weight_concentration_prior_type = weight_concentration_prior_type
        self.weight_concentration_prior = weight_concentration_prior
        self.mean_precision_prior = mean_precision_prior
        self.mean_prior = mean_prior
        self.degrees_of_freedom_prior = degrees_of_freedom_prior
        self.covariance_prior = covariance_prior
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.chunk_rows = chunk_rows
        self.init_sample_size = init_sample_size

    # -- what the shared fit loop asks of a variational mixture ------------------------------------------------

    def _fit_setup(self, source: Any, accumulate: Callable) -> tuple[MStep, GaussianWishartPrior]:
        """The prior, its data-dependent defaults from one pass of moments when some are None."""
        d = source.n_features
        needs_data = self.mean_prior is None or self.covariance_prior is None
        mean, covariance = data_moments(accumulate, source, self.covariance_type) if needs_data else (None, None)
        prior_mean = mean if self.mean_prior is None else _prior_array(self.mean_prior, "mean_prior", (d,))
        assert prior_mean is not None  # without a mean_prior, the data's (needs_data)
        prior = GaussianWishartPrior(
            weight_concentration_prior_type=self.weight_concentration_prior_type,
            weight_concentration=(1.0 / self.n_components if self.weight_concentration_prior is None
                                  else float(self.weight_concentration_prior)),
            mean_precision=1.0 if self.mean_precision_prior is None else float(self.mean_precision_prior),
            mean=prior_mean,
            degrees_of_freedom=_degrees_of_freedom(self.degrees_of_freedom_prior, d),
            covariance=covariance if self.covariance_prior is None else _covariance_prior(
                self.covariance_prior, self.covariance_type, d),
        )
        return VariationalBayes(prior, self.reg_covar), prior

    def _initial_state(self, prior: GaussianWishartPrior, X: Any, weight: Any, rng: np.random.Generator,
                       m_step: MStep) -> VariationalPosterior:
        """``init_params``' responsibilities, turned into a posterior by the variational M-step."""
        stats = initial_stats(X, self.n_components, self.covariance_type, self.init_params, rng,
                              sample_weight=weight, chunk_rows=self._chunk_rows(X.shape[1]))
        return posterior_from_stats(stats, prior, self.reg_covar)

    def _state_attributes(self, state: VariationalPosterior, as_dtype: Callable[[Any], Any]) -> dict[str, Any]:
        params = state.params()
        wc = state.weight_concentration
        return {
            "weights_": as_dtype(params.weights), "means_": as_dtype(params.means),
            "covariances_": as_dtype(params.covariances),
            "precisions_cholesky_": as_dtype(params.precisions_cholesky), "precisions_": as_dtype(params.precisions),
            "weight_concentration_": (as_dtype(wc[0]), as_dtype(wc[1])) if wc.ndim == 2 else as_dtype(wc),
            "mean_precision_": as_dtype(state.mean_precision),
            "degrees_of_freedom_": (float(state.degrees_of_freedom) if np.ndim(state.degrees_of_freedom) == 0
                                    else as_dtype(state.degrees_of_freedom)),
            "weight_concentration_prior_": float(state.prior.weight_concentration),
            "mean_precision_prior_": float(state.prior.mean_precision),
            "mean_prior_": as_dtype(state.prior.mean),
            "degrees_of_freedom_prior_": float(state.prior.degrees_of_freedom),
            "covariance_prior_": (float(state.prior.covariance) if np.ndim(state.prior.covariance) == 0
                                  else as_dtype(state.prior.covariance)),
        }

    def _fitted_state(self) -> VariationalPosterior:
        """The posterior the fitted attributes hold, in float64 on the host."""
        wc = self.weight_concentration_
        state = {name: getattr(self, name + "_") for name in STATE_NAMES}
        state["weight_concentration"] = np.stack([to_numpy(wc[0]), to_numpy(wc[1])]) if isinstance(wc, tuple) else wc
        return _posterior(state, self._fitted_covariance_type)

    def _record_arrays(self) -> dict[str, Any]:
        """The posterior and the prior beyond the mixture's parameters, for model files."""
        state = self._fitted_state()
        return {"weight_concentration": state.weight_concentration, "mean_precision": state.mean_precision,
                "degrees_of_freedom": state.degrees_of_freedom,
                "weight_concentration_prior": state.prior.weight_concentration,
                "mean_precision_prior": state.prior.mean_precision, "mean_prior": state.prior.mean,
                "degrees_of_freedom_prior": state.prior.degrees_of_freedom,
                "covariance_prior": state.prior.covariance}

    @classmethod
    def _from_record(cls, params: GaussianParams, fitted_arrays: dict[str, np.ndarray], record: EMResult,
                     feature_names: tuple[str, ...] | None, hyper_parameters: dict[str, Any]
                     ) -> BayesianGaussianMixture:
        missing = [name for name in STATE_NAMES if name not in fitted_arrays and name not in PARAMETER_NAMES]
        if missing:
            raise ValueError(f"it names a BayesianGaussianMixture but lacks its posterior arrays {missing}.")
        state = {name: fitted_arrays[name] for name in STATE_NAMES if name not in PARAMETER_NAMES}
        state.update(means=params.means, covariances=params.covariances, precisions_cholesky=params.precisions_cholesky)
        posterior = _posterior(state, params.covariance_type)
        return cls._fitted_from(replace(record, params=posterior), params, feature_names, hyper_parameters)

    def _row_params(self) -> GaussianParams:
        """scikit-learn's row-wise methods use E[log π] + E[log N], not the posterior-mean mixture."""
        return self._fitted_state().e_step_params()


#: What a posterior is made of, by scikit-learn's attribute names without the trailing underscore.
STATE_NAMES = ("weight_concentration", "mean_precision", "means", "degrees_of_freedom", "covariances",
               "precisions_cholesky", "weight_concentration_prior", "mean_precision_prior", "mean_prior",
               "degrees_of_freedom_prior", "covariance_prior")
#: The parts of the posterior that are also the mixture's parameters (a model file's main arrays).
PARAMETER_NAMES = ("means", "covariances", "precisions_cholesky")


def _posterior(state: dict[str, Any], covariance_type: str) -> VariationalPosterior:
    """A float64 host posterior from its parts (fitted attributes, or a model file's arrays)."""
    host = {name: np.asarray(to_numpy(value), dtype=np.float64) for name, value in state.items()}
    scalar = {name: float(host[name]) if host[name].ndim == 0 else host[name]
              for name in ("degrees_of_freedom", "covariance_prior")}
    wc = host["weight_concentration"]
    return VariationalPosterior(
        weight_concentration=wc, mean_precision=host["mean_precision"], means=host["means"],
        degrees_of_freedom=scalar["degrees_of_freedom"], covariances=host["covariances"],
        precisions_cholesky=host["precisions_cholesky"], covariance_type=covariance_type,
        prior=GaussianWishartPrior(
            weight_concentration_prior_type="dirichlet_process" if wc.ndim == 2 else "dirichlet_distribution",
            weight_concentration=float(host["weight_concentration_prior"]),
            mean_precision=float(host["mean_precision_prior"]), mean=host["mean_prior"],
            degrees_of_freedom=float(host["degrees_of_freedom_prior"]), covariance=scalar["covariance_prior"]),
    )


def data_moments(accumulate: Callable, source: Any, covariance_type: str) -> tuple[np.ndarray, Any]:
    """The data's mean and covariance (the prior's defaults) in one pass: one-component statistics about a centre
    taken from the first block, so the moments stay exact for data far from the origin."""
    first_block = next(iter(source.chunks())).X
    center = np.asarray(to_numpy(first_block), dtype=np.float64).mean(axis=0)
    d = center.shape[0]
    unit_covariance = {"full": np.eye(d)[None], "tied": np.eye(d), "diag": np.ones((1, d)),
                       "spherical": np.ones(1)}[covariance_type]
    unit = GaussianParams.from_covariances(np.ones(1), center[None, :], unit_covariance, covariance_type)
    return moments_from_stats(accumulate(unit))


def _prior_array(value: Any, name: str, shape: tuple[int, ...]) -> np.ndarray:
    array = np.asarray(to_numpy(value) if check.is_tensor(value) else value, dtype=np.float64)
    if array.shape != shape:
        raise ValueError(f"The parameter {name!r} should have the shape {shape}; got {array.shape}.")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"The parameter {name!r} contains NaN or infinity.")
    return array


def _degrees_of_freedom(value: float | None, n_features: int) -> float:
    if value is None:
        return float(n_features)
    if not value > n_features - 1.0:
        raise ValueError(f"The parameter 'degrees_of_freedom_prior' should be greater than {n_features - 1}, but got "
                         f"{value:.3f}.")
    return float(value)


def _covariance_prior(value: Any, covariance_type: str, n_features: int) -> Any:
    """The user's ``covariance_prior`` checked for the covariance type's shape and positivity."""
    if covariance_type == "spherical":
        if not (isinstance(value, numbers.Real) and float(value) > 0):
            raise ValueError(f"The 'spherical' covariance_prior should be a positive number; got {value!r}.")
        return float(value)
    shape = (n_features,) if covariance_type == "diag" else (n_features, n_features)
    array = _prior_array(value, f"{covariance_type} covariance_prior", shape)
    if covariance_type == "diag":
        if np.any(array <= 0):
            raise ValueError("The 'diag' covariance_prior should be positive.")
    elif not (np.allclose(array, array.T) and np.all(np.linalg.eigvalsh(array) > 0)):
        raise ValueError(f"The '{covariance_type}' covariance_prior should be symmetric, positive-definite.")
    return array

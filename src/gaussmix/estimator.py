"""GaussianMixture: scikit-learn's estimator API over the core EM engine; checks input, owns fitted attributes."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from . import _incomplete
from . import _validation as check
from ._base import check_fitted
from ._mixture import COMMON_PARAMETER_RULES, MixtureBase
from .core.em import EMResult, IterationReseed, MaximumLikelihood, MStep
from .core.init import INIT_METHODS, initial_params
from .core.params import GaussianParams
from .core.prior import ConjugatePrior
from .core.structures import STRUCTURE_NAMES
from .model_based import check_prior, model_based_setup, model_based_start, state_attributes

PARAMETER_RULES: dict[str, check.Rule] = {
    **COMMON_PARAMETER_RULES,
    "covariance_type": check.one_of(*STRUCTURE_NAMES),
    "init_params": check.one_of(*INIT_METHODS, "hc"),
    "prior": check_prior,
    "weights_init": check.is_array_like,
    "means_init": check.is_array_like,
    "precisions_init": check.is_array_like,
    "learning_decay": lambda v: None if isinstance(v, (int, float)) and not isinstance(v, bool) and 0.5 < v <= 1.0
    else "a real number in (0.5, 1]",
    "learning_offset": check.real_at_least(0.0),
    "missing": check.one_of("error", "marginalize"),
}


class GaussianMixture(MixtureBase):
    """Gaussian mixture model fitted by exact EM over sufficient statistics.

    A drop-in replacement for ``sklearn.mixture.GaussianMixture``: the same parameters, defaults, fitted attributes
    and methods, plus ``sample_weight`` and data that streams in row blocks.

    Parameters
    ----------
    n_components : int, default=1
        Number of mixture components.
    covariance_type : str, default='full'
        Shape of each component's covariance: scikit-learn's 'full', 'tied', 'diag', 'spherical' (own full
        matrix, one shared full matrix, own diagonal, own scalar), or one of mclust's 14 models 'EII', 'VII',
        'EEI', 'VEI', 'EVI', 'VVI', 'EEE', 'VEE', 'EVE', 'VVE', 'EEV', 'VEV', 'EVV', 'VVV' (and 'E', 'V' for one
        feature), whose ``covariances_`` are (K, D, D) matrices. See docs/ANALYSIS.md.
    tol : float, default=1e-3
        EM stops when the mean log-likelihood per sample changes by less than this.
    reg_covar : float, default=1e-6
        Added to the diagonal of every covariance so that it stays positive definite.
    max_iter : int, default=100
        EM iterations per initialisation.
    n_init : int, default=1
        Initialisations; the one with the best final lower bound is kept.
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data', 'hc'}, default='kmeans'
        How the first responsibilities are drawn (gaussmix's own k-means, not scikit-learn's); 'hc' cuts mclust's
        model-based hierarchical agglomeration at K, on at most ``init_sample_size`` rows (2000 when None).
    weights_init, means_init, precisions_init : array-like, default=None
        User-given initial parameters (override the corresponding part of ``init_params``).
    random_state : int, Generator, RandomState or None, default=None
        Seed of the initialisation and of ``sample``.
    warm_start : bool, default=False
        Start from the previous fit's parameters (then ``n_init`` is ignored).
    verbose : int, default=0
        1 prints initialisations and iterations, 2 adds times and lower-bound changes.
    verbose_interval : int, default=10
        Iterations between two verbose lines.
    chunk_rows : int or None, default=None
        Rows per E-step block; None chooses from K and D so that a block's working set stays a few MB.
    init_sample_size : int or None, default=None
        Rows the initialisation sees: None uses every in-memory row (and a 200,000-row uniform sample of sources
        that stream from disk or a cluster).
    missing : {'error', 'marginalize'}, default='error'
        What a NaN in X is: an error, or a missing value. With 'marginalize', EM uses each row's observed
        coordinates and the conditional expectation of the others (exact EM for data missing at random), and
        ``score_samples``, ``predict`` and ``predict_proba`` of a row with NaN use its observed coordinates;
        ``impute`` fills the NaN in. A row with no observed value is refused. See docs/INCOMPLETE.md.
    prior : None, 'default' or ConjugatePrior, default=None
        None fits by maximum likelihood; 'default' is mclust's ``priorControl()`` conjugate prior (data mean,
        shrinkage 0.01, n_features + 2 degrees of freedom, data (co)variance / K^(2/D)) and the M-step becomes a
        MAP step; a :class:`gaussmix.ConjugatePrior` sets its four hyper-parameters.

    Attributes
    ----------
    weights_, means_, covariances_, precisions_, precisions_cholesky_ : ndarray or Tensor
        Fitted parameters in scikit-learn's shapes, float64; torch tensors on the data's device when X was a
        tensor (as in scikit-learn's array-API mode), and then ``predict``, ``predict_proba``, ``score_samples``
        and ``sample`` return tensors too.
    converged_ : bool
    n_iter_ : int
    lower_bound_ : float
        Mean log-likelihood per sample of the best initialisation, before its last M-step.
    lower_bounds_ : list of float
        The lower bound at each iteration of the best initialisation.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Column names, when X was a DataFrame or a file with a header.
    reseeds_ : tuple
        The component re-seeds of the kept run (iteration, component, row, reason).

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix import GaussianMixture
    >>> X = np.array([[1, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> gm = GaussianMixture(n_components=2, random_state=0).fit(X)
    >>> np.sort(gm.means_[:, 0]).round(3)
    array([ 1., 10.])
    """

    def __init__(
        self, n_components: int = 1, *, covariance_type: str = "full", tol: float = 1e-3,
        reg_covar: float = 1e-6, max_iter: int = 100, n_init: int = 1, init_params: str = "kmeans",
        weights_init: Any = None, means_init: Any = None, precisions_init: Any = None, random_state: Any = None,
        warm_start: bool = False, verbose: int = 0, verbose_interval: int = 10, chunk_rows: int | None = None,
        init_sample_size: int | None = None, prior: str | ConjugatePrior | None = None, missing: str = "error",
        learning_decay: float = 0.7, learning_offset: float = 10.0,
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.chunk_rows = chunk_rows
        self.init_sample_size = init_sample_size
        self.missing = missing
        self.prior = prior
        self.learning_decay = learning_decay
        self.learning_offset = learning_offset

    _parameter_rules = PARAMETER_RULES
    _takes_labels = True

    def partial_fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> GaussianMixture:
        """One step of online EM on a batch of rows, for data that arrives in batches and is never re-read.

        Online EM in the sufficient-statistics form (Cappé & Moulines 2009): the batch's statistics under the
        current parameters are blended into running statistics, s ← (1 − γ)·s + γ·s(batch), with
        γ = (t + ``learning_offset``)^−``learning_decay`` for batch t = 0, 1, ..., and the M-step (any covariance
        type, prior or mclust model) turns them into new parameters. The first batch starts from the fitted
        parameters when the model is fitted, else from ``init_params`` on the batch itself; ``fit`` ends an
        online run. ``lower_bound_`` is each batch's mean log-likelihood before its update, ``lower_bounds_`` their
        history and ``n_iter_`` the number of batches.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), path, ChunkSource or Dask collection
            One batch (at least ``n_components`` rows for the first).
        y : ignored
        sample_weight : array-like of shape (n_samples,), default=None

        Returns
        -------
        self : GaussianMixture

        Examples
        --------
        >>> import numpy as np
        >>> from gaussmix import GaussianMixture
        >>> rng = np.random.default_rng(0)
        >>> gm = GaussianMixture(2, random_state=0)
        >>> for _ in range(20):
        ...     batch = np.concatenate([rng.normal(-5, 1, (50, 1)), rng.normal(5, 1, (50, 1))])
        ...     gm = gm.partial_fit(batch)
        >>> np.sort(gm.means_[:, 0]).round(0)
        array([-5.,  5.])
        """
        return self._online_step(X, sample_weight)

    # -- incomplete data: conditioning and imputation --------------------------------------------------------------

    def condition(self, columns: Any, values: Any) -> Any:
        """The mixture over the other columns given ``values`` of ``columns`` (Gaussian conditioning per component).

        Parameters
        ----------
        columns : int, str or sequence of them
            The given columns, by index or (for a model fitted with column names) by name.
        values : array-like of shape (n_given,) or (n_rows, n_given)
            Their values: one row gives a fitted ``GaussianMixture`` over the remaining columns (weights p(k | x_g),
            means and covariances conditioned, the covariance type kept); several rows give a
            ``ConditionalMixture`` with batched ``weights`` (n_rows, K), ``means`` (n_rows, K, R), shared
            ``covariances``, and ``mean()``, ``covariance()``, ``log_prob(Y)``.

        Examples
        --------
        >>> import numpy as np
        >>> from gaussmix import GaussianMixture, GaussianParams
        >>> params = GaussianParams.from_covariances(np.array([1.0]), np.array([[0.0, 0.0]]),
        ...                                          np.array([[[1.0, 0.8], [0.8, 1.0]]]), "full")
        >>> GaussianMixture.from_params(params).condition([0], [1.0]).means_.round(3)
        array([[0.8]])
        """
        check_fitted(self)
        return _incomplete.condition(self, columns, values)

    def impute(self, X: Any, n_draws: int | None = None) -> Any:
        """X with every NaN replaced by its conditional expectation E[x_missing | x_observed] under the mixture.

        With ``n_draws``, returns ``n_draws`` completed copies of X, shape (n_draws, n_samples, n_features), each
        NaN drawn from its conditional distribution (a component from p(k | x_observed), then the Gaussian
        conditional): multiple imputation. Draws follow ``random_state``. Observed values are kept as they are.
        """
        check_fitted(self)
        if n_draws is not None and not (isinstance(n_draws, (int, np.integer)) and n_draws >= 1):
            raise ValueError(f"n_draws must be None or an int >= 1; got {n_draws!r}.")
        return _incomplete.impute(self, X, n_draws, check.to_generator(self.random_state))

    # -- what the shared fit loop asks of a maximum-likelihood mixture --------------------------------------------

    def _fit_setup(self, source: Any, accumulate: Callable) -> tuple[MStep, dict[str, np.ndarray]]:
        plan = check.check_init_arrays(self, source.n_features)
        m_step = model_based_setup(self, source, accumulate)  # mclust's models, a prior: None for plain ML
        return m_step or MaximumLikelihood(self.reg_covar), plan

    def _needs_init_rows(self, plan: dict[str, np.ndarray]) -> bool:
        return len(plan) < 3

    def _initial_state(self, plan: dict[str, np.ndarray], X: Any, weight: Any, rng: np.random.Generator,
                       m_step: MStep) -> GaussianParams:
        """k-means (or another ``init_params``) start, with the user's ``*_init`` arrays in place of its parts."""
        kind, user_init = self.covariance_type, plan
        if not isinstance(m_step, MaximumLikelihood):
            return model_based_start(self, plan, X, weight, rng, m_step)
        if len(user_init) == 3:
            return GaussianParams.from_precisions(user_init["weights"], user_init["means"],
                                                  user_init["precisions"], kind)
        params = initial_params(X, self.n_components, kind, self.init_params, rng, reg_covar=self.reg_covar,
                                sample_weight=weight, chunk_rows=self._chunk_rows(X.shape[1])).params
        if "precisions" in user_init:
            params = GaussianParams.from_precisions(params.weights, params.means, user_init["precisions"], kind)
        return GaussianParams(user_init.get("weights", params.weights), user_init.get("means", params.means),
                              params.covariances, params.precisions_cholesky, kind)

    def _state_attributes(self, state: GaussianParams, as_dtype: Callable[[Any], Any]) -> dict[str, Any]:
        state = state_attributes(self.covariance_type, state)  # mclust's models: full (K, D, D) covariances
        return {"weights_": as_dtype(state.weights), "means_": as_dtype(state.means),
                "covariances_": as_dtype(state.covariances),
                "precisions_cholesky_": as_dtype(state.precisions_cholesky), "precisions_": as_dtype(state.precisions)}

    def _fitted_state(self) -> GaussianParams:
        return self._params()

    @classmethod
    def from_params(
        cls, params: GaussianParams, *, n_iter: int = 0, converged: bool = True, lower_bound: float = -math.inf,
        lower_bounds: Any = (), reseeds: tuple[IterationReseed, ...] = (),
        feature_names: tuple[str, ...] | None = None, **hyper_parameters: Any,
    ) -> GaussianMixture:
        """A fitted estimator holding ``params`` (no fit): the one way to build one from known parameters.

        Model files, scikit-learn conversion and MAP adaptation all build their estimators here.
        ``hyper_parameters`` are checked by the estimator's rules and must agree with the parameters' number of
        components and covariance type (both default to the parameters'). The fitted attributes keep the
        parameters' float dtype; ``precisions_`` is computed from ``precisions_cholesky``.

        Examples
        --------
        >>> import numpy as np
        >>> from gaussmix import GaussianMixture, GaussianParams
        >>> params = GaussianParams.from_covariances(np.array([0.5, 0.5]), np.array([[0.0], [4.0]]),
        ...                                          np.array([1.0, 1.0]), "spherical")
        >>> GaussianMixture.from_params(params).predict([[0.2], [3.5]])
        array([0, 1])
        """
        record = EMResult(params, lower_bound=float(lower_bound), lower_bounds=tuple(lower_bounds),
                          n_iter=int(n_iter), converged=bool(converged), reseeds=tuple(reseeds))
        return cls._fitted_from(record, params, feature_names, hyper_parameters)

    @classmethod
    def _from_record(cls, params: GaussianParams, fitted_arrays: dict[str, np.ndarray], record: EMResult,
                     feature_names: tuple[str, ...] | None, hyper_parameters: dict[str, Any]) -> GaussianMixture:
        return cls._fitted_from(record, params, feature_names, hyper_parameters)


"""GaussianMixture: scikit-learn's estimator API over the core EM engine; checks input, owns fitted attributes."""

from __future__ import annotations

import math
import warnings
from typing import Any, Callable

import numpy as np
from sklearn.base import BaseEstimator, DensityMixin
from sklearn.utils.validation import validate_data

from . import _validation as check
from ._base import check_fitted, fitted_params, is_fitted
from ._dispatch import accumulator, check_rows_source, init_sample, is_streamed, map_rows, mean_of_rows, \
    streamed_source
from ._reporting import iteration_printer, warn_fit_outcome
from .core.em import EMResult, IterationReseed, MaximumLikelihood, run_em
from .core.estep import log_resp
from .core.init import INIT_METHODS, initial_params
from .core.namespace import array_namespace, to_numpy
from .core.params import COVARIANCE_TYPES, GaussianParams, n_parameters
from .executors.local import ArraySource, ChunkSource, default_chunk_rows
from . import interop, persistence

PARAMETER_RULES: dict[str, check.Rule] = {
    "n_components": check.int_at_least(1),
    "covariance_type": check.one_of(*COVARIANCE_TYPES),
    "tol": check.real_at_least(0.0),
    "reg_covar": check.real_at_least(0.0),
    "max_iter": check.int_at_least(0),
    "n_init": check.int_at_least(1),
    "init_params": check.one_of(*INIT_METHODS),
    "weights_init": check.is_array_like,
    "means_init": check.is_array_like,
    "precisions_init": check.is_array_like,
    "random_state": check.is_random_state,
    "warm_start": check.is_bool,
    "verbose": check.int_at_least(0),
    "verbose_interval": check.int_at_least(1),
    "chunk_rows": check.optional(check.int_at_least(1)),
    "init_sample_size": check.optional(check.int_at_least(1)),
}


class GaussianMixture(DensityMixin, BaseEstimator):
    """Gaussian mixture model fitted by exact EM over sufficient statistics.

    A drop-in replacement for ``sklearn.mixture.GaussianMixture``: the same parameters, defaults, fitted attributes
    and methods, plus ``sample_weight`` and data that streams in row blocks.

    Parameters
    ----------
    n_components : int, default=1
        Number of mixture components.
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
        Shape of each component's covariance: own full matrix, one shared full matrix, own diagonal, own scalar.
    tol : float, default=1e-3
        EM stops when the mean log-likelihood per sample changes by less than this.
    reg_covar : float, default=1e-6
        Added to the diagonal of every covariance so that it stays positive definite.
    max_iter : int, default=100
        EM iterations per initialisation.
    n_init : int, default=1
        Initialisations; the one with the best final lower bound is kept.
    init_params : {'kmeans', 'k-means++', 'random', 'random_from_data'}, default='kmeans'
        How the first responsibilities are drawn (gaussmix's own k-means, not scikit-learn's).
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
        init_sample_size: int | None = None,
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

    # -- fitting -------------------------------------------------------------------------------------------

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None, *,
            on_iteration: Callable[[int, float], None] | None = None) -> GaussianMixture:
        """Estimate the parameters with EM (``n_init`` initialisations, the best kept).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), path, ChunkSource, or Dask array/DataFrame
            A path (str or Path) is opened with :func:`gaussmix.open_data` and streamed from disk, one pass per
            iteration; Dask collections are fitted on the workers. Data not in memory is initialised from a
            uniform sample of ``init_sample_size`` rows.
        y : ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights: an integer weight acts as that many copies of the row, zero as no row.
        on_iteration : callable, optional
            Called as ``on_iteration(n_iter, lower_bound)`` after every EM iteration of every initialisation
            (``n_iter`` restarts at 1 with each one), for progress bars and logs; not a hyper-parameter, so
            ``clone`` and ``get_params`` never see it. A KeyboardInterrupt (Ctrl-C) during fit keeps the best
            parameters so far as the fitted model, then re-raises.

        Returns
        -------
        self : GaussianMixture
        """
        check.check_hyperparameters(self, PARAMETER_RULES)
        source, feature_names = self._fit_source(X, sample_weight)
        user_init = check.check_init_arrays(self, source.n_features)
        rng = check.to_generator(self.random_state)
        warm = self._warm_start_params(source.n_features)
        needs_rows = warm is None and len(user_init) < 3  # a streamed source's sample costs a pass: only if used
        init_data, init_weight = self._init_rows(source, rng) if needs_rows else (None, None)
        accumulate = accumulator(source)
        best: EMResult | None = None
        interrupted = False
        for init in range(1 if warm is not None else self.n_init):
            if self.verbose:
                print(f"Initialization {init}")
            try:
                if warm is not None:
                    params0, bound0 = warm, self.lower_bound_
                else:
                    params0, bound0 = self._initial_params(init_data, init_weight, user_init, rng), -math.inf
            except KeyboardInterrupt:  # Ctrl-C in a later initialisation's k-means keeps the earlier ones' best
                if best is None:
                    raise
                interrupted = True
                break
            params0 = self._params_for(source, params0)  # user arrays, warm starts: into the data's namespace
            result = run_em(accumulate, params0, m_step=MaximumLikelihood(self.reg_covar), tol=self.tol,
                            max_iter=self.max_iter,
                            lower_bound0=bound0,
                            on_iteration=iteration_printer(self.verbose, self.verbose_interval, on_iteration))
            if self.verbose:
                print(f"Initialization {'converged' if result.converged else 'did not converge'}.")
            if best is None or result.lower_bound > best.lower_bound:
                best = result
            if result.interrupted:  # keep the best initialisation so far, whichever was interrupted
                interrupted = True
                break
        assert best is not None  # n_init >= 1, and an interrupt before any result re-raises above
        warn_fit_outcome(best, interrupted=interrupted, max_iter=self.max_iter, tol=self.tol)
        self._set_fitted(best, feature_names, source.dtype)
        if interrupted:
            raise KeyboardInterrupt
        return self

    def fit_predict(self, X: Any, y: Any = None, sample_weight: Any = None) -> Any:
        """Fit, then return the most likely component of every row (consistent with ``fit(X).predict(X)``)."""
        return self.fit(X, sample_weight=sample_weight).predict(X)

    def _fit_source(self, X: Any, sample_weight: Any) -> tuple[ChunkSource, tuple[str, ...] | None]:
        """Validate X and the weights and wrap them as a ChunkSource; the choice of executor starts here."""
        if is_streamed(X):  # a path, a ChunkSource or a Dask collection: checked block by block as it is read
            source = streamed_source(X, sample_weight, chunk_rows=self.chunk_rows, n_components=self.n_components)
            self._check_enough_rows(source.n_rows, "rows")
            return source, source.feature_names
        if check.is_tensor(X):  # torch: checked in its namespace and fitted on its device, never copied to NumPy
            array, feature_names = check.check_tensor_data(X), None
            weights = check.check_tensor_sample_weight(sample_weight, array)
        else:
            array, feature_names = check.check_data(X)
            weights = check.check_sample_weight(sample_weight, array.shape[0])
        n_positive = array.shape[0] if weights is None else int((weights > 0).sum())
        self._check_enough_rows(n_positive, "rows" if weights is None else "rows with positive sample_weight")
        return ArraySource(array, weights, self._chunk_rows(array.shape[1]), feature_names), feature_names

    def _check_enough_rows(self, n_rows: int | None, rows: str) -> None:
        if n_rows is not None and n_rows < self.n_components:
            raise ValueError(
                f"Expected n_samples >= n_components, but got n_components = {self.n_components} and "
                f"{n_rows} {rows}."
            )

    def _warm_start_params(self, n_features: int) -> GaussianParams | None:
        """The previous fit's parameters when ``warm_start`` can use them, else None (with a warning if it can't)."""
        if not (self.warm_start and is_fitted(self)):
            return None
        previous = self._params()
        now = (self.n_components, self.covariance_type, n_features)
        before = (previous.n_components, previous.covariance_type, previous.n_features)
        if now == before:
            return previous
        what = ", ".join(f"{name} {b!r} -> {n!r}" for name, b, n in
                         zip(("n_components", "covariance_type", "n_features"), before, now) if b != n)
        warnings.warn(f"warm_start ignored: the previous fit does not match this one ({what}); starting from "
                      f"init_params={self.init_params!r} instead.", UserWarning, stacklevel=3)
        return None

    def _init_rows(self, source: ChunkSource, rng: np.random.Generator) -> tuple[Any, Any]:
        """The in-memory rows the initialisation sees: all of an array source's rows, else a uniform sample."""
        if isinstance(source, ArraySource):
            return source.X, source.sample_weight
        X, weight = init_sample(source, self.init_sample_size, rng)
        self._check_enough_rows(X.shape[0], "rows with positive sample_weight in the initialisation sample")
        return X, weight

    def _chunk_rows(self, n_features: int) -> int:
        return self.chunk_rows or default_chunk_rows(n_features, self.n_components)

    def _initial_params(self, X: Any, weight: Any, user_init: dict[str, np.ndarray],
                        rng: np.random.Generator) -> GaussianParams:
        kind = self.covariance_type
        if len(user_init) == 3:
            return GaussianParams.from_precisions(user_init["weights"], user_init["means"],
                                                  user_init["precisions"], kind)
        params = initial_params(X, self.n_components, kind, self.init_params, rng, reg_covar=self.reg_covar,
                                sample_weight=weight, chunk_rows=self._chunk_rows(X.shape[1])).params
        if "precisions" in user_init:
            params = GaussianParams.from_precisions(params.weights, params.means, user_init["precisions"], kind)
        return GaussianParams(user_init.get("weights", params.weights), user_init.get("means", params.means),
                              params.covariances, params.precisions_cholesky, kind)

    def _set_fitted(self, result: EMResult, feature_names: tuple[str, ...] | None, dtype: Any) -> None:
        """Assign every fitted attribute at once, so a failed fit leaves the estimator as it was.

        The parameters are returned in the data's float dtype (float32 data gives float32 attributes, as in
        scikit-learn); the core computed them in float64.
        """
        p = result.params
        as_dtype = _caster(p.means, dtype)
        self.weights_ = as_dtype(p.weights)
        self.means_ = as_dtype(p.means)
        self.covariances_ = as_dtype(p.covariances)
        self.precisions_cholesky_ = as_dtype(p.precisions_cholesky)
        self.precisions_ = as_dtype(p.precisions)
        self.converged_ = bool(result.converged)
        self.n_iter_ = int(result.n_iter)
        self.lower_bound_ = float(result.lower_bound)
        self.lower_bounds_ = [float(b) for b in result.lower_bounds]
        self.reseeds_ = tuple(result.reseeds)
        self.n_features_in_ = p.n_features
        self._fitted_covariance_type = p.covariance_type  # set_params(covariance_type=...) does not change it
        if feature_names is not None:
            self.feature_names_in_ = np.asarray(feature_names, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_

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
        hyper = {"n_components": params.n_components, "covariance_type": params.covariance_type,
                 **hyper_parameters}
        model = cls(**hyper)
        check.check_hyperparameters(model, PARAMETER_RULES)
        if model.n_components != params.n_components or model.covariance_type != params.covariance_type:
            raise ValueError(
                f"the hyper-parameters say n_components={model.n_components!r}, covariance_type="
                f"{model.covariance_type!r}, but the parameters have {params.n_components} component(s) of type "
                f"{params.covariance_type!r}."
            )
        if feature_names is not None and len(feature_names) != params.n_features:
            raise ValueError(f"{len(feature_names)} feature names for {params.n_features} features.")
        record = EMResult(params, lower_bound=float(lower_bound), lower_bounds=tuple(lower_bounds),
                          n_iter=int(n_iter), converged=bool(converged), reseeds=tuple(reseeds))
        model._set_fitted(record, feature_names, params.means.dtype)
        return model

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "n_features_in_")

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = False
        return tags

    def _params(self) -> GaussianParams:
        """The fitted parameters as the core's immutable value (float64, in the attributes' namespace)."""
        return fitted_params(self)

    # -- row-wise methods ----------------------------------------------------------------------------------

    def _rows_source(self, X: Any) -> ChunkSource:
        """Validate X against the fitted model and wrap it as a ChunkSource."""
        check_fitted(self)
        owner = type(self).__name__
        if is_streamed(X):
            source = streamed_source(X, None, chunk_rows=self.chunk_rows, n_components=self.n_components,
                                     persist=False)
            return check_rows_source(source, self.n_features_in_, getattr(self, "feature_names_in_", None), owner)
        if check.is_tensor(X):
            array = check.check_tensor_data(X, n_features=self.n_features_in_, owner=owner)
        else:
            array, _ = check.check_data(X, n_features=self.n_features_in_, owner=owner)
        validate_data(self, X, reset=False, skip_check_array=True)  # scikit-learn's feature-name checks and warnings
        return ArraySource(array, None, self._chunk_rows(array.shape[1]))

    def _params_for(self, X: Any, params: GaussianParams | None = None) -> GaussianParams:
        """``params`` (default: the fitted ones) in the namespace X's rows arrive in: float64 tensors on X's device
        for a tensor (or an ArraySource of one), NumPy for anything else (arrays, files, Dask)."""
        params = self._params() if params is None else params
        like = X.X if isinstance(X, ArraySource) else X
        return GaussianParams(*(check.float64_like(a, like) for a in (params.weights, params.means,
                              params.covariances, params.precisions_cholesky)), params.covariance_type)

    def score_samples(self, X: Any) -> Any:
        """log p(x) of every row, shape (n_samples,), in X's float dtype; a tensor on X's device for a tensor X."""
        params = self._params_for(X)
        return map_rows(self._rows_source(X), lambda Xb: _log_prob(Xb, params))

    def predict_proba(self, X: Any) -> Any:
        """Posterior probability of each component for each row, shape (n_samples, n_components)."""
        params = self._params_for(X)
        return map_rows(self._rows_source(X), lambda Xb: _posteriors(Xb, params))

    def predict(self, X: Any) -> Any:
        """Most likely component of each row, shape (n_samples,)."""
        params = self._params_for(X)
        return map_rows(self._rows_source(X), lambda Xb: _labels(Xb, params))

    def score(self, X: Any, y: Any = None, sample_weight: Any = None) -> float:
        """Mean log-likelihood per sample (weighted mean with ``sample_weight``)."""
        return self._mean_log_prob(X, sample_weight)[0]

    def _mean_log_prob(self, X: Any, sample_weight: Any) -> tuple[float, float]:
        """Mean log p(x) per (weighted) row and the (weighted) row count; one pass over streamed data."""
        if is_streamed(X):
            params = self._params_for(X)
            return mean_of_rows(self._rows_source(X), lambda Xb: log_resp(Xb, params)[0], sample_weight)
        log_prob = np.asarray(to_numpy(self.score_samples(X)), dtype=np.float64)  # reduced on the host, in float64
        if check.is_tensor(sample_weight):
            sample_weight = to_numpy(sample_weight)
        weights = check.check_sample_weight(sample_weight, log_prob.shape[0])
        n = float(log_prob.shape[0]) if weights is None else float(np.sum(weights))
        return float(np.average(log_prob, weights=weights)), n

    def n_parameters(self) -> int:
        """Free parameters of the fitted model: weights (K − 1), means (K·D) and the covariances."""
        params = self._params()
        return n_parameters(params.n_components, params.n_features, params.covariance_type)

    def bic(self, X: Any, sample_weight: Any = None) -> float:
        """Bayesian information criterion (lower is better): −2·log L + p·log n, n the (weighted) row count."""
        mean, n = self._mean_log_prob(X, sample_weight)
        return -2.0 * mean * n + self.n_parameters() * math.log(n)

    def aic(self, X: Any, sample_weight: Any = None) -> float:
        """Akaike information criterion (lower is better): −2·log L + 2p."""
        mean, n = self._mean_log_prob(X, sample_weight)
        return -2.0 * mean * n + 2 * self.n_parameters()

    def sample(self, n_samples: int = 1) -> tuple[Any, Any]:
        """Draw ``n_samples`` rows from the fitted mixture; returns (X, component labels), grouped by component.

        The rows have the fitted attributes' dtype (float32 for a model fitted on float32 data); tensors on the
        fitted parameters' device for a model fitted on a tensor. The same seed draws the same rows.
        """
        params = self._params()
        if not (isinstance(n_samples, (int, np.integer)) and n_samples >= 1):
            raise ValueError(f"Invalid value for 'n_samples': {n_samples!r}. It must be an int >= 1.")
        from .core.sampling import sample_mixture

        X, labels = sample_mixture(params, n_samples, check.to_generator(self.random_state))
        return _caster(X, self.means_.dtype)(X), labels

    # -- model files and scikit-learn ----------------------------------------------------------------------

    def save(self, path: Any) -> Any:
        """Write the fitted model to ``path`` (``.npz``) atomically; :func:`gaussmix.load` reads it back exactly.

        The file holds numeric arrays and JSON only (no pickle, so loading never runs code): the parameters,
        ``get_params()``, the fit record and the feature names. See docs/MODEL_FILE.md. Returns the path. A model
        the file could not load back (``set_params`` changed ``n_components`` after the fit, say) is refused with
        a ModelFileError and nothing is written.
        """
        return persistence.save(self, path)

    @classmethod
    def load(cls, path: Any) -> GaussianMixture:
        """Read a model file written by :meth:`save` (see :func:`gaussmix.load`)."""
        return persistence.load(path, cls)

    def to_torch_distribution(self) -> Any:
        """An equivalent ``torch.distributions.MixtureSameFamily`` in float64, on the fitted parameters' device.

        Its ``log_prob`` equals :meth:`score_samples` and it samples and differentiates like any torch
        distribution (needs PyTorch).
        """
        from .torch import to_distribution

        return to_distribution(self._params())

    def to_sklearn(self) -> Any:
        """An equivalent fitted ``sklearn.mixture.GaussianMixture``, parameters copied exactly."""
        return interop.to_sklearn(self)

    @classmethod
    def from_sklearn(cls, est: Any) -> GaussianMixture:
        """A fitted gaussmix model from a fitted ``sklearn.mixture.GaussianMixture``, parameters copied exactly."""
        return interop.from_sklearn(est, cls)


def load(path: Any) -> GaussianMixture:
    """Read a model file written by :meth:`GaussianMixture.save` into a fitted estimator, bit for bit.

    Parameters
    ----------
    path : str or path-like
        A gaussmix model file (``.npz``).

    Returns
    -------
    GaussianMixture
        Fitted: its parameters are the stored arrays exactly, so predictions equal the saved model's.

    Raises
    ------
    ModelFileError
        If the file is missing, truncated, corrupted, tampered with, holds pickled objects, or its
        hyper-parameters or fit record are inconsistent with the parameters. Nothing in the file is executed.

    Examples
    --------
    >>> import numpy as np, tempfile, os, gaussmix
    >>> X = np.array([[0.0, 0.0], [0.1, 0.2], [5.0, 5.0], [5.2, 4.9]])
    >>> gm = gaussmix.GaussianMixture(2, random_state=0).fit(X)
    >>> path = gm.save(os.path.join(tempfile.mkdtemp(), "model.npz"))
    >>> bool((gaussmix.load(path).predict(X) == gm.predict(X)).all())
    True
    """
    return GaussianMixture.load(path)


# -- row-wise results in the rows' own namespace (NumPy, or torch on the rows' device) and float dtype ---------

def _caster(like: Any, dtype: Any) -> Callable[[Any], Any]:
    """Casts arrays of ``like``'s namespace to float32 when ``dtype`` is float32 (NumPy or torch), else float64."""
    xp = array_namespace(like)
    target = xp.float32 if str(dtype).removeprefix("torch.") == "float32" else xp.float64
    return lambda a: xp.astype(a, target)


def _log_prob(X: Any, params: GaussianParams) -> Any:
    return _caster(X, X.dtype)(log_resp(X, params)[0])


def _posteriors(X: Any, params: GaussianParams) -> Any:
    xp = array_namespace(X)
    return xp.exp(_caster(X, X.dtype)(log_resp(X, params)[1]))


def _labels(X: Any, params: GaussianParams) -> Any:
    return array_namespace(X).argmax(log_resp(X, params)[1], axis=1)

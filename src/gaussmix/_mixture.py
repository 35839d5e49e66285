"""MixtureBase: what every gaussmix mixture estimator shares, scikit-learn's estimator API over the EM engine.

A subclass says which M-step it runs (maximum likelihood, variational Bayes), how it starts, and which fitted
attributes its state becomes; checking input, choosing the executor, the EM loop over ``n_init`` starts, warm
starts, Ctrl-C and the row-wise methods are here, once.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, DensityMixin
from sklearn.utils.validation import validate_data

from . import _validation as check
from . import interop, persistence
from ._base import check_fitted, fitted_params, is_fitted
from ._dispatch import (
    accumulator,
    check_rows_source,
    fit_threads,
    init_sample,
    is_streamed,
    map_rows,
    mean_of_rows,
    streamed_source,
)
from ._incomplete import fill_missing, split_labelled
from ._reporting import iteration_printer, warn_fit_outcome
from .core.em import EMResult, IterationReseed, MStep, run_em
from .core.estep import log_resp
from .core.init import INIT_METHODS
from .core.namespace import array_namespace, to_numpy
from .core.online import blended, step_size
from .core.params import COVARIANCE_TYPES, GaussianParams
from .core.stats import SufficientStats
from .core.structures import attribute_layout, covariance_structure
from .executors.local import ArraySource, ChunkSource, default_chunk_rows

#: The hyper-parameters every mixture estimator has, with their rules (a subclass's table extends this one).
COMMON_PARAMETER_RULES: dict[str, check.Rule] = {
    "n_components": check.int_at_least(1),
    "covariance_type": check.one_of(*COVARIANCE_TYPES),
    "tol": check.real_at_least(0.0),
    "reg_covar": check.real_at_least(0.0),
    "max_iter": check.int_at_least(0),
    "n_init": check.int_at_least(1),
    "init_params": check.one_of(*INIT_METHODS),
    "random_state": check.is_random_state,
    "warm_start": check.is_bool,
    "verbose": check.int_at_least(0),
    "verbose_interval": check.int_at_least(1),
    "chunk_rows": check.optional(check.int_at_least(1)),
    "init_sample_size": check.optional(check.int_at_least(1)),
}


@dataclass(frozen=True, slots=True, eq=False)
class OnlineState:
    """What ``partial_fit`` carries from batch to batch: the M-step (a prior fixed by the first batch), the running
    statistics and the number of batches seen."""

    m_step: MStep
    running: SufficientStats
    n_batches: int


class MixtureBase(DensityMixin, BaseEstimator):
    """The shared fit loop and row-wise methods of GaussianMixture and BayesianGaussianMixture.

    Subclasses define ``_parameter_rules``, ``_fit_setup``, ``_initial_state``, ``_state_attributes`` and
    ``_fitted_state``; the fitted attributes ``weights_``, ``means_``, ``covariances_`` and
    ``precisions_cholesky_`` always describe a proper mixture (what ``sample`` draws from).
    """

    _parameter_rules: ClassVar[dict[str, check.Rule]]
    _takes_labels: ClassVar[bool] = False  # fit(X, labels=...): semi-supervised EM

    def _allows_nan(self) -> bool:
        """Whether NaN is a missing value (marginalised) rather than an error: ``missing="marginalize"``."""
        return getattr(self, "missing", "error") == "marginalize"

    # -- what a subclass provides ------------------------------------------------------------------------------

    def _fit_setup(self, source: ChunkSource, accumulate: Callable) -> tuple[MStep, Any]:
        """This fit's M-step and what its starts need (checked user arrays, ...), once per fit; may take a pass
        over the data (a prior's defaults)."""
        raise NotImplementedError

    def _needs_init_rows(self, plan: Any) -> bool:
        """Whether the starts need rows in memory (a streamed source's sample costs a pass: only if used)."""
        return True

    def _initial_state(self, plan: Any, X: Any, weight: Any, rng: np.random.Generator, m_step: MStep) -> Any:
        """One initialisation's starting state from the in-memory rows ``X`` (None when not needed)."""
        raise NotImplementedError

    def _state_attributes(self, state: Any, as_dtype: Callable[[Any], Any]) -> dict[str, Any]:
        """The fitted attributes (name → value) a final state becomes, arrays cast with ``as_dtype``."""
        raise NotImplementedError

    def _fitted_state(self) -> Any:
        """The state the fitted attributes stand for (a warm start continues from it)."""
        raise NotImplementedError

    def _row_params(self) -> GaussianParams:
        """The parameters the row-wise methods evaluate (the fitted mixture, unless a subclass says otherwise)."""
        return self._params()

    # -- fitting -------------------------------------------------------------------------------------------------

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None, *, labels: Any = None,
            on_iteration: Callable[[int, float], None] | None = None) -> Any:
        """Estimate the parameters with EM (``n_init`` initialisations, the best kept).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), path, ChunkSource, or Dask array/DataFrame
            A path (str or Path) is opened with :func:`gaussmix.open_data` and streamed from disk, one pass per
            iteration; Dask collections are fitted on the workers. Data not in memory is initialised from a
            uniform sample of ``init_sample_size`` rows.
        y : ignored
            scikit-learn's target slot (pipelines and searches pass theirs here); component labels go in ``labels``.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights: an integer weight acts as that many copies of the row, zero as no row.
        labels : array-like of shape (n_samples,), default=None
            Semi-supervised EM (GaussianMixture, X in memory): each row's component index, or -1 where unknown.
            A labelled row's responsibilities are fixed to its component; when every component has labelled rows
            they give the start, and fully labelled data gives the class-conditional maximum-likelihood fit.
        on_iteration : callable, optional
            Called as ``on_iteration(n_iter, lower_bound)`` after every EM iteration of every initialisation
            (``n_iter`` restarts at 1 with each one), for progress bars and logs; not a hyper-parameter, so
            ``clone`` and ``get_params`` never see it. A KeyboardInterrupt (Ctrl-C) during fit keeps the best
            parameters so far as the fitted model, then re-raises.

        Returns
        -------
        self : estimator
        """
        check.check_hyperparameters(self, self._parameter_rules)
        source, feature_names = self._fit_source(X, sample_weight)
        rng = check.to_generator(self.random_state)
        raw_accumulate, raw_lean = accumulator(source), accumulator(source, worst_rows=False)
        labelled = None
        if labels is not None:
            if not self._takes_labels:
                raise TypeError(f"{type(self).__name__}.fit does not take labels; GaussianMixture does.")
            labelled = split_labelled(source, labels, self.n_components)
            unlabelled = labelled.unlabelled
            raw_accumulate = labelled.accumulator(None if unlabelled is None else accumulator(unlabelled))
            raw_lean = labelled.accumulator(None if unlabelled is None else accumulator(unlabelled, worst_rows=False))

        def accumulate(params: GaussianParams) -> Any:  # E-step parameters into the data's namespace and device
            return raw_accumulate(self._params_for(source, params))

        def lean(params: GaussianParams) -> Any:  # the same pass, without the worst-explained rows
            return raw_lean(self._params_for(source, params))

        m_step, plan = self._fit_setup(source, accumulate)
        warm = self._warm_start_state(source.n_features)
        needs_rows = warm is None and self._needs_init_rows(plan)
        init_data, init_weight = self._init_rows(source, rng) if needs_rows else (None, None)
        best: EMResult | None = None
        interrupted = False
        for init in range(1 if warm is not None else self.n_init):
            if self.verbose:
                print(f"Initialization {init}")
            try:
                if warm is not None:
                    state0, bound0 = warm, self.lower_bound_
                elif labelled is not None and labelled.covers_all(self.n_components):
                    state0 = labelled.initial_params(self.n_components, self.covariance_type, self.reg_covar)
                    bound0 = -math.inf
                else:
                    state0, bound0 = self._initial_state(plan, init_data, init_weight, rng, m_step), -math.inf
            except KeyboardInterrupt:  # Ctrl-C in a later initialisation's k-means keeps the earlier ones' best
                if best is None:
                    raise
                interrupted = True
                break
            with fit_threads(source):
                result = run_em(accumulate, state0, m_step=m_step, tol=self.tol, max_iter=self.max_iter,
                                lower_bound0=bound0, lean=lean,
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
        self._set_fitted(best, feature_names, _attribute_caster(source))
        if interrupted:
            raise KeyboardInterrupt
        return self

    def _online_step(self, X: Any, sample_weight: Any) -> Any:
        """One batch of online EM (see ``GaussianMixture.partial_fit``): the batch's statistics under the current
        parameters blended into the running ones, then the M-step. The first batch (or the first after ``fit``)
        starts from the fitted parameters if there are compatible ones, else from ``init_params`` on the batch."""
        check.check_hyperparameters(self, self._parameter_rules)
        source, feature_names = self._fit_source(X, sample_weight)
        raw_accumulate = accumulator(source)

        def accumulate(params: GaussianParams) -> Any:
            return raw_accumulate(self._params_for(source, params))

        if is_fitted(self) and source.n_features != self.n_features_in_:  # scikit-learn's partial_fit contract
            raise ValueError(f"X has {source.n_features} features, but {type(self).__name__} is expecting "
                             f"{self.n_features_in_} features as input.")
        online: OnlineState | None = getattr(self, "_online", None) if is_fitted(self) else None
        if online is not None and (self.n_components, self.covariance_type) != (
                self._params().n_components, self._fitted_covariance_type):
            online = None  # set_params changed the model: a fresh online run (the warm start below says why)
        if online is not None:
            m_step, running, t, state = online.m_step, online.running, online.n_batches, self._fitted_state()
        else:
            m_step, plan = self._fit_setup(source, accumulate)
            running, t = None, 0
            state = self._warm_start_state(source.n_features, warm=True)
            if state is None:
                rng = check.to_generator(self.random_state)
                init_data, init_weight = self._init_rows(source, rng) if self._needs_init_rows(plan) else (None, None)
                state = self._initial_state(plan, init_data, init_weight, rng, m_step)
        batch = accumulate(m_step.e_step_params(state))
        running = blended(running, batch, step_size(t, self.learning_decay, self.learning_offset))
        step = m_step(running, state)
        bound = float(batch.log_likelihood) / float(batch.n)  # the batch under the parameters it was scored with
        previous = list(self.lower_bounds_) if online is not None else []
        record = EMResult(step.state, lower_bound=bound, lower_bounds=(*previous, bound), n_iter=t + 1,
                          converged=False, reseeds=tuple(IterationReseed(t + 1, r) for r in step.reseeds))
        warn_fit_outcome(record, interrupted=False, max_iter=0, tol=self.tol)  # re-seeds only
        self._set_fitted(record, feature_names, _attribute_caster(source))
        self._online = OnlineState(m_step, running, t + 1)
        return self

    def fit_predict(self, X: Any, y: Any = None, sample_weight: Any = None) -> Any:
        """Fit, then return the most likely component of every row (consistent with ``fit(X).predict(X)``)."""
        return self.fit(X, sample_weight=sample_weight).predict(X)

    def _fit_source(self, X: Any, sample_weight: Any) -> tuple[ChunkSource, tuple[str, ...] | None]:
        """Validate X and the weights and wrap them as a ChunkSource; the choice of executor starts here."""
        if is_streamed(X):  # a path, a ChunkSource or a Dask collection: checked block by block as it is read
            source = streamed_source(X, sample_weight, chunk_rows=self.chunk_rows, n_components=self.n_components,
                                     allow_nan=self._allows_nan())
            self._check_enough_rows(source.n_rows, "rows")
            return source, source.feature_names
        if check.is_tensor(X):  # torch: checked in its namespace and fitted on its device, never copied to NumPy
            array, feature_names = check.check_tensor_data(X, owner=type(self).__name__), None
            weights = check.check_tensor_sample_weight(sample_weight, array)
        else:
            array, feature_names = check.check_data(X, owner=type(self).__name__, allow_nan=self._allows_nan())
            weights = check.check_sample_weight(sample_weight, array.shape[0])
        n_positive = array.shape[0] if weights is None else int((weights > 0).sum())
        self._check_enough_rows(n_positive, "rows" if weights is None else "rows with positive sample_weight")
        return (ArraySource(array, weights, self._chunk_rows(array.shape[1], array.shape[0]), feature_names),
                feature_names)

    def _check_enough_rows(self, n_rows: int | None, rows: str) -> None:
        if n_rows is not None and n_rows < self.n_components:
            raise ValueError(
                f"Expected n_samples >= n_components, but got n_components = {self.n_components} and "
                f"{n_rows} {rows}."
            )

    def _warm_start_state(self, n_features: int, warm: bool | None = None) -> Any:
        """The previous fit's state when a warm start (``warm_start``, or ``warm`` when given) can use it, else None
        (with a warning if it can't)."""
        if not ((self.warm_start if warm is None else warm) and is_fitted(self)):
            return None
        previous = self._params()
        now = (self.n_components, self.covariance_type, n_features)
        before = (previous.n_components, self._fitted_covariance_type, previous.n_features)
        if now == before:
            return self._fitted_state()
        what = ", ".join(f"{name} {b!r} -> {n!r}" for name, b, n in
                         zip(("n_components", "covariance_type", "n_features"), before, now) if b != n)
        warnings.warn(f"warm_start ignored: the previous fit does not match this one ({what}); starting from "
                      f"init_params={self.init_params!r} instead.", UserWarning, stacklevel=4)
        return None

    def _init_rows(self, source: ChunkSource, rng: np.random.Generator) -> tuple[Any, Any]:
        """The in-memory rows the initialisation sees: all of an array source's rows, else a uniform sample."""
        if isinstance(source, ArraySource):
            return fill_missing(source.X), source.sample_weight
        X, weight = init_sample(source, self.init_sample_size, rng)
        X = fill_missing(X)
        self._check_enough_rows(X.shape[0], "rows with positive sample_weight in the initialisation sample")
        return X, weight

    def _chunk_rows(self, n_features: int, n_rows: int | None = None) -> int:
        return self.chunk_rows or default_chunk_rows(n_features, self.n_components, n_rows)

    def _set_fitted(self, result: EMResult, feature_names: tuple[str, ...] | None,
                    as_dtype: Callable[[Any], Any]) -> None:
        """Assign every fitted attribute at once, so a failed fit leaves the estimator as it was.

        ``as_dtype`` puts an array into the data's namespace and float dtype (float32 data gives float32
        attributes, as in scikit-learn's GaussianMixture; the core computed them in float64).
        """
        like = result.params.means
        attributes = self._state_attributes(result.params, as_dtype)
        attributes.update(
            converged_=bool(result.converged),
            n_iter_=int(result.n_iter),
            lower_bound_=float(result.lower_bound),
            lower_bounds_=[float(b) for b in result.lower_bounds],
            reseeds_=tuple(result.reseeds),
            n_features_in_=int(like.shape[1]),
            _fitted_covariance_type=self.covariance_type,  # set_params(covariance_type=...) keeps it
            _online=None,  # a full fit ends any online run; partial_fit sets its own state after this
        )
        for name, value in attributes.items():
            setattr(self, name, value)
        if feature_names is not None:
            self.feature_names_in_ = np.asarray(feature_names, dtype=object)
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_

    @classmethod
    def _fitted_from(cls, record: EMResult, params: GaussianParams, feature_names: tuple[str, ...] | None,
                     hyper_parameters: dict[str, Any]) -> Any:
        """A fitted estimator from a fit record whose state stands for ``params`` (no fit): model files,
        scikit-learn conversion and MAP adaptation build their estimators here. The hyper-parameters are checked
        by the class's rules and must agree with the parameters' number of components and covariance type (both
        default to the parameters'); the attributes keep the parameters' float dtype."""
        hyper = {"n_components": params.n_components, "covariance_type": params.covariance_type,
                 **hyper_parameters}
        model = cls(**hyper)
        check.check_hyperparameters(model, cls._parameter_rules)
        if (model.n_components != params.n_components
                or attribute_layout(model.covariance_type) != params.covariance_type):
            raise ValueError(
                f"the hyper-parameters say n_components={model.n_components!r}, covariance_type="
                f"{model.covariance_type!r}, but the parameters have {params.n_components} component(s) of type "
                f"{params.covariance_type!r}."
            )
        if feature_names is not None and len(feature_names) != params.n_features:
            raise ValueError(f"{len(feature_names)} feature names for {params.n_features} features.")
        model._set_fitted(record, feature_names, _caster(params.means, params.means.dtype))
        return model

    def _record_arrays(self) -> dict[str, Any]:
        """Fitted state beyond the mixture's parameters that a model file keeps (none by default)."""
        return {}

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "n_features_in_")

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self._allows_nan()
        return tags

    def _params(self) -> GaussianParams:
        """The fitted mixture as the core's immutable value (float64, in the attributes' namespace)."""
        return fitted_params(self)

    # -- row-wise methods ----------------------------------------------------------------------------------------

    def _rows_source(self, X: Any) -> ChunkSource:
        """Validate X against the fitted model and wrap it as a ChunkSource."""
        check_fitted(self)
        owner = type(self).__name__
        if is_streamed(X):
            source = streamed_source(X, None, chunk_rows=self.chunk_rows, n_components=self.n_components,
                                     persist=False, allow_nan=self._allows_nan())
            return check_rows_source(source, self.n_features_in_, getattr(self, "feature_names_in_", None), owner)
        if check.is_tensor(X):
            array = check.check_tensor_data(X, n_features=self.n_features_in_, owner=owner)
        else:
            array, _ = check.check_data(X, n_features=self.n_features_in_, owner=owner, allow_nan=self._allows_nan())
        validate_data(self, X, reset=False, skip_check_array=True)  # scikit-learn's feature-name checks and warnings
        return ArraySource(array, None, self._chunk_rows(array.shape[1]))

    def _params_for(self, X: Any, params: GaussianParams | None = None) -> GaussianParams:
        """``params`` (default: the row-wise ones) in the namespace X's rows arrive in: float64 tensors on X's
        device for a tensor (or an ArraySource of one), NumPy for anything else (arrays, files, Dask)."""
        params = self._row_params() if params is None else params
        like = X.X if isinstance(X, ArraySource) else X
        weights, means, covariances, prec_chol = (check.float64_like(a, like) for a in (
            params.weights, params.means, params.covariances, params.precisions_cholesky))
        return GaussianParams(weights, means, covariances, prec_chol, params.covariance_type)

    def score_samples(self, X: Any) -> Any:
        """log p(x) of every row, shape (n_samples,), in X's float dtype; a tensor on X's device for a tensor X."""
        source = self._rows_source(X)
        params = self._params_for(X)
        return map_rows(source, lambda Xb: _log_prob(Xb, params))

    def predict_proba(self, X: Any) -> Any:
        """Posterior probability of each component for each row, shape (n_samples, n_components)."""
        source = self._rows_source(X)
        params = self._params_for(X)
        return map_rows(source, lambda Xb: _posteriors(Xb, params))

    def predict(self, X: Any) -> Any:
        """Most likely component of each row, shape (n_samples,)."""
        source = self._rows_source(X)
        params = self._params_for(X)
        return map_rows(source, lambda Xb: _labels(Xb, params))

    def score(self, X: Any, y: Any = None, sample_weight: Any = None) -> float:
        """Mean log-likelihood per sample (weighted mean with ``sample_weight``)."""
        return self._mean_log_prob(X, sample_weight)[0]

    def _mean_log_prob(self, X: Any, sample_weight: Any) -> tuple[float, float]:
        """Mean log p(x) per (weighted) row and the (weighted) row count; one pass over streamed data."""
        if is_streamed(X):
            source = self._rows_source(X)
            params = self._params_for(X)
            return mean_of_rows(source, lambda Xb: log_resp(Xb, params)[0], sample_weight)
        log_prob = np.asarray(to_numpy(self.score_samples(X)), dtype=np.float64)  # reduced on the host, in float64
        if check.is_tensor(sample_weight):
            sample_weight = to_numpy(sample_weight)
        weights = check.check_sample_weight(sample_weight, log_prob.shape[0])
        n = float(log_prob.shape[0]) if weights is None else float(np.sum(weights))
        return float(np.average(log_prob, weights=weights)), n

    def n_parameters(self) -> int:
        """Free parameters of the fitted mixture: weights (K − 1), means (K·D) and the covariances."""
        params = self._params()
        return covariance_structure(self._fitted_covariance_type).n_parameters(params.n_components,
                                                                               params.n_features)

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

    def save(self, path: Any) -> Any:
        """Write the fitted model to ``path`` (``.npz``) atomically; :func:`gaussmix.load` reads it back exactly.

        The file holds numeric arrays and JSON only (no pickle, so loading never runs code): the parameters,
        ``get_params()``, the fit record and the feature names. See docs/MODEL_FILE.md. Returns the path. A model
        the file could not load back (``set_params`` changed ``n_components`` after the fit, say) is refused with
        a ModelFileError and nothing is written.
        """
        return persistence.save(self, path)

    @classmethod
    def load(cls, path: Any) -> Any:
        """Read a model file written by :meth:`save` into this class (see :func:`gaussmix.load`)."""
        return persistence.load(path, (cls,))

    def to_sklearn(self) -> Any:
        """The equivalent fitted scikit-learn estimator (``sklearn.mixture`` class of the same name), copied exactly."""
        return interop.to_sklearn(self)

    @classmethod
    def from_sklearn(cls, est: Any) -> Any:
        """A fitted gaussmix model from the fitted scikit-learn estimator of the same name, copied exactly."""
        return interop.from_sklearn(est, cls)

    def to_torch_distribution(self) -> Any:
        """An equivalent ``torch.distributions.MixtureSameFamily`` in float64, on the fitted parameters' device.

        Its ``log_prob`` is the fitted mixture's log-density and it samples and differentiates like any torch
        distribution (needs PyTorch).
        """
        from .torch import to_distribution

        return to_distribution(self._params())


# -- row-wise results in the rows' own namespace (NumPy, or torch on the rows' device) and float dtype ---------

def _caster(like: Any, dtype: Any) -> Callable[[Any], Any]:
    """Casts arrays of ``like``'s namespace to float32 when ``dtype`` is float32 (NumPy or torch), else float64."""
    xp = array_namespace(like)
    target = xp.float32 if str(dtype).removeprefix("torch.") == "float32" else xp.float64
    return lambda a: xp.astype(xp.asarray(a), target)


def _attribute_caster(source: ChunkSource) -> Callable[[Any], Any]:
    """Arrays into the fitted attributes' form: the data's namespace and device, float32 for float32 data."""
    like = source.X if isinstance(source, ArraySource) else np.zeros((0,), dtype=source.dtype)
    cast = _caster(like, source.dtype)
    return lambda a: cast(check.float64_like(a, like))


def _log_prob(X: Any, params: GaussianParams) -> Any:
    return _caster(X, X.dtype)(log_resp(X, params)[0])


def _posteriors(X: Any, params: GaussianParams) -> Any:
    xp = array_namespace(X)
    return xp.exp(_caster(X, X.dtype)(log_resp(X, params)[1]))


def _labels(X: Any, params: GaussianParams) -> Any:
    return array_namespace(X).argmax(log_resp(X, params)[1], axis=1)

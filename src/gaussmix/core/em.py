"""The EM loop over any executor: ``accumulate(params)`` maps the data's chunks to statistics and sums them.

The M-step is a value the loop takes (:class:`MStep`): maximum likelihood (:class:`MaximumLikelihood`) or the
variational Bayesian update (``core.variational.VariationalBayes``). Both read the same statistics, so every
executor serves every model family without new code.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from .mstep import Reseed, params_from_stats
from .params import GaussianParams
from .stats import SufficientStats

Accumulate = Callable[[GaussianParams], SufficientStats]


@dataclass(frozen=True, slots=True)
class IterationReseed:
    """A re-seed that happened in the M-step of iteration ``n_iter``.

    Examples
    --------
    Found in :attr:`EMResult.reseeds`, one per component re-seeded during a run:

    >>> from gaussmix.core import IterationReseed, Reseed
    >>> IterationReseed(7, Reseed(component=2, row=88, reason="empty"))
    IterationReseed(n_iter=7, reseed=Reseed(component=2, row=88, reason='empty'))
    """

    n_iter: int
    reseed: Reseed


@dataclass(frozen=True, slots=True, eq=False)
class StepOutcome:
    """One M-step's result: the new state, its re-seeds, and the lower bound this iteration reports (the one
    ``tol`` applies to: the mean log-likelihood for maximum likelihood, the summed ELBO for variational fits).

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix import GaussianParams
    >>> from gaussmix.core import MaximumLikelihood, chunk_stats, em_step
    >>> X = np.array([[0.0], [1.0], [10.0], [11.0]])
    >>> params = GaussianParams.from_covariances(np.array([0.5, 0.5]), np.array([[1.0], [9.0]]),
    ...                                          np.array([1.0, 1.0]), "spherical")
    >>> outcome, stats = em_step(lambda p: chunk_stats(X, p), params, MaximumLikelihood(reg_covar=1e-6))
    >>> outcome.state.means, outcome.reseeds
    (array([[ 0.5],
           [10.5]]), ())
    """

    state: Any
    reseeds: tuple[Reseed, ...]
    lower_bound: float


class MStep(Protocol):
    """What EM needs of a model family: the parameters its E-step runs on, and the update from statistics.

    Examples
    --------
    :class:`MaximumLikelihood` is one; the variational Bayesian and the mclust models' M-steps are others:

    >>> from gaussmix.core import MaximumLikelihood
    >>> m_step = MaximumLikelihood(reg_covar=1e-6)
    >>> callable(m_step) and callable(m_step.e_step_params)
    True
    """

    def e_step_params(self, state: Any) -> GaussianParams: ...

    def __call__(self, stats: SufficientStats, state: Any) -> StepOutcome: ...


@dataclass(frozen=True, slots=True)
class MaximumLikelihood:
    """The maximum-likelihood M-step; the state is the GaussianParams, the bound the mean log-likelihood.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix import GaussianParams
    >>> from gaussmix.core import MaximumLikelihood, chunk_stats
    >>> X = np.array([[0.0], [1.0], [10.0], [11.0]])
    >>> params = GaussianParams.from_covariances(np.array([0.5, 0.5]), np.array([[1.0], [9.0]]),
    ...                                          np.array([1.0, 1.0]), "spherical")
    >>> m_step = MaximumLikelihood(reg_covar=1e-6)
    >>> m_step(chunk_stats(X, params), params).state.weights
    array([0.5, 0.5])
    """

    reg_covar: float

    def e_step_params(self, state: GaussianParams) -> GaussianParams:
        return state

    def __call__(self, stats: SufficientStats, state: GaussianParams) -> StepOutcome:
        result = params_from_stats(stats, self.reg_covar)
        return StepOutcome(result.params, result.reseeds, float(stats.log_likelihood) / float(stats.n))


@dataclass(frozen=True, slots=True, eq=False)
class EMResult:
    """What one EM run did.

    ``lower_bound`` is the bound of the data under the parameters *before* the last M-step (as in scikit-learn:
    the mean log-likelihood for maximum likelihood, the ELBO for variational fits); ``params`` is the state after
    it (GaussianParams, or a variational posterior). ``interrupted`` is True when a KeyboardInterrupt stopped the
    run: ``params`` is then the state of the last completed iteration.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix import GaussianParams
    >>> from gaussmix.core import MaximumLikelihood, chunk_stats, run_em
    >>> X = np.array([[0.0], [1.0], [10.0], [11.0]])
    >>> params0 = GaussianParams.from_covariances(np.array([0.5, 0.5]), np.array([[1.0], [9.0]]),
    ...                                           np.array([1.0, 1.0]), "spherical")
    >>> result = run_em(lambda p: chunk_stats(X, p), params0, m_step=MaximumLikelihood(1e-6), tol=1e-8, max_iter=50)
    >>> result.converged, result.n_iter, result.reseeds, len(result.lower_bounds) == result.n_iter
    (True, 3, (), True)
    """

    params: Any
    lower_bound: float
    lower_bounds: tuple[float, ...]
    n_iter: int
    converged: bool
    reseeds: tuple[IterationReseed, ...] = ()
    interrupted: bool = False


def em_step(accumulate: Accumulate, state: Any, m_step: MStep,
            lean: Accumulate | None = None) -> tuple[StepOutcome, SufficientStats]:
    """One EM iteration: one pass over the data (E-step and sum), then the M-step.

    ``lean``, when given, is a pass that may leave out the worst-explained rows, which only a re-seed needs (and a
    message about statistics that overflowed): it runs first, and ``accumulate`` runs the same E-step again only
    when the M-step re-seeds a component or raises. Their exact, split-invariant ranking cost ~15% of a small
    fit and 0.09 s per block at D = 1,024.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix import GaussianParams
    >>> from gaussmix.core import MaximumLikelihood, chunk_stats, em_step
    >>> X = np.array([[0.0], [1.0], [10.0], [11.0]])
    >>> params = GaussianParams.from_covariances(np.array([0.5, 0.5]), np.array([[1.0], [9.0]]),
    ...                                          np.array([1.0, 1.0]), "spherical")
    >>> outcome, stats = em_step(lambda p: chunk_stats(X, p), params, MaximumLikelihood(reg_covar=1e-6))
    >>> outcome.state.means.ravel(), float(stats.n)
    (array([ 0.5, 10.5]), 4.0)
    """
    params = m_step.e_step_params(state)
    if lean is not None:
        stats = lean(params)
        try:
            outcome = m_step(stats, state)
        except ValueError:  # its message may name the worst-explained row: the full pass below finds it
            outcome = None
        if outcome is not None and not outcome.reseeds:
            return outcome, stats
    stats = accumulate(params)
    return m_step(stats, state), stats


def run_em(
    accumulate: Accumulate,
    state0: Any,
    *,
    m_step: MStep,
    tol: float,
    max_iter: int,
    lower_bound0: float = -math.inf,
    on_iteration: Callable[[int, float], None] | None = None,
    lean: Accumulate | None = None,
) -> EMResult:
    """Iterate EM from ``state0`` until the bound its M-step reports changes by less than ``tol``, or ``max_iter``.

    An iteration that re-seeds a component never counts as converged. ``lower_bound0`` is the bound to compare the
    first iteration against (the previous fit's, for warm starts). A KeyboardInterrupt ends the run early and is
    reported in the result rather than raised, so the caller keeps the best parameters so far. ``lean``: a pass
    without the worst-explained rows, tried first each iteration (see ``em_step``).

    Examples
    --------
    The data pass is any function from parameters to summed statistics; here, two blocks of an array:

    >>> import numpy as np
    >>> from gaussmix import GaussianParams
    >>> from gaussmix.core import MaximumLikelihood, chunk_stats, run_em
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(0, 1, (100, 2)), rng.normal(5, 1, (100, 2))])
    >>> def accumulate(params):
    ...     return chunk_stats(X[:120], params) + chunk_stats(X[120:], params, row_offset=120)
    >>> params0 = GaussianParams.from_covariances(np.array([0.5, 0.5]), np.array([[1.0, 1.0], [4.0, 4.0]]),
    ...                                           np.ones((2, 2)), "diag")
    >>> result = run_em(accumulate, params0, m_step=MaximumLikelihood(reg_covar=1e-6), tol=1e-6, max_iter=100,
    ...                 on_iteration=lambda n_iter, bound: None)
    >>> result.converged, result.params.means.round(1)
    (True, array([[-0.1,  0.1],
           [ 4.9,  4.9]]))
    """
    state, lower_bound = state0, lower_bound0
    lower_bounds: list[float] = []
    reseeds: list[IterationReseed] = []
    converged = False
    n_iter = 0
    try:
        for n_iter in range(1, max_iter + 1):
            step, _ = em_step(accumulate, state, m_step, lean)
            previous, lower_bound = lower_bound, step.lower_bound
            lower_bounds.append(lower_bound)
            state = step.state
            reseeds.extend(IterationReseed(n_iter, r) for r in step.reseeds)
            if on_iteration is not None:
                on_iteration(n_iter, lower_bound)
            if abs(lower_bound - previous) < tol and not step.reseeds:
                converged = True
                break
    except KeyboardInterrupt:
        n_done = len(lower_bounds)
        return EMResult(state, lower_bound if n_done else lower_bound0, tuple(lower_bounds), n_done, False,
                        tuple(reseeds), interrupted=True)
    return EMResult(state, lower_bound, tuple(lower_bounds), n_iter, converged, tuple(reseeds))

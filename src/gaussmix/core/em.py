"""The EM loop over any executor: ``accumulate(params)`` maps the data's chunks to statistics and sums them."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from .mstep import MStepResult, Reseed, params_from_stats
from .params import GaussianParams
from .stats import SufficientStats

Accumulate = Callable[[GaussianParams], SufficientStats]


@dataclass(frozen=True, slots=True)
class IterationReseed:
    """A re-seed that happened in the M-step of iteration ``n_iter``."""

    n_iter: int
    reseed: Reseed


@dataclass(frozen=True, slots=True, eq=False)
class EMResult:
    """What one EM run did.

    ``lower_bound`` is the mean log-likelihood of the data under the parameters *before* the last M-step (as in
    scikit-learn); ``params`` are those after it. ``interrupted`` is True when a KeyboardInterrupt stopped the run:
    ``params`` are then those of the last completed iteration.
    """

    params: GaussianParams
    lower_bound: float
    lower_bounds: tuple[float, ...]
    n_iter: int
    converged: bool
    reseeds: tuple[IterationReseed, ...] = ()
    interrupted: bool = False


def em_step(accumulate: Accumulate, params: GaussianParams, reg_covar: float) -> tuple[MStepResult, SufficientStats]:
    """One EM iteration: one pass over the data (E-step and sum), then the M-step."""
    stats = accumulate(params)
    return params_from_stats(stats, reg_covar), stats


def run_em(
    accumulate: Accumulate,
    params0: GaussianParams,
    *,
    reg_covar: float,
    tol: float,
    max_iter: int,
    lower_bound0: float = -math.inf,
    on_iteration: Callable[[int, float], None] | None = None,
) -> EMResult:
    """Iterate EM from ``params0`` until the mean log-likelihood changes by less than ``tol``, or ``max_iter``.

    An iteration that re-seeds a component never counts as converged. ``lower_bound0`` is the bound to compare the
    first iteration against (the previous fit's, for warm starts). A KeyboardInterrupt ends the run early and is
    reported in the result rather than raised, so the caller keeps the best parameters so far.
    """
    params, lower_bound = params0, lower_bound0
    lower_bounds: list[float] = []
    reseeds: list[IterationReseed] = []
    converged = False
    n_iter = 0
    try:
        for n_iter in range(1, max_iter + 1):
            step, stats = em_step(accumulate, params, reg_covar)
            previous, lower_bound = lower_bound, float(stats.log_likelihood) / float(stats.n)
            lower_bounds.append(lower_bound)
            params = step.params
            reseeds.extend(IterationReseed(n_iter, r) for r in step.reseeds)
            if on_iteration is not None:
                on_iteration(n_iter, lower_bound)
            if abs(lower_bound - previous) < tol and not step.reseeds:
                converged = True
                break
    except KeyboardInterrupt:
        n_done = len(lower_bounds)
        return EMResult(params, lower_bound if n_done else lower_bound0, tuple(lower_bounds), n_done, False,
                        tuple(reseeds), interrupted=True)
    return EMResult(params, lower_bound, tuple(lower_bounds), n_iter, converged, tuple(reseeds))

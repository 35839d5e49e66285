"""What a fit tells people: scikit-learn's verbose lines, and a warning for everything EM had to do."""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable

from .core.em import EMResult
from .exceptions import ConvergenceWarning, DegenerateComponentWarning

OnIteration = Callable[[int, float], None]


def iteration_printer(verbose: int, verbose_interval: int, on_iteration: OnIteration | None) -> OnIteration | None:
    """The callback ``run_em`` gets: prints scikit-learn's iteration lines when verbose, then calls the user's."""
    if not verbose:
        return on_iteration
    state = {"time": time.perf_counter(), "bound": -math.inf}

    def report(n_iter: int, lower_bound: float) -> None:
        now = time.perf_counter()
        if n_iter % verbose_interval == 0:
            if verbose >= 2:
                print(f"  Iteration {n_iter}\t time lapse {now - state['time']:.5f}s\t "
                      f"ll change {lower_bound - state['bound']:.5f}")
            else:
                print(f"  Iteration {n_iter}")
            state["time"] = now
        state["bound"] = lower_bound
        if on_iteration is not None:
            on_iteration(n_iter, lower_bound)

    return report


def warn_fit_outcome(result: EMResult, *, interrupted: bool, max_iter: int, tol: float) -> None:
    """Warn about the kept run's re-seeds, and about an interrupted or unconverged fit (stack: user → fit → here)."""
    for event in result.reseeds:
        r = event.reseed
        where = f"row {r.row}, the worst-explained point" if r.row >= 0 else "a data point"
        warnings.warn(f"Component {r.component} {r.reason} at iteration {event.n_iter}; re-seeded at {where}.",
                      DegenerateComponentWarning, stacklevel=3)
    if interrupted:
        warnings.warn(f"Fit interrupted; keeping the best parameters so far ({result.n_iter} iteration(s) of the "
                      "best initialisation).", ConvergenceWarning, stacklevel=3)
    elif not result.converged and max_iter > 0:
        warnings.warn(
            f"Best performing initialization did not converge in {max_iter} iterations (last change of the lower "
            f"bound above tol={tol:g}). Increase max_iter or tol, try other init parameters, or check for "
            "degenerate data.", ConvergenceWarning, stacklevel=3)

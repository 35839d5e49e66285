"""Model selection: fit every (n_components, covariance_type) candidate and rank them by BIC, AIC or ICL.

All criteria are on scikit-learn's scale, lower is better: BIC = −2 log L + p log n, AIC = −2 log L + 2p and
ICL = BIC + 2·EN, EN = −Σ_i Σ_k w_i z_ik log z_ik the entropy of the responsibilities (Biernacki, Celeux &
Govaert 2000, "ICL-BIC"). R's mclust reports 2 log L − p log n, higher is better: the same BIC with the opposite
sign; its ICL uses the MAP labels (BIC − 2 Σ_i log z_i,MAP) where we use the soft z_ik, and is never above ours
(in our sign): see docs/ANALYSIS.md.
"""

from __future__ import annotations

import math
import numbers
import os
import time
import warnings
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from .. import _validation as check
from .._base import fitted_params
from .._dispatch import is_streamed, mean_of_rows
from ..core.estep import log_resp
from ..core.params import COVARIANCE_TYPES, GaussianParams
from ..core.structures import MCLUST_MODELS, MCLUST_UNIVARIATE, STRUCTURE_NAMES, covariance_structure
from ..estimator import PARAMETER_RULES, GaussianMixture
from ..exceptions import ConvergenceWarning, DataSourceError, DegenerateComponentWarning
from ..executors.dask import is_dask_collection
from ..executors.local import ChunkSource
from ..executors.local import executor as local_executor
from ..executors.shared import SharedPasses, SharedSource
from ..model_based import hc_initial_arrays, shared_hc_tree
from ._rows import rows_source

CRITERIA = ("bic", "aic", "icl")
#: mclust's names of the same covariance models (volume, shape, orientation: Variable or Equal, I = identity).
MCLUST_NAMES = {"full": "VVV", "tied": "EEE", "diag": "VVI", "spherical": "VII"}
#: A candidate whose smallest component variance is below FLOOR_FACTOR·reg_covar sits at the variance floor.
FLOOR_FACTOR = 10.0


@dataclass(frozen=True, slots=True)
class Candidate:
    """One row of a selection table: a fitted (or failed) candidate and its criteria, lower is better.

    ``log_likelihood`` is the total (weighted) log-likelihood of the data under the fitted parameters,
    ``min_variance`` the smallest variance of any component in any direction (an eigenvalue for full and tied),
    ``at_floor`` whether it is below ``floor_factor · reg_covar``; ``error`` says why a fit failed (then the
    numbers are NaN).

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix import select
    >>> X = np.random.default_rng(0).normal(size=(100, 2))
    >>> row = select(X, n_components=[1, 2], covariance_types=["full"], random_state=0).table[0]
    >>> row.n_components, row.covariance_type, row.n_parameters, row.converged
    (1, 'full', 5, True)
    """

    n_components: int
    covariance_type: str
    log_likelihood: float
    n_parameters: int
    bic: float
    aic: float
    icl: float
    converged: bool
    n_iter: int
    seconds: float
    min_variance: float
    at_floor: bool
    n_reseeds: int
    error: str | None = None

    @property
    def mclust_name(self) -> str:
        return MCLUST_NAMES.get(self.covariance_type, self.covariance_type)

    @property
    def eligible(self) -> bool:
        """Fitted, finite, and no component at the variance floor: may be chosen as the best."""
        return self.error is None and not self.at_floor and math.isfinite(self.bic)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "mclust_name": self.mclust_name}


@dataclass(frozen=True, eq=False)
class SelectionResult:
    """Every candidate of :func:`select`, in the order tried, and the best one by ``criterion``.

    ``table`` holds one :class:`Candidate` per (covariance type, n_components), failures included; ``models``
    the fitted GaussianMixture of each row (None where the fit failed); ``best_index`` the row of the best.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix import select
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(0, 1, (100, 2)), rng.normal(6, 1, (100, 2))])
    >>> result = select(X, n_components=range(1, 4), covariance_types=["full", "diag"], random_state=0)
    >>> len(result.table), result.best.n_components, result.best_model.n_components
    (6, 2, 2)
    """

    table: tuple[Candidate, ...]
    models: tuple[Any, ...]
    criterion: str
    best_index: int
    floor_factor: float = FLOOR_FACTOR

    @property
    def best_model(self) -> GaussianMixture:
        """The fitted GaussianMixture with the lowest criterion among eligible candidates."""
        return self.models[self.best_index]

    @property
    def best(self) -> Candidate:
        return self.table[self.best_index]

    def to_dicts(self) -> list[dict[str, Any]]:
        """The table as a list of plain dicts (JSON-ready; ``pandas.DataFrame(result.to_dicts())`` makes a frame)."""
        return [c.as_dict() for c in self.table]

    def plot(self, ax: Any = None, style: str = "gaussmix") -> Any:
        """Criterion against n_components, one line per covariance type, the best marked (needs matplotlib).

        Failed candidates and candidates at the variance floor are left out, so the marked best is ``best``.
        ``style='mclust'`` draws mclust's BIC plot instead: one line per model, BIC with mclust's sign (higher
        is better).
        """
        from ..plot import criterion as plot_criterion
        from ..plot import mclust_bic

        rows = [c.as_dict() for c in self.table if c.eligible]
        return mclust_bic(rows, ax) if style == "mclust" else plot_criterion(rows, ax, name=self.criterion)

    def bic_table(self) -> str:
        """The BIC table in mclust's layout (``print(mclustBIC(X))``): one row per K, one column per model, BIC with
        mclust's sign (2 log L − p log n, higher is better), NA where a fit failed or was not eligible."""
        return format_mclust_table(self)

    def __str__(self) -> str:
        return format_table(self)


def select(
    X: Any,
    n_components: int | Iterable[int] = range(1, 10),
    covariance_types: str | Iterable[str] = COVARIANCE_TYPES,
    criterion: str = "bic",
    *,
    n_init: int = 1,
    random_state: Any = None,
    sample_weight: Any = None,
    n_jobs: int | None = None,
    floor_factor: float = FLOOR_FACTOR,
    shared_passes: bool | None = None,
    **params: Any,
) -> SelectionResult:
    """Fit a GaussianMixture for every number of components and covariance type, and pick the best.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features), path, ChunkSource or Dask collection
        Anything ``GaussianMixture.fit`` takes; data not in memory is streamed by every candidate.
    n_components : int or iterable of int, default=range(1, 10)
    covariance_types : str or iterable of str, default=('full', 'tied', 'diag', 'spherical')
        Any covariance types GaussianMixture takes (scikit-learn's four are mclust's VVV, EEE, VVI and VII), or
        'mclust' for mclust's 14 models (E and V for one feature), as ``mclustBIC`` fits them.
    criterion : {'bic', 'aic', 'icl'}, default='bic'
        Lower is better (mclust's BIC is the same number with the opposite sign).
    n_init, random_state : passed to every candidate (a Generator or RandomState draws one seed per candidate).
    sample_weight : array-like of shape (n_samples,), optional
        Row weights; n in BIC is then their sum.
    n_jobs : int or None, default=None
        Candidates fitted at once, in threads (NumPy releases the GIL); None or -1 uses every core.
    floor_factor : float, default=10
        A candidate with a component variance below ``floor_factor * reg_covar`` (in any direction) is marked
        ``at_floor`` and never chosen as the best: such a component sits on a few (often tied) values and buys a
        spurious likelihood. If every fitted candidate is at the floor, the best of them is kept, with a warning.
    shared_passes : bool or None, default=None
        Fit every candidate together on streamed data (a path or ChunkSource, without ``sample_weight``): each
        pass reads the blocks once and runs the E-step of every candidate still running on them, instead of one
        pass per candidate. None: whenever the data allows; ``n_jobs`` is then unused (the candidates wait for
        the shared passes in threads of their own, and the blocks are mapped on every core).
    **params
        Other GaussianMixture parameters (``reg_covar``, ``tol``, ``max_iter``, ``init_params``, ...).

    Returns
    -------
    SelectionResult
        ``best_model``, the ``table`` of every candidate (failures kept, with their reason) and ``plot()``.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix import select
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(0, 1, (200, 2)), rng.normal(6, 1, (200, 2))])
    >>> result = select(X, n_components=range(1, 4), covariance_types=["full", "spherical"], random_state=0)
    >>> result.best.n_components
    2
    """
    ks = _check_components(n_components)
    kinds = _check_types(covariance_types, rows_source(X).n_features)
    if criterion not in CRITERIA:
        raise ValueError(f"The 'criterion' parameter of select must be one of 'bic', 'aic', 'icl'; got {criterion!r}.")
    if not (isinstance(floor_factor, numbers.Real) and floor_factor >= 0):
        raise ValueError(f"The 'floor_factor' parameter of select must be a real number >= 0; got {floor_factor!r}.")
    _check_params(params, n_init, random_state)
    source = rows_source(X)
    seeds = _seeds(random_state, len(ks) * len(kinds))
    jobs = [(k, kind, seeds[i]) for i, (kind, k) in enumerate((kind, k) for kind in kinds for k in ks)]

    tree = _shared_tree(X, sample_weight, params, random_state)

    shared = _shared_passes(X, source, sample_weight, shared_passes, len(jobs))
    fit_on, score_on = (X, source) if shared is None else (SharedSource(source, shared),) * 2

    def run(job: tuple[int, str, Any]) -> tuple[Candidate, GaussianMixture | None]:
        k, kind, seed = job
        try:
            start = {} if tree is None else _hc_start(k, kind, X, sample_weight, tree, params.get("reg_covar", 1e-6))
            model = GaussianMixture(k, covariance_type=kind, n_init=n_init, random_state=seed, **params, **start)
            return fit_candidate(model, fit_on, score_on, sample_weight, floor_factor)
        finally:
            if shared is not None:
                shared.finished()

    workers = _workers(n_jobs, len(jobs)) if shared is None else len(jobs)
    with warnings.catch_warnings():  # each fit's warnings are summarised below, once
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", DegenerateComponentWarning)
        rows = [run(job) for job in jobs] if workers == 1 else _in_threads(run, jobs, workers)
    table = tuple(row for row, _ in rows)
    best = best_index(table, criterion)
    _warn_about(table, best, floor_factor)
    return SelectionResult(table, tuple(m for _, m in rows), criterion, best, float(floor_factor))


def _shared_passes(X: Any, source: ChunkSource, sample_weight: Any, wanted: bool | None,
                   n_fits: int) -> SharedPasses | None:
    """The shared passes of the candidates' fits, when asked for (or by default) and the data allows them."""
    if wanted not in (None, True, False):
        raise ValueError(f"The 'shared_passes' parameter of select must be None, True or False; got {wanted!r}.")
    possible = is_streamed(X) and not is_dask_collection(X) and sample_weight is None
    if wanted and not possible:
        raise ValueError("shared_passes=True needs streamed data (a path or a ChunkSource) without sample_weight; "
                         "fit in-memory, Dask or weighted data with shared_passes=None.")
    if wanted is False or not possible or n_fits < 2:
        return None
    return SharedPasses(source, local_executor(), n_fits)


def _shared_tree(X: Any, sample_weight: Any, params: dict[str, Any], random_state: Any) -> Any:
    """With ``init_params='hc'`` on in-memory rows, one agglomeration serves every candidate (mclust's way)."""
    if params.get("init_params") != "hc" or not isinstance(X, np.ndarray) or X.ndim != 2:
        return None
    weight = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    return shared_hc_tree(X, weight, check.to_generator(random_state), params.get("init_sample_size"))


def _hc_start(k: int, kind: str, X: Any, sample_weight: Any, tree: Any, reg_covar: float) -> dict[str, Any]:
    """The candidate's start from the shared tree; none where its groups are singular (the candidate's own fit
    then meets the same groups and reports the failure in its row)."""
    try:
        return hc_initial_arrays(k, kind, X, sample_weight, tree, reg_covar)
    except ValueError:
        return {}


def fit_candidate(model: GaussianMixture, X: Any, source: ChunkSource, sample_weight: Any,
                  floor_factor: float = FLOOR_FACTOR) -> tuple[Candidate, GaussianMixture | None]:
    """Fit one unfitted candidate and score it over ``source`` (X checked, without weights); failures reported."""
    k, kind, d = model.n_components, model.covariance_type, source.n_features
    n_params = covariance_structure(kind).n_parameters(k, d)
    start = time.perf_counter()
    try:
        model.fit(X, sample_weight=sample_weight)
        log_likelihood, entropy, n = _likelihood_and_entropy(source, fitted_params(model).to_numpy(), sample_weight)
    except DataSourceError:
        raise  # bad data fails every candidate alike: say so once
    except (ValueError, ArithmeticError, np.linalg.LinAlgError) as exc:
        nan = math.nan
        return Candidate(k, kind, nan, n_params, nan, nan, nan, False, 0, time.perf_counter() - start, nan,
                         False, 0, f"{type(exc).__name__}: {exc}"), None
    bic = -2.0 * log_likelihood + n_params * math.log(n)
    min_var = min_variance(model.covariances_, kind)
    row = Candidate(
        k, kind, log_likelihood, n_params, bic, -2.0 * log_likelihood + 2.0 * n_params, bic + 2.0 * entropy,
        bool(model.converged_), int(model.n_iter_), time.perf_counter() - start, min_var,
        bool(min_var < floor_factor * model.reg_covar), len(model.reseeds_),
    )
    return row, model


def _in_threads(run: Any, jobs: list[Any], workers: int) -> list[Any]:
    """``run`` over the jobs in threads, results in job order; Ctrl-C or an error cancels what has not started."""
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gaussmix-select")
    try:
        return list(pool.map(run, jobs))
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def min_variance(covariances: Any, covariance_type: str) -> float:
    """The smallest variance of any component in any direction: the least eigenvalue for full and tied."""
    cov = np.asarray(covariances, dtype=np.float64)
    if covariance_type in ("full", "tied") or cov.ndim == 3:
        return float(np.min(np.linalg.eigvalsh(cov)))
    return float(np.min(cov))


def best_index(table: tuple[Candidate, ...], criterion: str) -> int:
    """Row of the lowest criterion among eligible candidates (ties: fewer parameters, then table order).

    With no eligible candidate the best fitted one is taken (at the floor, with a warning from :func:`select`);
    with no fitted candidate at all, a ValueError gives the reasons.
    """
    pool = [i for i, c in enumerate(table) if c.eligible]
    pool = pool or [i for i, c in enumerate(table) if c.error is None and math.isfinite(getattr(c, criterion))]
    if not pool:
        reasons = "; ".join(f"{c.n_components} {c.covariance_type!r}: {c.error}" for c in table[:3])
        raise ValueError(f"Every one of the {len(table)} candidates failed, e.g. {reasons}.")
    return min(pool, key=lambda i: (getattr(table[i], criterion), table[i].n_parameters, i))


def uncertainty(model: Any, X: Any) -> Any:
    """mclust's per-point uncertainty 1 − max_k p(k | x): 0 for a point surely in one component, up to 1 − 1/K.

    Parameters
    ----------
    model : fitted GaussianMixture
    X : array-like of shape (n_samples, n_features), path or Dask collection

    Returns
    -------
    ndarray of shape (n_samples,) (a lazy Dask array for Dask input)

    Examples
    --------
    >>> import numpy as np
    >>> import gaussmix
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(0, 1, (100, 1)), rng.normal(6, 1, (100, 1))])
    >>> gm = gaussmix.GaussianMixture(2, random_state=0).fit(X)
    >>> u = gaussmix.uncertainty(gm, np.array([[0.0], [3.0], [6.0]]))   # sure, halfway, sure
    >>> u[[0, 2]].round(3).tolist(), bool(0.4 < u[1] <= 0.5)
    ([0.0, 0.0], True)
    """
    proba = model.predict_proba(X)
    return 1.0 - proba.max(axis=1)


def candidate_note(result: SelectionResult, index: int) -> str:
    """Why a table row stands out: best, failed (with the reason), variance at the floor, re-seeds."""
    c = result.table[index]
    if c.error is not None:
        return f"failed: {c.error}"
    notes = ["best"] if index == result.best_index else []
    if c.at_floor:
        notes.append(f"variance at floor ({c.min_variance:.3g} < {result.floor_factor:g}·reg_covar)")
    if c.n_reseeds:
        notes.append(f"{c.n_reseeds} re-seed(s)")
    return "; ".join(notes)


def format_table(result: SelectionResult) -> str:
    """The selection table as aligned text, the best row and the flagged ones marked."""
    name = result.criterion.upper()
    best = result.best
    lines = [f"{name} (lower is better; mclust's BIC has the opposite sign). Best: {best.n_components} "
             f"{best.covariance_type} ({best.mclust_name}), {name} = {getattr(best, result.criterion):.4f}.",
             f"{'K':>3} {'type':<9} {'mclust':<6} {'log-lik':>12} {'params':>6} {'BIC':>12} {'AIC':>12} "
             f"{'ICL':>12} {'conv':>4} {'iter':>5} {'seconds':>8}  note"]
    for i, c in enumerate(result.table):
        note = candidate_note(result, i)
        lines.append(f"{c.n_components:>3} {c.covariance_type:<9} {c.mclust_name:<6} {c.log_likelihood:>12.4f} "
                     f"{c.n_parameters:>6} {c.bic:>12.4f} {c.aic:>12.4f} {c.icl:>12.4f} "
                     f"{'yes' if c.converged else 'no':>4} {c.n_iter:>5} {c.seconds:>8.3f}  {note}".rstrip())
    return "\n".join(lines)


def format_mclust_table(result: SelectionResult) -> str:
    """BIC in mclust's layout and sign: K rows × model columns, 2 log L − p log n (higher is better)."""
    models = list(dict.fromkeys(c.mclust_name for c in result.table))
    ks = sorted({c.n_components for c in result.table})
    value = {(c.n_components, c.mclust_name): -c.bic for c in result.table if c.eligible}
    width = max(10, *(len(m) + 1 for m in models))
    best = result.best
    lines = [f"Bayesian Information Criterion (BIC), mclust's sign (higher is better); best: {best.mclust_name},"
             f"{best.n_components} ({-best.bic:.5f})",
             "   " + "".join(f"{m:>{width}}" for m in models)]
    for k in ks:
        cells = (f"{value[k, m]:>{width}.3f}" if (k, m) in value else f"{'NA':>{width}}" for m in models)
        lines.append(f"{k:>3}" + "".join(cells))
    return "\n".join(lines)


def _likelihood_and_entropy(source: ChunkSource, params: GaussianParams,
                            sample_weight: Any) -> tuple[float, float, float]:
    """Total log-likelihood Σ w·log p(x), entropy −Σ w·Σ_k z log z, and Σ w: two passes over the rows."""
    mean_log_prob, n = mean_of_rows(source, lambda Xb: log_resp(Xb, params)[0].astype(np.float64), sample_weight)
    mean_entropy, _ = mean_of_rows(source, lambda Xb: _entropy(log_resp(Xb, params)[1]), sample_weight)
    return mean_log_prob * n, mean_entropy * n, n


def _entropy(log_resp_block: Any) -> np.ndarray:
    """−Σ_k z log z per row; components with z = 0 contribute 0 (not 0·−inf)."""
    lr = np.asarray(log_resp_block, dtype=np.float64)
    finite = np.isfinite(lr)
    return -np.sum(np.where(finite, np.exp(lr) * np.where(finite, lr, 0.0), 0.0), axis=1)


def _check_components(n_components: Any) -> tuple[int, ...]:
    values = (n_components,) if isinstance(n_components, numbers.Integral) else tuple(n_components)
    bad = [v for v in values if not (isinstance(v, numbers.Integral) and not isinstance(v, bool) and int(v) >= 1)]
    if not values or bad:
        raise ValueError(f"The 'n_components' parameter of select must be a non-empty sequence of ints >= 1; "
                         f"got {bad[0] if bad else n_components!r}.")
    return tuple(dict.fromkeys(int(v) for v in values))


def _check_types(covariance_types: Any, n_features: int) -> tuple[str, ...]:
    if isinstance(covariance_types, str) and covariance_types == "mclust":
        return MCLUST_UNIVARIATE if n_features == 1 else MCLUST_MODELS
    values = (covariance_types,) if isinstance(covariance_types, str) else tuple(covariance_types)
    bad = [v for v in values if v not in STRUCTURE_NAMES]
    if not values or bad:
        raise ValueError(f"The 'covariance_types' parameter of select must be 'mclust' or hold some of 'full', "
                         f"'tied', 'diag', 'spherical' or mclust's model names (EII, ..., VVV, E, V); got "
                         f"{bad[0] if bad else covariance_types!r}.")
    return tuple(dict.fromkeys(values))


def _check_params(params: dict[str, Any], n_init: int, random_state: Any) -> None:
    """Unknown names raise a TypeError and bad values a ValueError now, not once per candidate."""
    taken = {"n_components", "covariance_type"}
    valid = sorted(set(GaussianMixture().get_params()) - taken - {"n_init", "random_state"})
    for name in params:
        if name not in valid:
            raise TypeError(f"select() got an unexpected keyword argument {name!r}; GaussianMixture parameters "
                            f"it passes on are {valid}.")
    probe = GaussianMixture(n_init=n_init, random_state=random_state, **params)
    check.check_hyperparameters(probe, PARAMETER_RULES)


def _seeds(random_state: Any, count: int) -> list[Any]:
    """One random_state per candidate: the same int (or None) for all, or seeds drawn from a generator."""
    if isinstance(random_state, (np.random.Generator, np.random.RandomState)):
        rng = check.to_generator(random_state)
        return [int(s) for s in rng.integers(0, 2**31 - 1, size=count)]
    return [random_state] * count


def _workers(n_jobs: Any, n_tasks: int) -> int:
    if n_jobs is None or n_jobs == -1:
        return max(1, min(os.cpu_count() or 1, n_tasks))
    if isinstance(n_jobs, numbers.Integral) and not isinstance(n_jobs, bool) and int(n_jobs) >= 1:
        return min(int(n_jobs), n_tasks)
    raise ValueError(f"The 'n_jobs' parameter of select must be None, -1 or an int >= 1; got {n_jobs!r}.")


def _warn_about(table: tuple[Candidate, ...], best: int, floor_factor: float) -> None:
    def names(rows: list[Candidate]) -> str:
        return ", ".join(f"{c.n_components} {c.covariance_type}" for c in rows)

    failed = [c for c in table if c.error is not None]
    if failed:
        warnings.warn(f"{len(failed)} of {len(table)} candidates failed and are not ranked ({names(failed)}); "
                      f"the table says why, e.g. {failed[0].error}", UserWarning, stacklevel=3)
    floored = [c for c in table if c.error is None and c.at_floor]
    if floored:
        chosen = " The best candidate is one of them: every fitted candidate is." if table[best].at_floor else ""
        warnings.warn(f"{len(floored)} candidate(s) have a component whose variance is below {floor_factor:g} x "
                      f"reg_covar, collapsed onto a few values, and are not chosen as the best: {names(floored)}."
                      f"{chosen} Increase reg_covar or check for duplicated or discrete values.",
                      DegenerateComponentWarning, stacklevel=3)
    slow = [c for c in table if c.error is None and not c.converged]
    if slow:
        warnings.warn(f"{len(slow)} candidate(s) did not converge within max_iter: {names(slow)}. Their criteria "
                      "may be too pessimistic; increase max_iter.", ConvergenceWarning, stacklevel=3)

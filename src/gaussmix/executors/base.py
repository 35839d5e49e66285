"""The executor interface, one map-reduce over row blocks, and the passes over the data built on it.

An executor maps a function over the row blocks of a source and combines the results: in this process
(``local.executor``) or on Dask workers (``dask.executor``). The E-step statistics and weighted row means are
a block function and a combine handed to ``map_reduce``, written once here; the initialisation sample is in
``sampling``. Block functions are module-level, so they pickle for Dask worker processes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from operator import add
from typing import Any

import numpy as np

from ..core.estep import chunk_stats, estep_plan
from ..core.params import GaussianParams
from ..core.stats import SufficientStats

#: ``block_function(X, sample_weight, offset, *args)`` of one block: its rows, their weights or None, its first row.
BlockFunction = Callable[..., Any]


#: ``map_reduce``'s default ``empty``: a source with no blocks is an error.
NO_BLOCKS = object()


def no_blocks(empty: Any) -> Any:
    """What ``map_reduce`` returns for a source with no blocks: ``empty``, or a ValueError if it was not given."""
    if empty is NO_BLOCKS:
        raise ValueError("The data source has no rows.")
    return empty


@dataclass(frozen=True, slots=True)
class Executor:
    """How the blocks of one kind of source are mapped; every pass over the data is a caller of these.

    - ``map_reduce(source, block_function, combine, args, empty=)``: ``block_function(X, w, offset, *args)`` on
      every block, the results combined by ``combine(*results)`` (associative, called in block order) into one
      value; a source with no blocks gives ``empty``, or raises ValueError without it.
    - ``map_rows(source, row_function)``: ``row_function(X)`` of every block, concatenated in row order (a lazy
      Dask array on Dask).
    - ``share(value)``: a per-pass value (the params) as ``args`` should carry it, sent once per pass.
    - ``with_weights(source, sample_weight)``: the source with its blocks carrying the (checked) weights.
    - ``rows_per_call``: the most rows a block function hands the E-step at once (None: whole blocks).
    """

    map_reduce: Callable[..., Any]
    map_rows: Callable[[Any, Callable[[Any], Any]], Any]
    share: Callable[[Any], Any]
    with_weights: Callable[[Any, Any], Any]
    rows_per_call: int | None = None


def accumulator(executor: Executor, source: Any,
                worst_rows: bool = True) -> Callable[[GaussianParams], SufficientStats]:
    """``accumulate(params)``: one pass of E-step statistics over the source, summed (for ``run_em``).

    The params and the pass's density plan (for the source's dtype) are prepared once and shared by every block.
    ``worst_rows=False``: a lean pass, which may leave out the worst-explained rows (``run_em``'s ``lean``).
    """

    def accumulate(params: GaussianParams) -> SufficientStats:
        shared = executor.share((params, estep_plan(params, source.dtype)))
        return executor.map_reduce(source, _block_stats, _sum_stats, (shared, executor.rows_per_call, worst_rows))

    return accumulate


def _block_stats(X: Any, sample_weight: Any, offset: int, shared: tuple, rows: int | None,
                 worst_rows: bool = True) -> SufficientStats:
    """Statistics of one block, summed over calls of at most ``rows`` rows (a bounded working set)."""
    params, plan = shared
    n = int(X.shape[0])
    if n == 0:
        return SufficientStats.zeros(params.n_components, params.n_features, params.covariance_type, params.means)
    step = rows or n
    parts = (chunk_stats(X[s:s + step], params, None if sample_weight is None else sample_weight[s:s + step],
                         offset + s, plan=plan, worst_rows=worst_rows) for s in range(0, n, step))
    return reduce(add, parts)


def _sum_stats(*stats: SufficientStats) -> SufficientStats:
    return reduce(add, stats)


def mean_of_rows(executor: Executor, source: Any, row_function: Callable[[Any], Any]) -> tuple[float, float]:
    """The (weighted) mean of a per-row value ``row_function(X)`` (rows,) over all rows, and Σw, in one pass."""
    total, n = executor.map_reduce(source, _block_weighted_sum, _sum_pairs, (row_function,))
    if n <= 0:
        raise ValueError("The data source has no rows." if total == 0 else "sample_weight sums to zero.")
    return total / n, n


def _block_weighted_sum(X: Any, sample_weight: Any, offset: int, row_function: Callable) -> tuple[float, float]:
    values = np.asarray(row_function(X), dtype=np.float64)
    if sample_weight is None:
        return float(np.sum(values)), float(values.shape[0])
    return float(sample_weight @ values), float(np.sum(sample_weight))


def _sum_pairs(*pairs: tuple[float, float]) -> tuple[float, float]:
    return sum(p[0] for p in pairs), sum(p[1] for p in pairs)

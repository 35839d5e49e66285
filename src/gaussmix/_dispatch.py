"""Which source and executor serve an input: arrays in memory, files streamed from disk, Dask collections.

Files become ``open_data`` sources and arrays ``ArraySource``s, mapped in this process; Dask collections become a
``DaskSource`` mapped on the workers. ``executor_for`` is the one choice between them; every pass below is the
same call on either executor, so the EM loop and the estimator never know which.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np

from . import _validation as check
from .executors import base
from .executors import dask as dask_executor
from .executors import local as local_executor
from .executors.base import Executor
from .executors.dask import DaskSource, check_weight_block, dask_source, is_dask_collection
from .executors.local import ArraySource, ChunkSource, WeightedSource, default_chunk_rows
from .executors.sampling import sample_rows
from .executors.shared import SharedSource
from .io.sources import FileSource, open_data

#: Rows the initialisation sees when the data is streamed and ``init_sample_size`` is None.
DEFAULT_INIT_SAMPLE = 200_000


def is_streamed(X: Any) -> bool:
    """True for a path, a ChunkSource other than an in-memory ArraySource, or a Dask collection."""
    return (isinstance(X, (str, os.PathLike)) or is_dask_collection(X)
            or (isinstance(X, ChunkSource) and not isinstance(X, ArraySource)))


def streamed_source(X: Any, sample_weight: Any, *, chunk_rows: int | None, n_components: int,
                    persist: bool = True, allow_nan: bool = False) -> ChunkSource:
    """The ChunkSource for a path (opened with ``open_data``), a ChunkSource, or a Dask collection.

    ``sample_weight`` (one entry per row, or None) rides along with the blocks; a file's own weight column is
    chosen with ``open_data(path, sample_weight_column=...)`` instead. ``chunk_rows`` None lets a file choose its
    read size, and Dask tasks bound their E-step calls by K and D. ``persist`` holds Dask data in worker memory
    (fit); row-wise methods leave it lazy. ``allow_nan`` lets NaN (missing values) through every source's block
    check: the estimator's ``missing`` option, decided here once for files and Dask alike.
    """
    if is_dask_collection(X):
        columns = getattr(X, "columns", None)
        names = tuple(columns) if columns is not None and all(isinstance(c, str) for c in columns) else None
        n_features = int(X.shape[1]) if columns is None else len(columns)
        weights = sample_weight
        if weights is not None and not is_dask_collection(weights):
            weights = np.asarray(weights, dtype=np.float64)  # its length is checked against X's row chunks
            check.check_sample_weight(weights, weights.shape[0] if weights.ndim == 1 else -1)
        return dask_source(X, weights, chunk_rows=chunk_rows or default_chunk_rows(n_features, n_components),
                           check_rows=partial(_check_rows, names, allow_nan), check_weights=check_weight_block,
                           persist=persist)
    source = open_data(X, chunk_rows=chunk_rows) if isinstance(X, (str, os.PathLike)) else X
    if isinstance(source, FileSource) and source.allow_nan != allow_nan:
        source = replace(source, allow_nan=allow_nan)
    return source if sample_weight is None else WeightedSource(source, _weights_for(source, sample_weight))


def _check_rows(feature_names: tuple[str, ...] | None, allow_nan: bool, block: np.ndarray,
                row_offset: int) -> None:
    check.check_finite(block, "X", feature_names, row_offset, allow_nan=allow_nan)


def _weights_for(source: ChunkSource, sample_weight: Any) -> np.ndarray:
    if source.n_rows is not None:
        weights = check.check_sample_weight(sample_weight, source.n_rows)
    else:
        w = np.asarray(sample_weight, dtype=np.float64)
        weights = check.check_sample_weight(w, w.shape[0] if w.ndim == 1 else -1)
    assert weights is not None  # streamed_source asks only for weights that were given
    return weights


def executor_for(source: ChunkSource) -> Executor:
    """The executor that maps the source's blocks: on the Dask workers for a DaskSource, the group's shared
    passes for a SharedSource (model selection fitting candidates together), else in this process."""
    if isinstance(source, SharedSource):
        return source.shared.executor
    return dask_executor.executor(source) if isinstance(source, DaskSource) else local_executor.executor()


def fit_threads(source: ChunkSource) -> contextlib.AbstractContextManager:
    """The thread limits a whole fit over the source runs under: single-threaded BLAS for NumPy rows mapped in
    this process (see ``local.single_threaded_fit``); Dask workers set their own."""
    return contextlib.nullcontext() if isinstance(source, DaskSource) else local_executor.single_threaded_fit(source)


def accumulator(source: ChunkSource, worst_rows: bool = True) -> Callable:
    """``accumulate(params)`` over the source: one pass of E-step statistics, on the executor that serves it
    (``worst_rows=False``: a lean pass that may leave out the worst-explained rows, see ``run_em``)."""
    return base.accumulator(executor_for(source), source, worst_rows)


def init_sample(source: ChunkSource, size: int | None,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
    """A uniform sample of rows (and their weights) for the initialisation, in one pass over the source."""
    X, weights, _ = sample_rows(executor_for(source), source, size or DEFAULT_INIT_SAMPLE, rng)
    return X, weights


def map_rows(source: ChunkSource, row_function: Callable[[Any], Any]) -> Any:
    """``row_function`` over every block in row order: a lazy Dask array for Dask input, else an array."""
    return executor_for(source).map_rows(source, row_function)


def mean_of_rows(source: ChunkSource, row_function: Callable[[Any], Any],
                 sample_weight: Any = None) -> tuple[float, float]:
    """The (weighted) mean of a per-row value over all rows, and the (weighted) row count, in one pass."""
    executor = executor_for(source)
    if sample_weight is not None:  # a Dask array of weights is checked block by block as it computes
        weights = sample_weight if is_dask_collection(sample_weight) else _weights_for(source, sample_weight)
        source = executor.with_weights(source, weights)
    return base.mean_of_rows(executor, source, row_function)


def check_rows_source(source: ChunkSource, n_features: int, fitted_names: Any, owner: str) -> ChunkSource:
    """The source, if its columns match the fitted model's: same count, and same names when both have names."""
    if source.n_features != n_features:
        raise ValueError(f"X has {source.n_features} features, but {owner} is expecting {n_features} features "
                         "as input.")
    names = source.feature_names
    if names is not None and fitted_names is not None and tuple(fitted_names) != tuple(names):
        raise ValueError(f"X has feature names {list(names)}, but {owner} was fitted with {list(fitted_names)}.")
    return source

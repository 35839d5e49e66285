"""Which source and executor serve an input: arrays in memory, files streamed from disk, Dask collections.

The estimator asks this module only for inputs that are not in-memory arrays (``is_streamed``); arrays keep the
estimator's own path. Files become ``open_data`` sources mapped in this process; Dask collections become a
``DaskSource`` mapped on the workers. Both meet the ``ChunkSource`` protocol, so the EM loop never knows which.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, Iterator

import numpy as np

from . import _validation as check
from .executors.dask import DaskSource, dask_accumulator, dask_map_rows, dask_sample, dask_source, \
    dask_weighted_sum, is_dask_collection
from .executors.local import ArraySource, Chunk, ChunkSource, default_chunk_rows, local_accumulator
from .executors.local import map_rows as local_map_rows
from .executors.sampling import reservoir_sample
from .io.sources import open_data

#: Rows the initialisation sees when the data is streamed and ``init_sample_size`` is None.
DEFAULT_INIT_SAMPLE = 200_000


def is_streamed(X: Any) -> bool:
    """True for a path, a ChunkSource other than an in-memory ArraySource, or a Dask collection."""
    return (isinstance(X, (str, os.PathLike)) or is_dask_collection(X)
            or (isinstance(X, ChunkSource) and not isinstance(X, ArraySource)))


def streamed_source(X: Any, sample_weight: Any, *, chunk_rows: int | None, n_components: int,
                    persist: bool = True) -> ChunkSource:
    """The ChunkSource for a path (opened with ``open_data``), a ChunkSource, or a Dask collection.

    ``sample_weight`` (one entry per row, or None) rides along with the blocks; a file's own weight column is
    chosen with ``open_data(path, sample_weight_column=...)`` instead. ``chunk_rows`` None lets a file choose its
    read size, and Dask tasks bound their E-step calls by K and D. ``persist`` holds Dask data in worker memory
    (fit); row-wise methods leave it lazy.
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
                           check_rows=partial(_check_rows, names), check_weights=_check_weights, persist=persist)
    source = open_data(X, chunk_rows=chunk_rows) if isinstance(X, (str, os.PathLike)) else X
    return source if sample_weight is None else WeightedSource(source, _weights_for(source, sample_weight))


def _check_rows(feature_names: tuple[str, ...] | None, block: np.ndarray, row_offset: int) -> None:
    check.check_finite(block, "X", feature_names, row_offset)


def _check_weights(block: np.ndarray, row_offset: int) -> None:
    bad = np.flatnonzero(~np.isfinite(block) | (block < 0))
    if bad.size:
        raise ValueError(f"sample_weight must be finite and non-negative; row {row_offset + bad[0]} holds "
                         f"{block[bad[0]]!r}.")


def _weights_for(source: ChunkSource, sample_weight: Any) -> np.ndarray:
    if source.n_rows is not None:
        return check.check_sample_weight(sample_weight, source.n_rows)
    w = np.asarray(sample_weight, dtype=np.float64)
    return check.check_sample_weight(w, w.shape[0] if w.ndim == 1 else -1)


@dataclass(frozen=True, eq=False)
class WeightedSource:
    """A source whose rows take their weights from an in-memory array, block by block."""

    source: ChunkSource
    sample_weight: np.ndarray

    def __getattr__(self, name: str) -> Any:  # n_features, feature_names, n_rows, dtype, path...
        if name == "source":  # not set yet (copy, unpickling): don't recurse
            raise AttributeError(name)
        return getattr(self.source, name)

    def chunks(self) -> Iterator[Chunk]:
        n = self.sample_weight.shape[0]
        end = 0
        for chunk in self.source.chunks():
            if chunk.sample_weight is not None:
                raise ValueError("sample_weight was given twice: as an argument and as a column of the data source.")
            end = chunk.offset + chunk.X.shape[0]
            if end > n:
                raise ValueError(f"sample_weight has {n} entries; X has more rows (at least {end}).")
            yield Chunk(chunk.offset, chunk.X, self.sample_weight[chunk.offset:end])
        if end != n:
            raise ValueError(f"sample_weight has {n} entries; X has {end} rows.")


def accumulator(source: ChunkSource) -> Callable:
    """``accumulate(params)`` over the source: on the Dask workers, or block by block in this process."""
    return dask_accumulator(source) if isinstance(source, DaskSource) else local_accumulator(source)


def init_sample(source: ChunkSource, size: int | None,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
    """A uniform sample of rows (and their weights) for the initialisation, in one pass over the source."""
    size = size or DEFAULT_INIT_SAMPLE
    sample = dask_sample if isinstance(source, DaskSource) else reservoir_sample
    X, weights, _ = sample(source, size, rng)
    return X, weights


def map_rows(source: ChunkSource, row_function: Callable[[Any], Any]) -> Any:
    """``row_function`` over every block in row order: a lazy Dask array for Dask input, else an array."""
    if isinstance(source, DaskSource):
        return dask_map_rows(source, row_function)
    return local_map_rows(source, row_function)


def mean_of_rows(source: ChunkSource, row_function: Callable[[Any], Any],
                 sample_weight: Any = None) -> tuple[float, float]:
    """The (weighted) mean of a per-row value over all rows, and the (weighted) row count, in one pass."""
    if isinstance(source, DaskSource):
        total, n = dask_weighted_sum(source, row_function, sample_weight)
        return total / n, n
    if sample_weight is not None:
        source = WeightedSource(source, _weights_for(source, sample_weight))
    total, n = 0.0, 0.0
    for chunk in source.chunks():
        values = np.asarray(row_function(chunk.X), dtype=np.float64)
        w = chunk.sample_weight
        total += float(np.sum(values)) if w is None else float(w @ values)
        n += values.shape[0] if w is None else float(np.sum(w))
    if n <= 0:
        raise ValueError("The data source has no rows." if total == 0 else "sample_weight sums to zero.")
    return total / n, n


def check_rows_source(source: ChunkSource, n_features: int, fitted_names: Any, owner: str) -> ChunkSource:
    """The source, if its columns match the fitted model's: same count, and same names when both have names."""
    if source.n_features != n_features:
        raise ValueError(f"X has {source.n_features} features, but {owner} is expecting {n_features} features "
                         "as input.")
    names = source.feature_names
    if names is not None and fitted_names is not None and tuple(fitted_names) != tuple(names):
        raise ValueError(f"X has feature names {list(names)}, but {owner} was fitted with {list(fitted_names)}.")
    return source

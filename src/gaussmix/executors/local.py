"""The in-process executor: map the E-step over row blocks of an array or any ChunkSource, and sum."""

from __future__ import annotations

from dataclasses import dataclass
from functools import reduce
from operator import add
from typing import Any, Callable, Iterator, NamedTuple, Protocol, runtime_checkable

import numpy as np

from ..core.estep import chunk_stats
from ..core.params import GaussianParams
from ..core.stats import SufficientStats

#: Target bytes of the per-block working set (the (rows, K) log-probabilities and the block itself).
BLOCK_BYTES = 4 * 2**20


class Chunk(NamedTuple):
    """One block of rows: its first global row, the rows (rows, n_features) and their weights (or None)."""

    offset: int
    X: Any
    sample_weight: Any


@runtime_checkable
class ChunkSource(Protocol):
    """Data read as row blocks, one pass per call of ``chunks()``; each block already checked for bad values."""

    n_features: int
    feature_names: tuple[str, ...] | None
    n_rows: int | None
    dtype: np.dtype

    def chunks(self) -> Iterator[Chunk]: ...


def default_chunk_rows(n_features: int, n_components: int) -> int:
    """Rows per block so that a block's (rows, K) and (rows, D) float64 arrays take about BLOCK_BYTES."""
    per_row = 8 * (2 * n_components + 2 * n_features + 4)
    return int(np.clip(BLOCK_BYTES // per_row, 256, 65536))


@dataclass(frozen=True, slots=True, eq=False)
class ArraySource:
    """An in-memory (already validated) array seen as a ChunkSource of ``chunk_rows``-row views."""

    X: Any
    sample_weight: Any = None
    chunk_rows: int = 8192
    feature_names: tuple[str, ...] | None = None

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_rows(self) -> int:
        return int(self.X.shape[0])

    @property
    def dtype(self) -> Any:
        return self.X.dtype

    def chunks(self) -> Iterator[Chunk]:
        for start in range(0, self.n_rows, self.chunk_rows):
            stop = min(start + self.chunk_rows, self.n_rows)
            w = None if self.sample_weight is None else self.sample_weight[start:stop]
            yield Chunk(start, self.X[start:stop], w)


def local_accumulator(source: ChunkSource) -> Callable[[GaussianParams], SufficientStats]:
    """``accumulate(params)``: one pass over the source's blocks in this process, statistics summed in order."""

    def accumulate(params: GaussianParams) -> SufficientStats:
        zero = SufficientStats.zeros(params.n_components, params.n_features, params.covariance_type, params.means)
        return reduce(add, (chunk_stats(c.X, params, c.sample_weight, c.offset) for c in source.chunks()), zero)

    return accumulate


def map_rows(source: ChunkSource, row_function: Callable[[Any], Any]) -> Any:
    """Apply a row-wise function to every block and concatenate the results in row order."""
    parts = [row_function(c.X) for c in source.chunks()]
    if not parts:
        raise ValueError("The data source has no rows.")
    if isinstance(parts[0], np.ndarray):
        return np.concatenate(parts, axis=0)
    from ..core.namespace import array_namespace

    return array_namespace(parts[0]).concat(parts, axis=0)

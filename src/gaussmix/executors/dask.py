"""The Dask executor: one E-step task per block of a persisted dask array, a tree of +, params sent once a pass.

The only module that imports dask. X is checked and persisted once per fit; every EM iteration then sends the
parameters to the cluster once (one graph key that every task references, fetched once by each worker), runs
:func:`~gaussmix.core.estep.chunk_stats` on each block where it is held, adds the statistics in a tree of fixed
fan-in and brings one ``SufficientStats`` back for the M-step. Every function sent to a worker is module-level,
so it pickles for worker processes.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import numpy as np

from ..core.chunks import Chunk
from ..core.params import GaussianParams
from ..core.stats import SufficientStats
from .base import NO_BLOCKS, Executor, accumulator, no_blocks
from .sampling import sample_rows

#: Fan-in of the tree that adds the blocks' statistics (as ``split_every`` in dask's reductions).
SPLIT_EVERY = 8

#: ``check(block, row_offset)`` raises, naming the global row, if a block of X (or of weights) is not valid.
BlockCheck = Callable[[np.ndarray, int], None]


def _import_dask() -> tuple[Any, Any]:
    try:
        import dask
        import dask.array as da
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError('Fitting on Dask collections needs dask: pip install "gaussmix[dask]"') from exc
    return dask, da


def is_dask_collection(obj: Any) -> bool:
    """True for a Dask array or DataFrame; never imports dask (an object can't be one unless dask is loaded)."""
    if "dask" not in sys.modules or not hasattr(obj, "__dask_graph__"):
        return False
    return type(obj).__module__.split(".")[0] in ("dask", "dask_expr")


@dataclass(frozen=True, eq=False)
class DaskSource:
    """Rows held as a Dask array: one chunk across the columns, known row chunks, checked as blocks compute.

    ``client`` is the distributed Client in effect when the source was made (None for the local schedulers);
    ``chunk_rows`` bounds the rows one E-step call sees inside a task, so a task's working set stays small.
    Meets the ``ChunkSource`` protocol too: ``chunks()`` computes the blocks one at a time, in row order.
    """

    X: Any
    sample_weight: Any
    feature_names: tuple[str, ...] | None
    chunk_rows: int
    client: Any = None

    @property
    def n_features(self) -> int:
        return int(self.X.shape[1])

    @property
    def n_rows(self) -> int:
        return int(self.X.shape[0])

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.X.dtype)

    @property
    def offsets(self) -> tuple[int, ...]:
        """Global index of the first row of every block."""
        return tuple(int(v) for v in np.cumsum((0,) + self.X.chunks[0][:-1]))

    def chunks(self) -> Iterator[Chunk]:
        dask, _ = _import_dask()
        for i, offset in enumerate(self.offsets):
            blocks = [self.X.blocks[i]] + ([] if self.sample_weight is None else [self.sample_weight.blocks[i]])
            computed = self.client.compute(blocks, sync=True) if self.client is not None else dask.compute(*blocks)
            yield Chunk(offset, computed[0], computed[1] if len(computed) > 1 else None)


def dask_source(
    X: Any, sample_weight: Any = None, *, chunk_rows: int, check_rows: BlockCheck | None = None,
    check_weights: BlockCheck | None = None, persist: bool = True,
) -> DaskSource:
    """A :class:`DaskSource` over a Dask array or DataFrame of numeric columns, and optional row weights.

    Each block is cast to float64 (float32 stays float32) and passed to ``check_rows(block, row_offset)`` as it
    computes, so bad values are reported by global row without a separate pass. With ``persist`` (fit) the
    checked X is held in worker memory, computed once; without it (predict) the result stays lazy.
    ``sample_weight`` is a NumPy array (already checked) or a Dask array, aligned to X's row blocks.
    """
    dask, da = _import_dask()
    feature_names = None
    if hasattr(X, "to_dask_array"):  # a Dask DataFrame: numeric columns only, named in the error if not
        feature_names = _checked_columns(X)
        X = X.to_dask_array(lengths=None if persist else True)  # fit: sizes after persisting, for free
    if not isinstance(X, da.Array):
        raise TypeError(f"Expected a dask Array or DataFrame; got {type(X).__name__}.")
    if X.ndim != 2:
        raise ValueError(f"Expected a 2D array for X, got a {X.ndim}D dask array of shape {X.shape}.")
    dtype = _float_dtype(X.dtype)
    if X.numblocks[1] > 1:
        X = X.rechunk({1: -1})
    if any(np.isnan(c) for c in X.chunks[0]):
        # Row offsets are needed to name bad rows: hold the raw blocks first, then their sizes cost nothing.
        X = X.persist() if persist else X
        X.compute_chunk_sizes()
    if X.shape[0] == 0:
        raise ValueError(f"Found array with 0 sample(s) (shape={X.shape}) in X; at least 1 is required.")
    if X.shape[1] == 0:
        raise ValueError(f"Found array with 0 feature(s) (shape={X.shape}) in X; at least 1 is required.")
    X = X.map_blocks(_checked_block, dtype=dtype, check=check_rows, cast=dtype, meta=np.empty((0, 0), dtype))
    weights = None if sample_weight is None else _aligned_weights(da, sample_weight, X, check_weights)
    if persist:
        X, weights = dask.persist(X, weights)
    return DaskSource(X, weights, feature_names, int(chunk_rows), _distributed_client(dask))


def _checked_columns(frame: Any) -> tuple[str, ...] | None:
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    for column, dtype in frame.dtypes.items():
        if not (is_numeric_dtype(dtype) or is_bool_dtype(dtype)) or str(dtype).startswith("complex"):
            raise TypeError(f"X column {column!r} is not numeric (dtype {dtype}); choose numeric columns.")
    names = list(frame.columns)
    return tuple(names) if names and all(isinstance(c, str) for c in names) else None


def _float_dtype(dtype: Any) -> np.dtype:
    dtype = np.dtype(dtype)
    if dtype.kind == "c":
        raise ValueError(f"Complex data not supported: X has dtype {dtype}.")
    if dtype.kind not in "iubf":
        raise TypeError(f"X must be numeric; got a dask array of dtype {dtype}.")
    return dtype if dtype in (np.float32, np.float64) else np.dtype(np.float64)


def _checked_block(block: np.ndarray, check: BlockCheck | None, cast: np.dtype, block_info: Any = None) -> np.ndarray:
    """A block cast to the fit's dtype (no copy if it already is), checked with its global row offset."""
    out = np.ascontiguousarray(block, dtype=cast)
    if check is not None and out.size:
        check(out, int(block_info[None]["array-location"][0][0]))
    return out


def _aligned_weights(da: Any, sample_weight: Any, X: Any, check: BlockCheck | None) -> Any:
    """Weights as a Dask array with X's row blocks, checked block by block if they were not in memory."""
    if not isinstance(sample_weight, da.Array):
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
    if sample_weight.ndim != 1:
        raise ValueError(f"sample_weight must be 1-D; got shape {sample_weight.shape}.")
    if any(np.isnan(c) for c in getattr(sample_weight, "chunks", ((0,),))[0]):
        sample_weight = sample_weight.persist()
        sample_weight.compute_chunk_sizes()
    if sample_weight.shape[0] != X.shape[0]:
        raise ValueError(f"sample_weight has {sample_weight.shape[0]} entries; X has {X.shape[0]} rows.")
    if isinstance(sample_weight, np.ndarray):  # checked at the edge already
        return da.from_array(sample_weight, chunks=(X.chunks[0],))
    w = sample_weight.rechunk((X.chunks[0],))
    return w.map_blocks(_checked_block, dtype=np.float64, check=check, cast=np.dtype(np.float64),
                        meta=np.empty((0,), np.float64))


def _distributed_client(dask: Any) -> Any:
    """The distributed Client that dask would compute on now, or None for the local schedulers."""
    if "distributed" not in sys.modules:
        return None
    from distributed import Client

    scheduler = dask.base.get_scheduler()
    client = getattr(scheduler, "__self__", None)
    return client if isinstance(client, Client) else None


# -- the executor: one task per block, a tree of combines ---------------------------------------------------

def executor(source: DaskSource, split_every: int = SPLIT_EVERY) -> Executor:
    """The Dask executor for ``source``: block tasks where the blocks are held, a tree of fan-in ``split_every``.

    A block function sees at most ``source.chunk_rows`` rows per E-step call, so a task's working set stays small.
    """
    return Executor(map_reduce=partial(map_reduce, split_every=split_every), map_rows=map_rows, share=share,
                    with_weights=with_weights, rows_per_call=source.chunk_rows)


def dask_accumulator(source: DaskSource, split_every: int = SPLIT_EVERY) -> Callable[[GaussianParams], SufficientStats]:
    """``accumulate(params)``: one E-step task per block of the persisted X, a tree of ``+``, one result back.

    The parameters (with the pass's density plan) travel once per call, as one graph key all tasks share (never
    embedded in each task); each task runs where its block is held. Worst-row indices are global.
    """
    return accumulator(executor(source, split_every), source)


def dask_sample(source: DaskSource, size: int, rng: np.random.Generator,
                split_every: int = SPLIT_EVERY) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """A uniform sample of ``size`` rows without replacement, drawn where the blocks live (``sample_rows``)."""
    return sample_rows(executor(source, split_every), source, size, rng)


def share(value: Any) -> Any:
    """``value`` as one graph key that every task of a pass references: sent once, fetched once per worker.

    Unlike ``client.scatter``ed data, a graph key is recomputed if the worker holding it dies
    (``scatter(..., broadcast=True)`` also hung in its replicate step when a worker died during it).
    """
    dask, _ = _import_dask()
    return dask.delayed(value, traverse=False, name=f"gaussmix-params-{uuid.uuid4().hex}")


def with_weights(source: DaskSource, sample_weight: Any) -> DaskSource:
    """The source with its blocks carrying ``sample_weight`` (NumPy, checked; or a Dask array, checked per block)."""
    _, da = _import_dask()
    return replace(source, sample_weight=_aligned_weights(da, sample_weight, source.X, check_weight_block))


def check_weight_block(block: np.ndarray, row_offset: int) -> None:
    """Raise, naming the global row, if a block of weights holds a negative or non-finite value."""
    bad = np.flatnonzero(~np.isfinite(block) | (block < 0))
    if bad.size:
        raise ValueError(f"sample_weight must be finite and non-negative; row {row_offset + bad[0]} holds "
                         f"{block[bad[0]]!r}.")


def map_reduce(source: DaskSource, block_function: Callable, combine: Callable, args: tuple = (), *,
               empty: Any = NO_BLOCKS, split_every: int = SPLIT_EVERY) -> Any:
    """``block_function(X, w, offset, *args)`` on every block, on the worker holding it; results combined in a tree
    of fan-in ``split_every``; the root computed on the source's scheduler and returned.

    ``args`` may hold ``share``d values, such as the params. A source with no blocks gives ``empty`` (or raises).
    """
    dask, _ = _import_dask()
    delayed = partial(dask.delayed, pure=False)
    blocks = source.X.to_delayed().ravel().tolist()
    if not blocks:
        return no_blocks(empty)
    weights = [None] * len(blocks) if source.sample_weight is None else source.sample_weight.to_delayed().tolist()
    near = _holders(source)
    parts = []
    for X, w, offset in zip(blocks, weights, source.offsets):
        with dask.annotate(**near(X.key)):
            parts.append(delayed(block_function)(X, w, offset, *args))
    while len(parts) > 1:
        parts = [delayed(combine)(*parts[i:i + split_every]) for i in range(0, len(parts), split_every)]
    if source.client is not None:  # unoptimised, so that the tasks keep their placement annotations
        return source.client.compute(parts[0], sync=True, optimize_graph=False)
    return dask.compute(parts[0])[0]


def _holders(source: DaskSource) -> Callable[[Any], dict[str, Any]]:
    """Task annotations that run a block's task where the block is held (any worker if that one is gone).

    Without them the scheduler balances queues by moving 10-100 MB blocks between workers every iteration.
    """
    if source.client is None:
        return lambda key: {}
    who_has = source.client.who_has(source.X)

    def near(key: Any) -> dict[str, Any]:
        workers = who_has.get(key)
        return {"workers": list(workers), "allow_other_workers": True} if workers else {}

    return near


# -- row-wise results -----------------------------------------------------------------------------------------

def map_rows(source: DaskSource, row_function: Callable[[np.ndarray], np.ndarray]) -> Any:
    """A lazy Dask array of ``row_function`` applied to every block (rows stay aligned with X's blocks).

    The output's trailing shape and dtype come from calling ``row_function`` on one row of zeros.
    """
    probe = np.asarray(row_function(np.zeros((1, source.n_features), dtype=source.dtype)))
    meta = np.empty((0,) * probe.ndim, dtype=probe.dtype)
    if probe.ndim == 1:
        return source.X.map_blocks(row_function, drop_axis=1, chunks=(source.X.chunks[0],), dtype=probe.dtype,
                                   meta=meta)
    trailing = tuple((n,) for n in probe.shape[1:])
    return source.X.map_blocks(row_function, chunks=(source.X.chunks[0], *trailing), dtype=probe.dtype, meta=meta)

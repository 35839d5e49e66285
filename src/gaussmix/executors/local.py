"""The in-process executor: map a function over row blocks of an array or any ChunkSource on threads, and combine."""

from __future__ import annotations

import contextlib
import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial, reduce
from typing import Any, TypeVar

import numpy as np

from ..core.chunks import Chunk, ChunkSource  # re-exported: callers still import them from here
from ..core.params import GaussianParams
from ..core.stats import SufficientStats
from ..core.threads import single_threaded_blas as _single_threaded_blas
from ..core.threads import usable_cores
from .base import NO_BLOCKS, BlockFunction, Executor, accumulator, no_blocks

#: Target bytes of a block: its rows, per-row values and a (rows, K) result of a row-wise method.
BLOCK_BYTES = 16 * 2**20
#: Fewest and most rows of a block. Each block costs ~1-2 ms beyond its rows (its statistics object, the
#: split-invariant re-ranking of its worst rows, a hand-off between threads): 8,192-row blocks gave a 200,000-row
#: pass 26 of them and cost diag D = 32, K = 64 some 25% of its time (0.17 vs 0.12-0.13 s per iteration with
#: 25,000-row blocks); the fast E-step works in cache-sized sub-blocks whatever the block's length.
MIN_BLOCK_ROWS, MAX_BLOCK_ROWS = 256, 65536
#: Data of fewer rows than this per thread stay one block: a hand-off costs more than the thread would save.
SPLIT_MIN_ROWS = 2048

R = TypeVar("R")


def default_chunk_rows(n_features: int, n_components: int, n_rows: int | None = None) -> int:
    """Rows per block: about BLOCK_BYTES of the block's rows, per-row values and one (rows, K) float32 result.

    The fast E-step works through a block in cache-sized sub-blocks, so a block only needs to be large enough
    to amortise its fixed costs and small enough that two threads share the blocks evenly. Given ``n_rows``,
    the blocks are made equal and their number a multiple of the threads: 7,943 + 2,057 rows (D = 256) left one
    core idle for half the pass.
    """
    per_row = 8 * (n_features + 4) + 4 * n_components
    rows = int(np.clip(BLOCK_BYTES // per_row, MIN_BLOCK_ROWS, MAX_BLOCK_ROWS))
    workers = default_workers()
    if n_rows is None or n_rows < workers * SPLIT_MIN_ROWS and n_rows <= rows:
        return rows
    blocks = max(-(-n_rows // rows), workers)
    blocks = -(-blocks // workers) * workers
    return -(-n_rows // blocks)


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


@dataclass(frozen=True, eq=False)
class WeightedSource:
    """A source whose rows take their weights from an in-memory array (checked, one per row), block by block."""

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


def executor(n_workers: int | None = None) -> Executor:
    """The in-process executor: blocks mapped on ``n_workers`` threads (default: the usable cores)."""
    return Executor(map_reduce=partial(map_reduce, n_workers=n_workers),
                    map_rows=partial(map_rows, n_workers=n_workers), share=_same, with_weights=WeightedSource)


def _same(value: Any) -> Any:
    return value


def local_accumulator(
    source: ChunkSource, n_workers: int | None = None
) -> Callable[[GaussianParams], SufficientStats]:
    """``accumulate(params)``: one pass over the source's blocks in this process, statistics summed in row order.

    NumPy blocks are mapped on ``n_workers`` threads (default: the usable cores), each with single-threaded BLAS;
    NumPy and BLAS release the GIL, and summing in block order keeps the result independent of the thread count.
    """
    return accumulator(executor(n_workers), source)


def map_reduce(source: ChunkSource, block_function: BlockFunction, combine: Callable[..., R], args: tuple = (),
               *, empty: Any = NO_BLOCKS, n_workers: int | None = None) -> R:
    """``block_function(X, w, offset, *args)`` of every block (on threads, as ``map_blocks``), folded in block
    order: ``combine(combine(r0, r1), r2)``..., so the result does not depend on the thread count.

    A source with no blocks gives ``empty``, or raises ValueError when it is not given.
    """
    results = map_blocks(lambda c: block_function(c.X, c.sample_weight, c.offset, *args), source.chunks(), n_workers)
    try:
        first = next(results)
    except StopIteration:
        return no_blocks(empty)
    return reduce(combine, results, first)


def map_rows(source: ChunkSource, row_function: Callable[[Any], Any], n_workers: int | None = None) -> Any:
    """Apply a row-wise function to every block (on threads, as ``map_blocks``) and concatenate in row order."""
    parts = list(map_blocks(lambda c: row_function(c.X), source.chunks(), n_workers))
    if not parts:
        raise ValueError("The data source has no rows.")
    if isinstance(parts[0], np.ndarray):
        return np.concatenate(parts, axis=0)
    from ..core.namespace import array_namespace

    return array_namespace(parts[0]).concat(parts, axis=0)


def default_workers() -> int:
    """Threads for mapping blocks: the cores this process may run on, or 1 without threadpoolctl.

    Without threadpoolctl the BLAS thread count cannot be lowered, and threads × BLAS threads would oversubscribe.
    """
    try:
        import threadpoolctl  # noqa: F401  (optional extra "speed")
    except ImportError:
        return 1
    return usable_cores()


def map_blocks(function: Callable[[Chunk], R], chunks: Iterable[Chunk], n_workers: int | None = None) -> Iterator[R]:
    """``function`` of every block, yielded in block order; NumPy blocks run on up to ``n_workers`` threads.

    At most two blocks per thread are in flight, so a source that reads from disk holds a bounded number of
    blocks in memory. CPU tensors are mapped the same way with one torch thread each; GPU tensors (their library
    manages its own parallelism) in this thread.
    """
    n_workers = default_workers() if n_workers is None else n_workers
    chunks = iter(chunks)
    head = list(itertools.islice(chunks, 2))
    single_threaded = _single_threaded_kernels(head[0].X) if head else None
    if single_threaded is None:
        yield from map(function, itertools.chain(head, chunks))
        return
    if n_workers <= 1 or len(head) < 2:
        # The fast E-step's GEMMs are cache-sized: threaded BLAS only adds synchronisation on them.
        with single_threaded:
            yield from map(function, itertools.chain(head, chunks))
        return
    with single_threaded, ThreadPoolExecutor(n_workers) as pool:
        pending: deque = deque()
        for chunk in itertools.chain(head, chunks):
            pending.append(pool.submit(function, chunk))
            if len(pending) >= 2 * n_workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def single_threaded_fit(source: Any) -> contextlib.AbstractContextManager:
    """The BLAS limit for a whole fit over a NumPy source mapped here: the E-step's blocks already run one BLAS
    thread each, and a threaded M-step between passes left OpenBLAS threads spinning on the cores the next pass
    wanted (D = 256: 0.56 s per iteration, 0.29 s with one BLAS thread throughout)."""
    try:
        numpy_rows = np.dtype(source.dtype).char in "fd"
    except TypeError:  # a torch dtype: tensors manage their own threads
        numpy_rows = False
    return _single_threaded_blas() if numpy_rows else contextlib.nullcontext()


def _single_threaded_kernels(X: Any) -> contextlib.AbstractContextManager | None:
    """How blocks of X run one per thread: NumPy with single-threaded BLAS, CPU tensors with one torch thread
    and single-threaded BLAS (their E-step runs NumPy's kernel on their memory); None for other arrays (GPU
    tensors), which keep their library's own parallelism and run in this thread."""
    if isinstance(X, np.ndarray):
        return _single_threaded_blas()
    if type(X).__module__.startswith("torch") and getattr(X.device, "type", None) == "cpu":
        return _single_threaded_cpu_tensors()
    return None


@contextlib.contextmanager
def _single_threaded_cpu_tensors() -> Iterator[None]:
    with _single_threaded_torch(), _single_threaded_blas():
        yield


@contextlib.contextmanager
def _single_threaded_torch() -> Iterator[None]:
    """torch's intra-op threads set to 1 for the pass (process-wide), then restored. Two intra-op threads on a
    busy 2-core machine took 35 s per iteration where blocks on two threads of one each took under 2."""
    import torch  # the blocks are tensors: torch is imported already

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)

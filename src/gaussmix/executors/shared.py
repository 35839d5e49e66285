"""Several fits sharing every pass over one source: each block is read once and serves every fit that waits.

Model selection over a file fits many candidates, each re-reading the file once per EM iteration. Here each
candidate runs its ordinary fit in its own thread on a ``SharedSource``; its passes (``map_reduce``: E-step
statistics, the initialisation sample, the scores) are requests to one ``SharedPasses``. When every fit still
running has a request waiting, one pass over the blocks calls every request's block function on each block,
and each fit gets its own combined result back. A fit that ends (converged, failed) leaves the group, so the
others do not wait for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ..core.chunks import Chunk, ChunkSource
from .base import NO_BLOCKS, Executor, no_blocks


@dataclass(eq=False)
class _Request:
    block_function: Callable[..., Any]
    combine: Callable[..., Any]
    args: tuple
    empty: Any
    result: Any = None
    error: BaseException | None = None
    done: bool = False


@dataclass(frozen=True)
class _Failed:
    """A block function's exception, carried through the combine to the one fit it belongs to."""

    error: BaseException


class SharedPasses:
    """One pass over ``source`` serves the waiting requests of ``n_fits`` fits running in threads.

    Each fit calls ``finished()`` when it ends, whatever the outcome; ``passes`` counts the passes made.
    """

    def __init__(self, source: ChunkSource, executor: Executor, n_fits: int) -> None:
        self.source, self.passes = source, 0
        self._executor = executor
        self._active = n_fits
        self._pending: list[_Request] = []
        self._lock = threading.Condition()
        self.executor = Executor(map_reduce=self._map_reduce, map_rows=executor.map_rows, share=executor.share,
                                 with_weights=executor.with_weights, rows_per_call=executor.rows_per_call)

    def finished(self) -> None:
        """One fit has ended: the others no longer wait for its requests."""
        with self._lock:
            self._active -= 1
            batch = self._take_batch()
        if batch:
            self._serve(batch)

    def _map_reduce(self, source: ChunkSource, block_function: Callable[..., Any], combine: Callable[..., Any],
                    args: tuple = (), *, empty: Any = NO_BLOCKS) -> Any:
        request = _Request(block_function, combine, args, empty)
        with self._lock:
            self._pending.append(request)
            batch = self._take_batch()
        if batch:
            self._serve(batch)
        with self._lock:
            while not request.done:
                self._lock.wait()
        if request.error is not None:
            raise request.error
        return request.result

    def _take_batch(self) -> list[_Request]:
        """The waiting requests, once every active fit has one (called holding the lock)."""
        if not self._pending or len(self._pending) < self._active:
            return []
        batch, self._pending = self._pending, []
        return batch

    def _serve(self, batch: list[_Request]) -> None:
        """One pass for the whole batch; each request gets its result or its error."""
        calls = tuple((r.block_function, r.args) for r in batch)
        combines = tuple(r.combine for r in batch)
        try:
            results = self._executor.map_reduce(self.source, _every_block_function, _Combined(combines), (calls,),
                                                empty=None)
            for i, r in enumerate(batch):
                value = no_blocks(r.empty) if results is None else results[i]
                if isinstance(value, _Failed):
                    r.error = value.error
                else:
                    r.result = value
        except Exception as exc:  # the source itself failed (bad data, I/O): every waiting fit sees it
            for r in batch:
                r.error = exc
        finally:
            with self._lock:
                self.passes += 1
                for r in batch:
                    r.done = True
                self._lock.notify_all()


def _every_block_function(X: Any, sample_weight: Any, offset: int, calls: tuple) -> tuple:
    out = []
    for function, args in calls:
        try:
            out.append(function(X, sample_weight, offset, *args))
        except Exception as exc:  # one fit's failure (it is reported to that fit alone)
            out.append(_Failed(exc))
    return tuple(out)


@dataclass(frozen=True)
class _Combined:
    combines: tuple

    def __call__(self, *results: tuple) -> tuple:
        return tuple(_combine_one(c, [r[i] for r in results]) for i, c in enumerate(self.combines))


def _combine_one(combine: Callable[..., Any], values: list) -> Any:
    failed = next((v for v in values if isinstance(v, _Failed)), None)
    return failed if failed is not None else combine(*values)


@dataclass(frozen=True, eq=False)
class SharedSource:
    """``source`` whose passes go through ``shared`` (see ``_dispatch.executor_for``); otherwise the same source."""

    source: ChunkSource
    shared: SharedPasses = field(repr=False)

    def __getattr__(self, name: str) -> Any:  # n_features, feature_names, n_rows, dtype, path...
        if name in ("source", "shared"):  # not set yet (copy, unpickling): don't recurse
            raise AttributeError(name)
        return getattr(self.source, name)

    def chunks(self) -> Iterator[Chunk]:
        return self.source.chunks()

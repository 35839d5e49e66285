"""A uniform random sample of rows without replacement, in one pass of any executor's ``map_reduce``.

Every row gets a uniform key that is a function of (seed, global row index) alone, the SplitMix64 output for that
row (Steele, Lea & Flood 2014, the generator of Java's SplittableRandom), and the sample is the ``size`` rows with
the smallest keys (random-key sampling). So the sample depends neither on how the rows are split into blocks nor on
the executor: a file and a Dask array of the same rows give the same sample from the same generator state. Used to
seed k-means++ and to pick re-seeding candidates from data too large for memory.
"""

from __future__ import annotations

import itertools
from functools import partial
from typing import Any, NamedTuple

import numpy as np

from .base import Executor
from .local import executor as local_executor

__all__ = ["reservoir_sample", "row_keys", "sample_rows"]

_GOLDEN, _MIX1, _MIX2 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def row_keys(seed: int, first_row: int, n_rows: int) -> np.ndarray:
    """Uniform keys in [0, 1), float64 (n_rows,), of rows ``first_row``... : the SplitMix64 outputs of ``seed``."""
    z = np.arange(first_row + 1, first_row + n_rows + 1, dtype=np.uint64) * _GOLDEN + np.uint64(seed)
    z = (z ^ (z >> np.uint64(30))) * _MIX1  # unsigned arithmetic wraps modulo 2**64, as SplitMix64 wants
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    z ^= z >> np.uint64(31)
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def sample_rows(executor: Executor, source: Any, size: int,
                rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Draw ``size`` rows uniformly at random without replacement in one pass: ``reservoir_sample`` on any executor.

    Returns the rows in increasing row order, their weights (None when no block carried weights) and their global
    indices (int64). Rows of zero weight are never drawn; weights do not tilt the draw.
    """
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size must be a positive integer; got {size!r}.")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}.")
    seed = int(rng.integers(2**63))
    held = executor.map_reduce(source, _block_sample, partial(_merge_samples, size), (size, seed), empty=None)
    if held is None:  # no blocks at all
        return np.empty((0, getattr(source, "n_features", 0))), None, np.empty(0, dtype=np.int64)
    held = _smallest(size, held)
    order = np.argsort(held.rows[0], kind="stable")
    return held.X[0][order], held.weights[0][order] if held.weighted else None, held.rows[0][order]


def reservoir_sample(
    source: Any, size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Draw ``size`` rows uniformly at random without replacement, reading ``source.chunks()`` once, in this process.

    Every row with positive weight gets a uniform key (see the module doc) and the sample is the ``size`` rows with
    the smallest keys, so every set of ``size`` such rows is equally likely; blocks are pruned to their ``size``
    smallest keys as they arrive and the held rows whenever they pass ``2 * size``, so memory stays about
    ``2 * size`` rows. Rows of zero weight are never drawn. Weights do not tilt the draw: they are returned with
    the rows, for the caller to use.

    Parameters
    ----------
    source : ChunkSource
        Anything whose ``chunks()`` yields blocks with ``offset``, ``X`` (rows, n_features) and
        ``sample_weight`` (rows,) or None, in row order.
    size : int
        Number of rows wanted; if the source has no more positive-weight rows than this, all of them come back.
    rng : numpy.random.Generator
        Source of randomness: one seed is drawn from it. Row keys depend on that seed and the row's index only, so
        the draw does not depend on how the source splits rows into blocks.

    Returns
    -------
    X_sample : ndarray of shape (n_sampled, n_features)
        The sampled rows, in increasing row order, of the source's dtype.
    sample_weight : ndarray of shape (n_sampled,) or None
        Their weights, or None when no block carried weights.
    rows : ndarray of shape (n_sampled,), int64
        Their global row indices.

    Examples
    --------
    >>> import numpy as np
    >>> from collections import namedtuple
    >>> Chunk = namedtuple("Chunk", "offset X sample_weight")
    >>> class Rows:
    ...     def chunks(self):
    ...         X = np.arange(20.0).reshape(10, 2)
    ...         yield from (Chunk(i, X[i : i + 4], None) for i in range(0, 10, 4))
    >>> X, w, rows = reservoir_sample(Rows(), 3, np.random.default_rng(0))
    >>> X.shape, w is None, bool(np.all(X[:, 0] == 2 * rows))
    ((3, 2), True, True)
    """
    return sample_rows(local_executor(), source, size, rng)


class _Held(NamedTuple):
    """Rows held by a sample pass: parallel lists of keys, rows, weights and row indices, concatenated lazily."""

    keys: list[np.ndarray]
    X: list[np.ndarray]
    weights: list[np.ndarray]
    rows: list[np.ndarray]
    weighted: bool


def _block_sample(X: np.ndarray, sample_weight: np.ndarray | None, offset: int, size: int, seed: int) -> _Held:
    """The (at most) ``size`` rows of one block with the smallest keys; zero-weight rows are never drawn."""
    n = X.shape[0]
    keys = row_keys(seed, offset, n)
    if sample_weight is not None:
        keys[~(sample_weight > 0)] = np.inf
    weights = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    rows = offset + np.arange(n, dtype=np.int64)
    return _smallest(size, _Held([keys], [X], [weights], [rows], sample_weight is not None))


def _merge_samples(size: int, *parts: _Held) -> _Held:
    """The union of held rows, pruned to the ``size`` smallest keys only once it passes ``2 * size`` rows, so a
    fold over many blocks copies each row O(1) times on average."""
    keys, X, weights, rows = (list(itertools.chain.from_iterable(column)) for column in zip(*(p[:4] for p in parts)))
    held = _Held(keys, X, weights, rows, any(p.weighted for p in parts))
    return _smallest(size, held) if sum(k.size for k in held.keys) > 2 * size else held


def _smallest(size: int, held: _Held) -> _Held:
    """The (at most) ``size`` held rows with the smallest finite keys, as one array per column."""
    keys, X, weights, rows = (np.concatenate(column) for column in held[:4])
    keep = np.flatnonzero(np.isfinite(keys))
    if keep.size > size:
        keep = keep[np.argpartition(keys[keep], size - 1)[:size]]
    return _Held([keys[keep]], [X[keep]], [weights[keep]], [rows[keep]], held.weighted)

"""reservoir_sample: a uniform random sample of rows, without replacement, in one pass over a chunked source.

Used to seed k-means++ and to pick re-seeding candidates from data too large for memory. It works on anything
with ``chunks()`` yielding ``(offset, X, sample_weight)`` blocks (the ChunkSource protocol), so it imports
nothing from ``gaussmix.io``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["reservoir_sample"]


def reservoir_sample(
    source: Any, size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Draw ``size`` rows uniformly at random without replacement, reading ``source.chunks()`` once.

    Every row with positive weight gets an independent uniform key and the sample is the ``size`` rows with the
    smallest keys, so every set of ``size`` such rows is equally likely (random-key reservoir sampling; rows
    whose key cannot beat the current ``size``-th smallest are dropped as each block arrives, so memory stays
    about ``2 * size`` rows). Rows of zero weight are never drawn. Weights do not tilt the draw: they are
    returned with the rows, for the caller to use.

    Parameters
    ----------
    source : ChunkSource
        Anything whose ``chunks()`` yields blocks with ``offset``, ``X`` (rows, n_features) and
        ``sample_weight`` (rows,) or None, in row order.
    size : int
        Number of rows wanted; if the source has no more positive-weight rows than this, all of them come back.
    rng : numpy.random.Generator
        Source of randomness. One key is drawn per row, in row order, with ``rng.random``; with a NumPy
        ``Generator`` the draw therefore does not depend on how the source splits rows into blocks (a
        property of this implementation, not a promise of the interface).

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
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise ValueError(f"size must be a positive integer; got {size!r}.")
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy.random.Generator; got {type(rng).__name__}.")
    keys, X_parts, w_parts, row_parts = [np.empty(0)], [], [np.empty(0)], [np.empty(0, dtype=np.int64)]
    held, threshold, weighted, n_features = 0, np.inf, False, getattr(source, "n_features", 0)
    for chunk in source.chunks():
        X = chunk.X
        u = rng.random(X.shape[0])
        n_features = X.shape[1]
        take = u < threshold
        if chunk.sample_weight is not None:
            weighted = True
            take &= chunk.sample_weight > 0
        picked = np.flatnonzero(take)
        if picked.size == 0:
            continue
        keys.append(u[picked])
        X_parts.append(X[picked])
        w_parts.append(np.ones(picked.size) if chunk.sample_weight is None else chunk.sample_weight[picked])
        row_parts.append(chunk.offset + picked.astype(np.int64))
        held += picked.size
        if held > 2 * size:  # prune only now and then, so each held row is copied O(1) times on average
            keys, X_parts, w_parts, row_parts = _smallest_keys(keys, X_parts, w_parts, row_parts, size)
            threshold, held = keys[0].max(), size
    if not X_parts:
        return np.empty((0, n_features)), (np.empty(0) if weighted else None), np.empty(0, dtype=np.int64)
    keys, X_parts, w_parts, row_parts = _smallest_keys(keys, X_parts, w_parts, row_parts, size)
    order = np.argsort(row_parts[0], kind="stable")
    w_sample = w_parts[0][order].astype(np.float64) if weighted else None
    return X_parts[0][order], w_sample, row_parts[0][order]


def _smallest_keys(
    keys: list[np.ndarray], X_parts: list[np.ndarray], w_parts: list[np.ndarray], row_parts: list[np.ndarray],
    size: int,
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray], list[np.ndarray]]:
    """Merge the held pieces and keep the ``size`` rows with the smallest keys (all of them if fewer)."""
    all_keys = np.concatenate(keys)
    X, w, rows = np.concatenate(X_parts), np.concatenate(w_parts), np.concatenate(row_parts)
    if all_keys.size > size:
        keep = np.argpartition(all_keys, size - 1)[:size]
        all_keys, X, w, rows = all_keys[keep], X[keep], w[keep], rows[keep]
    return [all_keys], [X], [w], [rows]

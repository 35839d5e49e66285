"""Chunk and ChunkSource: the row blocks every data source yields, and every executor maps.

Both ``gaussmix.io`` (file readers) and ``gaussmix.executors`` meet this protocol; it lives in ``core`` so that
neither imports the other.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np

__all__ = ["Chunk", "ChunkSource"]


class Chunk(NamedTuple):
    """One block of rows: its first global row, the rows (rows, n_features) and their weights (or None).

    Examples
    --------
    What :meth:`ChunkSource.chunks` yields, one block at a time:

    >>> import numpy as np, tempfile, os
    >>> from gaussmix import open_data
    >>> path = os.path.join(tempfile.mkdtemp(), "x.npy")
    >>> np.save(path, np.arange(6.0).reshape(3, 2))
    >>> first = next(iter(open_data(path, chunk_rows=2).chunks()))
    >>> first.offset, first.X.tolist(), first.sample_weight
    (0, [[0.0, 1.0], [2.0, 3.0]], None)
    """

    offset: int
    X: Any
    sample_weight: Any


@runtime_checkable
class ChunkSource(Protocol):
    """Data read as row blocks, one pass per call of ``chunks()``; each block already checked for bad values.

    Blocks come in row order, their X of ``dtype`` (float32 or float64) and finite, their weights non-negative
    float64 or None; ``n_rows`` is None when unknown before a pass (CSV). The attributes are read-only: frozen
    dataclass fields and properties both meet them.
    """

    @property
    def n_features(self) -> int: ...

    @property
    def feature_names(self) -> tuple[str, ...] | None: ...

    @property
    def n_rows(self) -> int | None: ...

    @property
    def dtype(self) -> np.dtype: ...

    def chunks(self) -> Iterator[Chunk]: ...

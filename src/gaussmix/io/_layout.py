"""What a format reader hands ``open_data``: the file's ``Layout`` (columns, rows, dtypes) and a ``BlockReader``.

Each reader module (``_arrays``, ``_parquet``, ``_text``) returns a ``Layout`` after reading only the file's
header; ``sources`` chooses columns from it and checks the blocks its ``read`` yields. The few pieces readers share
live here, once, so the readers import only this module and ``sources`` imports the readers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["BlockReader", "Layout", "batch_to_block", "column_label"]

# Yields raw blocks of the given file columns (in that order), at most ``rows`` rows each, in row order.
BlockReader = Callable[[list[int], int], Iterator[np.ndarray]]


@dataclass(frozen=True, slots=True)
class Layout:
    """What opening a file tells before any data is read."""

    names: tuple[str, ...] | None
    n_columns: int
    n_rows: int | None
    is_float32: tuple[bool, ...]  # per file column
    read: BlockReader
    non_numeric: dict[int, str] = field(default_factory=dict)  # file column -> its type, for a clear error


def column_label(names: tuple[str, ...] | None, j: int) -> str:
    """How error messages name file column ``j``: its name and index when the file has names, else the index."""
    return f"{j}" if names is None else f"{names[j]!r} (index {j})"


def batch_to_block(batch: Any) -> np.ndarray:
    """An Arrow record batch (from Parquet or pyarrow's CSV reader) as a (rows, columns) NumPy block."""
    # Nulls become NaN (to_numpy of a column with nulls is float), caught by the finiteness check.
    return np.column_stack([batch.column(k).to_numpy(zero_copy_only=False) for k in range(batch.num_columns)])

"""What a format reader hands ``open_data``: the file's ``Layout`` (columns, rows, dtypes) and a ``BlockReader``.

Each reader module (``_arrays``, ``_parquet``, ``_text``) returns a ``Layout`` after reading only the file's
header; ``sources`` chooses columns from it and checks the blocks its ``read`` yields. The few pieces readers share
live here, once, so the readers import only this module and ``sources`` imports the readers.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

__all__ = ["BlockReader", "FileState", "Layout", "batch_to_block", "column_label"]

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


class FileState(NamedTuple):
    """What identifies the content of a file without reading it: a rewrite, append, truncation, ``touch`` or
    replacement by another file changes at least one field."""

    size: int
    mtime_ns: int
    inode: int
    device: int

    @classmethod
    def of(cls, path: Path) -> FileState:
        st = os.stat(path)
        return cls(st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)

    def change(self, now: FileState) -> str | None:
        """How ``now`` differs from this state, in words, or None if it does not."""
        if (now.inode, now.device) != (self.inode, self.device):
            return "it was replaced by another file"
        if now.size != self.size:
            return f"its size went from {self.size:,} to {now.size:,} bytes"
        if now.mtime_ns != self.mtime_ns:
            return "it was modified (its modification time changed)"
        return None


def column_label(names: tuple[str, ...] | None, j: int) -> str:
    """How error messages name file column ``j``: its name and index when the file has names, else the index."""
    return f"{j}" if names is None else f"{names[j]!r} (index {j})"


def batch_to_block(batch: Any) -> np.ndarray:
    """An Arrow record batch (from Parquet or pyarrow's CSV reader) as a (rows, columns) NumPy block."""
    # Nulls become NaN (to_numpy of a column with nulls is float), caught by the finiteness check.
    return np.column_stack([batch.column(k).to_numpy(zero_copy_only=False) for k in range(batch.num_columns)])

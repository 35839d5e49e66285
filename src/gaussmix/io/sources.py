"""open_data: a numeric matrix in a file (npy, npz, Parquet, CSV/TSV, zarr), read in row blocks checked as they arrive.

The object returned meets the ``ChunkSource`` protocol of ``gaussmix.executors.local`` structurally (io and
executors don't import each other): ``chunks()`` makes one pass over the file, in row order, one block in memory
at a time, and reports bad values by global row and column instead of making a separate checking pass.

This module owns what is common to every format: choosing columns, regrouping blocks and checking them. Each
format's reader reads only the header when the file is opened and returns a ``_layout.Layout``: ``_arrays``
(npy, npz, zarr), ``_parquet`` and ``_text`` (CSV, TSV, TXT).
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ..core.chunks import Chunk
from ..exceptions import DataSourceError
from ._arrays import open_npy, open_npz, open_zarr
from ._layout import BlockReader, FileState, Layout, column_label
from ._parquet import open_parquet
from ._text import open_text

__all__ = ["Chunk", "FileSource", "is_data_path", "open_data"]

CSV_DELIMITERS = {".csv": ",", ".tsv": "\t", ".txt": None}  # None: sniffed from the first line
SUFFIXES = (".npy", ".npz", ".parquet", ".pq", *CSV_DELIMITERS, ".zarr")
_BLOCK_BYTES = 8 * 2**20  # ~8 MB of float64 X per block by default
_MIN_CHUNK_ROWS = 16  # only very wide files (over 65,536 columns) get blocks of more than ~8 MB

ColumnSpec = str | int


@dataclass(frozen=True, eq=False)
class FileSource:
    """A data file read in blocks of ``chunk_rows`` rows; build it with :func:`open_data`.

    ``chunks()`` may be called many times; each call is one pass over the file. X blocks are C-contiguous,
    finite, of ``dtype``; weights are finite, non-negative float64, or None without a weight column. A pass over
    a file that changed since it was opened (rewritten, grown, truncated, touched or replaced: see ``FileState``)
    raises DataSourceError: passes of one fit must read the same rows. ``skipped_columns`` names the non-numeric
    columns left out by ``open_data(non_numeric="skip")``.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from gaussmix import open_data
    >>> path = os.path.join(tempfile.mkdtemp(), "x.npy")
    >>> np.save(path, np.arange(10.0).reshape(5, 2))
    >>> source = open_data(path, chunk_rows=2)
    >>> source.n_rows, source.n_features, [(chunk.offset, len(chunk.X)) for chunk in source.chunks()]
    (5, 2, [(0, 2), (2, 2), (4, 1)])
    """

    path: Path
    n_features: int
    feature_names: tuple[str, ...] | None
    n_rows: int | None
    dtype: np.dtype
    chunk_rows: int
    _read: BlockReader = field(repr=False)
    _columns: tuple[int, ...] = field(repr=False)
    _weight_column: int | None = field(repr=False)
    _names: tuple[str, ...] | None = field(repr=False)
    _state: FileState = field(repr=False)
    skipped_columns: tuple[str, ...] = ()
    allow_nan: bool = False  # NaN is a missing value (GaussianMixture(missing="marginalize")), not an error

    def chunks(self) -> Iterator[Chunk]:
        """Yield the file's rows as :class:`Chunk` blocks, in order, checking each block as it arrives."""
        wanted = list(self._columns) + ([] if self._weight_column is None else [self._weight_column])
        offset = 0
        self._check_unchanged()
        for raw in _rebatch(self._read(wanted, self.chunk_rows), self.chunk_rows):
            self._check_unchanged()  # before the block is used: a stat costs microseconds, a block milliseconds
            yield self._checked(raw, offset)
            offset += raw.shape[0]
        self._check_unchanged()

    def _check_unchanged(self) -> None:
        try:
            change = self._state.change(FileState.of(self.path))
        except FileNotFoundError:
            change = "it was deleted"
        if change is not None:
            raise DataSourceError(
                f"{self.path} changed during the fit: {change} since it was opened. Every pass over a file must read "
                "the same rows; fit again once the file stays unchanged (or copy it first)."
            )

    def _checked(self, raw: np.ndarray, offset: int) -> Chunk:
        n_x = len(self._columns)
        X = np.ascontiguousarray(raw[:, :n_x], dtype=self.dtype)
        # A finite sum proves every entry finite (NaN and inf propagate); the elementwise tests run only if not.
        all_finite = bool(np.isfinite(X.sum()))
        if not all_finite and not (finite := np.isfinite(X) | (self.allow_nan & np.isnan(X))).all():
            i, k = (int(v) for v in np.argwhere(~finite)[0])
            what = "NaN" if np.isnan(X[i, k]) else "infinity"
            raise DataSourceError(
                f"X contains {what} at row {offset + i}, "
                f"column {column_label(self._names, self._columns[k])} of {self.path}."
            )
        if self.allow_nan and not all_finite and (empty := np.isnan(X).all(axis=1)).any():
            raise DataSourceError(f"X has no observed value at row {offset + int(np.argmax(empty))} of {self.path}: "
                                  "every column is NaN. Drop the row; a mixture can say nothing about it.")
        if self._weight_column is None:
            return Chunk(offset, X, None)
        w = np.asarray(raw[:, n_x], dtype=np.float64)
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            i = int(np.argmax(bad))
            raise DataSourceError(
                f"sample_weight column {column_label(self._names, self._weight_column)} has the value {w[i]} at row "
                f"{offset + i} of {self.path}; sample weights must be finite and non-negative."
            )
        return Chunk(offset, X, w)


def is_data_path(obj: Any) -> bool:
    """True if ``obj`` is a str or path with a suffix :func:`open_data` reads, or a zarr directory.

    Examples
    --------
    >>> from gaussmix.io.sources import is_data_path
    >>> is_data_path("x.parquet"), is_data_path("notes.md"), is_data_path(3)
    (True, False, False)
    """
    if not isinstance(obj, (str, os.PathLike)):
        return False
    path = Path(obj)
    return path.suffix.lower() in SUFFIXES or _is_zarr_dir(path)


def open_data(
    path: str | os.PathLike[str],
    columns: Sequence[ColumnSpec] | None = None,
    chunk_rows: int | None = None,
    sample_weight_column: ColumnSpec | None = None,
    dtype: Any = None,
    *,
    key: str | None = None,
    non_numeric: Literal["raise", "skip"] = "raise",
) -> FileSource:
    """Open a numeric data file as a chunked source of rows, without reading its data yet.

    Parameters
    ----------
    path : str or path
        ``.npy``, ``.npz``, ``.parquet``/``.pq``, ``.csv``, ``.tsv``, ``.txt`` (header row detected by a
        non-numeric field in the first line), or a zarr array (``.zarr`` or a directory with zarr metadata).
    columns : sequence of str or int, optional
        Columns of X, by name (files with names) or index; default all but ``sample_weight_column``.
    chunk_rows : int, optional
        Rows per block; default about 8 MB of float64 X, at least 16 rows.
    sample_weight_column : str or int, optional
        A column read as non-negative sample weights and left out of X.
    dtype : float32 or float64, optional
        dtype of X blocks; default float32 when every chosen column is float32 in the file, else float64.
    key : str, optional
        Which array of an ``.npz`` file or zarr group; needed only when there are several.
    non_numeric : {"raise", "skip"}, default="raise"
        Without ``columns``: whether a column the header shows is not numeric (a Parquet string, dictionary or
        date column; a CSV column whose first data row is text) is an error or left out of X (listed in
        ``skipped_columns``). Chosen columns are always checked.

    Returns
    -------
    FileSource
        Meets the ``ChunkSource`` protocol: ``n_features``, ``feature_names``, ``n_rows`` (None for text
        files), ``dtype``, ``path`` and ``chunks()``.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "x.npy")
    >>> np.save(path, np.arange(10.0).reshape(5, 2))
    >>> source = open_data(path, chunk_rows=2)
    >>> [(c.offset, c.X.shape) for c in source.chunks()]
    [(0, (2, 2)), (2, (2, 2)), (4, (1, 2))]
    """
    path = Path(path)
    if non_numeric not in ("raise", "skip"):
        raise ValueError(f"non_numeric must be 'raise' or 'skip'; got {non_numeric!r}.")
    if chunk_rows is not None and (isinstance(chunk_rows, bool) or not isinstance(chunk_rows, (int, np.integer))
                                   or chunk_rows < 1):
        raise ValueError(f"chunk_rows must be a positive integer or None; got {chunk_rows!r}.")
    if dtype is not None and np.dtype(dtype) not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32, float64 or None; got {np.dtype(dtype)}.")
    state = _state_of(path)  # before the header is read: a change while opening shows on the first pass
    layout = _open_layout(path, key)
    skipped: list[int] = []
    if columns is None and non_numeric == "skip":
        w = None if sample_weight_column is None else _column_index(sample_weight_column, layout, path)
        skipped = sorted(j for j in layout.non_numeric if j != w)
        columns = [j for j in range(layout.n_columns) if j not in skipped and j != w]
        if not columns:
            raise DataSourceError(
                f"No numeric columns in {path}: " + ", ".join(
                    f"{column_label(layout.names, j)} has type {layout.non_numeric[j]}" for j in skipped) + "."
            )
    x_cols, w_col = _choose_columns(layout, columns, sample_weight_column, path)
    for j in [*x_cols, *([] if w_col is None else [w_col])]:
        if j in layout.non_numeric:
            hint = "" if columns is not None else " Choose numeric columns with columns=[...]."
            raise DataSourceError(
                f"Column {column_label(layout.names, j)} of {path} has type {layout.non_numeric[j]}, "
                f"not a number.{hint}"
            )
    if dtype is None:
        dtype = np.float32 if all(layout.is_float32[j] for j in x_cols) else np.float64
    rows = chunk_rows or max(_MIN_CHUNK_ROWS, _BLOCK_BYTES // (8 * len(x_cols)))
    return FileSource(
        path=path,
        n_features=len(x_cols),
        feature_names=None if layout.names is None else tuple(layout.names[j] for j in x_cols),
        n_rows=layout.n_rows,
        dtype=np.dtype(dtype),
        chunk_rows=int(rows),
        _read=layout.read,
        _columns=tuple(x_cols),
        _weight_column=w_col,
        _names=layout.names,
        _state=state,
        skipped_columns=tuple(column_label(layout.names, j) for j in skipped),
    )


def _state_of(path: Path) -> FileState:
    """The file's FileState; refuses what cannot be read more than once (FIFOs, devices, sockets)."""
    if not path.exists():
        raise FileNotFoundError(errno.ENOENT, "No such data file", str(path))
    st = os.stat(path)
    if not (stat.S_ISREG(st.st_mode) or stat.S_ISDIR(st.st_mode)):
        kind = "a FIFO (named pipe)" if stat.S_ISFIFO(st.st_mode) else "a device or socket"
        raise DataSourceError(
            f"{path} is {kind}, not a regular file: a fit reads its data once per EM iteration, which a stream "
            "cannot give. Save the data to a file first."
        )
    return FileState(st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)


def _open_layout(path: Path, key: str | None) -> Layout:
    suffix = path.suffix.lower()
    if suffix == ".zarr" or _is_zarr_dir(path):
        return open_zarr(path, key)
    if path.is_dir():
        raise DataSourceError(f"{path} is a directory, not a data file (nor a zarr array).")
    if suffix not in SUFFIXES:
        raise DataSourceError(
            f"Cannot read {path}: unknown data file suffix {path.suffix!r}; expected one of {', '.join(SUFFIXES)} "
            "or a zarr directory."
        )
    if path.stat().st_size == 0:
        raise DataSourceError(f"{path} is empty: it has no data rows.")
    if suffix == ".npy":
        return open_npy(path)
    if suffix == ".npz":
        return open_npz(path, key)
    if suffix in (".parquet", ".pq"):
        return open_parquet(path)
    return open_text(path, CSV_DELIMITERS[suffix])


def _choose_columns(
    layout: Layout, columns: Sequence[ColumnSpec] | None, weight: ColumnSpec | None, path: Path
) -> tuple[list[int], int | None]:
    w_col = None if weight is None else _column_index(weight, layout, path)
    if columns is None:
        x_cols = [j for j in range(layout.n_columns) if j != w_col]
    else:
        if isinstance(columns, (str, int)):
            columns = [columns]
        x_cols = [_column_index(spec, layout, path) for spec in columns]
        for j in x_cols:
            if x_cols.count(j) > 1:
                raise DataSourceError(f"Column {column_label(layout.names, j)} of {path} is chosen twice in columns.")
            if j == w_col:
                raise DataSourceError(
                    f"Column {column_label(layout.names, j)} of {path} cannot be both in columns and the "
                    "sample_weight_column."
                )
    if not x_cols:
        raise DataSourceError(f"No columns of X are left in {path}; columns={columns!r}.")
    return x_cols, w_col


def _column_index(spec: ColumnSpec, layout: Layout, path: Path) -> int:
    n = layout.n_columns
    if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
        if not -n <= spec < n:
            raise DataSourceError(f"Column index {spec} is out of range: {path} has {n} columns.")
        return int(spec) % n
    if not isinstance(spec, str):
        raise TypeError(f"A column is chosen by name (str) or index (int); got {spec!r}.")
    if layout.names is None:
        raise DataSourceError(
            f"{path} has no column names, so column {spec!r} cannot be found; choose columns by index (0 to {n - 1})."
        )
    if spec not in layout.names:
        raise DataSourceError(
            f"{path} has no column {spec!r}; available columns: {', '.join(map(repr, layout.names))}."
        )
    return layout.names.index(spec)


def _rebatch(blocks: Iterator[np.ndarray], rows: int) -> Iterator[np.ndarray]:
    """Regroup blocks of any sizes into blocks of exactly ``rows`` rows (the last may be shorter)."""
    pending: list[np.ndarray] = []
    have = 0
    for block in blocks:
        while block.shape[0]:
            take = block[: rows - have]
            pending.append(take)
            have += take.shape[0]
            block = block[take.shape[0]:]
            if have == rows:
                yield pending[0] if len(pending) == 1 else np.concatenate(pending)
                pending, have = [], 0
    if have:
        yield pending[0] if len(pending) == 1 else np.concatenate(pending)


def _is_zarr_dir(path: Path) -> bool:
    return path.is_dir() and any((path / meta).exists() for meta in ("zarr.json", ".zarray", ".zgroup"))


"""open_writer: append rows block by block to CSV/TSV, Parquet or .npy, atomically: a whole file or none at all.

Rows go to a hidden temporary file beside the target (``atomic.AtomicFile``), which replaces the target only when
the ``with`` block ends without an error; on an error the temporary file is removed, so a reader never sees half a
file, an existing file is never left half-overwritten, and a replaced file keeps its permissions.
"""

from __future__ import annotations

import contextlib
import csv
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import numpy as np
from numpy.lib import format as npy_format

from .atomic import AtomicFile

__all__ = ["RowWriter", "open_writer"]

WRITER_SUFFIXES = (".csv", ".tsv", ".parquet", ".npy")
_NPY_MAGIC = b"\x93NUMPY\x01\x00"


def open_writer(path: str | os.PathLike[str], columns: Sequence[str], *, n_rows: int | None = None) -> RowWriter:
    """Open a row-wise writer of the named columns; use it as a context manager.

    Parameters
    ----------
    path : str or path
        Target file: ``.csv``, ``.tsv``, ``.parquet`` (needs pyarrow) or ``.npy`` (one 2-D array, columns in
        order, of the dtype of the first block). It appears only when the ``with`` block succeeds.
    columns : sequence of str
        Column names, in file order (the CSV/TSV header, the Parquet schema; not stored in ``.npy``).
    n_rows : int, optional
        The number of rows promised; if given, closing with a different count is an error.

    Returns
    -------
    RowWriter
        ``write(block)`` appends rows from a dict of 1-D arrays keyed by column, or a 2-D array.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "labels.csv")
    >>> with open_writer(path, ["row", "label"]) as out:
    ...     out.write({"row": np.array([0, 1]), "label": np.array([2, 0])})
    ...     out.write(np.array([[2, 1]]))
    >>> print(open(path).read().strip())
    row,label
    0,2
    1,0
    2,1
    """
    return RowWriter(Path(path), columns, n_rows)


class RowWriter:
    """Appends rows to a temporary file beside ``path`` and moves it into place on a successful ``with`` exit.

    Examples
    --------
    Made by :func:`open_writer`; rows arrive block by block and the file appears only on a clean exit:

    >>> import numpy as np, tempfile, os
    >>> from gaussmix.io.writers import open_writer
    >>> path = os.path.join(tempfile.mkdtemp(), "scores.npy")
    >>> with open_writer(path, ["label", "log_prob"], n_rows=3) as out:
    ...     out.write(np.array([[0, -1.5], [1, -2.0]]))
    ...     out.write(np.array([[1, -0.5]]))
    >>> np.load(path)
    array([[ 0. , -1.5],
           [ 1. , -2. ],
           [ 1. , -0.5]])
    """

    def __init__(self, path: Path, columns: Sequence[str], n_rows: int | None = None) -> None:
        suffix = path.suffix.lower()
        if suffix not in WRITER_SUFFIXES:
            raise ValueError(
                f"Cannot write {path}: unknown suffix {path.suffix!r}; expected one of {', '.join(WRITER_SUFFIXES)}."
            )
        columns = [columns] if isinstance(columns, str) else list(columns)
        if not columns or len(set(columns)) != len(columns) or not all(isinstance(c, str) for c in columns):
            raise ValueError(f"columns must be distinct names (str), at least one; got {columns!r}.")
        if n_rows is not None and (not isinstance(n_rows, (int, np.integer)) or n_rows < 0):
            raise ValueError(f"n_rows must be a non-negative integer or None; got {n_rows!r}.")
        self.path = path
        self.columns = tuple(columns)
        self.n_rows = n_rows
        self.rows_written = 0
        self._atomic = AtomicFile(path)
        text = suffix in (".csv", ".tsv")
        try:
            tmp = self._atomic.tmp
            self._file = _open_tmp(tmp, text)
        except BaseException:
            self._atomic.discard()
            raise
        self._closed = False
        try:
            if text:
                self._backend: Any = _TextBackend(self._file, "," if suffix == ".csv" else "\t", self.columns)
            elif suffix == ".parquet":
                self._backend = _ParquetBackend(self._file, self.columns)
            else:
                self._backend = _NpyBackend(self._file, len(self.columns))
        except BaseException:
            self.abort()
            raise

    def __enter__(self) -> RowWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def write(self, block: Mapping[str, Any] | np.ndarray) -> None:
        """Append rows: a dict of equal-length 1-D arrays keyed by every column, or a 2-D array (rows, columns)."""
        if self._closed:
            raise ValueError(f"The writer of {self.path} is closed.")
        arrays = self._columns_of(block)
        if arrays[0].shape[0]:
            self._backend.write(arrays)
            self.rows_written += arrays[0].shape[0]

    def close(self) -> None:
        """Finish the file and move it to ``path``; on any error the temporary file is removed instead."""
        if self._closed:
            return
        try:
            if self.n_rows is not None and self.rows_written != self.n_rows:
                raise ValueError(f"{self.rows_written} rows were written to {self.path}; n_rows={self.n_rows}.")
            self._backend.close()
            self._file.close()
            self._atomic.commit()
            self._closed = True
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Drop everything written; ``path`` is left as it was."""
        self._closed = True
        try:
            if hasattr(self, "_backend"):
                self._backend.abort()
            self._file.close()
        finally:
            self._atomic.discard()

    def _columns_of(self, block: Mapping[str, Any] | np.ndarray) -> list[np.ndarray]:
        if isinstance(block, Mapping):
            unknown = [name for name in block if name not in self.columns]
            missing = [name for name in self.columns if name not in block]
            if unknown or missing:
                raise ValueError(
                    f"A block written to {self.path} must have exactly the columns {list(self.columns)}; "
                    f"missing {missing}, unknown {unknown}."
                )
            arrays = [np.asarray(block[name]) for name in self.columns]
            for name, array in zip(self.columns, arrays):
                if array.ndim != 1 or array.shape[0] != arrays[0].shape[0]:
                    raise ValueError(
                        f"Column {name!r} of a block written to {self.path} has shape {array.shape}; expected "
                        f"({arrays[0].shape[0]},), as column {self.columns[0]!r}."
                    )
            return arrays
        array = np.asarray(block)
        if array.ndim != 2 or array.shape[1] != len(self.columns):
            raise ValueError(
                f"A block written to {self.path} has shape {array.shape}; expected (rows, {len(self.columns)})."
            )
        return [array[:, k] for k in range(array.shape[1])]


def _open_tmp(tmp: Path, text: bool) -> IO[Any]:
    """The temporary file: text for CSV/TSV (csv's own line endings), binary for Parquet and .npy."""
    return open(tmp, "w", newline="", encoding="utf-8") if text else open(tmp, "w+b")


class _TextBackend:
    def __init__(self, file: IO[str], delimiter: str, columns: tuple[str, ...]) -> None:
        self._writer = csv.writer(file, delimiter=delimiter, lineterminator="\n")
        self._writer.writerow(columns)

    def write(self, arrays: list[np.ndarray]) -> None:
        # tolist() gives Python ints and floats, whose str() is the shortest text that reads back exactly.
        self._writer.writerows(zip(*(a.tolist() for a in arrays)))

    def close(self) -> None:
        pass

    def abort(self) -> None:
        pass


class _ParquetBackend:
    def __init__(self, file: IO[bytes], columns: tuple[str, ...]) -> None:
        try:
            import pyarrow
            import pyarrow.parquet
        except ImportError as exc:
            raise ImportError('Writing Parquet files needs pyarrow: pip install "gaussmix[parquet]"') from exc
        self._pa, self._pq = pyarrow, pyarrow.parquet
        self._file, self._columns = file, columns
        self._writer: Any = None

    def write(self, arrays: list[np.ndarray]) -> None:
        pa = self._pa
        if self._writer is None:  # the first block fixes the schema
            table = pa.table(dict(zip(self._columns, arrays)))
            self._writer = self._pq.ParquetWriter(self._file, table.schema)
        else:
            schema = self._writer.schema
            table = pa.Table.from_arrays(
                [pa.array(a, type=field.type) for a, field in zip(arrays, schema)], schema=schema
            )
        self._writer.write_table(table)

    def close(self) -> None:
        if self._writer is None:
            self.write([np.empty(0) for _ in self._columns])
        self._writer.close()

    def abort(self) -> None:
        # Close the writer before its file, or its finaliser later writes a footer to a closed file.
        if self._writer is not None:
            writer, self._writer = self._writer, None
            with contextlib.suppress(self._pa.ArrowException, OSError, ValueError):
                writer.close()


class _NpyBackend:
    """One C-order 2-D array whose header is rewritten with the row count on close, at a size reserved up front."""

    def __init__(self, file: IO[bytes], n_columns: int) -> None:
        self._file, self._n_columns = file, n_columns
        self._dtype: np.dtype | None = None
        self._rows = 0
        self._header_size = 0

    def write(self, arrays: list[np.ndarray]) -> None:
        block_dtype = np.result_type(*arrays)
        if self._dtype is None:
            self._dtype = block_dtype
            # Room for any row count: the header of the largest possible shape, rounded up to 64 bytes.
            self._header_size = len(_npy_header(block_dtype, (np.iinfo(np.int64).max, self._n_columns)))
            self._file.write(b"\0" * self._header_size)
        elif not np.can_cast(block_dtype, self._dtype, casting="same_kind"):
            raise ValueError(f"A block of dtype {block_dtype} cannot be appended to a .npy file of {self._dtype}.")
        block = np.column_stack(arrays).astype(self._dtype, copy=False)
        self._file.write(np.ascontiguousarray(block).tobytes())
        self._rows += block.shape[0]

    def close(self) -> None:
        if self._dtype is None:
            self.write([np.empty(0) for _ in range(self._n_columns)])
        assert self._dtype is not None  # set by the first write
        header = _npy_header(self._dtype, (self._rows, self._n_columns), self._header_size)
        self._file.seek(0)
        self._file.write(header)

    def abort(self) -> None:
        pass


def _npy_header(dtype: np.dtype, shape: tuple[int, int], size: int | None = None) -> bytes:
    """A version 1.0 .npy header, padded with spaces to ``size`` bytes (default: the next multiple of 64)."""
    text = repr({"descr": npy_format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}).encode("latin1")
    fixed = len(_NPY_MAGIC) + 2 + len(text) + 1  # magic and version, header length, text, newline
    size = size if size is not None else -(-fixed // 64) * 64
    header = text + b" " * (size - fixed) + b"\n"
    return _NPY_MAGIC + (len(header)).to_bytes(2, "little") + header

"""open_data: a numeric matrix in a file (npy, npz, Parquet, CSV/TSV, zarr), read in row blocks checked as they arrive.

The object returned meets the ``ChunkSource`` protocol of ``gaussmix.executors.local`` structurally (io and
executors don't import each other): ``chunks()`` makes one pass over the file, in row order, one block in memory
at a time, and reports bad values by global row and column instead of making a separate checking pass.
"""

from __future__ import annotations

import csv
import errno
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numpy.lib import format as npy_format

from ..exceptions import DataSourceError

__all__ = ["Chunk", "FileSource", "is_data_path", "open_data"]

CSV_DELIMITERS = {".csv": ",", ".tsv": "\t", ".txt": None}  # None: sniffed from the first line
SUFFIXES = (".npy", ".npz", ".parquet", ".pq", *CSV_DELIMITERS, ".zarr")
_BLOCK_BYTES = 8 * 2**20  # ~8 MB of float64 X per block by default
_MIN_CHUNK_ROWS = 1024
# Cells pyarrow's CSV reader takes as null (then NaN); the fallback reader treats them the same way.
_MISSING = frozenset({"", "NA", "N/A", "NaN", "nan", "-NaN", "-nan", "NULL", "null", "#N/A", "#NA", "n/a"})

ColumnSpec = str | int
# Yields raw blocks of the given file columns (in that order), at most ``rows`` rows each, in row order.
BlockReader = Callable[[list[int], int], Iterator[np.ndarray]]


class Chunk(NamedTuple):
    """One block of rows: global index of its first row, X (rows, n_features), weights (rows,) or None."""

    offset: int
    X: np.ndarray
    sample_weight: np.ndarray | None


@dataclass(frozen=True, slots=True)
class _Layout:
    """What opening a file tells before any data is read."""

    names: tuple[str, ...] | None
    n_columns: int
    n_rows: int | None
    is_float32: tuple[bool, ...]  # per file column
    read: BlockReader
    non_numeric: dict[int, str] = field(default_factory=dict)  # file column -> its type, for a clear error


@dataclass(frozen=True, eq=False)
class FileSource:
    """A data file read in blocks of ``chunk_rows`` rows; build it with :func:`open_data`.

    ``chunks()`` may be called many times; each call is one pass over the file. X blocks are C-contiguous,
    finite, of ``dtype``; weights are finite, non-negative float64, or None without a weight column.
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

    def chunks(self) -> Iterator[Chunk]:
        """Yield the file's rows as :class:`Chunk` blocks, in order, checking each block as it arrives."""
        wanted = list(self._columns) + ([] if self._weight_column is None else [self._weight_column])
        offset = 0
        for raw in _rebatch(self._read(wanted, self.chunk_rows), self.chunk_rows):
            yield self._checked(raw, offset)
            offset += raw.shape[0]

    def _checked(self, raw: np.ndarray, offset: int) -> Chunk:
        n_x = len(self._columns)
        X = np.ascontiguousarray(raw[:, :n_x], dtype=self.dtype)
        # A finite sum proves every entry finite (NaN and inf propagate); the elementwise test runs only if not.
        if not np.isfinite(X.sum()) and not (finite := np.isfinite(X)).all():
            i, k = (int(v) for v in np.argwhere(~finite)[0])
            what = "NaN" if np.isnan(X[i, k]) else "infinity"
            raise DataSourceError(
                f"X contains {what} at row {offset + i}, "
                f"column {_label(self._names, self._columns[k])} of {self.path}."
            )
        if self._weight_column is None:
            return Chunk(offset, X, None)
        w = np.asarray(raw[:, n_x], dtype=np.float64)
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            i = int(np.argmax(bad))
            raise DataSourceError(
                f"sample_weight column {_label(self._names, self._weight_column)} has the value {w[i]} at row "
                f"{offset + i} of {self.path}; sample weights must be finite and non-negative."
            )
        return Chunk(offset, X, w)


def is_data_path(obj: Any) -> bool:
    """True if ``obj`` is a str or path with a suffix :func:`open_data` reads, or a zarr directory."""
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
        Rows per block; default about 8 MB of float64 X, at least 1024 rows.
    sample_weight_column : str or int, optional
        A column read as non-negative sample weights and left out of X.
    dtype : float32 or float64, optional
        dtype of X blocks; default float32 when every chosen column is float32 in the file, else float64.
    key : str, optional
        Which array of an ``.npz`` file or zarr group; needed only when there are several.

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
    if chunk_rows is not None and (isinstance(chunk_rows, bool) or not isinstance(chunk_rows, (int, np.integer))
                                   or chunk_rows < 1):
        raise ValueError(f"chunk_rows must be a positive integer or None; got {chunk_rows!r}.")
    if dtype is not None and np.dtype(dtype) not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32, float64 or None; got {np.dtype(dtype)}.")
    layout = _open_layout(path, key)
    x_cols, w_col = _choose_columns(layout, columns, sample_weight_column, path)
    for j in [*x_cols, *([] if w_col is None else [w_col])]:
        if j in layout.non_numeric:
            hint = "" if columns is not None else " Choose numeric columns with columns=[...]."
            raise DataSourceError(
                f"Column {_label(layout.names, j)} of {path} has type {layout.non_numeric[j]}, not a number.{hint}"
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
    )


def _open_layout(path: Path, key: str | None) -> _Layout:
    suffix = path.suffix.lower()
    if not path.exists():
        raise FileNotFoundError(errno.ENOENT, "No such data file", str(path))
    if suffix == ".zarr" or _is_zarr_dir(path):
        return _open_zarr(path, key)
    if suffix not in SUFFIXES or path.is_dir():
        raise DataSourceError(
            f"Cannot read {path}: unknown data file suffix {path.suffix!r}; expected one of {', '.join(SUFFIXES)} "
            "or a zarr directory."
        )
    if path.stat().st_size == 0:
        raise DataSourceError(f"{path} is empty: it has no data rows.")
    if suffix == ".npy":
        return _open_npy(path)
    if suffix == ".npz":
        return _open_npz(path, key)
    if suffix in (".parquet", ".pq"):
        return _open_parquet(path)
    return _open_csv(path, CSV_DELIMITERS[suffix])


def _choose_columns(
    layout: _Layout, columns: Sequence[ColumnSpec] | None, weight: ColumnSpec | None, path: Path
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
                raise DataSourceError(f"Column {_label(layout.names, j)} of {path} is chosen twice in columns.")
            if j == w_col:
                raise DataSourceError(
                    f"Column {_label(layout.names, j)} of {path} cannot be both in columns and the "
                    "sample_weight_column."
                )
    if not x_cols:
        raise DataSourceError(f"No columns of X are left in {path}; columns={columns!r}.")
    return x_cols, w_col


def _column_index(spec: ColumnSpec, layout: _Layout, path: Path) -> int:
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


def _label(names: tuple[str, ...] | None, j: int) -> str:
    return f"{j}" if names is None else f"{names[j]!r} (index {j})"


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


# --- arrays: npy, npz, zarr --------------------------------------------------------------------------------------


def _check_array(path: Path, shape: tuple[int, ...], dtype: np.dtype, fortran_order: bool = False) -> None:
    if dtype.hasobject or dtype.kind not in "fiu":
        raise DataSourceError(
            f"{path} holds an array of dtype {dtype}; expected a numeric (float or integer) array."
        )
    if len(shape) != 2:
        hint = " Save it as a column with X.reshape(-1, 1)." if len(shape) == 1 else ""
        raise DataSourceError(f"{path} holds an array of shape {shape}; expected a 2-D array (rows, features).{hint}")
    if fortran_order:
        raise DataSourceError(
            f"{path} holds a Fortran-ordered array, which cannot be read in row blocks; "
            "save np.ascontiguousarray(X) instead."
        )
    if shape[0] == 0 or shape[1] == 0:
        raise DataSourceError(f"{path} holds an array of shape {shape}: it has no data rows or no columns.")


def _slicing_reader(array: Any, n_rows: int, n_columns: int) -> BlockReader:
    def read(cols: list[int], rows: int) -> Iterator[np.ndarray]:
        everything = cols == list(range(n_columns))
        for lo in range(0, n_rows, rows):
            block = np.asarray(array[lo : lo + rows])
            yield block if everything else block[:, cols]

    return read


def _open_npy(path: Path) -> _Layout:
    with open(path, "rb") as f:
        try:
            version = npy_format.read_magic(f)
            if version == (1, 0):
                shape, fortran_order, dtype = npy_format.read_array_header_1_0(f)
            elif version == (2, 0):
                shape, fortran_order, dtype = npy_format.read_array_header_2_0(f)
            else:
                raise ValueError(f"unsupported .npy format version {version}")
        except ValueError as exc:
            raise DataSourceError(f"{path} is not a readable .npy file: {exc}.") from exc
        data_start = f.tell()
    _check_array(path, shape, dtype, fortran_order)
    n_rows, n_columns = shape
    row_bytes = n_columns * dtype.itemsize
    present = path.stat().st_size - data_start
    if present < n_rows * row_bytes:
        raise DataSourceError(
            f"{path} is truncated: its header promises {n_rows} rows of {n_columns} {dtype} values, but the data "
            f"ends at row {present // row_bytes} ({present} of {n_rows * row_bytes} data bytes present)."
        )

    def read(cols: list[int], rows: int) -> Iterator[np.ndarray]:
        everything = cols == list(range(n_columns))
        with open(path, "rb") as f:
            f.seek(data_start)
            for lo in range(0, n_rows, rows):
                block = np.empty((min(rows, n_rows - lo), n_columns), dtype=dtype)
                got = f.readinto(block.reshape(-1).view(np.uint8))
                if got != block.nbytes:
                    raise DataSourceError(f"{path} ended at row {lo + got // row_bytes} while being read.")
                yield block if everything else block[:, cols]

    is_f32 = dtype == np.float32
    return _Layout(None, n_columns, n_rows, (is_f32,) * n_columns, read)


def _open_npz(path: Path, key: str | None) -> _Layout:
    import zipfile

    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = list(archive.files)
            key = _pick_key(path, key, keys)
            array = archive[key]
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise DataSourceError(f"{path} is not a readable .npz file: {exc}.") from exc
    _check_array(path, array.shape, array.dtype)
    n_rows, n_columns = array.shape
    reader = _slicing_reader(np.ascontiguousarray(array), n_rows, n_columns)
    return _Layout(None, n_columns, n_rows, (array.dtype == np.float32,) * n_columns, reader)


def _pick_key(path: Path, key: str | None, keys: list[str]) -> str:
    if key is not None and key not in keys:
        raise DataSourceError(f"{path} has no array {key!r}; it has {', '.join(map(repr, keys)) or 'none'}.")
    if key is None and len(keys) != 1:
        raise DataSourceError(
            f"{path} holds {len(keys)} arrays ({', '.join(map(repr, keys))}); choose one with key=."
        )
    return key if key is not None else keys[0]


def _open_zarr(path: Path, key: str | None) -> _Layout:
    try:
        import zarr
    except ImportError as exc:
        raise ImportError('Reading zarr arrays needs zarr: pip install "gaussmix[zarr]"') from exc
    try:
        node = zarr.open(str(path), mode="r")
        if not hasattr(node, "shape"):  # a group: pick one of its arrays
            names = sorted(name for name, _ in node.arrays())
            node = node[_pick_key(path, key, names)]
    except (ValueError, KeyError, OSError) as exc:
        raise DataSourceError(f"{path} is not a readable zarr array: {exc}") from exc
    _check_array(path, tuple(node.shape), np.dtype(node.dtype))
    n_rows, n_columns = node.shape
    is_f32 = np.dtype(node.dtype) == np.float32
    return _Layout(None, n_columns, n_rows, (is_f32,) * n_columns, _slicing_reader(node, n_rows, n_columns))


# --- tables: Parquet and CSV -------------------------------------------------------------------------------------


def _import_pyarrow(what: str) -> Any:
    try:
        import pyarrow
    except ImportError as exc:
        raise ImportError(f'Reading {what} needs pyarrow: pip install "gaussmix[parquet]"') from exc
    return pyarrow


def _open_parquet(path: Path) -> _Layout:
    pa = _import_pyarrow("Parquet files")
    import pyarrow.parquet as pq

    try:
        with pq.ParquetFile(path) as parquet:
            schema, n_rows = parquet.schema_arrow, parquet.metadata.num_rows
    except (pa.ArrowException, OSError) as exc:
        raise DataSourceError(f"{path} is not a readable Parquet file (truncated or corrupt?): {exc}") from exc
    names = tuple(schema.names)
    if n_rows == 0:
        raise DataSourceError(f"{path} has no data rows.")
    numeric = [pa.types.is_integer(f.type) or pa.types.is_floating(f.type) for f in schema]
    non_numeric = {j: str(f.type) for j, f in enumerate(schema) if not numeric[j]}

    def read(cols: list[int], rows: int) -> Iterator[np.ndarray]:
        done = 0
        try:
            with pq.ParquetFile(path) as parquet:
                for batch in parquet.iter_batches(batch_size=rows, columns=[names[j] for j in cols]):
                    yield _batch_to_array(batch)
                    done += batch.num_rows
        except (pa.ArrowException, OSError) as exc:
            raise DataSourceError(f"{path} could not be read after row {done} (corrupt?): {exc}") from exc

    is_f32 = tuple(pa.types.is_float32(f.type) for f in schema)
    return _Layout(names, len(names), n_rows, is_f32, read, non_numeric)


def _batch_to_array(batch: Any) -> np.ndarray:
    # Nulls become NaN (to_numpy of a column with nulls is float), caught by the finiteness check.
    return np.column_stack([batch.column(k).to_numpy(zero_copy_only=False) for k in range(batch.num_columns)])


def _csv_pyarrow() -> Any:
    """pyarrow's CSV module, or None to use the pure-Python reader (pyarrow is optional for text files)."""
    try:
        import pyarrow.csv
    except ImportError:
        return None
    return pyarrow.csv


def _split_line(line: str, delimiter: str | None) -> list[str]:
    if delimiter is None:
        return line.split()
    return next(csv.reader([line], delimiter=delimiter), [])


def _open_csv(path: Path, delimiter: str | None) -> _Layout:
    with open(path, newline="", encoding="utf-8-sig") as f:
        skipped = 0
        first = f.readline()
        while first and not first.strip():
            skipped, first = skipped + 1, f.readline()
        second = f.readline()
        while second and not second.strip():
            second = f.readline()
    if not first:
        raise DataSourceError(f"{path} is empty: it has no data rows.")
    if delimiter is None:  # .txt: tab, comma or semicolon if the first line has one, else whitespace
        delimiter = next((d for d in "\t,;" if d in first), None)
    fields = _split_line(first.rstrip("\r\n"), delimiter)
    has_header = not all(_is_number(s) for s in fields)
    if has_header and not second:
        raise DataSourceError(f"{path} has a header row but no data rows.")
    names = tuple(s.strip() for s in fields) if has_header else None
    skip = skipped + 1 if has_header else skipped
    n_columns = len(fields)

    def read(cols: list[int], rows: int) -> Iterator[np.ndarray]:
        pacsv = _csv_pyarrow()
        if pacsv is None or delimiter is None:
            return _csv_blocks_python(path, delimiter, skip, names, n_columns, cols, rows, 0)
        return _csv_blocks_arrow(pacsv, path, delimiter, skip, names, n_columns, cols, rows)

    return _Layout(names, n_columns, None, (False,) * n_columns, read)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return text.strip() in _MISSING  # a missing value says nothing about a header; a name does
    return True


def _csv_blocks_arrow(
    pacsv: Any, path: Path, delimiter: str, skip: int, names: tuple[str, ...] | None, n_columns: int,
    cols: list[int], rows: int,
) -> Iterator[np.ndarray]:
    import pyarrow as pa

    # Our own column names: a header may repeat a name, and a file without one has none.
    own = [f"c{j}" for j in range(n_columns)]
    chosen = [own[j] for j in cols]
    options = {
        "read_options": pacsv.ReadOptions(
            column_names=own, skip_rows=skip, block_size=int(min(max(rows * n_columns * 24, 1 << 20), 1 << 28))
        ),
        "parse_options": pacsv.ParseOptions(delimiter=delimiter),
        "convert_options": pacsv.ConvertOptions(
            column_types={c: pa.float64() for c in chosen}, include_columns=chosen
        ),
    }
    done = 0
    try:
        for batch in pacsv.open_csv(path, **options):
            yield _batch_to_array(batch)
            done += batch.num_rows
    except pa.ArrowInvalid:
        # pyarrow says what is wrong but not on which row: the Python reader goes on from the failing block and
        # either names the row and column or reads past something pyarrow rejects (such as "1_000").
        yield from _csv_blocks_python(path, delimiter, skip, names, n_columns, cols, rows, done)


def _csv_blocks_python(
    path: Path, delimiter: str | None, skip: int, names: tuple[str, ...] | None, n_columns: int,
    cols: list[int], rows: int, start_row: int,
) -> Iterator[np.ndarray]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        for _ in range(skip):
            f.readline()
        records = csv.reader(f, delimiter=delimiter) if delimiter else (line.split() for line in f)
        row, first, block = 0, start_row, []
        for record in records:
            if not record:  # blank line
                continue
            if row >= start_row:
                if len(record) != n_columns:
                    raise DataSourceError(
                        f"Row {row} of {path} has {len(record)} fields; expected {n_columns}."
                    )
                block.append([record[j] for j in cols])
                if len(block) == rows:
                    yield _parse_block(block, first, names, cols, path)
                    first, block = row + 1, []
            row += 1
        if block:
            yield _parse_block(block, first, names, cols, path)


def _parse_block(
    block: list[list[str]], first_row: int, names: tuple[str, ...] | None, cols: list[int], path: Path
) -> np.ndarray:
    try:
        return np.array(block, dtype=np.float64)
    except ValueError:
        pass
    out = np.empty((len(block), len(cols)))
    for i, record in enumerate(block):
        for k, text in enumerate(record):
            try:
                out[i, k] = np.nan if text.strip() in _MISSING else float(text)
            except ValueError:
                raise DataSourceError(
                    f"Non-numeric value {text!r} at row {first_row + i}, column {_label(names, cols[k])} of {path}."
                ) from None
    return out

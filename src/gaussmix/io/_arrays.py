"""Readers for binary arrays with a shape and dtype header: ``.npy``, ``.npz`` and zarr.

Each checks that the array is 2-D (rows, features) and numeric before any data is read, and reads row blocks by
slicing: ``.npy`` straight from the file into each block, ``.npz`` from the array once loaded, zarr chunk by chunk.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from numpy.lib import format as npy_format

from ..exceptions import DataSourceError
from ._layout import BlockReader, Layout

__all__ = ["open_npy", "open_npz", "open_zarr"]


def open_npy(path: Path) -> Layout:
    """Read the header of a ``.npy`` file; blocks are read straight from the file, one at a time."""
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
                # numpy declares ndarray.__buffer__ for Python >= 3.12 only, so for 3.10 it is no Buffer.
                got = f.readinto(block.reshape(-1).view(np.uint8))  # type: ignore[arg-type]
                if got != block.nbytes:
                    raise DataSourceError(f"{path} ended at row {lo + got // row_bytes} while being read.")
                yield block if everything else block[:, cols]

    is_f32 = dtype == np.float32
    return Layout(None, n_columns, n_rows, (is_f32,) * n_columns, read)


def open_npz(path: Path, key: str | None) -> Layout:
    """Load array ``key`` (or the only one) of an ``.npz`` archive whole: a zip member cannot be read by row."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            keys = list(archive.files)
            key = _pick_key(path, key, keys)
            array = archive[key]
    except MemoryError:
        raise DataSourceError(
            f"{path}: its array {key!r} cannot be held in memory (an .npz member is loaded whole, and its header "
            "asks for more than is available); save the data as .npy, which is read in row blocks."
        ) from None
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, zlib.error, struct.error, NotImplementedError,
            RuntimeError) as exc:  # RuntimeError: an encrypted member
        raise DataSourceError(f"{path} is not a readable .npz file: {exc}.") from exc
    _check_array(path, array.shape, array.dtype)
    n_rows, n_columns = array.shape
    reader = _slicing_reader(np.ascontiguousarray(array), n_rows, n_columns)
    return Layout(None, n_columns, n_rows, (array.dtype == np.float32,) * n_columns, reader)


def _pick_key(path: Path, key: str | None, keys: list[str]) -> str:
    """The array chosen by ``key``, or the only one there is; else an error listing them."""
    if key is not None and key not in keys:
        raise DataSourceError(f"{path} has no array {key!r}; it has {', '.join(map(repr, keys)) or 'none'}.")
    if key is None and len(keys) != 1:
        raise DataSourceError(
            f"{path} holds {len(keys)} arrays ({', '.join(map(repr, keys))}); choose one with key=."
        )
    return key if key is not None else keys[0]


def open_zarr(path: Path, key: str | None) -> Layout:
    """Open a zarr array, or array ``key`` (or the only one) of a zarr group; blocks are sliced from it."""
    try:
        import zarr
    except ImportError as exc:
        raise ImportError('Reading zarr arrays needs zarr: pip install "gaussmix[zarr]"') from exc
    try:
        node: Any = zarr.open(str(path), mode="r")  # an array or a group, told apart by duck typing
        if not hasattr(node, "shape"):  # a group: pick one of its arrays
            names = sorted(name for name, _ in node.arrays())
            node = node[_pick_key(path, key, names)]
    except (ValueError, KeyError, OSError) as exc:
        raise DataSourceError(f"{path} is not a readable zarr array: {exc}") from exc
    _check_array(path, tuple(node.shape), np.dtype(node.dtype))
    n_rows, n_columns = node.shape
    is_f32 = np.dtype(node.dtype) == np.float32
    return Layout(None, n_columns, n_rows, (is_f32,) * n_columns, _slicing_reader(node, n_rows, n_columns))


def _check_array(path: Path, shape: tuple[int, ...], dtype: np.dtype, fortran_order: bool = False) -> None:
    """Raise unless the header describes a non-empty, C-ordered, numeric 2-D array."""
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
    """Blocks of rows of anything sliceable along its first axis (a NumPy or zarr array)."""

    def read(cols: list[int], rows: int) -> Iterator[np.ndarray]:
        everything = cols == list(range(n_columns))
        for lo in range(0, n_rows, rows):
            block = np.asarray(array[lo : lo + rows])
            yield block if everything else block[:, cols]

    return read

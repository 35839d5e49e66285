"""Reader for Parquet files: the schema gives names, types and the row count; blocks are pyarrow record batches.

The only io module that needs pyarrow for a whole format; it is imported when a Parquet file is opened.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import DataSourceError
from ._layout import Layout, batch_to_block

__all__ = ["open_parquet"]


def _import_pyarrow(what: str) -> Any:
    try:
        import pyarrow
    except ImportError as exc:
        raise ImportError(f'Reading {what} needs pyarrow: pip install "gaussmix[parquet]"') from exc
    return pyarrow


def _is_numeric(pa: Any, kind: Any) -> bool:
    """Integers, floats, booleans and decimals, and dictionary-encoded columns of them, read as float64."""
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return any(test(kind) for test in (pa.types.is_integer, pa.types.is_floating, pa.types.is_boolean,
                                       pa.types.is_decimal))


def _as_float64(pa: Any, batch: Any) -> Any:
    """The chosen (numeric) columns as float64, nulls kept as nulls (then NaN, caught by the finiteness check)."""
    columns = []
    for column in batch.columns:
        if pa.types.is_dictionary(column.type):
            column = column.dictionary_decode()
        columns.append(column if pa.types.is_float64(column.type) or pa.types.is_float32(column.type)
                       else column.cast(pa.float64()))
    return pa.RecordBatch.from_arrays(columns, names=batch.schema.names)


def open_parquet(path: Path) -> Layout:
    """Read a Parquet file's schema and row count; non-numeric columns are recorded, to fail only if chosen."""
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
    numeric = [_is_numeric(pa, f.type) for f in schema]
    non_numeric = {j: str(f.type) for j, f in enumerate(schema) if not numeric[j]}

    def read(cols: list[int], rows: int) -> Iterator[np.ndarray]:
        done = 0
        try:
            with pq.ParquetFile(path) as parquet:
                for batch in parquet.iter_batches(batch_size=rows, columns=[names[j] for j in cols]):
                    yield batch_to_block(_as_float64(pa, batch))
                    done += batch.num_rows
        except (pa.ArrowException, OSError) as exc:
            raise DataSourceError(f"{path} could not be read after row {done} (corrupt?): {exc}") from exc

    is_f32 = tuple(pa.types.is_float32(f.type) for f in schema)
    return Layout(names, len(names), n_rows, is_f32, read, non_numeric)

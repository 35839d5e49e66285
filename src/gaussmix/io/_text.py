"""Reader for delimited text (CSV, TSV, TXT): header detection, pyarrow's streaming reader, a pure-Python fallback.

pyarrow is optional here: without it, or when it rejects a block, the Python reader parses the rows and names the
row and column of any value that is not a number.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import DataSourceError
from ._layout import Layout, batch_to_block, column_label

__all__ = ["open_text"]

# Cells pyarrow's CSV reader takes as null (then NaN); the fallback reader treats them the same way.
_MISSING = frozenset({"", "NA", "N/A", "NaN", "nan", "-NaN", "-nan", "NULL", "null", "#N/A", "#NA", "n/a"})


def open_text(path: Path, delimiter: str | None) -> Layout:
    """Read the first lines of a text file: delimiter (None: sniffed, for .txt), header row, column count.

    A column whose first data row holds text (not a number nor a missing value) is recorded as non-numeric, so
    it fails when chosen, or is skipped, at open time as a Parquet string column is.
    """
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            skipped = 0
            first = f.readline()
            while first and not first.strip():
                skipped, first = skipped + 1, f.readline()
            second = f.readline()
            while second and not second.strip():
                second = f.readline()
    except UnicodeDecodeError:
        raise _not_utf8(path) from None
    if not first:
        raise DataSourceError(f"{path} is empty: it has no data rows.")
    if delimiter is None:  # .txt: tab, comma or semicolon if the first line has one, else whitespace
        delimiter = next((d for d in "\t,;" if d in first), None)
    fields = _split_line(first.rstrip("\r\n"), delimiter, path)
    has_header = not all(_is_number(s) for s in fields)
    if has_header and not second:
        raise DataSourceError(f"{path} has a header row but no data rows.")
    names = tuple(s.strip() for s in fields) if has_header else None
    values = _split_line(second.rstrip("\r\n"), delimiter, path) if has_header else fields
    non_numeric = {} if len(values) != len(fields) else {
        j: f"text ({text.strip()!r} in the first data row)" for j, text in enumerate(values) if not _is_number(text)
    }
    skip = skipped + 1 if has_header else skipped
    n_columns = len(fields)

    def read(cols: list[int], rows: int) -> Iterator[np.ndarray]:
        pacsv = _csv_pyarrow()
        if pacsv is None or delimiter is None:
            return _csv_blocks_python(path, delimiter, skip, names, n_columns, cols, rows, 0)
        return _csv_blocks_arrow(pacsv, path, delimiter, skip, names, n_columns, cols, rows)

    return Layout(names, n_columns, None, (False,) * n_columns, read, non_numeric)


def _csv_pyarrow() -> Any:
    """pyarrow's CSV module, or None to use the pure-Python reader (pyarrow is optional for text files)."""
    try:
        import pyarrow.csv
    except ImportError:
        return None
    return pyarrow.csv


def _split_line(line: str, delimiter: str | None, path: Path) -> list[str]:
    if delimiter is None:
        return line.split()
    try:
        return next(csv.reader([line], delimiter=delimiter), [])
    except csv.Error as exc:
        raise DataSourceError(f"The first lines of {path} cannot be read as CSV: {exc}.") from None


def _not_utf8(path: Path) -> DataSourceError:
    """The error for a text file that is not UTF-8: where the first bad byte is, and how to re-encode the file."""
    with open(path, "rb") as f:
        if f.read(2) in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            return DataSourceError(
                f"{path} is UTF-16 text (it starts with a UTF-16 byte-order mark); gaussmix reads UTF-8 text. "
                f"Re-encode it as UTF-8, e.g. iconv -f UTF-16 -t UTF-8 {path.name} > {path.stem}-utf8{path.suffix}"
            )
        f.seek(0)
        decoder, offset, lines = codecs.getincrementaldecoder("utf-8")(), 0, 0
        while block := f.read(1 << 20):
            pending = decoder.getstate()[0]
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                where = offset - len(pending) + exc.start
                line = lines + (pending + block)[: exc.start].count(b"\n") + 1
                return DataSourceError(
                    f"{path} is not UTF-8 text: the byte 0x{(pending + block)[exc.start]:02x} at offset {where} "
                    f"(line {line}) is not valid UTF-8. Re-encode the file as UTF-8, e.g. iconv -f LATIN1 -t UTF-8 "
                    f"{path.name} > {path.stem}-utf8{path.suffix}"
                )
            offset += len(block)
            lines += block.count(b"\n")
    return DataSourceError(f"{path} is not UTF-8 text; re-encode it as UTF-8.")


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
            yield batch_to_block(batch)
            done += batch.num_rows
    except pa.ArrowInvalid:
        # pyarrow says what is wrong but not on which row: the Python reader goes on from the failing block and
        # either names the row and column or reads past something pyarrow rejects (such as "1_000").
        yield from _csv_blocks_python(path, delimiter, skip, names, n_columns, cols, rows, done)


def _csv_blocks_python(
    path: Path, delimiter: str | None, skip: int, names: tuple[str, ...] | None, n_columns: int,
    cols: list[int], rows: int, start_row: int,
) -> Iterator[np.ndarray]:
    try:
        yield from _csv_records_python(path, delimiter, skip, names, n_columns, cols, rows, start_row)
    except UnicodeDecodeError:
        raise _not_utf8(path) from None


def _csv_records_python(
    path: Path, delimiter: str | None, skip: int, names: tuple[str, ...] | None, n_columns: int,
    cols: list[int], rows: int, start_row: int,
) -> Iterator[np.ndarray]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        for _ in range(skip):
            f.readline()
        records = csv.reader(f, delimiter=delimiter) if delimiter else (line.split() for line in f)
        row, first, block = 0, start_row, []
        for record in _csv_checked(records, path):
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


def _csv_checked(records: Iterator[list[str]], path: Path) -> Iterator[list[str]]:
    """The records, with the csv module's errors (a field over its size limit) naming the file and data row."""
    row = 0
    while True:
        try:
            record = next(records)
        except StopIteration:
            return
        except csv.Error as exc:
            raise DataSourceError(f"Row {row} of {path} cannot be read as CSV: {exc}.") from None
        row += bool(record)  # blank lines are not rows
        yield record


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
                    f"Non-numeric value {text!r} at row {first_row + i}, "
                    f"column {column_label(names, cols[k])} of {path}."
                ) from None
    return out

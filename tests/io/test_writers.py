"""open_writer: rows written block by block read back exactly with pandas, pyarrow and NumPy, and a failed write
leaves no file, half-written or temporary, behind."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from gaussmix.io.sources import open_data
from gaussmix.io.writers import open_writer

COLUMNS = ["row", "label", "log_prob"]


def blocks(rng: np.random.Generator) -> list[dict[str, np.ndarray]]:
    """Blocks of uneven sizes (one empty) with an integer and two float columns, as predictions come out."""
    out, start = [], 0
    for size in (7, 0, 30, 1, 13):
        out.append({
            "row": np.arange(start, start + size),
            "label": rng.integers(0, 5, size),
            "log_prob": rng.normal(-3.0, 10.0, size) / 3.0,  # digits that only a shortest-repr writer keeps
        })
        start += size
    return out


def read_back(path) -> pd.DataFrame:
    suffix = path.suffix
    if suffix == ".csv":
        return pd.read_csv(path)
    if suffix == ".tsv":
        return pd.read_csv(path, sep="\t")
    if suffix == ".parquet":
        return pq.read_table(path).to_pandas()
    return pd.DataFrame(np.load(path), columns=COLUMNS)


def siblings(path) -> list[str]:
    return sorted(os.listdir(path.parent))


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet", ".npy"])
def test_blocks_written_read_back_exactly(tmp_path, rng, suffix):
    path = tmp_path / f"out{suffix}"
    written = blocks(rng)
    with open_writer(path, COLUMNS) as out:
        for block in written:
            out.write(block)
        assert not path.exists(), "the target must appear only when the writer closes"
    expected = pd.DataFrame({c: np.concatenate([b[c] for b in written]) for c in COLUMNS})
    got = read_back(path)
    assert list(got.columns) == COLUMNS
    np.testing.assert_array_equal(got.to_numpy(dtype=float), expected.to_numpy(dtype=float))
    if suffix != ".npy":  # one dtype for the whole .npy array; text and Parquet keep integer columns integer
        assert got["label"].dtype.kind == "i" and got["row"].dtype.kind == "i"
    assert siblings(path) == [path.name]


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".npy"])
def test_written_file_is_read_by_open_data(tmp_path, rng, suffix):
    X = rng.normal(size=(50, 3))
    path = tmp_path / f"x{suffix}"
    with open_writer(path, ["a", "b", "c"], n_rows=50) as out:
        for lo in range(0, 50, 9):
            out.write(X[lo : lo + 9])
    source = open_data(path, chunk_rows=16)
    np.testing.assert_array_equal(np.concatenate([c.X for c in source.chunks()]), X)
    assert source.feature_names == (None if suffix == ".npy" else ("a", "b", "c"))


def test_npy_header_holds_the_final_row_count_in_a_64_byte_aligned_header(tmp_path):
    path = tmp_path / "many.npy"
    with open_writer(path, ["x"]) as out:
        for lo in range(0, 123_457, 10_000):
            out.write(np.arange(lo, min(lo + 10_000, 123_457), dtype=np.int32)[:, None])
    with open(path, "rb") as f:
        np.lib.format.read_magic(f)
        shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(f)
        assert f.tell() % 64 == 0
    assert shape == (123_457, 1) and not fortran_order and dtype == np.int32
    np.testing.assert_array_equal(np.load(path)[:, 0], np.arange(123_457))


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".npy"])
def test_an_error_inside_the_block_leaves_the_old_file_and_no_temporary_file(tmp_path, suffix):
    path = tmp_path / f"keep{suffix}"
    with open_writer(path, ["a"]) as out:
        out.write(np.array([[1.0], [2.0]]))
    before = path.read_bytes()
    with pytest.raises(KeyboardInterrupt):
        with open_writer(path, ["a"]) as out:
            out.write(np.array([[5.0], [6.0], [7.0]]))
            raise KeyboardInterrupt
    assert path.read_bytes() == before
    assert siblings(path) == [path.name]
    with pytest.raises(RuntimeError):
        with open_writer(tmp_path / f"new{suffix}", ["a"]) as out:
            out.write(np.array([[5.0]]))
            raise RuntimeError("disk on fire")
    assert siblings(path) == [path.name]


def test_a_row_count_other_than_n_rows_is_an_error_and_writes_nothing(tmp_path):
    path = tmp_path / "short.csv"
    with pytest.raises(ValueError, match=r"2 rows were written to .*short\.csv; n_rows=3"):
        with open_writer(path, ["a", "b"], n_rows=3) as out:
            out.write(np.ones((2, 2)))
    assert siblings(path) == []


def test_bad_blocks_are_refused_naming_the_column(tmp_path):
    path = tmp_path / "p.csv"
    with open_writer(path, ["a", "b"]) as out:
        with pytest.raises(ValueError, match=r"exactly the columns \['a', 'b'\]; missing \['b'\], unknown \['c'\]"):
            out.write({"a": np.ones(2), "c": np.ones(2)})
        with pytest.raises(ValueError, match=r"Column 'b' .* has shape \(3,\); expected \(2,\), as column 'a'"):
            out.write({"a": np.ones(2), "b": np.ones(3)})
        with pytest.raises(ValueError, match=r"has shape \(2, 3\); expected \(rows, 2\)"):
            out.write(np.ones((2, 3)))
        out.write(np.zeros((1, 2)))
    with pytest.raises(ValueError, match="is closed"):
        out.write(np.zeros((1, 2)))
    assert pd.read_csv(path).shape == (1, 2)


def test_npy_refuses_a_later_block_that_would_lose_its_fractions(tmp_path):
    with pytest.raises(ValueError, match="float64 cannot be appended to a .npy file of int64"):
        with open_writer(tmp_path / "i.npy", ["a"]) as out:
            out.write(np.array([[1], [2]]))
            out.write(np.array([[0.5]]))
    assert siblings(tmp_path / "i.npy") == []


@pytest.mark.parametrize("suffix, check", [
    (".csv", lambda p: p.read_text() == "a,b\n"),
    (".npy", lambda p: np.load(p).shape == (0, 2)),
    (".parquet", lambda p: pq.read_table(p).column_names == ["a", "b"] and pq.read_table(p).num_rows == 0),
])
def test_a_writer_given_no_rows_writes_a_valid_empty_file(tmp_path, suffix, check):
    path = tmp_path / f"empty{suffix}"
    with open_writer(path, ["a", "b"]):
        pass
    assert check(path)


def test_unknown_suffix_and_bad_columns_are_refused(tmp_path):
    with pytest.raises(ValueError, match=r"unknown suffix '\.xlsx'; expected one of \.csv, \.tsv, \.parquet, \.npy"):
        open_writer(tmp_path / "x.xlsx", ["a"])
    with pytest.raises(ValueError, match="columns must be distinct names"):
        open_writer(tmp_path / "x.csv", ["a", "a"])
    assert siblings(tmp_path / "x.csv") == []


def test_written_file_gets_the_usual_permissions_not_a_private_temp_files(tmp_path):
    reference = tmp_path / "plain.txt"
    reference.write_text("x")
    with open_writer(tmp_path / "out.csv", ["a"]) as out:
        out.write(np.ones((1, 1)))
    assert (tmp_path / "out.csv").stat().st_mode == reference.stat().st_mode

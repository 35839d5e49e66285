"""open_data: every format reads back what an independent writer (NumPy, pandas, pyarrow, zarr) stored, in any
block size, and every bad file fails with a message naming the file, row and column."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import zarr

from gaussmix.core.chunks import Chunk
from gaussmix.exceptions import DataSourceError
from gaussmix.io import _text
from gaussmix.io.sources import is_data_path, open_data

N_ROWS, NAMES = 100, ["a", "b", "c"]


@pytest.fixture
def data() -> np.ndarray:
    return np.random.default_rng(7).normal(size=(N_ROWS, 3)) * [1.0, 100.0, 1e-3]


@pytest.fixture(params=["pyarrow", "python"])
def csv_engine(request, monkeypatch):
    """Run a CSV test with pyarrow's streaming reader and with the pure-Python fallback."""
    if request.param == "python":
        monkeypatch.setattr(_text, "_csv_pyarrow", lambda: None)
    return request.param


def read_all(source) -> tuple[np.ndarray, np.ndarray | None, list[int]]:
    chunks = list(source.chunks())
    assert all(isinstance(c, Chunk) for c in chunks)
    weights = None if chunks[0].sample_weight is None else np.concatenate([c.sample_weight for c in chunks])
    return np.concatenate([c.X for c in chunks]), weights, [c.offset for c in chunks]


def write(fmt: str, path, X: np.ndarray, names=NAMES) -> None:
    """Store X with a library other than gaussmix, as a user would."""
    frame = pd.DataFrame(X, columns=names)
    if fmt == "npy":
        np.save(path, X)
    elif fmt == "npz":
        np.savez_compressed(path, X=X)
    elif fmt == "parquet":
        frame.to_parquet(path, row_group_size=30)
    elif fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "csv-noheader":
        frame.to_csv(path, index=False, header=False)
    elif fmt == "tsv":
        frame.to_csv(path, index=False, sep="\t")
    elif fmt == "txt":
        np.savetxt(path, X, fmt="%.17g")  # whitespace-separated, no header
    elif fmt == "zarr":
        zarr.create_array(store=str(path), shape=X.shape, dtype=X.dtype, chunks=(16, X.shape[1]))[:] = X


SUFFIX = {"csv-noheader": "csv", "zarr": "zarr"}
FORMATS = ["npy", "npz", "parquet", "csv", "csv-noheader", "tsv", "txt", "zarr"]
NAMED = {"parquet", "csv", "tsv"}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("chunk_rows", [7, 100, None])
def test_every_format_reads_back_the_stored_matrix_in_any_block_size(tmp_path, data, fmt, chunk_rows, csv_engine):
    path = tmp_path / f"data.{SUFFIX.get(fmt, fmt)}"
    write(fmt, path, data)
    source = open_data(path, chunk_rows=chunk_rows)
    X, w, offsets = read_all(source)
    np.testing.assert_array_equal(X, data)
    assert w is None and X.dtype == np.float64 and X.flags.c_contiguous
    assert source.n_features == 3 and source.path == path
    assert source.feature_names == (tuple(NAMES) if fmt in NAMED else None)
    assert source.n_rows == (None if fmt in {"csv", "csv-noheader", "tsv", "txt"} else N_ROWS)
    step = chunk_rows or N_ROWS
    assert offsets == list(range(0, N_ROWS, step))


def test_chunks_of_seven_rows_cover_100_rows_in_order_and_can_be_read_twice(tmp_path, data):
    np.save(tmp_path / "x.npy", data)
    source = open_data(tmp_path / "x.npy", chunk_rows=7)
    first, second = list(source.chunks()), list(source.chunks())
    assert [c.X.shape[0] for c in first] == [7] * 14 + [2]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a.X, data[a.offset : a.offset + a.X.shape[0]])
        np.testing.assert_array_equal(a.X, b.X)


def test_default_chunk_rows_is_about_8_mb_and_at_least_16(tmp_path):
    np.save(tmp_path / "narrow.npy", np.zeros((10, 2)))
    np.save(tmp_path / "wide.npy", np.zeros((10, 4000)))
    np.save(tmp_path / "wider.npy", np.zeros((1, 100_000)))
    assert open_data(tmp_path / "narrow.npy").chunk_rows == 8 * 2**20 // (8 * 2)
    assert open_data(tmp_path / "wide.npy").chunk_rows == 8 * 2**20 // (8 * 4000)
    assert open_data(tmp_path / "wider.npy").chunk_rows == 16


@pytest.mark.parametrize("fmt", ["npy", "parquet", "zarr"])
def test_float32_files_stay_float32_and_integers_become_float64(tmp_path, fmt):
    X32 = np.arange(30, dtype=np.float32).reshape(10, 3) / 7
    write(fmt, tmp_path / f"f.{fmt}", X32)
    X, _, _ = read_all(open_data(tmp_path / f"f.{fmt}", chunk_rows=4))
    assert X.dtype == np.float32
    np.testing.assert_array_equal(X, X32)
    X64, _, _ = read_all(open_data(tmp_path / f"f.{fmt}", dtype=np.float64))
    assert X64.dtype == np.float64
    write(fmt, tmp_path / f"i.{fmt}", np.arange(30, dtype=np.int32).reshape(10, 3))
    Xi, _, _ = read_all(open_data(tmp_path / f"i.{fmt}"))
    assert Xi.dtype == np.float64
    np.testing.assert_array_equal(Xi, np.arange(30).reshape(10, 3))


def test_big_endian_npy_is_read_as_native_floats(tmp_path, data):
    np.save(tmp_path / "be.npy", data.astype(">f8"))
    X, _, _ = read_all(open_data(tmp_path / "be.npy", chunk_rows=9))
    np.testing.assert_array_equal(X, data)


def test_dtype_must_be_float32_or_float64(tmp_path, data):
    np.save(tmp_path / "x.npy", data)
    X, _, _ = read_all(open_data(tmp_path / "x.npy", dtype="float32"))
    np.testing.assert_array_equal(X, data.astype(np.float32))
    with pytest.raises(ValueError, match="dtype must be float32, float64 or None; got int64"):
        open_data(tmp_path / "x.npy", dtype=np.int64)
    with pytest.raises(ValueError, match="chunk_rows must be a positive integer"):
        open_data(tmp_path / "x.npy", chunk_rows=0)


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_columns_by_name_and_by_index_select_the_same_data(tmp_path, data, fmt, csv_engine):
    path = tmp_path / f"d.{fmt}"
    write(fmt, path, data)
    by_name = open_data(path, columns=["c", "a"], chunk_rows=11)
    by_index = open_data(path, columns=[2, -3], chunk_rows=11)
    assert by_name.feature_names == by_index.feature_names == ("c", "a")
    np.testing.assert_array_equal(read_all(by_name)[0], data[:, [2, 0]])
    np.testing.assert_array_equal(read_all(by_index)[0], data[:, [2, 0]])


def test_unknown_column_name_lists_the_available_columns(tmp_path, data):
    write("csv", tmp_path / "d.csv", data)
    with pytest.raises(DataSourceError, match=r"has no column 'd'; available columns: 'a', 'b', 'c'"):
        open_data(tmp_path / "d.csv", columns=["a", "d"])
    with pytest.raises(DataSourceError, match="Column index 3 is out of range: .* has 3 columns"):
        open_data(tmp_path / "d.csv", columns=[3])
    with pytest.raises(DataSourceError, match="chosen twice"):
        open_data(tmp_path / "d.csv", columns=["a", 0])
    np.save(tmp_path / "d.npy", data)
    with pytest.raises(DataSourceError, match=r"has no column names.*choose columns by index \(0 to 2\)"):
        open_data(tmp_path / "d.npy", columns=["a"])


@pytest.mark.parametrize("fmt", ["csv", "parquet", "npy"])
def test_weight_column_is_read_as_weights_and_left_out_of_x(tmp_path, data, fmt, csv_engine):
    weights = np.random.default_rng(1).uniform(0, 3, N_ROWS).round(3)
    table = np.column_stack([data[:, 0], weights, data[:, 1:]])
    path = tmp_path / f"w.{fmt}"
    write(fmt, path, table, names=["a", "w", "b", "c"])
    spec = 1 if fmt == "npy" else "w"
    source = open_data(path, chunk_rows=13, sample_weight_column=spec)
    X, w, _ = read_all(source)
    np.testing.assert_array_equal(X, data)
    np.testing.assert_array_equal(w, weights)
    assert source.feature_names == (None if fmt == "npy" else ("a", "b", "c"))
    X2, w2, _ = read_all(open_data(path, columns=[3, 0], sample_weight_column=spec))
    np.testing.assert_array_equal(X2, data[:, [2, 0]])
    np.testing.assert_array_equal(w2, weights)
    with pytest.raises(DataSourceError, match="cannot be both in columns and the sample_weight_column"):
        open_data(path, columns=[0, 1], sample_weight_column=1)


@pytest.mark.parametrize("bad, what", [(-0.5, "-0.5"), (np.nan, "nan")])
def test_negative_or_nan_weight_names_its_row(tmp_path, data, bad, what, csv_engine):
    weights = np.ones(N_ROWS)
    weights[58] = bad
    write("csv", tmp_path / "w.csv", np.column_stack([data, weights]), names=[*NAMES, "w"])
    source = open_data(tmp_path / "w.csv", chunk_rows=10, sample_weight_column="w")
    with pytest.raises(DataSourceError, match=f"column 'w' \\(index 3\\) has the value {what} at row 58 of"):
        read_all(source)


@pytest.mark.parametrize("fmt", ["csv", "npy", "parquet"])
@pytest.mark.parametrize("value, word", [(np.nan, "NaN"), (-np.inf, "infinity")])
def test_nan_or_inf_is_reported_at_its_global_row_and_column(tmp_path, data, fmt, value, word, csv_engine):
    data[41, 1] = value
    path = tmp_path / f"data.{fmt}"
    write(fmt, path, data, names=["eruptions", "waiting", "other"])
    label = "1" if fmt == "npy" else "'waiting' \\(index 1\\)"
    with pytest.raises(DataSourceError, match=f"X contains {word} at row 41, column {label} of .*data.{fmt}"):
        read_all(open_data(path, chunk_rows=8))


def test_nan_in_an_unchosen_column_is_ignored(tmp_path, data):
    data[5, 2] = np.nan
    np.save(tmp_path / "x.npy", data)
    X, _, _ = read_all(open_data(tmp_path / "x.npy", columns=[0, 1], chunk_rows=4))
    np.testing.assert_array_equal(X, data[:, :2])


def test_empty_csv_cell_is_reported_as_nan_at_its_row(tmp_path, csv_engine):
    (tmp_path / "gap.csv").write_text("x,y\n1,2\n3,4\n5,\n")
    with pytest.raises(DataSourceError, match="X contains NaN at row 2, column 'y' \\(index 1\\)"):
        read_all(open_data(tmp_path / "gap.csv"))


def test_non_numeric_csv_value_names_its_global_row_and_column(tmp_path, data, csv_engine):
    write("csv", tmp_path / "d.csv", data)
    lines = (tmp_path / "d.csv").read_text().splitlines()
    fields = lines[1 + 57].split(",")
    fields[1] = "seven"
    lines[1 + 57] = ",".join(fields)
    (tmp_path / "d.csv").write_text("\n".join(lines) + "\n")
    with pytest.raises(DataSourceError, match="Non-numeric value 'seven' at row 57, column 'b' \\(index 1\\) of"):
        read_all(open_data(tmp_path / "d.csv", chunk_rows=10))
    # Columns not chosen are never parsed, so the text does not matter there.
    X, _, _ = read_all(open_data(tmp_path / "d.csv", columns=["a", "c"], chunk_rows=10))
    np.testing.assert_array_equal(X, data[:, [0, 2]])


def test_csv_row_with_a_missing_field_names_the_row(tmp_path, csv_engine):
    (tmp_path / "short.csv").write_text("1,2\n3,4\n5\n7,8\n")
    with pytest.raises(DataSourceError, match="Row 2 of .* has 1 fields; expected 2"):
        read_all(open_data(tmp_path / "short.csv"))


def test_clean_csv_is_read_by_pyarrow_without_the_python_fallback(tmp_path, data, monkeypatch):
    def no_fallback(*args):
        raise AssertionError("the pure-Python reader was used")

    monkeypatch.setattr(_text, "_csv_blocks_python", no_fallback)
    write("csv", tmp_path / "d.csv", data)
    np.testing.assert_array_equal(read_all(open_data(tmp_path / "d.csv", chunk_rows=7))[0], data)


def test_csv_header_is_detected_by_a_non_numeric_field(tmp_path, csv_engine):
    (tmp_path / "h.csv").write_text('"eruptions","waiting"\n3.6,79\n1.8,54\n\n3.333,74\n')
    (tmp_path / "n.csv").write_text("3.6,79\n1.8,54\n3.333,74\n")
    named, plain = open_data(tmp_path / "h.csv"), open_data(tmp_path / "n.csv")
    assert named.feature_names == ("eruptions", "waiting") and plain.feature_names is None
    expected = np.array([[3.6, 79], [1.8, 54], [3.333, 74]])
    np.testing.assert_array_equal(read_all(named)[0], expected)
    np.testing.assert_array_equal(read_all(plain)[0], expected)


def test_faithful_csv_matches_pandas(csv_engine):
    from pathlib import Path

    path = Path(__file__).parents[1] / "data" / "faithful.csv"
    source = open_data(path, chunk_rows=50)
    np.testing.assert_array_equal(read_all(source)[0], pd.read_csv(path).to_numpy(dtype=float))
    assert source.feature_names == ("eruptions", "waiting")


@pytest.mark.parametrize("suffix", ["csv", "tsv", "npy", "parquet", "npz"])
def test_empty_file_is_a_clear_error(tmp_path, suffix):
    (tmp_path / f"empty.{suffix}").write_bytes(b"")
    with pytest.raises(DataSourceError, match="empty.* is empty: it has no data rows"):
        open_data(tmp_path / f"empty.{suffix}")


def test_header_only_or_zero_row_files_have_no_data_rows(tmp_path, csv_engine):
    (tmp_path / "h.csv").write_text("a,b\n\n")
    with pytest.raises(DataSourceError, match="has a header row but no data rows"):
        open_data(tmp_path / "h.csv")
    np.save(tmp_path / "z.npy", np.zeros((0, 3)))
    with pytest.raises(DataSourceError, match=r"shape \(0, 3\): it has no data rows"):
        open_data(tmp_path / "z.npy")
    pd.DataFrame({"a": np.zeros(0)}).to_parquet(tmp_path / "z.parquet")
    with pytest.raises(DataSourceError, match="has no data rows"):
        open_data(tmp_path / "z.parquet")


def test_truncated_npy_names_the_file_and_the_row_where_data_ends(tmp_path, data):
    path = tmp_path / "cut.npy"
    np.save(path, data)
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.truncate(size - (N_ROWS - 41) * 24 + 5)  # 41 whole rows and 5 bytes of the next
    with pytest.raises(DataSourceError, match=r"cut\.npy is truncated: .*promises 100 rows.*ends at row 41"):
        open_data(path)


def test_npy_that_is_not_a_numeric_c_order_matrix_is_refused(tmp_path):
    np.save(tmp_path / "f.npy", np.asfortranarray(np.ones((4, 3))))
    with pytest.raises(DataSourceError, match="Fortran-ordered"):
        open_data(tmp_path / "f.npy")
    np.save(tmp_path / "o.npy", np.array([[1, "a"]], dtype=object), allow_pickle=True)
    with pytest.raises(DataSourceError, match="dtype object; expected a numeric"):
        open_data(tmp_path / "o.npy")
    np.save(tmp_path / "v.npy", np.ones(5))
    with pytest.raises(DataSourceError, match=r"shape \(5,\); expected a 2-D array.*reshape\(-1, 1\)"):
        open_data(tmp_path / "v.npy")
    (tmp_path / "junk.npy").write_bytes(b"not a numpy file at all")
    with pytest.raises(DataSourceError, match="junk.npy is not a readable .npy file"):
        open_data(tmp_path / "junk.npy")


def test_truncated_parquet_is_a_clear_error(tmp_path, data):
    path = tmp_path / "cut.parquet"
    write("parquet", path, data)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(DataSourceError, match="cut.parquet is not a readable Parquet file"):
        open_data(path)


def test_non_numeric_parquet_column_is_named(tmp_path, data):
    frame = pd.DataFrame({"a": data[:, 0], "kind": ["x"] * N_ROWS, "b": data[:, 1]})
    frame.to_parquet(tmp_path / "t.parquet")
    with pytest.raises(DataSourceError, match=r"Column 'kind' \(index 1\) of .* not a number\. .*columns="):
        open_data(tmp_path / "t.parquet")
    with pytest.raises(DataSourceError, match=r"Column 'kind' \(index 1\) of .* has type \w*string, not a number\.$"):
        open_data(tmp_path / "t.parquet", columns=["a", "kind"])
    X, _, _ = read_all(open_data(tmp_path / "t.parquet", columns=["a", "b"], chunk_rows=7))
    np.testing.assert_array_equal(X, data[:, :2])


def test_parquet_nulls_are_reported_as_nan_at_their_row(tmp_path):
    table = pa.table({"a": pa.array([1.0, 2.0, 3.0]), "n": pa.array([1, None, 3], pa.int64())})
    pq.write_table(table, tmp_path / "nulls.parquet")
    with pytest.raises(DataSourceError, match=r"X contains NaN at row 1, column 'n' \(index 1\)"):
        read_all(open_data(tmp_path / "nulls.parquet"))


def test_npz_with_several_arrays_needs_a_key(tmp_path, data):
    np.savez(tmp_path / "two.npz", X=data, other=data[:, :1])
    with pytest.raises(DataSourceError, match="holds 2 arrays .*choose one with key="):
        open_data(tmp_path / "two.npz")
    np.testing.assert_array_equal(read_all(open_data(tmp_path / "two.npz", key="other", chunk_rows=9))[0],
                                  data[:, :1])
    with pytest.raises(DataSourceError, match="has no array 'Y'"):
        open_data(tmp_path / "two.npz", key="Y")


def test_zarr_directory_without_suffix_and_zarr_group_are_read(tmp_path, data):
    zarr.create_array(store=str(tmp_path / "plain"), shape=data.shape, dtype=data.dtype, chunks=(10, 3))[:] = data
    assert is_data_path(tmp_path / "plain")
    np.testing.assert_array_equal(read_all(open_data(tmp_path / "plain", chunk_rows=33))[0], data)
    group = zarr.open_group(str(tmp_path / "g.zarr"), mode="w")
    group.create_array("X", shape=data.shape, dtype=data.dtype)[:] = data
    np.testing.assert_array_equal(read_all(open_data(tmp_path / "g.zarr"))[0], data)


def test_missing_file_and_unknown_suffix_are_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="No such data file.*nowhere.csv"):
        open_data(tmp_path / "nowhere.csv")
    (tmp_path / "x.xlsx").write_bytes(b"PK")
    with pytest.raises(DataSourceError, match=r"unknown data file suffix '\.xlsx'; expected one of \.npy"):
        open_data(tmp_path / "x.xlsx")


def test_is_data_path_knows_suffixes_and_zarr_directories(tmp_path):
    assert is_data_path("data.csv") and is_data_path(tmp_path / "x.NPY") and is_data_path("t.parquet")
    assert not is_data_path("full") and not is_data_path(np.zeros((2, 2))) and not is_data_path(tmp_path)
    assert not is_data_path(3)


def test_csv_is_read_without_pyarrow_installed(tmp_path, data):
    """The pyarrow-free fallback is what users without the parquet extra get; import gaussmix must work too."""
    write("csv", tmp_path / "d.csv", data)
    np.save(tmp_path / "expected.npy", data)
    (tmp_path / "t.parquet").write_bytes(b"PAR1")
    script = textwrap.dedent(f"""
        import sys
        sys.modules["pyarrow"] = None  # import pyarrow now raises ImportError
        import numpy as np
        import gaussmix
        from gaussmix.io.sources import open_data
        X = np.concatenate([c.X for c in open_data({str(tmp_path / "d.csv")!r}, chunk_rows=7).chunks()])
        assert np.array_equal(X, np.load({str(tmp_path / "expected.npy")!r}))
        try:
            open_data({str(tmp_path / "t.parquet")!r})
        except ImportError as exc:
            print(exc)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert 'Reading Parquet files needs pyarrow: pip install "gaussmix[parquet]"' in out.stdout


def test_reading_a_200_mb_npy_in_blocks_keeps_memory_well_below_the_file_size(tmp_path):
    path = tmp_path / "big.npy"
    n_rows, n_columns = 200 * 2**20 // (8 * 25), 25
    header = np.lib.format.header_data_from_array_1_0(np.zeros((1, n_columns)))
    header["shape"] = (n_rows, n_columns)
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, header)
        f.truncate(f.tell() + n_rows * n_columns * 8)  # zeros, written without ever holding them in memory
    # Peak RSS is read as VmHWM, which starts afresh with the child's exec; ru_maxrss would carry over
    # the peak of the pytest process that forked it.
    script = textwrap.dedent(f"""
        import re
        import numpy as np
        from gaussmix.io.sources import open_data

        def kib(field):
            with open("/proc/self/status") as f:
                return int(re.search(field + r":\\s+(\\d+) kB", f.read()).group(1))

        source = open_data({str(path)!r})
        before = kib("VmRSS")
        rows = sum(c.X.shape[0] for c in source.chunks())
        print(rows, (kib("VmHWM") - before) * 1024)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    rows, growth = map(int, out.stdout.split())
    assert rows == n_rows
    assert growth < 60 * 2**20, f"peak RSS grew by {growth / 2**20:.0f} MB reading a 200 MB file"

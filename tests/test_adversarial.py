"""Careless and hostile use of files, encodings, dtypes and outputs (issue 11): nothing is lost, nothing misread.

Each test pins one case: an input a command would overwrite, an output replaced non-atomically or with other
permissions, a data file changing between passes, a model file that inflates or carries undefined members,
pandas extension dtypes, undecodable text, JSON with non-finite numbers, text id columns, and the like.
"""

from __future__ import annotations

import json
import os
import stat
import struct
import threading
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import gaussmix
from gaussmix.cli import data as cli_data
from gaussmix.cli.app import app
from gaussmix.cli.render import print_json
from gaussmix.exceptions import DataSourceError, ModelFileError
from gaussmix.io import model_file
from gaussmix.io.atomic import atomic_path
from gaussmix.io.model_file import load_model
from gaussmix.io.sources import open_data
from gaussmix.io.writers import open_writer

DATA = Path(__file__).parent / "data"
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def cli(*args: object, expect: int | None = None):
    """Run the CLI in this process; check the exit code when given."""
    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    if expect is not None:
        assert result.exit_code == expect, f"{args}: exit {result.exit_code}\n{result.output}"
    return result


@pytest.fixture
def work(tmp_path, monkeypatch) -> Path:
    """A directory holding d.csv (Old Faithful), d.npy (the same rows) and m.npz (a 2-component model of them)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d.csv").write_bytes((DATA / "faithful.csv").read_bytes())
    X = np.loadtxt(DATA / "faithful.csv", delimiter=",", skiprows=1)
    np.save(tmp_path / "d.npy", X)
    gaussmix.GaussianMixture(2, random_state=0).fit(X).save(tmp_path / "m.npz")
    return tmp_path


def snapshot(*paths: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in paths}


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


# --- never write over an input of the same command ---------------------------------------------------------------


@pytest.mark.parametrize("args", [
    ("fit", "d.csv", "-k", "2", "-o", "d.csv"),
    ("fit", "d.npy", "-k", "2", "-o", "d.npy"),
    ("fit", "d.csv", "-k", "2", "-o", "./d.csv"),
    ("predict", "m.npz", "d.csv", "-o", "d.csv"),
    ("predict", "m.npz", "d.npy", "-o", "d.npy"),
    ("select", "d.csv", "-k", "1", "-t", "diag", "-o", "d.csv"),
    ("select", "d.csv", "-k", "1", "-t", "diag", "-o", "f.png", "--plot", "f.png"),
    ("select", "d.csv", "-k", "1", "-t", "diag", "-o", "sub/../f.png", "--plot", "f.png"),
    ("outliers", "d.csv", "-o", "d.csv"),
    ("outliers", "d.npy", "--train", "d.csv", "-o", "d.csv"),
    ("outliers", "d.npy", "--calibration", "d.csv", "-o", "d.csv"),
], ids=lambda a: " ".join(a))
def test_a_command_refuses_to_write_over_its_own_input(work, args):
    (work / "sub").mkdir()
    before = snapshot(work / "d.csv", work / "d.npy", work / "m.npz")

    result = cli(*args, expect=1)

    assert "Refusing to write" in result.output and "same file as" in result.output
    assert snapshot(*before) == before
    assert not (work / "f.png").exists()
    assert leftovers(work) == []


def test_sample_and_plot_refuse_to_write_over_the_model_file(work):
    (work / "m.npy").write_bytes((work / "m.npz").read_bytes())  # a model file may have any name
    (work / "m.png").write_bytes((work / "m.npz").read_bytes())
    before = snapshot(work / "m.npy", work / "m.png")

    assert "MODEL 'm.npy'" in cli("sample", "m.npy", "-n", "5", "-o", "m.npy", expect=1).output
    assert "MODEL 'm.png'" in cli("plot", "m.png", "d.csv", "-o", "m.png", expect=1).output
    assert snapshot(*before) == before


def test_an_output_that_is_a_symlink_or_hard_link_to_the_input_is_refused(work):
    os.symlink(work / "d.csv", work / "link.csv")
    os.link(work / "d.csv", work / "hard.csv")
    before = (work / "d.csv").read_bytes()

    cli("predict", "m.npz", "d.csv", "-o", "link.csv", expect=1)
    cli("predict", "m.npz", "link.csv", "-o", "hard.csv", expect=1)

    assert (work / "d.csv").read_bytes() == before
    assert (work / "link.csv").is_symlink()


def test_an_output_that_is_a_directory_is_a_usage_error_before_any_work(work):
    (work / "out.npz").mkdir()
    result = cli("fit", "d.csv", "-k", "2", "-o", "out.npz", expect=2)
    assert "is a directory" in result.output
    with pytest.raises(IsADirectoryError):
        with atomic_path(work / "out.npz"):
            pass


# --- atomic writes that keep permissions --------------------------------------------------------------------------


def test_resaving_a_model_over_a_0600_file_keeps_0600(work):
    model = gaussmix.load(work / "m.npz")
    os.chmod(work / "m.npz", 0o600)
    model.save(work / "m.npz")
    assert stat.S_IMODE(os.stat(work / "m.npz").st_mode) == 0o600

    os.chmod(work / "m.npz", 0o640)
    cli("fit", "d.csv", "-k", "2", "-q", "-o", "m.npz", expect=0)
    assert stat.S_IMODE(os.stat(work / "m.npz").st_mode) == 0o640


@pytest.mark.parametrize("name", ["p.csv", "p.npy", "p.parquet"])
def test_predictions_over_a_0600_file_keep_0600(work, name):
    (work / name).write_text("old")
    os.chmod(work / name, 0o600)
    cli("predict", "m.npz", "d.csv", "-o", name, expect=0)
    assert stat.S_IMODE(os.stat(work / name).st_mode) == 0o600
    assert (work / name).read_bytes() != b"old"


def test_a_figure_over_a_0600_file_keeps_0600_and_a_new_file_gets_the_umask_default(work):
    (work / "f.png").write_text("old")
    os.chmod(work / "f.png", 0o600)
    cli("plot", "m.npz", "d.csv", "-o", "f.png", expect=0)
    assert stat.S_IMODE(os.stat(work / "f.png").st_mode) == 0o600
    assert (work / "f.png").read_bytes()[:4] == b"\x89PNG"

    umask = os.umask(0o027)
    try:
        with atomic_path(work / "new.txt") as tmp:
            tmp.write_text("x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(os.stat(work / "new.txt").st_mode) == 0o640


@pytest.mark.parametrize("error", [ValueError("boom"), KeyboardInterrupt()], ids=["error", "ctrl-c"])
def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, error):
    target = tmp_path / "out.csv"
    target.write_text("old")
    with pytest.raises(type(error)):
        with open_writer(target, ["a"]) as out:
            out.write({"a": np.arange(3)})
            raise error
    with pytest.raises(type(error)):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise error
    assert target.read_text() == "old"
    assert leftovers(tmp_path) == []


def test_concurrent_saves_to_one_path_leave_one_whole_model(work):
    models = [gaussmix.GaussianMixture(k, random_state=0).fit(np.load(work / "d.npy")) for k in (1, 2, 3)]
    errors = []

    def save(model):
        try:
            for _ in range(5):
                model.save(work / "shared.npz")
        except Exception as exc:  # noqa: BLE001 -- collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(m,)) for m in models]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert gaussmix.load(work / "shared.npz").n_components in (1, 2, 3)
    assert leftovers(work) == []


# --- streamed files that change between passes --------------------------------------------------------------------


def _grow(path: Path) -> None:
    with open(path, "ab") as f:
        f.write(b"1.0,2.0\n" if path.suffix == ".csv" else b"\0" * 16)


def _truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size - 8)


def _touch(path: Path) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def _replace(path: Path) -> None:
    other = path.with_name("other" + path.suffix)
    other.write_bytes(path.read_bytes())
    os.replace(other, path)


def _delete(path: Path) -> None:
    path.unlink()


@pytest.mark.parametrize("change", [_grow, _truncate, _touch, _replace, _delete], ids=lambda f: f.__name__[1:])
@pytest.mark.parametrize("name", ["d.csv", "d.npy", "d.parquet"])
def test_a_pass_over_a_file_changed_since_the_first_pass_is_refused(work, name, change):
    if name == "d.parquet":
        pd.read_csv(work / "d.csv").to_parquet(work / name)
    source = open_data(work / name, chunk_rows=100)
    first = np.concatenate([c.X for c in source.chunks()])
    change(work / name)

    with pytest.raises(DataSourceError, match=rf"{name} changed during the fit"):
        list(source.chunks())
    assert first.shape == (272, 2)


def test_a_file_changed_in_the_middle_of_a_pass_is_refused_before_the_next_block(work):
    blocks = open_data(work / "d.csv", chunk_rows=100).chunks()
    next(blocks)
    _grow(work / "d.csv")
    with pytest.raises(DataSourceError, match="its size went from"):
        next(blocks)


def test_a_fit_over_a_file_replaced_between_em_passes_stops_with_an_error_and_stays_unfitted(work):
    def replace_after_first(n_iter, lower_bound):
        if n_iter == 1:
            np.save(work / "d.npy", np.load(work / "d.npy") * 1e4)

    model = gaussmix.GaussianMixture(2, max_iter=5, tol=0, random_state=0)
    with pytest.raises(DataSourceError, match="d.npy changed during the fit"):
        model.fit(work / "d.npy", on_iteration=replace_after_first)
    assert not hasattr(model, "means_")


# --- model files: an inflation cap, members the format defines ---------------------------------------------------


def _set_central_sizes(path: Path, member: str, uncompressed: int) -> None:
    """Rewrite the uncompressed size of ``member`` in the zip's central directory (a lying directory)."""
    raw = bytearray(path.read_bytes())
    at = raw.find(b"PK\x01\x02")
    while at != -1:
        name_len = struct.unpack_from("<H", raw, at + 28)[0]
        if raw[at + 46: at + 46 + name_len].decode() == member:
            struct.pack_into("<I", raw, at + 24, uncompressed)
            break
        at = raw.find(b"PK\x01\x02", at + 4)
    path.write_bytes(bytes(raw))


def test_a_member_whose_directory_size_passes_the_cap_is_refused_before_reading(work):
    _set_central_sizes(work / "m.npz", "means.npy", 2**31)
    with pytest.raises(ModelFileError, match=r"inflate to 2,14\d,\d{3},\d{3} bytes, more than the 1,073,741,824"):
        load_model(work / "m.npz")
    assert "inflate to" in cli("info", "m.npz", expect=1).output


def test_a_deflated_member_over_the_cap_is_refused(work, monkeypatch):
    with zipfile.ZipFile(work / "m.npz", "a", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("big.npy", "w") as f:
            np.save(f, np.zeros(200_000))  # 1.6 MB that deflates to a few kB
    assert (work / "m.npz").stat().st_size < 100_000
    monkeypatch.setattr(model_file, "MAX_MODEL_BYTES", 1_000_000)
    with pytest.raises(ModelFileError, match="more than the 1,000,000 a model file may hold"):
        load_model(work / "m.npz")


def test_a_directory_that_understates_a_member_cannot_bypass_the_cap(work):
    _set_central_sizes(work / "m.npz", "means.npy", 10)
    with pytest.raises(ModelFileError, match="m.npz"):
        load_model(work / "m.npz")


def test_a_npy_header_promising_a_huge_array_is_refused_without_allocating_it(work):
    with zipfile.ZipFile(work / "m.npz", "a") as archive:
        header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000,), }"
        header += b" " * (118 - len(header)) + b"\n"
        archive.writestr("huge.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header)
    with pytest.raises(ModelFileError, match=r"'huge' has a header for shape \(1000000000000,\)"):
        load_model(work / "m.npz")


@pytest.mark.parametrize("member", ["notes.txt", "../evil.npy", "sub/means.npy", "file.npy", "means", "a b.npy"])
def test_a_member_the_format_does_not_define_is_refused_by_name(work, member):
    with zipfile.ZipFile(work / "m.npz", "a") as archive:
        archive.writestr(member, b"\x93NUMPY")
    with pytest.raises(ModelFileError, match=f"the member {member!r} is not part of the model-file format"):
        load_model(work / "m.npz")


def test_a_duplicated_member_is_refused(work):
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(work / "m.npz", "a") as archive:
        archive.writestr("means.npy", b"\x93NUMPY")
    with pytest.raises(ModelFileError, match="'means.npy' appears twice"):
        load_model(work / "m.npz")


def test_a_metadata_document_over_its_cap_is_refused_before_parsing(work):
    _set_central_sizes(work / "m.npz", "metadata.json.npy", 65 * 2**20)
    with pytest.raises(ModelFileError, match=r"'metadata.json' would inflate to 68,157,440 bytes, more than the "
                                             r"67,108,864"):
        load_model(work / "m.npz")


def _npz_with_huge_header(path: Path) -> None:
    header = b"{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000000, 2), }"
    header += b" " * (118 - len(header)) + b"\n"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("x.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header + b"\0" * 64)


def test_a_data_npz_whose_header_asks_for_too_much_memory_is_a_data_error(tmp_path):
    _npz_with_huge_header(tmp_path / "big.npz")
    with pytest.raises(DataSourceError, match=r"big.npz: its array 'x' cannot be held in memory .* save the data as "
                                              r"\.npy"):
        open_data(tmp_path / "big.npz")


def test_a_model_path_that_is_a_fifo_or_directory_is_refused_without_blocking(work):
    os.mkfifo(work / "pipe.npz")
    (work / "dir.npz").mkdir()
    for name in ("pipe.npz", "dir.npz"):
        with pytest.raises(ModelFileError, match=f"{name}': it is not a regular file"):
            load_model(work / name)
    assert "is not a regular file" in cli("info", "pipe.npz", expect=1).output


def test_an_encrypted_member_is_a_model_file_error(work):
    raw = bytearray((work / "m.npz").read_bytes())
    at = raw.find(b"PK\x01\x02")
    raw[at + 8] |= 1  # the central directory's "encrypted" flag
    (work / "m.npz").write_bytes(bytes(raw))
    with pytest.raises(ModelFileError, match="truncated or corrupted"):
        load_model(work / "m.npz")


def test_sample_checks_the_requested_size_against_memory_first(work):
    result = cli("sample", "m.npz", "-n", str(10**13), "-o", "s.npy", expect=1)
    assert "--n-samples 10,000,000,000,000 needs about" in result.output and "available" in result.output
    assert "unexpected" not in result.output
    assert not (work / "s.npy").exists()


def test_sample_writes_large_tables_in_blocks(work, monkeypatch):
    monkeypatch.setattr(cli_data, "WRITE_BLOCK_ROWS", 7)
    cli("sample", "m.npz", "-n", "50", "--seed", "1", "-o", "s.csv", expect=0)
    table = pd.read_csv(work / "s.csv")
    assert table.shape == (50, 3) and table["component"].isin([0, 1]).all()


def test_a_very_wide_file_is_read_in_blocks_of_about_8_mb(tmp_path):
    np.save(tmp_path / "wide.npy", np.zeros((40, 100_000), dtype=np.float32))
    source = open_data(tmp_path / "wide.npy")
    assert source.chunk_rows * source.n_features * 8 <= 16 * 2**20
    assert sum(c.X.shape[0] for c in source.chunks()) == 40


# --- dtypes ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["Int64", "Float64", "int64[pyarrow]", "double[pyarrow]"])
def test_numeric_extension_dtypes_fit_and_predict_like_float64(dtype, faithful):
    frame = pd.DataFrame({"eruptions": faithful[:, 0], "waiting": faithful[:, 1].astype(int)})
    ext = frame.astype({"waiting": dtype})
    a = gaussmix.GaussianMixture(2, random_state=0).fit(frame.astype(float))
    b = gaussmix.GaussianMixture(2, random_state=0).fit(ext)
    np.testing.assert_allclose(b.means_, a.means_, rtol=1e-12)
    np.testing.assert_array_equal(b.predict(ext), a.predict(frame.astype(float)))


def test_a_boolean_extension_column_is_numeric():
    frame = pd.DataFrame({"flag": pd.array([True, False] * 10, dtype="boolean"), "x": np.arange(20.0)})
    model = gaussmix.GaussianMixture(1).fit(frame)
    np.testing.assert_allclose(model.means_, [[0.5, 9.5]])


def test_na_in_an_extension_column_is_reported_like_nan():
    frame = pd.DataFrame({"a": pd.array([1, 2, None, 4], dtype="Int64"), "b": [0.0, 1, 2, 3]})
    with pytest.raises(ValueError, match=r"X contains NaN at row 2, column 'a' \(index 0\)"):
        gaussmix.GaussianMixture(1).fit(frame)


@pytest.mark.parametrize("column", [
    pd.Categorical([1, 2, 1, 2]), pd.array(["1", "2", "3", "4"], dtype="string"), np.array(["a", "b", "c", "d"],
                                                                                             dtype=object),
    pd.to_datetime(["2020-01-01"] * 4),
], ids=["category", "string", "object", "datetime"])
def test_a_non_numeric_column_is_named(column):
    frame = pd.DataFrame({"x": [0.0, 1, 2, 3], "bad": column})
    with pytest.raises(TypeError, match=r"X column 'bad' is not numeric \(dtype "):
        gaussmix.GaussianMixture(1).fit(frame)


def test_parquet_dictionary_boolean_and_decimal_columns_are_read_as_numbers(tmp_path):
    import decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({
        "dict": pa.array([1.5, 2.5, 1.5]).dictionary_encode(),
        "flag": pa.array([True, False, True]),
        "dec": pa.array([decimal.Decimal("1.25"), decimal.Decimal("2.5"), None], pa.decimal128(5, 2)),
        "name": pa.array(["a", "b", "c"]).dictionary_encode(),
    })
    pq.write_table(table, tmp_path / "t.parquet")

    X = next(open_data(tmp_path / "t.parquet", columns=["dict", "flag"]).chunks()).X
    np.testing.assert_array_equal(X, [[1.5, 1.0], [2.5, 0.0], [1.5, 1.0]])
    with pytest.raises(DataSourceError, match=r"NaN at row 2, column 'dec' \(index 2\)"):
        list(open_data(tmp_path / "t.parquet", columns=["dec"]).chunks())
    with pytest.raises(DataSourceError, match=r"Column 'name' \(index 3\) of .*t.parquet has type dictionary"):
        open_data(tmp_path / "t.parquet")


# --- encodings and text ------------------------------------------------------------------------------------------


def test_a_latin1_csv_names_the_file_the_byte_and_the_line(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("größe,b\n1,2\n".encode("latin-1"))
    with pytest.raises(DataSourceError, match=r"latin.csv is not UTF-8 text: the byte 0xf6 at offset 2 \(line 1\)"
                                             r".*Re-encode"):
        open_data(path)


def test_a_bad_byte_far_into_a_csv_is_reported_when_the_pass_reaches_it(tmp_path):
    path = tmp_path / "late.csv"
    rows = b"".join(b"%d,%d\n" % (i, i) for i in range(3000))
    path.write_bytes(b"a,b\n" + rows + b"1,\xe92\n")
    source = open_data(path)
    with pytest.raises(DataSourceError, match=rf"the byte 0xe9 at offset {4 + len(rows) + 2} \(line 3002\)"):
        list(source.chunks())


def test_a_utf16_csv_says_it_is_utf16(tmp_path):
    path = tmp_path / "u16.csv"
    path.write_bytes("a,b\n1,2\n".encode("utf-16"))
    with pytest.raises(DataSourceError, match="u16.csv is UTF-16 text .* Re-encode it as UTF-8"):
        open_data(path)


@pytest.mark.parametrize("header", [True, False])
def test_a_utf8_bom_is_not_part_of_the_first_name_or_value(tmp_path, header):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (b"a,b\n" if header else b"") + b"1,2\n3,4\n")
    source = open_data(path)
    assert source.feature_names == (("a", "b") if header else None)
    np.testing.assert_array_equal(np.concatenate([c.X for c in source.chunks()]), [[1, 2], [3, 4]])


def test_a_field_over_the_csv_size_limit_is_a_data_error_naming_the_file(tmp_path):
    path = tmp_path / "long.csv"
    path.write_text("a,b\n1,2\n" + '"' + "x" * 200_000 + '",1\n')
    with pytest.raises(DataSourceError, match=r"Row 1 of .*long.csv cannot be read as CSV: field larger"):
        list(open_data(path, chunk_rows=1).chunks())


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"), (b"\n\n", "is empty"), (b"a,b\n", "has a header row but no data rows"),
])
def test_empty_and_header_only_files_say_so(tmp_path, content, message):
    (tmp_path / "e.csv").write_bytes(content)
    with pytest.raises(DataSourceError, match=message):
        open_data(tmp_path / "e.csv")


def test_a_directory_or_fifo_given_as_data_is_refused_without_blocking(tmp_path):
    (tmp_path / "dir.csv").mkdir()
    with pytest.raises(DataSourceError, match="dir.csv is a directory"):
        open_data(tmp_path / "dir.csv")
    os.mkfifo(tmp_path / "pipe.csv")
    with pytest.raises(DataSourceError, match=r"pipe.csv is a FIFO \(named pipe\), not a regular file"):
        open_data(tmp_path / "pipe.csv")


@pytest.mark.skipif(IS_ROOT or os.name != "posix", reason="root reads any file")
def test_an_unreadable_file_is_an_os_error_naming_it(tmp_path):
    path = tmp_path / "secret.csv"
    path.write_text("a\n1\n")
    path.chmod(0)
    with pytest.raises(PermissionError, match="secret.csv"):
        open_data(path)


# --- what the CLI prints -----------------------------------------------------------------------------------------


def _strict_json(text: str):
    return json.loads(text, parse_constant=lambda name: pytest.fail(f"{name} is not JSON"))


def test_json_output_is_strict_json_with_null_for_non_finite_numbers(capsys):
    print_json({"a": float("-inf"), "b": np.float64("nan"), "c": np.array([1.0, np.inf]), "d": [np.int64(3)]})
    assert _strict_json(capsys.readouterr().out) == {"a": None, "b": None, "c": [1.0, None], "d": [3]}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # how far rows score is the estimator's part of issue 11
def test_score_json_of_a_file_with_a_far_row_is_valid_json(work):
    np.save(work / "far.npy", np.vstack([np.load(work / "d.npy"), [[1e200, 1e200]]]))
    report = _strict_json(cli("score", "m.npz", "far.npy", "--json", expect=0).stdout)
    assert report["rows"] == 273
    assert report["log_likelihood"] is None or np.isfinite(report["log_likelihood"])


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_text_id_column_is_skipped_with_a_note_by_fit_and_predict(work, suffix):
    frame = pd.read_csv(work / "d.csv")
    frame.insert(0, "id", [f"row{i}" for i in range(len(frame))])
    path = work / f"ids{suffix}"
    frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_parquet(path)

    fitted = cli("fit", path.name, "-k", "2", "--seed", "0", "-q", "-o", "mi.npz", expect=0)
    predicted = cli("predict", "mi.npz", path.name, "-o", "p.csv", expect=0)

    assert "note: skipping the non-numeric column(s) 'id' (index 0)" in fitted.output
    assert gaussmix.load(work / "mi.npz").feature_names_in_.tolist() == ["eruptions", "waiting"]
    expected = gaussmix.load(work / "mi.npz").predict(np.load(work / "d.npy"))
    np.testing.assert_array_equal(pd.read_csv(work / "p.csv")["label"], expected)
    assert "Column 'id'" not in predicted.output


def test_a_chosen_text_column_is_still_an_error_naming_it(work):
    frame = pd.read_csv(work / "d.csv")
    frame.insert(0, "id", [f"row{i}" for i in range(len(frame))])
    frame.to_parquet(work / "ids.parquet")
    result = cli("fit", "ids.parquet", "-k", "2", "-c", "id,waiting", "-o", "mi.npz", expect=1)
    assert "Column 'id' (index 0) of ids.parquet has type" in result.output
    with pytest.raises(DataSourceError, match=r"Column 'id' \(index 0\) of .*ids.parquet .*not a number"):
        open_data(work / "ids.parquet")

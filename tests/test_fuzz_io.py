"""Fuzzing the readers: any bytes either load (finite results) or raise a documented error naming the file.

Documented errors: ``ModelFileError`` from ``load_model``; ``DataSourceError`` (both ValueErrors), ``ValueError``
or ``TypeError`` from ``open_data`` and its passes. Each example runs under an alarm, so a hang fails the test.
"""

from __future__ import annotations

import contextlib
import io
import signal
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gaussmix.core.params import GaussianParams
from gaussmix.exceptions import DataSourceError, ModelFileError
from gaussmix.io.model_file import load_model, save_model
from gaussmix.io.sources import open_data

SECONDS_PER_EXAMPLE = 10
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@contextlib.contextmanager
def time_limit(seconds: int) -> Iterator[None]:
    """Fail (instead of hanging the suite) if the block runs longer than ``seconds``."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def expire(signum, frame):
        raise AssertionError(f"no answer within {seconds} s: a hang")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="module")
def model_bytes(tmp_path_factory) -> bytes:
    """A valid diag model file with an extra array, as bytes."""
    weights = np.array([0.25, 0.75])
    means = np.array([[0.0, 1.0], [2.0, 3.0]])
    variances = np.array([[1.0, 2.0], [0.5, 4.0]])
    params = GaussianParams(weights, means, variances, 1 / np.sqrt(variances), "diag")
    path = tmp_path_factory.mktemp("fuzz") / "m.npz"
    save_model(path, params, {"fit_info": {"n_iter": 3, "converged": True, "lower_bound": -1.5}},
               {"lower_bounds": np.array([-2.0, -1.5])})
    return path.read_bytes()


def _load(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "fuzzed.npz"
    path.write_bytes(content)
    with time_limit(SECONDS_PER_EXAMPLE):
        try:
            params, metadata, arrays = load_model(path)
        except ModelFileError as exc:
            assert path.name in str(exc)
            return
    assert np.isfinite(params.means).all() and np.isfinite(params.covariances).all()
    assert isinstance(metadata, dict) and all(isinstance(a, np.ndarray) for a in arrays.values())


@FUZZ
@given(edits=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)), min_size=1, max_size=8))
def test_a_model_file_with_bytes_changed_loads_or_raises_model_file_error(tmp_path, model_bytes, edits):
    content = bytearray(model_bytes)
    for where, value in edits:
        content[int(where * len(content))] = value
    _load(tmp_path, bytes(content))


@FUZZ
@given(keep=st.floats(0, 1))
def test_a_truncated_model_file_loads_or_raises_model_file_error(tmp_path, model_bytes, keep):
    _load(tmp_path, model_bytes[: int(keep * len(model_bytes))])


@FUZZ
@given(
    name=st.one_of(st.sampled_from(["means.npy", "weights.npy", "metadata.json.npy", "extra.npy", "x", "../a.npy"]),
                   # zipfile itself cannot write a name that is empty up to its first NUL (IndexError)
                   st.text(min_size=1, max_size=12).filter(lambda n: n.split("\x00")[0] != "")),
    payload=st.one_of(st.binary(max_size=300),
                      st.lists(st.floats(), max_size=6).map(lambda v: _npy_bytes(np.array(v)))),
    compress=st.booleans(),
)
def test_a_model_file_with_a_member_added_loads_or_raises_model_file_error(tmp_path, model_bytes, name, payload,
                                                                         compress):
    buffer = io.BytesIO(model_bytes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of duplicate names, which some examples are about
        with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED) as archive:
            archive.writestr(name, payload)
    _load(tmp_path, buffer.getvalue())


def _npy_bytes(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    np.save(out, array)
    return out.getvalue()


CSV_PIECES = st.sampled_from(
    ["0", "1", "-2.5", "1e3", "1e400", "nan", "NA", "", "inf", "a", "x y", '"', '"1,2"', ",", ",", ",", "\n", "\n",
     "\r\n", " ", "\t", ";", "1_000", "\ufeff", "é"]
)


@FUZZ
@given(pieces=st.lists(CSV_PIECES, min_size=0, max_size=40), raw=st.binary(max_size=4),
       suffix=st.sampled_from([".csv", ".tsv", ".txt"]), chunk_rows=st.integers(1, 5))
def test_open_data_on_any_small_text_file_gives_finite_rows_or_a_documented_error(tmp_path, pieces, raw, suffix,
                                                                                   chunk_rows):
    path = tmp_path / f"fuzzed{suffix}"
    path.write_bytes("".join(pieces).encode("utf-8") + raw)
    with time_limit(SECONDS_PER_EXAMPLE):
        try:
            source = open_data(path, chunk_rows=chunk_rows)
            blocks = [chunk.X for chunk in source.chunks()]
        except (DataSourceError, ValueError, TypeError) as exc:
            assert path.name in str(exc), f"the error does not name the file: {exc!r}"
            return
    for X in blocks:
        assert X.ndim == 2 and X.shape[1] == source.n_features and np.isfinite(X).all()

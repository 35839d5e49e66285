"""Fitting and scoring data files: the in-memory answer from a stream of row blocks, in bounded memory."""

from __future__ import annotations

import copy
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
import zarr

from conftest import blobs
from gaussmix import ConvergenceWarning, DataSourceError, GaussianMixture, open_data, write_predictions
from gaussmix.core.params import COVARIANCE_TYPES
from test_estimator import assert_same_fit

pytestmark = pytest.mark.filterwarnings("ignore::gaussmix.ConvergenceWarning")

NAMES = ["x", "y", "z"]


def write(fmt: str, path, X: np.ndarray) -> None:
    """Store X with a library other than gaussmix, as a user would; text keeps every digit."""
    frame = pd.DataFrame(X, columns=NAMES[:X.shape[1]])
    if fmt == "npy":
        np.save(path, X)
    elif fmt == "parquet":
        frame.to_parquet(path, row_group_size=70)
    elif fmt in ("csv", "tsv"):
        frame.to_csv(path, index=False, sep="," if fmt == "csv" else "\t", float_format="%.17g")
    elif fmt == "zarr":
        zarr.create_array(store=str(path), shape=X.shape, dtype=X.dtype, chunks=(64, X.shape[1]))[:] = X


def stored(tmp_path, fmt: str, X: np.ndarray):
    path = tmp_path / f"data.{fmt}"
    write(fmt, path, X)
    return path


def fitted_init(X: np.ndarray, k: int, kind: str = "full") -> dict:
    """A shared starting point: a few in-memory EM steps from k-means, as explicit initial arrays."""
    start = GaussianMixture(k, covariance_type=kind, max_iter=2, random_state=0).fit(X)
    return dict(n_components=k, covariance_type=kind, weights_init=start.weights_, means_init=start.means_,
                precisions_init=start.precisions_, tol=0.0, max_iter=8)


@pytest.fixture
def X(rng) -> np.ndarray:
    return blobs(rng, n=900, d=3, k=3)


class CountingSource:
    """Wraps a ChunkSource, counting passes; ``interrupt_on`` raises KeyboardInterrupt as that pass starts."""

    def __init__(self, source, interrupt_on: int | None = None) -> None:
        self.source, self.interrupt_on, self.passes = source, interrupt_on, 0
        self.n_features, self.feature_names = source.n_features, source.feature_names
        self.n_rows, self.dtype = source.n_rows, source.dtype

    def chunks(self):
        self.passes += 1
        for i, chunk in enumerate(self.source.chunks()):
            if self.passes == self.interrupt_on and i == 1:
                raise KeyboardInterrupt
            yield chunk


# -- the same fit as in memory ------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["npy", "parquet", "csv", "tsv", "zarr"])
def test_fit_from_a_file_equals_the_in_memory_fit(tmp_path, X, fmt):
    kw = fitted_init(X, 3)
    from_file = GaussianMixture(**kw, chunk_rows=101).fit(stored(tmp_path, fmt, X))
    assert_same_fit(from_file, GaussianMixture(**kw).fit(X))


@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_every_covariance_type_fits_a_file_as_in_memory(tmp_path, X, kind):
    kw = fitted_init(X, 3, kind)
    assert_same_fit(GaussianMixture(**kw, chunk_rows=128).fit(stored(tmp_path, "npy", X)),
                    GaussianMixture(**kw).fit(X))


def test_a_str_a_path_and_an_opened_source_fit_alike(tmp_path, X):
    path = stored(tmp_path, "npy", X)
    kw = fitted_init(X, 3)
    by_path = GaussianMixture(**kw).fit(path)
    assert_same_fit(GaussianMixture(**kw).fit(str(path)), by_path, rtol=0)
    assert_same_fit(GaussianMixture(**kw).fit(open_data(path, chunk_rows=50)), by_path)


def test_chosen_columns_and_a_weight_column_give_the_weighted_in_memory_fit(tmp_path, rng, X):
    w = rng.integers(0, 4, len(X)).astype(float)
    frame = pd.DataFrame({"label": rng.integers(0, 9, len(X)), "x": X[:, 0], "w": w, "y": X[:, 1]})
    frame.to_parquet(tmp_path / "t.parquet", row_group_size=100)
    kw = fitted_init(X[:, :2], 3)
    source = open_data(tmp_path / "t.parquet", columns=["x", "y"], sample_weight_column="w")
    from_file = GaussianMixture(**kw).fit(source)
    assert_same_fit(from_file, GaussianMixture(**kw).fit(X[:, :2], sample_weight=w))
    assert list(from_file.feature_names_in_) == ["x", "y"]
    by_array = GaussianMixture(**kw).fit(open_data(tmp_path / "t.parquet", columns=["x", "y"]), sample_weight=w)
    assert_same_fit(by_array, from_file)


def test_init_from_a_sample_of_the_file_reaches_the_in_memory_optimum(tmp_path, rng):
    X = blobs(rng, n=3000, d=2, k=3, spread=10.0)
    kw = dict(n_components=3, tol=1e-9, max_iter=300, random_state=3)
    from_sample = GaussianMixture(**kw, init_sample_size=400).fit(stored(tmp_path, "csv", X))
    in_memory = GaussianMixture(**kw).fit(X)
    a, b = np.argsort(from_sample.means_[:, 0]), np.argsort(in_memory.means_[:, 0])
    np.testing.assert_allclose(from_sample.means_[a], in_memory.means_[b], rtol=1e-6)
    np.testing.assert_allclose(from_sample.covariances_[a], in_memory.covariances_[b], rtol=1e-5)


def test_one_pass_per_em_iteration_and_one_for_the_init_sample(tmp_path, X):
    counting = CountingSource(open_data(stored(tmp_path, "npy", X), chunk_rows=100))
    gm = GaussianMixture(3, tol=0.0, max_iter=5, random_state=0).fit(counting)
    assert (gm.n_iter_, counting.passes) == (5, 6)
    counting.passes = 0
    GaussianMixture(**fitted_init(X, 3)).fit(counting)  # explicit initial arrays: no sample needed
    assert counting.passes == 8


def test_ctrl_c_on_the_third_pass_keeps_two_iterations_then_reraises(tmp_path, X):
    kw = fitted_init(X, 3)
    interrupted = GaussianMixture(**kw)
    source = CountingSource(open_data(stored(tmp_path, "npy", X), chunk_rows=100), interrupt_on=3)
    with (pytest.warns(ConvergenceWarning, match=r"interrupted; keeping the best parameters so far \(2 iteration"),
          pytest.raises(KeyboardInterrupt)):
        interrupted.fit(source)
    assert interrupted.n_iter_ == 2 and not interrupted.converged_
    assert_same_fit(interrupted, GaussianMixture(**{**kw, "max_iter": 2}).fit(X))


# -- row-wise methods on files ----------------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["npy", "csv"])
def test_row_wise_methods_on_a_file_equal_the_in_memory_results(tmp_path, rng, X, fmt):
    gm = GaussianMixture(3, random_state=0).fit(X)
    path = stored(tmp_path, fmt, X)
    for method in ("predict", "predict_proba", "score_samples", "score", "bic", "aic"):
        np.testing.assert_allclose(getattr(gm, method)(path), getattr(gm, method)(X), rtol=1e-12, err_msg=method)
    w = rng.uniform(0.5, 2.0, len(X))
    for method in ("score", "bic", "aic"):
        np.testing.assert_allclose(getattr(gm, method)(path, sample_weight=w),
                                   getattr(gm, method)(X, sample_weight=w), rtol=1e-12, err_msg=method)


def test_file_columns_must_match_the_fitted_model(tmp_path, X):
    named = GaussianMixture(2, random_state=0).fit(pd.DataFrame(X, columns=NAMES))
    renamed = tmp_path / "renamed.csv"
    pd.DataFrame(X, columns=["x", "y", "w"]).to_csv(renamed, index=False)
    with pytest.raises(ValueError, match=r"X has feature names \['x', 'y', 'w'\], but GaussianMixture was fitted"):
        named.predict(renamed)
    with pytest.raises(ValueError, match="X has 2 features, but GaussianMixture is expecting 3 features"):
        named.score(stored(tmp_path, "npy", X[:, :2]))


@pytest.mark.parametrize("fmt", ["csv", "parquet", "npy"])
def test_write_predictions_streams_what_the_row_wise_methods_return(tmp_path, X, fmt):
    gm = GaussianMixture(3, random_state=0).fit(X)
    out = write_predictions(gm, stored(tmp_path, "npy", X), tmp_path / f"out.{fmt}", proba=True)
    if fmt == "npy":
        table = pd.DataFrame(np.load(out), columns=["label", "log_prob", "proba_0", "proba_1", "proba_2"])
    else:
        table = pd.read_csv(out) if fmt == "csv" else pd.read_parquet(out)
    assert list(table.columns) == ["label", "log_prob", "proba_0", "proba_1", "proba_2"]
    np.testing.assert_array_equal(table["label"], gm.predict(X))
    np.testing.assert_allclose(table["log_prob"], gm.score_samples(X), rtol=1e-15)
    np.testing.assert_allclose(table[["proba_0", "proba_1", "proba_2"]], gm.predict_proba(X), rtol=1e-15)


def test_write_predictions_leaves_no_file_when_the_data_goes_bad_midway(tmp_path, X):
    gm = GaussianMixture(3, random_state=0).fit(X)
    bad = X.copy()
    bad[850, 1] = np.inf
    with pytest.raises(DataSourceError, match="X contains infinity at row 850, column 1"):
        write_predictions(gm, open_data(stored(tmp_path, "npy", bad), chunk_rows=100), tmp_path / "out.csv")
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("opened", [False, True])
def test_write_predictions_refuses_to_write_over_its_own_data_file(tmp_path, X, opened):
    gm = GaussianMixture(3, random_state=0).fit(X)
    path = stored(tmp_path, "npy", X)
    before = path.read_bytes()
    data = open_data(path) if opened else str(path)
    with pytest.raises(ValueError, match="Refusing to write out_path .* same file as data"):
        write_predictions(gm, data, tmp_path / "." / path.name)
    assert path.read_bytes() == before


# -- bad files, through fit --------------------------------------------------------------------------------------

def refused(path, error=DataSourceError, match: str = "") -> None:
    """fit(path) raises ``error`` and leaves a fitted estimator exactly as it was."""
    gm = GaussianMixture(2, random_state=0).fit(np.random.default_rng(0).normal(size=(40, 3)))
    before = copy.deepcopy(gm.__dict__)
    with pytest.raises(error, match=match):
        gm.fit(path)
    assert gm.__dict__.keys() == before.keys()
    for name, value in before.items():
        np.testing.assert_array_equal(gm.__dict__[name], value, err_msg=name)


def test_a_non_numeric_column_is_named(tmp_path, X):
    frame = pd.DataFrame(X, columns=NAMES).assign(city="Oslo")
    frame.to_csv(tmp_path / "mixed.csv", index=False)
    refused(tmp_path / "mixed.csv", match=r"(?i)column 'city'")


def test_a_truncated_npy_is_a_clear_error(tmp_path, X):
    path = stored(tmp_path, "npy", X)
    path.write_bytes(path.read_bytes()[:-1000])
    refused(path, match=r"data\.npy is truncated")


def test_a_corrupt_parquet_is_a_clear_error(tmp_path, X):
    path = stored(tmp_path, "parquet", X)
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    refused(path, match=r"data\.parquet is not a readable Parquet file")


@pytest.mark.parametrize("suffix", [".npy", ".csv", ".parquet"])
def test_an_empty_file_is_a_clear_error(tmp_path, suffix):
    (tmp_path / f"empty{suffix}").touch()
    refused(tmp_path / f"empty{suffix}", match="is empty: it has no data rows")


def test_nan_in_a_file_names_its_global_row(tmp_path, X):
    bad = X.copy()
    bad[613, 2] = np.nan
    refused(stored(tmp_path, "csv", bad), match=r"X contains NaN at row 613, column 'z'")


def test_fewer_rows_than_components_is_refused(tmp_path, X):
    with pytest.raises(ValueError, match="n_components = 5 and 4 rows"):
        GaussianMixture(5).fit(stored(tmp_path, "npy", X[:4]))


# -- memory --------------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_fitting_a_400_mb_npy_grows_peak_rss_by_less_than_150_mb(tmp_path):
    path = tmp_path / "big.npy"
    n_rows, n_features = 400 * 10**6 // (8 * 32), 32
    rng = np.random.default_rng(0)
    with open(path, "wb") as f:  # written block by block, two well-separated clouds
        np.lib.format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False,
                                                 "shape": (n_rows, n_features)})
        for start in range(0, n_rows, 100_000):
            rows = min(100_000, n_rows - start)
            f.write((rng.standard_normal((rows, n_features)) + 6.0 * (rng.random((rows, 1)) < 0.5)).tobytes())
    # Peak RSS as VmHWM, which starts afresh in the child (ru_maxrss would carry the forking pytest's peak).
    script = textwrap.dedent(f"""
        import re, time
        import numpy as np
        from gaussmix import GaussianMixture

        def kib(field):
            with open("/proc/self/status") as f:
                return int(re.search(field + r":\\s+(\\d+) kB", f.read()).group(1))

        warm = np.random.default_rng(1).normal(size=(5000, {n_features}))
        GaussianMixture(2, max_iter=2).fit(warm).score(warm)  # imports and BLAS buffers, before measuring
        before, start = kib("VmRSS"), time.perf_counter()
        gm = GaussianMixture(2, max_iter=2, tol=0.0, random_state=0, init_sample_size=20_000).fit({str(path)!r})
        print(gm.n_iter_, (kib("VmHWM") - before) * 1024, time.perf_counter() - start)
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    n_iter, growth, seconds = out.stdout.split()
    assert int(n_iter) == 2
    assert int(growth) < 150 * 2**20, f"peak RSS grew by {int(growth) / 2**20:.0f} MB fitting a 400 MB file"
    print(f"400 MB .npy fit: peak RSS growth {int(growth) / 2**20:.0f} MB in {float(seconds):.1f} s")

"""The Dask executor gives the in-memory fit on every scheduler, survives a killed worker, and keeps dask optional."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import threading

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from distributed import Client, LocalCluster, get_task_stream
from scipy import stats

from conftest import blobs
from gaussmix import GaussianMixture, write_predictions
from gaussmix.core.estep import chunk_stats
from gaussmix.core.params import COVARIANCE_TYPES
from gaussmix.executors.dask import dask_accumulator, dask_sample, dask_source
from gaussmix.executors.local import ArraySource, local_accumulator
from test_estimator import assert_same_fit

STATS_FIELDS = ("n", "log_likelihood", "resp_sum", "first", "second")

pytestmark = pytest.mark.filterwarnings("ignore::gaussmix.ConvergenceWarning")


@pytest.fixture(scope="module")
def cluster_client():
    """Two single-threaded worker processes, started once for the module."""
    with dask.config.set({"distributed.logging.distributed": "error"}):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    yield client
    client.close(timeout=30)
    cluster.close(timeout=30)


@pytest.fixture(params=["threads", "cluster"])
def scheduler(request):
    """Run the test on a local scheduler, or on the 2-process LocalCluster through its Client."""
    if request.param == "cluster":
        request.getfixturevalue("cluster_client")
    with dask.config.set(scheduler="dask.distributed" if request.param == "cluster" else request.param):
        yield request.param


def fitted_init(X: np.ndarray, k: int, kind: str) -> dict:
    """A shared starting point: a few in-memory EM steps from k-means, as explicit initial arrays."""
    start = GaussianMixture(k, covariance_type=kind, max_iter=2, random_state=0).fit(X)
    return dict(n_components=k, covariance_type=kind, weights_init=start.weights_, means_init=start.means_,
                precisions_init=start.precisions_, tol=0.0, max_iter=8)


def assert_same_stats(got, want, X: np.ndarray) -> None:
    """Equal to rounding: 1e-12 relative, and 1e-12 of the summed magnitudes where moments cancel to ~0."""
    n, spread = len(X), float(np.abs(X - X.mean(axis=0)).max())
    scales = {"n": n, "log_likelihood": 0.0, "resp_sum": n, "first": n * spread, "second": n * spread ** 2}
    for field in STATS_FIELDS:
        np.testing.assert_allclose(getattr(got, field), getattr(want, field), rtol=1e-12,
                                   atol=1e-12 * scales[field], err_msg=field)


# -- the same fit as in memory ------------------------------------------------------------------------------

@pytest.mark.parametrize("scheduler, kind", [*(("threads", kind) for kind in COVARIANCE_TYPES),
                                             ("cluster", "full"), ("cluster", "tied")], indirect=["scheduler"])
def test_dask_array_fit_equals_in_memory_fit(scheduler, rng, kind):
    X = blobs(rng, n=1500, d=3, k=3)
    kw = fitted_init(X, 3, kind)
    assert_same_fit(GaussianMixture(**kw).fit(da.from_array(X, chunks=(211, 3))), GaussianMixture(**kw).fit(X))


def test_dask_fit_with_weights_equals_in_memory_weighted_fit(scheduler, rng):
    X = blobs(rng, n=900, d=2, k=3)
    w = rng.integers(0, 4, len(X)).astype(float)
    kw = fitted_init(X, 3, "full")
    expected = GaussianMixture(**kw).fit(X, sample_weight=w)
    Xd = da.from_array(X, chunks=(200, 2))
    assert_same_fit(GaussianMixture(**kw).fit(Xd, sample_weight=w), expected)
    assert_same_fit(GaussianMixture(**kw).fit(Xd, sample_weight=da.from_array(w, chunks=150)), expected)


def test_dask_dataframe_fit_equals_in_memory_and_keeps_column_names(scheduler, rng):
    X = blobs(rng, n=1200, d=3, k=3)
    frame = pd.DataFrame(X, columns=["x", "y", "z"])
    kw = fitted_init(X, 3, "diag")
    lazy_frame = dd.from_pandas(frame, npartitions=5)
    fitted = GaussianMixture(**kw).fit(lazy_frame)
    assert_same_fit(fitted, GaussianMixture(**kw).fit(X))
    assert list(fitted.feature_names_in_) == ["x", "y", "z"]
    np.testing.assert_array_equal(fitted.predict(lazy_frame).compute(), fitted.predict(X))
    with pytest.raises(ValueError, match=r"X has feature names \['x', 'y', 'w'\], but GaussianMixture was fitted"):
        fitted.predict(dd.from_pandas(frame.rename(columns={"z": "w"}), npartitions=2))


def test_worst_explained_rows_carry_global_row_indices(scheduler, rng):
    X = blobs(rng, n=1000, d=2, k=2)
    params = GaussianMixture(2, random_state=0, max_iter=3).fit(X)._params()
    X[777] = [1e3, -1e3]  # far from both fitted components: the worst-explained row
    source = dask_source(da.from_array(X, chunks=(128, 2)), chunk_rows=50)
    stats_dask = dask_accumulator(source, split_every=3)(params)
    stats_local = local_accumulator(ArraySource(X, chunk_rows=1000))(params)
    assert stats_dask.worst_rows[0] == 777
    np.testing.assert_array_equal(stats_dask.worst_rows, stats_local.worst_rows)
    assert_same_stats(stats_dask, stats_local, X)


@pytest.mark.parametrize("split_every", [2, 3, 8])
def test_any_fan_in_of_the_tree_gives_the_same_statistics(rng, split_every):
    X = blobs(rng, n=700, d=3, k=2)
    params = GaussianMixture(2, random_state=0, max_iter=2).fit(X)._params()
    with dask.config.set(scheduler="sync"):
        source = dask_source(da.from_array(X, chunks=(40, 3)), chunk_rows=17)
        got = dask_accumulator(source, split_every=split_every)(params)
    assert_same_stats(got, chunk_stats(X, params), X)


# -- one pass per iteration, X held once, params sent once ---------------------------------------------------

class CountingArray:
    """An array-like whose block reads are counted: a recomputed X would read its blocks again."""

    def __init__(self, X: np.ndarray) -> None:
        self.X, self.shape, self.dtype, self.ndim = X, X.shape, X.dtype, X.ndim
        self.reads = 0
        self.lock = threading.Lock()

    def __getitem__(self, key):
        with self.lock:
            self.reads += 1
        return self.X[key]


def test_dask_fit_reads_each_block_of_x_once(rng):
    X = blobs(rng, n=1000, d=2, k=2)
    counting = CountingArray(X)
    Xd = da.from_array(counting, chunks=(100, 2), asarray=False)
    reads_before_fit = counting.reads  # dask may peek at an empty slice to learn the block type
    with dask.config.set(scheduler="threads"):
        gm = GaussianMixture(**fitted_init(X, 2, "full")).fit(Xd)
    assert gm.n_iter_ == 8
    assert counting.reads - reads_before_fit == Xd.numblocks[0]


def test_params_go_to_the_cluster_once_per_iteration_and_each_block_once(cluster_client, rng):
    X = blobs(rng, n=800, d=2, k=2)
    Xd = da.from_array(X, chunks=(100, 2))
    with get_task_stream(cluster_client) as tasks:
        gm = GaussianMixture(**fitted_init(X, 2, "tied")).fit(Xd)
    names = [t["key"][0] if isinstance(t["key"], tuple) else t["key"] for t in tasks.data]
    assert sum(name.startswith("gaussmix-params") for name in names) == gm.n_iter_
    assert sum(name.startswith("_block_stats") for name in names) == gm.n_iter_ * Xd.numblocks[0]
    assert sum(name.startswith("_checked_block") for name in names) == Xd.numblocks[0]  # checked and held once


# -- bad input ------------------------------------------------------------------------------------------------

def test_nan_in_a_dask_array_is_reported_by_global_row_and_column(scheduler, rng):
    X = blobs(rng, n=600, d=3, k=2)
    X[437, 2] = np.nan
    with pytest.raises(ValueError, match=r"X contains NaN at row 437, column 2\."):
        GaussianMixture(2, random_state=0).fit(da.from_array(X, chunks=(100, 3)))


def test_non_numeric_dask_dataframe_column_is_refused_by_name(rng):
    frame = pd.DataFrame({"a": rng.normal(size=20), "city": ["x"] * 20})
    with pytest.raises(TypeError, match="X column 'city' is not numeric"):
        GaussianMixture(2).fit(dd.from_pandas(frame, npartitions=2))


def test_dask_sample_weight_of_the_wrong_length_is_refused(rng):
    X = da.from_array(blobs(rng, n=300, d=2, k=2), chunks=(100, 2))
    with pytest.raises(ValueError, match="sample_weight has 299 entries; X has 300 rows"):
        GaussianMixture(2).fit(X, sample_weight=np.ones(299))


# -- row-wise methods ------------------------------------------------------------------------------------------

def test_row_wise_methods_return_lazy_dask_arrays_equal_to_in_memory(scheduler, rng, tmp_path):
    X = blobs(rng, n=900, d=3, k=3)
    gm = GaussianMixture(3, random_state=0).fit(X)
    Xd = da.from_array(X, chunks=(250, 3))
    for method in ("predict", "predict_proba", "score_samples"):
        lazy = getattr(gm, method)(Xd)
        assert isinstance(lazy, da.Array), method
        np.testing.assert_allclose(lazy.compute(), getattr(gm, method)(X), rtol=1e-12, err_msg=method)
    w = rng.uniform(0.5, 2.0, len(X))
    for method in ("score", "bic", "aic"):
        np.testing.assert_allclose(getattr(gm, method)(Xd), getattr(gm, method)(X), rtol=1e-12, err_msg=method)
    np.testing.assert_allclose(gm.score(Xd, sample_weight=w), gm.score(X, sample_weight=w), rtol=1e-12)
    out = write_predictions(gm, Xd, tmp_path / "p.npy", proba=True)
    np.testing.assert_allclose(np.load(out)[:, 2:], gm.predict_proba(X), rtol=1e-12)


# -- the initialisation sample --------------------------------------------------------------------------------

def test_sample_drawn_by_blocks_makes_every_subset_equally_likely():
    X = np.arange(5.0)[:, None] * [1.0, 10.0]
    subsets = {s: i for i, s in enumerate(itertools.combinations(range(5), 2))}
    counts = np.zeros(len(subsets))
    with dask.config.set(scheduler="sync"):
        source = dask_source(da.from_array(X, chunks=(2, 2)), chunk_rows=2)
        for seed in range(800):
            sample, weights, rows = dask_sample(source, 2, np.random.default_rng(seed), split_every=2)
            counts[subsets[tuple(rows.tolist())]] += 1
            np.testing.assert_array_equal(sample, X[rows])
    assert weights is None
    assert stats.chisquare(counts).pvalue > 1e-4, counts


def test_sample_never_draws_zero_weight_rows_and_returns_their_weights():
    X = np.arange(40.0)[:, None]
    w = np.where(np.arange(40) % 3 == 0, 0.0, np.arange(40) / 10)
    with dask.config.set(scheduler="sync"):
        source = dask_source(da.from_array(X, chunks=7), da.from_array(w, chunks=9), chunk_rows=7)
        sample, weights, rows = dask_sample(source, 10, np.random.default_rng(0))
        everything, _, all_rows = dask_sample(source, 100, np.random.default_rng(0))
    assert np.all(np.diff(rows) > 0) and np.all(w[rows] > 0)
    np.testing.assert_array_equal(weights, w[rows])
    np.testing.assert_array_equal(all_rows, np.flatnonzero(w > 0))


def test_init_sample_is_drawn_on_the_workers_and_the_fit_finds_the_in_memory_optimum(cluster_client, rng):
    X = blobs(rng, n=3000, d=2, k=3, spread=10.0)
    workers = set(cluster_client.scheduler_info()["workers"])
    kw = dict(n_components=3, tol=1e-8, max_iter=300, random_state=1)
    with get_task_stream(cluster_client) as tasks:
        on_cluster = GaussianMixture(**kw, init_sample_size=500).fit(da.from_array(X, chunks=(400, 2)))
    sampled_on = {t["worker"] for t in tasks.data if "_block_sample" in str(t["key"])}
    assert sampled_on and sampled_on <= workers
    in_memory = GaussianMixture(**kw).fit(X)
    order_a, order_b = np.argsort(on_cluster.means_[:, 0]), np.argsort(in_memory.means_[:, 0])
    np.testing.assert_allclose(on_cluster.means_[order_a], in_memory.means_[order_b], rtol=1e-5)


# -- optional, and robust ------------------------------------------------------------------------------------

def test_gaussmix_imports_and_fits_without_dask():
    code = ("import sys; sys.modules['dask'] = None; sys.modules['distributed'] = None\n"
            "import numpy as np, gaussmix\n"
            "X = np.random.default_rng(0).normal(size=(50, 2))\n"
            "print(gaussmix.GaussianMixture(2, random_state=0).fit(X).predict(X).shape)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(50,)"


def test_killing_a_worker_mid_fit_does_not_change_the_result(cluster_client, rng):
    X = blobs(rng, n=20000, d=4, k=3)
    kw = fitted_init(X, 3, "full")
    victim = next(iter(cluster_client.run(os.getpid).values()))
    killed = []

    def kill_during_the_next_pass(n_iter: int, lower_bound: float) -> None:
        if n_iter == 3:
            killed.append(threading.Timer(0.02, os.kill, (victim, signal.SIGKILL)))
            killed[0].start()

    on_cluster = GaussianMixture(**kw).fit(da.from_array(X, chunks=(1000, 4)), on_iteration=kill_during_the_next_pass)
    killed[0].join()
    cluster_client.wait_for_workers(2, timeout=60)  # the nanny restarts it; let it finish before teardown
    assert victim not in cluster_client.run(os.getpid).values()
    assert on_cluster.n_iter_ == 8
    assert_same_fit(on_cluster, GaussianMixture(**kw).fit(X))

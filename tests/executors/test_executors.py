"""Every executor offers the same map-reduce; the passes built on it give the same results on each."""

from __future__ import annotations

from functools import reduce
from operator import add

import numpy as np
import pytest

from conftest import blobs
from gaussmix._dispatch import executor_for, init_sample, mean_of_rows
from gaussmix.core.estep import chunk_stats, log_resp
from gaussmix.core.stats import SufficientStats
from gaussmix.executors import local
from gaussmix.executors.base import accumulator
from gaussmix.executors.local import ArraySource
from gaussmix.executors.sampling import row_keys, sample_rows
from strategies import random_params

STATS_FIELDS = ("n", "log_likelihood", "resp_sum", "first", "second", "worst_log_prob", "worst_rows", "worst_points")


def _offsets(X, w, offset, tag):
    return [(tag, offset, X.shape[0])]


def _concat(*lists):
    return sum(lists, [])


@pytest.mark.parametrize("n_workers", [1, 2])
def test_local_map_reduce_combines_in_block_order_whatever_the_threads(rng, n_workers):
    source = ArraySource(rng.normal(size=(1000, 2)), chunk_rows=37)
    got = local.map_reduce(source, _offsets, _concat, ("t",), n_workers=n_workers)
    assert got == [("t", lo, min(37, 1000 - lo)) for lo in range(0, 1000, 37)]


def test_a_source_without_blocks_gives_empty_or_a_clear_error():
    source = ArraySource(np.empty((0, 2)))
    assert local.map_reduce(source, _offsets, _concat, ("t",), empty=[]) == []
    with pytest.raises(ValueError, match="The data source has no rows"):
        local.map_reduce(source, _offsets, _concat, ("t",))


@pytest.mark.parametrize("kind", ["full", "diag"])
def test_local_accumulate_is_the_block_order_sum_of_chunk_stats_to_the_last_bit(rng, dtype, kind):
    X = blobs(rng, n=2000, d=3).astype(dtype)
    w = rng.uniform(0, 2, len(X))
    params = random_params(rng, 3, 3, kind, X.astype(np.float64))
    source = ArraySource(X, w, chunk_rows=300)
    zero = SufficientStats.zeros(3, 3, kind, params.means)
    expected = reduce(add, (chunk_stats(c.X, params, c.sample_weight, c.offset) for c in source.chunks()), zero)
    got = accumulator(local.executor(n_workers=2), source)(params)
    for field in STATS_FIELDS:
        np.testing.assert_array_equal(getattr(got, field), getattr(expected, field), err_msg=field)


def test_local_mean_of_rows_is_the_block_order_weighted_sum_to_the_last_bit(rng):
    X = blobs(rng, n=3000, d=2)
    w = rng.uniform(0, 2, len(X))
    params = random_params(rng, 3, 2, "full", X)
    source = ArraySource(X, chunk_rows=256)
    total = n = 0.0
    for lo in range(0, len(X), 256):
        total += float(w[lo:lo + 256] @ log_resp(X[lo:lo + 256], params)[0])
        n += float(np.sum(w[lo:lo + 256]))
    assert mean_of_rows(source, lambda Xb: log_resp(Xb, params)[0], w) == (total / n, n)


def test_row_keys_depend_on_the_row_alone_and_look_uniform():
    keys = row_keys(7, 0, 100_000)
    np.testing.assert_array_equal(np.concatenate([row_keys(7, 0, 333), row_keys(7, 333, 99_667)]), keys)
    assert np.all((keys >= 0) & (keys < 1)) and len(np.unique(keys)) == keys.size
    counts = np.histogram(keys, bins=20, range=(0, 1))[0]
    from scipy import stats
    assert stats.chisquare(counts).pvalue > 1e-4
    assert not np.array_equal(row_keys(8, 0, 100), keys[:100])


def test_the_init_sample_is_the_same_on_every_executor_and_block_size(rng):
    da = pytest.importorskip("dask.array")
    dask = pytest.importorskip("dask")
    from gaussmix.executors.dask import dask_source

    X = rng.normal(size=(5000, 3))
    w = np.where(rng.uniform(size=5000) < 0.2, 0.0, 1.0)
    with dask.config.set(scheduler="sync"):
        lazy = dask_source(da.from_array(X, chunks=(700, 3)), da.from_array(w, chunks=700), chunk_rows=100)
        assert executor_for(lazy).rows_per_call == 100
        on_dask = sample_rows(executor_for(lazy), lazy, 300, np.random.default_rng(4))
    in_process = sample_rows(executor_for(ArraySource(X, w, chunk_rows=64)), ArraySource(X, w, chunk_rows=64),
                             300, np.random.default_rng(4))
    assert executor_for(ArraySource(X)).rows_per_call is None
    for a, b in zip(on_dask, in_process):
        np.testing.assert_array_equal(a, b)
    X_sample, w_sample = init_sample(ArraySource(X, w, chunk_rows=999), 300, np.random.default_rng(4))
    np.testing.assert_array_equal(X_sample, in_process[0])
    assert np.all(w_sample > 0)

"""reservoir_sample: one pass, no repeats, every subset of positive-weight rows equally likely."""

from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np
import pytest
from scipy import stats

from gaussmix.executors.sampling import reservoir_sample

SIGNIFICANCE = 1e-4  # seeds are fixed, so a pass is repeatable; keys skewed by 20% past the first block fail


class Chunk(NamedTuple):
    offset: int
    X: np.ndarray
    sample_weight: np.ndarray | None


class Rows:
    """A minimal chunked source over an array, counting its passes."""

    def __init__(self, X: np.ndarray, sample_weight: np.ndarray | None = None, chunk_rows: int = 4) -> None:
        self.X, self.sample_weight, self.chunk_rows = X, sample_weight, chunk_rows
        self.n_features = X.shape[1]
        self.passes = 0

    def chunks(self):
        self.passes += 1
        w = self.sample_weight
        for lo in range(0, self.X.shape[0], self.chunk_rows):
            hi = lo + self.chunk_rows
            yield Chunk(lo, self.X[lo:hi], None if w is None else w[lo:hi])


def numbered_rows(n: int, n_features: int = 2) -> np.ndarray:
    """Row i holds i, 10 i, ...: a row's values say which row it is."""
    return np.arange(n)[:, None] * 10.0 ** np.arange(n_features)


def assert_uniform(counts: np.ndarray) -> None:
    result = stats.chisquare(counts)
    assert result.pvalue > SIGNIFICANCE, f"counts {counts.tolist()} are not uniform (p = {result.pvalue:.2e})"


@pytest.mark.parametrize("n_rows, size, chunk_rows, n_draws", [(6, 2, 4, 3000), (8, 2, 1, 5600)])
def test_every_subset_of_rows_is_equally_likely(n_rows, size, chunk_rows, n_draws):
    # chunk_rows=1 with 8 rows also exercises pruning, which starts once more than 2 * size rows are held.
    source = Rows(numbered_rows(n_rows), chunk_rows=chunk_rows)
    subsets = {s: i for i, s in enumerate(itertools.combinations(range(n_rows), size))}
    counts = np.zeros(len(subsets))
    for seed in range(n_draws):
        _, _, rows = reservoir_sample(source, size, np.random.default_rng(seed))
        counts[subsets[tuple(rows.tolist())]] += 1
    assert_uniform(counts)


def test_each_row_of_a_long_source_is_equally_likely_to_be_drawn():
    n_rows, size = 60, 4
    counts = np.zeros(n_rows)
    for seed in range(3000):
        _, _, rows = reservoir_sample(Rows(numbered_rows(n_rows), chunk_rows=7), size, np.random.default_rng(seed))
        counts[rows] += 1
    assert counts.sum() == 3000 * size
    assert_uniform(counts)


def test_sample_holds_distinct_rows_with_their_values_and_weights_in_row_order(rng):
    X = rng.normal(size=(500, 3))
    w = rng.uniform(0.5, 2.0, 500)
    X_sample, w_sample, rows = reservoir_sample(Rows(X, w, chunk_rows=37), 25, rng)
    assert rows.dtype == np.int64 and len(np.unique(rows)) == 25
    assert np.all(np.diff(rows) > 0)
    np.testing.assert_array_equal(X_sample, X[rows])
    np.testing.assert_array_equal(w_sample, w[rows])


def test_zero_weight_rows_are_never_drawn_and_positive_weights_do_not_tilt_the_draw():
    n_rows = 30
    w = np.tile([0.0, 0.1, 10.0], n_rows // 3)  # zero, light and heavy rows in turn
    counts = np.zeros(n_rows)
    for seed in range(3000):
        _, w_sample, rows = reservoir_sample(Rows(numbered_rows(n_rows), w, 4), 5, np.random.default_rng(seed))
        np.testing.assert_array_equal(w_sample, w[rows])
        counts[rows] += 1
    assert counts[w == 0].sum() == 0
    assert_uniform(counts[w > 0])


def test_source_with_no_more_rows_than_size_comes_back_whole_and_in_order(rng):
    X = rng.normal(size=(23, 2))
    X_sample, w_sample, rows = reservoir_sample(Rows(X, chunk_rows=5), 23, rng)
    np.testing.assert_array_equal(X_sample, X)
    np.testing.assert_array_equal(rows, np.arange(23))
    assert w_sample is None
    w = np.where(np.arange(23) % 4 == 0, 0.0, 1.5)
    X_sample, w_sample, rows = reservoir_sample(Rows(X, w, chunk_rows=5), 100, rng)
    np.testing.assert_array_equal(rows, np.flatnonzero(w > 0))
    np.testing.assert_array_equal(X_sample, X[w > 0])
    np.testing.assert_array_equal(w_sample, w[w > 0])


def test_a_source_with_no_rows_gives_an_empty_sample(rng):
    X_sample, w_sample, rows = reservoir_sample(Rows(np.empty((0, 3))), 5, rng)
    assert X_sample.shape == (0, 3) and rows.shape == (0,) and w_sample is None


def test_one_pass_over_the_source(rng):
    source = Rows(rng.normal(size=(1000, 2)), chunk_rows=64)
    reservoir_sample(source, 10, rng)
    assert source.passes == 1


def test_same_seed_gives_the_same_sample_and_other_seeds_do_not(rng):
    source = Rows(rng.normal(size=(1000, 2)), chunk_rows=64)
    first = reservoir_sample(source, 10, np.random.default_rng(5))
    again = reservoir_sample(source, 10, np.random.default_rng(5))
    other = reservoir_sample(source, 10, np.random.default_rng(6))
    np.testing.assert_array_equal(first[2], again[2])
    np.testing.assert_array_equal(first[0], again[0])
    assert not np.array_equal(first[2], other[2])


def test_sample_does_not_depend_on_block_size_for_a_numpy_generator(rng):
    """A row's key depends on the seed drawn from the generator and the row's index alone."""
    X = rng.normal(size=(400, 2))
    samples = [reservoir_sample(Rows(X, chunk_rows=c), 15, np.random.default_rng(3))[2] for c in (1, 7, 400)]
    np.testing.assert_array_equal(samples[0], samples[1])
    np.testing.assert_array_equal(samples[0], samples[2])


def test_float32_rows_stay_float32(rng):
    X_sample, _, _ = reservoir_sample(Rows(rng.normal(size=(50, 2)).astype(np.float32)), 5, rng)
    assert X_sample.dtype == np.float32


def test_sample_from_a_csv_file_source_matches_the_file_rows(tmp_path, rng):
    from gaussmix.io.sources import open_data

    X = rng.normal(size=(120, 3))
    np.savetxt(tmp_path / "x.csv", X, delimiter=",", fmt="%.17g", header="a,b,c", comments="")
    X_sample, w_sample, rows = reservoir_sample(open_data(tmp_path / "x.csv", chunk_rows=16), 12, rng)
    np.testing.assert_array_equal(X_sample, X[rows])
    assert w_sample is None and len(rows) == 12


@pytest.mark.parametrize("size", [0, -1, 2.5, True])
def test_size_must_be_a_positive_integer(rng, size):
    with pytest.raises(ValueError, match="size must be a positive integer"):
        reservoir_sample(Rows(np.ones((3, 1))), size, rng)


def test_rng_must_be_a_generator():
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator; got int"):
        reservoir_sample(Rows(np.ones((3, 1))), 2, 0)

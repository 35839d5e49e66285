"""The SufficientStats monoid: any split sums to the whole, zero is the identity, + commutes and associates."""

from __future__ import annotations

from functools import reduce
from operator import add

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gaussmix.core.estep import chunk_stats
from gaussmix.core.mstep import params_from_stats
from gaussmix.core.stats import SufficientStats
from strategies import data_and_params, random_params, split_points

FIELDS = ("n", "log_likelihood", "resp_sum", "first", "second")


def assert_stats_close(a: SufficientStats, b: SufficientStats, rtol: float = 1e-12) -> None:
    for field in FIELDS:
        x, y = np.asarray(getattr(a, field)), np.asarray(getattr(b, field))
        scale = max(np.max(np.abs(y)), 1.0)
        np.testing.assert_allclose(x, y, rtol=0, atol=rtol * scale, err_msg=field)
    np.testing.assert_array_equal(a.worst_rows, b.worst_rows)


def stats_of_pieces(X, params, cuts, weights=None):
    edges = [0, *cuts, X.shape[0]]
    return [chunk_stats(X[a:b], params, None if weights is None else weights[a:b], row_offset=a)
            for a, b in zip(edges[:-1], edges[1:])]


@given(data_and_params(), st.data())
def test_stats_of_any_split_sum_to_whole(case, data):
    X, params = case
    whole = chunk_stats(X, params)
    pieces = stats_of_pieces(X, params, data.draw(split_points(X.shape[0])))
    order = data.draw(st.permutations(range(len(pieces))))
    assert_stats_close(reduce(add, [pieces[i] for i in order]), whole)


@given(data_and_params(), st.data())
def test_mstep_of_any_split_equals_mstep_of_whole(case, data):
    X, params = case
    whole = params_from_stats(chunk_stats(X, params), 1e-6).params
    pieces = stats_of_pieces(X, params, data.draw(split_points(X.shape[0])))
    summed = params_from_stats(reduce(add, pieces), 1e-6).params
    # Precision factors derive from the covariances; on constant columns they amplify rounding by 1/reg_covar,
    # so the claim is made on the M-step's own outputs, relative to each array's scale.
    for field in ("weights", "means", "covariances"):
        desired = getattr(whole, field)
        np.testing.assert_allclose(getattr(summed, field), desired, rtol=0,
                                   atol=1e-12 * max(np.max(np.abs(desired)), 1.0), err_msg=field)


@given(data_and_params())
def test_zero_is_identity_and_addition_commutes(case):
    X, params = case
    s = chunk_stats(X, params)
    zero = SufficientStats.zeros(params.n_components, params.n_features, params.covariance_type, params.means)
    assert_stats_close(zero + s, s, rtol=0)
    assert_stats_close(s + zero, s, rtol=0)
    half = X.shape[0] // 2
    a, b = chunk_stats(X[:half], params), chunk_stats(X[half:], params, row_offset=half)
    assert_stats_close(a + b, b + a, rtol=0)


def test_addition_associates(rng):
    params = random_params(rng, 3, 2, "full")
    X = rng.normal(size=(90, 2))
    a, b, c = (chunk_stats(X[i:i + 30], params, row_offset=i) for i in (0, 30, 60))
    assert_stats_close((a + b) + c, a + (b + c))


def test_stats_are_float64_for_float32_data(rng):
    params = random_params(rng, 2, 3, "diag")
    s = chunk_stats(rng.normal(size=(50, 3)).astype(np.float32), params)
    for field in FIELDS:
        assert np.asarray(getattr(s, field)).dtype == np.float64, field


def test_adding_stats_about_different_centres_is_refused(rng):
    X = rng.normal(size=(20, 2))
    a = chunk_stats(X, random_params(rng, 2, 2, "full"))
    b = chunk_stats(X, random_params(rng, 2, 2, "full"))
    with pytest.raises(ValueError, match="different centres"):
        a + b


def test_adding_stats_of_different_covariance_types_is_refused(rng):
    X = rng.normal(size=(20, 2))
    full = random_params(rng, 2, 2, "full")
    diag = random_params(rng, 2, 2, "diag")
    diag = type(diag)(diag.weights, full.means, diag.covariances, diag.precisions_cholesky, "diag")
    with pytest.raises(ValueError, match="'full' statistics"):
        chunk_stats(X, full) + chunk_stats(X, diag)


def test_integer_weights_equal_duplicated_rows(rng):
    params = random_params(rng, 3, 2, "tied")
    X = rng.normal(size=(40, 2))
    counts = rng.integers(0, 4, 40)
    weighted = chunk_stats(X, params, counts.astype(float))
    duplicated = chunk_stats(np.repeat(X, counts, axis=0), params)
    for field in FIELDS:
        np.testing.assert_allclose(getattr(weighted, field), getattr(duplicated, field), rtol=1e-12, atol=1e-10)


def test_worst_rows_are_the_lowest_log_likelihood_rows_with_global_indices(rng):
    params = random_params(rng, 2, 2, "full")
    X = rng.normal(size=(100, 2))
    X[37] = [40.0, -40.0]
    pieces = stats_of_pieces(X, params, [25, 50, 75])
    total = reduce(add, pieces)
    assert int(total.worst_rows[0]) == 37
    np.testing.assert_array_equal(total.worst_points[0], X[37])


def test_zero_weight_rows_are_never_worst(rng):
    params = random_params(rng, 2, 2, "full")
    X = rng.normal(size=(30, 2))
    X[3] = [1e3, 1e3]
    w = np.ones(30)
    w[3] = 0.0
    assert 3 not in chunk_stats(X, params, w).worst_rows.tolist()

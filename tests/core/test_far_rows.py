"""Issue 11: a finite row too far to represent scores -inf, never NaN, and EM says when squares overflow."""

from __future__ import annotations

import numpy as np
import pytest

from gaussmix.core import fast_estep
from gaussmix.core.density import centred_log_gaussian_prob
from gaussmix.core.estep import chunk_stats_reference, log_resp_reference
from gaussmix.core.mstep import params_from_stats
from gaussmix.core.params import COVARIANCE_TYPES, GaussianParams
from strategies import random_params

KINDS_AND_FORMS = [(kind, form) for kind in COVARIANCE_TYPES
                   for form in (("expanded", "centred") if kind in ("full", "tied") else ("expanded",))]
#: Finite values whose squares overflow in each dtype (float64 squares overflow beyond ~1.3e154, float32 ~1.8e19).
FAR = {np.float64: [1e160, 1e200, 1e300], np.float32: [1e20, 1e30, 1e38]}
FAR_ROWS = [3, 4, 5, 6]




def data_with_far_rows(rng, kind, dtype):
    X = rng.normal(0, 2, (300, 3))
    params = random_params(rng, 3, 3, kind, X)
    big = FAR[dtype]
    X[3], X[4], X[5] = big[0], [big[1], -big[1], big[0]], -big[2]  # mixed signs: inf − inf in the expansion
    X[6] = [0.0, big[2], 0.0]
    return X.astype(dtype), params


#: Each E-step that scores rows: the fast path in each of its forms, and the reference (which has one form).
SCORERS = [(kind, f"fast-{form}", lambda X, p, form=form: fast_estep.fast_log_resp(X, p, form=form))
           for kind, form in KINDS_AND_FORMS] + [(kind, "reference", log_resp_reference) for kind in COVARIANCE_TYPES]


@pytest.mark.parametrize(("kind", "path", "score"), SCORERS, ids=[f"{k}-{p}" for k, p, _ in SCORERS])
def test_rows_too_far_to_represent_score_minus_infinity_and_are_shared_equally(rng, dtype, kind, path, score):
    X, params = data_with_far_rows(rng, kind, dtype)
    with np.errstate(all="raise"):  # no floating-point warning escapes either
        log_prob, log_resp = score(X, params)
    near = np.setdiff1d(np.arange(X.shape[0]), FAR_ROWS)
    np.testing.assert_array_equal(log_prob[FAR_ROWS], -np.inf)
    assert np.all(np.isfinite(log_prob[near]))
    assert not np.any(np.isnan(log_resp))
    np.testing.assert_allclose(np.exp(log_resp[FAR_ROWS]), 1.0 / 3, rtol=1e-6)
    np.testing.assert_allclose(np.exp(log_resp).sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize(("kind", "form"), KINDS_AND_FORMS)
def test_fast_and_reference_statistics_of_far_rows_have_a_minus_infinite_log_likelihood(rng, dtype, kind, form):
    X, params = data_with_far_rows(rng, kind, dtype)
    for stats in (fast_estep.fast_chunk_stats(X, params, row_offset=10, form=form),
                  chunk_stats_reference(X, params, row_offset=10)):
        assert stats.log_likelihood == -np.inf
        assert np.all(np.isfinite(stats.resp_sum))
        assert set(stats.worst_rows[:4].tolist()) == {10 + r for r in FAR_ROWS}


@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_statistics_whose_squares_overflow_say_so_and_to_rescale(rng, kind):
    X, params = data_with_far_rows(rng, kind, np.float64)
    for stats in (fast_estep.fast_chunk_stats(X, params), chunk_stats_reference(X, params)):
        with pytest.raises(ValueError, match="overflow when squared.*row [3-6].*Rescale the data"):
            params_from_stats(stats, 1e-6)


@pytest.mark.parametrize(("kind", "form"), KINDS_AND_FORMS)
def test_rows_whose_expanded_squares_overflow_near_a_component_are_scored_exactly(rng, dtype, kind, form):
    """Components at ±s (s = 2e154; 1e20 in float32) with spread s/10: (x − g)² overflows, (x − μ)·P does not."""
    s = 2e154 if dtype == np.float64 else 1e20
    means = np.array([[-s, -s], [s, s]])
    cov = {"full": np.stack([np.eye(2), [[1.0, 0.5], [0.5, 1.0]]]), "tied": np.eye(2), "diag": np.ones((2, 2)),
           "spherical": np.ones(2)}[kind] * (s / 10) ** 2
    params = GaussianParams.from_covariances(np.array([0.5, 0.5]), means, cov, kind)
    X = (np.repeat(means, 50, axis=0) + rng.normal(0, s / 10, (100, 2))).astype(dtype)
    log_prob, log_resp = fast_estep.fast_log_resp(X, params, form=form)
    X64 = X.astype(np.float64)
    wlp = centred_log_gaussian_prob(X64, params) + np.log(params.weights)
    expected = np.logaddexp(wlp[:, 0], wlp[:, 1])
    np.testing.assert_allclose(log_prob, expected, rtol={np.float64: 1e-9, np.float32: 1e-4}[dtype])
    np.testing.assert_allclose(np.exp(log_resp), np.exp(wlp - expected[:, None]), atol=1e-5)


def test_no_rows_give_empty_scores_on_both_paths(rng):
    params = random_params(rng, 3, 2, "full")
    for log_prob, log_resp in (log_resp_reference(np.empty((0, 2)), params),
                               fast_estep.fast_log_resp(np.empty((0, 2)), params)):
        assert log_prob.shape == (0,) and log_resp.shape == (0, 3)

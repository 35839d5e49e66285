"""The lean E-step pass: statistics without the worst-explained rows, and EM asking for them only to re-seed."""

from __future__ import annotations

import numpy as np
import pytest

from gaussmix.core import MaximumLikelihood, chunk_stats, em_step, run_em
from gaussmix.core.params import COVARIANCE_TYPES, GaussianParams
from gaussmix.executors.base import accumulator
from gaussmix.executors.local import ArraySource, executor, local_accumulator
from strategies import random_params

FIELDS = ("n", "log_likelihood", "resp_sum", "first", "second")


class CountingPasses:
    """An accumulate function that counts its passes."""

    def __init__(self, accumulate):
        self.accumulate, self.passes = accumulate, 0

    def __call__(self, params):
        self.passes += 1
        return self.accumulate(params)


def two_blobs(rng, d=3):
    return np.concatenate([rng.normal(0, 1, (400, d)), rng.normal(4, 1, (400, d))])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_lean_statistics_equal_the_full_ones_bit_for_bit(rng, kind, dtype):
    X = two_blobs(rng).astype(dtype)
    params = random_params(rng, 3, 3, kind)
    weights = rng.uniform(0.0, 2.0, X.shape[0])
    for w in (None, weights):
        full = chunk_stats(X, params, w, row_offset=10)
        lean = chunk_stats(X, params, w, row_offset=10, worst_rows=False)
        for field in FIELDS:
            np.testing.assert_array_equal(getattr(lean, field), getattr(full, field), err_msg=field)
        assert full.worst_rows.size == 8 and lean.worst_rows.size == 0


def test_a_pass_without_worst_rows_over_blocks_on_threads(rng):
    X = two_blobs(rng)
    source = ArraySource(X, chunk_rows=100)
    params = random_params(rng, 2, 3, "full")
    full = local_accumulator(source, n_workers=2)(params)
    lean = accumulator(executor(2), source, worst_rows=False)(params)
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(lean, field), getattr(full, field), err_msg=field)
    assert lean.worst_rows.size == 0 and full.worst_rows.size == 8


def test_em_runs_only_the_lean_pass_while_no_component_is_reseeded(rng):
    X = two_blobs(rng)
    params0 = GaussianParams.from_covariances(np.array([0.5, 0.5]), np.array([[0.0] * 3, [4.0] * 3]),
                                              np.ones(2), "spherical")
    full = CountingPasses(lambda p: chunk_stats(X, p))
    lean = CountingPasses(lambda p: chunk_stats(X, p, worst_rows=False))
    result = run_em(full, params0, m_step=MaximumLikelihood(1e-6), tol=0.0, max_iter=6, lean=lean)
    plain = run_em(lambda p: chunk_stats(X, p), params0, m_step=MaximumLikelihood(1e-6), tol=0.0, max_iter=6)
    assert (full.passes, lean.passes) == (0, 6)
    assert result.lower_bounds == plain.lower_bounds
    np.testing.assert_array_equal(result.params.means, plain.params.means)


@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_a_reseed_runs_the_full_pass_and_names_the_worst_row(rng, kind):
    X = rng.normal(size=(200, 2))
    X[17] = [9.0, 9.0]
    cov = {"full": np.stack([np.eye(2)] * 2), "tied": np.eye(2), "diag": np.ones((2, 2)),
           "spherical": np.ones(2)}[kind]
    params = GaussianParams.from_covariances(np.array([0.5, 0.5]), np.array([[0.0, 0.0], [500.0, 500.0]]), cov,
                                             kind)  # component 1 explains nothing: it is re-seeded
    full = CountingPasses(lambda p: chunk_stats(X, p))
    lean = CountingPasses(lambda p: chunk_stats(X, p, worst_rows=False))
    outcome, stats = em_step(full, params, MaximumLikelihood(1e-6), lean)
    reference, _ = em_step(lambda p: chunk_stats(X, p), params, MaximumLikelihood(1e-6))
    assert (full.passes, lean.passes) == (1, 1)
    assert [(r.component, r.row) for r in outcome.reseeds] == [(1, 17)] == \
        [(r.component, r.row) for r in reference.reseeds]
    np.testing.assert_array_equal(outcome.state.means, reference.state.means)
    assert stats.worst_rows.size == 8


def test_statistics_that_overflow_still_name_the_worst_row(rng):
    X = rng.normal(size=(50, 2))
    X[31] = [1e200, 1e200]  # its square overflows; the error names it even though the lean pass skipped it
    params = GaussianParams.from_covariances(np.array([1.0]), np.zeros((1, 2)), np.ones(1), "spherical")
    with pytest.raises(ValueError, match=r"row 31 is the worst explained"):
        em_step(lambda p: chunk_stats(X, p), params, MaximumLikelihood(1e-6),
                lambda p: chunk_stats(X, p, worst_rows=False))

"""The E-step plan is a per-pass value: fresh for changed parameters, and the same result whether passed or not."""

from __future__ import annotations

import numpy as np
import pytest

from gaussmix.core import estep
from gaussmix.core.estep import chunk_stats, estep_plan, log_resp
from gaussmix.core.params import COVARIANCE_TYPES, GaussianParams
from strategies import random_params

FIELDS = ("n", "log_likelihood", "resp_sum", "first", "second", "worst_log_prob", "worst_rows", "worst_points")


def case(rng, kind, dtype):
    X = rng.normal(0, 2, (700, 3)).astype(dtype)
    return X, random_params(rng, 4, 3, kind, X.astype(np.float64))


def copied(params: GaussianParams) -> GaussianParams:
    return GaussianParams(*(np.array(a) for a in (params.weights, params.means, params.covariances,
                                                  params.precisions_cholesky)), params.covariance_type)


@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_changing_a_params_array_in_place_gives_fresh_densities(rng, dtype, kind):
    X, params = case(rng, kind, dtype)
    before, _ = log_resp(X, params)
    chunk_stats(X, params)
    params.means[0] += 3.0  # the arrays of a frozen GaussianParams can still be written
    after, _ = log_resp(X, params)
    stats = chunk_stats(X, params)
    assert not np.array_equal(after, before)
    np.testing.assert_array_equal(after, log_resp(X, copied(params))[0])
    np.testing.assert_array_equal(stats.first, chunk_stats(X, copied(params)).first)


@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_a_precomputed_plan_gives_the_same_results_to_the_last_bit(rng, dtype, kind):
    X, params = case(rng, kind, dtype)
    w = rng.uniform(0, 2, X.shape[0])
    plan = estep_plan(params, X.dtype)
    assert plan is not None
    assert estep._plan_for(X, plan) is plan  # used, not recomputed per block (float32 full/tied: widened)
    for got, expected in zip(log_resp(X, params, plan=plan), log_resp(X, params)):
        np.testing.assert_array_equal(got, expected)
    with_plan, without = chunk_stats(X, params, w, 50, plan=plan), chunk_stats(X, params, w, 50)
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(with_plan, field), getattr(without, field), err_msg=field)


def test_a_plan_made_for_another_dtype_is_not_used(rng):
    X, params = case(rng, "full", np.float32)
    wrong = estep_plan(params, np.float64)
    np.testing.assert_array_equal(log_resp(X, params, plan=wrong)[0], log_resp(X, params)[0])
    np.testing.assert_array_equal(chunk_stats(X, params, plan=wrong).second, chunk_stats(X, params).second)


def test_no_plan_for_dtypes_without_a_fast_path(rng):
    torch = pytest.importorskip("torch")
    _, params = case(rng, "diag", np.float64)
    assert estep_plan(params, torch.float32) is None
    assert estep_plan(params, np.float16) is None


@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_cpu_tensors_take_the_numpy_fast_path_on_their_own_memory(rng, dtype, kind):
    """Same statistics and responsibilities, to the last bit, as the NumPy arrays the tensors share memory with."""
    torch = pytest.importorskip("torch")
    X, params = case(rng, kind, dtype)
    w = rng.uniform(0, 2, X.shape[0])
    tensor_params = GaussianParams(*(torch.as_tensor(np.asarray(a)) for a in (
        params.weights, params.means, params.covariances, params.precisions_cholesky)), kind)
    X_t = torch.from_numpy(X)
    plan = estep_plan(tensor_params, X_t.dtype)
    assert isinstance(plan, estep.HostPlan) and plan.serves(X)
    got, expected = chunk_stats(X_t, tensor_params, torch.from_numpy(w), 7, plan=plan), chunk_stats(X, params, w, 7)
    for field in FIELDS:
        value = getattr(got, field)
        assert isinstance(value, torch.Tensor), field
        np.testing.assert_array_equal(value.numpy(), getattr(expected, field), err_msg=field)
    assert got.center is tensor_params.means and got.n.shape == expected.n.shape == ()
    for got_part, expected_part in zip(log_resp(X_t, tensor_params, plan=plan), log_resp(X, params)):
        assert isinstance(got_part, torch.Tensor) and got_part.dtype == X_t.dtype
        np.testing.assert_array_equal(got_part.numpy(), expected_part)

"""Densities against SciPy, one component at a time, for every covariance type; extreme points stay finite."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from scipy.special import logsumexp as scipy_logsumexp
from scipy.stats import multivariate_normal

from gaussmix.core.density import log_gaussian_prob, logsumexp
from gaussmix.core.estep import log_resp
from gaussmix.core.params import COVARIANCE_TYPES, GaussianParams
from strategies import data_and_params, random_params


def full_covariance(params: GaussianParams, k: int) -> np.ndarray:
    cov, kind, d = params.covariances, params.covariance_type, params.n_features
    return {"full": lambda: cov[k], "tied": lambda: cov, "diag": lambda: np.diag(cov[k]),
            "spherical": lambda: cov[k] * np.eye(d)}[kind]()


def naive_log_prob(X: np.ndarray, params: GaussianParams) -> np.ndarray:
    """SciPy's multivariate normal, looped over components: slow and obviously right."""
    return np.column_stack([multivariate_normal(params.means[k], full_covariance(params, k)).logpdf(X)
                            .reshape(X.shape[0]) for k in range(params.n_components)])


@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_log_gaussian_prob_matches_scipy(rng, kind):
    params = random_params(rng, 4, 3, kind)
    X = rng.normal(0, 2, (200, 3))
    np.testing.assert_allclose(log_gaussian_prob(X, params), naive_log_prob(X, params), rtol=1e-10)


@given(data_and_params())
def test_mixture_log_prob_matches_scipy(case):
    X, params = case
    expected = scipy_logsumexp(naive_log_prob(X, params) + np.log(params.weights), axis=1)
    np.testing.assert_allclose(log_resp(X, params)[0], expected, rtol=1e-9, atol=1e-9)


@given(data_and_params())
def test_responsibilities_sum_to_one(case):
    X, params = case
    np.testing.assert_allclose(np.exp(log_resp(X, params)[1]).sum(axis=1), 1.0, rtol=1e-12)


@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_float32_density_is_float32_and_close(rng, kind):
    params = random_params(rng, 3, 4, kind)
    X = rng.normal(size=(100, 4))
    out = log_gaussian_prob(X.astype(np.float32), params)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, naive_log_prob(X, params), rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_points_far_from_every_component_stay_finite(rng, kind, dtype):
    params = random_params(rng, 3, 2, kind)
    X = np.array([[1e4, -1e4], [0.0, 0.0]], dtype=dtype)  # ~1e4 standard deviations away
    log_prob, lr = log_resp(X, params)
    assert np.all(np.isfinite(log_prob)) and np.all(np.isfinite(lr) | (lr == -np.inf))
    np.testing.assert_allclose(np.exp(lr).sum(axis=1), 1.0, rtol=1e-5)
    assert log_prob[0] < -1e6


def test_logsumexp_handles_all_minus_infinity_rows():
    a = np.array([[-np.inf, -np.inf], [0.0, -np.inf], [1000.0, 1000.0]])
    np.testing.assert_array_equal(logsumexp(a, axis=1), [-np.inf, 0.0, 1000.0 + np.log(2)])

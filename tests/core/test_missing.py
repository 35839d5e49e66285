"""The E-step of rows with NaN against independent references: SciPy marginals, textbook conditional moments."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from gaussmix.core.conditional import condition_params
from gaussmix.core.estep import chunk_stats, log_resp
from gaussmix.core.fast_estep import fast_chunk_stats
from gaussmix.core.missing import impute_rows
from gaussmix.core.params import COVARIANCE_TYPES, GaussianParams
from strategies import random_params

KINDS = list(COVARIANCE_TYPES)


def with_holes(rng: np.random.Generator, X: np.ndarray, fraction: float) -> np.ndarray:
    Xm = X.copy()
    Xm[rng.random(X.shape) < fraction] = np.nan
    empty = np.isnan(Xm).all(axis=1)
    Xm[empty, 0] = X[empty, 0]  # every row keeps an observed value
    return Xm


def reference_log_prob(X: np.ndarray, params: GaussianParams) -> np.ndarray:
    """log Σ_k w_k N(x_o | μ_ko, Σ_koo) by SciPy, one row at a time."""
    cov = params.full_covariances
    out = []
    for x in X:
        o = ~np.isnan(x)
        density = sum(w * multivariate_normal(params.means[k, o], cov[k][np.ix_(o, o)]).pdf(x[o])
                      for k, w in enumerate(params.weights))
        out.append(np.log(density))
    return np.array(out)


@pytest.mark.parametrize("kind", KINDS)
def test_score_of_rows_with_nan_is_scipys_marginal_density(rng, kind):
    params = random_params(rng, 3, 4, kind)
    X = with_holes(rng, rng.normal(0, 2, (60, 4)), 0.4)
    log_prob, lr = log_resp(X, params)
    np.testing.assert_allclose(log_prob, reference_log_prob(X, params), rtol=1e-10)
    np.testing.assert_allclose(np.exp(lr).sum(axis=1), 1.0, rtol=1e-12)


def reference_stats(X: np.ndarray, params: GaussianParams) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """resp sums, first moments and full scatters about the means, row by row from the textbook formulas:
    x̂ = μ_m + Σ_mo Σ_oo⁻¹ (x_o − μ_o), C = Σ_mm − Σ_mo Σ_oo⁻¹ Σ_om (explicit inverses)."""
    cov = params.full_covariances
    k_all, d = params.means.shape
    nk, first, second = np.zeros(k_all), np.zeros((k_all, d)), np.zeros((k_all, d, d))
    for x in X:
        o, m = ~np.isnan(x), np.isnan(x)
        dens = np.array([w * multivariate_normal(params.means[k, o], cov[k][np.ix_(o, o)]).pdf(x[o])
                         for k, w in enumerate(params.weights)])
        resp = dens / dens.sum()
        for k in range(k_all):
            inv = np.linalg.inv(cov[k][np.ix_(o, o)])
            xhat = x.copy()
            xhat[m] = params.means[k, m] + cov[k][np.ix_(m, o)] @ inv @ (x[o] - params.means[k, o])
            c = np.zeros((d, d))
            c[np.ix_(m, m)] = cov[k][np.ix_(m, m)] - cov[k][np.ix_(m, o)] @ inv @ cov[k][np.ix_(o, m)]
            diff = xhat - params.means[k]
            nk[k] += resp[k]
            first[k] += resp[k] * diff
            second[k] += resp[k] * (np.outer(diff, diff) + c)
    return nk, first, second


@pytest.mark.parametrize("kind", KINDS)
def test_expected_statistics_are_the_conditional_moments(rng, kind):
    params = random_params(rng, 3, 4, kind)
    X = with_holes(rng, rng.normal(0, 2, (40, 4)), 0.35)
    stats = chunk_stats(X, params)
    nk, first, second = reference_stats(X, params)
    reduced = {"full": second, "tied": second.sum(0), "diag": np.diagonal(second, axis1=1, axis2=2),
               "spherical": np.trace(second, axis1=1, axis2=2)}[kind]
    np.testing.assert_allclose(stats.resp_sum, nk, rtol=1e-10)
    np.testing.assert_allclose(stats.first, first, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(stats.second, reduced, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(stats.log_likelihood, reference_log_prob(X, params).sum(), rtol=1e-10)
    assert not np.isnan(stats.worst_points).any()  # a re-seed lands on a completed row, never on NaN


@pytest.mark.parametrize("kind", KINDS)
def test_statistics_with_nan_of_any_split_sum_to_whole(rng, kind):
    params = random_params(rng, 3, 4, kind)
    X = with_holes(rng, rng.normal(0, 2, (90, 4)), 0.3)
    w = rng.uniform(0, 2, 90)
    whole = chunk_stats(X, params, w)
    parts = chunk_stats(X[:37], params, w[:37]) + chunk_stats(X[37:], params, w[37:], row_offset=37)
    for field in ("n", "log_likelihood", "resp_sum", "first", "second"):
        np.testing.assert_allclose(getattr(parts, field), getattr(whole, field), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(parts.worst_rows, whole.worst_rows)


@pytest.mark.parametrize("kind", KINDS)
def test_rows_without_nan_take_the_fast_path_bit_for_bit(rng, kind, dtype):
    params = random_params(rng, 3, 4, kind)
    X = rng.normal(0, 2, (500, 4)).astype(dtype)
    a, b = chunk_stats(X, params), fast_chunk_stats(X, params, None, 0)
    for field in ("n", "log_likelihood", "resp_sum", "first", "second", "worst_rows", "worst_points"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def test_integer_weights_equal_duplicated_rows_with_nan(rng):
    params = random_params(rng, 3, 4, "full")
    X = with_holes(rng, rng.normal(0, 2, (30, 4)), 0.3)
    w = rng.integers(0, 3, 30)
    a = chunk_stats(X, params, w.astype(float))
    b = chunk_stats(np.repeat(X, w, axis=0), params)
    for field in ("n", "log_likelihood", "resp_sum", "first", "second"):
        np.testing.assert_allclose(getattr(a, field), getattr(b, field), rtol=1e-11, atol=1e-11)


def test_imputed_values_are_conditional_means_and_observed_values_stay(rng):
    params = random_params(rng, 3, 4, "full")
    X = with_holes(rng, rng.normal(0, 2, (20, 4)), 0.4)
    filled = impute_rows(X, params)
    observed = ~np.isnan(X)
    np.testing.assert_array_equal(filled[observed], X[observed])
    for x, f in zip(X, filled):
        o = ~np.isnan(x)
        if o.all():
            continue
        cm = condition_params(params, np.flatnonzero(o), x[o][None])
        np.testing.assert_allclose(f[~o], cm.mean()[0], rtol=1e-10, atol=1e-12)


def test_imputation_draws_have_the_conditional_mean_and_variance(rng):
    params = random_params(rng, 2, 3, "full")
    x = np.array([[0.5, np.nan, np.nan]])
    draws = np.vstack([impute_rows(np.repeat(x, 4000, axis=0), params, rng)])
    cm = condition_params(params, np.array([0]), x[:, :1])
    np.testing.assert_allclose(draws[:, 1:].mean(axis=0), cm.mean()[0], atol=0.1)
    np.testing.assert_allclose(np.cov(draws[:, 1:].T), cm.covariance()[0], rtol=0.1, atol=0.05)

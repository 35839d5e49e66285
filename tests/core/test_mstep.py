"""The M-step against closed forms, far from the origin, in float32, and its re-seeding of dead components."""

from __future__ import annotations

import numpy as np
import pytest

from gaussmix.core.estep import chunk_stats, resp_stats
from gaussmix.core.mstep import params_from_stats
from gaussmix.core.params import COVARIANCE_TYPES, GaussianParams
from gaussmix.core.stats import SufficientStats
from strategies import random_params


def one_component(X: np.ndarray, kind: str) -> GaussianParams:
    d = X.shape[1]
    cov = {"full": np.eye(d)[None], "tied": np.eye(d), "diag": np.ones((1, d)), "spherical": np.ones(1)}[kind]
    return GaussianParams.from_covariances(np.ones(1), X[:1].astype(np.float64), cov, kind)


@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_single_component_mstep_is_the_sample_mean_and_covariance(rng, kind):
    X = rng.normal(size=(500, 3)) @ rng.normal(size=(3, 3))
    reg = 1e-6
    p = params_from_stats(chunk_stats(X, one_component(X, kind)), reg).params
    cov = np.cov(X.T, bias=True)
    expected = {"full": cov[None] + reg * np.eye(3), "tied": cov + reg * np.eye(3),
                "diag": np.diag(cov)[None] + reg, "spherical": np.array([np.diag(cov).mean() + reg])}[kind]
    np.testing.assert_allclose(p.means[0], X.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(p.covariances, expected, rtol=1e-12)
    np.testing.assert_allclose(p.weights, [1.0])


@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_covariances_far_from_the_origin_equal_those_near_it(rng, kind):
    X = rng.normal(size=(400, 3))
    params = random_params(rng, 2, 3, kind)
    shifted = GaussianParams(params.weights, params.means + 1e6, params.covariances, params.precisions_cholesky,
                             kind)
    near = params_from_stats(chunk_stats(X, params), 1e-6).params
    far = params_from_stats(chunk_stats(X + 1e6, shifted), 1e-6).params
    np.testing.assert_allclose(far.covariances, near.covariances, rtol=1e-6)
    np.testing.assert_allclose(far.means - 1e6, near.means, atol=1e-6)


@pytest.mark.parametrize("kind", ["diag", "tied", "spherical", "full"])
def test_float32_far_from_origin_gives_positive_accurate_variances(rng, kind):
    # scikit-learn issue #30382: the uncentred E[x²] − μ² goes negative here in float32.
    X = (rng.normal(0, 0.01, size=(5000, 2)) + 1000.0).astype(np.float32)
    params = params_from_stats(chunk_stats(X, one_component(X, kind)), 0.0).params
    variances = np.diagonal(params.covariances, axis1=-2, axis2=-1) if kind in ("full", "tied") \
        else params.covariances
    assert np.all(variances > 0)
    expected = X.astype(np.float64).var(axis=0)
    if kind == "spherical":
        expected = expected.mean()
    np.testing.assert_allclose(variances.reshape(-1)[: np.size(expected)], np.ravel(expected), rtol=1e-2)


@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_dead_component_is_reseeded_at_the_worst_explained_row(rng, kind):
    X = rng.normal(size=(200, 2))
    X[17] = [9.0, 9.0]
    means = np.array([[0.0, 0.0], [500.0, 500.0]])  # component 1 explains nothing
    cov = {"full": np.stack([np.eye(2)] * 2), "tied": np.eye(2), "diag": np.ones((2, 2)),
           "spherical": np.ones(2)}[kind]
    params = GaussianParams.from_covariances(np.array([0.5, 0.5]), means, cov, kind)
    result = params_from_stats(chunk_stats(X, params), 1e-6)
    assert [(r.component, r.row, r.reason) for r in result.reseeds] == [(1, 17, "lost all its points")]
    np.testing.assert_array_equal(result.params.means[1], X[17])
    assert np.all(np.isfinite(result.params.precisions_cholesky))
    np.testing.assert_allclose(result.params.weights.sum(), 1.0)


def test_singular_component_without_regularisation_is_reseeded(rng):
    X = np.vstack([rng.normal(size=(50, 2)), np.tile([5.0, 5.0], (10, 1))])
    centers = np.array([X[:50].mean(axis=0), [5.0, 5.0]])
    resp = np.zeros((60, 2))
    resp[:50, 0] = 1
    resp[50:, 1] = 1
    stats = resp_stats(X, resp, None, centers, "full")
    from dataclasses import replace

    stats = replace(stats, worst_log_prob=np.array([-9.0]), worst_rows=np.array([3]), worst_points=X[[3]])
    result = params_from_stats(stats, 0.0)
    assert [(r.component, r.reason) for r in result.reseeds] == [(1, "covariance not positive definite")]
    np.testing.assert_allclose(result.params.covariances[1], result.params.covariances[0])


def test_all_components_singular_raises_a_clear_error():
    X = np.ones((10, 2))
    with pytest.raises(ValueError, match="Increase reg_covar"):
        params_from_stats(chunk_stats(X, one_component(X, "full")), 0.0)


@pytest.mark.parametrize("d", [100, 150, 300])  # whole-stack passes; one tile and a part; 3 × 3 tiles
def test_full_covariances_in_place_equal_the_formula_and_leave_the_statistics_alone(rng, d):
    """The NumPy branches work in place or by tiles (fewer large temporaries, no strided transposes); their values
    are the generic formula's, bit for bit."""
    from dataclasses import replace

    from gaussmix.core.mstep import covariances_from_stats

    k = 3
    second = rng.normal(size=(k, d, d))
    second = second @ np.transpose(second, (0, 2, 1)) + rng.normal(size=(k, d, d)) * 1e-9  # not quite symmetric
    stats = replace(SufficientStats.zeros(k, d, "full", np.zeros((k, d))), second=second.copy())
    nk, delta = rng.uniform(1, 2, k), rng.normal(size=(k, d))
    cov = second / nk[:, None, None] - delta[:, :, None] * delta[:, None, :]
    expected = 0.5 * (cov + np.transpose(cov, (0, 2, 1))) + 1e-6 * np.eye(d)
    np.testing.assert_array_equal(covariances_from_stats(stats, nk, delta, 1e-6), expected)
    np.testing.assert_array_equal(stats.second, second)

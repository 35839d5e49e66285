"""Conditioning a mixture against brute force: the joint density by SciPy, normalised numerically on a grid."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import trapezoid
from scipy.stats import multivariate_normal

from gaussmix.core.conditional import condition_params
from gaussmix.core.params import COVARIANCE_TYPES
from strategies import random_params


def joint_density(params, X):
    cov = params.full_covariances
    return sum(w * multivariate_normal(params.means[k], cov[k]).pdf(X) for k, w in enumerate(params.weights))


@pytest.mark.parametrize("kind", list(COVARIANCE_TYPES))
@pytest.mark.parametrize("given", [[0, 2], [1, 2], [0, 1]])
def test_conditional_density_is_the_normalised_joint(rng, kind, given):
    params = random_params(rng, 3, 3, kind)
    rest = int(np.setdiff1d(np.arange(3), given)[0])
    values = rng.normal(0, 1.5, (2, 2))
    grid = np.linspace(-25, 25, 20001)
    mixtures = condition_params(params, np.array(given), values)
    for row, v in enumerate(values):
        points = np.empty((grid.size, 3))
        points[:, given] = v
        points[:, rest] = grid
        joint = joint_density(params, points)
        reference = joint / trapezoid(joint, grid)
        probe = grid[::2000]
        single = condition_params(params, np.array(given), np.broadcast_to(v, (probe.size, 2)))
        np.testing.assert_allclose(np.exp(single.log_prob(probe[:, None])), reference[::2000], rtol=1e-6,
                                   atol=1e-12)
        mean = trapezoid(grid * reference, grid)
        var = trapezoid((grid - mean) ** 2 * reference, grid)
        np.testing.assert_allclose(mixtures.mean()[row, 0], mean, rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(mixtures.covariance()[row, 0, 0], var, rtol=1e-6)


def test_two_remaining_columns_match_the_joint_on_a_grid(rng):
    params = random_params(rng, 2, 3, "full")
    v = np.array([0.7])
    g = np.linspace(-15, 15, 601)
    a, b = np.meshgrid(g, g, indexing="ij")
    points = np.column_stack([np.full(a.size, v[0]), a.ravel(), b.ravel()])
    joint = joint_density(params, points).reshape(a.shape)
    reference = joint / trapezoid(trapezoid(joint, g, axis=1), g)
    mixtures = condition_params(params, np.array([0]), np.broadcast_to(v, (a.size, 1)))
    got = np.exp(mixtures.log_prob(points[:, 1:])).reshape(a.shape)
    np.testing.assert_allclose(got, reference, rtol=1e-5, atol=1e-12)

"""The demo's own measures: the adjusted Rand index against scikit-learn's, and the Hungarian matching."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from gaussmix.cli.demo import adjusted_rand_index, match_components, run_demo


@pytest.mark.parametrize("n_true, n_pred", [(2, 2), (3, 5), (4, 1), (1, 1)])
def test_adjusted_rand_index_equals_scikit_learns(rng, n_true, n_pred):
    for _ in range(20):
        a = rng.integers(0, n_true, size=rng.integers(2, 60))
        b = np.where(rng.random(a.size) < 0.7, a % n_pred, rng.integers(0, n_pred, size=a.size))
        assert adjusted_rand_index(a, b) == pytest.approx(adjusted_rand_score(a, b), abs=1e-12)


def test_adjusted_rand_index_is_one_for_a_relabelling(rng):
    a = rng.integers(0, 4, size=200)
    assert adjusted_rand_index(a, (a + 1) % 4 * 10) == pytest.approx(1.0)


def test_match_components_recovers_a_permutation(rng):
    true_means = rng.normal(0, 10, size=(6, 3))
    permutation = rng.permutation(6)
    fitted = true_means[permutation] + rng.normal(0, 0.1, size=(6, 3))
    order = match_components(true_means, fitted)
    np.testing.assert_array_equal(permutation[order], np.arange(6))


def test_run_demo_report_is_consistent_with_its_components():
    report, model, (X, truth) = run_demo(seed=3, n_samples=600)
    errors = [np.linalg.norm(c["true_mean"] - c["fitted_mean"]) for c in report["components"]]
    assert report["max_mean_error"] == pytest.approx(max(errors))
    assert sorted(c["fitted_weight"] for c in report["components"]) == pytest.approx(np.sort(model.weights_))
    assert X.shape == (600, 2) and report["adjusted_rand_index"] > 0.5

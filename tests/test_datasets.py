"""make_mixture: shapes, label counts, samples that follow the returned parameters, separation, seeds."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import scipy.stats

from gaussmix.core.params import COVARIANCE_TYPES, GaussianParams
from gaussmix.datasets import STD_RANGE, make_mixture


def _full_covariances(params: GaussianParams) -> np.ndarray:
    """(K, D, D) covariance matrices, expanded independently of the module under test."""
    K, D = params.n_components, params.n_features
    cov = params.covariances
    if params.covariance_type == "full":
        return cov
    if params.covariance_type == "tied":
        return np.stack([cov] * K)
    if params.covariance_type == "diag":
        return np.stack([np.diag(c) for c in cov])
    return np.stack([c * np.eye(D) for c in cov])


def _sigma_max(params: GaussianParams) -> float:
    return float(np.sqrt(max(np.linalg.eigvalsh(c).max() for c in _full_covariances(params))))


def _min_mean_distance(means: np.ndarray) -> float:
    return min(np.linalg.norm(a - b) for a, b in itertools.combinations(means, 2))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_shapes_and_dtypes_follow_the_covariance_type(covariance_type):
    K, D = 4, 3
    X, labels, params = make_mixture(250, K, D, covariance_type=covariance_type, random_state=0)

    assert X.shape == (250, D) and X.dtype == np.float64
    assert labels.shape == (250,) and labels.dtype == np.int64 and set(labels) <= set(range(K))
    expected_cov = {"full": (K, D, D), "tied": (D, D), "diag": (K, D), "spherical": (K,)}[covariance_type]
    assert params.covariance_type == covariance_type
    assert params.weights.shape == (K,) and params.means.shape == (K, D)
    assert params.covariances.shape == params.precisions_cholesky.shape == expected_cov
    np.testing.assert_allclose(params.weights.sum(), 1.0, rtol=1e-12)
    for cov in _full_covariances(params):
        np.testing.assert_array_equal(cov, cov.T)
        assert np.all(np.linalg.eigvalsh(cov) > 0)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_covariance_eigenvalues_lie_in_the_documented_range(covariance_type):
    _, _, params = make_mixture(10, 5, 4, covariance_type=covariance_type, random_state=2)
    eigenvalues = np.concatenate([np.linalg.eigvalsh(c) for c in _full_covariances(params)])

    low, high = STD_RANGE
    assert eigenvalues.min() >= low**2 * (1 - 1e-12) and eigenvalues.max() <= high**2 * (1 + 1e-12)


def test_label_counts_match_the_weights_within_multinomial_error():
    n = 100_000
    weights = np.array([0.1, 0.2, 0.3, 0.4])
    _, labels, params = make_mixture(n, 4, 2, weights=weights, random_state=3)

    np.testing.assert_array_equal(params.weights, weights)
    counts = np.bincount(labels, minlength=4)
    assert counts.sum() == n
    sd = np.sqrt(n * weights * (1 - weights))
    assert np.all(np.abs(counts - n * weights) < 5 * sd), counts
    assert scipy.stats.chisquare(counts, n * weights).pvalue > 1e-4


def test_drawn_weights_keep_every_component_reasonably_large():
    # With Dirichlet(1, 1, 1) some weight would fall below 0.03 in about 6% of draws per component.
    smallest = [make_mixture(1, 3, 1, random_state=seed)[2].weights.min() for seed in range(50)]

    assert min(smallest) > 0.03


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_samples_of_each_label_have_the_true_mean_and_covariance(covariance_type):
    X, labels, params = make_mixture(120_000, 3, 3, covariance_type=covariance_type, random_state=4)

    for k, cov in enumerate(_full_covariances(params)):
        rows = X[labels == k]
        n = rows.shape[0]
        mean_err = rows.mean(axis=0) - params.means[k]
        assert np.all(np.abs(mean_err) < 5 * np.sqrt(np.diag(cov) / n)), mean_err
        # Var of a sample covariance entry (i, j) under normality: (C_ij^2 + C_ii C_jj) / n.
        cov_sd = np.sqrt((cov**2 + np.outer(np.diag(cov), np.diag(cov))) / n)
        cov_err = np.cov(rows, rowvar=False) - cov
        assert np.all(np.abs(cov_err) < 6 * cov_sd), cov_err


def test_true_parameters_classify_well_separated_samples_almost_perfectly():
    X, labels, params = make_mixture(3000, 4, 2, separation=8.0, random_state=5)

    log_post = np.column_stack([
        np.log(params.weights[k]) + scipy.stats.multivariate_normal(params.means[k], cov).logpdf(X)
        for k, cov in enumerate(_full_covariances(params))
    ])
    assert np.mean(log_post.argmax(axis=1) == labels) > 0.995


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize(("n_components", "n_features", "separation"), [(2, 1, 3.0), (5, 2, 0.5), (8, 3, 6.0),
                                                                          (10, 1, 2.0), (6, 20, 4.0)])
def test_closest_means_are_separation_times_the_largest_standard_deviation(
    covariance_type, n_components, n_features, separation
):
    for seed in range(3):
        _, _, params = make_mixture(
            5, n_components, n_features, separation=separation, covariance_type=covariance_type, random_state=seed
        )
        np.testing.assert_allclose(
            _min_mean_distance(params.means) / _sigma_max(params), separation, rtol=1e-10
        )


def test_zero_separation_puts_all_means_at_one_point():
    _, _, params = make_mixture(5, 4, 3, separation=0.0, random_state=0)

    np.testing.assert_array_equal(params.means, np.broadcast_to(params.means[0], (4, 3)))


def test_single_component_has_no_separation_constraint():
    X, labels, params = make_mixture(50, 1, 2, random_state=0)

    assert np.all(labels == 0) and params.weights.tolist() == [1.0] and np.all(np.isfinite(params.means))


def test_same_seed_gives_identical_data_and_other_seeds_differ():
    first = make_mixture(200, 3, 2, random_state=42)
    again = make_mixture(200, 3, 2, random_state=42)
    other = make_mixture(200, 3, 2, random_state=43)

    for a, b in zip(first[:2], again[:2]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(first[2].covariances, again[2].covariances)
    assert not np.array_equal(first[0], other[0])


def test_generator_is_used_and_advanced():
    rng = np.random.default_rng(7)
    X1, _, _ = make_mixture(100, random_state=rng)
    X2, _, _ = make_mixture(100, random_state=rng)
    X_seed, _, _ = make_mixture(100, random_state=np.random.default_rng(7))

    np.testing.assert_array_equal(X1, X_seed)
    assert not np.array_equal(X1, X2)


def test_rows_are_shuffled_not_grouped_by_label():
    _, labels, _ = make_mixture(1000, 3, 2, random_state=8)

    assert np.count_nonzero(np.diff(labels)) > 100


INVALID = {
    "n_samples zero": (dict(n_samples=0), "'n_samples'.*integer >= 1; got 0"),
    "n_samples float": (dict(n_samples=10.0), "'n_samples'.*got 10.0"),
    "n_components bool": (dict(n_components=True), "'n_components'"),
    "n_features negative": (dict(n_features=-2), "'n_features'.*got -2"),
    "separation negative": (dict(separation=-1.0), "'separation'.*>= 0; got -1.0"),
    "separation nan": (dict(separation=float("nan")), "'separation'.*got nan"),
    "covariance_type": (dict(covariance_type="ful"), "'covariance_type'.*'tied', 'diag', 'spherical'; got 'ful'"),
    "random_state float": (dict(random_state=1.5), "'random_state'.*got 1.5"),
    "random_state negative": (dict(random_state=-1), "'random_state' .*>= 0; got -1"),
    "weights wrong length": (dict(weights=[0.5, 0.5]), r"'weights'.*shape \(3,\).*got shape \(2,\)"),
    "weights negative": (dict(weights=[1.2, -0.1, -0.1]), r"'weights'.*weights\[1\] is -0.1"),
    "weights sum": (dict(weights=[0.2, 0.2, 0.2]), "'weights'.*sum to 1; got a sum of 0.6"),
    "weights text": (dict(weights=["a", "b", "c"]), "'weights'.*numeric"),
}


@pytest.mark.parametrize("case", INVALID.values(), ids=INVALID.keys())
def test_invalid_argument_raises_value_error_naming_the_parameter(case):
    overrides, message = case
    kwargs = {"n_samples": 10, "n_components": 3, "n_features": 2, **overrides}

    with pytest.raises(ValueError, match=message):
        make_mixture(**kwargs)

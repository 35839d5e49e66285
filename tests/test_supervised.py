"""GaussianMixtureRegressor and GaussianMixtureClassifier against closed forms and SciPy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import multivariate_normal

from conftest import blobs
from gaussmix import GaussianMixtureClassifier, GaussianMixtureRegressor

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def test_one_component_regression_is_least_squares(rng):
    X = rng.normal(size=(400, 3))
    y = X @ np.array([1.5, -2.0, 0.5]) + 3.0 + rng.normal(0, 0.3, 400)
    reg = GaussianMixtureRegressor(n_components=1, reg_covar=0.0).fit(X, y)
    design = np.column_stack([X, np.ones(400)])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    X_new = rng.normal(size=(5, 3))
    mean, std = reg.predict(X_new, return_std=True)
    np.testing.assert_allclose(mean, np.column_stack([X_new, np.ones(5)]) @ coef, rtol=1e-9)
    residual_var = np.mean((y - design @ coef) ** 2)  # the maximum-likelihood noise variance
    np.testing.assert_allclose(std, np.sqrt(residual_var), rtol=1e-9)
    np.testing.assert_allclose(reg.log_predictive_density(X_new, mean), -0.5 * np.log(2 * np.pi * residual_var),
                               rtol=1e-9)


def test_bimodal_target_keeps_both_modes(rng):
    x = rng.uniform(1, 4, 2000)
    y = np.where(rng.random(2000) < 0.5, x, -x) + rng.normal(0, 0.1, 2000)
    reg = GaussianMixtureRegressor(n_components=8, random_state=0).fit(x[:, None], y)
    dist = reg.predict_distribution([[2.0]])
    assert abs(reg.predict([[2.0]])[0]) < 0.3  # the mean sits between the modes...
    density = np.exp(dist.log_prob(np.array([[2.0]]))), np.exp(dist.log_prob(np.array([[-2.0]])))
    off_mode = np.exp(dist.log_prob(np.array([[0.0]])))
    assert min(density) > 50 * off_mode[0]  # ...where the conditional density has almost nothing
    assert reg.predict([[2.0]], return_std=True)[1][0] > 1.8


def test_multi_output_regression_shapes(rng):
    X = rng.normal(size=(300, 2))
    Y = np.column_stack([X.sum(axis=1), X[:, 0] - X[:, 1]]) + rng.normal(0, 0.1, (300, 2))
    reg = GaussianMixtureRegressor(n_components=2, random_state=0).fit(X, Y)
    mean, std = reg.predict(X[:7], return_std=True)
    assert mean.shape == std.shape == (7, 2)
    assert reg.score(X, Y) > 0.95


def test_classifier_is_bayes_rule_over_per_class_gaussians(rng):
    X = blobs(rng, n=300, k=3, spread=2.0)
    y = np.repeat(["a", "b", "c"], 100)[rng.permutation(300)]
    clf = GaussianMixtureClassifier(n_components=1, reg_covar=0.0).fit(X, y)
    log_joint = np.column_stack([
        np.log(np.mean(y == c)) + multivariate_normal(X[y == c].mean(axis=0), np.cov(X[y == c].T, bias=True))
        .logpdf(X) for c in ["a", "b", "c"]])
    np.testing.assert_allclose(clf.predict_proba(X), np.exp(log_joint - logsumexp(log_joint, axis=1)[:, None]),
                               rtol=1e-8, atol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), np.array(["a", "b", "c"])[np.argmax(log_joint, axis=1)])


def test_classifier_with_several_components_per_class_and_missing_values(rng):
    X = np.vstack([blobs(rng, n=200, k=2, spread=5.0), blobs(rng, n=200, k=2, spread=5.0) + 20])
    y = np.repeat([0, 1], 200)
    clf = GaussianMixtureClassifier(n_components=2, covariance_type="diag", missing="marginalize",
                                    random_state=0).fit(X, y)
    assert [m.n_components for m in clf.mixtures_] == [2, 2]
    Xm = X.copy()
    Xm[::3, 1] = np.nan
    proba = clf.predict_proba(Xm)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert np.mean(clf.predict(Xm) == y) > 0.99
    with pytest.raises(ValueError, match="NaN"):
        GaussianMixtureClassifier().fit(Xm, y)

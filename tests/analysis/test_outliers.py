"""OutlierDetector: scikit-learn's outlier conventions, conformal p-values, and AUROC against scikit-learn."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from gaussmix import GaussianMixture, OutlierDetector


@pytest.fixture
def normal_rows(rng):
    cov = np.array([[2.0, 0.6], [0.6, 0.5]])
    return rng.multivariate_normal([1.0, -2.0], cov, size=400)


#: GaussianMixture's parameters of partial_fit, which OutlierDetector does not have.
ONLINE_ONLY = {"learning_decay", "learning_offset"}


def test_parameters_are_the_mixtures_plus_contamination():
    mixture = set(inspect.signature(GaussianMixture.__init__).parameters) - {"self"} - ONLINE_ONLY
    detector = set(inspect.signature(OutlierDetector.__init__).parameters) - {"self"}
    assert detector == mixture | {"contamination"}
    for name, parameter in inspect.signature(GaussianMixture.__init__).parameters.items():
        if name not in {"self"} | ONLINE_ONLY:
            assert inspect.signature(OutlierDetector.__init__).parameters[name].default == parameter.default, name


def test_get_set_params_and_clone_follow_the_estimator_contract():
    from sklearn.base import clone

    detector = OutlierDetector(2, contamination=0.05, reg_covar=1e-3)
    assert detector.get_params()["contamination"] == 0.05 and detector.get_params()["n_components"] == 2
    assert detector.set_params(contamination=0.2) is detector and detector.contamination == 0.2
    copy = clone(detector)
    assert copy.get_params() == detector.get_params() and copy is not detector
    assert not hasattr(detector, "offset_") and not hasattr(detector, "mixture_")
    with pytest.raises(ValueError, match="Invalid parameter 'contamnation'"):
        detector.set_params(contamnation=0.1)


def test_one_component_scores_are_the_gaussian_log_density(normal_rows):
    detector = OutlierDetector(reg_covar=0.0).fit(normal_rows)
    mean = normal_rows.mean(axis=0)
    cov = np.cov(normal_rows, rowvar=False, bias=True)
    expected = multivariate_normal(mean, cov).logpdf(normal_rows)
    np.testing.assert_allclose(detector.score_samples(normal_rows), expected, rtol=1e-10)
    np.testing.assert_allclose(detector.energy(normal_rows), -expected, rtol=1e-10)


def test_contamination_sets_the_fraction_of_training_outliers(normal_rows):
    for contamination in (0.01, 0.1, 0.25, 0.5):
        detector = OutlierDetector(contamination=contamination, random_state=0).fit(normal_rows)
        labels = detector.predict(normal_rows)
        assert set(np.unique(labels)) <= {-1, 1}
        assert np.sum(labels == -1) == int(contamination * len(normal_rows))
        scores = detector.score_samples(normal_rows)
        np.testing.assert_allclose(detector.decision_function(normal_rows), scores - detector.offset_, rtol=1e-15)
        ranked, m = np.sort(scores), int(contamination * len(scores))
        assert detector.offset_ == pytest.approx(0.5 * (ranked[m - 1] + ranked[m]), rel=1e-15)


def test_fit_predict_flags_the_contamination_share_of_the_training_rows(normal_rows):
    detector = OutlierDetector(2, contamination=0.1, random_state=0)
    labels = detector.fit_predict(normal_rows)
    assert set(np.unique(labels)) == {-1, 1}
    assert np.mean(labels == -1) == pytest.approx(0.1, abs=1.0 / len(normal_rows))
    np.testing.assert_array_equal(labels == -1, detector.score_samples(normal_rows) < detector.offset_)


def test_integer_weights_set_the_offset_like_copied_rows(normal_rows):
    weights = np.tile([1.0, 3.0, 0.0], len(normal_rows) // 3 + 1)[: len(normal_rows)]
    weighted = OutlierDetector(contamination=0.1).fit(normal_rows, sample_weight=weights)
    duplicated = np.repeat(normal_rows, weights.astype(int), axis=0)
    copied = OutlierDetector(contamination=0.1).fit(duplicated)
    assert weighted.offset_ == pytest.approx(copied.offset_, rel=1e-9)


def test_p_values_count_calibration_scores_at_or_below(normal_rows, rng):
    detector = OutlierDetector(random_state=0).fit(normal_rows[:200])
    val, test = normal_rows[200:300], np.vstack([normal_rows[300:], [[9.0, 9.0]]])
    s_val, s_test = detector.score_samples(val), detector.score_samples(test)
    expected = np.array([(1 + np.sum(s_val <= s)) / (len(val) + 1) for s in s_test])
    np.testing.assert_array_equal(detector.p_values(test, val), expected)
    assert detector.p_values(test, val)[-1] == 1 / (len(val) + 1)


@pytest.mark.parametrize("fpr", [0.001, 0.0099, 0.01, 0.05, 0.1, 0.37, 0.99])
def test_threshold_flags_exactly_the_rows_with_p_value_at_most_fpr(normal_rows, fpr):
    detector = OutlierDetector(random_state=0).fit(normal_rows[:200])
    val, test = normal_rows[200:300], normal_rows[300:]
    threshold = detector.threshold_for_fpr(val, fpr)
    flagged = detector.score_samples(test) < threshold
    np.testing.assert_array_equal(flagged, detector.p_values(test, val) <= fpr)
    detector.offset_ = threshold
    np.testing.assert_array_equal(detector.predict(test) == -1, flagged)


def test_conformal_threshold_keeps_the_false_positive_rate(rng):
    X = rng.standard_t(df=4, size=(20_600, 3))  # heavy tails: the Gaussian fit is wrong, the guarantee holds
    detector = OutlierDetector(random_state=0).fit(X[:300])
    threshold = detector.threshold_for_fpr(X[300:600], 0.05)
    false_positive_rate = np.mean(detector.score_samples(X[600:]) < threshold)
    assert false_positive_rate <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 300)


def test_bad_contamination_and_fpr_are_named(normal_rows):
    with pytest.raises(ValueError, match="'contamination' parameter of OutlierDetector"):
        OutlierDetector(contamination=0.7).fit(normal_rows)
    detector = OutlierDetector().fit(normal_rows)
    with pytest.raises(ValueError, match="'fpr' parameter of threshold_for_fpr"):
        detector.threshold_for_fpr(normal_rows, 1.0)


def test_unfitted_detector_says_so(normal_rows):
    from gaussmix import NotFittedError

    with pytest.raises(NotFittedError, match="OutlierDetector instance is not fitted"):
        OutlierDetector().score_samples(normal_rows)


def test_wbc_like_auroc_is_no_lower_than_scikit_learns():
    from sklearn.datasets import load_breast_cancer
    from sklearn.metrics import roc_auc_score
    from sklearn.mixture import GaussianMixture as SkGaussianMixture

    X, y = load_breast_cancer(return_X_y=True)
    rng = np.random.default_rng(0)
    rows = np.concatenate([np.flatnonzero(y == 1), rng.choice(np.flatnonzero(y == 0), 21, replace=False)])
    X, outlier = X[rows], y[rows] == 0
    train = np.zeros(len(rows), bool)
    train[rng.permutation(len(rows))[: int(0.6 * len(rows))]] = True
    mean, std = X[train].mean(axis=0), X[train].std(axis=0)
    X = (X - mean) / std
    ours = OutlierDetector(reg_covar=1e-3).fit(X[train]).decision_function(X[~train])
    theirs = SkGaussianMixture(1, reg_covar=1e-3).fit(X[train]).score_samples(X[~train])
    auroc_ours, auroc_theirs = roc_auc_score(outlier[~train], -ours), roc_auc_score(outlier[~train], -theirs)
    assert auroc_ours >= auroc_theirs - 1e-12
    assert auroc_ours > 0.8


def _sklearn_checks():
    from sklearn.utils.estimator_checks import parametrize_with_checks

    return parametrize_with_checks([OutlierDetector(random_state=0)])


@_sklearn_checks()
def test_sklearn_compatible_outlier_detector(estimator, check):
    check(estimator)

"""scikit-learn's own estimator checks, run on every gaussmix estimator."""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from gaussmix import BayesianGaussianMixture, GaussianMixture, GaussianMixtureClassifier, GaussianMixtureRegressor

#: Checks that cannot apply, with the reason. Empty means every check passes.
EXPECTED_FAILED_CHECKS: dict[str, str] = {}


@parametrize_with_checks(
    [GaussianMixture(random_state=0), BayesianGaussianMixture(random_state=0),
     GaussianMixtureClassifier(random_state=0), GaussianMixtureRegressor(random_state=0)],
    expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)

"""to_sklearn / from_sklearn: fitted models cross to scikit-learn and back with their parameters unchanged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import mixture

from conftest import blobs
from gaussmix import GaussianMixture, NotFittedError

FITTED = ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_")
COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_to_sklearn_predicts_like_the_gaussmix_model(rng, covariance_type):
    X = blobs(rng, n=300, d=3)
    model = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    est = model.to_sklearn()
    assert isinstance(est, mixture.GaussianMixture)
    for name in FITTED:
        np.testing.assert_array_equal(getattr(est, name), getattr(model, name))
    np.testing.assert_array_equal(est.predict(X), model.predict(X))
    np.testing.assert_allclose(est.predict_proba(X), model.predict_proba(X), rtol=0, atol=1e-12)
    np.testing.assert_allclose(est.score_samples(X), model.score_samples(X), rtol=1e-12)
    assert (est.n_iter_, est.converged_, est.lower_bound_) == (model.n_iter_, model.converged_, model.lower_bound_)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_from_sklearn_copies_parameters_bit_for_bit(rng, covariance_type):
    X = blobs(rng, n=300, d=2)
    est = mixture.GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    model = GaussianMixture.from_sklearn(est)
    for name in FITTED:
        assert getattr(model, name).tobytes() == getattr(est, name).tobytes(), name
    np.testing.assert_array_equal(model.predict(X), est.predict(X))
    np.testing.assert_allclose(model.predict_proba(X), est.predict_proba(X), rtol=0, atol=1e-12)
    np.testing.assert_allclose(model.score(X), est.score(X), rtol=1e-12)
    assert model.get_params()["n_components"] == 3 and model.covariance_type == covariance_type


def test_round_trip_through_sklearn_keeps_feature_names_and_hyper_parameters(faithful):
    frame = pd.DataFrame(faithful, columns=["eruptions", "waiting"])
    model = GaussianMixture(2, tol=1e-5, reg_covar=1e-4, n_init=2, random_state=3).fit(frame)
    back = GaussianMixture.from_sklearn(model.to_sklearn())
    assert list(back.feature_names_in_) == ["eruptions", "waiting"]
    assert (back.tol, back.reg_covar, back.n_init, back.random_state) == (1e-5, 1e-4, 2, 3)
    assert back.lower_bounds_ == model.lower_bounds_
    for name in FITTED:
        np.testing.assert_array_equal(getattr(back, name), getattr(model, name))


def test_a_generator_random_state_becomes_none_for_sklearn(rng, faithful):
    est = GaussianMixture(2, random_state=rng).fit(faithful).to_sklearn()
    assert est.random_state is None


def test_unfitted_or_foreign_estimators_are_refused(faithful):
    with pytest.raises(NotFittedError, match="not fitted"):
        GaussianMixture(2).to_sklearn()
    with pytest.raises(NotFittedError, match="not fitted"):
        GaussianMixture.from_sklearn(mixture.GaussianMixture(2))
    bayesian = mixture.BayesianGaussianMixture(n_components=2, random_state=0).fit(faithful)
    with pytest.raises(TypeError, match="BayesianGaussianMixture"):
        GaussianMixture.from_sklearn(bayesian)

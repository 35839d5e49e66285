"""Parity with scikit-learn's GaussianMixture from the same initial parameters, and the EM loop's laws."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from sklearn.mixture import GaussianMixture as SklearnGM

from conftest import blobs
from gaussmix import GaussianMixture
from gaussmix.core.params import COVARIANCE_TYPES
from strategies import data_and_params, random_params


def same_init(params):
    return dict(weights_init=params.weights, means_init=params.means, precisions_init=params.precisions)


def fit_both(X, params, max_iter, **kw):
    common = dict(n_components=params.n_components, covariance_type=params.covariance_type, tol=0.0,
                  max_iter=max_iter, **same_init(params), **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = GaussianMixture(**common).fit(X)
        theirs = SklearnGM(**common).fit(X)
    return ours, theirs


@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_fit_equals_sklearn_from_the_same_initial_parameters(rng, kind):
    X = blobs(rng, n=900, d=4, k=3)
    params = random_params(rng, 3, 4, kind, X)
    ours, theirs = fit_both(X, params, max_iter=25)
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_", "precisions_"):
        np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-6, atol=1e-9, err_msg=name)
    np.testing.assert_allclose(ours.lower_bounds_, theirs.lower_bounds_, rtol=1e-6)
    assert ours.lower_bound_ == pytest.approx(theirs.lower_bound_, rel=1e-9)
    assert ours.n_iter_ == theirs.n_iter_ == 25
    np.testing.assert_allclose(ours.score_samples(X), theirs.score_samples(X), rtol=1e-6)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-6)
    assert ours.bic(X) == pytest.approx(theirs.bic(X), rel=1e-9)
    assert ours.aic(X) == pytest.approx(theirs.aic(X), rel=1e-9)


@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_float32_fit_matches_sklearn_to_1e_3(rng, kind):
    X = blobs(rng, n=900, d=3, k=3).astype(np.float32)
    params = random_params(rng, 3, 3, kind, X.astype(np.float64))
    ours, theirs = fit_both(X, params, max_iter=10)
    for name in ("weights_", "means_", "covariances_"):
        np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=1e-3, atol=1e-4, err_msg=name)


def test_convergence_stops_like_sklearn(rng):
    X = blobs(rng, n=600, d=2, k=3)
    params = random_params(rng, 3, 2, "full", X)
    common = dict(n_components=3, tol=1e-3, max_iter=200, **same_init(params))
    ours, theirs = GaussianMixture(**common).fit(X), SklearnGM(**common).fit(X)
    assert ours.converged_ and theirs.converged_
    assert ours.n_iter_ == theirs.n_iter_
    np.testing.assert_allclose(ours.means_, theirs.means_, rtol=1e-6)


@settings(max_examples=25)
@given(data_and_params(max_rows=80), st.integers(0, 2**32 - 1))
def test_lower_bound_never_decreases(case, seed):
    X, params = case
    assume(params.n_components <= X.shape[0])
    X = X + np.random.default_rng(seed).normal(0, 1e-2, X.shape)  # no exactly repeated rows
    # reg_covar=0 makes the M-step the exact maximiser, for which EM's monotonicity is a theorem.
    gm = GaussianMixture(params.n_components, covariance_type=params.covariance_type, tol=0.0, max_iter=15,
                         reg_covar=0.0, **same_init(params))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            gm.fit(X)
        except ValueError as err:  # every component singular without regularisation: no EM step to check
            assume("Increase reg_covar" not in str(err))
            raise
    assume(not gm.reseeds_)  # a re-seed may lower the bound; the law is for plain EM steps
    bounds = np.array(gm.lower_bounds_)
    # At a converged plateau the bound moves by rounding only: the fast E-step's quadratic expansion loses about
    # eps·‖(c − g)P‖² of a log-density, which for a component shrunk to the 1e-2 noise (reg_covar=0) is ~1e-9
    # relative. A real EM decrease is far larger.
    assert np.all(np.diff(bounds) >= -1e-8 * np.abs(bounds[1:]).clip(1.0))


def test_row_order_and_chunk_size_do_not_change_the_fit(rng):
    X = blobs(rng, n=700, d=3, k=3)
    params = random_params(rng, 3, 3, "full", X)
    kw = dict(n_components=3, tol=0.0, max_iter=20, **same_init(params))
    base = GaussianMixture(**kw, chunk_rows=4096).fit(X)
    for other in (GaussianMixture(**kw, chunk_rows=7).fit(X),
                  GaussianMixture(**kw, chunk_rows=100).fit(X[rng.permutation(len(X))])):
        for name in ("weights_", "means_", "covariances_"):
            np.testing.assert_allclose(getattr(other, name), getattr(base, name), rtol=1e-10, atol=1e-12)

"""gaussmix.GaussianMixture as a drop-in for sklearn.mixture.GaussianMixture: the estimator contract, and
scikit-learn's gallery-style uses run side by side on the same data, comparing outcomes that do not depend on the
random stream (gaussmix has its own k-means initialisation)."""

from __future__ import annotations

import pickle
import re
import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn.exceptions
from sklearn.base import BaseEstimator, DensityMixin, clone
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture as SklearnGM
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted

import gaussmix
from gaussmix import GaussianMixture

BOTH = pytest.mark.parametrize("Estimator", [GaussianMixture, SklearnGM], ids=["gaussmix", "sklearn"])


def separated_blobs(rng: np.random.Generator, n_per: int = 150, d: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Three isotropic unit-variance blobs whose centres are 12 apart (no point is ambiguous), and their labels."""
    centres = 12.0 * np.eye(3, d)
    labels = np.repeat(np.arange(3), n_per)
    X = centres[labels] + rng.normal(size=(labels.size, d))
    order = rng.permutation(labels.size)
    return X[order], labels[order]


def init_from_labels(X: np.ndarray, labels: np.ndarray) -> dict[str, np.ndarray]:
    """means_init/weights_init/precisions_init (full) from a partition, so both libraries start at one point."""
    ks = np.unique(labels)
    return {
        "weights_init": np.array([np.mean(labels == k) for k in ks]),
        "means_init": np.array([X[labels == k].mean(axis=0) for k in ks]),
        "precisions_init": np.array([np.linalg.inv(np.cov(X[labels == k].T)) for k in ks]),
    }


def fit_quietly(estimator, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sklearn.exceptions.ConvergenceWarning)
        warnings.simplefilter("ignore", gaussmix.ConvergenceWarning)
        return estimator.fit(X)


def fitted(Estimator=GaussianMixture, X=None, **params):
    X = np.random.default_rng(0).normal(size=(200, 2)) if X is None else X
    return Estimator(**{"n_components": 2, "random_state": 0, **params}).fit(X)


# -- the estimator contract ----------------------------------------------------------------------------------

def test_is_a_sklearn_base_estimator_and_density_mixin():
    assert issubclass(GaussianMixture, BaseEstimator)
    assert issubclass(GaussianMixture, DensityMixin)


def test_get_params_has_every_sklearn_parameter_with_sklearn_defaults():
    ours, theirs = GaussianMixture().get_params(), SklearnGM().get_params()
    assert set(theirs) <= set(ours)
    assert {name: ours[name] for name in theirs} == theirs


def test_set_params_returns_self_and_rejects_unknown_names_like_sklearn():
    gm = GaussianMixture()
    assert gm.set_params(n_components=4, covariance_type="diag") is gm
    assert (gm.n_components, gm.covariance_type) == (4, "diag")
    with pytest.raises(ValueError, match="n_componentz"):
        gm.set_params(n_componentz=3)
    with pytest.raises(ValueError, match="n_componentz"):
        SklearnGM().set_params(n_componentz=3)


def test_clone_of_an_unfitted_estimator_has_equal_params():
    gm = GaussianMixture(3, covariance_type="tied", reg_covar=1e-4, random_state=7, chunk_rows=64)
    copy = clone(gm)
    assert copy is not gm
    assert copy.get_params() == gm.get_params()


def test_repr_is_sklearns_repr():
    params = {"n_components": 3, "covariance_type": "diag", "max_iter": 50, "random_state": 0}
    assert repr(GaussianMixture(**params)) == repr(SklearnGM(**params))
    assert repr(GaussianMixture()) == "GaussianMixture()"


def test_repr_html_is_a_str_naming_the_estimator():
    html = GaussianMixture(3)._repr_html_()
    assert isinstance(html, str)
    assert "GaussianMixture" in html


def test_check_is_fitted_raises_before_fit_and_passes_after():
    gm = GaussianMixture(2, random_state=0)
    with pytest.raises(sklearn.exceptions.NotFittedError):
        check_is_fitted(gm)
    gm.fit(np.random.default_rng(0).normal(size=(100, 2)))
    check_is_fitted(gm)


# -- Pipeline with a scaler ----------------------------------------------------------------------------------

def gmm_pipeline(Estimator, **params) -> Pipeline:
    return Pipeline([("scale", StandardScaler()), ("gmm", Estimator(**params))])


def test_pipeline_with_scaler_recovers_the_blob_partition_like_sklearn(rng):
    X, labels = separated_blobs(rng)
    ours = gmm_pipeline(GaussianMixture, n_components=3, random_state=0).fit(X)
    theirs = gmm_pipeline(SklearnGM, n_components=3, random_state=0).fit(X)
    assert adjusted_rand_score(labels, ours.predict(X)) == 1.0
    assert adjusted_rand_score(theirs.predict(X), ours.predict(X)) == 1.0
    proba = ours.predict_proba(X)
    assert proba.shape == (X.shape[0], 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(proba.argmax(axis=1), ours.predict(X))


def test_pipeline_scores_like_sklearn_from_the_same_initial_parameters(rng):
    X, labels = separated_blobs(rng)
    init = init_from_labels(StandardScaler().fit_transform(X), labels)
    common = dict(n_components=3, tol=1e-6, max_iter=200, **init)
    ours = gmm_pipeline(GaussianMixture, **common).fit(X)
    theirs = gmm_pipeline(SklearnGM, **common).fit(X)
    X_new, _ = separated_blobs(np.random.default_rng(1), n_per=20)
    assert ours.score(X_new) == pytest.approx(theirs.score(X_new), rel=1e-3)
    np.testing.assert_allclose(ours.score_samples(X_new), theirs.score_samples(X_new), rtol=1e-3)
    np.testing.assert_allclose(ours.predict_proba(X_new), theirs.predict_proba(X_new), atol=1e-3)
    np.testing.assert_array_equal(ours.predict(X_new), theirs.predict(X_new))


# -- GridSearchCV, as in scikit-learn's plot_gmm_selection example -------------------------------------------

def negative_bic(estimator, X):
    return -estimator.bic(X)


@pytest.fixture(scope="module")
def grid_data() -> np.ndarray:
    return separated_blobs(np.random.default_rng(20261123), n_per=100)[0]


def test_grid_search_by_bic_picks_the_same_model_as_sklearn(grid_data):
    grid = {"n_components": range(1, 7), "covariance_type": ["spherical", "diag", "full"]}
    ours = GridSearchCV(GaussianMixture(random_state=0), grid, scoring=negative_bic).fit(grid_data)
    theirs = GridSearchCV(SklearnGM(random_state=0), grid, scoring=negative_bic).fit(grid_data)
    assert theirs.best_params_ == {"n_components": 3, "covariance_type": "spherical"}
    assert ours.best_params_ == theirs.best_params_
    assert isinstance(ours.best_estimator_, GaussianMixture)
    assert ours.best_estimator_.means_.shape == (3, 2)


def test_grid_search_with_default_scoring_uses_score_and_agrees_with_sklearn(grid_data):
    # Held-out mean log-likelihood (est.score). K = 1 and K = 3 have one optimum on these blobs, so their
    # cross-validated scores must agree with scikit-learn's whatever the initialisation.
    grid = {"n_components": [1, 2, 3]}
    ours = GridSearchCV(GaussianMixture(random_state=0), grid).fit(grid_data)
    theirs = GridSearchCV(SklearnGM(random_state=0), grid).fit(grid_data)
    assert ours.best_params_ == theirs.best_params_ == {"n_components": 3}
    for i in (0, 2):
        assert ours.cv_results_["mean_test_score"][i] == pytest.approx(theirs.cv_results_["mean_test_score"][i],
                                                                       rel=1e-3)
    assert ours.best_score_ == pytest.approx(ours.best_estimator_.score(grid_data), rel=0.05)


# -- clone and pickle of a fitted model ----------------------------------------------------------------------

def test_clone_of_a_fitted_estimator_is_unfitted_with_equal_params():
    gm = fitted(covariance_type="diag", reg_covar=1e-5)
    copy = clone(gm)
    assert copy.get_params() == gm.get_params()
    assert not hasattr(copy, "means_")
    with pytest.raises(sklearn.exceptions.NotFittedError):
        check_is_fitted(copy)
    with pytest.raises(sklearn.exceptions.NotFittedError):
        copy.predict(np.zeros((3, 2)))


@pytest.mark.parametrize("kind", ["full", "tied", "diag", "spherical"])
def test_pickle_round_trip_predicts_identically(kind, rng):
    X, _ = separated_blobs(rng, n_per=60)
    gm = fitted(X=X, n_components=3, covariance_type=kind)
    again = pickle.loads(pickle.dumps(gm))
    assert type(again) is GaussianMixture
    assert again.get_params() == gm.get_params()
    np.testing.assert_array_equal(again.predict(X), gm.predict(X))
    np.testing.assert_array_equal(again.score_samples(X), gm.score_samples(X))


# -- DataFrames and feature names ----------------------------------------------------------------------------

@pytest.fixture
def frame(faithful) -> pd.DataFrame:
    return pd.DataFrame(faithful, columns=["eruptions", "waiting"])


@BOTH
def test_fit_on_a_dataframe_records_its_columns_and_predicts_on_it_silently(Estimator, frame):
    gm = fitted(Estimator, frame)
    np.testing.assert_array_equal(gm.feature_names_in_, ["eruptions", "waiting"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gm.predict(frame)
        gm.score_samples(frame)


@BOTH
def test_predict_on_an_array_after_fit_on_a_dataframe_warns_about_feature_names(Estimator, frame):
    gm = fitted(Estimator, frame)
    with pytest.warns(UserWarning, match="X does not have valid feature names, but GaussianMixture was fitted "
                                         "with feature names"):
        gm.predict(frame.to_numpy())


@BOTH
def test_predict_on_a_dataframe_after_fit_on_an_array_warns_about_feature_names(Estimator, frame):
    gm = fitted(Estimator, frame.to_numpy())
    assert not hasattr(gm, "feature_names_in_")
    with pytest.warns(UserWarning, match="X has feature names, but GaussianMixture was fitted without feature "
                                         "names"):
        gm.predict(frame)


@BOTH
def test_dataframe_with_reordered_columns_is_refused(Estimator, frame):
    gm = fitted(Estimator, frame)
    with pytest.raises(ValueError, match="(?i)feature names"):
        gm.predict(frame[["waiting", "eruptions"]])


# -- NumPy's global random state -----------------------------------------------------------------------------

@pytest.fixture
def global_random_state():
    """Seeds NumPy's global RandomState for the test and puts the previous state back afterwards."""
    saved = np.random.get_state()
    np.random.seed(0)
    yield
    np.random.set_state(saved)


@BOTH
@pytest.mark.usefixtures("global_random_state")
def test_np_random_seed_makes_a_random_state_none_fit_reproducible(Estimator, faithful):
    # Random rows as initial means and two EM steps: the result depends on every draw, so two fits agree only
    # if they drew the same numbers (k-means could land two different draws on the same partition).
    def means():
        return fit_quietly(Estimator(3, init_params="random_from_data", max_iter=2, tol=0.0), faithful).means_

    np.random.seed(0)
    a = means()
    c = means()  # no reseed: the global stream has moved on
    np.random.seed(0)
    b = means()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def global_state_changes(fit) -> bool:
    before = np.random.get_state()
    fit()
    after = np.random.get_state()
    return not (np.array_equal(before[1], after[1]) and before[2] == after[2])


@BOTH
@pytest.mark.usefixtures("global_random_state")
def test_random_state_none_draws_from_numpys_global_random_state(Estimator, faithful):
    assert global_state_changes(lambda: Estimator(3).fit(faithful))


@pytest.mark.usefixtures("global_random_state")
def test_an_integer_random_state_leaves_numpys_global_random_state_alone(faithful):
    assert not global_state_changes(lambda: GaussianMixture(3, random_state=0).fit(faithful))


# -- warnings and errors are scikit-learn's classes ----------------------------------------------------------

def test_convergence_warning_is_sklearns():
    assert issubclass(gaussmix.ConvergenceWarning, sklearn.exceptions.ConvergenceWarning)


def test_max_iter_1_warns_with_sklearns_convergence_warning(faithful):
    with pytest.warns(sklearn.exceptions.ConvergenceWarning):
        GaussianMixture(2, max_iter=1, random_state=0).fit(faithful)


def test_sklearns_ignore_filter_silences_the_convergence_warning(faithful):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.simplefilter("ignore", sklearn.exceptions.ConvergenceWarning)
        GaussianMixture(2, max_iter=1, random_state=0).fit(faithful)
    assert not [w for w in caught if issubclass(w.category, gaussmix.ConvergenceWarning)]
    assert not [w for w in caught if "converge" in str(w.message).lower()]


def test_not_fitted_error_is_sklearns():
    assert issubclass(gaussmix.NotFittedError, sklearn.exceptions.NotFittedError)


X_SMALL = np.array([[0.0, 0.0], [1.0, 0.5], [5.0, 5.0], [5.5, 4.0]])

UNFITTED_PATHS = {
    "predict": lambda gm, tmp: gm.predict(X_SMALL),
    "predict_proba": lambda gm, tmp: gm.predict_proba(X_SMALL),
    "score_samples": lambda gm, tmp: gm.score_samples(X_SMALL),
    "score": lambda gm, tmp: gm.score(X_SMALL),
    "sample": lambda gm, tmp: gm.sample(3),
    "bic": lambda gm, tmp: gm.bic(X_SMALL),
    "aic": lambda gm, tmp: gm.aic(X_SMALL),
    "n_parameters": lambda gm, tmp: gm.n_parameters(),
    "save": lambda gm, tmp: gm.save(tmp / "model.npz"),
    "to_sklearn": lambda gm, tmp: gm.to_sklearn(),
    "write_predictions": lambda gm, tmp: gaussmix.write_predictions(gm, X_SMALL, tmp / "labels.csv"),
    "map_adapt": lambda gm, tmp: gaussmix.map_adapt(gm, X_SMALL),
    "log_likelihood_ratio": lambda gm, tmp: gaussmix.log_likelihood_ratio(X_SMALL, gm, gm),
    "uncertainty": lambda gm, tmp: gaussmix.uncertainty(gm, X_SMALL),
    "OutlierDetector.score_samples": lambda gm, tmp: gaussmix.OutlierDetector(2).score_samples(X_SMALL),
    "OutlierDetector.predict": lambda gm, tmp: gaussmix.OutlierDetector(2).predict(X_SMALL),
}


@pytest.mark.parametrize("path", list(UNFITTED_PATHS))
def test_every_path_raises_sklearns_not_fitted_error_on_an_unfitted_model(path, tmp_path):
    with pytest.raises(sklearn.exceptions.NotFittedError, match="not fitted"):
        UNFITTED_PATHS[path](GaussianMixture(2), tmp_path)
    with pytest.raises(gaussmix.NotFittedError):
        UNFITTED_PATHS[path](GaussianMixture(2), tmp_path)
    assert list(tmp_path.iterdir()) == []  # no file written by save or write_predictions


# -- warm_start after a change that invalidates the previous fit ---------------------------------------------

def refit_warnings(gm, X) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gm.fit(X)
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning)
            and not issubclass(w.category, sklearn.exceptions.ConvergenceWarning)]


def assert_fresh_start(gm, X):
    """The refit equals a fit of a new estimator with the same parameters (an integer seed makes it exact)."""
    fresh = clone(gm).set_params(warm_start=False).fit(X)
    np.testing.assert_allclose(gm.means_, fresh.means_, rtol=1e-10)
    np.testing.assert_allclose(gm.covariances_, fresh.covariances_, rtol=1e-10)


def test_warm_start_after_changing_covariance_type_starts_fresh_and_warns(faithful):
    gm = GaussianMixture(2, warm_start=True, random_state=0).fit(faithful)
    gm.set_params(covariance_type="diag")
    messages = refit_warnings(gm, faithful)
    assert any("warm_start" in m for m in messages), messages
    assert gm.covariances_.shape == (2, 2)
    assert gm.precisions_cholesky_.shape == (2, 2)
    assert_fresh_start(gm, faithful)


def test_warm_start_after_changing_n_components_starts_fresh_and_warns(faithful):
    gm = GaussianMixture(2, warm_start=True, random_state=0).fit(faithful)
    gm.set_params(n_components=3)
    messages = refit_warnings(gm, faithful)
    assert any("warm_start" in m for m in messages), messages
    assert gm.means_.shape == (3, 2)
    assert gm.weights_.shape == (3,)
    assert gm.covariances_.shape == (3, 2, 2)
    assert_fresh_start(gm, faithful)


def test_warm_start_on_data_with_another_column_count_starts_fresh_and_warns_with_both_counts(rng, faithful):
    gm = GaussianMixture(2, warm_start=True, random_state=0).fit(faithful)
    X5 = rng.normal(size=(200, 5))
    messages = refit_warnings(gm, X5)
    about_columns = [m for m in messages if re.search("(?i)feature|column", m)]
    assert about_columns, messages
    assert any(re.search(r"\b5\b", m) and re.search(r"\b2\b", m) for m in about_columns), about_columns
    assert gm.means_.shape == (2, 5)
    assert gm.n_features_in_ == 5
    assert_fresh_start(gm, X5)


def test_warm_start_with_unchanged_params_continues_without_warning(faithful):
    gm = GaussianMixture(2, warm_start=True, max_iter=5, tol=0.0, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sklearn.exceptions.ConvergenceWarning)
        first = gm.fit(faithful).lower_bound_
        messages = refit_warnings(gm, faithful)
    assert not [m for m in messages if "warm_start" in m], messages
    assert gm.lower_bound_ >= first - 1e-9

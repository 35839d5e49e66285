"""GaussianMixture's behaviour beyond parity: weights, degenerate data, bad input, warm starts, interrupts."""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

import gaussmix.estimator as estimator_module
from conftest import blobs, interrupt_on_pass
from gaussmix import ConvergenceWarning, DegenerateComponentWarning, GaussianMixture, NotFittedError
from gaussmix._base import is_fitted
from gaussmix.core.params import COVARIANCE_TYPES
from strategies import random_params


def init_of(params):
    return dict(n_components=params.n_components, covariance_type=params.covariance_type,
                weights_init=params.weights, means_init=params.means, precisions_init=params.precisions)


def assert_same_fit(a: GaussianMixture, b: GaussianMixture, rtol: float = 1e-10) -> None:
    for name in ("weights_", "means_", "covariances_"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=rtol, atol=rtol, err_msg=name)


# -- sample weights ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_integer_weights_give_the_fit_of_duplicated_rows(rng, kind):
    X = blobs(rng, n=300, d=2, k=3)
    counts = rng.integers(1, 4, len(X))
    params = random_params(rng, 3, 2, kind, X)
    kw = dict(**init_of(params), tol=0.0, max_iter=15)
    weighted = GaussianMixture(**kw).fit(X, sample_weight=counts)
    duplicated = GaussianMixture(**kw).fit(np.repeat(X, counts, axis=0))
    assert_same_fit(weighted, duplicated)
    assert weighted.lower_bound_ == pytest.approx(duplicated.lower_bound_, rel=1e-10)


def test_zero_weight_is_the_same_as_dropping_the_row(rng):
    X = blobs(rng, n=300, d=2, k=3)
    w = np.ones(len(X))
    w[::7] = 0.0
    params = random_params(rng, 3, 2, "full", X)
    kw = dict(**init_of(params), tol=0.0, max_iter=15)
    assert_same_fit(GaussianMixture(**kw).fit(X, sample_weight=w), GaussianMixture(**kw).fit(X[w > 0]))


def test_weighted_kmeans_init_ignores_zero_weight_rows(rng):
    X = blobs(rng, n=300, d=2, k=2)
    X_out = np.vstack([X, [[1e4, 1e4]]])
    w = np.r_[np.ones(len(X)), 0.0]
    gm = GaussianMixture(2, random_state=0).fit(X_out, sample_weight=w)
    assert np.all(np.abs(gm.means_) < 100)


def test_weighted_score_is_the_weighted_mean(rng):
    X = blobs(rng, n=200, d=2, k=2)
    w = rng.uniform(0, 2, len(X))
    gm = GaussianMixture(2, random_state=0).fit(X)
    assert gm.score(X, sample_weight=w) == pytest.approx(np.average(gm.score_samples(X), weights=w))


# -- degenerate data ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_degenerate_data_finishes_with_finite_parameters(rng, kind):
    cases = {
        "duplicates": np.repeat(rng.normal(size=(5, 2)), 20, axis=0),
        "constant column": np.column_stack([rng.normal(size=100), np.full(100, 3.0)]),
        "n equals k": rng.normal(size=(4, 2)),
    }
    for name, X in cases.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            gm = GaussianMixture(4, covariance_type=kind, random_state=0).fit(X)
        for attr in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
            assert np.all(np.isfinite(getattr(gm, attr))), (name, attr)
        assert np.all(np.isfinite(gm.score_samples(X))), name


def test_faithful_integer_waiting_times_fit_with_many_components(faithful):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm = GaussianMixture(8, covariance_type="diag", random_state=1, n_init=3).fit(faithful)
    assert np.all(np.isfinite(gm.covariances_)) and np.all(gm.covariances_ > 0)


def test_component_that_loses_its_points_is_reseeded_with_a_warning(rng):
    X = rng.normal(size=(300, 2))
    X[42] = [6.0, 6.0]
    means = np.array([[0.0, 0.0], [1e3, 1e3]])
    with pytest.warns(DegenerateComponentWarning, match=r"Component 1 lost all its points at iteration 1; "
                                                        r"re-seeded at row 42"):
        gm = GaussianMixture(2, means_init=means, max_iter=5, tol=0).fit(X)
    assert gm.reseeds_[0].reseed.component == 1
    assert np.all(np.isfinite(gm.means_))


# -- bad input ----------------------------------------------------------------------------------------------

BAD_INPUTS = [
    (np.array([[1.0, np.nan], [2.0, 3.0], [4.0, 5.0]]), ValueError, r"NaN at row 0, column 1"),
    (np.array([[1.0, 2.0], [2.0, 3.0], [np.inf, 5.0]]), ValueError, r"infinity at row 2, column 0"),
    (np.empty((0, 2)), ValueError, r"0 sample"),
    (np.ones(5), ValueError, r"Expected a 2D array"),
    (np.ones((2, 2, 2)), ValueError, r"Expected a 2D array"),
    (np.array([["a", "b"], ["c", "d"]]), TypeError, r"numeric.*row 0, column 0 holds 'a'"),
    (np.ones((4, 2)) + 1j, ValueError, r"Complex data"),
    (np.ones((1, 2)), ValueError, r"n_components = 2 and 1 rows"),
]


@pytest.mark.parametrize("X, error, message", BAD_INPUTS)
def test_bad_data_is_refused_naming_the_problem_and_changes_nothing(X, error, message):
    gm = GaussianMixture(2)
    before = copy.deepcopy(gm.__dict__)
    with pytest.raises(error, match=message):
        gm.fit(X)
    assert gm.__dict__.keys() == before.keys()


def test_a_failed_refit_leaves_the_previous_fit_untouched(rng):
    X = blobs(rng, n=200, d=2, k=2)
    gm = GaussianMixture(2, random_state=0).fit(X)
    before = {k: copy.deepcopy(v) for k, v in gm.__dict__.items()}
    bad = X.copy()
    bad[17, 1] = np.nan
    with pytest.raises(ValueError, match="row 17, column 1"):
        gm.fit(bad)
    assert gm.__dict__.keys() == before.keys()
    for key, value in before.items():
        np.testing.assert_array_equal(np.asarray(gm.__dict__[key], dtype=object), np.asarray(value, dtype=object))


def test_dataframe_nan_names_the_column(rng):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(rng.normal(size=(10, 2)), columns=["eruptions", "waiting"])
    df.loc[6, "waiting"] = np.nan
    with pytest.raises(ValueError, match=r"NaN at row 6, column 'waiting' \(index 1\)"):
        GaussianMixture(2).fit(df)


@pytest.mark.parametrize("params, message", [
    (dict(covariance_type="ful"), r"'covariance_type' parameter of GaussianMixture must be one of 'full', 'tied'"),
    (dict(n_components=0), r"'n_components' parameter .* an int >= 1; got 0"),
    (dict(tol=-1.0), r"'tol' parameter"),
    (dict(reg_covar=float("nan")), r"'reg_covar' parameter"),
    (dict(max_iter=1.5), r"'max_iter' parameter"),
    (dict(n_init=0), r"'n_init' parameter"),
    (dict(init_params="kmeans++"), r"'init_params' parameter"),
    (dict(random_state="seed"), r"'random_state' parameter"),
    (dict(weights_init=[0.5, 0.6]), r"'weights_init' should be normalized"),
    (dict(weights_init=[1.0]), r"'weights_init' should have the shape \(2,\)"),
    (dict(means_init=np.zeros((2, 3))), r"'means_init' should have the shape \(2, 2\)"),
    (dict(precisions_init=np.stack([np.eye(2), -np.eye(2)])), r"component 1 should be positive definite"),
])
def test_bad_hyperparameters_are_named(rng, params, message):
    gm = GaussianMixture(**{"n_components": 2, **params})
    with pytest.raises(ValueError, match=message):
        gm.fit(rng.normal(size=(20, 2)))
    assert not hasattr(gm, "weights_")


@pytest.mark.parametrize("weights, message", [
    (np.ones(9), r"sample_weight has 9 entries; X has 10 rows"),
    (-np.ones(10), r"row 0 holds -1.0"),
    (np.zeros(10), r"sums to zero"),
    (np.r_[np.ones(1), np.zeros(9)], r"1 rows with positive sample_weight"),
])
def test_bad_sample_weight_is_named(rng, weights, message):
    with pytest.raises(ValueError, match=message):
        GaussianMixture(2).fit(rng.normal(size=(10, 2)), sample_weight=weights)


def test_wrong_feature_count_at_predict_is_named(rng):
    gm = GaussianMixture(2, random_state=0).fit(rng.normal(size=(30, 2)))
    with pytest.raises(ValueError, match="X has 3 features, but GaussianMixture is expecting 2 features"):
        gm.predict(rng.normal(size=(5, 3)))


def test_methods_before_fit_raise_not_fitted(rng):
    for method in ("predict", "predict_proba", "score_samples", "score"):
        with pytest.raises(NotFittedError, match="not fitted yet"):
            getattr(GaussianMixture(2), method)(rng.normal(size=(5, 2)))


def test_integer_input_predicts_like_floats(rng):
    X = rng.integers(0, 20, (100, 2))
    gm = GaussianMixture(2, random_state=0).fit(X.astype(float))
    np.testing.assert_array_equal(gm.predict(X), gm.predict(X.astype(float)))
    np.testing.assert_array_equal(gm.score_samples(X), gm.score_samples(X.astype(float)))


# -- the rest of the API ------------------------------------------------------------------------------------

@pytest.mark.parametrize("init_params", ["kmeans", "k-means++", "random", "random_from_data"])
def test_every_init_method_recovers_separated_blobs(rng, init_params):
    X = blobs(rng, n=600, d=2, k=3, spread=10.0)
    gm = GaussianMixture(3, init_params=init_params, random_state=0, n_init=5, max_iter=500, tol=1e-6).fit(X)
    assert gm.converged_
    labels = gm.predict(X)
    assert sorted(np.bincount(labels, minlength=3)) == [200, 200, 200]


def test_n_init_keeps_the_best_lower_bound(rng):
    X = blobs(rng, n=400, d=2, k=4, spread=3.0)
    single = [GaussianMixture(4, init_params="random", random_state=s).fit(X).lower_bound_ for s in range(3)]
    best = GaussianMixture(4, init_params="random", random_state=0, n_init=5).fit(X)
    assert best.lower_bound_ >= max(single[:1]) - 1e-12


def test_warm_start_continues_from_the_previous_fit(rng):
    X = blobs(rng, n=400, d=2, k=3)
    params = random_params(rng, 3, 2, "full", X)
    straight = GaussianMixture(**init_of(params), tol=0.0, max_iter=10).fit(X)
    with pytest.warns(ConvergenceWarning):
        warm = GaussianMixture(**init_of(params), tol=0.0, max_iter=5, warm_start=True).fit(X)
    with pytest.warns(ConvergenceWarning):
        warm.fit(X)
    assert_same_fit(warm, straight)
    assert warm.n_iter_ == 5


def test_fit_predict_labels_are_the_most_probable_component_of_the_fitted_model(rng):
    X = blobs(rng, n=300, d=2, k=3)
    gm = GaussianMixture(3, random_state=0)
    labels = gm.fit_predict(X)
    proba = gm.predict_proba(X)
    np.testing.assert_array_equal(proba[np.arange(len(X)), labels], proba.max(axis=1))
    assert labels.shape == (300,) and set(np.unique(labels)) == {0, 1, 2}


def test_sample_draws_from_the_fitted_mixture(rng):
    X = blobs(rng, n=900, d=2, k=3)
    gm = GaussianMixture(3, random_state=0).fit(X)
    Xs, ys = gm.sample(30000)
    assert Xs.shape == (30000, 2)
    np.testing.assert_allclose(np.bincount(ys) / 30000, gm.weights_, atol=0.015)
    for k in range(3):
        np.testing.assert_allclose(Xs[ys == k].mean(axis=0), gm.means_[k], atol=0.1)
        np.testing.assert_allclose(np.cov(Xs[ys == k].T), gm.covariances_[k], rtol=0.1, atol=0.05)


def test_max_iter_zero_keeps_the_initialisation(rng):
    X = blobs(rng, n=200, d=2, k=2)
    params = random_params(rng, 2, 2, "diag", X)
    gm = GaussianMixture(**init_of(params), max_iter=0).fit(X)
    np.testing.assert_allclose(gm.means_, params.means)
    assert gm.n_iter_ == 0 and not gm.converged_


def test_interrupted_fit_keeps_the_last_complete_parameters(rng, monkeypatch):
    X = blobs(rng, n=300, d=2, k=2)
    interrupt_on_pass(monkeypatch, 4)
    gm = GaussianMixture(2, random_state=0, tol=0.0, max_iter=50)
    with pytest.warns(ConvergenceWarning, match=r"interrupted; keeping the best parameters so far \(3 iteration"), \
            pytest.raises(KeyboardInterrupt):
        gm.fit(X)
    assert gm.n_iter_ == 3 and not gm.converged_
    assert np.all(np.isfinite(gm.means_))


def test_verbose_prints_progress(rng, capsys):
    GaussianMixture(2, random_state=0, verbose=2, verbose_interval=1, max_iter=3, tol=0).fit(
        blobs(rng, n=100, d=2, k=2))
    out = capsys.readouterr().out
    assert "Initialization 0" in out and "Iteration 3" in out and "ll change" in out


def test_interrupt_in_a_later_initialisation_still_stops_the_fit(rng, monkeypatch):
    X = blobs(rng, n=300, d=2, k=2)
    interrupt_on_pass(monkeypatch, 8)  # inside the second initialisation (the first stops after 5 iterations)
    with pytest.warns(ConvergenceWarning):
        first = GaussianMixture(2, random_state=0, tol=0.0, max_iter=5).fit(X)  # the same first initialisation
    gm = GaussianMixture(2, random_state=0, tol=0.0, max_iter=5, n_init=3)
    with pytest.warns(ConvergenceWarning, match="interrupted"), pytest.raises(KeyboardInterrupt):
        gm.fit(X)
    # The best model seen is kept: the completed first initialisation, or the interrupted one if it got higher
    # (here the starts coincide and their bounds differ in the last bits).
    assert is_fitted(gm) and gm.lower_bound_ >= first.lower_bound_


def test_interrupt_in_a_later_initialisations_kmeans_keeps_the_finished_ones(rng, monkeypatch):
    X = blobs(rng, n=300, d=2, k=2)
    real = estimator_module.initial_params
    calls = {"n": 0}

    def interrupted_second_time(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # Ctrl-C while the second initialisation runs its k-means
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(estimator_module, "initial_params", interrupted_second_time)
    gm = GaussianMixture(2, random_state=0, tol=0.0, max_iter=5, n_init=2)
    with pytest.warns(ConvergenceWarning, match="interrupted"), pytest.raises(KeyboardInterrupt):
        gm.fit(X)
    assert gm.n_iter_ == 5 and np.all(np.isfinite(gm.means_))  # the first initialisation's fit is kept


def test_interrupt_before_any_initialisation_finishes_leaves_the_estimator_unfitted(rng, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(estimator_module, "initial_params", interrupted)
    gm = GaussianMixture(2, random_state=0)
    with pytest.raises(KeyboardInterrupt):
        gm.fit(blobs(rng, n=100, d=2, k=2))
    assert not hasattr(gm, "means_")

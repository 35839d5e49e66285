"""GaussianMixture on incomplete data: NaN as missing values, imputation, conditioning, partly labelled rows."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import multivariate_normal

from conftest import blobs
from gaussmix import ConditionalMixture, DataSourceError, GaussianMixture, GaussianParams
from gaussmix.core.params import COVARIANCE_TYPES

KINDS = list(COVARIANCE_TYPES)

#: Fits cut short on purpose (tol=0 to watch every iteration, or a few iterations for a model to test against).
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def mcar(rng: np.random.Generator, X: np.ndarray, fraction: float) -> np.ndarray:
    """X with each value missing with probability ``fraction``; every row keeps one observed value."""
    Xm = X.copy()
    Xm[rng.random(X.shape) < fraction] = np.nan
    empty = np.flatnonzero(np.isnan(Xm).all(axis=1))
    Xm[empty, rng.integers(0, X.shape[1], empty.size)] = X[empty, 0]
    return Xm


def start_of(gm: GaussianMixture) -> dict:
    return {"weights_init": gm.weights_, "means_init": gm.means_, "precisions_init": gm.precisions_}


@pytest.mark.parametrize("kind", KINDS)
def test_without_nan_marginalize_fits_bit_for_bit_as_today(rng, kind):
    X = blobs(rng, n=300)
    a = GaussianMixture(3, covariance_type=kind, random_state=0).fit(X)
    b = GaussianMixture(3, covariance_type=kind, random_state=0, missing="marginalize").fit(X)
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.lower_bounds_ == b.lower_bounds_
    np.testing.assert_array_equal(a.score_samples(X), b.score_samples(X))
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


def test_nan_is_an_error_unless_asked_for(rng):
    X = blobs(rng, n=60)
    X[5, 1] = np.nan
    with pytest.raises(ValueError, match="X contains NaN at row 5, column 1"):
        GaussianMixture(2).fit(X)
    with pytest.raises(ValueError, match="'missing' parameter of GaussianMixture must be one of"):
        GaussianMixture(2, missing="drop").fit(X)


@pytest.mark.parametrize("kind", KINDS)
def test_em_with_nan_never_decreases_the_observed_log_likelihood(rng, kind):
    X = mcar(rng, blobs(rng, n=300), 0.3)
    gm = GaussianMixture(3, covariance_type=kind, missing="marginalize", tol=0, max_iter=30, random_state=1).fit(X)
    bounds = np.array(gm.lower_bounds_)
    assert np.all(np.diff(bounds) >= -1e-10 * np.abs(bounds[1:])), np.diff(bounds).min()
    assert bounds[-1] > bounds[0]


@pytest.mark.parametrize("kind", KINDS)
def test_score_of_rows_with_nan_is_the_marginal_density(rng, kind):
    X = mcar(rng, blobs(rng, n=300), 0.3)
    gm = GaussianMixture(3, covariance_type=kind, missing="marginalize", max_iter=5, random_state=0).fit(X)
    cov = GaussianParams.from_covariances(gm.weights_, gm.means_, gm.covariances_, kind).full_covariances
    rows = X[:40]
    expected = []
    joint = np.zeros((len(rows), 3))
    for i, x in enumerate(rows):
        o = ~np.isnan(x)
        joint[i] = [w * multivariate_normal(gm.means_[k, o], cov[k][np.ix_(o, o)]).pdf(x[o])
                    for k, w in enumerate(gm.weights_)]
        expected.append(np.log(joint[i].sum()))
    np.testing.assert_allclose(gm.score_samples(rows), expected, rtol=1e-9)
    np.testing.assert_allclose(gm.predict_proba(rows), joint / joint.sum(axis=1, keepdims=True), atol=1e-10)
    np.testing.assert_array_equal(gm.predict(rows), np.argmax(joint, axis=1))


def test_a_row_with_no_observed_value_is_refused_by_row(rng):
    X = blobs(rng, n=60)
    X[7] = np.nan
    gm = GaussianMixture(2, missing="marginalize")
    with pytest.raises(ValueError, match="no observed value at row 7"):
        gm.fit(X)
    assert "weights_" not in gm.__dict__
    gm.fit(X[:7])
    with pytest.raises(ValueError, match="no observed value at row 7"):
        gm.score_samples(X)
    X[3, 0] = np.inf
    with pytest.raises(ValueError, match="infinity at row 3, column 0"):
        gm.predict(X[:5])


def parameter_error(gm: GaussianMixture, reference: GaussianMixture) -> float:
    """Largest difference of means and covariances, components matched by their means."""
    order = [int(np.argmin(np.sum((reference.means_ - m) ** 2, axis=1))) for m in gm.means_]
    return max(np.abs(gm.means_ - reference.means_[order]).max(),
               np.abs(gm.covariances_ - reference.covariances_[order]).max())


@pytest.mark.parametrize("fraction", [0.1, 0.3, 0.5])
def test_missing_at_random_fit_is_near_the_full_fit_and_beats_dropping_and_mean_filling(fraction):
    rng = np.random.default_rng(7)
    X = blobs(rng, n=3000, d=3, k=2, spread=4.0)
    full = GaussianMixture(2, random_state=0).fit(X)
    Xm = mcar(rng, X, fraction)
    start = start_of(full)
    marginal = GaussianMixture(2, missing="marginalize", **start).fit(Xm)
    complete_rows = Xm[~np.isnan(Xm).any(axis=1)]
    dropped = GaussianMixture(2, **start).fit(complete_rows)
    filled = GaussianMixture(2, **start).fit(np.where(np.isnan(Xm), np.nanmean(Xm, axis=0), Xm))
    err = parameter_error(marginal, full)
    assert err < 0.25 * (1 + 4 * fraction)
    assert err < parameter_error(filled, full)
    assert err < parameter_error(dropped, full)


def test_files_and_dask_with_nan_fit_as_in_memory(rng, tmp_path):
    X = mcar(rng, blobs(rng, n=400), 0.25)
    start = start_of(GaussianMixture(3, random_state=0).fit(np.nan_to_num(X)))
    memory = GaussianMixture(3, missing="marginalize", max_iter=10, tol=0, **start).fit(X)
    path = tmp_path / "x.npy"
    np.save(path, X)
    streamed = GaussianMixture(3, missing="marginalize", max_iter=10, tol=0, chunk_rows=64, **start).fit(path)
    np.testing.assert_allclose(streamed.means_, memory.means_, rtol=1e-10)
    np.testing.assert_allclose(streamed.covariances_, memory.covariances_, rtol=1e-9)
    np.testing.assert_allclose(memory.score_samples(path), memory.score_samples(X), rtol=1e-12)
    with pytest.raises(DataSourceError, match=f"NaN at row {int(np.flatnonzero(np.isnan(X).any(1))[0])}"):
        GaussianMixture(3, **start).fit(path)
    csv = tmp_path / "x.csv"
    np.savetxt(csv, np.vstack([X[:2], np.full((1, 3), np.nan)]), delimiter=",")
    with pytest.raises(DataSourceError, match="no observed value at row 2"):
        GaussianMixture(1, missing="marginalize").fit(csv)
    da = pytest.importorskip("dask.array")
    dask_fit = GaussianMixture(3, missing="marginalize", max_iter=10, tol=0, **start).fit(
        da.from_array(X, chunks=(70, 3)))
    np.testing.assert_allclose(dask_fit.means_, memory.means_, rtol=1e-10)
    with pytest.raises(ValueError, match="NaN at row"):
        GaussianMixture(3, **start).fit(da.from_array(X, chunks=(70, 3)))


def test_impute_gives_conditional_means_and_reproducible_draws(rng):
    cov = np.array([[2.0, 0.9, 0.3], [0.9, 1.0, 0.2], [0.3, 0.2, 0.5]])
    mean = np.array([1.0, -1.0, 0.5])
    gm = GaussianMixture.from_params(GaussianParams.from_covariances(np.ones(1), mean[None], cov[None], "full"),
                                     random_state=3)
    X = np.array([[2.0, np.nan, np.nan], [np.nan, 0.0, 1.0], [1.0, 2.0, 3.0]])
    filled = gm.impute(X)
    b = cov[1:, :1] / cov[0, 0]
    np.testing.assert_allclose(filled[0, 1:], mean[1:] + b[:, 0] * (2.0 - mean[0]), rtol=1e-12)
    np.testing.assert_allclose(filled[1, 0], mean[0] + cov[0, 1:] @ np.linalg.solve(cov[1:, 1:], [1.0, 0.5]))
    np.testing.assert_array_equal(filled[2], X[2])
    draws = gm.impute(X, n_draws=3)
    assert draws.shape == (3, 3, 3) and not np.isnan(draws).any()
    np.testing.assert_array_equal(draws, gm.impute(X, n_draws=3))  # random_state=3: the same draws
    assert np.ptp(draws[:, 0, 1]) > 0


def test_condition_one_row_is_a_fitted_mixture_and_many_rows_are_batched(rng):
    import pandas as pd

    X = pd.DataFrame(blobs(rng, n=300), columns=["a", "b", "c"])
    gm = GaussianMixture(3, random_state=0).fit(X)
    one = gm.condition(["b"], [0.5])
    assert isinstance(one, GaussianMixture) and list(one.feature_names_in_) == ["a", "c"]
    many = gm.condition([1], [[0.5], [2.0]])
    assert isinstance(many, ConditionalMixture) and many.means.shape == (2, 3, 2)
    np.testing.assert_allclose(one.weights_, many.weights[0], rtol=1e-12)
    np.testing.assert_allclose(one.means_, many.means[0], rtol=1e-12)
    np.testing.assert_allclose(one.score_samples(pd.DataFrame([[0.1, 0.2]], columns=["a", "c"])),
                               many.log_prob(np.array([[0.1, 0.2], [0.1, 0.2]]))[:1], rtol=1e-12)
    with pytest.raises(ValueError, match="No column 'z'"):
        gm.condition(["z"], [1.0])
    with pytest.raises(ValueError, match="between 1 and 2"):
        gm.condition([0, 1, 2], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="2 value"):
        gm.condition([0, 1], [1.0])


@pytest.mark.parametrize("kind", KINDS)
def test_all_rows_labelled_gives_the_per_class_maximum_likelihood_fit(rng, kind):
    X = blobs(rng, n=240)
    labels = rng.integers(0, 3, X.shape[0])
    gm = GaussianMixture(3, covariance_type=kind, reg_covar=1e-6).fit(X, labels=labels)
    n = np.bincount(labels)
    means = np.array([X[labels == k].mean(axis=0) for k in range(3)])
    scatters = np.array([np.cov(X[labels == k].T, bias=True) for k in range(3)])
    expected = {"full": scatters + 1e-6 * np.eye(3),
                "tied": np.einsum("k,kde->de", n, scatters) / n.sum() + 1e-6 * np.eye(3),
                "diag": np.diagonal(scatters, axis1=1, axis2=2) + 1e-6,
                "spherical": np.trace(scatters, axis1=1, axis2=2) / 3 + 1e-6}[kind]
    np.testing.assert_allclose(gm.weights_, n / n.sum(), rtol=1e-13)
    np.testing.assert_allclose(gm.means_, means, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gm.covariances_, expected, rtol=1e-11)


def test_a_few_labels_pin_the_components_to_their_classes(rng):
    X = blobs(rng, n=600, k=3)
    truth = GaussianMixture(3, random_state=0).fit(X).predict(X)
    labels = np.full(X.shape[0], -1)
    chosen = rng.choice(X.shape[0], 30, replace=False)
    mapping = np.array([2, 0, 1])  # the user's component numbers need not be k-means'
    labels[chosen] = mapping[truth[chosen]]
    gm = GaussianMixture(3, tol=0, max_iter=30).fit(X, labels=labels)
    assert np.mean(gm.predict(X) == mapping[truth]) > 0.98
    bounds = np.array(gm.lower_bounds_)
    assert np.all(np.diff(bounds) >= -1e-10 * np.abs(bounds[1:]))


def test_labels_are_checked(rng, tmp_path):
    X = blobs(rng, n=60)
    with pytest.raises(ValueError, match="row 4 holds 3"):
        GaussianMixture(3).fit(X, labels=np.r_[np.zeros(4, int), 3, -np.ones(55, int)])
    with pytest.raises(ValueError, match="labels has 5 entries; X has 60 rows"):
        GaussianMixture(3).fit(X, labels=np.zeros(5, int))
    np.save(tmp_path / "x.npy", X)
    with pytest.raises(TypeError, match="labels need X in memory"):
        GaussianMixture(3).fit(tmp_path / "x.npy", labels=np.zeros(60, int))
    from gaussmix import BayesianGaussianMixture

    with pytest.raises(TypeError, match="does not take labels"):
        BayesianGaussianMixture(n_components=3).fit(X, labels=np.zeros(60, int))


def test_labelled_rows_with_nan_fit(rng):
    X = blobs(rng, n=300)
    labels = GaussianMixture(3, random_state=0).fit(X).predict(X)
    Xm = mcar(rng, X, 0.2)
    gm = GaussianMixture(3, missing="marginalize", tol=0, max_iter=20).fit(Xm, labels=labels)
    bounds = np.array(gm.lower_bounds_)
    assert np.all(np.diff(bounds) >= -1e-10 * np.abs(bounds[1:]))
    np.testing.assert_allclose(gm.weights_, np.bincount(labels) / 300, rtol=1e-12)

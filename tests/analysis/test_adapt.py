"""MAP adaptation (Reynolds et al. 2000, eqs. 11-13) and LLR scoring, against the paper's formulas written out."""

from __future__ import annotations

from functools import reduce
from operator import add

import numpy as np
import pytest
from scipy.special import logsumexp

from gaussmix import GaussianMixture, GaussianParams, log_likelihood_ratio, map_adapt
from gaussmix.analysis.adapt import adaptation_coefficients
from gaussmix.core import chunk_stats, params_from_stats, resp_stats
from scipy_reference import dense_covariances, posteriors, weighted_log_densities


def params_of(model) -> GaussianParams:
    return GaussianParams(model.weights_, model.means_, model.covariances_, model.precisions_cholesky_,
                          model.covariance_type)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(7)
    background = np.concatenate([rng.normal(loc, scale, size=(300, 3)) for loc, scale in
                                 (([-3, 0, 2], 1.0), ([2, 2, -1], 0.7), ([0, -3, 0], 1.3), ([4, -1, 3], 0.5))])
    speaker = np.concatenate([rng.normal([-2.5, 0.5, 2], 0.9, size=(40, 3)), rng.normal([2, 2.5, -1], 0.6, (25, 3))])
    return background, speaker


@pytest.fixture(scope="module", params=["full", "diag", "spherical"])
def ubm(request, data):
    return GaussianMixture(4, covariance_type=request.param, random_state=0, tol=1e-8).fit(data[0])


def test_alpha_is_n_over_n_plus_r():
    nk = np.array([0.0, 0.5, 16.0, 1e6])
    np.testing.assert_array_equal(adaptation_coefficients(nk, 16.0), nk / (nk + 16.0))
    np.testing.assert_array_equal(adaptation_coefficients(nk, 0.0), [0.0, 1.0, 1.0, 1.0])
    np.testing.assert_array_equal(adaptation_coefficients(nk, np.inf), np.zeros(4))


def test_means_weights_and_variances_follow_eqs_11_to_13(ubm, data):
    X = data[1]
    r = 16.0
    adapted = map_adapt(ubm, X, relevance_factor=r, update="mwv")
    post = posteriors(ubm, X)
    n = post.sum(axis=0)
    alpha = n / (n + r)
    ex = post.T @ X / n[:, None]
    exx = np.einsum("tk,ti,tj->kij", post, X, X) / n[:, None, None]
    mu, cov = ubm.means_, dense_covariances(ubm)
    mean = alpha[:, None] * ex + (1 - alpha[:, None]) * mu  # eq. 12
    weights = alpha * n / len(X) + (1 - alpha) * ubm.weights_  # eq. 11
    second = (alpha[:, None, None] * exx  # eq. 13, in full: E[xx'] blended with Σ + μμ', minus μ̂μ̂'
              + (1 - alpha[:, None, None]) * (cov + mu[:, :, None] * mu[:, None, :])
              - mean[:, :, None] * mean[:, None, :])
    np.testing.assert_allclose(adapted.means_, mean, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(adapted.weights_, weights / weights.sum(), rtol=1e-10)
    got = dense_covariances(adapted)
    if ubm.covariance_type == "spherical":  # one variance: the trace of eq. 13's matrix over D
        second = np.trace(second, axis1=1, axis2=2)[:, None, None] / 3 * np.eye(3)
    elif ubm.covariance_type == "diag":
        second = np.stack([np.diag(np.diag(s)) for s in second])
    np.testing.assert_allclose(got, second, rtol=1e-9, atol=1e-12)


def test_variance_adds_the_squared_ubm_means_not_the_means(data):
    # bob.learn.em's update adds σ² + μ (not μ²); with means far from 0 and 1 the two differ visibly.
    background, X = data[0] + 10.0, data[1] + 10.0
    ubm = GaussianMixture(4, covariance_type="diag", random_state=0).fit(background)
    ours = map_adapt(ubm, X, update="mv").covariances_
    post = posteriors(ubm, X)
    n = post.sum(axis=0)
    alpha = (n / (n + 16.0))[:, None]
    ex, exx = post.T @ X / n[:, None], post.T @ X**2 / n[:, None]
    new_mean = alpha * ex + (1 - alpha) * ubm.means_
    paper = alpha * exx + (1 - alpha) * (ubm.covariances_ + ubm.means_**2) - new_mean**2
    bob = alpha * exx + (1 - alpha) * (ubm.covariances_ + ubm.means_) - new_mean**2
    np.testing.assert_allclose(ours, paper, rtol=1e-8)
    assert np.max(np.abs(ours - bob)) > 1.0


def test_relevance_zero_is_one_maximum_likelihood_step(ubm, data):
    X = data[0]  # every component has data, so the M-step re-seeds none
    stats = chunk_stats(X, params_of(ubm))
    ml = params_from_stats(stats, reg_covar=0.0).params
    adapted = map_adapt(ubm, X, relevance_factor=0.0, update="mwv")
    np.testing.assert_allclose(adapted.means_, ml.means, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(adapted.weights_, ml.weights, rtol=1e-12)
    np.testing.assert_allclose(adapted.covariances_, ml.covariances, rtol=1e-12, atol=1e-12)


def test_infinite_relevance_gives_back_the_ubm(ubm, data):
    exact = map_adapt(ubm, data[1], relevance_factor=np.inf, update="mwv")
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):
        np.testing.assert_allclose(getattr(exact, name), getattr(ubm, name), rtol=1e-15, atol=0)
    near = map_adapt(ubm, data[1], relevance_factor=1e16, update="mwv")
    np.testing.assert_allclose(near.means_, ubm.means_, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(near.covariances_, ubm.covariances_, rtol=1e-12)


def test_components_without_data_keep_the_ubm_parameters(data):
    ubm = GaussianMixture(4, covariance_type="diag", random_state=0).fit(data[0])
    resp = posteriors(ubm, data[1])
    resp[:, 2] = 0.0  # component 2 sees none of the rows
    resp /= resp.sum(axis=1, keepdims=True)
    stats = resp_stats(data[1], resp, None, ubm.means_, "diag")
    adapted = map_adapt(ubm, stats, relevance_factor=0.0, update="mv")
    np.testing.assert_array_equal(adapted.means_[2], ubm.means_[2])
    np.testing.assert_array_equal(adapted.covariances_[2], ubm.covariances_[2])
    assert not np.allclose(adapted.means_[[0, 1, 3]], ubm.means_[[0, 1, 3]])


def test_summed_chunk_statistics_adapt_like_the_data(ubm, data):
    X = data[1]
    params = params_of(ubm)
    parts = [chunk_stats(X[a:b], params, row_offset=a) for a, b in ((0, 20), (20, 21), (21, len(X)))]
    from_stats = map_adapt(ubm, reduce(add, parts), update="mwv")
    from_data = map_adapt(ubm, X, update="mwv")
    for name in ("weights_", "means_", "covariances_"):
        np.testing.assert_allclose(getattr(from_stats, name), getattr(from_data, name), rtol=1e-12)


def test_a_file_adapts_like_the_array(ubm, data, tmp_path):
    path = tmp_path / "speaker.npy"
    np.save(path, data[1])
    from_file, in_memory = map_adapt(ubm, path, update="mv"), map_adapt(ubm, data[1], update="mv")
    np.testing.assert_allclose(from_file.means_, in_memory.means_, rtol=1e-12)
    np.testing.assert_allclose(from_file.covariances_, in_memory.covariances_, rtol=1e-12)


def test_integer_weights_adapt_like_copied_rows(ubm, data):
    X = data[1]
    weights = np.tile([0.0, 1.0, 2.0], len(X) // 3 + 1)[: len(X)]
    weighted = map_adapt(ubm, X, sample_weight=weights, update="mwv")
    copied = map_adapt(ubm, np.repeat(X, weights.astype(int), axis=0), update="mwv")
    for name in ("weights_", "means_", "covariances_"):
        np.testing.assert_allclose(getattr(weighted, name), getattr(copied, name), rtol=1e-11)


def test_result_is_a_new_fitted_model_and_the_ubm_is_untouched(ubm, data):
    before = {name: getattr(ubm, name).copy() for name in ("weights_", "means_", "covariances_")}
    adapted = map_adapt(ubm, data[1], update="mwv")
    for name, value in before.items():
        np.testing.assert_array_equal(getattr(ubm, name), value)
    assert adapted is not ubm and adapted.get_params() == ubm.get_params()
    assert adapted.lower_bound_ == pytest.approx(ubm.score(data[1]), rel=1e-12)
    assert adapted.predict(data[1]).shape == (len(data[1]),)


def test_statistics_must_come_from_the_ubm(ubm, data):
    shifted = GaussianParams(ubm.weights_, ubm.means_ + 1e-3, ubm.covariances_, ubm.precisions_cholesky_,
                             ubm.covariance_type)
    with pytest.raises(ValueError, match="centred 0.001 away from the UBM's means"):
        map_adapt(ubm, chunk_stats(data[1], shifted))
    with pytest.raises(ValueError, match="statistics already carry their weights"):
        map_adapt(ubm, chunk_stats(data[1], params_of(ubm)), sample_weight=np.ones(len(data[1])))


@pytest.mark.parametrize("kwargs, match", [
    ({"update": "mx"}, "'update' parameter of map_adapt"),
    ({"update": ""}, "'update' parameter of map_adapt"),
    ({"relevance_factor": -1.0}, "'relevance_factor' parameter of map_adapt"),
    ({"relevance_factor": float("nan")}, "'relevance_factor' parameter of map_adapt"),
])
def test_bad_arguments_are_named(ubm, data, kwargs, match):
    with pytest.raises(ValueError, match=match):
        map_adapt(ubm, data[1], **kwargs)


def test_tied_ubm_adapts_means_but_refuses_variances(data):
    ubm = GaussianMixture(4, covariance_type="tied", random_state=0).fit(data[0])
    assert map_adapt(ubm, data[1], update="mw").covariances_.shape == (3, 3)
    with pytest.raises(ValueError, match="'tied' UBM shares one covariance"):
        map_adapt(ubm, data[1], update="v")


def test_exact_llr_is_the_mean_log_density_difference(ubm, data):
    model = map_adapt(ubm, data[1], update="mwv")
    expected = np.mean(model.score_samples(data[0][:50]) - ubm.score_samples(data[0][:50]))
    assert log_likelihood_ratio(model, ubm, data[0][:50]) == pytest.approx(expected, rel=1e-12)
    assert log_likelihood_ratio(model, ubm, data[0][:50], top_c=4) == pytest.approx(expected, rel=1e-12)


def test_top_c_scoring_sums_the_ubms_best_components_in_both_models(ubm, data):
    model = map_adapt(ubm, data[1], update="mwv")
    X = data[0][::7]
    u_all, m_all = weighted_log_densities(ubm, X), weighted_log_densities(model, X)
    frames = []
    for u, m in zip(u_all, m_all):  # one frame at a time: its two best UBM components, in both models
        best = np.argsort(u)[-2:]
        frames.append(logsumexp(m[best]) - logsumexp(u[best]))
    assert log_likelihood_ratio(model, ubm, X, top_c=2) == pytest.approx(np.mean(frames), rel=1e-10)


def test_llr_needs_a_model_adapted_from_the_ubm(ubm, data):
    other = GaussianMixture(2, covariance_type="diag", random_state=0).fit(data[0])
    with pytest.raises(ValueError, match="must be adapted from this UBM"):
        log_likelihood_ratio(other, ubm, data[1])
    with pytest.raises(ValueError, match="'top_c' parameter"):
        log_likelihood_ratio(map_adapt(ubm, data[1]), ubm, data[1], top_c=0)


@pytest.fixture(scope="module")
def digits_ubm():
    """Handwritten digits as a speaker-verification toy: each class a speaker, a diagonal UBM on half the images."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    rng = np.random.default_rng(0)
    train = np.zeros(len(y), bool)
    for c in range(10):
        rows = np.flatnonzero(y == c)
        train[rng.choice(rows, len(rows) // 2, replace=False)] = True
    return X, y, train


def test_top_5_llr_is_within_one_percent_of_exact_on_digits(digits_ubm):
    X, y, train = digits_ubm
    ubm = GaussianMixture(64, covariance_type="diag", reg_covar=1e-2, random_state=0).fit(X[train])
    worst = 0.0
    for c in range(10):
        model = map_adapt(ubm, X[train & (y == c)], relevance_factor=16.0)
        utterance = X[~train & (y == c)]
        exact = log_likelihood_ratio(model, ubm, utterance)
        fast = log_likelihood_ratio(model, ubm, utterance, top_c=5)
        worst = max(worst, abs(fast - exact) / abs(exact))
    assert worst <= 0.01


def test_map_means_verify_single_digits_far_better_than_chance(digits_ubm):
    from sklearn.metrics import roc_curve

    X, y, train = digits_ubm
    ubm = GaussianMixture(8, covariance_type="diag", reg_covar=1e-2, random_state=0).fit(X[train])
    test, labels = X[~train], y[~train]
    models = [map_adapt(ubm, X[train & (y == c)], relevance_factor=16.0) for c in range(10)]
    scores = np.array([[log_likelihood_ratio(model, ubm, x[None]) for model in models] for x in test[:150]])
    target = labels[:150, None] == np.arange(10)
    fpr, tpr, _ = roc_curve(target.ravel(), scores.ravel())
    eer = fpr[np.argmin(np.abs(1 - tpr - fpr))]
    assert eer < 0.35

"""BayesianGaussianMixture: scikit-learn's numbers from the same start, the ELBO's laws, and the engine's reach."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import BayesianGaussianMixture as SkBayesian
from sklearn.mixture import GaussianMixture as SkGaussian

import gaussmix.bayesian as bayesian_module
from conftest import interrupt_on_pass
from gaussmix import BayesianGaussianMixture
from gaussmix.core.estep import resp_stats

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
PRIOR_TYPES = ("dirichlet_process", "dirichlet_distribution")
POSTERIOR = ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_", "mean_precision_",
             "degrees_of_freedom_", "mean_prior_", "covariance_prior_", "weight_concentration_prior_",
             "mean_precision_prior_", "degrees_of_freedom_prior_")


def three_clusters(rng: np.random.Generator, n: int = 400) -> np.ndarray:
    parts = [rng.normal(-3, 1.0, (n // 3, 3)), rng.normal(3, 0.7, (n // 3, 3)),
             rng.normal([0, 5, 0], 0.5, (n - 2 * (n // 3), 3))]
    return rng.permutation(np.vstack(parts))


def random_resp(n_rows: int, n_components: int, seed: int = 0) -> np.ndarray:
    resp = np.random.default_rng(seed).uniform(size=(n_rows, n_components))
    return resp / resp.sum(1, keepdims=True)


@pytest.fixture
def fixed_start(monkeypatch):
    """``fixed_start(X, resp, w)``: gaussmix starts from these responsibilities (of these rows and weights);
    returns a scikit-learn class that starts from them too."""
    start: dict[str, np.ndarray] = {}

    def stats_of_resp(X, n_components, kind, init_params, rng, sample_weight=None, chunk_rows=8192):
        X_all, resp, w = start["X"], start["resp"], start["w"]
        weighted = resp if w is None else resp * w[:, None]
        centers = (weighted.T @ X_all) / weighted.sum(0)[:, None]
        return resp_stats(X_all, resp, w, centers, kind)

    monkeypatch.setattr(bayesian_module, "initial_stats", stats_of_resp)

    def set_start(X: np.ndarray, resp: np.ndarray, w: np.ndarray | None = None) -> type:
        start.update(X=X, resp=resp, w=w)

        class SkFromResp(SkBayesian):
            def _initialize_parameters(self, X, random_state, xp=None):
                self._initialize(X, start["resp"])

        return SkFromResp

    return set_start


def assert_close(a, b, rtol: float, name: str) -> None:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * max(np.abs(b).max(), 1e-300), err_msg=name)


@pytest.mark.parametrize("prior_type", PRIOR_TYPES)
@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_twenty_iterations_equal_sklearns_from_the_same_start(rng, fixed_start, kind, prior_type):
    X = three_clusters(rng)
    sk_class = fixed_start(X, random_resp(len(X), 5))
    kw = dict(n_components=5, covariance_type=kind, weight_concentration_prior_type=prior_type, max_iter=20, tol=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        theirs = sk_class(**kw).fit(X)
        ours = BayesianGaussianMixture(**kw).fit(X)
    for name in POSTERIOR:
        assert_close(getattr(ours, name), getattr(theirs, name), 1e-6, name)
    if prior_type == "dirichlet_process":
        assert isinstance(ours.weight_concentration_, tuple)
        for mine, sk in zip(ours.weight_concentration_, theirs.weight_concentration_):
            assert_close(mine, sk, 1e-6, "weight_concentration_")
    else:
        assert_close(ours.weight_concentration_, theirs.weight_concentration_, 1e-6, "weight_concentration_")
    assert_close(ours.lower_bounds_, np.ravel(theirs.lower_bounds_), 1e-9, "lower_bounds_")
    assert ours.lower_bound_ == pytest.approx(float(np.ravel(theirs.lower_bound_)[0]), rel=1e-9)
    assert_close(ours.score_samples(X), theirs.score_samples(X), 1e-9, "score_samples")
    assert_close(ours.predict_proba(X), theirs.predict_proba(X), 1e-9, "predict_proba")
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))


@pytest.mark.parametrize("prior_type", PRIOR_TYPES)
@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_the_elbo_never_decreases(rng, kind, prior_type):
    X = three_clusters(rng, n=300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = BayesianGaussianMixture(n_components=6, covariance_type=kind,
                                        weight_concentration_prior_type=prior_type, max_iter=40, tol=0.0,
                                        random_state=0, init_params="random").fit(X)
    bounds = np.array(model.lower_bounds_)
    assert np.all(np.diff(bounds) >= -1e-9 * np.abs(bounds[1:])), np.diff(bounds).min()


def test_a_dirichlet_process_switches_off_the_components_three_clusters_do_not_need(rng):
    X = three_clusters(rng, n=900)
    model = BayesianGaussianMixture(n_components=10, weight_concentration_prior=0.01, max_iter=500,
                                    random_state=0).fit(X)
    assert int(np.sum(model.weights_ > 0.01)) == 3
    assert model.converged_


@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_float32_data_gives_float32_attributes_and_outputs(rng, kind):
    X = three_clusters(rng).astype(np.float32)
    model = BayesianGaussianMixture(n_components=3, covariance_type=kind, random_state=0).fit(X)
    for name in ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_", "mean_precision_",
                 "mean_prior_"):
        assert getattr(model, name).dtype == np.float32, name
    assert model.score_samples(X).dtype == np.float32 and model.predict_proba(X).dtype == np.float32
    assert model.sample(5)[0].dtype == np.float32


def test_streamed_and_dask_fits_equal_the_in_memory_fit(rng, fixed_start, tmp_path):
    import dask
    import dask.array as da

    X = three_clusters(rng)
    fixed_start(X, random_resp(len(X), 4))
    kw = dict(n_components=4, covariance_type="full", max_iter=10, tol=0.0)
    path = tmp_path / "x.npy"
    np.save(path, X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        in_memory = BayesianGaussianMixture(**kw).fit(X)
        streamed = BayesianGaussianMixture(**kw, chunk_rows=97).fit(str(path))
        with dask.config.set(scheduler="sync"):
            on_dask = BayesianGaussianMixture(**kw).fit(da.from_array(X, chunks=(111, 3)))
    for other in (streamed, on_dask):
        for name in POSTERIOR:
            assert_close(getattr(other, name), getattr(in_memory, name), 1e-10, name)
        assert_close(other.lower_bounds_, in_memory.lower_bounds_, 1e-10, "lower_bounds_")


def test_integer_sample_weights_equal_duplicated_rows(rng, fixed_start):
    X = three_clusters(rng, n=120)
    counts = rng.integers(0, 3, len(X))
    copies = np.repeat(np.arange(len(X)), counts)
    resp = random_resp(len(X), 3)
    kw = dict(n_components=3, covariance_type="diag", max_iter=8, tol=0.0, mean_prior=np.zeros(3),
              covariance_prior=np.ones(3))  # the data-dependent prior defaults use ddof=1, not a weight law
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        fixed_start(X, resp, counts.astype(np.float64))
        weighted = BayesianGaussianMixture(**kw).fit(X, sample_weight=counts)
        fixed_start(X[copies], resp[copies])  # each copy starts from its original's responsibilities
        duplicated = BayesianGaussianMixture(**kw).fit(X[copies])
    for name in ("weights_", "means_", "covariances_", "mean_precision_", "degrees_of_freedom_"):
        assert_close(getattr(weighted, name), getattr(duplicated, name), 1e-9, name)
    assert_close(weighted.lower_bounds_, duplicated.lower_bounds_, 1e-9, "lower_bounds_")


def test_priors_are_checked_with_messages_that_name_them(rng):
    X = three_clusters(rng, n=60)
    with pytest.raises(ValueError, match="degrees_of_freedom_prior.*greater than 2"):
        BayesianGaussianMixture(degrees_of_freedom_prior=1.5).fit(X)
    with pytest.raises(ValueError, match="'mean_prior' should have the shape \\(3,\\)"):
        BayesianGaussianMixture(mean_prior=[0.0, 1.0]).fit(X)
    with pytest.raises(ValueError, match="'weight_concentration_prior_type'"):
        BayesianGaussianMixture(weight_concentration_prior_type="dirichlet").fit(X)
    with pytest.raises(ValueError, match="'full' covariance_prior should be symmetric, positive-definite"):
        BayesianGaussianMixture(covariance_prior=-np.eye(3)).fit(X)
    with pytest.raises(ValueError, match="'weight_concentration_prior'.*> 0"):
        BayesianGaussianMixture(weight_concentration_prior=0.0).fit(X)


def test_ctrl_c_keeps_the_last_completed_iteration(rng, monkeypatch):
    interrupt_on_pass(monkeypatch, 5)  # pass 1 is the prior's moments, then iterations 1-3 complete
    model = BayesianGaussianMixture(n_components=3, tol=0.0, max_iter=50, random_state=0)
    with pytest.warns(ConvergenceWarning, match="interrupted"), pytest.raises(KeyboardInterrupt):
        model.fit(three_clusters(rng, n=150))
    assert model.n_iter_ == 3 and np.all(np.isfinite(model.means_))


def test_warm_start_continues_from_the_previous_posterior(rng):
    X = three_clusters(rng, n=300)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        straight = BayesianGaussianMixture(n_components=3, max_iter=10, tol=0.0, random_state=0).fit(X)
        warm = BayesianGaussianMixture(n_components=3, max_iter=5, tol=0.0, random_state=0, warm_start=True).fit(X)
        warm.fit(X)
    for name in ("means_", "covariances_", "mean_precision_"):
        assert_close(getattr(warm, name), getattr(straight, name), 1e-9, name)


@pytest.mark.parametrize("prior_type", PRIOR_TYPES)
@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_model_file_round_trip_keeps_the_posterior_and_predictions(tmp_path, rng, kind, prior_type):
    import gaussmix

    X = three_clusters(rng, n=200)
    model = BayesianGaussianMixture(n_components=4, covariance_type=kind, weight_concentration_prior_type=prior_type,
                                    random_state=0).fit(X)
    loaded = gaussmix.load(model.save(tmp_path / "bgm.npz"))
    assert type(loaded) is BayesianGaussianMixture
    for name in POSTERIOR:
        assert_close(getattr(loaded, name), getattr(model, name), 1e-15, name)
    np.testing.assert_array_equal(loaded.score_samples(X), model.score_samples(X))
    assert loaded.get_params() == model.get_params()
    with pytest.raises(gaussmix.ModelFileError, match="holds a 'BayesianGaussianMixture', not a GaussianMixture"):
        gaussmix.GaussianMixture.load(tmp_path / "bgm.npz")


@pytest.mark.parametrize("prior_type", PRIOR_TYPES)
@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_to_and_from_sklearn_keep_every_attribute_and_prediction(rng, kind, prior_type):
    X = three_clusters(rng, n=200)
    model = BayesianGaussianMixture(n_components=4, covariance_type=kind, weight_concentration_prior_type=prior_type,
                                    random_state=0).fit(X)
    theirs = model.to_sklearn()
    assert type(theirs) is SkBayesian
    for name in POSTERIOR:
        assert_close(getattr(theirs, name), getattr(model, name), 1e-15, name)
    assert_close(theirs.score_samples(X), model.score_samples(X), 1e-12, "score_samples")
    back = BayesianGaussianMixture.from_sklearn(theirs)
    for name in POSTERIOR:
        assert_close(getattr(back, name), getattr(model, name), 1e-15, name)
    np.testing.assert_array_equal(back.predict(X), model.predict(X))
    with pytest.raises(TypeError, match="needs a sklearn.mixture.BayesianGaussianMixture"):
        BayesianGaussianMixture.from_sklearn(SkGaussian(2).fit(X))


@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_a_tensor_fit_equals_the_numpy_fit_and_returns_tensors(rng, fixed_start, kind):
    import torch
    X = three_clusters(rng, n=240)
    fixed_start(X, random_resp(len(X), 3))
    kw = dict(n_components=3, covariance_type=kind, max_iter=10, tol=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        on_numpy = BayesianGaussianMixture(**kw).fit(X)
        on_tensor = BayesianGaussianMixture(**kw).fit(torch.tensor(X))
    for name in ("weights_", "means_", "covariances_", "mean_precision_"):
        value = getattr(on_tensor, name)
        assert isinstance(value, torch.Tensor) and value.dtype == torch.float64, name
        assert_close(value.numpy(), getattr(on_numpy, name), 1e-10, name)
    scores = on_tensor.score_samples(torch.tensor(X))
    assert isinstance(scores, torch.Tensor)
    assert_close(scores.numpy(), on_numpy.score_samples(X), 1e-10, "score_samples")

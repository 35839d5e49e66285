"""GaussianMixture on torch tensors: the same engine on the tensor's device, equal to the NumPy fit.

Every test runs on the CPU and, marked ``gpu``, on CUDA when a GPU is present: the claims are the same.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from conftest import blobs  # noqa: E402
from gaussmix import GaussianMixture, load  # noqa: E402
from gaussmix.core.estep import chunk_stats, log_resp  # noqa: E402
from gaussmix.core.init import INIT_METHODS  # noqa: E402
from gaussmix.core.namespace import to_numpy  # noqa: E402
from gaussmix.core.params import COVARIANCE_TYPES, GaussianParams  # noqa: E402
from strategies import random_params  # noqa: E402

CUDA = pytest.param("cuda", marks=[pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(),
                                                                         reason="needs a CUDA device")])
DEVICES = ["cpu", CUDA]
FITTED = ("weights_", "means_", "covariances_", "precisions_cholesky_", "precisions_")


def fit_quietly(X, sample_weight=None, **kw) -> GaussianMixture:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tol=0 runs never "converge"; that is the point of the comparison
        return GaussianMixture(**kw).fit(X, sample_weight=sample_weight)


def same_init(params: GaussianParams) -> dict:
    return dict(n_components=params.n_components, covariance_type=params.covariance_type,
                weights_init=params.weights, means_init=params.means, precisions_init=params.precisions)


def assert_close_to(actual, expected, rtol: float, name: str = "") -> None:
    """Relative agreement, entries near zero judged against the array's scale."""
    expected = np.asarray(expected, dtype=np.float64)
    np.testing.assert_allclose(to_numpy(actual), expected, rtol=rtol, atol=rtol * np.abs(expected).max(),
                               err_msg=name)


def assert_fit_equals_numpy(on_tensor: GaussianMixture, on_numpy: GaussianMixture, device: str,
                            rtol: float = 1e-10) -> None:
    """Same parameters and lower bounds; the tensor fit's attributes are tensors on ``device``, of the NumPy fit's
    float dtype (float32 data gives float32 attributes in either namespace)."""
    for name in FITTED:
        value = getattr(on_tensor, name)
        assert isinstance(value, torch.Tensor) and value.device.type == device, (name, type(value))
        assert str(value.dtype) == f"torch.{getattr(on_numpy, name).dtype}", (name, value.dtype)
        assert_close_to(value, getattr(on_numpy, name), rtol, name)
    assert_close_to(on_tensor.lower_bounds_, on_numpy.lower_bounds_, rtol, "lower_bounds_")
    assert on_tensor.n_iter_ == on_numpy.n_iter_


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """These arrays are tiny: torch's intra-op threads only add contention (seconds per fit on a busy machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def data(rng) -> np.ndarray:
    return blobs(rng, n=600, d=3, k=3)


# -- the fit ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_float64_tensor_fit_equals_numpy_fit_from_the_same_init(rng, data, kind, device):
    params = random_params(rng, 3, 3, kind, data)
    weights = rng.uniform(0.5, 2.0, len(data))
    kw = dict(**same_init(params), tol=0.0, max_iter=20, chunk_rows=256)
    on_numpy = fit_quietly(data, sample_weight=weights, **kw)
    on_tensor = fit_quietly(torch.tensor(data, device=device),
                            sample_weight=torch.tensor(weights, device=device), **kw)
    assert_fit_equals_numpy(on_tensor, on_numpy, device)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("init_params", INIT_METHODS)
@pytest.mark.parametrize("kind", ["full", "diag"])
def test_every_init_method_takes_the_numpy_choices_from_the_same_seed(data, init_params, kind, device):
    kw = dict(n_components=3, covariance_type=kind, init_params=init_params, random_state=7, tol=0.0,
              max_iter=10, chunk_rows=200)
    on_numpy = fit_quietly(data, **kw)
    assert_fit_equals_numpy(fit_quietly(torch.tensor(data, device=device), **kw), on_numpy, device)


@pytest.mark.parametrize("device", DEVICES)
def test_weighted_kmeans_init_on_a_tensor_equals_numpy(rng, data, device):
    weights = rng.uniform(0.0, 2.0, len(data)) * (rng.uniform(size=len(data)) > 0.2)
    kw = dict(n_components=3, random_state=3, tol=0.0, max_iter=5, chunk_rows=128)
    on_numpy = fit_quietly(data, sample_weight=weights, **kw)
    on_tensor = fit_quietly(torch.tensor(data, device=device), sample_weight=weights, **kw)
    assert_fit_equals_numpy(on_tensor, on_numpy, device)


@pytest.mark.parametrize("device", DEVICES)
def test_float32_tensor_computes_in_float32_with_float64_statistics(rng, data, device):
    params = random_params(rng, 3, 3, "full", data)
    X32 = torch.tensor(data, dtype=torch.float32, device=device)
    on_device = GaussianParams(*(torch.tensor(a, device=device) for a in
                                 (params.weights, params.means, params.covariances, params.precisions_cholesky)),
                               "full")
    log_prob, resp = log_resp(X32, on_device)
    assert log_prob.dtype == resp.dtype == torch.float32
    stats = chunk_stats(X32, on_device)
    for field in ("n", "log_likelihood", "resp_sum", "first", "second", "worst_points"):
        assert getattr(stats, field).dtype == torch.float64, field
        assert getattr(stats, field).device.type == device, field

    kw = dict(**same_init(params), tol=0.0, max_iter=15)
    on_tensor = fit_quietly(X32, **kw)
    assert on_tensor.means_.dtype == torch.float32 and on_tensor.means_.device.type == device
    # Both compute densities in float32 (different BLAS, so not bit-equal) and sum statistics in float64.
    assert_fit_equals_numpy(on_tensor, fit_quietly(data.astype(np.float32), **kw), device, rtol=1e-5)


@pytest.mark.parametrize("device", DEVICES)
def test_integer_and_gradient_tracking_tensors_are_fitted_as_float64_data(data, device):
    X = torch.tensor(np.round(data * 10), device=device)
    kw = dict(n_components=3, random_state=0, max_iter=5, tol=0.0)
    as_ints = fit_quietly(X.to(torch.int64), **kw)
    assert_fit_equals_numpy(as_ints, fit_quietly(np.round(data * 10), **kw), device)
    tracked = fit_quietly(X.clone().requires_grad_(True), **kw)
    assert not tracked.means_.requires_grad
    assert_close_to(tracked.means_, to_numpy(as_ints.means_), 0.0)


# -- using the fitted model ------------------------------------------------------------------------------------

@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_row_methods_return_tensors_equal_to_numpy_results(data, kind, device):
    kw = dict(n_components=3, covariance_type=kind, random_state=0, max_iter=30)
    on_numpy = fit_quietly(data, **kw)
    on_tensor = fit_quietly(torch.tensor(data, device=device), **kw)
    rows = torch.tensor(data[:250], device=device)
    for method in ("score_samples", "predict_proba"):
        out = getattr(on_tensor, method)(rows)
        assert isinstance(out, torch.Tensor) and out.device.type == device and out.dtype == torch.float64
        assert_close_to(out, getattr(on_numpy, method)(data[:250]), 1e-10, method)
    labels = on_tensor.predict(rows)
    assert isinstance(labels, torch.Tensor) and labels.device.type == device
    np.testing.assert_array_equal(to_numpy(labels), on_numpy.predict(data[:250]))
    for method in ("score", "bic", "aic"):
        value = getattr(on_tensor, method)(rows)
        assert type(value) is float, method
        np.testing.assert_allclose(value, getattr(on_numpy, method)(data[:250]), rtol=1e-10, err_msg=method)


@pytest.mark.parametrize("device", DEVICES)
def test_each_model_answers_in_the_namespace_of_the_rows_it_is_given(data, device):
    kw = dict(n_components=2, random_state=0, max_iter=10)
    on_numpy, on_tensor = fit_quietly(data, **kw), fit_quietly(torch.tensor(data, device=device), **kw)
    from_numpy_model = on_numpy.score_samples(torch.tensor(data, device=device))
    assert isinstance(from_numpy_model, torch.Tensor) and from_numpy_model.device.type == device
    from_tensor_model = on_tensor.score_samples(data)
    assert isinstance(from_tensor_model, np.ndarray)
    assert_close_to(from_numpy_model, on_numpy.score_samples(data), 1e-10)
    assert_close_to(from_tensor_model, on_numpy.score_samples(data), 1e-10)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_torch_distribution_log_prob_equals_score_samples(data, kind, device):
    model = fit_quietly(torch.tensor(data, device=device), n_components=3, covariance_type=kind, random_state=0)
    distribution = model.to_torch_distribution()
    assert isinstance(distribution, torch.distributions.MixtureSameFamily)
    rows = torch.tensor(data[::7] + 0.5, device=device)  # data points and points between them
    log_prob = distribution.log_prob(rows)
    assert log_prob.device.type == device
    assert_close_to(log_prob, to_numpy(model.score_samples(rows)), 1e-10)
    assert tuple(distribution.sample((5,)).shape) == (5, 3)


@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_torch_distribution_of_a_numpy_fit_equals_score_samples(data, kind):
    model = fit_quietly(data, n_components=3, covariance_type=kind, random_state=0)
    log_prob = model.to_torch_distribution().log_prob(torch.tensor(data))
    assert_close_to(log_prob, model.score_samples(data), 1e-10)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_sample_of_a_tensor_fit_draws_the_numpy_rows_on_the_device(data, kind, device):
    kw = dict(n_components=3, covariance_type=kind, random_state=4, max_iter=20)
    X, labels = fit_quietly(torch.tensor(data, device=device), **kw).sample(300)
    X_np, labels_np = fit_quietly(data, **kw).sample(300)
    assert X.device.type == labels.device.type == device and X.dtype == torch.float64
    np.testing.assert_array_equal(to_numpy(labels), labels_np)
    assert_close_to(X, X_np, 1e-9)


@pytest.mark.parametrize("device", DEVICES)
def test_a_tensor_fit_saves_and_loads_as_the_same_numpy_model(tmp_path, data, device):
    model = fit_quietly(torch.tensor(data, device=device), n_components=3, random_state=0)
    loaded = load(model.save(os.path.join(tmp_path, "model.npz")))
    for name in ("weights_", "means_", "covariances_", "precisions_cholesky_"):  # stored: bit for bit
        np.testing.assert_array_equal(getattr(loaded, name), to_numpy(getattr(model, name)), err_msg=name)
    assert_close_to(loaded.precisions_, to_numpy(model.precisions_), 1e-14)  # recomputed on load, in NumPy
    np.testing.assert_array_equal(loaded.predict(data), to_numpy(model.predict(torch.tensor(data, device=device))))


# -- bad tensors ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("bad, message", [
    (float("nan"), r"X contains NaN at row 41, column 2\."),
    (float("-inf"), r"X contains infinity at row 41, column 2\."),
])
def test_a_non_finite_tensor_is_refused_naming_its_row_and_column(data, device, bad, message):
    X = torch.tensor(data, device=device)
    X[41, 2] = bad
    X[300, 0] = bad  # a later bad value: the first one is named
    model = GaussianMixture(2)
    with pytest.raises(ValueError, match=message):
        model.fit(X)
    assert not model.__sklearn_is_fitted__()
    fitted = fit_quietly(torch.tensor(data, device=device), n_components=2, max_iter=3)
    before = dict(fitted.__dict__)
    with pytest.raises(ValueError, match=message):
        fitted.predict(X)
    assert fitted.__dict__.keys() == before.keys()
    assert all(fitted.__dict__[k] is before[k] for k in before)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("shape, message", [
    ((30,), r"Expected a 2D array for X, got a 1D array of shape \(30,\)\. Reshape"),
    ((2, 3, 5), r"Expected a 2D array for X, got a 3D array of shape \(2, 3, 5\)"),
    ((0, 3), r"0 sample\(s\)"),
])
def test_a_tensor_of_the_wrong_shape_is_refused(device, shape, message):
    with pytest.raises(ValueError, match=message):
        GaussianMixture(1).fit(torch.zeros(shape, device=device))


@pytest.mark.parametrize("device", DEVICES)
def test_wrong_feature_count_and_bad_weights_are_refused_for_tensors(data, device):
    X = torch.tensor(data, device=device)
    model = fit_quietly(X, n_components=2, max_iter=3)
    with pytest.raises(ValueError, match=r"X has 2 features, but GaussianMixture is expecting 3"):
        model.score_samples(X[:, :2])
    weights = torch.ones(len(data), device=device)
    weights[17] = -1.0
    with pytest.raises(ValueError, match=r"row 17 holds -1\.0"):
        GaussianMixture(2).fit(X, sample_weight=weights)
    with pytest.raises(ValueError, match=r"sample_weight has 5 entries; X has 600 rows"):
        GaussianMixture(2).fit(X, sample_weight=torch.ones(5, device=device))
    with pytest.raises(ValueError, match=r"Complex data not supported"):
        GaussianMixture(2).fit(X.to(torch.complex128))

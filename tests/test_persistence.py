"""GaussianMixture.save / gaussmix.load: exact round trips, and files that are refused without running anything."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import gaussmix
from conftest import blobs
from gaussmix import GaussianMixture, ModelFileError, NotFittedError
from gaussmix.io.model_file import METADATA_KEY, load_model

FITTED = ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_")
COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")


def assert_bitwise_equal(a: np.ndarray, b: np.ndarray) -> None:
    assert a.dtype == b.dtype and a.shape == b.shape
    assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_round_trip_is_bitwise_and_predicts_identically(tmp_path, rng, covariance_type):
    X = blobs(rng, n=300, d=3)
    model = GaussianMixture(3, covariance_type=covariance_type, random_state=0, tol=1e-6).fit(X)
    loaded = gaussmix.load(model.save(tmp_path / "model.npz"))
    for name in FITTED:
        assert_bitwise_equal(getattr(loaded, name), getattr(model, name))
    assert (loaded.n_iter_, loaded.converged_, loaded.lower_bound_) == (model.n_iter_, model.converged_,
                                                                        model.lower_bound_)
    assert loaded.lower_bounds_ == model.lower_bounds_
    assert loaded.n_features_in_ == 3 and not hasattr(loaded, "feature_names_in_")
    assert loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
    assert_bitwise_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert_bitwise_equal(loaded.score_samples(X), model.score_samples(X))


def test_round_trip_keeps_feature_names_array_parameters_and_reseeds(tmp_path, faithful):
    frame = pd.DataFrame(faithful, columns=["eruptions", "waiting"])
    means_init = np.array([[2.0, 55.0], [4.5, 80.0]])
    model = GaussianMixture(2, means_init=means_init, random_state=7, reg_covar=1e-5).fit(frame)
    model.reseeds_ = (gaussmix.core.em.IterationReseed(3, gaussmix.core.mstep.Reseed(1, 88, "lost all its points")),)
    loaded = gaussmix.load(model.save(tmp_path / "faithful.npz"))
    assert list(loaded.feature_names_in_) == ["eruptions", "waiting"]
    assert_bitwise_equal(loaded.means_init, means_init)
    assert (loaded.random_state, loaded.reg_covar) == (7, 1e-5)
    assert loaded.reseeds_ == model.reseeds_
    np.testing.assert_array_equal(loaded.predict(frame), model.predict(frame))


def test_generator_random_state_is_saved_as_none_with_a_note(tmp_path, rng, faithful):
    model = GaussianMixture(2, random_state=rng).fit(faithful)
    path = model.save(tmp_path / "m.npz")
    assert gaussmix.load(path).random_state is None
    assert "Generator" in load_model(path)[1]["notes"][0]


def test_unconverged_zero_iteration_fit_round_trips_its_infinite_bound(tmp_path, faithful):
    model = GaussianMixture(2, max_iter=0, random_state=0).fit(faithful)
    loaded = gaussmix.load(model.save(tmp_path / "m.npz"))
    assert loaded.lower_bound_ == -np.inf and loaded.n_iter_ == 0 and loaded.lower_bounds_ == []


def test_saving_an_unfitted_model_raises_and_writes_nothing(tmp_path):
    with pytest.raises(NotFittedError, match="not fitted"):
        GaussianMixture(2).save(tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []


def test_saving_over_a_file_replaces_it_whole(tmp_path, faithful):
    path = tmp_path / "m.npz"
    GaussianMixture(1).fit(faithful).save(path)
    model = GaussianMixture(3, random_state=0).fit(faithful)
    model.save(path)
    assert gaussmix.load(path).n_components == 3
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


def _rewrite_metadata(src, dst, change) -> None:
    """Copy an .npz model file, editing its JSON metadata with ``change(doc)``."""
    with np.load(src, allow_pickle=False) as npz:
        members = {name: npz[name] for name in npz.files}
    doc = json.loads(members[METADATA_KEY].tobytes())
    change(doc)
    members[METADATA_KEY] = np.frombuffer(json.dumps(doc).encode(), dtype=np.uint8)
    np.savez(dst, **members)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["hyper_parameters"].update(n_components=5), "n_components=5"),
        (lambda d: d["hyper_parameters"].update(covariance_type="diag"), "covariance_type='diag'"),
        (lambda d: d["hyper_parameters"].update(tol=-1.0), "tol"),
        (lambda d: d["hyper_parameters"].update(surprise=1), "unknown hyper-parameter"),
        (lambda d: d["fit_info"].update(reseeds=[["x"]]), "reseeds"),
        (lambda d: d.update(estimator="BayesianGaussianMixture"), "BayesianGaussianMixture"),
    ],
)
def test_tampered_hyper_parameters_raise_model_file_error(tmp_path, faithful, change, message):
    good = GaussianMixture(2, random_state=0).fit(faithful).save(tmp_path / "good.npz")
    bad = tmp_path / "bad.npz"
    _rewrite_metadata(good, bad, change)
    with pytest.raises(ModelFileError, match=message) as info:
        gaussmix.load(bad)
    assert "bad.npz" in str(info.value)


def test_truncated_and_pickled_files_raise_model_file_error_without_running_code(tmp_path, faithful):
    good = GaussianMixture(2, random_state=0).fit(faithful).save(tmp_path / "good.npz")
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ModelFileError, match="truncated.npz"):
        gaussmix.load(truncated)
    marker = tmp_path / "ran"
    pickled = tmp_path / "pickled.npz"
    with np.load(good, allow_pickle=False) as npz:
        members = {name: npz[name] for name in npz.files}
    members["weights"] = np.array([_Trap(str(marker))], dtype=object)
    np.savez(pickled, **members)
    with pytest.raises(ModelFileError, match="pickled"):
        gaussmix.load(pickled)
    assert not marker.exists()


class _Trap:
    """Unpickling this creates a file: proof that code ran on load."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_float32_model_loads_back_float32_to_its_rounding(tmp_path, rng, covariance_type):
    X = blobs(rng, n=300, d=3).astype(np.float32)
    model = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    loaded = gaussmix.load(model.save(tmp_path / "model.npz"))
    for name in FITTED:
        assert getattr(loaded, name).dtype == np.float32, name
        np.testing.assert_allclose(getattr(loaded, name), getattr(model, name), rtol=2e-6, atol=1e-7, err_msg=name)
    np.testing.assert_array_equal(loaded.means_, model.means_)  # means are stored exactly
    assert loaded.score_samples(X).dtype == np.float32
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))


@pytest.mark.parametrize("change", [{"n_components": 4}, {"covariance_type": "diag"}])
def test_save_refuses_what_load_would_refuse_and_writes_nothing(tmp_path, rng, change):
    model = GaussianMixture(3, random_state=0).fit(blobs(rng, n=300, d=2))
    model.set_params(**change)
    with pytest.raises(ModelFileError, match=f"Cannot save model to .*{next(iter(change))}.*Nothing was written"):
        model.save(tmp_path / "model.npz")
    assert list(tmp_path.iterdir()) == []


def test_a_warm_start_that_changed_n_components_saves_and_loads(tmp_path, rng):
    X = blobs(rng, n=300, d=2)
    model = GaussianMixture(3, warm_start=True, random_state=0).fit(X)
    with pytest.warns(UserWarning, match="warm_start ignored.*n_components 3 -> 2"):
        model.set_params(n_components=2).fit(X)
    loaded = gaussmix.load(model.save(tmp_path / "model.npz"))
    assert loaded.means_.shape == (2, 2)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))

"""Model files: bitwise round trips, refusal of damaged or tampered files, no code execution, atomic saves."""

from __future__ import annotations

import datetime
import json
import os
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.mixture import GaussianMixture as SklearnGaussianMixture

import gaussmix
from gaussmix.core.params import COVARIANCE_TYPES, GaussianParams
from gaussmix.datasets import make_mixture
from gaussmix.exceptions import ModelFileError
from gaussmix.io.model_file import METADATA_KEY, PARAM_ARRAYS, load_model, save_model

METADATA = {
    "feature_names": ["eruptions", "waiting", "depth"],
    "hyper_parameters": {"n_components": 3, "tol": 1e-3, "reg_covar": 1e-6, "init_params": "kmeans"},
    "fit_info": {"n_iter": 17, "converged": True, "lower_bound": -2.718281828459045},
}


def _params(covariance_type: str, seed: int = 0) -> GaussianParams:
    return make_mixture(10, n_components=3, n_features=3, covariance_type=covariance_type, random_state=seed)[2]


def _assert_params_identical(a: GaussianParams, b: GaussianParams) -> None:
    assert a.covariance_type == b.covariance_type
    for name in PARAM_ARRAYS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype == np.float64, name
        assert np.array_equal(x, y), f"{name} differs after the round trip"


def _members(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as npz:
        return {name: npz[name] for name in npz.files}


def _document(members: dict[str, np.ndarray]) -> dict:
    return json.loads(members[METADATA_KEY].tobytes().decode("utf-8"))


def _with_document(members: dict[str, np.ndarray], document: dict) -> dict[str, np.ndarray]:
    raw = json.dumps(document).encode("utf-8")
    return {**members, METADATA_KEY: np.frombuffer(raw, dtype=np.uint8)}


@pytest.fixture
def saved(tmp_path: Path) -> Path:
    return save_model(tmp_path / "model.npz", _params("full"), METADATA, {"lower_bounds": np.linspace(-5, -2, 17)})


# --- round trips ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_round_trip_is_bitwise_exact_with_metadata_and_extra_arrays(tmp_path, covariance_type):
    params = _params(covariance_type)
    extra = {"lower_bounds": np.linspace(-5.0, -2.0, 17) / 3.0, "reseed_rows": np.array([4, 88], dtype=np.int64)}
    written = save_model(tmp_path / "m.npz", params, METADATA, extra)

    loaded, metadata, arrays = load_model(written)

    _assert_params_identical(params, loaded)
    assert {key: metadata[key] for key in METADATA} == METADATA
    assert (metadata["covariance_type"], metadata["n_components"], metadata["n_features"]) == (covariance_type, 3, 3)
    assert arrays.keys() == extra.keys()
    for name, value in extra.items():
        assert arrays[name].dtype == value.dtype and np.array_equal(arrays[name], value)


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
def test_parameters_fitted_by_scikit_learn_round_trip_exactly(tmp_path, covariance_type):
    X, _, _ = make_mixture(300, n_components=2, n_features=3, random_state=1)
    sk = SklearnGaussianMixture(2, covariance_type=covariance_type, random_state=0).fit(X)
    params = GaussianParams(sk.weights_, sk.means_, sk.covariances_, sk.precisions_cholesky_, covariance_type)

    loaded, _, _ = load_model(save_model(tmp_path / "sk.npz", params, {}))

    _assert_params_identical(params, loaded)
    np.testing.assert_allclose(loaded.precisions, sk.precisions_, rtol=1e-12)


def test_metadata_records_format_library_version_and_utc_creation_time(saved):
    _, metadata, _ = load_model(saved)

    assert metadata["format"] == "gaussmix-model" and metadata["format_version"] == 1
    assert metadata["library_version"] == gaussmix.__version__
    created = datetime.datetime.fromisoformat(metadata["created"])
    assert created.utcoffset() == datetime.timedelta(0)
    assert abs(datetime.datetime.now(datetime.timezone.utc) - created) < datetime.timedelta(minutes=5)


def test_file_is_a_plain_npz_of_the_documented_members(saved):
    members = _members(saved)

    assert set(members) == {*PARAM_ARRAYS, METADATA_KEY, "lower_bounds"}
    assert members[METADATA_KEY].dtype == np.uint8 and members[METADATA_KEY].ndim == 1
    assert _document(members)["fit_info"] == METADATA["fit_info"]


def test_save_writes_exactly_the_given_path_without_adding_a_suffix(tmp_path):
    written = save_model(tmp_path / "model.gmm", _params("diag"), {})

    assert written == tmp_path / "model.gmm"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.gmm"]


def test_tuples_and_numpy_scalars_in_metadata_are_stored_as_json(tmp_path):
    metadata = {"feature_names": ("a", "b", "c"), "hyper_parameters": {"tol": np.float64(0.5), "k": np.int64(3)}}

    _, loaded, _ = load_model(save_model(tmp_path / "m.npz", _params("tied"), metadata))

    assert loaded["feature_names"] == ["a", "b", "c"]
    assert loaded["hyper_parameters"] == {"tol": 0.5, "k": 3} and type(loaded["hyper_parameters"]["k"]) is int


# --- damaged files ---------------------------------------------------------------------------------------------


def test_missing_file_is_a_model_file_error(tmp_path):
    with pytest.raises(ModelFileError, match="No model file at .*nothing.npz"):
        load_model(tmp_path / "nothing.npz")


@pytest.mark.parametrize("content", [b"", b"weights,means\n1,2\n", pickle.dumps({"weights": [1.0]})])
def test_file_that_is_not_a_zip_archive_is_refused(tmp_path, content):
    path = tmp_path / "model.npz"
    path.write_bytes(content)

    with pytest.raises(ModelFileError, match="model.npz.*not an .npz"):
        load_model(path)


def test_plain_npy_file_is_refused(tmp_path):
    path = tmp_path / "model.npz"
    with open(path, "wb") as f:
        np.save(f, np.ones(3))

    with pytest.raises(ModelFileError, match="not an .npz"):
        load_model(path)


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 0.99])
def test_truncated_file_is_refused(saved, keep):
    data = saved.read_bytes()
    saved.write_bytes(data[: int(len(data) * keep)])

    with pytest.raises(ModelFileError, match="model.npz"):
        load_model(saved)


@pytest.mark.parametrize("cut", [1, 22, 23])
def test_file_missing_its_last_bytes_is_refused(saved, cut):
    saved.write_bytes(saved.read_bytes()[:-cut])

    with pytest.raises(ModelFileError, match="truncated or corrupted"):
        load_model(saved)


def test_flipped_byte_inside_an_array_is_refused(saved):
    data = bytearray(saved.read_bytes())
    at = data.index(np.linspace(-5, -2, 17).tobytes())  # the lower_bounds data, stored uncompressed
    data[at + 40] ^= 0x01
    saved.write_bytes(bytes(data))

    with pytest.raises(ModelFileError, match="corrupted"):
        load_model(saved)


def test_any_single_flipped_byte_is_refused_or_leaves_the_model_unchanged(tmp_path):
    params = make_mixture(10, n_components=2, n_features=2, random_state=3)[2]
    path = save_model(tmp_path / "m.npz", params, {})
    original = path.read_bytes()
    refused = 0
    for at in range(len(original)):
        data = bytearray(original)
        data[at] ^= 0xFF
        path.write_bytes(bytes(data))
        try:
            loaded, _, _ = load_model(path)
        except ModelFileError:
            refused += 1
        else:  # the byte was one zip ignores (timestamps, attributes): the model must be exactly the same
            _assert_params_identical(params, loaded)
    assert refused > 0.8 * len(original)


# --- tampered files: valid zip archives with invalid content -----------------------------------------------------


def _scale_weights(m):
    return {**m, "weights": m["weights"] * 1.1}


def _negative_weight(m):
    w = m["weights"].copy()
    w[0], w[1] = -w[0], w[1] + 2 * w[0]
    return {**m, "weights": w}


def _drop_mean_column(m):
    return {**m, "means": m["means"][:, :2]}


def _not_positive_definite(m):
    cov = m["covariances"].copy()
    vals, vecs = np.linalg.eigh(cov[1])
    cov[1] = (vecs * np.array([-vals[0], *vals[1:]])) @ vecs.T
    cov[1] = 0.5 * (cov[1] + cov[1].T)
    return {**m, "covariances": cov}


def _asymmetric(m):
    cov = m["covariances"].copy()
    cov[2, 0, 1] += 0.1
    return {**m, "covariances": cov}


def _nan_mean(m):
    means = m["means"].copy()
    means[1, 2] = np.nan
    return {**m, "means": means}


def _float32_covariances(m):
    return {**m, "covariances": m["covariances"].astype(np.float32)}


def _scaled_precisions(m):
    return {**m, "precisions_cholesky": m["precisions_cholesky"] * 1.001}


def _lower_triangular_precisions(m):
    return {**m, "precisions_cholesky": np.swapaxes(m["precisions_cholesky"], 1, 2).copy()}


def _missing_covariances(m):
    return {k: v for k, v in m.items() if k != "covariances"}


def _missing_metadata(m):
    return {k: v for k, v in m.items() if k != METADATA_KEY}


def _document_change(**changes):
    return lambda m: _with_document(m, {**_document(m), **changes})


def _bytes_metadata(raw: bytes):
    return lambda m: {**m, METADATA_KEY: np.frombuffer(raw, dtype=np.uint8)}


TAMPERINGS = {
    "weights not summing to 1": (_scale_weights, "sum to"),
    "negative weight": (_negative_weight, r"weights\[0\] is negative"),
    "wrong shape": (_drop_mean_column, r"'means' has shape \(3, 2\)"),
    "non-PD covariance": (_not_positive_definite, "covariance of component 1 is not positive definite"),
    "asymmetric covariance": (_asymmetric, "covariance of component 2 is not symmetric"),
    "NaN": (_nan_mean, r"'means' holds a non-finite value at index \(1, 2\)"),
    "float32": (_float32_covariances, "'covariances' has dtype float32"),
    "precisions disagree": (_scaled_precisions, "precisions_cholesky of component 0 disagrees"),
    "precisions lower triangular": (_lower_triangular_precisions, "not upper triangular"),
    "missing array": (_missing_covariances, "'covariances' is missing"),
    "missing metadata": (_missing_metadata, "'metadata.json' entry is missing"),
    "other format": (_document_change(format="someone-else"), "not a gaussmix model file"),
    "newer version": (_document_change(format_version=2), "format_version 2, newer .* upgrade gaussmix"),
    "version as string": (_document_change(format_version="1"), "format_version must be a positive integer"),
    "wrong covariance type": (_document_change(covariance_type="diag"), r"'covariances' has shape \(3, 3, 3\)"),
    "unknown covariance type": (_document_change(covariance_type="ful"), "covariance_type must be one of"),
    "wrong n_components": (_document_change(n_components=4), r"'weights' has shape \(3,\)"),
    "feature_names length": (_document_change(feature_names=["a"]), "feature_names must be null or a list of 3"),
    "fit_info not a dict": (_document_change(fit_info=[1]), "fit_info must be a JSON object"),
    "bad JSON": (_bytes_metadata(b'{"format": "gaussmix-model",'), "not valid JSON"),
    "NaN in JSON": (_bytes_metadata(b'{"format": NaN}'), "not valid JSON"),
    "not UTF-8": (_bytes_metadata(b"\xff\xfe{}"), "not valid JSON"),
    "JSON list": (_bytes_metadata(b"[1, 2]"), "must hold a JSON object"),
}


@pytest.mark.parametrize("tamper", TAMPERINGS.values(), ids=TAMPERINGS.keys())
def test_tampered_file_is_refused_with_a_message_naming_file_and_problem(saved, tamper):
    change, message = tamper
    np.savez(saved, **change(_members(saved)))

    with pytest.raises(ModelFileError, match=f"model file '.*model.npz': .*{message}"):
        load_model(saved)


@pytest.mark.parametrize("covariance_type", ["diag", "spherical"])
def test_non_positive_variance_is_refused(tmp_path, covariance_type):
    path = save_model(tmp_path / "m.npz", _params(covariance_type), {})
    members = _members(path)
    variances = members["covariances"].copy()
    variances[1] *= -1
    np.savez(path, **{**members, "covariances": variances})

    with pytest.raises(ModelFileError, match=f"{covariance_type} covariance of component 1 is not positive"):
        load_model(path)


def test_tied_precisions_that_disagree_are_refused(tmp_path):
    path = save_model(tmp_path / "m.npz", _params("tied"), {})
    members = _members(path)
    np.savez(path, **{**members, "precisions_cholesky": members["precisions_cholesky"] * 0.99})

    with pytest.raises(ModelFileError, match="tied precisions_cholesky disagrees with the tied covariance"):
        load_model(path)


class _CreatesMarker:
    """Unpickling this runs ``Path(marker).touch()``: what a malicious model file would do."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def _pickle_bearing(tmp_path: Path, member: str, marker: Path) -> Path:
    members = _members(save_model(tmp_path / f"{member}.npz", _params("full"), {}))
    members[member] = np.array([_CreatesMarker(str(marker))], dtype=object)
    np.savez(tmp_path / f"{member}.npz", allow_pickle=True, **members)
    return tmp_path / f"{member}.npz"


@pytest.mark.parametrize("member", ["weights", METADATA_KEY, "payload"])
def test_pickled_object_array_is_refused_without_running_it(tmp_path, member):
    marker = tmp_path / "pwned"
    path = _pickle_bearing(tmp_path, member, marker)

    with pytest.raises(ModelFileError, match=f"'{member}' holds pickled Python objects"):
        load_model(path)
    assert not marker.exists()

    # Control: the payload really runs when unpickled, so the assertion above could have failed.
    with np.load(path, allow_pickle=True) as npz:
        npz[member]
    assert marker.exists()


def test_whole_file_pickle_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "model.npz"
    path.write_bytes(pickle.dumps(_CreatesMarker(str(marker))))

    with pytest.raises(ModelFileError, match="not an .npz"):
        load_model(path)
    assert not marker.exists()


# --- atomic saves ------------------------------------------------------------------------------------------------


def _fail_midway(exc: BaseException):
    real_savez = np.savez

    def savez(file, *args, **kwargs):
        real_savez(file, *args, **kwargs)
        file.seek(file.tell() // 2)
        file.truncate()
        raise exc

    return savez


@pytest.mark.parametrize("exc", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_failed_save_leaves_the_previous_file_intact_and_no_temporary_files(saved, monkeypatch, exc):
    before = saved.read_bytes()
    monkeypatch.setattr(np, "savez", _fail_midway(exc))

    with pytest.raises(type(exc)):
        save_model(saved, _params("spherical"), {})

    assert saved.read_bytes() == before
    assert [p.name for p in saved.parent.iterdir()] == ["model.npz"]
    load_model(saved)


def test_failed_rename_leaves_the_previous_file_intact_and_no_temporary_files(saved, monkeypatch):
    before = saved.read_bytes()

    def replace(src, dst):
        raise PermissionError(13, "Permission denied", str(dst))

    monkeypatch.setattr(os, "replace", replace)

    with pytest.raises(PermissionError):
        save_model(saved, _params("diag"), {})

    assert saved.read_bytes() == before
    assert [p.name for p in saved.parent.iterdir()] == ["model.npz"]


def test_failed_save_to_a_new_path_creates_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(np, "savez", _fail_midway(OSError(5, "Input/output error")))

    with pytest.raises(OSError):
        save_model(tmp_path / "new.npz", _params("full"), {})

    assert list(tmp_path.iterdir()) == []


def test_save_replaces_an_existing_model(saved):
    params = _params("tied", seed=7)

    loaded, _, arrays = load_model(save_model(saved, params, {}))

    _assert_params_identical(params, loaded)
    assert arrays == {}


# --- what save_model refuses -------------------------------------------------------------------------------------


def _bad_weights(params: GaussianParams) -> GaussianParams:
    return GaussianParams(params.weights * 2, params.means, params.covariances, params.precisions_cholesky,
                          params.covariance_type)


REFUSED_SAVES = {
    "weights not summing to 1": (dict(params=_bad_weights(_params("full"))), "weights sum to"),
    "reserved array name": (dict(arrays={"weights": np.ones(2)}), "'weights' is reserved"),
    "savez keyword as name": (dict(arrays={"allow_pickle": np.ones(2)}), "'allow_pickle' is reserved"),
    "array name with a slash": (dict(arrays={"../x": np.ones(2)}), "not an identifier"),
    "object array": (dict(arrays={"extra": np.array([{}], dtype=object)}), "'extra' has dtype object"),
    "format key": (dict(metadata={"format_version": 2}), r"metadata\['format_version'\] is written by save_model"),
    "mismatched covariance type": (dict(metadata={"covariance_type": "diag"}), "but the parameters have 'full'"),
    "infinite lower bound": (dict(metadata={"fit_info": {"lower_bound": -np.inf}}),
                             r"metadata\['fit_info'\]\['lower_bound'\] is -inf"),
    "feature_names count": (dict(metadata={"feature_names": ["a", "b"]}), "list of 3 strings"),
    "n_iter negative": (dict(metadata={"fit_info": {"n_iter": -1}}), r"fit_info\['n_iter'\] has an invalid value"),
    "unserialisable value": (dict(metadata={"hyper_parameters": {"init": object()}}), "JSON cannot hold"),
}


@pytest.mark.parametrize("case", REFUSED_SAVES.values(), ids=REFUSED_SAVES.keys())
def test_invalid_save_raises_value_error_and_writes_nothing(tmp_path, case):
    overrides, message = case
    kwargs = {"params": _params("full"), "metadata": {}, "arrays": None, **overrides}

    with pytest.raises(ValueError, match=message):
        save_model(tmp_path / "m.npz", **kwargs)

    assert list(tmp_path.iterdir()) == []


def test_member_the_format_does_not_define_is_refused(saved):
    with zipfile.ZipFile(saved, "a") as archive:
        archive.writestr("notes.txt", "not an array")

    with pytest.raises(ModelFileError, match="member 'notes.txt' is not part of the model-file format"):
        load_model(saved)


def test_big_endian_parameters_are_refused(saved):
    members = _members(saved)
    np.savez(saved, **{**members, "means": members["means"].astype(">f8")})

    with pytest.raises(ModelFileError, match="'means' has dtype >f8; expected float64"):
        load_model(saved)


def test_empty_zip_archive_is_refused(tmp_path):
    path = tmp_path / "empty.npz"
    np.savez(path)

    with pytest.raises(ModelFileError, match="'metadata.json' entry is missing"):
        load_model(path)

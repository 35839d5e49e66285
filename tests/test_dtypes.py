"""Dtypes as scikit-learn 1.9 has them: float32 data gives float32 fitted parameters and row-wise outputs (in
memory and streamed from a file), float64 and integer data give float64; scalars are Python floats; statistics
accumulate in float64, so a float32 fit lands where a float64 fit does."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.mixture import GaussianMixture as SklearnGM

from gaussmix import GaussianMixture
from gaussmix.core.params import COVARIANCE_TYPES

FITTED_ARRAYS = ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_")


def two_blobs(rng: np.random.Generator, dtype=np.float64, n: int = 300, d: int = 3) -> np.ndarray:
    X = rng.normal(size=(n, d))
    X[: n // 2] += 8.0
    return X.astype(dtype)


def fit_quietly(estimator, X):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence at max_iter is beside the point here
        return estimator.fit(X)


def fitted_dtypes(model) -> dict[str, np.dtype]:
    return {name: np.asarray(getattr(model, name)).dtype for name in FITTED_ARRAYS}


def output_dtypes(model, X) -> dict[str, np.dtype]:
    return {"score_samples": np.asarray(model.score_samples(X)).dtype,
            "predict_proba": np.asarray(model.predict_proba(X)).dtype}


def same_init(rng: np.random.Generator, X: np.ndarray, kind: str, k: int = 2) -> dict[str, np.ndarray]:
    """Initial parameters of the right shapes for ``kind``, in float64, near the data."""
    d = X.shape[1]
    means = X[rng.choice(X.shape[0], k, replace=False)].astype(np.float64)
    precisions = {"full": np.stack([np.eye(d)] * k), "tied": np.eye(d), "diag": np.ones((k, d)),
                  "spherical": np.ones(k)}[kind]
    return {"weights_init": np.full(k, 1.0 / k), "means_init": means, "precisions_init": precisions}


@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_float32_data_gives_float32_fitted_parameters_like_sklearn(rng, kind):
    X = two_blobs(rng, np.float32)
    ours = fit_quietly(GaussianMixture(2, covariance_type=kind, max_iter=20, random_state=0), X)
    theirs = fit_quietly(SklearnGM(2, covariance_type=kind, max_iter=20, random_state=0), X)
    float32 = dict.fromkeys(FITTED_ARRAYS, np.dtype(np.float32))
    assert fitted_dtypes(theirs) == float32  # the parity being claimed
    assert fitted_dtypes(ours) == float32


@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_float32_data_gives_float32_outputs_like_sklearn(rng, kind):
    X = two_blobs(rng, np.float32)
    ours = fit_quietly(GaussianMixture(2, covariance_type=kind, max_iter=20, random_state=0), X)
    theirs = fit_quietly(SklearnGM(2, covariance_type=kind, max_iter=20, random_state=0), X)
    float32 = {"score_samples": np.dtype(np.float32), "predict_proba": np.dtype(np.float32)}
    assert output_dtypes(theirs, X) == float32
    assert output_dtypes(ours, X) == float32
    assert np.issubdtype(np.asarray(ours.predict(X)).dtype, np.integer)


@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_sample_of_a_float32_fit_is_float32_rows_and_integer_labels(rng, kind):
    # scikit-learn 1.9's sample() returns float64 rows whatever the fit's dtype (its _max_precision_float_dtype);
    # gaussmix follows the data's dtype here as for every other output: a documented difference.
    X = two_blobs(rng, np.float32)
    ours = fit_quietly(GaussianMixture(2, covariance_type=kind, max_iter=20, random_state=0), X)
    rows, labels = ours.sample(50)
    assert np.asarray(rows).dtype == np.float32
    assert np.asarray(rows).shape == (50, X.shape[1])
    assert np.issubdtype(np.asarray(labels).dtype, np.integer)


@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_float32_npy_file_streams_to_float32_parameters_and_outputs(rng, tmp_path, kind):
    X = two_blobs(rng, np.float32)
    path = tmp_path / "X.npy"
    np.save(path, X)
    gm = fit_quietly(GaussianMixture(2, covariance_type=kind, max_iter=20, random_state=0, chunk_rows=64),
                     str(path))
    assert fitted_dtypes(gm) == dict.fromkeys(FITTED_ARRAYS, np.dtype(np.float32))
    assert output_dtypes(gm, str(path)) == {"score_samples": np.dtype(np.float32),
                                            "predict_proba": np.dtype(np.float32)}
    assert np.asarray(gm.predict_proba(str(path))).shape == (X.shape[0], 2)
    assert isinstance(gm.lower_bound_, (float, np.floating))


@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_float64_data_gives_float64_everywhere(rng, kind):
    X = two_blobs(rng, np.float64)
    gm = fit_quietly(GaussianMixture(2, covariance_type=kind, max_iter=20, random_state=0), X)
    assert fitted_dtypes(gm) == dict.fromkeys(FITTED_ARRAYS, np.dtype(np.float64))
    assert output_dtypes(gm, X) == {"score_samples": np.dtype(np.float64), "predict_proba": np.dtype(np.float64)}
    assert np.asarray(gm.sample(5)[0]).dtype == np.float64


@pytest.mark.parametrize("int_dtype", [np.int32, np.int64])
@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_integer_data_gives_float64_like_sklearn(rng, kind, int_dtype):
    X = np.round(two_blobs(rng, np.float64) * 3).astype(int_dtype)
    ours = fit_quietly(GaussianMixture(2, covariance_type=kind, max_iter=20, random_state=0), X)
    theirs = fit_quietly(SklearnGM(2, covariance_type=kind, max_iter=20, random_state=0), X)
    float64 = dict.fromkeys(FITTED_ARRAYS, np.dtype(np.float64))
    assert fitted_dtypes(theirs) == float64
    assert fitted_dtypes(ours) == float64
    assert output_dtypes(ours, X) == {"score_samples": np.dtype(np.float64), "predict_proba": np.dtype(np.float64)}
    assert np.asarray(ours.sample(5)[0]).dtype == np.float64


def test_lower_bound_is_a_scalar_float(rng, dtype):
    gm = fit_quietly(GaussianMixture(2, max_iter=20, random_state=0), two_blobs(rng, dtype))
    assert isinstance(gm.lower_bound_, (float, np.floating))
    assert np.ndim(gm.lower_bound_) == 0
    assert np.isfinite(gm.lower_bound_)


def test_bic_aic_and_score_are_python_floats_like_sklearn(rng, dtype):
    X = two_blobs(rng, dtype)
    ours = fit_quietly(GaussianMixture(2, max_iter=20, random_state=0), X)
    theirs = fit_quietly(SklearnGM(2, max_iter=20, random_state=0), X)
    for name in ("bic", "aic", "score"):
        assert type(getattr(theirs, name)(X)) is float, name
        assert type(getattr(ours, name)(X)) is float, name


@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_float32_and_float64_fits_from_the_same_init_agree_to_1e_4(rng, kind):
    X64 = two_blobs(rng, np.float64)
    init = same_init(rng, X64, kind)
    common = dict(n_components=2, covariance_type=kind, tol=0.0, max_iter=20, **init)
    fit32 = fit_quietly(GaussianMixture(**common), X64.astype(np.float32))
    fit64 = fit_quietly(GaussianMixture(**common), X64)
    scale = float(np.abs(X64).max())
    np.testing.assert_allclose(fit32.means_, fit64.means_, rtol=1e-4, atol=1e-4 * scale)
    np.testing.assert_allclose(fit32.weights_, fit64.weights_, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(fit32.covariances_, fit64.covariances_, rtol=1e-3, atol=1e-5)
    assert fit32.lower_bound_ == pytest.approx(fit64.lower_bound_, rel=1e-4)

"""Precision Cholesky factors by LAPACK without the GIL, against NumPy's Cholesky and inverse."""

from __future__ import annotations

import numpy as np
import pytest

from gaussmix.core import lapack
from gaussmix.core.namespace import BATCHED_MAX_SIZE
from gaussmix.core.params import NotPositiveDefiniteError, precisions_cholesky_from_covariances


def spd_stack(rng, k, d):
    a = rng.normal(size=(k, d + 10, d))
    return np.einsum("kni,knj->kij", a, a) / d


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_precision_factors_are_the_inverse_cholesky_transposed(rng, dtype):
    covariances = spd_stack(rng, 3, 40).astype(dtype)
    assert lapack.available(dtype)
    p, failed = lapack.precisions_cholesky(covariances)
    expected = np.stack([np.linalg.inv(np.linalg.cholesky(c.astype(np.float64))).T for c in covariances])
    assert failed == () and p.dtype == dtype
    tolerance = (1e-12 if dtype == np.float64 else 1e-4) * np.abs(expected).max()
    np.testing.assert_allclose(p, expected, rtol=0, atol=tolerance)
    assert np.all(np.tril(p, -1) == 0.0)  # upper triangular, exactly


def test_the_input_stack_is_not_changed(rng):
    covariances = spd_stack(rng, 2, 30)
    before = covariances.copy()
    lapack.precisions_cholesky(covariances)
    np.testing.assert_array_equal(covariances, before)


def test_components_that_are_not_positive_definite_are_named_and_nan(rng):
    covariances = spd_stack(rng, 4, 30)
    covariances[1, 7, 7] = -5.0
    covariances[3, 2, 9] = covariances[3, 9, 2] = np.nan
    p, failed = lapack.precisions_cholesky(covariances)
    assert failed == (1, 3)
    assert np.all(np.isnan(p[[1, 3]])) and np.all(np.isfinite(p[[0, 2]]))


def test_large_models_take_this_path_through_the_params(rng, monkeypatch):
    d = BATCHED_MAX_SIZE + 1
    covariances = spd_stack(rng, 2, d)
    calls = []
    real = lapack.precisions_cholesky
    monkeypatch.setattr(lapack, "precisions_cholesky", lambda c: calls.append(c.shape) or real(c))
    p = precisions_cholesky_from_covariances(covariances, "full")
    tied = precisions_cholesky_from_covariances(covariances[0], "tied")
    assert calls == [(2, d, d), (1, d, d)]
    np.testing.assert_allclose(p[0] @ p[0].T @ covariances[0], np.eye(d), atol=1e-9)
    np.testing.assert_allclose(tied, p[0], rtol=1e-12, atol=1e-12)  # one matrix: BLAS may use its threads
    covariances[1, 0, 0] = -1.0
    with pytest.raises(NotPositiveDefiniteError, match="component.*1 is not positive definite"):
        precisions_cholesky_from_covariances(covariances, "full")


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("n", "d"), [(1, 1), (7, 5), (130, 67)])
def test_trmm_multiplies_rows_by_an_upper_triangle_in_place(rng, dtype, n, d):
    """Only the upper triangle is read: whatever lies below the diagonal is ignored, as TRMM's contract says."""
    rows = rng.normal(size=(n, d)).astype(dtype)
    upper = np.triu(rng.normal(size=(d, d))).astype(dtype)
    expected = rows.astype(np.float64) @ upper.astype(np.float64)
    tolerance = (1e-12 if dtype == np.float64 else 1e-5) * max(1.0, np.abs(expected).max())
    assert lapack.can_multiply_by_upper(dtype)
    junk_below = upper + np.tril(np.full((d, d), 7.0, dtype), -1)
    padded = np.zeros((d, d + 3), dtype)
    padded[:, :d] = upper  # a strided view: copied
    for given in (upper, np.asfortranarray(upper), junk_below, np.asfortranarray(junk_below), padded[:, :d]):
        out = rows.copy()
        assert lapack.multiply_by_upper(out, given) is out
        np.testing.assert_allclose(out, expected, rtol=0, atol=tolerance)


def test_trmm_on_two_threads_gives_the_same_rows(rng):
    from concurrent.futures import ThreadPoolExecutor

    upper = np.triu(rng.normal(size=(200, 200)))
    blocks = [rng.normal(size=(300, 200)) for _ in range(4)]
    expected = [b @ upper for b in blocks]
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda b: lapack.multiply_by_upper(b.copy(), upper), blocks))
    for got, want in zip(results, expected):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12 * np.abs(want).max())


def test_trmm_refuses_rows_it_cannot_multiply_in_place(rng):
    upper = np.triu(rng.normal(size=(4, 4)))
    with pytest.raises(ValueError, match="C-ordered"):
        lapack.multiply_by_upper(np.asfortranarray(rng.normal(size=(5, 4))), upper)
    with pytest.raises(ValueError, match="same dtype"):
        lapack.multiply_by_upper(rng.normal(size=(5, 4)).astype(np.float32), upper)
    with pytest.raises(ValueError, match="upper triangle"):
        lapack.multiply_by_upper(rng.normal(size=(5, 3)), upper)
    read_only = rng.normal(size=(5, 4))
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        lapack.multiply_by_upper(read_only, upper)
    assert not lapack.can_multiply_by_upper(np.dtype(np.int64))

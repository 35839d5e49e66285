"""The NumPy linear-algebra fast paths of ``core.namespace`` against NumPy's own, on both sides of their size cut."""

from __future__ import annotations

import numpy as np
import pytest

from gaussmix.core.namespace import BATCHED_MAX_SIZE, cholesky_lower, inverse_lower_triangular
from gaussmix.core.params import NotPositiveDefiniteError, precisions_cholesky_from_covariances


def spd_stack(rng: np.random.Generator, k: int, d: int, dtype: type = np.float64) -> np.ndarray:
    a = rng.normal(size=(k, d, d)) / np.sqrt(d)
    return (a @ np.transpose(a, (0, 2, 1)) + np.eye(d)).astype(dtype)


@pytest.mark.parametrize("d", [5, BATCHED_MAX_SIZE + 7])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cholesky_and_triangular_inverse_match_numpy(rng, d, dtype):
    cov = spd_stack(rng, 3, d, dtype)
    before = cov.copy()
    lower = cholesky_lower(cov)
    rtol = 1e-12 if dtype == np.float64 else 1e-4
    np.testing.assert_allclose(lower, np.linalg.cholesky(cov), rtol=rtol, atol=rtol)
    assert not np.any(np.triu(lower, 1)) and lower.dtype == dtype
    inverse = inverse_lower_triangular(np, lower)
    np.testing.assert_allclose(inverse @ lower, np.broadcast_to(np.eye(d), cov.shape), atol=100 * rtol)
    assert not np.any(np.triu(inverse, 1))
    np.testing.assert_array_equal(cov, before)  # the inputs are left alone
    np.testing.assert_allclose(cholesky_lower(cov[1]), lower[1], rtol=rtol, atol=rtol)  # one matrix, unstacked


@pytest.mark.parametrize("d", [5, BATCHED_MAX_SIZE + 7])
def test_a_matrix_that_is_not_positive_definite_is_named(rng, d):
    cov = spd_stack(rng, 3, d)
    cov[2] -= 3 * np.eye(d)
    assert np.all(np.isnan(cholesky_lower(cov)[2]))
    with pytest.raises(NotPositiveDefiniteError) as excinfo:
        precisions_cholesky_from_covariances(cov, "full")
    assert excinfo.value.components == (2,)

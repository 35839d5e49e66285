"""GaussianParams' shape table: the one definition of the covariance shapes per covariance type."""

from __future__ import annotations

import pytest

from gaussmix.core import COVARIANCE_TYPES, SufficientStats, covariance_shape
from strategies import random_params


@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_covariance_shape_is_the_shape_of_the_covariances_precisions_and_second_moments(rng, kind):
    params = random_params(rng, 3, 2, kind)
    expected = covariance_shape(kind, 3, 2)
    assert params.covariances.shape == expected
    assert params.precisions_cholesky.shape == expected
    assert SufficientStats.zeros(3, 2, kind, params.means).second.shape == expected


def test_covariance_shape_rejects_an_unknown_type():
    with pytest.raises(KeyError):
        covariance_shape("ful", 3, 2)


@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_full_covariances_are_the_inverse_of_the_precisions_for_every_type(rng, kind):
    import numpy as np

    params = random_params(rng, 3, 4, kind)
    full = params.full_covariances
    assert full.shape == (3, 4, 4)
    chol = params.precisions_cholesky
    for k in range(3):
        if kind == "full":
            prec = chol[k] @ chol[k].T
        elif kind == "tied":
            prec = chol @ chol.T
        elif kind == "diag":
            prec = np.diag(chol[k] ** 2)
        else:
            prec = np.eye(4) * chol[k] ** 2
        np.testing.assert_allclose(full[k] @ prec, np.eye(4), atol=1e-10)

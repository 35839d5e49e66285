"""Issue 11 end to end: a finite row too far to represent scores -inf (as scikit-learn), never NaN; data that
overflows when squared fails with a message that says so."""

from __future__ import annotations

import numpy as np
import pytest

from gaussmix import GaussianMixture


@pytest.mark.parametrize("kind", ["full", "tied", "diag", "spherical"])
def test_score_and_bic_with_one_row_too_far_to_represent_are_infinite_not_nan(rng, tmp_path, kind):
    X = rng.normal(size=(300, 2))
    gm = GaussianMixture(2, covariance_type=kind, random_state=0).fit(X)
    X[5] = [1e200, -1e180]
    np.savetxt(tmp_path / "x.csv", X, delimiter=",", header="a,b", comments="")
    assert gm.score(X) == -np.inf and gm.score(tmp_path / "x.csv") == -np.inf
    assert gm.bic(X) == np.inf
    assert gm.score_samples(X)[5] == -np.inf
    np.testing.assert_allclose(gm.predict_proba(X)[5], [0.5, 0.5])


def test_fitting_data_that_overflows_when_squared_says_to_rescale(rng):
    with pytest.raises(ValueError, match="overflow when squared.*Rescale the data"):
        GaussianMixture(2, random_state=0).fit(rng.normal(size=(300, 2)) * 1e200)

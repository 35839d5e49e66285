"""partial_fit: online EM in the statistics form reaches batch EM's fit in one pass, for every model."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from conftest import blobs
from gaussmix import GaussianMixture

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical", "VEV", "EII")


def stream(rng, n_batches: int, batch_rows: int, d: int = 3, k: int = 3) -> tuple[list[np.ndarray], np.ndarray]:
    """Batches and held-out rows from one stationary mixture."""
    X = blobs(rng, n=(n_batches + 2) * batch_rows, d=d, k=k)
    batches = [X[i * batch_rows:(i + 1) * batch_rows] for i in range(n_batches)]
    return batches, X[n_batches * batch_rows:]


@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_one_pass_in_batches_of_1000_is_within_1_percent_of_batch_em_on_held_out_rows(rng, kind):
    batches, held_out = stream(rng, 20, 1000)
    online = GaussianMixture(3, covariance_type=kind, random_state=0)
    for batch in batches:
        online.partial_fit(batch)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        batch_em = GaussianMixture(3, covariance_type=kind, random_state=0).fit(np.concatenate(batches))
    assert online.n_iter_ == 20 and len(online.lower_bounds_) == 20
    assert online.score(held_out) == pytest.approx(batch_em.score(held_out), rel=0.01)


def test_integer_weights_in_a_batch_equal_duplicated_rows(rng):
    batches, _ = stream(rng, 3, 200)
    counts = [rng.integers(0, 3, len(b)) for b in batches]
    kw = dict(n_components=3, covariance_type="diag", means_init=batches[0][:3], random_state=0)
    weighted, duplicated = GaussianMixture(**kw), GaussianMixture(**kw)
    for batch, c in zip(batches, counts):
        weighted.partial_fit(batch, sample_weight=c)
        duplicated.partial_fit(np.repeat(batch, c, axis=0))
    np.testing.assert_allclose(weighted.means_, duplicated.means_, rtol=1e-10)
    np.testing.assert_allclose(weighted.covariances_, duplicated.covariances_, rtol=1e-10)


def test_decay_one_offset_one_makes_the_first_batch_a_plain_m_step_and_the_rest_an_average(rng):
    batches, _ = stream(rng, 2, 300)
    gm = GaussianMixture(3, learning_decay=1.0, learning_offset=1.0, random_state=0)
    gm.partial_fit(batches[0])
    first = GaussianMixture(3, random_state=0, max_iter=1, tol=0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        first.fit(batches[0])
    np.testing.assert_allclose(gm.means_, first.means_, rtol=1e-12)  # γ_0 = 1: one M-step on the first batch


def test_partial_fit_continues_a_fit_and_fit_ends_an_online_run(rng):
    batches, held_out = stream(rng, 3, 500)
    gm = GaussianMixture(3, random_state=0).fit(batches[0])
    before = gm.score(held_out)
    gm.partial_fit(batches[1])
    assert gm.n_iter_ == 1 and gm.score(held_out) == pytest.approx(before, rel=0.05)
    gm.fit(batches[2])
    assert gm._online is None


def test_a_batch_with_another_column_count_is_refused_without_changing_the_model(rng):
    batches, _ = stream(rng, 1, 300)
    gm = GaussianMixture(3, random_state=0).partial_fit(batches[0])
    means = gm.means_.copy()
    with pytest.raises(ValueError, match="X has 2 features, but GaussianMixture is expecting 3"):
        gm.partial_fit(batches[0][:, :2])
    np.testing.assert_array_equal(gm.means_, means)


@pytest.mark.parametrize("decay", [0.5, 1.01, "fast"])
def test_learning_decay_must_lie_in_half_open_half_to_one(decay):
    with pytest.raises(ValueError, match="'learning_decay' parameter of GaussianMixture must be a real number in"):
        GaussianMixture(2, learning_decay=decay).partial_fit(np.zeros((10, 2)) + np.arange(10)[:, None])

"""Online EM's statistics: moving them to another centre is exact, and κ = 1, t0 = 1 gives the plain average."""

from __future__ import annotations

import numpy as np
import pytest

from gaussmix.core.estep import resp_stats
from gaussmix.core.online import blended, recentered, step_size
from gaussmix.core.params import COVARIANCE_TYPES

FIELDS = ("n", "resp_sum", "first", "second", "log_likelihood")


def random_stats(rng, kind, center, n=200, k=3, d=4):
    X = rng.normal(5.0, 2.0, (n, d))
    resp = rng.dirichlet(np.ones(k), n)
    return resp_stats(X, resp, rng.uniform(0.5, 2.0, n), center, kind), X, resp


@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_recentered_statistics_equal_those_computed_about_the_new_centre(rng, kind):
    old, new = rng.normal(0, 3, (3, 4)), rng.normal(0, 3, (3, 4))
    seed = int(rng.integers(1 << 30))
    about_old, _, _ = random_stats(np.random.default_rng(seed), kind, old)
    about_new, _, _ = random_stats(np.random.default_rng(seed), kind, new)
    moved = recentered(about_old, new)
    for name in ("first", "second", "resp_sum", "n"):
        np.testing.assert_allclose(getattr(moved, name), getattr(about_new, name), rtol=1e-12, atol=1e-9,
                                   err_msg=name)


@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_decay_one_and_offset_one_give_the_exact_average_of_the_batches(rng, kind):
    batches = [random_stats(rng, kind, rng.normal(0, 3, (3, 4)), n=50 + 10 * t)[0] for t in range(5)]
    running = None
    for t, batch in enumerate(batches):
        running = blended(running, batch, step_size(t, 1.0, 1.0))
    last = batches[-1].center
    average = [recentered(b, last) for b in batches]
    for name in ("n", "resp_sum", "first", "second"):
        expected = sum(np.asarray(getattr(b, name)) for b in average) / len(batches)
        np.testing.assert_allclose(getattr(running, name), expected, rtol=1e-12, err_msg=name)


def test_the_step_size_decays_as_a_power_of_the_batch_count():
    assert step_size(0, 0.7, 10.0) == pytest.approx(10.0 ** -0.7)
    assert step_size(5, 0.6, 1.0) == pytest.approx(6.0 ** -0.6)
    assert step_size(0, 1.0, 1.0) == 1.0

"""Shared fixtures: a seeded rng, both float dtypes, the Old Faithful data; hypothesis profiles."""

from __future__ import annotations

import os

# scikit-learn's array-API estimator check runs only when SciPy starts in array-API mode; set it before any
# import of SciPy so that check runs instead of skipping.
os.environ.setdefault("SCIPY_ARRAY_API", "1")

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile("dev", deadline=None, max_examples=40,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", deadline=None, max_examples=40, derandomize=True, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

DATA = Path(__file__).parent / "data"


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261123)


@pytest.fixture(params=[np.float32, np.float64], ids=["float32", "float64"])
def dtype(request):
    return request.param


@pytest.fixture(scope="session")
def faithful() -> np.ndarray:
    """Old Faithful: 272 eruptions × (eruption minutes, waiting minutes)."""
    return np.loadtxt(DATA / "faithful.csv", delimiter=",", skiprows=1)


def blobs(rng: np.random.Generator, n: int = 600, d: int = 3, k: int = 3, spread: float = 6.0) -> np.ndarray:
    """Well-separated Gaussian blobs with random full covariances."""
    means = rng.normal(0, spread, (k, d))
    rows = []
    for j in range(k):
        a = rng.normal(size=(d, d)) * 0.5 + np.eye(d)
        rows.append(rng.normal(size=(n // k, d)) @ a.T + means[j])
    return rng.permutation(np.vstack(rows))


@pytest.fixture
def faithful_csv(tmp_path) -> Path:
    """Old Faithful as a CSV with a header row and an id column that is not a feature (for the CLI tests)."""
    import pandas as pd

    frame = pd.read_csv(DATA / "faithful.csv")
    frame.insert(0, "id", np.arange(len(frame)))
    frame.to_csv(tmp_path / "faithful.csv", index=False)
    return tmp_path / "faithful.csv"


def interrupt_on_pass(monkeypatch, n_pass: int) -> None:
    """Make a fit's data pass number ``n_pass`` (counted over everything the fit reads) raise KeyboardInterrupt."""
    import gaussmix._mixture as mixture_module

    real = mixture_module.accumulator
    calls = {"n": 0}

    def flaky(source, worst_rows=True):
        accumulate = real(source, worst_rows)

        def wrapped(params):
            calls["n"] += 1
            if calls["n"] == n_pass:
                raise KeyboardInterrupt
            return accumulate(params)
        return wrapped

    monkeypatch.setattr(mixture_module, "accumulator", flaky)

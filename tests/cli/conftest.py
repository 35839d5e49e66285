"""Fixtures shared by the command-line tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

DATA = Path(__file__).parents[1] / "data"


@pytest.fixture
def faithful_csv(tmp_path) -> Path:
    """Old Faithful with a header row and an id column that is not a feature."""
    frame = pd.read_csv(DATA / "faithful.csv")
    frame.insert(0, "id", np.arange(len(frame)))
    frame.to_csv(tmp_path / "faithful.csv", index=False)
    return tmp_path / "faithful.csv"

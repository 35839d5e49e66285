"""Data files for the CLI: open inputs as chunked sources, summarise a fitted model in one pass, write rows."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..estimator import GaussianMixture
from ..executors.sampling import reservoir_sample
from ..io.sources import FileSource, open_data
from ..io.writers import open_writer


def parse_columns(text: str | None) -> list[str | int] | None:
    """``"a,b"`` -> ``["a", "b"]``; all-digit entries are column indices (``"0,2"`` -> ``[0, 2]``)."""
    if text is None:
        return None
    names = [part.strip() for part in text.split(",")]
    if not all(names):
        raise ValueError(f"--columns must be names or indices separated by commas; got {text!r}.")
    return [int(n) if n.isdigit() else n for n in names]


def parse_column(text: str | None) -> str | int | None:
    return None if text is None else int(text) if text.isdigit() else text


def open_input(path: str | os.PathLike[str], columns: str | None = None, sample_weight_column: str | None = None,
               model: GaussianMixture | None = None, chunk_rows: int | None = None) -> FileSource:
    """Open a data file; without ``--columns``, a named file is read with the columns the model was fitted on.

    So a CSV with extra columns (ids, labels) predicts with the right features without repeating ``--columns``.
    """
    chosen = parse_columns(columns)
    weight = parse_column(sample_weight_column)
    fitted_names = getattr(model, "feature_names_in_", None)
    if chosen is None and fitted_names is not None:
        source = open_data(path, sample_weight_column=weight, chunk_rows=chunk_rows)
        if source.feature_names is not None and tuple(source.feature_names) != tuple(fitted_names):
            chosen = [str(n) for n in fitted_names]
    return open_data(path, columns=chosen, sample_weight_column=weight, chunk_rows=chunk_rows)


@dataclass(frozen=True)
class FitStats:
    """What one pass of a fitted model over its data tells: total (weighted) log-likelihood, rows, hard sizes."""

    log_likelihood: float
    n: float
    rows: int
    sizes: np.ndarray  # (n_components,) weighted count of rows whose most likely component is k

    def criteria(self, model: GaussianMixture) -> dict[str, float]:
        """BIC and AIC from this pass, with the parameter count ``GaussianMixture.bic`` uses."""
        p = model.n_parameters()
        return {"bic": -2.0 * self.log_likelihood + p * np.log(self.n), "aic": -2.0 * self.log_likelihood + 2 * p}


def fit_stats(model: GaussianMixture, source: FileSource) -> FitStats:
    """Log-likelihood and per-component sizes in one pass over the file (the fit's own passes end before)."""
    total, n, rows = 0.0, 0.0, 0
    sizes = np.zeros(model.n_components)
    for chunk in source.chunks():
        log_prob = model.score_samples(chunk.X)
        labels = model.predict(chunk.X)
        w = np.ones(log_prob.shape[0]) if chunk.sample_weight is None else chunk.sample_weight
        total += float(w @ log_prob)
        n += float(w.sum())
        rows += log_prob.shape[0]
        sizes += np.bincount(labels, weights=w, minlength=model.n_components)
    return FitStats(total, n, rows, sizes)


def sample_rows(source: FileSource, size: int, seed: int | None) -> np.ndarray:
    """At most ``size`` rows drawn uniformly from the file in one pass (all rows of a smaller file)."""
    X, _, _ = reservoir_sample(source, size, np.random.default_rng(seed))
    return X


def write_rows(path: str | os.PathLike[str], columns: list[str], block: dict[str, Any]) -> None:
    """Write one block of named columns to a .csv/.tsv/.parquet/.npy file, atomically."""
    with open_writer(path, columns) as out:
        out.write(block)

"""Data files for the CLI: open inputs as chunked sources, summarise a fitted model in one pass, write rows."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._base import fitted_params
from ..core.estep import log_resp
from ..estimator import GaussianMixture
from ..executors.sampling import reservoir_sample
from ..io.sources import FileSource, open_data
from ..io.writers import open_writer
from .errors import say

#: Rows per block when ``write_rows`` writes an in-memory table (CSV text of a block is built in memory).
WRITE_BLOCK_ROWS = 65_536


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
    """Open a data file; without ``--columns``, the columns the model was fitted on, else every numeric column.

    So a CSV or Parquet file with extra columns (ids, labels) predicts with the right features without repeating
    ``--columns``; without a model, non-numeric columns (text ids) are skipped with a note on stderr.
    """
    chosen = parse_columns(columns)
    weight = parse_column(sample_weight_column)
    if chosen is not None:
        return open_data(path, columns=chosen, sample_weight_column=weight, chunk_rows=chunk_rows)
    source = open_data(path, sample_weight_column=weight, chunk_rows=chunk_rows, non_numeric="skip")
    fitted_names = getattr(model, "feature_names_in_", None)
    if fitted_names is not None and source.feature_names is not None \
            and tuple(source.feature_names) != tuple(fitted_names):
        return open_data(path, columns=[str(n) for n in fitted_names], sample_weight_column=weight,
                         chunk_rows=chunk_rows)
    if source.skipped_columns:
        say(f"note: skipping the non-numeric column(s) {', '.join(source.skipped_columns)} of {path}; "
            "choose columns with --columns.")
    return source


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
    params = fitted_params(model).to_numpy()
    total, n, rows = 0.0, 0.0, 0
    sizes = np.zeros(model.n_components)
    for chunk in source.chunks():
        log_prob, log_resp_ = log_resp(chunk.X, params)
        labels = np.argmax(log_resp_, axis=1)
        w = np.ones(log_prob.shape[0]) if chunk.sample_weight is None else chunk.sample_weight
        total += float(w @ np.asarray(log_prob, dtype=np.float64))
        n += float(w.sum())
        rows += log_prob.shape[0]
        sizes += np.bincount(labels, weights=w, minlength=model.n_components)
    return FitStats(total, n, rows, sizes)


def sample_rows(source: FileSource, size: int, seed: int | None) -> np.ndarray:
    """At most ``size`` rows drawn uniformly from the file in one pass (all rows of a smaller file)."""
    X, _, _ = reservoir_sample(source, size, np.random.default_rng(seed))
    return X


def write_rows(path: str | os.PathLike[str], columns: list[str], table: dict[str, Any]) -> None:
    """Write named columns to a .csv/.tsv/.parquet/.npy file, atomically, in blocks of ``WRITE_BLOCK_ROWS`` rows."""
    n_rows = len(next(iter(table.values())))
    with open_writer(path, columns, n_rows=n_rows) as out:
        for lo in range(0, max(n_rows, 1), WRITE_BLOCK_ROWS):
            out.write({name: np.asarray(values)[lo:lo + WRITE_BLOCK_ROWS] for name, values in table.items()})


def check_sample_size(n_samples: int, n_features: int) -> None:
    """Refuse up front a ``sample -n`` whose rows (float64 features and a label) cannot fit in available memory."""
    needed = 2 * n_samples * (n_features + 1) * 8  # the drawn rows, plus one copy while they are assembled
    available = available_memory()
    if available is not None and needed > available:
        raise ValueError(
            f"--n-samples {n_samples:,} needs about {_size(needed)} of memory ({n_samples:,} rows × {n_features + 1} "
            f"columns × 8 bytes, twice), but only {_size(available)} is available. Draw fewer rows (several files "
            "with different --seed values if you need more)."
        )


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``, else free pages), or None if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None


def _size(n_bytes: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n_bytes < 1024:
            return f"{n_bytes:.3g} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:,.0f} TiB"

"""write_predictions: row-wise results of a fitted mixture streamed to a file, one block in memory at a time."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from . import _validation as check
from ._base import fitted_params
from ._dispatch import check_rows_source, is_streamed, streamed_source
from .core.estep import log_resp
from .executors.local import ArraySource, default_chunk_rows
from .io.atomic import refuse_overwriting
from .io.writers import open_writer

__all__ = ["write_predictions"]


def write_predictions(
    model: Any, data: Any, out_path: str | os.PathLike[str], *, proba: bool = False, log_prob: bool = True,
) -> Path:
    """Write the most likely component of every row of ``data`` (and optionally more) to ``out_path``.

    The data is read and the file written block by block, so neither the data nor the results need to fit in
    memory; the file appears only once every row is written (an error leaves no partial file).

    Parameters
    ----------
    model : GaussianMixture
        A fitted model.
    data : array-like of shape (n_samples, n_features), path, ChunkSource or Dask collection
        The rows, as :meth:`GaussianMixture.predict` accepts them; paths are opened with ``open_data``.
    out_path : str or path
        ``.csv``, ``.tsv``, ``.parquet`` or ``.npy`` (one float64 matrix, the columns in the order below).
    proba : bool, default=False
        Add the posterior probability of each component, columns ``proba_0`` … ``proba_{K-1}``.
    log_prob : bool, default=True
        Add ``log_prob``, the log-density log p(x) of the row under the mixture (low values are outliers).

    Raises
    ------
    ValueError
        If ``out_path`` is the data file itself (which would be lost).

    Returns
    -------
    Path
        ``out_path``, whose columns are ``label``, then ``log_prob``, then the probabilities, one row per input row.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from gaussmix import GaussianMixture, write_predictions
    >>> X = np.array([[0.0], [0.1], [0.2], [5.0], [5.1], [5.2]])
    >>> gm = GaussianMixture(2, random_state=0).fit(X)
    >>> out = write_predictions(gm, X, os.path.join(tempfile.mkdtemp(), "labels.csv"), log_prob=False)
    >>> open(out).read().split()[0]
    'label'
    """
    params = fitted_params(model, "predict").to_numpy()
    data_path = data if isinstance(data, (str, os.PathLike)) else getattr(data, "path", None)
    refuse_overwriting({"data": data_path}, {"out_path": out_path})
    source = _source(model, data)
    columns = ["label"] + (["log_prob"] if log_prob else []) \
        + ([f"proba_{k}" for k in range(params.n_components)] if proba else [])
    out_path = Path(out_path)
    with open_writer(out_path, columns, n_rows=source.n_rows) as out:
        for chunk in source.chunks():
            row_log_prob, row_log_resp = log_resp(chunk.X, params)
            block = {"label": np.argmax(row_log_resp, axis=1)}
            if log_prob:
                block["log_prob"] = np.asarray(row_log_prob, dtype=np.float64)
            if proba:
                resp = np.exp(np.asarray(row_log_resp, dtype=np.float64))
                block.update({f"proba_{k}": resp[:, k] for k in range(params.n_components)})
            out.write(block)
    return out_path


def _source(model: Any, data: Any) -> Any:
    """The data as a ChunkSource whose columns match the model's."""
    owner, n_features = type(model).__name__, int(model.n_features_in_)
    fitted_names = getattr(model, "feature_names_in_", None)
    if is_streamed(data):
        source = streamed_source(data, None, chunk_rows=model.chunk_rows, n_components=len(model.weights_),
                                 persist=False)
        return check_rows_source(source, n_features, fitted_names, owner)
    array, names = check.check_data(data, n_features=n_features, owner=owner)
    source = ArraySource(array, None, model.chunk_rows or default_chunk_rows(n_features, len(model.weights_)), names)
    return check_rows_source(source, n_features, fitted_names, owner)

"""The inputs the analysis functions take (arrays, DataFrames, paths, ChunkSources, Dask), as checked row sources."""

from __future__ import annotations

from typing import Any

from .. import _validation as check
from .._dispatch import check_rows_source, is_streamed, streamed_source
from ..executors.local import ArraySource, ChunkSource, default_chunk_rows


def rows_source(
    X: Any, sample_weight: Any = None, *, n_features: int | None = None, feature_names: Any = None,
    owner: str = "the model", n_components: int = 1,
) -> ChunkSource:
    """X as a ChunkSource whose blocks carry ``sample_weight``, checked against ``n_features`` when given.

    In-memory data is checked once here; paths, ChunkSources and Dask collections are checked block by block as
    they are read, so an error names the global row and column without a separate pass.
    """
    if is_streamed(X):
        source = streamed_source(X, sample_weight, chunk_rows=None, n_components=n_components, persist=False)
        if n_features is not None:
            source = check_rows_source(source, n_features, feature_names, owner)
        return source
    array, names = check.check_data(X, n_features=n_features, owner=owner)
    if names is not None and feature_names is not None and tuple(feature_names) != names:
        raise ValueError(f"X has feature names {list(names)}, but {owner} was fitted with {list(feature_names)}.")
    weights = check.check_sample_weight(sample_weight, array.shape[0])
    return ArraySource(array, weights, default_chunk_rows(array.shape[1], n_components), names)

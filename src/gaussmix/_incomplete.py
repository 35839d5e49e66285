"""Incomplete data at the estimator level: partly labelled rows beside the executor's pass, starts from rows with NaN,
imputation and conditional mixtures of a fitted model."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from operator import add
from typing import Any

import numpy as np

from ._base import fitted_params
from ._validation import check_data
from .core.conditional import condition_params
from .core.labelled import labelled_stats
from .core.missing import impute_rows
from .core.mstep import params_from_stats
from .core.params import GaussianParams
from .core.stats import SufficientStats
from .executors.local import ArraySource


@dataclass(frozen=True, eq=False)
class LabelledRows:
    """The rows of an in-memory fit whose component is known, and the source of the others (None if none)."""

    X: np.ndarray
    labels: np.ndarray
    sample_weight: np.ndarray | None
    unlabelled: ArraySource | None
    chunk_rows: int

    def stats(self, params: GaussianParams) -> SufficientStats:
        """Statistics of the labelled rows, in blocks of ``chunk_rows`` rows."""
        n = self.X.shape[0]
        return reduce(add, (labelled_stats(self.X[s:s + self.chunk_rows], self.labels[s:s + self.chunk_rows],
                                           params, None if self.sample_weight is None
                                           else self.sample_weight[s:s + self.chunk_rows])
                            for s in range(0, n, self.chunk_rows)))

    def accumulator(self, unlabelled_accumulate: Callable[[GaussianParams], SufficientStats] | None
                    ) -> Callable[[GaussianParams], SufficientStats]:
        """``accumulate(params)``: the executor's statistics of the unlabelled rows plus the labelled rows'."""
        if unlabelled_accumulate is None:
            return self.stats
        return lambda params: unlabelled_accumulate(params) + self.stats(params)

    def covers_all(self, n_components: int) -> bool:
        """Whether every component has labelled rows of positive weight (then the labels give the start)."""
        w = np.ones(self.labels.shape[0]) if self.sample_weight is None else self.sample_weight
        return bool(np.all(np.bincount(self.labels, weights=w, minlength=n_components) > 0))

    def initial_params(self, n_components: int, covariance_type: str, reg_covar: float) -> GaussianParams:
        """The class-conditional maximum-likelihood fit of the labelled rows: the fit itself when all are labelled
        and none has NaN (rows with NaN are completed from a probe centred on the column means, then EM)."""
        k, d = n_components, self.X.shape[1]
        with np.errstate(invalid="ignore"):
            center = np.broadcast_to(np.nan_to_num(np.nanmean(self.X, axis=0)), (k, d)).copy()
        unit = {"full": np.broadcast_to(np.eye(d), (k, d, d)).copy(), "tied": np.eye(d), "diag": np.ones((k, d)),
                "spherical": np.ones(k)}[covariance_type]
        probe = GaussianParams.from_covariances(np.full(k, 1.0 / k), center, unit, covariance_type)
        return params_from_stats(self.stats(probe), reg_covar).params


def split_labelled(source: Any, labels: Any, n_components: int) -> LabelledRows:
    """Check ``labels`` against an in-memory NumPy source and split its rows into labelled and unlabelled."""
    if not isinstance(source, ArraySource) or not isinstance(source.X, np.ndarray):
        raise TypeError("labels need X in memory as a NumPy array (or DataFrame); files, Dask collections and "
                        "tensors are fitted without labels.")
    y = check_label_values(labels, n_components)
    if y.shape[0] != source.n_rows:
        raise ValueError(f"labels has {y.shape[0]} entries; X has {source.n_rows} rows.")
    known = y >= 0
    w = source.sample_weight
    unknown = np.flatnonzero(~known)
    unlabelled = None if unknown.size == 0 else ArraySource(
        source.X[unknown], None if w is None else w[unknown], source.chunk_rows, source.feature_names)
    rows = np.flatnonzero(known)
    return LabelledRows(source.X[rows], y[rows], None if w is None else w[rows], unlabelled, source.chunk_rows)


def fill_missing(X: Any) -> Any:
    """The rows a start is computed from, with NaN replaced by its column's mean (k-means needs complete rows).

    Only the start sees these values: EM itself marginalises the missing coordinates. Returns X itself when it
    holds no NaN (tensors never do: their check refuses NaN).
    """
    if not isinstance(X, np.ndarray) or X.dtype.kind != "f" or not np.isnan(X.sum()):
        return X
    with np.errstate(invalid="ignore"):
        column_means = np.nan_to_num(np.nanmean(X, axis=0))
    return np.where(np.isnan(X), column_means.astype(X.dtype), X)


def column_indices(columns: Any, n_features: int, feature_names: Any) -> np.ndarray:
    """Column specs (an int, a str, or a sequence of them) as distinct indices, checked against the model."""
    specs = [columns] if isinstance(columns, (str, int, np.integer)) else list(columns)
    names = None if feature_names is None else [str(n) for n in feature_names]
    indices = []
    for spec in specs:
        if isinstance(spec, str):
            if names is None or spec not in names:
                known = "it was fitted without column names" if names is None else f"columns are {names}"
                raise ValueError(f"No column {spec!r} in this model: {known}.")
            indices.append(names.index(spec))
        elif isinstance(spec, (int, np.integer)) and not isinstance(spec, bool) and -n_features <= spec < n_features:
            indices.append(int(spec) % n_features)
        else:
            raise ValueError(f"A column is a name or an index in [0, {n_features}); got {spec!r}.")
    if len(set(indices)) != len(indices):
        raise ValueError(f"columns names a column twice: {list(columns)!r}.")
    if not indices or len(indices) == n_features:
        raise ValueError(f"condition needs between 1 and {n_features - 1} of the {n_features} columns; got "
                         f"{len(indices)}.")
    return np.asarray(indices, dtype=np.intp)


def condition(model: Any, columns: Any, values: Any) -> Any:
    """``model.condition``: one row of values gives a fitted GaussianMixture, many a ConditionalMixture."""
    params = fitted_params(model).to_numpy()
    names = getattr(model, "feature_names_in_", None)
    given = column_indices(columns, params.n_features, names)
    array = np.asarray(values, dtype=np.float64)
    one_row = array.ndim <= 1
    array = array.reshape(1, -1) if one_row else array
    if array.ndim != 2 or array.shape[1] != given.size:
        raise ValueError(f"values must hold {given.size} value(s) per row, one for each of columns; got shape "
                         f"{np.shape(values)}.")
    if not np.all(np.isfinite(array)):
        raise ValueError("values must be finite: condition on the observed columns only.")
    mixtures = condition_params(params, given, array)
    if not one_row:
        return mixtures
    rest_names = None if names is None else tuple(str(names[j]) for j in mixtures.rest)
    return type(model).from_params(mixtures.params(0), feature_names=rest_names)


def impute(model: Any, X: Any, n_draws: int | None, rng: np.random.Generator) -> np.ndarray:
    """``model.impute``: X with NaN replaced by conditional expectations, or ``n_draws`` completed copies."""
    array, _ = check_data(X, n_features=model.n_features_in_, owner=type(model).__name__, allow_nan=True)
    params = fitted_params(model).to_numpy()
    if n_draws is None:
        return impute_rows(array, params).astype(array.dtype)
    return np.stack([impute_rows(array, params, rng).astype(array.dtype) for _ in range(n_draws)])


def check_label_values(labels: Any, n_components: int) -> np.ndarray:
    """``labels`` as an int64 array with values in [-1, n_components), or a ValueError naming the first bad row."""
    array = np.asarray(labels)
    if array.ndim != 1:
        raise ValueError(f"labels must be 1-D (one component index per row, -1 if unknown); got shape {array.shape}.")
    if array.dtype.kind == "f" and np.all(np.isfinite(array)) and np.all(array == np.round(array)):
        array = array.astype(np.int64)
    if array.dtype.kind not in "iu":
        raise ValueError(f"labels must be integer component indices (-1 if unknown); got dtype {array.dtype}.")
    bad = np.flatnonzero((array < -1) | (array >= n_components))
    if bad.size:
        raise ValueError(f"labels must be -1 (unknown) or a component index in [0, {n_components}); row "
                         f"{int(bad[0])} holds {int(array[bad[0]])}.")
    return array.astype(np.int64)

"""Checks at the public edge: data, sample weights, hyper-parameters and initial arrays, with messages naming them."""

from __future__ import annotations

import numbers
import sys
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from sklearn.utils import check_random_state

from .core.params import covariance_shape
from .core.structures import attribute_layout

Rule = Callable[[Any], "str | None"]  # None when the value is valid, else a description of what is expected


def check_data(
    X: Any, *, name: str = "X", n_features: int | None = None, owner: str = "GaussianMixture",
    allow_nan: bool = False,
) -> tuple[np.ndarray, tuple[str, ...] | None]:
    """A 2-D finite float32/float64 array from ``X``, and its column names if X is a DataFrame with string columns.

    Integer and boolean data become float64; float32 stays float32. Raises TypeError for non-numeric data and
    ValueError for complex data, a wrong number of dimensions or features, no rows, NaN or infinity. With
    ``allow_nan`` a NaN is a missing value: only infinity and rows with no observed value are refused.
    """
    if _is_sparse(X):
        raise TypeError(f"Sparse input is not supported: {name} is a {type(X).__name__}. Convert it with "
                        f"{name}.toarray() if it fits in memory.")
    feature_names = _column_names(X)
    columns = getattr(X, "columns", None)
    if columns is not None and hasattr(X, "dtypes") and hasattr(X, "to_numpy"):
        dtypes = list(X.dtypes)
        for column, dtype in zip(columns, dtypes):
            # .kind covers NumPy and pandas extension dtypes alike (Int64Dtype 'i', BooleanDtype 'b', category 'O').
            if getattr(dtype, "kind", "O") not in "iufbc":
                raise TypeError(f"{name} column {column!r} is not numeric (dtype {dtype}); choose the "
                                f"numeric columns, e.g. {name}.select_dtypes('number').")
        if not all(isinstance(dtype, np.dtype) for dtype in dtypes):
            # Extension dtypes (Int64, Float64, boolean, pyarrow): pd.NA becomes NaN, reported by row and column.
            X = X.to_numpy(dtype=np.float64, na_value=np.nan)
    try:
        array = np.asarray(X)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{name} cannot be read as a 2-D numeric array: {exc}") from None
    if array.dtype.kind == "c":
        raise ValueError(f"Complex data not supported: {name} has dtype {array.dtype}.")
    if array.ndim != 2:
        hint = " Reshape your data with X.reshape(-1, 1) for a single feature or X.reshape(1, -1) for a " \
               "single sample." if array.ndim == 1 else ""
        raise ValueError(f"Expected a 2D array for {name}, got a {array.ndim}D array of shape {array.shape}.{hint}")
    array = _as_float(array, name)
    if array.shape[0] == 0:
        raise ValueError(f"Found array with 0 sample(s) (shape={array.shape}) while a minimum of 1 is required "
                         f"by {owner} ({name} is empty).")
    if array.shape[1] == 0:
        raise ValueError(f"Found array with 0 feature(s) (shape={array.shape}) while a minimum of 1 is required "
                         f"by {owner} ({name} has no columns).")
    if n_features is not None and array.shape[1] != n_features:
        raise ValueError(
            f"{name} has {array.shape[1]} features, but {owner} is expecting {n_features} features as input."
        )
    check_finite(array, name, feature_names, allow_nan=allow_nan)
    return array, feature_names


def check_finite(array: np.ndarray, name: str, feature_names: tuple[str, ...] | None = None,
                 row_offset: int = 0, allow_nan: bool = False) -> None:
    """Raise a ValueError naming the first row and column holding NaN or infinity.

    With ``allow_nan`` (missing values) NaN passes, but infinity and a row with no observed value do not.
    Checked in row blocks, so the check needs a few MB whatever the number of rows.
    """
    step = max(1, 2**20 // max(1, array.shape[1]))
    for start in range(0, array.shape[0], step):
        block = array[start:start + step]
        finite = np.isfinite(block)
        if allow_nan:
            check_observed(block, name, start + row_offset)
            finite |= np.isnan(block)
        if not finite.all():
            row, col = np.unravel_index(int(np.argmin(finite)), block.shape)
            what = "NaN" if np.isnan(block[row, col]) else "infinity"
            column = f"column {feature_names[col]!r} (index {col})" if feature_names else f"column {col}"
            raise ValueError(f"{name} contains {what} at row {start + row + row_offset}, {column}.")


def check_observed(block: np.ndarray, name: str, row_offset: int = 0) -> None:
    """Raise a ValueError naming the first row of ``block`` whose every value is NaN (nothing to condition on)."""
    empty = np.isnan(block).all(axis=1)
    if empty.any():
        raise ValueError(f"{name} has no observed value at row {row_offset + int(np.argmax(empty))}: every column "
                         "is NaN. Drop the row; a mixture can say nothing about it.")


def _is_sparse(X: Any) -> bool:
    module = type(X).__module__
    return module.startswith("scipy.sparse") or hasattr(X, "tocsr")


def _as_float(array: np.ndarray, name: str) -> np.ndarray:
    if array.dtype in (np.float32, np.float64):
        return array
    if array.dtype.kind in "iub":
        return array.astype(np.float64)
    if array.dtype.kind == "f":  # float16, longdouble
        return array.astype(np.float64)
    if array.dtype.kind == "O":
        try:
            return array.astype(np.float64)
        except (TypeError, ValueError):
            pass
    for index, value in np.ndenumerate(array):
        value = value.item() if isinstance(value, np.generic) else value
        try:
            float(value)
        except (TypeError, ValueError):
            raise TypeError(
                f"{name} must be numeric: row {index[0]}, column {index[1]} holds {value!r} "
                f"(argument must be a string or a real number)."
            ) from None
    raise TypeError(f"{name} must be numeric; got dtype {array.dtype}.")


def _column_names(X: Any) -> tuple[str, ...] | None:
    columns = getattr(X, "columns", None)
    if columns is None or not hasattr(X, "dtypes"):
        return None
    names = list(columns)
    return tuple(names) if names and all(isinstance(c, str) for c in names) else None


def check_sample_weight(sample_weight: Any, n_samples: int, dtype: Any = np.float64) -> np.ndarray | None:
    """Non-negative finite weights of shape (n_samples,) with a positive sum, or None for unit weights."""
    if sample_weight is None:
        return None
    if isinstance(sample_weight, numbers.Number):
        sample_weight = np.full(n_samples, sample_weight, dtype=np.float64)
    try:
        w = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError("sample_weight must be a 1-D array of non-negative numbers.") from None
    if w.ndim != 1:
        raise ValueError(f"sample_weight must be 1-D; got shape {w.shape}.")
    if w.shape[0] != n_samples:
        raise ValueError(f"sample_weight has {w.shape[0]} entries; X has {n_samples} rows.")
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if bad.size:
        raise ValueError(f"sample_weight must be finite and non-negative; row {bad[0]} holds {float(w[bad[0]])!r}.")
    if not w.sum() > 0:
        raise ValueError("sample_weight sums to zero: no row carries any weight.")
    return w


# -- tensors: checked in their own namespace and on their device, never copied to NumPy ---------------------

def is_tensor(X: Any) -> bool:
    """Whether X is a torch tensor (checked without importing torch: a tensor means torch is already loaded)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(X, torch.Tensor)


def check_tensor_data(X: Any, *, name: str = "X", n_features: int | None = None,
                      owner: str = "GaussianMixture") -> Any:
    """A 2-D finite float32/float64 tensor on X's device, the tensor counterpart of :func:`check_data`.

    Integer, boolean and other float dtypes become float64; float32 stays float32. The tensor is detached (EM
    needs no gradients). Raises ValueError for complex data, a wrong number of dimensions or features, no rows,
    NaN or infinity (naming the first bad row and column).
    """
    import torch

    X = X.detach()
    if X.is_complex():
        raise ValueError(f"Complex data not supported: {name} has dtype {X.dtype}.")
    shape = tuple(X.shape)
    if X.ndim != 2:
        hint = " Reshape your data with X.reshape(-1, 1) for a single feature or X.reshape(1, -1) for a " \
               "single sample." if X.ndim == 1 else ""
        raise ValueError(f"Expected a 2D array for {name}, got a {X.ndim}D array of shape {shape}.{hint}")
    if X.dtype not in (torch.float32, torch.float64):
        X = X.to(torch.float64)
    if shape[0] == 0:
        raise ValueError(f"Found array with 0 sample(s) (shape={shape}) while a minimum of 1 is required "
                         f"by {owner} ({name} is empty).")
    if shape[1] == 0:
        raise ValueError(f"Found array with 0 feature(s) (shape={shape}) while a minimum of 1 is required "
                         f"by {owner} ({name} has no columns).")
    if n_features is not None and shape[1] != n_features:
        raise ValueError(f"{name} has {shape[1]} features, but {owner} is expecting {n_features} features as input.")
    bad = ~torch.isfinite(X)
    if bool(bad.any()):
        row, col = divmod(int(torch.argmax(bad.reshape(-1).to(torch.uint8))), shape[1])
        what = "NaN" if bool(torch.isnan(X[row, col])) else "infinity"
        raise ValueError(f"{name} contains {what} at row {row}, column {col}.")
    return X


def check_tensor_sample_weight(sample_weight: Any, X: Any) -> Any:
    """Weights checked as by :func:`check_sample_weight`, as a float64 tensor on X's device (or None)."""
    import torch

    if is_tensor(sample_weight):
        sample_weight = sample_weight.detach().cpu().numpy()  # 1-D: checked once on the host, messages shared
    weights = check_sample_weight(sample_weight, int(X.shape[0]))
    return None if weights is None else torch.as_tensor(weights, dtype=torch.float64, device=X.device)


def float64_like(value: Any, X: Any) -> Any:
    """``value`` (array, tensor or None) as float64 in X's namespace: a tensor on X's device, else NumPy."""
    if value is None:
        return None
    if is_tensor(X):
        import torch

        return torch.as_tensor(value, dtype=torch.float64, device=X.device)
    return np.asarray(value.detach().cpu() if is_tensor(value) else value, dtype=np.float64)


# -- hyper-parameters ---------------------------------------------------------------------------------------

def int_at_least(low: int) -> Rule:
    def rule(value: Any) -> str | None:
        ok = isinstance(value, numbers.Integral) and not isinstance(value, bool) and int(value) >= low
        return None if ok else f"an int >= {low}"
    return rule


def real_at_least(low: float) -> Rule:
    def rule(value: Any) -> str | None:
        ok = (isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(float(value))
              and float(value) >= low)
        return None if ok else f"a finite real number >= {low:g}"
    return rule


def one_of(*options: Any) -> Rule:
    def rule(value: Any) -> str | None:
        ok = isinstance(value, str) and value in options
        return None if ok else "one of " + ", ".join(repr(o) for o in options)
    return rule


def optional(inner: Rule) -> Rule:
    def rule(value: Any) -> str | None:
        return None if value is None else (None if inner(value) is None else f"None or {inner(value)}")
    return rule


def is_bool(value: Any) -> str | None:
    return None if isinstance(value, (bool, np.bool_)) else "a bool"


def is_array_like(value: Any) -> str | None:
    return None if value is None or hasattr(value, "__len__") or hasattr(value, "shape") else "None or array-like"


def is_random_state(value: Any) -> str | None:
    ok = value is None or (isinstance(value, numbers.Integral) and not isinstance(value, bool) and int(value) >= 0) \
        or isinstance(value, (np.random.Generator, np.random.RandomState))
    return None if ok else "None, a non-negative int, a numpy Generator or a RandomState"


def check_hyperparameters(owner: Any, rules: Mapping[str, Rule]) -> None:
    """Raise one ValueError naming the first parameter of ``owner`` that breaks its rule."""
    for name, rule in rules.items():
        value = getattr(owner, name)
        expected = rule(value)
        if expected is not None:
            raise ValueError(
                f"The {name!r} parameter of {type(owner).__name__} must be {expected}; got {value!r}."
            )


def to_generator(random_state: Any) -> np.random.Generator:
    """The one place a ``random_state`` becomes a Generator.

    None draws from NumPy's global RandomState and a RandomState is drawn from, as in scikit-learn, so that
    ``np.random.seed(0)`` makes a script repeatable; an int seeds a Generator of its own.
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(check_random_state(random_state).randint(np.iinfo(np.int32).max))
    return np.random.default_rng(random_state)


# -- user-given initial parameters ----------------------------------------------------------------------------

def check_init_arrays(owner: Any, n_features: int) -> dict[str, np.ndarray]:
    """The given ``weights_init``/``means_init``/``precisions_init`` as float64 arrays, checked for shape and values."""
    k, d, kind = owner.n_components, n_features, attribute_layout(owner.covariance_type)
    found: dict[str, np.ndarray] = {}
    expected_shapes = {
        "weights_init": (k,),
        "means_init": (k, d),
        "precisions_init": covariance_shape(kind, k, d),
    }
    for name, shape in expected_shapes.items():
        value = getattr(owner, name)
        if value is None:
            continue
        array = _init_array(value, name)
        if array.shape != shape:
            raise ValueError(f"The parameter {name!r} should have the shape {shape} for n_components={k}, "
                             f"n_features={d} and covariance_type={kind!r}; got {array.shape}.")
        found[name.removesuffix("_init")] = array
    weights = found.get("weights")
    if weights is not None:
        if np.any(weights < 0) or np.any(weights > 1):
            raise ValueError(f"The parameter 'weights_init' should be in the range [0, 1]; got {weights}.")
        if not np.isclose(weights.sum(), 1.0, rtol=0, atol=1e-6):
            raise ValueError(f"The parameter 'weights_init' should be normalized; its sum is {weights.sum():.6f}.")
    precisions = found.get("precisions")
    if precisions is not None:
        _check_precisions(precisions, kind)
    return found


def _init_array(value: Any, name: str) -> np.ndarray:
    try:
        array = float64_like(value, None)  # tensors too, from any device
    except (TypeError, ValueError):
        raise TypeError(f"The parameter {name!r} must be a numeric array.") from None
    if not np.all(np.isfinite(array)):
        raise ValueError(f"The parameter {name!r} contains NaN or infinity.")
    return array


def _check_precisions(precisions: np.ndarray, kind: str) -> None:
    if kind in ("diag", "spherical"):
        if np.any(precisions <= 0):
            raise ValueError("The parameter 'precisions_init' should be positive.")
        return
    stack = precisions[None] if kind == "tied" else precisions
    for k, matrix in enumerate(stack):
        where = "" if kind == "tied" else f" of component {k}"
        if not np.allclose(matrix, matrix.T):
            raise ValueError(f"The parameter 'precisions_init'{where} should be symmetric.")
        if np.any(np.linalg.eigvalsh(matrix) <= 0):
            raise ValueError(f"The parameter 'precisions_init'{where} should be positive definite.")

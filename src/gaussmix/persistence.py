"""Saving and loading fitted GaussianMixture estimators as gaussmix model files (npz + JSON, never pickle).

The file layout is ``gaussmix.io.model_file``'s (docs/MODEL_FILE.md); this module decides what an estimator puts
in it: the parameters, ``get_params()`` (array-valued parameters such as ``means_init`` as extra arrays), the fit
record (``n_iter_``, ``converged_``, ``lower_bound_``, ``lower_bounds_``, ``reseeds_``) and the feature names.
"""

from __future__ import annotations

import math
import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ._base import fitted_params
from .core.em import EMResult, IterationReseed
from .core.mstep import Reseed
from .core.namespace import to_numpy
from .core.params import GaussianParams
from .core.prior import ConjugatePrior
from .exceptions import ModelFileError
from .io.model_file import load_model, save_model

if TYPE_CHECKING:  # _mixture imports this module
    from ._mixture import MixtureBase

#: Hyper-parameters that may hold arrays; they are stored as extra arrays of the same name.
ARRAY_PARAMETERS = ("weights_init", "means_init", "precisions_init", "mean_prior", "covariance_prior")
LOWER_BOUNDS_ARRAY = "lower_bounds"
#: Prefix of the extra arrays holding fitted state beyond the mixture's parameters (a variational posterior).
FITTED_PREFIX = "fitted_"


def save(model: Any, path: str | os.PathLike[str]) -> Path:
    """Write a fitted estimator to ``path`` atomically (see :meth:`GaussianMixture.save`).

    The record is first rebuilt into an estimator exactly as :func:`load` would rebuild it, so a model that the
    file could not load back is refused (ModelFileError) before anything is written. A ``random_state`` that is
    a Generator or RandomState cannot be stored; it is saved as None and the file's ``notes`` entry says so.
    """
    params = fitted_params(model, "save").to_numpy()
    single = str(model.means_.dtype).endswith("float32")
    if single:  # float32 rounding leaves weights and factors consistent to ~1e-7 only; the file checks to 1e-8
        params = GaussianParams.from_covariances(params.weights / params.weights.sum(), params.means,
                                                 params.covariances, params.covariance_type)
    hyper, arrays, notes = _split_hyper_parameters(model.get_params())
    arrays[LOWER_BOUNDS_ARRAY] = np.asarray(model.lower_bounds_, dtype=np.float64)
    arrays.update({FITTED_PREFIX + name: np.asarray(to_numpy(value), dtype=np.float64)
                   for name, value in model._record_arrays().items()})
    names = getattr(model, "feature_names_in_", None)
    metadata = {
        "feature_names": None if names is None else [str(n) for n in names],
        "hyper_parameters": hyper,
        "fit_info": {
            "n_iter": int(model.n_iter_),
            "converged": bool(model.converged_),
            "lower_bound": _finite_or_none(model.lower_bound_),
            "reseeds": [[e.n_iter, e.reseed.component, e.reseed.row, e.reseed.reason] for e in model.reseeds_],
            "dtype": "float32" if single else "float64",
        },
        "estimator": type(model).__name__,
        "notes": notes,
    }
    try:
        _rebuild(params, metadata, arrays, type(model))  # what load would refuse, save refuses
    except (ValueError, TypeError, KeyError) as exc:
        raise ModelFileError(f"Cannot save model to '{path}': {exc} Nothing was written; refit the model (or "
                             "undo the set_params) first.") from None
    return save_model(path, params, metadata, arrays)


def load(path: str | os.PathLike[str], estimator_classes: tuple[type[MixtureBase], ...]) -> Any:
    """Read a model file written by :func:`save` into a fitted estimator of the one of ``estimator_classes`` the
    file names (see :func:`gaussmix.load`).

    Raises ModelFileError if the file is missing, truncated, corrupted, tampered with, holds pickled objects, or
    its hyper-parameters or fit record are inconsistent with the parameters. Nothing in the file is executed.
    """
    params, metadata, arrays = load_model(path)
    try:
        return _rebuild(params, metadata, arrays, _named_class(metadata, estimator_classes))
    except (ValueError, TypeError, KeyError) as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(f"Cannot load model file '{path}': {exc}") from None


def _split_hyper_parameters(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, np.ndarray], list[str]]:
    """JSON-safe hyper-parameters, array-valued ones as extra arrays, and notes on what could not be kept."""
    hyper: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    notes: list[str] = []
    for name, value in params.items():
        if name in ARRAY_PARAMETERS and value is not None and np.ndim(value) > 0:
            arrays[name] = np.asarray(value, dtype=np.float64)
        elif name == "prior" and isinstance(value, ConjugatePrior):  # a value of numbers: stored as a JSON object
            hyper[name] = {field: None if v is None else np.asarray(v, dtype=np.float64).tolist()
                           for field, v in asdict(value).items()}
        elif name == "random_state" and not (value is None or isinstance(value, (int, np.integer))):
            hyper[name] = None
            notes.append(f"random_state was a {type(value).__name__}, which cannot be stored; saved as None.")
        else:
            hyper[name] = value
    return hyper, arrays, notes


def _named_class(metadata: dict[str, Any], estimator_classes: tuple[type[MixtureBase], ...]) -> type[MixtureBase]:
    """The class the file's ``estimator`` entry names (GaussianMixture for files that name none)."""
    name = metadata.get("estimator", "GaussianMixture")
    for cls in estimator_classes:
        if cls.__name__ == name:
            return cls
    expected = " or ".join(cls.__name__ for cls in estimator_classes)
    raise ValueError(f"it holds a {name!r}, not a {expected}.")


def _rebuild(params: GaussianParams, metadata: dict[str, Any], arrays: dict[str, np.ndarray],
             estimator_class: type[MixtureBase]) -> Any:
    """The fitted estimator a record describes, checked as strictly on save as on load (one function for both)."""
    hyper = dict(metadata["hyper_parameters"])
    valid = set(estimator_class._get_param_names())
    unknown = sorted(set(hyper) - valid)
    if unknown:
        raise ValueError(f"unknown hyper-parameter(s) {unknown} for a {estimator_class.__name__}; the file may come "
                         "from a newer gaussmix.")
    for name in ARRAY_PARAMETERS:
        if name in arrays:
            hyper[name] = arrays[name]
    if isinstance(hyper.get("prior"), dict):
        hyper["prior"] = ConjugatePrior(**hyper["prior"])
    info = metadata["fit_info"]
    lower_bound = info.get("lower_bound")
    names = metadata.get("feature_names")
    if info.get("dtype", "float64") not in ("float32", "float64"):
        raise ValueError(f"fit_info['dtype'] must be 'float32' or 'float64'; got {info['dtype']!r}.")
    fitted = {name.removeprefix(FITTED_PREFIX): value for name, value in arrays.items()
              if name.startswith(FITTED_PREFIX)}
    if info.get("dtype") == "float32":  # the attributes were float32: stored as float64, returned as float32
        weights, means, covariances, prec_chol = (a.astype(np.float32) for a in (
            params.weights, params.means, params.covariances, params.precisions_cholesky))
        params = GaussianParams(weights, means, covariances, prec_chol, params.covariance_type)
    record = EMResult(
        params,
        lower_bound=-math.inf if lower_bound is None else float(lower_bound),
        lower_bounds=tuple(float(b) for b in arrays.get(LOWER_BOUNDS_ARRAY, [])),
        n_iter=int(info.get("n_iter", 0)),
        converged=bool(info.get("converged", False)),
        reseeds=tuple(_reseed(entry) for entry in info.get("reseeds", [])),
    )
    return estimator_class._from_record(params, fitted, record, None if names is None else tuple(names), hyper)


def _reseed(entry: Any) -> IterationReseed:
    if not (isinstance(entry, list) and len(entry) == 4 and all(isinstance(v, int) for v in entry[:3])
            and isinstance(entry[3], str)):
        raise ValueError(f"fit_info['reseeds'] has an invalid entry {entry!r}.")
    n_iter, component, row, reason = entry
    return IterationReseed(n_iter, Reseed(component, row, reason))


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None

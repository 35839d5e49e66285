"""Saving and loading fitted GaussianMixture estimators as gaussmix model files (npz + JSON, never pickle).

The file layout is ``gaussmix.io.model_file``'s (docs/MODEL_FILE.md); this module decides what an estimator puts
in it: the parameters, ``get_params()`` (array-valued parameters such as ``means_init`` as extra arrays), the fit
record (``n_iter_``, ``converged_``, ``lower_bound_``, ``lower_bounds_``, ``reseeds_``) and the feature names.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from . import _validation as check
from .core.em import IterationReseed
from .core.mstep import Reseed
from .core.params import GaussianParams
from .estimator import PARAMETER_RULES, GaussianMixture
from .exceptions import ModelFileError, NotFittedError
from .io.model_file import load_model, save_model

#: Hyper-parameters that may hold arrays; they are stored as extra arrays of the same name.
ARRAY_PARAMETERS = ("weights_init", "means_init", "precisions_init")
LOWER_BOUNDS_ARRAY = "lower_bounds"


def save(model: GaussianMixture, path: str | os.PathLike[str]) -> Path:
    """Write a fitted estimator to ``path`` atomically (see :meth:`GaussianMixture.save`).

    A ``random_state`` that is a Generator or RandomState cannot be stored; it is saved as None and a note says
    so in the file's ``notes`` entry.
    """
    if not model.__sklearn_is_fitted__():
        raise NotFittedError(f"This {type(model).__name__} instance is not fitted yet; there is nothing to save.")
    params = GaussianParams(model.weights_, model.means_, model.covariances_, model.precisions_cholesky_,
                            model.covariance_type)
    hyper, arrays, notes = _split_hyper_parameters(model.get_params())
    arrays[LOWER_BOUNDS_ARRAY] = np.asarray(model.lower_bounds_, dtype=np.float64)
    names = getattr(model, "feature_names_in_", None)
    metadata = {
        "feature_names": None if names is None else [str(n) for n in names],
        "hyper_parameters": hyper,
        "fit_info": {
            "n_iter": int(model.n_iter_),
            "converged": bool(model.converged_),
            "lower_bound": _finite_or_none(model.lower_bound_),
            "reseeds": [[e.n_iter, e.reseed.component, e.reseed.row, e.reseed.reason] for e in model.reseeds_],
        },
        "estimator": type(model).__name__,
        "notes": notes,
    }
    return save_model(path, params, metadata, arrays)


def load(path: str | os.PathLike[str]) -> GaussianMixture:
    """Read a model file written by :meth:`GaussianMixture.save` into a fitted estimator, bit for bit.

    Parameters
    ----------
    path : str or path-like
        A gaussmix model file (``.npz``).

    Returns
    -------
    GaussianMixture
        Fitted: its parameters are the stored arrays exactly, so predictions equal the saved model's.

    Raises
    ------
    ModelFileError
        If the file is missing, truncated, corrupted, tampered with, holds pickled objects, or its
        hyper-parameters or fit record are inconsistent with the parameters. Nothing in the file is executed.

    Examples
    --------
    >>> import numpy as np, tempfile, os, gaussmix
    >>> X = np.array([[0.0, 0.0], [0.1, 0.2], [5.0, 5.0], [5.2, 4.9]])
    >>> gm = gaussmix.GaussianMixture(2, random_state=0).fit(X)
    >>> path = gm.save(os.path.join(tempfile.mkdtemp(), "model.npz"))
    >>> bool((gaussmix.load(path).predict(X) == gm.predict(X)).all())
    True
    """
    params, metadata, arrays = load_model(path)
    try:
        return _rebuild(params, metadata, arrays)
    except (ValueError, TypeError, KeyError) as exc:
        if isinstance(exc, ModelFileError):
            raise
        raise ModelFileError(f"Cannot load model file '{path}': {exc}") from None


def fitted_estimator(
    params: GaussianParams,
    hyper_parameters: dict[str, Any],
    *,
    n_iter: int,
    converged: bool,
    lower_bound: float,
    lower_bounds: list[float],
    reseeds: tuple[IterationReseed, ...] = (),
    feature_names: tuple[str, ...] | None = None,
) -> GaussianMixture:
    """A fitted GaussianMixture holding ``params`` as they are (no copy, no recomputation but ``precisions_``).

    Shared by :func:`load` and :func:`gaussmix.interop.from_sklearn`. The hyper-parameters are checked with the
    estimator's own rules and must agree with the parameters' number of components and covariance type.
    """
    model = GaussianMixture(**hyper_parameters)
    check.check_hyperparameters(model, PARAMETER_RULES)
    if model.n_components != params.n_components or model.covariance_type != params.covariance_type:
        raise ValueError(
            f"the hyper-parameters say n_components={model.n_components!r}, covariance_type="
            f"{model.covariance_type!r}, but the parameters have {params.n_components} component(s) of type "
            f"{params.covariance_type!r}."
        )
    if feature_names is not None and len(feature_names) != params.n_features:
        raise ValueError(f"{len(feature_names)} feature names for {params.n_features} features.")
    model.weights_ = params.weights
    model.means_ = params.means
    model.covariances_ = params.covariances
    model.precisions_cholesky_ = params.precisions_cholesky
    model.precisions_ = params.precisions
    model.converged_ = bool(converged)
    model.n_iter_ = int(n_iter)
    model.lower_bound_ = float(lower_bound)
    model.lower_bounds_ = [float(b) for b in lower_bounds]
    model.reseeds_ = tuple(reseeds)
    model.n_features_in_ = params.n_features
    if feature_names is not None:
        model.feature_names_in_ = np.asarray(feature_names, dtype=object)
    return model


def _split_hyper_parameters(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, np.ndarray], list[str]]:
    """JSON-safe hyper-parameters, array-valued ones as extra arrays, and notes on what could not be kept."""
    hyper: dict[str, Any] = {}
    arrays: dict[str, np.ndarray] = {}
    notes: list[str] = []
    for name, value in params.items():
        if name in ARRAY_PARAMETERS and value is not None:
            arrays[name] = np.asarray(value, dtype=np.float64)
        elif name == "random_state" and not (value is None or isinstance(value, (int, np.integer))):
            hyper[name] = None
            notes.append(f"random_state was a {type(value).__name__}, which cannot be stored; saved as None.")
        else:
            hyper[name] = value
    return hyper, arrays, notes


def _rebuild(params: GaussianParams, metadata: dict[str, Any], arrays: dict[str, np.ndarray]) -> GaussianMixture:
    if metadata.get("estimator", "GaussianMixture") != "GaussianMixture":
        raise ValueError(f"it holds a {metadata['estimator']!r}, not a GaussianMixture.")
    hyper = dict(metadata["hyper_parameters"])
    valid = set(GaussianMixture._get_param_names())
    unknown = sorted(set(hyper) - valid)
    if unknown:
        raise ValueError(f"unknown hyper-parameter(s) {unknown}; the file may come from a newer gaussmix.")
    for name in ARRAY_PARAMETERS:
        if name in arrays:
            hyper[name] = arrays[name]
    info = metadata["fit_info"]
    lower_bound = info.get("lower_bound")
    names = metadata.get("feature_names")
    return fitted_estimator(
        params,
        hyper,
        n_iter=info.get("n_iter", 0),
        converged=info.get("converged", False),
        lower_bound=-math.inf if lower_bound is None else lower_bound,
        lower_bounds=list(arrays.get(LOWER_BOUNDS_ARRAY, [])),
        reseeds=tuple(_reseed(entry) for entry in info.get("reseeds", [])),
        feature_names=None if names is None else tuple(names),
    )


def _reseed(entry: Any) -> IterationReseed:
    if not (isinstance(entry, list) and len(entry) == 4 and all(isinstance(v, int) for v in entry[:3])
            and isinstance(entry[3], str)):
        raise ValueError(f"fit_info['reseeds'] has an invalid entry {entry!r}.")
    n_iter, component, row, reason = entry
    return IterationReseed(n_iter, Reseed(component, row, reason))


def _finite_or_none(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None

"""What every gaussmix estimator shares at the edge: the one "is fitted" check, and parameters from attributes."""

from __future__ import annotations

from typing import Any

from . import _validation as check
from .core.params import GaussianParams
from .core.structures import attribute_layout
from .exceptions import NotFittedError

#: The fitted attributes that hold a mixture's parameters, in GaussianParams' order.
PARAMETER_ATTRIBUTES = ("weights_", "means_", "covariances_", "precisions_cholesky_")


def is_fitted(model: Any) -> bool:
    """Whether ``model`` is fitted: its ``__sklearn_is_fitted__`` when it has one, else it has ``means_``."""
    own_test = getattr(model, "__sklearn_is_fitted__", None)
    return bool(own_test()) if own_test is not None else hasattr(model, "means_")


def check_fitted(model: Any, doing: str = "") -> None:
    """Raise NotFittedError (a scikit-learn NotFittedError) unless ``model`` is fitted; ``doing`` says what for."""
    if not is_fitted(model):
        reason = f"; there is nothing to {doing}" if doing else ""
        raise NotFittedError(f"This {type(model).__name__} instance is not fitted yet{reason}. Call 'fit' with "
                             "appropriate arguments before using this estimator.")


def fitted_params(model: Any, doing: str = "") -> GaussianParams:
    """The mixture parameters of a fitted model (gaussmix's or scikit-learn's GaussianMixture) as float64.

    NumPy arrays, or float64 tensors on their device for a model fitted on tensors; the core always computes with
    float64 parameters, whatever dtype the fitted attributes were returned in.
    """
    check_fitted(model, doing)
    like = model.means_
    weights, means, covariances, prec_chol = (check.float64_like(getattr(model, name), like)
                                              for name in PARAMETER_ATTRIBUTES)
    # A gaussmix model remembers the type it was fitted with: set_params(covariance_type=...) does not change it.
    # mclust's models (VEV, ...) hold full (K, D, D) covariances.
    kind = attribute_layout(getattr(model, "_fitted_covariance_type", None) or model.covariance_type)
    return GaussianParams(weights, means, covariances, prec_chol, kind)

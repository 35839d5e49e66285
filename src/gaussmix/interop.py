"""Conversion to and from a fitted scikit-learn ``GaussianMixture``, parameters copied exactly."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn import mixture

from ._base import check_fitted, fitted_params
from .core.namespace import to_numpy
from .core.params import GaussianParams

#: Constructor parameters both estimators share; gaussmix's chunk_rows and init_sample_size have no counterpart.
SHARED_PARAMETERS = (
    "n_components", "covariance_type", "tol", "reg_covar", "max_iter", "n_init", "init_params", "weights_init",
    "means_init", "precisions_init", "random_state", "warm_start", "verbose", "verbose_interval",
)
FITTED_ARRAYS = ("weights_", "means_", "covariances_", "precisions_", "precisions_cholesky_")


def to_sklearn(model: Any) -> Any:
    """A fitted ``sklearn.mixture.GaussianMixture`` with copies of ``model``'s parameters and fit record.

    Its ``predict``, ``predict_proba`` and ``score_samples`` agree with ``model``'s to rounding. A
    ``random_state`` that is a NumPy Generator (which scikit-learn does not take) becomes None.

    Examples
    --------
    >>> import numpy as np, gaussmix
    >>> X = np.array([[0.0, 0.0], [0.1, 0.2], [5.0, 5.0], [5.2, 4.9]])
    >>> gm = gaussmix.GaussianMixture(2, random_state=0).fit(X)
    >>> sk = gm.to_sklearn()
    >>> bool((sk.predict(X) == gm.predict(X)).all())
    True
    """
    fitted = fitted_params(model, "convert")
    params = {name: getattr(model, name) for name in SHARED_PARAMETERS}
    params["n_components"], params["covariance_type"] = fitted.n_components, fitted.covariance_type
    if isinstance(params["random_state"], np.random.Generator):
        params["random_state"] = None
    est = mixture.GaussianMixture(**params)
    for name in FITTED_ARRAYS:
        setattr(est, name, np.array(to_numpy(getattr(model, name)), copy=True))  # torch too; dtype kept
    est.converged_ = bool(model.converged_)
    est.n_iter_ = int(model.n_iter_)
    est.lower_bound_ = float(model.lower_bound_)
    est.lower_bounds_ = list(model.lower_bounds_)
    est.n_features_in_ = int(model.n_features_in_)
    if hasattr(model, "feature_names_in_"):
        est.feature_names_in_ = np.array(model.feature_names_in_, dtype=object, copy=True)
    return est


def from_sklearn(est: Any, estimator_class: type) -> Any:
    """A fitted ``estimator_class`` (gaussmix's GaussianMixture) from a fitted ``sklearn.mixture.GaussianMixture``.

    The parameters are copied bit for bit (``precisions_`` is recomputed from ``precisions_cholesky_``), so
    predictions agree with ``est``'s. ``BayesianGaussianMixture`` is refused: its weights and precisions mean
    something else.

    Raises
    ------
    TypeError
        If ``est`` is not a scikit-learn GaussianMixture.
    NotFittedError
        If ``est`` is not fitted.
    """
    if not isinstance(est, mixture.GaussianMixture):
        raise TypeError(f"from_sklearn needs a sklearn.mixture.GaussianMixture; got {type(est).__name__}.")
    check_fitted(est, "convert")
    kind = est.covariance_type
    params = GaussianParams(*(np.array(getattr(est, name), copy=True) for name in
                              ("weights_", "means_", "covariances_", "precisions_cholesky_")), kind)
    hyper = {name: getattr(est, name) for name in SHARED_PARAMETERS}
    names = getattr(est, "feature_names_in_", None)
    return estimator_class.from_params(
        params,
        **hyper,
        n_iter=est.n_iter_,
        converged=est.converged_,
        lower_bound=est.lower_bound_,
        lower_bounds=list(getattr(est, "lower_bounds_", [])),
        feature_names=None if names is None else tuple(str(n) for n in names),
    )

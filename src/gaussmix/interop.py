"""Conversion to and from a fitted scikit-learn ``GaussianMixture``, parameters copied exactly."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn import mixture

from ._base import check_fitted, fitted_params
from .core.em import EMResult
from .core.namespace import to_numpy
from .core.params import GaussianParams
from .core.structures import in_layout, sklearn_type_of

if TYPE_CHECKING:  # _mixture imports this module
    from ._mixture import MixtureBase

#: gaussmix's fitted attributes that scikit-learn's estimators do not have.
GAUSSMIX_ONLY = ("reseeds_",)


def to_sklearn(model: Any) -> Any:
    """The fitted scikit-learn estimator of the same name (GaussianMixture or BayesianGaussianMixture) holding
    copies of ``model``'s fitted attributes and fit record.

    Its ``predict``, ``predict_proba`` and ``score_samples`` agree with ``model``'s to rounding. gaussmix-only
    parameters (``chunk_rows``, ``init_sample_size``) are dropped, and a ``random_state`` that is a NumPy
    Generator (which scikit-learn does not take) becomes None.

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
    structure_name = getattr(model, "_fitted_covariance_type", fitted.covariance_type)
    sklearn_layout = sklearn_type_of(structure_name)
    if sklearn_layout is None:
        raise ValueError(f"covariance_type {structure_name!r} is an mclust model scikit-learn does not have; only "
                         "'VVV', 'EEE', 'VVI' and 'VII' (scikit-learn's 'full', 'tied', 'diag', 'spherical') convert.")
    fitted = in_layout(fitted, sklearn_layout)
    target = getattr(mixture, type(model).__name__)
    params = {name: getattr(model, name) for name in target._get_param_names()}
    params["n_components"], params["covariance_type"] = fitted.n_components, fitted.covariance_type
    if isinstance(params["random_state"], np.random.Generator):
        params["random_state"] = None
    est = target(**params)
    for name, value in vars(model).items():
        if name.endswith("_") and not name.startswith("_") and name not in GAUSSMIX_ONLY:
            setattr(est, name, _host_copy(value))
    if structure_name != sklearn_layout:  # an mclust name: its (K, D, D) attributes in scikit-learn's layout
        host = fitted.to_numpy()
        dtype = np.asarray(_host_copy(model.means_)).dtype
        est.covariances_ = host.covariances.astype(dtype)
        est.precisions_cholesky_ = host.precisions_cholesky.astype(dtype)
        est.precisions_ = host.precisions.astype(dtype)
    return est


def from_sklearn(est: Any, estimator_class: type[MixtureBase]) -> Any:
    """A fitted ``estimator_class`` from a fitted scikit-learn estimator of the same name (GaussianMixture or
    BayesianGaussianMixture).

    The parameters are copied bit for bit (``precisions_`` is recomputed from ``precisions_cholesky_``), so
    predictions agree with ``est``'s.

    Raises
    ------
    TypeError
        If ``est`` is not the scikit-learn estimator of that name.
    NotFittedError
        If ``est`` is not fitted.
    """
    source = getattr(mixture, estimator_class.__name__)
    if not isinstance(est, source):
        raise TypeError(f"from_sklearn needs a sklearn.mixture.{source.__name__}; got {type(est).__name__}.")
    check_fitted(est, "convert")
    kind = est.covariance_type
    weights, means, covariances, prec_chol = (np.array(getattr(est, name), copy=True) for name in
                                              ("weights_", "means_", "covariances_", "precisions_cholesky_"))
    params = GaussianParams(weights, means, covariances, prec_chol, kind)
    hyper = {name: getattr(est, name) for name in estimator_class._get_param_names() if hasattr(est, name)}
    fitted = {name[:-1]: _host_copy(value) for name, value in vars(est).items()
              if name.endswith("_") and not name.startswith("_")}
    if isinstance(fitted.get("weight_concentration"), tuple):  # a Dirichlet process's two Beta parameters
        fitted["weight_concentration"] = np.stack(fitted["weight_concentration"])
    record = EMResult(params, lower_bound=float(np.ravel(est.lower_bound_)[0]),
                      lower_bounds=tuple(float(np.ravel(b)[0]) for b in getattr(est, "lower_bounds_", [])),
                      n_iter=int(est.n_iter_), converged=bool(est.converged_))
    names = getattr(est, "feature_names_in_", None)
    return estimator_class._from_record(params, fitted, record,
                                        None if names is None else tuple(str(n) for n in names), hyper)


def _host_copy(value: Any) -> Any:
    """A NumPy copy of an array or tensor (dtype kept), of each array of a tuple; other values as they are."""
    if isinstance(value, (tuple, list)):
        return type(value)(_host_copy(v) for v in value)
    if isinstance(value, (np.ndarray, np.generic)) or hasattr(value, "__dlpack__"):
        return np.array(to_numpy(value), copy=True)
    return value

"""Supervised estimators built on GaussianMixture: regression by conditioning, classification by Bayes' rule.

``GaussianMixtureRegressor`` fits one mixture on [X, y] and predicts p(y | x), the conditional mixture (Gaussian
mixture regression: Ghahramani & Jordan 1994; Calinon 2016; the ``gmr`` package). ``GaussianMixtureClassifier``
fits one mixture per class and predicts p(class | x) ∝ π_class p(x | class) (mclust's MclustDA with K components
per class; scikit-learn's plot_gmm_classifier example with K = 1).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ._base import fitted_params
from ._validation import check_sample_weight
from .core.conditional import ConditionalMixture, condition_params
from .estimator import GaussianMixture


class _MixtureParameters(BaseEstimator):
    """The GaussianMixture hyper-parameters both supervised estimators pass on to their mixtures."""

    def __init__(self, n_components: int = 1, *, covariance_type: str = "full", tol: float = 1e-3,
                 reg_covar: float = 1e-6, max_iter: int = 100, n_init: int = 1, init_params: str = "kmeans",
                 random_state: Any = None) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.random_state = random_state

    def _mixture(self, n_components: int | None = None) -> GaussianMixture:
        params = self.get_params()
        if n_components is not None:
            params["n_components"] = n_components
        return GaussianMixture(**params)

    def _validate(self, X: Any, y: Any = "no_validation", *, reset: bool, **kw: Any) -> Any:
        """scikit-learn's checks of X (and y, for fit), NaN allowed in X when the mixtures marginalise it."""
        nan = "allow-nan" if getattr(self, "missing", "error") == "marginalize" else True
        return validate_data(self, X, y, reset=reset, dtype=[np.float64, np.float32], ensure_all_finite=nan, **kw)


class GaussianMixtureRegressor(RegressorMixin, _MixtureParameters):
    """Gaussian mixture regression: a mixture fitted on [X, y] jointly, predicting the conditional p(y | x).

    ``predict`` is the conditional mean E[y | x] (the least-squares prediction); ``predict(X, return_std=True)``
    adds the conditional standard deviation (within- and between-component spread), and ``predict_distribution``
    gives the whole conditional mixture, whose modes a multimodal target needs. Parameters are GaussianMixture's.

    Attributes
    ----------
    mixture_ : GaussianMixture
        The joint mixture over the columns of X followed by those of y.
    n_features_in_ : int
    n_targets_ : int
    n_iter_ : int
        EM iterations of the joint fit.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix import GaussianMixtureRegressor
    >>> X = np.linspace(0, 1, 200)[:, None]
    >>> reg = GaussianMixtureRegressor(n_components=1, random_state=0).fit(X, 2 * X[:, 0] + 1)
    >>> reg.predict([[0.5]]).round(3)
    array([2.])
    """

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> GaussianMixtureRegressor:
        """Fit the joint mixture of [X, y]; ``y`` of shape (n_samples,) or (n_samples, n_targets)."""
        X, y = self._validate(X, y, reset=True, multi_output=True, y_numeric=True)
        y2 = np.asarray(y, dtype=X.dtype).reshape(X.shape[0], -1)
        if np.isnan(y2).any():
            raise ValueError("y contains NaN: every training row needs its target.")
        mixture = self._mixture().fit(np.hstack([X, y2]), sample_weight=sample_weight)
        self.mixture_ = mixture
        self.n_iter_ = mixture.n_iter_
        self.n_targets_ = int(y2.shape[1])
        self._y_1d = np.ndim(y) == 1
        return self

    def predict_distribution(self, X: Any) -> ConditionalMixture:
        """p(y | x) of every row: a ConditionalMixture (``weights`` (n, K), ``means`` (n, K, n_targets), ...)."""
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        return condition_params(fitted_params(self.mixture_).to_numpy(), np.arange(self.n_features_in_), X)

    def predict(self, X: Any, return_std: bool = False) -> Any:
        """E[y | x], shape (n_samples,) (or (n_samples, n_targets)); with ``return_std`` also sd(y | x)."""
        dist = self.predict_distribution(X)
        mean = dist.mean()
        std = np.sqrt(np.maximum(np.diagonal(dist.covariance(), axis1=1, axis2=2), 0.0))
        if self._y_1d:
            mean, std = mean[:, 0], std[:, 0]
        return (mean, std) if return_std else mean

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True  # y of shape (n_samples, n_targets): a joint mixture over all
        return tags

    def log_predictive_density(self, X: Any, y: Any) -> np.ndarray:
        """log p(y_i | x_i) under the fitted conditional mixture, shape (n_samples,)."""
        dist = self.predict_distribution(X)
        return dist.log_prob(np.asarray(y, dtype=np.float64).reshape(len(dist), -1))


class GaussianMixtureClassifier(ClassifierMixin, _MixtureParameters):
    """One Gaussian mixture per class; ``predict_proba`` by Bayes' rule with the classes' (weighted) frequencies.

    Parameters are GaussianMixture's, applied to every class's mixture (``n_components`` per class), plus
    ``missing``: with 'marginalize', rows with NaN are fitted and classified on their observed coordinates.
    With ``n_components=1`` and 'full' covariances this is quadratic discriminant analysis (without its
    shrinkage); 'tied' per class is not LDA (each class has its own shared matrix).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    class_prior_ : ndarray of shape (n_classes,)
        Weighted frequency of each class in the training data.
    mixtures_ : list of GaussianMixture
        The fitted mixture of each class, in the order of ``classes_``.
    n_features_in_ : int
    n_iter_ : int
        The most EM iterations any class's fit took.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix import GaussianMixtureClassifier
    >>> X = np.array([[0.0], [0.2], [0.1], [5.0], [5.2], [5.1]])
    >>> GaussianMixtureClassifier(reg_covar=1e-3).fit(X, ["a", "a", "a", "b", "b", "b"]).predict([[0.3], [4.0]])
    array(['a', 'b'], dtype='<U1')
    """

    def __init__(self, n_components: int = 1, *, covariance_type: str = "full", tol: float = 1e-3,
                 reg_covar: float = 1e-6, max_iter: int = 100, n_init: int = 1, init_params: str = "kmeans",
                 random_state: Any = None, missing: str = "error") -> None:
        super().__init__(n_components, covariance_type=covariance_type, tol=tol, reg_covar=reg_covar,
                         max_iter=max_iter, n_init=n_init, init_params=init_params, random_state=random_state)
        self.missing = missing

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> GaussianMixtureClassifier:
        """Fit one mixture to the rows of each class; the class priors are their (weighted) frequencies."""
        X, y = self._validate(X, y, reset=True)
        check_classification_targets(y)
        classes, y_index = np.unique(y, return_inverse=True)
        checked = check_sample_weight(sample_weight, X.shape[0])
        w = np.ones(X.shape[0]) if checked is None else checked
        mixtures, totals = [], []
        for c, label in enumerate(classes):
            rows = np.flatnonzero(y_index == c)
            total = float(np.sum(w[rows]))
            if not total > 0:
                raise ValueError(f"class {label!r} has no row with positive sample_weight; drop the class.")
            k = min(self.n_components, int(np.count_nonzero(w[rows] > 0)))
            mixtures.append(self._mixture(k).fit(X[rows], sample_weight=None if checked is None else w[rows]))
            totals.append(total)
        self.classes_ = classes
        self.class_prior_ = np.asarray(totals) / np.sum(totals)
        self.mixtures_ = mixtures
        self.n_iter_ = max(m.n_iter_ for m in mixtures)
        return self

    def _joint_log_prob(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = self._validate(X, reset=False)
        log_prob = np.stack([np.asarray(m.score_samples(X), dtype=np.float64) for m in self.mixtures_], axis=1)
        with np.errstate(divide="ignore"):
            return log_prob + np.log(self.class_prior_)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """log p(class | x), shape (n_samples, n_classes)."""
        joint = self._joint_log_prob(X)
        return joint - logsumexp(joint, axis=1, keepdims=True)

    def predict_proba(self, X: Any) -> np.ndarray:
        """p(class | x) by Bayes' rule, shape (n_samples, n_classes)."""
        return np.exp(self.predict_log_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row."""
        joint = self._joint_log_prob(X)  # checks fitted first
        return self.classes_[np.argmax(joint, axis=1)]

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self.missing == "marginalize"
        return tags

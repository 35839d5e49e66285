"""OutlierDetector: a Gaussian mixture's log-density as an anomaly score, with scikit-learn's outlier conventions."""

from __future__ import annotations

import copy
import numbers
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, OutlierMixin

from .. import _validation as check
from .._base import check_fitted, is_fitted
from ..estimator import GaussianMixture


class OutlierDetector(OutlierMixin, BaseEstimator):
    """Anomaly detection by the density of a Gaussian mixture fitted to (mostly) normal data.

    Follows scikit-learn's outlier-detector conventions (``EllipticEnvelope``, ``IsolationForest``):
    ``score_samples`` is the log-density (high = normal), ``decision_function`` is ``score_samples - offset_``
    (negative = outlier), ``predict`` gives +1 for inliers and -1 for outliers. ``offset_`` is set so that a
    fraction ``contamination`` of the training rows are outliers; :meth:`threshold_for_fpr` and
    :meth:`p_values` calibrate on held-out normal data instead.

    Parameters
    ----------
    n_components : int, default=1
    contamination : float in (0, 0.5], default=0.1
        Expected fraction of outliers in the training data; sets ``offset_``.
    covariance_type, tol, reg_covar, max_iter, n_init, init_params, weights_init, means_init, precisions_init, \
random_state, warm_start, verbose, verbose_interval, chunk_rows, init_sample_size, prior, missing
        As in :class:`gaussmix.GaussianMixture`, which is fitted with them.

    Attributes
    ----------
    mixture_ : GaussianMixture
        The fitted density model.
    offset_ : float
        Score below which a row is an outlier: the training score with exactly floor(contamination · n) of the
        n training rows below it (by weight, so an integer weight acts as that many copies of a row). Assign
        ``threshold_for_fpr(X_val, fpr)`` to it to control the false-positive rate instead.
    n_iter_ : int
        EM iterations of the mixture's best initialisation.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        When X had column names.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix import OutlierDetector
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(500, 2))
    >>> detector = OutlierDetector(contamination=0.05, random_state=0).fit(X)
    >>> detector.predict([[0.0, 0.0], [6.0, 6.0]])
    array([ 1, -1])
    """

    mixture_: GaussianMixture  # fitted attributes, set by fit (declared for type checkers only)
    offset_: float

    def __init__(
        self, n_components: int = 1, *, contamination: float = 0.1, covariance_type: str = "full",
        tol: float = 1e-3, reg_covar: float = 1e-6, max_iter: int = 100, n_init: int = 1,
        init_params: str = "kmeans", weights_init: Any = None, means_init: Any = None, precisions_init: Any = None,
        random_state: Any = None, warm_start: bool = False, verbose: int = 0, verbose_interval: int = 10,
        chunk_rows: int | None = None, init_sample_size: int | None = None, prior: Any = None,
        missing: str = "error",
    ) -> None:
        self.n_components = n_components
        self.contamination = contamination
        self.covariance_type = covariance_type
        self.tol = tol
        self.reg_covar = reg_covar
        self.max_iter = max_iter
        self.n_init = n_init
        self.init_params = init_params
        self.weights_init = weights_init
        self.means_init = means_init
        self.precisions_init = precisions_init
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose
        self.verbose_interval = verbose_interval
        self.chunk_rows = chunk_rows
        self.init_sample_size = init_sample_size
        self.prior = prior
        self.missing = missing

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "mixture_")

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = self.missing == "marginalize"  # rows with NaN scored on what is observed
        return tags

    def fit(self, X: Any, y: Any = None, sample_weight: Any = None) -> OutlierDetector:
        """Fit the mixture to X and set ``offset_`` to the ``contamination`` quantile of the training scores.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features), path, ChunkSource or Dask collection
        y : ignored
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, for the fit and for the quantile.

        Returns
        -------
        self : OutlierDetector
        """
        c = self.contamination
        if not (isinstance(c, numbers.Real) and not isinstance(c, bool) and 0.0 < c <= 0.5):
            raise ValueError(f"The 'contamination' parameter of OutlierDetector must be a real number in (0, 0.5]; "
                             f"got {c!r}.")
        mixture_params = {k: v for k, v in self.get_params().items() if k != "contamination"}
        if self.warm_start and is_fitted(self):
            mixture = copy.deepcopy(self.mixture_).set_params(**mixture_params)
        else:
            mixture = GaussianMixture(**mixture_params)
        mixture.fit(X, sample_weight=sample_weight)
        scores = np.asarray(mixture.score_samples(X), dtype=np.float64)
        offset = _offset(scores, check.check_sample_weight(sample_weight, scores.shape[0]), c)
        self.mixture_ = mixture
        self.offset_ = offset
        self.n_iter_ = mixture.n_iter_
        self.n_features_in_ = mixture.n_features_in_
        if hasattr(mixture, "feature_names_in_"):
            self.feature_names_in_ = mixture.feature_names_in_
        elif hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        return self

    def score_samples(self, X: Any) -> Any:
        """log p(x) of every row under the mixture, shape (n_samples,): high for normal rows."""
        check_fitted(self)
        return self.mixture_.score_samples(X)

    def energy(self, X: Any) -> Any:
        """−log p(x) of every row (DAGMM's sample energy): high for anomalies."""
        return -self.score_samples(X)

    def decision_function(self, X: Any) -> Any:
        """``score_samples(X) - offset_``: negative for outliers, positive for inliers."""
        return self.score_samples(X) - self.offset_

    def predict(self, X: Any) -> Any:
        """+1 for inliers (decision_function >= 0), -1 for outliers, shape (n_samples,)."""
        return np.where(self.decision_function(X) >= 0, 1, -1)

    def fit_predict(self, X: Any, y: Any = None, sample_weight: Any = None) -> Any:
        """Fit on X, then label its rows +1 (inlier) or -1 (outlier)."""
        return self.fit(X, sample_weight=sample_weight).predict(X)

    def p_values(self, X: Any, X_val: Any) -> np.ndarray:
        """Conformal p-values of the rows of X against normal calibration rows X_val (split conformal).

        p(x) = (1 + #{v in X_val : score(v) <= score(x)}) / (n_val + 1). When X_val and a normal x are
        exchangeable, P(p(x) <= alpha) <= alpha for every alpha: flagging p <= alpha bounds the false-positive
        rate by alpha, whatever the mixture's fit.

        Returns
        -------
        ndarray of shape (n_samples,), values in (0, 1]
        """
        return conformal_p_values(self.score_samples(X), self.score_samples(X_val))

    def threshold_for_fpr(self, X_val: Any, fpr: float) -> float:
        """The score threshold t that flags ``score_samples(x) < t`` exactly when ``p_values(x, X_val) <= fpr``.

        t is the m-th smallest calibration score, m = floor(fpr · (n_val + 1)), or −inf when m = 0 (too few
        calibration rows for that rate: nothing is flagged). Set ``detector.offset_ = t`` to make ``predict``
        use it; the false-positive rate on new normal rows is then at most ``fpr``.
        """
        if not (isinstance(fpr, numbers.Real) and not isinstance(fpr, bool) and 0.0 < fpr < 1.0):
            raise ValueError(f"The 'fpr' parameter of threshold_for_fpr must be a real number in (0, 1); got {fpr!r}.")
        val = np.sort(np.asarray(self.score_samples(X_val), dtype=np.float64))
        m = int(np.floor(fpr * (val.shape[0] + 1)))
        return -np.inf if m == 0 else float(val[m - 1])


def conformal_p_values(scores: Any, calibration_scores: Any) -> np.ndarray:
    """(1 + #{calibration scores <= s}) / (n_cal + 1) for every score s: split-conformal p-values.

    Low for rows less likely than the calibration rows; valid (P(p <= alpha) <= alpha) for rows exchangeable
    with the calibration rows.
    """
    calibration = np.sort(np.asarray(calibration_scores, dtype=np.float64))
    below = np.searchsorted(calibration, np.asarray(scores, dtype=np.float64), side="right")
    return (1.0 + below) / (calibration.shape[0] + 1.0)


def _offset(scores: np.ndarray, weights: np.ndarray | None, contamination: float) -> float:
    """A score with floor(contamination · Σw) of the weight strictly below it and the rest at or above it.

    Midway between the distinct score of the last outlier and that of the first inlier, so that no training row
    sits on the boundary where rounding would decide its label. With unit weights and distinct scores exactly
    floor(contamination · n) training rows are outliers (scikit-learn's count); an integer weight counts as that
    many copies of a row.
    """
    if weights is not None:
        scores, weights = scores[weights > 0], weights[weights > 0]
    values, index = np.unique(scores, return_inverse=True)
    mass = np.cumsum(np.bincount(index, weights=weights, minlength=values.shape[0]))
    below = np.floor(contamination * mass[-1])
    first_inlier = min(int(np.searchsorted(mass, below, side="right")), values.shape[0] - 1)
    if first_inlier == 0:
        return float(values[0])
    return float(0.5 * (values[first_inlier - 1] + values[first_inlier]))

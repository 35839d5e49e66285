"""The E-step of rows whose component is known (semi-supervised EM): responsibilities fixed to their label."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from .density import weighted_log_prob
from .estep import resp_stats
from .missing import missing_chunk_stats, nan_rows
from .params import GaussianParams
from .stats import SufficientStats


def labelled_stats(X: np.ndarray, labels: np.ndarray, params: GaussianParams,
                   sample_weight: np.ndarray | None = None) -> SufficientStats:
    """Statistics of rows X (n, D) whose components ``labels`` (n,) are known, about ``params.means``.

    Responsibilities are one-hot, and the log-likelihood is the joint Σ w·(log w_y + log N(x | y)), so EM over
    labelled and unlabelled rows climbs Σ_unlabelled log p(x) + Σ_labelled log p(x, y) (Nigam et al. 2000, eq. 8).
    Rows with NaN add their expected statistics under their own component. They carry no worst rows: a
    component with labelled rows never dies.
    """
    kind = params.covariance_type
    center = np.asarray(params.means, dtype=np.float64)
    k_all, d = center.shape
    missing = nan_rows(X)
    complete = np.arange(X.shape[0]) if missing is None else np.flatnonzero(~missing)
    w = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    stats = SufficientStats.zeros(k_all, d, kind, center)
    if complete.size:
        Xc, yc, wc = X[complete], labels[complete], w[complete]
        onehot = np.zeros((complete.size, k_all))
        onehot[np.arange(complete.size), yc] = 1.0
        joint = np.asarray(weighted_log_prob(Xc, params), dtype=np.float64)[np.arange(complete.size), yc]
        with np.errstate(invalid="ignore"):
            total = float(np.sum(np.where(wc > 0, wc * joint, 0.0)))
        part = resp_stats(Xc, onehot, wc, center, kind)
        stats = stats + replace(part, log_likelihood=np.asarray(total))
    if missing is not None:
        rows = np.flatnonzero(missing)
        part = missing_chunk_stats(X[rows], params, w[rows], labels=labels[rows])
        stats = stats + replace(part, worst_log_prob=np.zeros(0), worst_rows=np.zeros(0, np.int64),
                                worst_points=np.zeros((0, d)))
    return stats


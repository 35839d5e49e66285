"""Beyond ``fit``: choose K and the covariance type, flag anomalies, adapt a universal background model."""

from .adapt import adapted_params, log_likelihood_ratio, map_adapt
from .outliers import OutlierDetector
from .select import MCLUST_NAMES, Candidate, SelectionResult, select, uncertainty
from .summary import ClusteringSummary, summary

__all__ = [
    "Candidate", "ClusteringSummary", "MCLUST_NAMES", "OutlierDetector", "SelectionResult", "adapted_params",
    "log_likelihood_ratio", "map_adapt", "select", "summary", "uncertainty",
]

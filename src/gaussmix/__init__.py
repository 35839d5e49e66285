"""gaussmix: Gaussian mixture models by exact EM over sufficient statistics."""

from ._version import __version__
from .analysis import OutlierDetector, log_likelihood_ratio, map_adapt, select, summary, uncertainty
from .bayesian import BayesianGaussianMixture
from .core.conditional import ConditionalMixture
from .core.params import GaussianParams
from .core.prior import ConjugatePrior
from .core.stats import SufficientStats
from .estimator import GaussianMixture
from .exceptions import (
    ConvergenceWarning,
    DataSourceError,
    DegenerateComponentWarning,
    ModelFileError,
    NotFittedError,
)
from .io.sources import open_data
from .loading import load
from .predictions import write_predictions
from .supervised import GaussianMixtureClassifier, GaussianMixtureRegressor

__all__ = [
    "BayesianGaussianMixture",
    "ConjugatePrior",
    "ConditionalMixture",
    "ConvergenceWarning",
    "DataSourceError",
    "DegenerateComponentWarning",
    "GaussianMixture",
    "GaussianMixtureClassifier",
    "GaussianMixtureRegressor",
    "GaussianParams",
    "ModelFileError",
    "NotFittedError",
    "OutlierDetector",
    "SufficientStats",
    "load",
    "log_likelihood_ratio",
    "map_adapt",
    "open_data",
    "select",
    "summary",
    "uncertainty",
    "write_predictions",
    "__version__",
]

"""The pure math of Gaussian mixtures: parameters, statistics, densities, E-step, M-step, initialisation, EM."""

from .density import log_gaussian_prob, logsumexp, weighted_log_prob
from .em import EMResult, IterationReseed, MaximumLikelihood, MStep, StepOutcome, em_step, run_em
from .estep import chunk_stats, estep_plan, log_resp, resp_stats
from .init import initial_params, initial_stats, kmeans_lloyd, kmeans_plusplus
from .mstep import MStepResult, Reseed, params_from_stats
from .params import (
    COVARIANCE_TYPES,
    CovarianceType,
    GaussianParams,
    NotPositiveDefiniteError,
    covariance_shape,
    n_parameters,
)
from .stats import SufficientStats
from .structures import MCLUST_MODELS, CovarianceStructure, ModelBasedMStep, covariance_structure

__all__ = [
    "COVARIANCE_TYPES", "CovarianceStructure", "CovarianceType", "MCLUST_MODELS", "ModelBasedMStep",
    "covariance_structure", "EMResult", "GaussianParams", "IterationReseed", "MStep", "MStepResult",
    "MaximumLikelihood", "StepOutcome",
    "NotPositiveDefiniteError", "Reseed", "SufficientStats", "chunk_stats", "covariance_shape", "em_step", "estep_plan",
    "initial_params", "initial_stats", "kmeans_lloyd", "kmeans_plusplus", "log_gaussian_prob", "log_resp", "logsumexp",
    "n_parameters", "params_from_stats", "resp_stats", "run_em", "weighted_log_prob",
]

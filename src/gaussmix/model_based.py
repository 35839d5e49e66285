"""What GaussianMixture needs for mclust's models: the M-step of a covariance structure and prior, its starts, and
the fitted attributes of a structured state (estimator-level glue over ``core.structures``; no math here)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .bayesian import data_moments
from .core.em import MStep
from .core.hierarchical import hc_rows, hc_stats, hc_tree
from .core.init import initial_stats
from .core.params import GaussianParams
from .core.prior import ConjugatePrior, resolve_prior
from .core.structures import ModelBasedMStep, attribute_layout, covariance_structure, in_layout

#: With one component every model is one Gaussian, and mclust takes the prior of its family's general model.
SINGLE_COMPONENT_PRIOR = {"spherical": "VII", "diag": "VVI", "tied": "VVV", "full": "VVV"}


def check_prior(value: Any) -> str | None:
    """The 'prior' hyper-parameter rule: None, 'default' or a ConjugatePrior."""
    ok = value is None or (isinstance(value, str) and value == "default") or isinstance(value, ConjugatePrior)
    return None if ok else "None, 'default' or a gaussmix.ConjugatePrior"


def model_based_setup(model: Any, source: Any, accumulate: Callable) -> MStep | None:
    """The M-step of ``model``'s covariance structure and prior; None for scikit-learn's four types without a
    prior (the plain maximum-likelihood step). A prior's defaults cost one pass over the data."""
    name, prior = model.covariance_type, model.prior
    structure = covariance_structure(name)
    if name in ("E", "V") and source.n_features != 1:
        raise ValueError(f"covariance_type={name!r} is mclust's model for one feature; the data has "
                         f"{source.n_features}. Use {name}II instead.")
    if prior is None and not structure.is_mclust:
        return None
    terms = None
    if prior is not None:
        mean, covariance = data_moments(accumulate, source, "full")
        mclust_name = {"full": "VVV", "tied": "EEE", "diag": "VVI", "spherical": "VII"}.get(name, name)
        if source.n_features == 1 and mclust_name in ("EII", "VII"):
            mclust_name = "E" if mclust_name == "EII" else "V"
        if model.n_components == 1:  # one component: mclust's single-Gaussian MAP steps (XII, XXI, XXX)
            mclust_name = SINGLE_COMPONENT_PRIOR.get(structure.layout, mclust_name) if mclust_name not in (
                "E", "V") else mclust_name
        settings = ConjugatePrior() if isinstance(prior, str) else prior
        terms = resolve_prior(settings, mclust_name, model.n_components, mean, np.atleast_2d(covariance),
                              structure.layout)
    return ModelBasedMStep(structure, float(model.reg_covar), terms)


def model_based_start(model: Any, plan: dict[str, np.ndarray], X: Any, weight: Any, rng: np.random.Generator,
                      m_step: Any) -> GaussianParams:
    """One start of a structured fit: the statistics of ``init_params`` (or 'hc') through the structure's own M-step,
    with the user's ``*_init`` arrays (full-layout precisions for mclust's names) in place of its parts."""
    layout = m_step.structure.layout
    kind = attribute_layout(model.covariance_type)
    if len(plan) == 3:
        return GaussianParams.from_precisions(plan["weights"], plan["means"], plan["precisions"], kind)
    if model.init_params == "hc":
        stats = hc_stats(X, model.n_components, rng, layout, sample_weight=weight, max_rows=model.init_sample_size)
    else:
        stats = initial_stats(X, model.n_components, layout, model.init_params, rng, sample_weight=weight,
                              chunk_rows=model._chunk_rows(X.shape[1]))
    params = m_step(stats, None).state
    if "precisions" in plan:
        full = in_layout(params, kind)
        params = GaussianParams.from_precisions(full.weights, full.means, plan["precisions"], kind)
    if "weights" in plan or "means" in plan:
        params = GaussianParams(plan.get("weights", params.weights), plan.get("means", params.means),
                                params.covariances, params.precisions_cholesky, params.covariance_type)
    return params


def shared_hc_tree(X: Any, sample_weight: Any, rng: np.random.Generator,
                   max_rows: int | None) -> tuple[np.ndarray, np.ndarray]:
    """One agglomeration (rows it saw, merges) for every candidate of a selection, as mclust shares one tree."""
    host = np.asarray(X, dtype=np.float64)
    rows = hc_rows(host.shape[0], sample_weight, rng, max_rows)
    return rows, hc_tree(host[rows])


def hc_initial_arrays(n_components: int, covariance_type: str, X: Any, sample_weight: Any,
                      tree: tuple[np.ndarray, np.ndarray], reg_covar: float) -> dict[str, np.ndarray]:
    """``weights_init``, ``means_init`` and ``precisions_init`` of the shared tree cut at K, through the model's
    maximum-likelihood M-step: a candidate's hc start without agglomerating again."""
    structure = covariance_structure(covariance_type)
    stats = hc_stats(X, n_components, np.random.default_rng(0), structure.layout, sample_weight=sample_weight,
                     tree=tree)
    params = in_layout(ModelBasedMStep(structure, reg_covar)(stats, None).state,
                       attribute_layout(covariance_type))
    return {"weights_init": params.weights, "means_init": params.means, "precisions_init": params.precisions}


def state_attributes(covariance_type: str, state: GaussianParams) -> GaussianParams:
    """The state in the fitted attributes' layout: full (K, D, D) for mclust's models, unchanged otherwise."""
    return in_layout(state, attribute_layout(covariance_type))

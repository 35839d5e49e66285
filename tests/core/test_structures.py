"""Each covariance model's update minimises Σ_k a_k log|Σ_k| + tr(S_k Σ_k⁻¹) over its class; EM never goes down."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy.optimize import minimize

from gaussmix.core import covariance_models as cm
from gaussmix.core.estep import resp_stats
from gaussmix.core.prior import ConjugatePrior, log_prior, resolve_prior
from gaussmix.core.structures import MCLUST_MODELS, ModelBasedMStep, covariance_structure, in_layout

D = 2
K = 3


def _rotation(theta: float) -> np.ndarray:
    c, s = np.cos(theta), np.sin(theta)
    return np.array([[c, -s], [s, c]])


def _class_member(model: str, x: np.ndarray) -> np.ndarray:
    """Covariances (K, 2, 2) of ``model`` from free parameters x: volume, shape and orientation each Equal (one
    value), Variable (one per component) or Identity, as mclust's letters say."""
    volume, shape, orientation = model
    it = iter(x)
    log_lam = [next(it)] * K if volume == "E" else [next(it) for _ in range(K)]
    if shape == "I":
        log_a = [0.0] * K
    else:
        log_a = [next(it)] * K if shape == "E" else [next(it) for _ in range(K)]
    if orientation == "I":
        angles = [0.0] * K
    else:
        angles = [next(it)] * K if orientation == "E" else [next(it) for _ in range(K)]
    out = []
    for k in range(K):
        A = np.diag([np.exp(log_a[k]), np.exp(-log_a[k])])  # |A| = 1
        R = _rotation(angles[k])
        out.append(np.exp(log_lam[k]) * R @ A @ R.T)
    return np.array(out)


def _n_free(model: str) -> int:
    return sum({"E": 1, "V": K, "I": 0}[letter] for letter in model)


def _scatters(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    a = rng.uniform(5, 40, size=K)
    S = []
    for k in range(K):
        G = rng.normal(size=(D, 6)) * rng.uniform(0.3, 3, size=(D, 1))
        S.append(a[k] * (G @ G.T / 6))
    return np.array(S), a


def _full_objective(cov: np.ndarray, S: np.ndarray, a: np.ndarray) -> float:
    return cm.objective(cov, S, a, "full", D)


def _update_in_full(model: str, S: np.ndarray, a: np.ndarray) -> np.ndarray:
    structure = covariance_structure(model)
    update = structure.update(D)
    if structure.layout == "spherical":
        cov = update(np.trace(S, axis1=1, axis2=2), a, None)
        return cov[:, None, None] * np.eye(D)
    if structure.layout == "diag":
        return np.array([np.diag(v) for v in update(S[:, range(D), range(D)], a, None)])
    if structure.layout == "tied":
        return np.broadcast_to(update(np.sum(S, axis=0, keepdims=True), a, None), S.shape)
    return update(S, a, None)


@pytest.mark.parametrize("model", MCLUST_MODELS)
def test_update_minimises_its_objective_over_its_model_class(model: str) -> None:
    rng = np.random.default_rng(sum(map(ord, model)))
    S, a = _scatters(rng)
    ours = _full_objective(_update_in_full(model, S, a), S, a)
    best = np.inf
    for start in range(6):  # a generic optimiser over the model's own parametrisation, from several starts
        x0 = np.random.default_rng(start).normal(scale=0.5, size=_n_free(model))
        x0[0] += np.log(np.trace(S.sum(0)) / (D * a.sum()))
        fit = minimize(lambda x: _full_objective(_class_member(model, x), S, a), x0, method="BFGS",
                       options={"gtol": 1e-10, "maxiter": 5000})
        best = min(best, fit.fun)
    assert ours <= best + 1e-7 * abs(best)  # nothing in the class does better ...
    assert ours >= best - 1e-6 * abs(best)  # ... and the update stays in the class (else it could beat it)


@pytest.mark.parametrize("model", ["EVE", "VVE"])
def test_orientation_mm_step_never_increases_the_objective(model: str) -> None:
    rng = np.random.default_rng(3)
    S, a = _scatters(rng)
    values = []
    previous = None
    update = covariance_structure(model).update(D)
    for _ in range(3):  # restarting from its own output can only keep or lower the objective
        cov = update(S, a, previous)
        values.append(_full_objective(cov, S, a))
        previous = cov
    assert np.all(np.diff(values) <= 1e-9 * abs(values[0]))


@pytest.mark.parametrize("model", MCLUST_MODELS)
@pytest.mark.parametrize("with_prior", [False, True])
def test_em_never_decreases_the_penalised_likelihood(model: str, with_prior: bool, faithful: np.ndarray) -> None:
    from gaussmix.core.prior import PRIOR_FAMILIES

    if with_prior and model not in PRIOR_FAMILIES:
        with pytest.raises(ValueError, match=f"not available for covariance model '{model}'"):
            resolve_prior(ConjugatePrior(), model, K, faithful.mean(0), np.cov(faithful.T), "full")
        return
    structure = covariance_structure(model)
    prior = (resolve_prior(ConjugatePrior(), model, K, faithful.mean(0), np.cov(faithful.T), structure.layout)
             if with_prior else None)
    m_step = ModelBasedMStep(structure, 0.0, prior)
    labels = np.argsort(np.argsort(faithful[:, 0])) * K // len(faithful)  # three groups along eruptions
    onehot = np.eye(K)[labels]
    centers = onehot.T @ faithful / onehot.sum(0)[:, None]
    state = m_step(resp_stats(faithful, onehot, None, centers, structure.layout), None).state
    from gaussmix.core.estep import chunk_stats

    bounds = []
    for _ in range(25):
        outcome = m_step(chunk_stats(faithful, m_step.e_step_params(state)), state)
        bounds.append(outcome.lower_bound)
        state = outcome.state
    assert np.all(np.diff(bounds) >= -1e-10 * abs(bounds[0])), np.diff(bounds).min()
    if with_prior:  # the bound is the penalised likelihood: log-likelihood plus the log prior
        ll = float(chunk_stats(faithful, state).log_likelihood)
        assert np.isfinite(log_prior(in_layout(state, structure.layout), prior) + ll)


@pytest.mark.parametrize("sklearn_name, mclust_name", [("full", "VVV"), ("tied", "EEE"), ("diag", "VVI"),
                                                       ("spherical", "VII")])
def test_sklearn_types_are_the_same_fits_as_their_mclust_models(sklearn_name: str, mclust_name: str,
                                                               faithful: np.ndarray) -> None:
    from gaussmix import GaussianMixture

    means_init = np.array([[2.0, 55.0], [3.5, 70.0], [4.5, 82.0]])
    fits = [GaussianMixture(3, covariance_type=name, means_init=means_init, tol=1e-10, max_iter=500,
                            random_state=0).fit(faithful)
            for name in (sklearn_name, mclust_name)]
    sk, mc = fits
    assert mc.covariances_.shape == (3, 2, 2)
    np.testing.assert_allclose(mc.means_, sk.means_, rtol=1e-7)
    np.testing.assert_allclose(mc.covariances_, sk._params().full_covariances, rtol=1e-6, atol=1e-9)
    assert mc.n_parameters() == sk.n_parameters()
    np.testing.assert_allclose(mc.score(faithful), sk.score(faithful), rtol=1e-10)


def test_every_structure_reports_mclust_counts_for_small_cases() -> None:
    # mclust's nVarParams, written out for D = 3, K = 2
    expected = {"EII": 1, "VII": 2, "EEI": 3, "VEI": 4, "EVI": 5, "VVI": 6, "EEE": 6, "VEE": 7, "EVE": 8,
                "VVE": 9, "EEV": 9, "VEV": 10, "EVV": 11, "VVV": 12}
    for model, count in expected.items():
        assert covariance_structure(model).n_covariance_parameters(2, 3) == count, model
    for name, equivalent in itertools.product(("full",), ("VVV",)):
        assert covariance_structure(name).n_parameters(4, 3) == covariance_structure(equivalent).n_parameters(4, 3)

"""The covariance updates of mclust's 14 models (Σ_k = λ_k D_k A_k D_kᵀ, Celeux & Govaert 1995), from scatters.

Every update solves the same problem over its model class:

    minimise  Σ_k  a_k · log|Σ_k| + tr(S_k Σ_k⁻¹)

where ``S`` are the (prior-augmented) scatter matrices about the new means and ``a`` their weights (the
responsibility sums for maximum likelihood, plus the prior's counts for a MAP step). Full-layout models take ``S``
as (K, D, D); diagonal models (``*I`` but EII/VII) the diagonals (K, D); spherical models (EII, VII) the traces
(K,). Each returns covariances in its own layout. Closed forms follow Celeux & Govaert (1995, Table 1); VEI, VEE
and VEV alternate their two closed-form conditional updates (their §3.2), EVE and VVE update the common orientation
by the majorise-minimise step of Browne & McNicholas (2014). Iterative updates start from ``previous`` (the
covariances before the step, same layout, or None) so that an EM step never lowers the objective.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: Inner iterations of the iterative updates stop when their parameters change by less than this (relative).
INNER_TOL = 1e-12
INNER_MAX_ITER = 1000
#: MM steps of the EVE/VVE orientation per M-step when it starts from the previous step's orientation.
WARM_INNER_MAX_ITER = 20

Update = Callable[[np.ndarray, np.ndarray, "np.ndarray | None"], np.ndarray]


def objective(covariances: np.ndarray, S: np.ndarray, a: np.ndarray, layout: str, n_features: int) -> float:
    """Σ_k a_k log|Σ_k| + tr(S_k Σ_k⁻¹) for covariances and scatters of one layout (lower is better)."""
    if layout == "spherical":
        return float(np.sum(a * n_features * np.log(covariances) + S / covariances))
    if layout == "diag":
        return float(np.sum(a * np.sum(np.log(covariances), axis=1) + np.sum(S / covariances, axis=1)))
    cov = np.broadcast_to(covariances, S.shape)
    _, log_det = np.linalg.slogdet(cov)
    return float(np.sum(a * log_det) + np.sum(np.linalg.solve(cov, S).trace(axis1=1, axis2=2)))


def _geometric_mean(v: np.ndarray) -> np.ndarray:
    """|diag(v)|^(1/D) along the last axis, in log space so that it neither overflows nor underflows."""
    return np.exp(np.mean(np.log(v), axis=-1))


def _safe(a: np.ndarray) -> np.ndarray:
    return np.where(a > 0, a, 1.0)


# -- spherical: S are traces (K,), n_features passed by closure ------------------------------------------------

def spherical_equal(d: int) -> Update:
    def update(S: np.ndarray, a: np.ndarray, previous: np.ndarray | None) -> np.ndarray:  # EII, E
        return np.full(S.shape, np.sum(S) / (d * np.sum(a)))
    return update


def spherical_variable(d: int) -> Update:
    def update(S: np.ndarray, a: np.ndarray, previous: np.ndarray | None) -> np.ndarray:  # VII, V
        return S / (d * _safe(a))
    return update


# -- diagonal: S are (K, D) -----------------------------------------------------------------------------------

def eei(S: np.ndarray, a: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    return np.broadcast_to(np.sum(S, axis=0) / np.sum(a), S.shape).copy()


def vvi(S: np.ndarray, a: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    return S / _safe(a)[:, None]


def evi(S: np.ndarray, a: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    g = _geometric_mean(S)  # tr(S_k B_k⁻¹) = D·g_k at the best shape B_k = S_k / g_k
    return (np.sum(g) / np.sum(a)) * (S / g[:, None])


def vei(S: np.ndarray, a: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    """Σ_k = λ_k B, |B| = 1: alternate B given λ (the normalised Σ_k S_k/λ_k) and λ_k = tr(S_k B⁻¹)/(D a_k)."""
    d = S.shape[1]
    if previous is None:
        lam = np.sum(S, axis=1) / (d * _safe(a))
    else:
        lam = _geometric_mean(previous)
    return _alternate(lambda lam: _normalised(np.sum(S / lam[:, None], axis=0)),
                      lambda shape: np.sum(S / shape, axis=1) / (d * _safe(a)),
                      lambda lam, shape: lam[:, None] * shape, lam, S, a, "diag")


def _normalised(v: np.ndarray) -> np.ndarray:
    return v / _geometric_mean(v)


def _alternate(shape_given: Callable, volume_given: Callable, build: Callable, lam: np.ndarray,
               S: np.ndarray, a: np.ndarray, layout: str) -> np.ndarray:
    """Coordinate descent between a common shape and per-component volumes (each step exact, so the objective
    never rises) until the volumes change by less than INNER_TOL relative."""
    shape = shape_given(lam)
    for _ in range(INNER_MAX_ITER):
        new_lam = volume_given(shape)
        shape = shape_given(new_lam)
        done = np.all(np.abs(new_lam - lam) <= INNER_TOL * np.abs(new_lam))
        lam = new_lam
        if done:
            break
    return build(volume_given(shape), shape)


# -- full: S are (K, D, D) ------------------------------------------------------------------------------------

def eee(S: np.ndarray, a: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    """One shared matrix; returned in the tied layout (D, D)."""
    cov = np.sum(S, axis=0) / np.sum(a)
    return 0.5 * (cov + cov.T)


def vvv(S: np.ndarray, a: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    return S / _safe(a)[:, None, None]


def evv(S: np.ndarray, a: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    d = S.shape[1]
    _, log_det = np.linalg.slogdet(S)
    g = np.exp(log_det / d)  # |S_k|^(1/D)
    return (np.sum(g) / np.sum(a)) * S / g[:, None, None]


def _sorted_eigh(S: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (K, D) in decreasing order and their eigenvectors (K, D, D) as columns."""
    values, vectors = np.linalg.eigh(S)
    return values[..., ::-1], vectors[..., ::-1]


def _from_eigen(vectors: np.ndarray, values: np.ndarray) -> np.ndarray:
    cov = (vectors * values[..., None, :]) @ np.swapaxes(vectors, -1, -2)
    return 0.5 * (cov + np.swapaxes(cov, -1, -2))


def eev(S: np.ndarray, a: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    """Σ_k = λ D_k A D_kᵀ: D_k the eigenvectors of S_k (decreasing order), A and λ from the summed eigenvalues."""
    omega, vectors = _sorted_eigh(S)
    total = np.sum(omega, axis=0)
    shape = _normalised(total)
    lam = _geometric_mean(total) / np.sum(a)
    return _from_eigen(vectors, lam * shape[None, :])


def vev(S: np.ndarray, a: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    """Σ_k = λ_k D_k A D_kᵀ: D_k the eigenvectors of S_k; alternate A given λ and λ_k = tr(Ω_k A⁻¹)/(D a_k)."""
    d = S.shape[1]
    omega, vectors = _sorted_eigh(S)
    lam = (np.trace(S, axis1=1, axis2=2) / (d * _safe(a)) if previous is None
           else np.exp(np.linalg.slogdet(previous)[1] / d))
    values = _alternate_diag(omega, a, lam)
    return _from_eigen(vectors, values)


def _alternate_diag(omega: np.ndarray, a: np.ndarray, lam: np.ndarray) -> np.ndarray:
    """λ_k·A for VEV (and VEI): the diagonal problem on eigenvalues ω (K, D), returned as (K, D) values."""
    d = omega.shape[1]
    return _alternate(lambda lam: _normalised(np.sum(omega / lam[:, None], axis=0)),
                      lambda shape: np.sum(omega / shape, axis=1) / (d * _safe(a)),
                      lambda lam, shape: lam[:, None] * shape, lam, omega, a, "diag")


def vee(S: np.ndarray, a: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    """Σ_k = λ_k C, |C| = 1: alternate C (the normalised Σ_k S_k/λ_k) and λ_k = tr(S_k C⁻¹)/(D a_k)."""
    d = S.shape[1]
    lam = (np.trace(S, axis1=1, axis2=2) / (d * _safe(a)) if previous is None
           else np.exp(np.linalg.slogdet(previous)[1] / d))

    def shape_given(lam: np.ndarray) -> np.ndarray:
        C = np.sum(S / lam[:, None, None], axis=0)
        return C / np.exp(np.linalg.slogdet(C)[1] / d)

    def volume_given(C: np.ndarray) -> np.ndarray:
        return np.trace(np.linalg.solve(C[None], S), axis1=1, axis2=2) / (d * _safe(a))

    return _alternate(shape_given, volume_given, lambda lam, C: lam[:, None, None] * C[None], lam, S, a, "full")


def eve(S: np.ndarray, a: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    """Σ_k = λ D A_k Dᵀ: given D, A_k and λ in closed form; given them, D by Browne & McNicholas's MM step."""
    def diagonal(rotated: np.ndarray) -> np.ndarray:  # diag(Dᵀ S_k D) → λ A_k
        g = _geometric_mean(rotated)
        return (np.sum(g) / np.sum(a)) * rotated / g[:, None]
    return _common_orientation(S, a, previous, diagonal)


def vve(S: np.ndarray, a: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    """Σ_k = D Δ_k Dᵀ: given D, Δ_k = diag(Dᵀ S_k D)/a_k; given Δ_k, D by the MM step."""
    return _common_orientation(S, a, previous, lambda rotated: rotated / _safe(a)[:, None])


def _common_orientation(S: np.ndarray, a: np.ndarray, previous: np.ndarray | None,
                        diagonal: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Alternate the per-component diagonals given D and the orientation D given the diagonals.

    The orientation step minimises Σ_k tr(S_k D M_k Dᵀ), M_k = diag(1/δ_k), over orthogonal D. With ω_k the
    largest eigenvalue of S_k it equals Σ_k tr((S_k − ω_k I) D M_k Dᵀ) + const, concave in D, so its tangent
    majorises it: D_new = U Vᵀ from the SVD F = U Σ Vᵀ of F = Σ_k (ω_k I − S_k) D M_k (Browne & McNicholas
    2014, §3) never increases the objective.
    """
    omega_max = np.linalg.eigvalsh(S)[:, -1]
    shifted = omega_max[:, None, None] * np.eye(S.shape[1]) - S
    D = _orientation_start(S, previous)
    # From the previous step's orientation a few MM steps suffice: each lowers the objective (a generalised EM
    # step), and EM's own iterations carry the orientation to convergence.
    for _ in range(INNER_MAX_ITER if previous is None else WARM_INNER_MAX_ITER):
        values = diagonal(_rotated_diagonal(S, D))
        F = np.sum((shifted @ D) / values[:, None, :], axis=0)
        U, _, Vt = np.linalg.svd(F)
        new_D = U @ Vt
        change = np.max(np.abs(new_D - D))
        D = new_D
        if change <= INNER_TOL:
            break
    values = diagonal(_rotated_diagonal(S, D))
    return _from_eigen(np.broadcast_to(D, S.shape), values)


def _rotated_diagonal(S: np.ndarray, D: np.ndarray) -> np.ndarray:
    """diag(Dᵀ S_k D) for every k, shape (K, D)."""
    return np.einsum("ji,kjl,li->ki", D, S, D)


def _orientation_start(S: np.ndarray, previous: np.ndarray | None) -> np.ndarray:
    """The previous step's common orientation (eigenvectors of its first covariance), else those of Σ_k S_k."""
    source = np.sum(S, axis=0) if previous is None else previous[0]
    return np.linalg.eigh(source)[1][:, ::-1]

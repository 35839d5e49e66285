"""GaussianParams: the immutable parameters of a Gaussian mixture, with covariances and precisions built together."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from . import lapack
from .namespace import (
    BATCHED_MAX_SIZE,
    array_namespace,
    cholesky_lower,
    device_kwargs,
    inverse_lower_triangular,
    is_numpy,
    solve_lower_triangular,
)

#: scikit-learn's four covariance types, as a type for annotations.
CovarianceType = Literal["full", "tied", "diag", "spherical"]
#: scikit-learn's four covariance types (mclust's VVV, EEE, VVI and VII), in scikit-learn's order.
COVARIANCE_TYPES: tuple[str, ...] = ("full", "tied", "diag", "spherical")


class NotPositiveDefiniteError(ValueError):
    """Some covariance (or precision) matrices are not positive definite; ``components`` says which.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix import GaussianParams
    >>> from gaussmix.core import NotPositiveDefiniteError
    >>> try:
    ...     GaussianParams.from_covariances(np.array([0.5, 0.5]), np.zeros((2, 1)), np.array([1.0, -1.0]), "spherical")
    ... except NotPositiveDefiniteError as error:
    ...     print(error.components, isinstance(error, ValueError))
    (1,) True
    """

    def __init__(self, components: tuple[int, ...], what: str = "covariance") -> None:
        self.components = components
        super().__init__(
            f"The {what} of component(s) {', '.join(map(str, components))} is not positive definite."
        )


@dataclass(frozen=True, slots=True, eq=False)
class GaussianParams:
    """Parameters of a Gaussian mixture in scikit-learn's layout.

    Shapes by covariance type (K components, D features):
    ``weights`` (K,), ``means`` (K, D); ``covariances`` and ``precisions_cholesky`` are (K, D, D) for full,
    (D, D) for tied, (K, D) for diag and (K,) for spherical. ``precisions_cholesky`` is a triangular P with
    P @ P.T = inverse(covariance). Build with :meth:`from_covariances` or :meth:`from_precisions` so the two
    always agree.

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix import GaussianMixture, GaussianParams
    >>> params = GaussianParams.from_covariances(
    ...     weights=np.array([0.3, 0.7]), means=np.array([[0.0, 0.0], [4.0, 4.0]]),
    ...     covariances=np.array([np.eye(2), 2 * np.eye(2)]), covariance_type="full")
    >>> params.n_components, params.n_features
    (2, 2)
    >>> GaussianMixture.from_params(params).predict(np.array([[0.5, 0.0], [4.0, 3.0]]))
    array([0, 1])
    """

    weights: Any
    means: Any
    covariances: Any
    precisions_cholesky: Any
    covariance_type: str  # one of COVARIANCE_TYPES (CovarianceType), checked at the public edges

    @classmethod
    def from_covariances(
        cls, weights: Any, means: Any, covariances: Any, covariance_type: str
    ) -> GaussianParams:
        """Parameters from covariances; raises NotPositiveDefiniteError naming the failing components."""
        prec_chol = precisions_cholesky_from_covariances(covariances, covariance_type)
        return cls(weights, means, covariances, prec_chol, covariance_type)

    @classmethod
    def from_precisions(
        cls, weights: Any, means: Any, precisions: Any, covariance_type: str
    ) -> GaussianParams:
        """Parameters from precision matrices (scikit-learn's ``precisions_init`` convention)."""
        xp = array_namespace(precisions)
        if covariance_type in ("diag", "spherical"):
            return cls(weights, means, 1.0 / precisions, xp.sqrt(precisions), covariance_type)
        prec_chol = _cholesky(xp, precisions, "precision")
        covariances = _inverse_from_cholesky(xp, prec_chol)
        return cls(weights, means, covariances, prec_chol, covariance_type)

    @property
    def n_components(self) -> int:
        return int(self.means.shape[0])

    @property
    def n_features(self) -> int:
        return int(self.means.shape[1])

    @property
    def precisions(self) -> Any:
        """Precision matrices (inverse covariances), same shapes as ``covariances``."""
        p = self.precisions_cholesky
        if self.covariance_type in ("diag", "spherical"):
            return p * p
        xp = array_namespace(p)
        return p @ xp.matrix_transpose(p) if p.ndim == 3 else p @ p.T

    @property
    def full_covariances(self) -> Any:
        """Every component's covariance as a (D, D) matrix, shape (K, D, D), whatever the covariance type."""
        cov, k, d = self.covariances, self.n_components, self.n_features
        xp = array_namespace(cov)
        if self.covariance_type == "full":
            return cov
        if self.covariance_type == "tied":
            return xp.broadcast_to(cov, (k, d, d))
        eye = _eye_like(xp, self.means)
        variances = cov if self.covariance_type == "diag" else cov[:, None] * xp.ones_like(self.means)
        return variances[:, :, None] * eye

    def log_det_precisions_cholesky(self) -> Any:
        """log|det P| per component, shape (K,) (a scalar for tied); half the log-determinant of the precision."""
        return log_det_cholesky(self.precisions_cholesky, self.covariance_type, self.n_features)

    def to_numpy(self) -> GaussianParams:
        """The same parameters as float64 NumPy arrays on the host."""
        from .namespace import to_numpy

        weights, means, covariances, prec_chol = (np.asarray(to_numpy(a), dtype=np.float64) for a in
                                                  (self.weights, self.means, self.covariances,
                                                   self.precisions_cholesky))
        return GaussianParams(weights, means, covariances, prec_chol, self.covariance_type)


def covariance_shape(covariance_type: str, n_components: int, n_features: int) -> tuple[int, ...]:
    """Shape of ``covariances`` (and of ``precisions_cholesky``, the same) for a covariance type: the one table.

    Examples
    --------
    >>> from gaussmix.core import covariance_shape
    >>> [covariance_shape(kind, 3, 2) for kind in ("full", "tied", "diag", "spherical")]
    [(3, 2, 2), (2, 2), (3, 2), (3,)]
    """
    k, d = n_components, n_features
    return {"full": (k, d, d), "tied": (d, d), "diag": (k, d), "spherical": (k,)}[covariance_type]


def n_parameters(n_components: int, n_features: int, covariance_type: str) -> int:
    """Free parameters of a mixture: K − 1 weights, K·D means and the covariances of the given type.

    Examples
    --------
    >>> from gaussmix.core import n_parameters
    >>> n_parameters(3, 2, "full"), n_parameters(3, 2, "spherical")
    (17, 11)
    """
    k, d = n_components, n_features
    covariance = {"full": k * d * (d + 1) // 2, "tied": d * (d + 1) // 2, "diag": k * d, "spherical": k}
    return covariance[covariance_type] + k * d + k - 1


def log_det_cholesky(prec_chol: Any, covariance_type: str, n_features: int) -> Any:
    """log|det P| of triangular precision Cholesky factors: (K,) for full/diag/spherical, scalar for tied."""
    xp = array_namespace(prec_chol)
    if covariance_type == "full":
        return xp.sum(xp.log(xp.abs(xp.linalg.diagonal(prec_chol))), axis=-1)
    if covariance_type == "tied":
        return xp.sum(xp.log(xp.abs(xp.linalg.diagonal(prec_chol))))
    if covariance_type == "diag":
        return xp.sum(xp.log(prec_chol), axis=1)
    return n_features * xp.log(prec_chol)


def precisions_cholesky_from_covariances(covariances: Any, covariance_type: str) -> Any:
    """P = inverse(cholesky(cov)).T (upper triangular), so that P @ P.T is the precision."""
    xp = array_namespace(covariances)
    if covariance_type in ("diag", "spherical"):
        bad = xp.reshape(covariances <= 0, (covariances.shape[0], -1))
        failed = _failed_indices(xp, xp.any(bad, axis=1)) if covariance_type == "diag" else \
            _failed_indices(xp, covariances <= 0)
        if failed:
            raise NotPositiveDefiniteError(failed)
        return 1.0 / xp.sqrt(covariances)
    if is_numpy(xp) and covariances.shape[-1] > BATCHED_MAX_SIZE and lapack.available(covariances.dtype):
        stack, failed = lapack.precisions_cholesky(covariances.reshape(-1, *covariances.shape[-2:]))
        if failed:
            raise NotPositiveDefiniteError(failed, "covariance")
        return stack.reshape(covariances.shape)
    cov_chol = _cholesky(xp, covariances, "covariance")
    inv_chol = inverse_lower_triangular(xp, cov_chol)
    return xp.matrix_transpose(inv_chol) if inv_chol.ndim == 3 else inv_chol.T


def _eye_like(xp: Any, a: Any) -> Any:
    eye = xp.eye(a.shape[-1], dtype=a.dtype, **device_kwargs(xp, a))
    if a.ndim == 3:
        return xp.broadcast_to(eye, a.shape) if is_numpy(xp) else xp.broadcast_to(eye, a.shape).clone()
    return eye


def _failed_indices(xp: Any, mask: Any) -> tuple[int, ...]:
    return tuple(int(i) for i in np.flatnonzero(np.asarray(_host(mask))))


def _host(a: Any) -> Any:
    return a.detach().cpu().numpy() if hasattr(a, "detach") else a


def _cholesky(xp: Any, a: Any, what: str) -> Any:
    """Lower Cholesky factor of one (D, D) or a stack (K, D, D) of SPD matrices, naming the components that fail."""
    if not is_numpy(xp):
        import torch

        chol, info = torch.linalg.cholesky_ex(a)
        failed = _failed_indices(xp, (info != 0).reshape(-1))
        if failed or not bool(torch.all(torch.isfinite(chol))):
            raise NotPositiveDefiniteError(failed or (0,), what)
        return chol
    chol = cholesky_lower(np.asarray(a))
    if np.all(np.isfinite(chol)):
        return chol
    stack = a[None] if a.ndim == 2 else a
    failed_components: list[int] = []
    for k in range(stack.shape[0]):
        try:
            if not np.all(np.isfinite(np.linalg.cholesky(stack[k]))):
                failed_components.append(k)
        except np.linalg.LinAlgError:
            failed_components.append(k)
    raise NotPositiveDefiniteError(tuple(failed_components) or (0,), what)


def _inverse_from_cholesky(xp: Any, chol: Any) -> Any:
    """inverse(L @ L.T) from its lower Cholesky factor L."""
    inv_chol = solve_lower_triangular(xp, chol, _eye_like(xp, chol))
    inv_chol_t = xp.matrix_transpose(inv_chol) if inv_chol.ndim == 3 else inv_chol.T
    return inv_chol_t @ inv_chol


def covariances_from_precisions_cholesky(prec_chol: Any, covariance_type: str) -> Any:
    """Covariances from triangular precision Cholesky factors P: inverse(P @ P.T)."""
    xp = array_namespace(prec_chol)
    if covariance_type in ("diag", "spherical"):
        return 1.0 / (prec_chol * prec_chol)
    precisions = prec_chol @ (xp.matrix_transpose(prec_chol) if prec_chol.ndim == 3 else prec_chol.T)
    return _inverse_from_cholesky(xp, _cholesky(xp, precisions, "precision"))

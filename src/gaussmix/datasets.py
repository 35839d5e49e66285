"""Synthetic Gaussian mixtures with known parameters, for examples, tests and benchmarks."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .core.params import COVARIANCE_TYPES, CovarianceType, GaussianParams
from .core.sampling import sample_mixture

#: Component standard deviations (square roots of covariance eigenvalues) are drawn uniformly from this range,
#: so every covariance is well conditioned (condition number at most 9) and ``separation`` has a fixed scale.
STD_RANGE: tuple[float, float] = (0.5, 1.5)

#: Concentration of the symmetric Dirichlet that draws ``weights`` when none are given; 5 keeps every
#: component reasonably large (with 3 components, a weight below 0.05 has probability about 1e-3).
DIRICHLET_ALPHA = 5.0


def make_mixture(
    n_samples: int,
    n_components: int = 3,
    n_features: int = 2,
    *,
    weights: Any = None,
    separation: float = 3.0,
    covariance_type: CovarianceType = "full",
    random_state: None | int | np.random.Generator = None,
) -> tuple[np.ndarray, np.ndarray, GaussianParams]:
    """Draw samples from a random Gaussian mixture and return them with the true labels and parameters.

    Component standard deviations along every principal axis are drawn from :data:`STD_RANGE`; full
    covariances are rotated by a uniformly random rotation, tied models share one covariance, diag models
    have independent variances per feature and spherical ones a single variance per component.

    ``separation`` fixes how far apart the means are: the closest pair of means is exactly
    ``separation * sigma_max`` apart, where ``sigma_max`` is the largest standard deviation of any component
    along any direction (the square root of the largest covariance eigenvalue). Other pairs are farther. Means
    are placed by rejection sampling (each new mean at least that far from the earlier ones) and then scaled
    about their centroid so the minimum is met exactly. ``separation=0`` puts every mean at the same point.

    Parameters
    ----------
    n_samples : int
        Number of rows to draw, at least 1. Counts per component come from a multinomial, so a small
        component may receive no rows.
    n_components : int, default=3
        Number of mixture components K, at least 1.
    n_features : int, default=2
        Number of features D, at least 1.
    weights : array-like of shape (n_components,), default=None
        Mixing weights, non-negative and summing to 1 (within 1e-6; they are then normalised). When None,
        they are drawn from a symmetric Dirichlet with concentration :data:`DIRICHLET_ALPHA`.
    separation : float, default=3.0
        Minimum distance between two means in units of ``sigma_max`` (see above); finite and non-negative.
        About 2 or less gives overlapping clusters, 4 or more well separated ones.
    covariance_type : {'full', 'tied', 'diag', 'spherical'}, default='full'
        Covariance structure of the true parameters.
    random_state : None, int or numpy.random.Generator, default=None
        Seed or generator, passed to :func:`numpy.random.default_rng`; a Generator is used (and advanced)
        as is, so the same seed always gives the same data.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The samples, float64, rows in random order.
    labels : ndarray of shape (n_samples,)
        The component (0 .. n_components - 1) each row was drawn from, int64.
    params : GaussianParams
        The true parameters, float64 NumPy arrays, built with :meth:`GaussianParams.from_covariances`.

    Examples
    --------
    >>> X, labels, params = make_mixture(500, n_components=2, random_state=0)
    >>> X.shape, labels.shape, params.means.shape
    ((500, 2), (500,), (2, 2))
    """
    n_samples = _check_count(n_samples, "n_samples")
    n_components = _check_count(n_components, "n_components")
    n_features = _check_count(n_features, "n_features")
    separation = _check_separation(separation)
    if covariance_type not in COVARIANCE_TYPES:
        raise ValueError(
            "The 'covariance_type' parameter of make_mixture must be one of "
            f"{', '.join(map(repr, COVARIANCE_TYPES))}; got {covariance_type!r}."
        )
    rng = _check_random_state(random_state)

    # Draws happen in a fixed order (weights, covariances, means, counts, rows, shuffle): a seed fixes all.
    if weights is None:
        weights = rng.dirichlet(np.full(n_components, DIRICHLET_ALPHA))
        weights = weights / weights.sum()  # exactly 1 for one component, to the last bit or so otherwise
    else:
        weights = _check_weights(weights, n_components)
    covariances, stds = _draw_covariances(rng, n_components, n_features, covariance_type)
    sigma_max = float(np.max(stds))
    means = _draw_means(rng, n_components, n_features, separation * sigma_max)
    params = GaussianParams.from_covariances(weights, means, covariances, covariance_type)

    X, labels = sample_mixture(params, n_samples, rng)
    order = rng.permutation(n_samples)
    return X[order], labels[order], params


def _check_count(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 1:
        raise ValueError(f"The '{name}' parameter of make_mixture must be an integer >= 1; got {value!r}.")
    return int(value)


def _check_separation(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(float(value)) \
            or float(value) < 0:
        raise ValueError(
            f"The 'separation' parameter of make_mixture must be a finite number >= 0; got {value!r}."
        )
    return float(value)


def _check_random_state(random_state: Any) -> np.random.Generator:
    if random_state is not None and (
        isinstance(random_state, bool)
        or not isinstance(random_state, (numbers.Integral, np.random.Generator, np.random.SeedSequence))
    ):
        raise ValueError(
            "The 'random_state' parameter of make_mixture must be None, an int or a numpy.random.Generator; "
            f"got {random_state!r}."
        )
    if isinstance(random_state, numbers.Integral):
        if int(random_state) < 0:
            raise ValueError(f"The 'random_state' parameter of make_mixture must be >= 0; got {random_state}.")
        return np.random.default_rng(int(random_state))
    return np.random.default_rng(random_state)


def _check_weights(weights: Any, n_components: int) -> np.ndarray:
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"The 'weights' parameter of make_mixture must be numeric; {exc}") from None
    if w.shape != (n_components,):
        raise ValueError(
            f"The 'weights' parameter of make_mixture must have shape ({n_components},) to match "
            f"n_components={n_components}; got shape {w.shape}."
        )
    bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
    if bad.size:
        raise ValueError(
            f"The 'weights' parameter of make_mixture must be finite and non-negative; "
            f"weights[{bad[0]}] is {w[bad[0]]}."
        )
    if abs(w.sum() - 1.0) > 1e-6:
        raise ValueError(f"The 'weights' parameter of make_mixture must sum to 1; got a sum of {w.sum():.10g}.")
    return w / w.sum()


def _draw_covariances(
    rng: np.random.Generator, n_components: int, n_features: int, covariance_type: str
) -> tuple[np.ndarray, np.ndarray]:
    """Covariances in scikit-learn's layout for the type, and the standard deviations along their axes."""
    low, high = STD_RANGE
    if covariance_type == "spherical":
        stds = rng.uniform(low, high, size=n_components)
        return stds**2, stds
    if covariance_type == "diag":
        stds = rng.uniform(low, high, size=(n_components, n_features))
        return stds**2, stds
    n_matrices = n_components if covariance_type == "full" else 1
    stds = rng.uniform(low, high, size=(n_matrices, n_features))
    covariances = np.empty((n_matrices, n_features, n_features))
    for k in range(n_matrices):
        rotation = _random_rotation(rng, n_features)
        cov = (rotation * stds[k] ** 2) @ rotation.T
        covariances[k] = 0.5 * (cov + cov.T)  # exactly symmetric, as the M-step's covariances are
    return (covariances if covariance_type == "full" else covariances[0]), stds


def _random_rotation(rng: np.random.Generator, n_features: int) -> np.ndarray:
    """A Haar-distributed orthogonal matrix: QR of a Gaussian matrix with the signs of R's diagonal fixed.

    Mezzadri 2007, "How to generate random matrices from the classical compact groups", section 5.
    """
    q, r = np.linalg.qr(rng.standard_normal((n_features, n_features)))
    return q * np.where(np.diag(r) < 0, -1.0, 1.0)


def _draw_means(rng: np.random.Generator, n_components: int, n_features: int, min_distance: float) -> np.ndarray:
    """Means whose closest pair is exactly ``min_distance`` apart (all at one point when it is 0).

    Candidates come from N(0, spread^2 I) and are kept only when at least ``min_distance`` from every kept
    mean; the spread grows after repeated rejections, so this terminates in any dimension. The kept means are
    then scaled about their centroid, which changes every pairwise distance by the same factor.
    """
    if min_distance == 0.0:
        return np.zeros((n_components, n_features)) + rng.standard_normal(n_features)
    # A spread at which K points in D dimensions are typically about min_distance apart.
    spread = min_distance * max(1.0, n_components ** (1.0 / n_features))
    drawn = [rng.normal(0.0, spread, size=n_features)]
    rejections = 0
    while len(drawn) < n_components:
        candidate = rng.normal(0.0, spread, size=n_features)
        if np.min(np.linalg.norm(np.asarray(drawn) - candidate, axis=1)) >= min_distance:
            drawn.append(candidate)
        else:
            rejections += 1
            if rejections % 20 == 0:
                spread *= 1.2
    means = np.asarray(drawn)
    if n_components == 1:
        return means
    centroid = means.mean(axis=0)
    return centroid + (means - centroid) * (min_distance / _min_pairwise_distance(means))


def _min_pairwise_distance(points: np.ndarray) -> float:
    diff = points[:, None, :] - points[None, :, :]
    dist = np.sqrt(np.sum(diff * diff, axis=-1))
    return float(np.min(dist[np.triu_indices(points.shape[0], k=1)]))

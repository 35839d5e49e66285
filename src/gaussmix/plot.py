"""Plots of fitted mixtures with matplotlib (an optional extra): clusters with ellipses, convergence, criteria.

Each function draws on the ``ax`` it is given (or a new pyplot figure's axes) and returns the axes, so plots
compose with the rest of a figure. Data are drawn in two dimensions: the two chosen columns, or for more than two
features the first two principal components of X, with means and covariances projected the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ._base import fitted_params
from .core.estep import log_resp

#: Points drawn at most by :func:`clusters`; more rows are thinned by a seeded uniform sample.
MAX_POINTS = 20_000
CRITERIA = ("bic", "aic", "icl")


def _pyplot() -> Any:
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError('Plotting needs matplotlib: pip install "gaussmix[plot]"') from exc
    return plt


def _axes(ax: Any) -> Any:
    return _pyplot().subplots()[1] if ax is None else ax


def clusters(
    model: Any, X: Any, ax: Any = None, columns: Sequence[int | str] | None = None, *,
    sigmas: Sequence[float] = (1.0, 2.0), max_points: int = MAX_POINTS, min_weight: float | None = None,
) -> Any:
    """Scatter the rows of X coloured by predicted component, with each component's mean and covariance ellipses.

    Parameters
    ----------
    model : fitted GaussianMixture
    X : array-like of shape (n_samples, n_features)
        Data to draw. The axes are labelled with a DataFrame's column names, else the model's feature names.
    ax : matplotlib Axes, optional
        Where to draw; a new figure when None.
    columns : two column indices or names, optional
        Features to draw. Default: both features when there are two, the first two principal components of X
        when there are more. One feature draws a histogram with the weighted component densities.
    sigmas : sequence of float, default=(1, 2)
        Mahalanobis radii of the ellipses drawn around each mean.
    max_points : int, default=20,000
        Rows drawn at most (a seeded uniform sample of them), so huge data stays quick to plot.
    min_weight : float, optional
        Components lighter than this get no ellipse or mean marker; the title says how many. Default: 0.01 for
        a BayesianGaussianMixture (whose surplus components are switched off, not removed), else 0.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from gaussmix import GaussianMixture, plot
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(0, 1, (100, 2)), rng.normal(5, 1, (100, 2))])
    >>> ax = plot.clusters(GaussianMixture(2, random_state=0).fit(X), X)
    >>> len(ax.patches)                 # a 1σ and a 2σ ellipse per component
    4
    """
    ax = _axes(ax)
    X, names = _as_array(X, getattr(model, "feature_names_in_", None))
    # The rows are a plain array by now (names came from X or the model): label them with the core's E-step, so a
    # model fitted on named columns gives no feature-name warning for its own columns.
    labels = np.argmax(log_resp(X, fitted_params(model, "plot").to_numpy())[1], axis=1)
    if X.shape[1] == 1:
        return _density_1d(model, X[:, 0], ax, names[0])
    center, W, axis_names = _projection(X, names, columns)
    shown = _thin(X.shape[0], max_points)
    Z = (X[shown] - center) @ W
    colors = [_color(k) for k in range(model.n_components)]
    ax.scatter(Z[:, 0], Z[:, 1], c=[colors[k] for k in labels[shown]], s=6, alpha=0.6, linewidths=0)
    if min_weight is None:
        min_weight = 0.01 if hasattr(model, "weight_concentration_") else 0.0
    drawn = np.flatnonzero(np.asarray(model.weights_, dtype=float) >= min_weight)
    means = (np.asarray(model.means_) - center) @ W
    covariances = _full_covariances(model)
    for k in drawn:
        projected = W.T @ covariances[k] @ W
        for radius in sigmas:
            ax.add_patch(_ellipse(means[k], projected, radius, colors[k], alpha=0.9 if radius == sigmas[0] else 0.5))
    ax.scatter(means[drawn, 0], means[drawn, 1], c="black", marker="x", s=60, linewidths=2, label="means", zorder=3)
    ax.set_xlabel(axis_names[0])
    ax.set_ylabel(axis_names[1])
    hidden = model.n_components - drawn.size
    note = f"; {hidden} below {min_weight:g} hidden" if hidden else ""
    ax.set_title(f"{model.n_components} components ({model.covariance_type}), ellipses at "
                 f"{', '.join(f'{s:g}' for s in sigmas)}σ{note}")
    return ax


def convergence(model: Any, ax: Any = None) -> Any:
    """The lower bound at each EM iteration of the kept initialisation (mean log-likelihood per sample, or the
    ELBO of a BayesianGaussianMixture).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from gaussmix import GaussianMixture, plot
    >>> X = np.random.default_rng(0).normal(size=(200, 2))
    >>> gm = GaussianMixture(3, random_state=0).fit(X)
    >>> ax = plot.convergence(gm)
    >>> len(ax.lines[0].get_xdata()) == gm.n_iter_
    True
    """
    ax = _axes(ax)
    bounds = np.asarray(model.lower_bounds_, dtype=float)
    ax.plot(np.arange(1, bounds.size + 1), bounds, marker="o", markersize=3)
    ax.set_xlabel("EM iteration")
    ax.xaxis.set_major_locator(_integer_ticks())
    ax.set_ylabel("lower bound (ELBO)" if hasattr(model, "weight_concentration_") else
                  "lower bound (mean log-likelihood)")
    state = "converged" if model.converged_ else "not converged"
    ax.set_title(f"{state} after {model.n_iter_} iteration(s)")
    return ax


def weights(model: Any, ax: Any = None, threshold: float = 0.01) -> Any:
    """The fitted weights, largest first, as bars: how many components the data uses.

    The picture of scikit-learn's concentration-prior example for a BayesianGaussianMixture, whose surplus
    components get weights near 0; components above ``threshold`` are counted in the title.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from gaussmix import BayesianGaussianMixture, plot
    >>> X = np.random.default_rng(0).normal(size=(200, 2))
    >>> bgm = BayesianGaussianMixture(n_components=5, weight_concentration_prior=0.01, max_iter=500,
    ...                               random_state=0).fit(X)
    >>> ax = plot.weights(bgm)
    >>> len(ax.patches)                 # one bar per component, largest first
    5
    """
    ax = _axes(ax)
    values = np.sort(np.asarray(fitted_params(model, "plot").to_numpy().weights))[::-1]
    in_use = int(np.sum(values > threshold))
    ax.bar(np.arange(1, values.size + 1), values, color=[_color(0) if v > threshold else "0.7" for v in values])
    ax.axhline(threshold, color="0.4", linewidth=0.8, linestyle="--")
    ax.set_xlabel("component (sorted by weight)")
    ax.xaxis.set_major_locator(_integer_ticks())
    ax.set_ylabel("weight")
    ax.set_title(f"{in_use} of {values.size} components above {threshold:g}")
    return ax


def criterion(table: Sequence[Mapping[str, Any]], ax: Any = None, name: str | None = None) -> Any:
    """Model-selection curves: one line per covariance type, the criterion against n_components, best marked.

    Parameters
    ----------
    table : sequence of mappings
        Rows with keys ``n_components``, ``covariance_type`` and one or more of ``bic``, ``aic``, ``icl``
        (lower is better), e.g. the rows of a model-selection result.
    ax : matplotlib Axes, optional
    name : {'bic', 'aic', 'icl'}, optional
        Criterion to draw; default the first of those the rows have.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> import gaussmix
    >>> X = np.random.default_rng(0).normal(size=(200, 2))
    >>> result = gaussmix.select(X, n_components=range(1, 4), covariance_types=["full", "diag"], random_state=0)
    >>> ax = gaussmix.plot.criterion(result.to_dicts(), name="bic")      # as result.plot()
    >>> ax.get_ylabel()
    'BIC (lower is better)'
    """
    rows = list(table)
    if not rows:
        raise ValueError("criterion needs at least one row; the table is empty.")
    available = [c for c in CRITERIA if all(c in row for row in rows)]
    name = name if name is not None else (available[0] if available else None)
    if name not in available:
        raise ValueError(f"The rows have no criterion {name!r} in every row; available: {available}.")
    ax = _axes(ax)
    _lines_by_model(ax, rows, "covariance_type", name, 1.0,
                    lambda best: f"best: {best['n_components']} ({best['covariance_type']})")
    ax.set_xlabel("n_components")
    ax.xaxis.set_major_locator(_integer_ticks())
    ax.set_ylabel(f"{name.upper()} (lower is better)")
    ax.legend()
    return ax


def mclust_bic(table: Sequence[Mapping[str, Any]], ax: Any = None) -> Any:
    """mclust's BIC plot: one line per covariance model, BIC with mclust's sign (2 log L − p log n, higher is
    better) against the number of components, the best marked (rows as for :func:`criterion`).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> import gaussmix
    >>> X = np.random.default_rng(0).normal(size=(200, 2))
    >>> result = gaussmix.select(X, n_components=range(1, 4), covariance_types=["EII", "VVV"], random_state=0)
    >>> ax = gaussmix.plot.mclust_bic(result.to_dicts())      # as result.plot(style="mclust")
    >>> ax.get_ylabel()
    "BIC (mclust's sign: higher is better)"
    """
    rows = list(table)
    if not rows:
        raise ValueError("mclust_bic needs at least one row; the table is empty.")
    ax = _axes(ax)
    name = "mclust_name" if all("mclust_name" in r for r in rows) else "covariance_type"
    _lines_by_model(ax, rows, name, "bic", -1.0, lambda best: f"best: {best[name]},{best['n_components']}")
    ax.set_xlabel("Number of components")
    ax.xaxis.set_major_locator(_integer_ticks())
    ax.set_ylabel("BIC (mclust's sign: higher is better)")
    ax.legend(ncol=2, fontsize="small")
    return ax


def _lines_by_model(ax: Any, rows: list[Mapping[str, Any]], model_key: str, value_key: str, sign: float,
                    best_label: Callable[[Mapping[str, Any]], str]) -> None:
    """One line per model: ``sign`` × the value against n_components; a ring on the row of lowest value (the
    best, whichever sign it is drawn with), labelled by ``best_label``."""
    for model in dict.fromkeys(str(r[model_key]) for r in rows):
        points = sorted((int(r["n_components"]), sign * float(r[value_key])) for r in rows
                        if str(r[model_key]) == model)
        ax.plot(*zip(*points), marker="o", label=model)
    best = min(rows, key=lambda r: float(r[value_key]))
    ax.scatter([best["n_components"]], [sign * float(best[value_key])], s=160, facecolors="none",
               edgecolors="black", zorder=3, label=best_label(best))


# --- geometry -------------------------------------------------------------------------------------------------


def _as_array(X: Any, fitted_names: Any) -> tuple[np.ndarray, list[str]]:
    """X as floats, and its feature names: a DataFrame's columns, else the model's, else x0, x1, ..."""
    columns = getattr(X, "columns", None)
    array = np.asarray(X, dtype=float)
    if array.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features); got shape {array.shape}.")
    names = columns if columns is not None else fitted_names
    if names is None or len(names) != array.shape[1]:
        names = [f"x{j}" for j in range(array.shape[1])]
    return array, [str(n) for n in names]


def _projection(X: np.ndarray, names: list[str], columns: Sequence[int | str] | None
                ) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """(center, W, axis names): the drawn coordinates are (x - center) @ W, W of shape (n_features, 2)."""
    d = X.shape[1]
    if columns is None and d == 2:
        columns = (0, 1)
    if columns is not None:
        if len(columns) != 2:
            raise ValueError(f"columns must name exactly two features; got {list(columns)!r}.")
        index = [_column_index(c, names) for c in columns]
        return np.zeros(d), np.eye(d)[:, index], [names[j] for j in index]
    center = X.mean(axis=0)
    _, singular, vt = np.linalg.svd(X - center, full_matrices=False)
    explained = singular[:2] ** 2 / np.sum(singular**2)
    return center, vt[:2].T, [f"PC{i + 1} ({share:.0%} of variance)" for i, share in enumerate(explained)]


def _column_index(column: int | str, names: list[str]) -> int:
    if isinstance(column, str):
        if column not in names:
            raise ValueError(f"No column {column!r}; the columns are {names}.")
        return names.index(column)
    if not -len(names) <= int(column) < len(names):
        raise ValueError(f"Column index {column} is out of range for {len(names)} features.")
    return int(column) % len(names)


def _full_covariances(model: Any) -> np.ndarray:
    """Every component's covariance as a (D, D) matrix, whatever the covariance type."""
    return fitted_params(model, "plot").to_numpy().full_covariances


def _ellipse(mean: np.ndarray, cov: np.ndarray, radius: float, color: Any, alpha: float) -> Any:
    """The set {z : (z - mean)ᵀ cov⁻¹ (z - mean) = radius²} as a matplotlib Ellipse."""
    from matplotlib.patches import Ellipse

    eigenvalues, eigenvectors = np.linalg.eigh(cov)
    angle = np.degrees(np.arctan2(eigenvectors[1, 1], eigenvectors[0, 1]))
    width, height = 2 * radius * np.sqrt(np.maximum(eigenvalues[::-1], 0.0))
    return Ellipse(tuple(mean), width, height, angle=angle, fill=False, edgecolor=color, linewidth=1.5, alpha=alpha)


def _density_1d(model: Any, x: np.ndarray, ax: Any, name: str) -> Any:
    from scipy.stats import norm

    ax.hist(x, bins=min(60, max(10, x.size // 20)), density=True, color="0.8")
    grid = np.linspace(x.min(), x.max(), 400)
    variances = _full_covariances(model)[:, 0, 0]
    for k, (w, m, v) in enumerate(zip(model.weights_, np.asarray(model.means_)[:, 0], variances)):
        ax.plot(grid, w * norm.pdf(grid, m, np.sqrt(v)), color=_color(k))
    ax.set_xlabel(name)
    ax.set_ylabel("density")
    return ax


def _thin(n: int, max_points: int) -> np.ndarray:
    if n <= max_points:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).choice(n, size=max_points, replace=False))


def _integer_ticks() -> Any:
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def _color(k: int) -> Any:
    from matplotlib import colormaps

    return colormaps["tab10"](k % 10)

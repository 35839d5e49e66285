"""gaussmix.plot: real PNGs of the right size with content, and ellipses that are the stated Mahalanobis contours."""

from __future__ import annotations

import io

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.image import imread
from matplotlib.patches import Ellipse

from conftest import blobs
from gaussmix import GaussianMixture, plot

matplotlib.use("Agg")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def render(draw) -> np.ndarray:
    """Draw on a fresh 4x3-inch, 100-dpi figure; return the PNG's pixels after checking its bytes are a PNG."""
    fig = Figure(figsize=(4, 3), dpi=100)
    draw(fig.add_subplot())
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    data = buffer.getvalue()
    assert data[:8] == PNG_SIGNATURE
    return imread(io.BytesIO(data), format="png")


def assert_not_blank(pixels: np.ndarray) -> None:
    assert pixels.shape[:2] == (300, 400)
    assert pixels[..., :3].std() > 0.05, "the image is (nearly) one colour"


def boundary(patch: Ellipse) -> np.ndarray:
    """Points on the drawn ellipse in data coordinates: the unit circle through the patch's transform."""
    t = np.linspace(0, 2 * np.pi, 50)
    return patch.get_patch_transform().transform(np.column_stack([np.cos(t), np.sin(t)]))


@pytest.fixture(scope="module")
def model_2d():
    X = blobs(np.random.default_rng(5), n=600, d=2)
    return GaussianMixture(3, random_state=0).fit(X), X


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_cluster_ellipses_are_the_1_and_2_sigma_mahalanobis_contours(model_2d, covariance_type):
    _, X = model_2d
    model = GaussianMixture(3, covariance_type=covariance_type, random_state=0).fit(X)
    fig = Figure()
    ax = plot.clusters(model, X, ax=fig.add_subplot())
    ellipses = [p for p in ax.patches if isinstance(p, Ellipse)]
    assert len(ellipses) == 2 * 3
    precisions = np.linalg.inv([model.covariances_] * 3 if covariance_type == "tied" else
                               [np.diag(c) if c.ndim == 1 else c * np.eye(2) if c.ndim == 0 else c
                                for c in model.covariances_])
    for i, patch in enumerate(ellipses):
        k, radius = divmod(i, 2)
        delta = boundary(patch) - model.means_[k]
        mahalanobis = np.sqrt(np.einsum("ni,ij,nj->n", delta, precisions[k], delta))
        np.testing.assert_allclose(mahalanobis, radius + 1.0, rtol=1e-6)


def test_cluster_plot_of_2d_data_is_a_png_with_content(model_2d):
    model, X = model_2d
    assert_not_blank(render(lambda ax: plot.clusters(model, X, ax=ax)))


def test_more_than_two_features_are_drawn_on_the_first_two_principal_components(rng):
    from sklearn.decomposition import PCA

    X = blobs(rng, n=300, d=4)
    model = GaussianMixture(3, random_state=0).fit(X)
    fig = Figure()
    ax = plot.clusters(model, X, ax=fig.add_subplot())
    drawn = ax.collections[0].get_offsets()
    reference = PCA(2).fit_transform(X)
    signs = np.sign(np.sum(drawn * reference, axis=0))  # a principal axis is defined up to its sign
    np.testing.assert_allclose(drawn * signs, reference, atol=1e-9)
    assert ax.get_xlabel().startswith("PC1")
    assert_not_blank(render(lambda a: plot.clusters(model, X, ax=a)))


def test_chosen_columns_by_name_are_drawn_and_labelled(rng):
    frame = pd.DataFrame(blobs(rng, n=300, d=3), columns=["a", "b", "c"])
    model = GaussianMixture(2, random_state=0).fit(frame)
    fig = Figure()
    ax = plot.clusters(model, frame, ax=fig.add_subplot(), columns=["c", "a"])
    np.testing.assert_array_equal(ax.collections[0].get_offsets(), frame[["c", "a"]].to_numpy())
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("c", "a")
    with pytest.raises(ValueError, match="No column 'z'"):
        plot.clusters(model, frame, ax=fig.add_subplot(), columns=["z", "a"])


def test_one_feature_draws_a_histogram_with_component_densities(faithful):
    x = faithful[:, :1]
    model = GaussianMixture(2, random_state=0).fit(x)
    assert_not_blank(render(lambda ax: plot.clusters(model, x, ax=ax)))


def test_convergence_plot_draws_every_lower_bound(model_2d):
    model, _ = model_2d
    fig = Figure()
    ax = plot.convergence(model, ax=fig.add_subplot())
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), model.lower_bounds_)
    assert_not_blank(render(lambda a: plot.convergence(model, ax=a)))


def test_criterion_plot_draws_one_curve_per_covariance_type_and_marks_the_best():
    table = [{"n_components": k, "covariance_type": kind, "bic": (k - 3) ** 2 + offset, "aic": 1.0}
             for kind, offset in [("full", 0.0), ("diag", 2.0)] for k in range(1, 6)]
    fig = Figure()
    ax = plot.criterion(table, ax=fig.add_subplot())
    assert [line.get_label() for line in ax.lines] == ["full", "diag"]
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), [6.0, 3.0, 2.0, 3.0, 6.0])
    assert "best: 3 (full)" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert_not_blank(render(lambda a: plot.criterion(table, ax=a, name="bic")))
    with pytest.raises(ValueError, match="icl"):
        plot.criterion(table, name="icl")


def test_weights_plot_draws_one_bar_per_component_largest_first_and_counts_those_in_use(rng):
    from gaussmix import BayesianGaussianMixture

    X = blobs(rng, n=600, d=2, k=3)
    model = BayesianGaussianMixture(n_components=8, weight_concentration_prior=1e-3, random_state=0).fit(X)
    holder = {}

    def draw(ax):
        holder["ax"] = plot.weights(model, ax=ax)

    assert_not_blank(render(draw))
    ax = holder["ax"]
    heights = [p.get_height() for p in ax.patches]
    assert len(heights) == 8 and heights == sorted(heights, reverse=True)
    np.testing.assert_allclose(sorted(heights), np.sort(model.weights_))
    assert ax.get_title().startswith(f"{int(np.sum(model.weights_ > 0.01))} of 8 components")


def test_clusters_hide_the_components_a_bayesian_mixture_switched_off(rng):
    from gaussmix import BayesianGaussianMixture

    X = blobs(rng, n=600, d=2, k=3)
    model = BayesianGaussianMixture(n_components=8, weight_concentration_prior=1e-3, random_state=0).fit(X)
    holder = {}

    def draw(ax):
        holder["ax"] = plot.clusters(model, X, ax=ax)

    render(draw)
    ellipses = [p for p in holder["ax"].patches if isinstance(p, Ellipse)]
    in_use = int(np.sum(model.weights_ >= 0.01))
    assert in_use < 8 and len(ellipses) == 2 * in_use
    assert f"{8 - in_use} below 0.01 hidden" in holder["ax"].get_title()

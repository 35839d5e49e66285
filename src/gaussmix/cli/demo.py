"""``gaussmix demo``: draw a mixture with known parameters, fit it, and show how well the truth was recovered.

Fitted components are matched to true ones by the Hungarian assignment of means (a fit's component order is
arbitrary), then weights and means are compared; the labelling is compared with the adjusted Rand index.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer

from ..datasets import make_mixture
from ..estimator import GaussianMixture
from . import figures, progress, render
from .options import FigureOutput, Json, Quiet, Seed


def adjusted_rand_index(labels_true: np.ndarray, labels_pred: np.ndarray) -> float:
    """Agreement of two labellings, corrected for chance: 1 identical up to renaming, about 0 for random ones.

    Hubert & Arabie (1985): (index − expected) / (max − expected) over the pairs counted by the contingency
    table n_ij with row sums a_i and column sums b_j: index = Σ C(n_ij, 2), expected = Σ C(a_i, 2) Σ C(b_j, 2) /
    C(n, 2), max = (Σ C(a_i, 2) + Σ C(b_j, 2)) / 2.
    """
    _, true_codes = np.unique(labels_true, return_inverse=True)
    _, pred_codes = np.unique(labels_pred, return_inverse=True)
    table = np.zeros((true_codes.max() + 1, pred_codes.max() + 1))
    np.add.at(table, (true_codes, pred_codes), 1)

    def pairs(counts: np.ndarray) -> float:
        return float(np.sum(counts * (counts - 1) / 2))

    index, rows, cols = pairs(table), pairs(table.sum(axis=1)), pairs(table.sum(axis=0))
    expected = rows * cols / pairs(np.array([true_codes.size]))
    maximum = (rows + cols) / 2
    return 1.0 if maximum == expected else (index - expected) / (maximum - expected)


def match_components(true_means: np.ndarray, fitted_means: np.ndarray) -> np.ndarray:
    """``order[k]`` is the fitted component matched to true component k (least total distance between means)."""
    from scipy.optimize import linear_sum_assignment

    cost = np.linalg.norm(true_means[:, None, :] - fitted_means[None, :, :], axis=2)
    true_index, fitted_index = linear_sum_assignment(cost)
    return fitted_index[np.argsort(true_index)]


def run_demo(seed: int | None, n_samples: int = 1500, n_components: int = 3) -> tuple[dict[str, Any], Any, Any]:
    """Draw, fit and compare; returns the report, the fitted model and the data."""
    X, labels, truth = make_mixture(n_samples, n_components, 2, random_state=seed)
    start = time.perf_counter()
    model = GaussianMixture(n_components, n_init=3, random_state=seed).fit(X)
    seconds = time.perf_counter() - start
    order = match_components(truth.means, model.means_)
    fitted_labels = np.argsort(order)[model.predict(X)]  # fitted component -> its true component's number
    components = [
        {"component": k, "true_weight": float(truth.weights[k]), "fitted_weight": float(model.weights_[j]),
         "true_mean": truth.means[k], "fitted_mean": model.means_[j],
         "mean_error": float(np.linalg.norm(truth.means[k] - model.means_[j]))}
        for k, j in enumerate(order)
    ]
    report = {
        "rows": n_samples, "seed": seed, "seconds": seconds, "n_iter": int(model.n_iter_),
        "converged": bool(model.converged_),
        "adjusted_rand_index": adjusted_rand_index(labels, fitted_labels),
        "max_weight_error": max(abs(c["true_weight"] - c["fitted_weight"]) for c in components),
        "max_mean_error": max(c["mean_error"] for c in components),
        "components": components,
    }
    return report, model, (X, truth)


def print_demo(report: dict[str, Any]) -> None:
    from rich.table import Table

    out = render.stdout()
    out.print(f"Drew {report['rows']} rows from a known mixture of {len(report['components'])} Gaussians in 2-D "
              f"(seed {report['seed']}); fitted in {report['seconds']:.2f} s, {report['n_iter']} EM iterations.")
    table = Table(title="Recovered vs true (fitted components matched to true ones)", title_justify="left")
    for name in ("component", "true weight", "fitted weight", "true mean", "fitted mean", "mean error"):
        table.add_column(name, justify="right")
    for c in report["components"]:
        table.add_row(str(c["component"]), f"{c['true_weight']:.3f}", f"{c['fitted_weight']:.3f}",
                      _point(c["true_mean"]), _point(c["fitted_mean"]), f"{c['mean_error']:.3f}")
    out.print(table)
    out.print(render.facts_table({
        "adjusted Rand index": report["adjusted_rand_index"],
        "max weight error": report["max_weight_error"],
        "max mean error": report["max_mean_error"],
        "plot": report.get("plot"),
    }))


def _point(p: np.ndarray) -> str:
    return "(" + ", ".join(f"{v:.2f}" for v in p) + ")"


def demo(
    output: FigureOutput = Path("gaussmix-demo.png"),
    seed: Seed = 0,
    n_samples: Annotated[int, typer.Option("--n-samples", "-n", min=10, help="Rows to draw.")] = 1500,
    json_output: Json = False,
    quiet: Quiet = False,
) -> None:
    """Fit synthetic data with known parameters, print how well they were recovered, and plot the fit."""
    with progress.spinner("Fitting the demo mixture", progress.wanted(quiet or json_output)):
        report, model, (X, truth) = run_demo(seed, n_samples)
    fig = figures.draw(model, X, "both")
    fig.axes[0].scatter(truth.means[:, 0], truth.means[:, 1], marker="+", s=120, c="red", label="true means")
    fig.axes[0].legend(loc="best")
    report["plot"] = str(figures.save(fig, output))
    if json_output:
        render.print_json(report)
    elif not quiet:
        print_demo(report)


def register(command: Callable[[str | None], Callable[[Callable[..., Any]], Any]]) -> None:
    """Add ``gaussmix demo`` to the app."""
    command("demo")(demo)

"""What the CLI prints: reports built as plain dicts (the ``--json`` output) and rendered as rich tables."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

#: Features shown in a means table; wider models show the first ones and say how many are left out.
MAX_FEATURE_COLUMNS = 6


def stdout() -> Console:
    return Console(highlight=False, soft_wrap=False, width=None if sys.stdout.isatty() else 110)


def print_json(report: Any) -> None:
    """The report as strict JSON on stdout (plain text, never wrapped or coloured).

    JSON has no NaN or infinity, so a non-finite number (the log-likelihood of a row too far from every
    component is -inf) is written as null; docs/CLI.md says so.
    """
    print(json.dumps(_plain(report), indent=2, allow_nan=False))


def _plain(value: Any) -> Any:
    """``value`` as JSON types: arrays and NumPy scalars as lists and numbers, non-finite floats as None."""
    if isinstance(value, np.ndarray):
        value = value.tolist()
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def feature_labels(names: Sequence[str] | None, n_features: int) -> list[str]:
    return list(names) if names is not None else [f"x{j}" for j in range(n_features)]


def components_table(weights: Any, means: Any, names: Sequence[str], sizes: Any = None, title: str = "") -> Table:
    """One row per component: weight, (hard-assignment) size when given, and the mean of each shown feature."""
    means = np.asarray(means)
    shown = list(names)[:MAX_FEATURE_COLUMNS]
    table = Table(title=title or None, title_justify="left")
    table.add_column("component", justify="right")
    table.add_column("weight", justify="right")
    if sizes is not None:
        table.add_column("size", justify="right")
    for name in shown:
        table.add_column(f"mean {name}", justify="right")
    if len(names) > len(shown):
        table.add_column(f"(+{len(names) - len(shown)} more)")
    for k, weight in enumerate(weights):
        cells = [str(k), f"{weight:.4f}"]
        if sizes is not None:
            cells.append(_count(sizes[k]))
        cells += [f"{m:.5g}" for m in means[k, :len(shown)]]
        table.add_row(*cells, *(["…"] if len(names) > len(shown) else []))
    return table


def facts_table(facts: dict[str, Any]) -> Table:
    """A two-column table of named values."""
    table = Table(show_header=False, box=None, padding=(0, 2, 0, 0), pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for key, value in facts.items():
        table.add_row(key, _format(value))
    return table


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(_format, value)) if value else "-"
    return "-" if value is None else str(value)


def _count(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def print_fit(report: dict[str, Any]) -> None:
    """The summary of ``gaussmix fit``."""
    out = stdout()
    model = report["model"]
    names = feature_labels(model["feature_names"], model["n_features"])
    kind = "variational Bayesian " if model.get("bayesian") else ""
    out.print(f"Fitted {model['n_components']} {model['covariance_type']} {kind}component(s) to {report['rows']} "
              f"rows × {model['n_features']} features in {report['seconds']:.2f} s.")
    out.print(components_table(model["weights"], model["means"], names, report["sizes"]))
    out.print(facts_table({
        "log-likelihood": report["log_likelihood"],
        "per row": report["log_likelihood_per_row"],
        "BIC": report["bic"],
        "AIC": report["aic"],
        "converged": report["converged"],
        "iterations": report["n_iter"],
        "saved to": report["saved_to"],
    }))


def print_model(report: dict[str, Any]) -> None:
    """The description of a model file (``gaussmix info``)."""
    out = stdout()
    names = feature_labels(report["feature_names"], report["n_features"])
    estimator = report.get("estimator", "GaussianMixture")
    out.print(f"{report['path']}: {estimator}, {report['n_components']} {report['covariance_type']} component(s), "
              f"{report['n_features']} features")
    out.print(components_table(report["weights"], report["means"], names))
    fit = report["fit_info"]
    out.print(facts_table({
        "features": names,
        "converged": fit.get("converged"),
        "iterations": fit.get("n_iter"),
        "lower bound": fit.get("lower_bound"),
        "hyper-parameters": [f"{k}={v}" for k, v in sorted(report["hyper_parameters"].items()) if v is not None],
        "format": f"{report['format']} v{report['format_version']}",
        "written by": f"gaussmix {report['library_version']} on {report['created']}",
    }))


def print_facts(title: str, facts: dict[str, Any]) -> None:
    out = stdout()
    if title:
        out.print(title)
    out.print(facts_table(facts))


# --- reports: plain dicts, the --json output -------------------------------------------------------------------


def fit_report(model: Any, stats: Any, seconds: float, saved_to: Any) -> dict[str, Any]:
    """Summary of a fit: the model, the data's log-likelihood, BIC/AIC, hard-assignment sizes and timing."""
    names = getattr(model, "feature_names_in_", None)
    return {
        "model": {
            "n_components": model.n_components,
            "covariance_type": model.covariance_type,
            "bayesian": hasattr(model, "weight_concentration_"),
            "n_features": int(model.n_features_in_),
            "feature_names": None if names is None else [str(n) for n in names],
            "weights": np.asarray(model.weights_),
            "means": np.asarray(model.means_),
        },
        "rows": stats.rows,
        "sizes": stats.sizes,
        "log_likelihood": stats.log_likelihood,
        "log_likelihood_per_row": stats.log_likelihood / stats.n,
        **stats.criteria(model),
        "converged": bool(model.converged_),
        "n_iter": int(model.n_iter_),
        "lower_bound": float(model.lower_bound_),
        "seconds": seconds,
        "saved_to": str(saved_to),
    }


def model_report(path: Any, params: Any, metadata: dict[str, Any]) -> dict[str, Any]:
    """What a model file holds (``gaussmix info``): its metadata document plus weights and means."""
    report = {"path": str(path), **metadata}
    report.update(weights=np.asarray(params.weights), means=np.asarray(params.means))
    return report

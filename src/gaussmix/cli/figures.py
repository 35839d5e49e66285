"""Figures the CLI writes: panels from ``gaussmix.plot`` on a matplotlib Figure (no pyplot, no display needed)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..io.atomic import atomic_path

PANEL_SIZE = (5.5, 4.5)  # inches per panel
DPI = 100


def new_figure(n_panels: int) -> tuple[Any, list[Any]]:
    """A figure of ``n_panels`` side-by-side axes, drawn off-screen."""
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError('Plotting needs matplotlib: pip install "gaussmix[plot]"') from exc
    fig = Figure(figsize=(PANEL_SIZE[0] * n_panels, PANEL_SIZE[1]), dpi=DPI, layout="constrained")
    axes = fig.subplots(1, n_panels, squeeze=False)[0]
    return fig, list(axes)


def draw(model: Any, X: Any, kind: str, axes: list[str | int] | None = None) -> Any:
    """Clusters (with X), convergence, both side by side, or the sorted weights; returns the figure."""
    from .. import plot

    kinds = ["clusters", "convergence"] if kind == "both" else [kind]
    fig, panels = new_figure(len(kinds))
    for ax, panel in zip(panels, kinds):
        if panel == "clusters":
            plot.clusters(model, X, ax=ax, columns=axes)
        elif panel == "weights":
            plot.weights(model, ax=ax)
        else:
            plot.convergence(model, ax=ax)
    return fig


def save(fig: Any, path: str | os.PathLike[str]) -> Path:
    """Write the figure to ``path`` atomically (``io.atomic.atomic_path``); the format is the suffix's."""
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=path.suffix.lstrip(".").lower())
    return path

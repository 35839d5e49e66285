"""``gaussmix select`` (choose K and the covariance type by BIC/AIC/ICL) and ``gaussmix outliers`` (flag rows)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import typer

from ..analysis import OutlierDetector, select
from ..analysis.outliers import conformal_p_values
from ..analysis.select import candidate_note
from ..core.structures import MCLUST_MODELS, STRUCTURE_NAMES
from ..io.atomic import refuse_overwriting
from ..io.writers import open_writer
from . import data, figures, progress, render
from .options import (
    FIGURE_SUFFIXES,
    ChunkRows,
    Columns,
    CovarianceType,
    Data,
    Json,
    Quiet,
    Seed,
    TableOutput,
    WeightColumn,
    output_path,
)

COVARIANCE_TYPES = ("full", "tied", "diag", "spherical")
ALL_COVARIANCE_TYPES = ",".join(COVARIANCE_TYPES)  # the --covariance-types default


def parse_components(text: str) -> list[int]:
    """'1-6' -> [1, ..., 6]; '2,3,5' -> [2, 3, 5]; ranges and lists mix ('1-3,8')."""
    values: list[int] = []
    for part in text.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if match is None or int(match.group(1)) < 1 or (match.group(2) and int(match.group(2)) < int(match.group(1))):
            raise typer.BadParameter(f"'{text}' is not a list of component counts >= 1 such as '1-6' or '2,3,5'.",
                                     param_hint="'--n-components'")
        low, high = int(match.group(1)), int(match.group(2) or match.group(1))
        values.extend(range(low, high + 1))
    return values


def parse_types(text: str) -> list[str]:
    """'full,diag' -> ['full', 'diag'], each checked; 'mclust' -> mclust's 14 models (any name may mix in)."""
    kinds = [t.strip() for t in text.split(",") if t.strip()]
    kinds = [m for t in kinds for m in (MCLUST_MODELS if t == "mclust" else (t,))]
    unknown = [t for t in kinds if t not in STRUCTURE_NAMES]
    if not kinds or unknown:
        raise typer.BadParameter(f"'{text}': each covariance type must be 'mclust' or one of "
                                 f"{', '.join(STRUCTURE_NAMES)}.", param_hint="'--covariance-types'")
    return list(dict.fromkeys(kinds))


def checked_by(parse: Callable[[str], Any]) -> Callable[[str], str]:
    """A typer callback refusing, while options are parsed (a usage error, exit 2), text ``parse`` cannot read."""

    def check(text: str) -> str:
        parse(text)
        return text

    return check


def open_interval(name: str, low: float, high: float, closed_high: bool = False) -> Callable[[float], float]:
    """A typer callback refusing values outside (low, high), or (low, high] with ``closed_high``."""

    def check(value: float) -> float:
        if not (low < value < high or (closed_high and value == high)):
            raise typer.BadParameter(f"{value:g} is not in ({low:g}, {high:g}{']' if closed_high else ')'}.",
                                     param_hint=f"'{name}'")
        return value

    return check


def optional_output(*suffixes: str) -> Callable[[Path | None], Path | None]:
    """``options.output_path`` for an output that may be left out."""
    check = output_path(*suffixes)
    return lambda path: None if path is None else check(path)


Components = Annotated[str, typer.Option(
    "--n-components", "-k", callback=checked_by(parse_components),
    help="Numbers of components to try: a range '1-6' or a list '2,3,5'.")]
CovarianceTypes = Annotated[str, typer.Option(
    "--covariance-types", "-t", callback=checked_by(parse_types),
    help="Covariance types to try, comma-separated: full, tied, diag, spherical (mclust's VVV, EEE, VVI, VII), "
         "mclust's model names (EII, ..., VVV), or 'mclust' for all 14.")]
Criterion = Annotated[Literal["bic", "aic", "icl"], typer.Option(
    "--criterion", help="Lower is better (mclust's BIC is the same number with the opposite sign).")]
NInit = Annotated[int, typer.Option("--n-init", min=1, help="Initialisations per candidate; the best is kept.")]
RegCovar = Annotated[float, typer.Option("--reg-covar", min=0.0, help="Added to covariance diagonals.")]
Tol = Annotated[float, typer.Option("--tol", min=0.0, help="Stop when the mean log-likelihood changes less.")]
MaxIter = Annotated[int, typer.Option("--max-iter", min=0, help="EM iterations per initialisation.")]
BestModelOutput = Annotated[Path | None, typer.Option(
    "--output", "-o", help="Save the best model here (.npz).", show_default=False, callback=optional_output())]
PlotOutput = Annotated[Path | None, typer.Option(
    "--plot", help=f"Draw the criterion curves to this figure file ({', '.join(FIGURE_SUFFIXES)}).",
    show_default=False, callback=optional_output(*FIGURE_SUFFIXES))]


def select_command(
    data_path: Data,
    n_components: Components = "1-9",
    covariance_types: CovarianceTypes = ALL_COVARIANCE_TYPES,
    criterion: Criterion = "bic",
    n_init: NInit = 1,
    seed: Seed = None,
    reg_covar: RegCovar = 1e-6,
    tol: Tol = 1e-3,
    max_iter: MaxIter = 100,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Candidates fitted at once (default: "
                                             "one per core).", show_default=False)] = None,
    output: BestModelOutput = None,
    plot: PlotOutput = None,
    columns: Columns = None,
    sample_weight_column: WeightColumn = None,
    chunk_rows: ChunkRows = None,
    json_output: Json = False,
    quiet: Quiet = False,
) -> None:
    """Fit every number of components and covariance type, print the table, and keep the best by BIC/AIC/ICL.

    Candidates with a component whose variance sits at the floor (< 10 × reg-covar) are marked and never chosen.
    """
    ks, kinds = parse_components(n_components), parse_types(covariance_types)
    refuse_overwriting({"DATA": data_path}, {"--output": output, "--plot": plot})
    source = data.open_input(data_path, columns, sample_weight_column, chunk_rows=chunk_rows)
    with progress.spinner(f"Fitting {len(ks) * len(kinds)} candidates", progress.wanted(quiet or json_output)):
        result = select(source, ks, kinds, criterion, n_init=n_init, random_state=seed, n_jobs=jobs,
                        reg_covar=reg_covar, tol=tol, max_iter=max_iter)
    report: dict[str, Any] = {"criterion": criterion, "best": result.best.as_dict(), "table": result.to_dicts()}
    if output is not None:
        result.best_model.save(output)
        report["saved_to"] = str(output)
    if plot is not None:
        fig, (ax,) = figures.new_figure(1)
        result.plot(ax=ax)
        report["plot"] = str(figures.save(fig, plot))
    if json_output:
        render.print_json(report)
    elif not quiet:
        print_selection(result)
        extra = {k: report[k] for k in ("saved_to", "plot") if k in report}
        if extra:
            render.print_facts("", {"best model saved to" if k == "saved_to" else "plot": v for k, v in extra.items()})


def print_selection(result: Any) -> None:
    """The candidates as a table, best first marked, flagged and failed rows explained."""
    from rich.table import Table

    name, best = result.criterion.upper(), result.best
    table = Table(title=f"{name} (lower is better; mclust reports −BIC). Best: {best.n_components} "
                        f"{best.covariance_type} ({best.mclust_name})", title_justify="left")
    for column in ("K", "type", "mclust", "log-lik", "params", "BIC", "AIC", "ICL", "conv", "iter", "s", "note"):
        table.add_column(column, justify="left" if column in ("type", "mclust", "note") else "right")
    for i, c in enumerate(result.table):
        note = candidate_note(result, i)
        table.add_row(str(c.n_components), c.covariance_type, c.mclust_name, f"{c.log_likelihood:.2f}",
                      str(c.n_parameters), f"{c.bic:.2f}", f"{c.aic:.2f}", f"{c.icl:.2f}",
                      "yes" if c.converged else "no", str(c.n_iter), f"{c.seconds:.2f}", note,
                      style="bold" if i == result.best_index else None)
    render.stdout().print(table)
    if any(c.covariance_type in MCLUST_MODELS for c in result.table):
        render.stdout().print(result.bic_table(), markup=False, highlight=False, soft_wrap=True)


def outliers_command(
    data_path: Data,
    output: TableOutput,
    train: Annotated[Path | None, typer.Option(
        "--train", help="Fit on this file instead of DATA (same columns).", show_default=False)] = None,
    calibration: Annotated[Path | None, typer.Option(
        "--calibration", help="Normal rows to calibrate on: adds conformal p-values and sets the threshold from "
        "--fpr.", show_default=False)] = None,
    fpr: Annotated[float, typer.Option("--fpr", callback=open_interval("--fpr", 0.0, 1.0),
                                       help="False-positive rate on normal rows, in (0, 1) (with --calibration).")]
    = 0.01,
    contamination: Annotated[float, typer.Option(
        "--contamination", callback=open_interval("--contamination", 0.0, 0.5, closed_high=True),
        help="Share of the training rows taken as outliers, in (0, 0.5] (without --calibration).")] = 0.1,
    n_components: Annotated[int, typer.Option("--n-components", "-k", min=1, help="Number of components.")] = 1,
    covariance_type: CovarianceType = "full",
    n_init: NInit = 1,
    seed: Seed = None,
    reg_covar: RegCovar = 1e-6,
    columns: Columns = None,
    chunk_rows: ChunkRows = None,
    json_output: Json = False,
    quiet: Quiet = False,
) -> None:
    """Fit a mixture density, then write each row's log-density score, decision and label (+1 inlier, -1 outlier)."""
    refuse_overwriting({"DATA": data_path, "--train": train, "--calibration": calibration}, {"--output": output})
    target = data.open_input(data_path, columns, chunk_rows=chunk_rows)
    fit_on = target if train is None else data.open_input(train, columns, chunk_rows=chunk_rows)
    detector = OutlierDetector(n_components, contamination=contamination, covariance_type=covariance_type,
                               n_init=n_init, random_state=seed, reg_covar=reg_covar)
    with progress.spinner("Fitting and scoring", progress.wanted(quiet or json_output)):
        detector.fit(fit_on)
        calibration_scores = None
        if calibration is not None:
            calibration_source = data.open_input(calibration, columns, chunk_rows=chunk_rows)
            detector.offset_ = detector.threshold_for_fpr(calibration_source, fpr)
            calibration_scores = np.asarray(detector.score_samples(calibration_source), dtype=np.float64)
        n_rows, n_outliers = _write_scores(detector, target, output, calibration_scores)
    report = {"output": str(output), "rows": n_rows, "outliers": n_outliers, "offset": detector.offset_,
              "threshold_from": f"fpr={fpr:g} on {calibration}" if calibration is not None else
              f"contamination={contamination:g} of the training rows",
              "columns": ["score", "decision", "label", *(["p_value"] if calibration is not None else [])]}
    if json_output:
        render.print_json(report)
    elif not quiet:
        render.print_facts("", {"wrote": f"{n_rows} rows to {output}", "outliers": n_outliers,
                                "threshold (log-density)": report["offset"],
                                "threshold from": report["threshold_from"], "columns": report["columns"]})


def _write_scores(detector: OutlierDetector, source: Any, output: Path,
                  calibration_scores: np.ndarray | None) -> tuple[int, int]:
    """Score the source block by block into the output file; returns (rows, outliers)."""
    columns = ["score", "decision", "label", *(["p_value"] if calibration_scores is not None else [])]
    n_rows = n_outliers = 0
    with open_writer(output, columns) as out:
        for chunk in source.chunks():
            score = np.asarray(detector.score_samples(chunk.X), dtype=np.float64)
            decision = score - detector.offset_
            label = np.where(decision >= 0, 1, -1)
            block = {"score": score, "decision": decision, "label": label}
            if calibration_scores is not None:
                block["p_value"] = conformal_p_values(score, calibration_scores)
            out.write(block)
            n_rows += score.shape[0]
            n_outliers += int(np.sum(label == -1))
    return n_rows, n_outliers


def register(command: Callable[[str | None], Callable[[Callable[..., Any]], Any]]) -> None:
    """Add ``gaussmix select`` and ``gaussmix outliers`` to the app."""
    command("select")(select_command)
    command("outliers")(outliers_command)

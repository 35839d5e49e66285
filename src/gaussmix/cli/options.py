"""Arguments and options shared by the commands, declared once as ``Annotated`` aliases."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

DATA_SUFFIXES = (".csv", ".tsv", ".txt", ".parquet", ".pq", ".npy", ".npz", ".zarr")
TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".npy")
FIGURE_SUFFIXES = (".png", ".svg", ".pdf", ".jpg", ".jpeg")


def output_path(*suffixes: str):
    """A typer callback refusing, before any work, an output whose directory is missing, suffix is unknown, or that
    is a directory (inputs are compared with outputs by ``data.refuse_overwriting``, once all are parsed)."""

    def check(path: Path) -> Path:
        if suffixes and path.suffix.lower() not in suffixes:
            raise typer.BadParameter(f"'{path}' must end in one of {', '.join(suffixes)}.")
        if not path.absolute().parent.is_dir():
            raise typer.BadParameter(f"the directory of '{path}' does not exist.")
        if path.is_dir():
            raise typer.BadParameter(f"'{path}' is a directory; an output must be a file.")
        return path

    return check


Data = Annotated[Path, typer.Argument(
    metavar="DATA", help=f"Data file ({', '.join(DATA_SUFFIXES)}); CSV/TSV with or without a header row.",
    show_default=False)]
Model = Annotated[Path, typer.Argument(
    metavar="MODEL", help="Model file written by 'gaussmix fit' (.npz).", show_default=False)]
ModelOutput = Annotated[Path, typer.Option("--output", "-o", help="Where to save the fitted model (.npz).",
                                           show_default=False, callback=output_path())]
TableOutput = Annotated[Path, typer.Option(
    "--output", "-o", help=f"Output file ({', '.join(TABLE_SUFFIXES)}).", show_default=False,
    callback=output_path(*TABLE_SUFFIXES))]
FigureOutput = Annotated[Path, typer.Option(
    "--output", "-o", help=f"Figure file ({', '.join(FIGURE_SUFFIXES)}).", callback=output_path(*FIGURE_SUFFIXES))]
Columns = Annotated[str | None, typer.Option(
    "--columns", "-c", help="Feature columns, by name or 0-based index, comma-separated (default: all; for a "
    "fitted model, the columns it was fitted on).", show_default=False)]
WeightColumn = Annotated[str | None, typer.Option(
    "--sample-weight-column", "-w", help="Column of non-negative row weights (left out of the features).",
    show_default=False)]
Seed = Annotated[int | None, typer.Option("--seed", help="Random seed, for reproducible results.",
                                          show_default=False)]
ChunkRows = Annotated[int | None, typer.Option(
    "--chunk-rows", min=1, help="Rows read per block (default: about 8 MB of data).", show_default=False)]
Json = Annotated[bool, typer.Option("--json", help="Print a JSON report on stdout (no tables, no progress).")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but warnings and errors.")]
CovarianceType = Annotated[Literal["full", "tied", "diag", "spherical", "EII", "VII", "EEI", "VEI", "EVI", "VVI",
                                   "EEE", "VEE", "EVE", "VVE", "EEV", "VEV", "EVV", "VVV", "E", "V"], typer.Option(
    "--covariance-type", "-t", help="Covariance of each component: scikit-learn's four types or mclust's models.")]

"""The ``gaussmix`` command line: the typer app and the model commands (fit, predict, score, sample, info, plot).

Each command parses, calls the public API and renders. Errors become exit codes in ``errors.guarded``; shared
options live in ``options``. Other command groups add themselves with ``register(command)`` at the bottom.
"""

import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from .. import BayesianGaussianMixture, GaussianMixture, load
from ..io.atomic import refuse_overwriting
from ..io.model_file import load_model
from . import analysis_commands, data, demo, figures, progress, render
from .errors import EXIT_INTERRUPTED, guarded, say
from .options import (
    ChunkRows,
    Columns,
    CovarianceType,
    Data,
    FigureOutput,
    Json,
    Model,
    ModelOutput,
    Quiet,
    Seed,
    TableOutput,
    WeightColumn,
)

app = typer.Typer(
    name="gaussmix", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    help="Gaussian mixture models from the command line: fit a file, predict, score, sample, plot.",
)


def command(name: str | None = None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a function as a subcommand, with ``--debug`` and the CLI's error handling."""
    return lambda function: app.command(name)(guarded(function))


def show(report: Any, json_output: bool, quiet: bool, printer: Callable[[Any], None]) -> None:
    """Print a report as JSON, as tables, or not at all."""
    if json_output:
        render.print_json(report)
    elif not quiet:
        printer(report)


@command()
def fit(
    data_path: Data,
    n_components: Annotated[int, typer.Option("--n-components", "-k", min=1, help="Number of components.")],
    output: ModelOutput,
    covariance_type: CovarianceType = "full",
    n_init: Annotated[int, typer.Option("--n-init", min=1, help="Initialisations; the best is kept.")] = 1,
    seed: Seed = None,
    columns: Columns = None,
    reg_covar: Annotated[float, typer.Option("--reg-covar", min=0.0, help="Added to covariance diagonals.")] = 1e-6,
    max_iter: Annotated[int, typer.Option("--max-iter", min=0, help="EM iterations per initialisation.")] = 100,
    tol: Annotated[float, typer.Option("--tol", min=0.0, help="Stop when the lower bound changes less.")]
    = 1e-3,
    bayesian: Annotated[bool, typer.Option(
        "--bayesian", help="Variational Bayes (BayesianGaussianMixture): -k is an upper bound, and components the "
        "data does not need get weights near 0.")] = False,
    weight_concentration_prior: Annotated[float | None, typer.Option(
        "--weight-concentration-prior", min=1e-300, help="With --bayesian: the Dirichlet-process "
        "concentration; small values switch off more components (default 1/k).", show_default=False)] = None,
    sample_weight_column: WeightColumn = None,
    chunk_rows: ChunkRows = None,
    json_output: Json = False,
    quiet: Quiet = False,
) -> None:
    """Fit a Gaussian mixture to a data file, save it, and print a summary. Ctrl-C saves the best model so far."""
    refuse_overwriting({"DATA": data_path}, {"--output": output})
    if weight_concentration_prior is not None and not bayesian:
        raise typer.BadParameter("--weight-concentration-prior needs --bayesian.")
    source = data.open_input(data_path, columns, sample_weight_column, chunk_rows=chunk_rows)
    shared: dict[str, Any] = dict(n_components=n_components, covariance_type=covariance_type, n_init=n_init,
                                  random_state=seed, reg_covar=reg_covar, max_iter=max_iter, tol=tol)
    model = (BayesianGaussianMixture(**shared, weight_concentration_prior=weight_concentration_prior) if bayesian
             else GaussianMixture(**shared))
    start = time.perf_counter()
    _fit_or_save_on_interrupt(model, source, output, progress.wanted(quiet or json_output))
    seconds = time.perf_counter() - start
    model.save(output)
    with progress.spinner("Scoring the fit", progress.wanted(quiet or json_output)):
        stats = data.fit_stats(model, source)
    show(render.fit_report(model, stats, seconds, output), json_output, quiet, render.print_fit)


def _fit_or_save_on_interrupt(
    model: GaussianMixture | BayesianGaussianMixture, source: Any, output: Path, show_progress: bool,
) -> None:
    with progress.FitProgress(model.n_init, model.max_iter, show_progress) as bar:
        try:
            model.fit(source, on_iteration=bar.on_iteration)
        except KeyboardInterrupt:
            if not model.__sklearn_is_fitted__():
                say("interrupted before the first EM iteration; nothing was saved.")
                raise typer.Exit(EXIT_INTERRUPTED) from None
            model.save(output)
            say(f"interrupted after {model.n_iter_} EM iteration(s); saved the best model so far to {output}.")
            raise typer.Exit(EXIT_INTERRUPTED) from None


@command()
def predict(
    model_path: Model,
    data_path: Data,
    output: TableOutput,
    proba: Annotated[bool, typer.Option("--proba", help="Add each component's probability (proba_0, ...).")]
    = False,
    log_prob: Annotated[bool, typer.Option("--log-prob/--no-log-prob", help="Add log p(x) per row.")] = True,
    columns: Columns = None,
    chunk_rows: ChunkRows = None,
    json_output: Json = False,
    quiet: Quiet = False,
) -> None:
    """Write each row's most likely component (and optionally probabilities and log-likelihood) to a file."""
    from ..predictions import write_predictions

    refuse_overwriting({"MODEL": model_path, "DATA": data_path}, {"--output": output})
    model = load(model_path)
    source = data.open_input(data_path, columns, model=model, chunk_rows=chunk_rows)
    with progress.spinner("Predicting", progress.wanted(quiet or json_output)):
        write_predictions(model, source, output, proba=proba, log_prob=log_prob)
    probabilities = [f"proba_{k}" for k in range(model.n_components)] if proba else []
    report = {"output": str(output), "columns": ["label", *(["log_prob"] if log_prob else []), *probabilities]}
    show(report, json_output, quiet, lambda r: render.print_facts("", {"wrote": r["output"],
                                                                        "columns": r["columns"]}))


@command()
def score(
    model_path: Model,
    data_path: Data,
    columns: Columns = None,
    sample_weight_column: WeightColumn = None,
    chunk_rows: ChunkRows = None,
    json_output: Json = False,
) -> None:
    """Print how well a model explains a data file: log-likelihood per row and in total, BIC and AIC."""
    model = load(model_path)
    source = data.open_input(data_path, columns, sample_weight_column, model=model, chunk_rows=chunk_rows)
    with progress.spinner("Scoring", progress.wanted(json_output)):
        stats = data.fit_stats(model, source)
    report = {"rows": stats.rows, "log_likelihood_per_row": stats.log_likelihood / stats.n,
              "log_likelihood": stats.log_likelihood, **stats.criteria(model)}
    show(report, json_output, False, lambda r: render.print_facts(f"{data_path} under {model_path}:", {
        "rows": r["rows"], "log-likelihood per row": r["log_likelihood_per_row"],
        "log-likelihood": r["log_likelihood"], "BIC": r["bic"], "AIC": r["aic"]}))


@command()
def sample(
    model_path: Model,
    n_samples: Annotated[int, typer.Option("--n-samples", "-n", min=1, help="Rows to draw.")],
    output: TableOutput,
    seed: Seed = None,
    json_output: Json = False,
    quiet: Quiet = False,
) -> None:
    """Draw rows from a model: its features plus the component each row came from."""
    refuse_overwriting({"MODEL": model_path}, {"--output": output})
    model = load(model_path)
    data.check_sample_size(n_samples, int(model.n_features_in_))
    model.set_params(random_state=seed)
    X, labels = model.sample(n_samples)
    names = render.feature_labels(getattr(model, "feature_names_in_", None), X.shape[1])
    data.write_rows(output, [*names, "component"], {**dict(zip(names, X.T)), "component": labels})
    report = {"output": str(output), "rows": n_samples, "columns": [*names, "component"]}
    show(report, json_output, quiet, lambda r: render.print_facts("", {"wrote": f"{r['rows']} rows to {r['output']}",
                                                                        "columns": r["columns"]}))


@command()
def info(model_path: Model, json_output: Json = False) -> None:
    """Describe a model file: components, features, fit record, hyper-parameters, format and version."""
    params, metadata, _ = load_model(model_path)
    show(render.model_report(model_path, params, metadata), json_output, False, render.print_model)


@command()
def plot(
    model_path: Model,
    data_path: Data,
    output: FigureOutput,
    columns: Columns = None,
    axes: Annotated[str | None, typer.Option(
        "--axes", help="Two features to draw, e.g. 'x,y' (default: both of two, else the first two principal "
        "components).", show_default=False)] = None,
    kind: Annotated[Literal["both", "clusters", "convergence", "weights"], typer.Option(
        "--kind", help="Panels to draw (weights: the sorted weights, how many components are in use).")] = "both",
    max_points: Annotated[int, typer.Option("--max-points", min=1, help="Rows drawn at most (a uniform sample).")]
    = 20_000,
    seed: Seed = None,
    quiet: Quiet = False,
) -> None:
    """Plot a model over a data file: points coloured by component with 1σ/2σ ellipses, and EM convergence."""
    refuse_overwriting({"MODEL": model_path, "DATA": data_path}, {"--output": output})
    model = load(model_path)
    source = data.open_input(data_path, columns, model=model)
    X = data.sample_rows(source, max_points, seed) if kind in ("both", "clusters") else None
    figures.save(figures.draw(model, X, kind, data.parse_columns(axes)), output)
    if not quiet:
        render.print_facts("", {"wrote": str(output)})


demo.register(command)
analysis_commands.register(command)

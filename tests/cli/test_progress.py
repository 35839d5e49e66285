"""The progress hook: fit(on_iteration=...) reports every EM iteration, and the CLI's bar follows it."""

from __future__ import annotations

import io

from rich.console import Console

from gaussmix import GaussianMixture
from gaussmix.cli.progress import FitProgress


def test_on_iteration_sees_every_iteration_of_every_initialisation(faithful):
    calls: list[tuple[int, float]] = []
    model = GaussianMixture(2, n_init=3, random_state=0).fit(faithful, on_iteration=lambda *a: calls.append(a))
    starts = [i for i, (n_iter, _) in enumerate(calls) if n_iter == 1]
    assert len(starts) == 3
    runs = [calls[a:b] for a, b in zip(starts, starts[1:] + [len(calls)])]
    assert all([n for n, _ in run] == list(range(1, len(run) + 1)) for run in runs)
    kept = [run for run in runs if [b for _, b in run] == model.lower_bounds_]
    assert len(kept) >= 1 and len(kept[0]) == model.n_iter_


def test_on_iteration_is_not_a_hyper_parameter_and_verbose_still_prints(faithful, capsys):
    calls = []
    model = GaussianMixture(2, verbose=1, verbose_interval=1, random_state=0)
    model.fit(faithful, on_iteration=lambda *a: calls.append(a))
    assert "on_iteration" not in model.get_params()
    assert len(calls) == model.n_iter_
    assert "Iteration 1" in capsys.readouterr().out


def test_fit_progress_draws_the_bar_per_initialisation_on_a_terminal():
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=120)
    with FitProgress(2, 10, enabled=True, console=console) as bar:
        for n_iter, bound in [(1, -5.0), (2, -4.5), (1, -6.0), (2, -4.25)]:
            bar.on_iteration(n_iter, bound)
        bar._progress.refresh()
        text = buffer.getvalue()
    assert "EM, init 2/2" in text and "-4.25" in text and "2/10" in text


def test_fit_progress_is_silent_when_disabled():
    buffer = io.StringIO()
    with FitProgress(1, 10, enabled=False, console=Console(file=buffer, force_terminal=True)) as bar:
        assert bar.on_iteration is None
    assert buffer.getvalue() == ""

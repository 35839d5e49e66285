"""Progress on stderr while the CLI works: an EM bar fed by ``fit(on_iteration=...)``, a spinner for passes.

Both draw only when stderr is a terminal and the user did not ask for ``--quiet`` or ``--json``; otherwise they
are no-ops, so piped and machine-read output stays clean.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)


def wanted(quiet: bool) -> bool:
    """Draw progress only for a person watching: stderr is a terminal and output was not silenced."""
    return not quiet and sys.stderr.isatty()


class FitProgress:
    """A bar of EM iterations (out of ``max_iter``) per initialisation, with the current mean log-likelihood.

    Use as a context manager and pass :attr:`on_iteration` to ``GaussianMixture.fit``; it is None when disabled.
    """

    def __init__(self, n_init: int, max_iter: int, enabled: bool, console: Console | None = None) -> None:
        self.n_init, self.max_iter, self.enabled = n_init, max_iter, enabled
        self._console = console
        self._init = 0
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    @property
    def on_iteration(self):
        return self._update if self.enabled else None

    def __enter__(self) -> FitProgress:
        if self.enabled:
            self._progress = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                TextColumn("log-likelihood {task.fields[bound]}"), TimeElapsedColumn(),
                console=self._console or Console(stderr=True), transient=True,
            )
            self._progress.__enter__()
            self._task = self._progress.add_task(self._describe(), total=self.max_iter, bound="…")
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._progress is not None:
            self._progress.__exit__(exc_type, exc, tb)

    def _describe(self) -> str:
        return f"EM, init {self._init + 1}/{self.n_init}" if self.n_init > 1 else "EM"

    def _update(self, n_iter: int, lower_bound: float) -> None:
        if self._progress is None or self._task is None:  # both set on entering, when enabled
            return
        if n_iter == 1 and self._progress.tasks[0].completed > 0:  # a new initialisation starts
            self._init += 1
        self._progress.update(self._task, completed=n_iter, bound=f"{lower_bound:.6g}", description=self._describe())


@contextlib.contextmanager
def spinner(description: str, enabled: bool) -> Iterator[None]:
    """A spinner with elapsed time on stderr while a pass over the data runs."""
    if not enabled:
        yield
        return
    with Progress(SpinnerColumn(), TextColumn(description), TimeElapsedColumn(), console=Console(stderr=True),
                  transient=True) as progress:
        progress.add_task(description, total=None)
        yield

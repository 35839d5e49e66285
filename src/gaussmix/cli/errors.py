"""The one place where exceptions become exit codes and a single line on stderr (a traceback only with --debug).

Exit codes: 0 success; 1 a data, model-file or value error (or any unexpected error); 2 a usage error (click
reports those itself, before a command runs); 130 interrupted by Ctrl-C.
"""

from __future__ import annotations

import functools
import inspect
import sys
import traceback
import warnings
from collections.abc import Callable
from typing import Annotated, Any

import typer

from ..exceptions import DataSourceError, ModelFileError, NotFittedError

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

#: Errors users cause with their files and values: reported as one line, exit 1, no traceback.
EXPECTED_ERRORS: tuple[type[BaseException], ...] = (
    DataSourceError, ModelFileError, NotFittedError, ValueError, TypeError, OSError, ImportError,
)

DebugOption = Annotated[bool, typer.Option("--debug", help="Show the full traceback of an error.")]


def say(message: str) -> None:
    """One line on stderr, prefixed with the program name."""
    print(f"gaussmix: {message}", file=sys.stderr, flush=True)


def exit_code_of(exc: BaseException, debug: bool) -> int:
    """Report ``exc`` on stderr and return its exit code; with ``debug`` the traceback is printed as well."""
    if debug:
        traceback.print_exception(exc, file=sys.stderr)
    if isinstance(exc, KeyboardInterrupt):
        say("interrupted.")
        return EXIT_INTERRUPTED
    if isinstance(exc, EXPECTED_ERRORS):
        say(f"error: {_describe(exc)}")
        return EXIT_ERROR
    say(f"unexpected error: {type(exc).__name__}: {exc}" + ("" if debug else " (run with --debug for details)"))
    return EXIT_ERROR


def _describe(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.strerror}: {exc.filename}"
    return " ".join(str(exc).split()) or type(exc).__name__


def _show_warning(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
    say(f"warning: {' '.join(str(message).split())}")


def guarded(command: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a command: add a ``--debug`` option, print warnings as one line, map exceptions to exit codes.

    The wrapper's signature is the command's plus ``debug``, so typer offers ``--debug`` on every command
    without each one declaring it.
    """
    signature = inspect.signature(command, eval_str=True)

    @functools.wraps(command)
    def run(*args: Any, debug: bool = False, **kwargs: Any) -> Any:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            try:
                return command(*args, **kwargs)
            # typer's own errors (its vendored click's usage errors derive from TyperException) report themselves.
            except (typer.Exit, typer.Abort, typer.TyperException, SystemExit):
                raise
            except BaseException as exc:  # noqa: BLE001 -- the CLI's single error mapper
                raise typer.Exit(exit_code_of(exc, debug)) from None

    debug = inspect.Parameter("debug", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=DebugOption)
    # typer reads the signature to build options; typeshed's function types do not declare __signature__.
    run.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), debug])
    return run

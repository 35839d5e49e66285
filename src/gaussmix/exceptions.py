"""Errors and warnings gaussmix raises, narrow subclasses of what scikit-learn users already catch."""

from __future__ import annotations

import functools
import sys


class ConvergenceWarning(UserWarning):
    """EM stopped at ``max_iter`` (or was interrupted) before the lower bound changed by less than ``tol``."""


class DegenerateComponentWarning(UserWarning):
    """A component lost all its points or its covariance stopped being positive definite, and was re-seeded."""


class DataSourceError(ValueError):
    """A data file or source cannot be read as a numeric matrix; the message names the file, row and column."""


class ModelFileError(ValueError):
    """A model file is missing, truncated, corrupted, tampered with, or of an unknown format version."""


class NotFittedError(ValueError, AttributeError):
    """A method that needs a fitted model was called before ``fit`` (same bases as scikit-learn's)."""


def not_fitted_error(message: str) -> NotFittedError:
    """A NotFittedError that is also scikit-learn's NotFittedError whenever scikit-learn is loaded.

    Code that catches ``sklearn.exceptions.NotFittedError`` has imported scikit-learn, so it catches ours too,
    and ``import gaussmix`` never pays for importing scikit-learn.
    """
    sklearn_exceptions = sys.modules.get("sklearn.exceptions")
    if sklearn_exceptions is None:
        return NotFittedError(message)
    return _also_sklearns(sklearn_exceptions.NotFittedError)(message)


@functools.cache
def _also_sklearns(base: type) -> type:
    return type("NotFittedError", (NotFittedError, base), {"__module__": __name__, "__doc__": NotFittedError.__doc__})

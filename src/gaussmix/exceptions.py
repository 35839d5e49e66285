"""Errors and warnings gaussmix raises: scikit-learn's classes, or narrow subclasses where gaussmix says more."""

from __future__ import annotations

from sklearn.exceptions import ConvergenceWarning as _SklearnConvergenceWarning
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError


class ConvergenceWarning(_SklearnConvergenceWarning):
    """EM stopped at ``max_iter`` (or was interrupted) before the lower bound changed by less than ``tol``.

    A subclass of scikit-learn's, so ``warnings.simplefilter("ignore", sklearn.exceptions.ConvergenceWarning)``
    silences it too.
    """


class DegenerateComponentWarning(UserWarning):
    """A component lost all its points or its covariance stopped being positive definite, and was re-seeded."""


class DataSourceError(ValueError):
    """A data file or source cannot be read as a numeric matrix; the message names the file, row and column."""


class ModelFileError(ValueError):
    """A model file is missing, truncated, corrupted, tampered with, or of an unknown format version."""


class NotFittedError(_SklearnNotFittedError):
    """A method that needs a fitted model was called before ``fit`` (a subclass of scikit-learn's)."""

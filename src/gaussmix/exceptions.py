"""Errors and warnings gaussmix raises: scikit-learn's classes, or narrow subclasses where gaussmix says more."""

from __future__ import annotations

from sklearn.exceptions import ConvergenceWarning as _SklearnConvergenceWarning
from sklearn.exceptions import NotFittedError as _SklearnNotFittedError


class ConvergenceWarning(_SklearnConvergenceWarning):
    """EM stopped at ``max_iter`` (or was interrupted) before the lower bound changed by less than ``tol``.

    A subclass of scikit-learn's, so ``warnings.simplefilter("ignore", sklearn.exceptions.ConvergenceWarning)``
    silences it too.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from gaussmix import ConvergenceWarning, GaussianMixture
    >>> X = np.arange(10.0).reshape(-1, 1)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = GaussianMixture(2, max_iter=1, random_state=0).fit(X)
    >>> caught[0].category is ConvergenceWarning
    True
    """


class DegenerateComponentWarning(UserWarning):
    """A component lost all its points or its covariance stopped being positive definite, and was re-seeded.

    Examples
    --------
    A component started far from every row gets none of them; it is re-seeded, and the fit goes on:

    >>> import warnings
    >>> import numpy as np
    >>> from gaussmix import DegenerateComponentWarning, GaussianMixture
    >>> X = np.arange(10.0).reshape(-1, 1)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = GaussianMixture(2, means_init=[[4.5], [1000.0]]).fit(X)
    >>> caught[0].category is DegenerateComponentWarning
    True
    >>> print(caught[0].message)
    Component 1 lost all its points at iteration 1; re-seeded at row 0, the worst-explained point.
    """


class DataSourceError(ValueError):
    """A data file or source cannot be read as a numeric matrix; the message names the file, row and column.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from gaussmix import DataSourceError, GaussianMixture
    >>> path = Path(tempfile.mkdtemp()) / "d.csv"
    >>> _ = path.write_text("a,b\\n1,2\\n3,x\\n")
    >>> try:
    ...     GaussianMixture(1).fit(path)
    ... except DataSourceError as error:
    ...     print(str(error).replace(str(path), "d.csv"))
    Non-numeric value 'x' at row 1, column 'b' (index 1) of d.csv.
    """


class ModelFileError(ValueError):
    """A model file is missing, truncated, corrupted, tampered with, or of an unknown format version.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import gaussmix
    >>> path = Path(tempfile.mkdtemp()) / "m.npz"
    >>> _ = path.write_bytes(b"not a model")
    >>> try:
    ...     gaussmix.load(path)
    ... except gaussmix.ModelFileError as error:
    ...     print(str(error).replace(repr(str(path)), "'m.npz'"))
    'm.npz' is not a gaussmix model file: it is not an .npz (zip) archive.
    """


class NotFittedError(_SklearnNotFittedError):
    """A method that needs a fitted model was called before ``fit`` (a subclass of scikit-learn's).

    Examples
    --------
    >>> import numpy as np
    >>> from gaussmix import GaussianMixture, NotFittedError
    >>> try:
    ...     GaussianMixture().predict(np.zeros((1, 2)))
    ... except NotFittedError as error:
    ...     print(error)
    This GaussianMixture instance is not fitted yet. Call 'fit' with appropriate arguments before using this estimator.
    """

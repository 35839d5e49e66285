"""gaussmix.load: a model file read back into the estimator class it names."""

from __future__ import annotations

import os

from . import persistence
from .bayesian import BayesianGaussianMixture
from .estimator import GaussianMixture

#: The estimators a model file may hold, found by the name the file records.
ESTIMATORS = (GaussianMixture, BayesianGaussianMixture)


def load(path: str | os.PathLike[str]) -> GaussianMixture | BayesianGaussianMixture:
    """Read a model file written by ``save`` into a fitted estimator of the class it names, bit for bit.

    Parameters
    ----------
    path : str or path-like
        A gaussmix model file (``.npz``).

    Returns
    -------
    GaussianMixture or BayesianGaussianMixture
        Fitted: its parameters are the stored arrays exactly, so predictions equal the saved model's.

    Raises
    ------
    ModelFileError
        If the file is missing, truncated, corrupted, tampered with, holds pickled objects, or its
        hyper-parameters or fit record are inconsistent with the parameters. Nothing in the file is executed.

    Examples
    --------
    >>> import numpy as np, tempfile, os, gaussmix
    >>> X = np.array([[0.0, 0.0], [0.1, 0.2], [5.0, 5.0], [5.2, 4.9]])
    >>> gm = gaussmix.GaussianMixture(2, random_state=0).fit(X)
    >>> path = gm.save(os.path.join(tempfile.mkdtemp(), "model.npz"))
    >>> bool((gaussmix.load(path).predict(X) == gm.predict(X)).all())
    True
    """
    return persistence.load(path, ESTIMATORS)

"""summary(model, X): what mclust's ``summary(Mclust(...))`` tells of a fitted clustering, on gaussmix's numbers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._base import check_fitted
from ..core.namespace import to_numpy
from .select import MCLUST_NAMES

#: mclust's words for each model (``mclustModelNames``).
DESCRIPTIONS = {
    "EII": "spherical, equal volume", "VII": "spherical, varying volume",
    "EEI": "diagonal, equal volume and shape", "VEI": "diagonal, varying volume, equal shape",
    "EVI": "diagonal, equal volume, varying shape", "VVI": "diagonal, varying volume and shape",
    "EEE": "ellipsoidal, equal volume, shape, and orientation", "VEE": "ellipsoidal, equal shape and orientation",
    "EVE": "ellipsoidal, equal volume and orientation", "VVE": "ellipsoidal, equal orientation",
    "EEV": "ellipsoidal, equal volume and shape", "VEV": "ellipsoidal, equal shape",
    "EVV": "ellipsoidal, equal volume", "VVV": "ellipsoidal, varying volume, shape, and orientation",
    "E": "univariate, equal variance", "V": "univariate, unequal variance",
}


@dataclass(frozen=True, slots=True)
class ClusteringSummary:
    """A fitted model on data, as mclust summarises it. ``bic`` and ``icl`` have mclust's sign (higher is better):
    BIC = 2 log L − df·log n, ICL = BIC + 2 Σ_i log z_i,MAP (hard labels, as mclust's ``icl``).

    Examples
    --------
    >>> import numpy as np, gaussmix
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(0, 1, (100, 2)), rng.normal(8, 1, (50, 2))])
    >>> gm = gaussmix.GaussianMixture(2, covariance_type="EII", random_state=0).fit(X)
    >>> s = gaussmix.summary(gm, X)
    >>> s.model, s.n_components, s.df, sorted(s.cluster_sizes)
    ('EII', 2, 6, [50, 100])
    """

    model: str
    description: str
    n_components: int
    log_likelihood: float
    n: float
    df: int
    bic: float
    icl: float
    cluster_sizes: tuple[int, ...]
    mean_uncertainty: float
    prior: str | None

    def __str__(self) -> str:
        rule = "-" * 52
        prior = f" with prior ({self.prior})" if self.prior else ""
        sizes = "".join(f"{s:>6}" for s in self.cluster_sizes)
        labels = "".join(f"{k + 1:>6}" for k in range(self.n_components))
        return "\n".join([
            rule, "Gaussian finite mixture model fitted by EM algorithm", rule, "",
            f"{self.model} ({self.description}) model with {self.n_components} component"
            f"{'s' if self.n_components > 1 else ''}{prior}:", "",
            f"{'log-likelihood':>15} {'n':>7} {'df':>4} {'BIC':>12} {'ICL':>12}",
            f"{self.log_likelihood:>15.4f} {self.n:>7g} {self.df:>4} {self.bic:>12.4f} {self.icl:>12.4f}", "",
            "Clustering table:", labels, sizes, "",
            f"Mean classification uncertainty: {self.mean_uncertainty:.4f}",
        ])


def summary(model: Any, X: Any) -> ClusteringSummary:
    """mclust's ``summary(Mclust(...))`` of a fitted GaussianMixture on data X: model name and description, K,
    log-likelihood, n, df, BIC and ICL (mclust's sign: higher is better), cluster sizes (by the most likely
    component) and the mean classification uncertainty (:func:`gaussmix.uncertainty` per row).

    Examples
    --------
    >>> import numpy as np, gaussmix
    >>> rng = np.random.default_rng(0)
    >>> X = np.concatenate([rng.normal(0, 1, (100, 2)), rng.normal(8, 1, (50, 2))])
    >>> gm = gaussmix.GaussianMixture(2, covariance_type="VII", random_state=0).fit(X)
    >>> gaussmix.summary(gm, X).cluster_sizes in ((100, 50), (50, 100))
    True
    """
    check_fitted(model, "summarise")
    proba = np.asarray(to_numpy(model.predict_proba(X)), dtype=np.float64)
    log_prob = np.asarray(to_numpy(model.score_samples(X)), dtype=np.float64)
    n = float(log_prob.shape[0])
    log_likelihood = float(np.sum(log_prob))
    df = int(model.n_parameters())
    bic = 2.0 * log_likelihood - df * math.log(n)
    z_map = proba.max(axis=1)
    icl = bic + 2.0 * float(np.sum(np.log(np.clip(z_map, 1e-300, None))))
    sizes = np.bincount(proba.argmax(axis=1), minlength=proba.shape[1])
    kind = getattr(model, "_fitted_covariance_type", model.covariance_type)
    name = MCLUST_NAMES.get(kind, kind)
    if name in ("EII", "VII") and proba.shape[0] and model.n_features_in_ == 1:
        name = "E" if name == "EII" else "V"
    prior = getattr(model, "prior", None)
    return ClusteringSummary(name, DESCRIPTIONS[name], int(proba.shape[1]), log_likelihood, n, df, bic, icl,
                             tuple(int(s) for s in sizes), float(np.mean(1.0 - z_map)),
                             None if prior is None else str(prior))

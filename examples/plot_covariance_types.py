"""
Covariance types
================

scikit-learn's "GMM covariances" example, redone with gaussmix: the same mixture fitted with the four
covariance types of scikit-learn (``full``, ``tied``, ``diag``, ``spherical``). Each type is a constraint on the
shape of the ellipses; the fewer parameters, the less each component can follow the data.

We draw three elongated, rotated clusters with :func:`gaussmix.datasets.make_mixture`, fit one
:class:`gaussmix.GaussianMixture` per type and draw each fit with :func:`gaussmix.plot.clusters` (1σ and 2σ
ellipses). Only ``full`` can rotate each ellipse on its own; ``tied`` rotates them all together, ``diag`` keeps
them axis-aligned and ``spherical`` keeps them round.
"""

import matplotlib.pyplot as plt

from gaussmix import GaussianMixture, plot
from gaussmix.datasets import make_mixture

X, y, truth = make_mixture(1500, n_components=3, separation=2.5, random_state=1)

fig, axes = plt.subplots(2, 2, figsize=(9, 8), sharex=True, sharey=True)
for ax, kind in zip(axes.ravel(), ["full", "tied", "diag", "spherical"]):
    gm = GaussianMixture(n_components=3, covariance_type=kind, random_state=0).fit(X)
    plot.clusters(gm, X, ax=ax)
    ax.set_title(f"{kind}: BIC {gm.bic(X):.0f}, {gm.n_parameters()} parameters")
fig.tight_layout()

# %%
# The BIC in each title weighs fit against the number of parameters (lower is better): here the true,
# rotated covariances need ``full``. :func:`gaussmix.select` runs this comparison for you, as the next example
# shows.

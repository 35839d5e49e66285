"""
The Dirichlet-process prior: letting the data choose K
======================================================

scikit-learn's "Concentration prior type analysis of the variational Bayesian Gaussian mixture", with
:class:`gaussmix.BayesianGaussianMixture`. We give the model many more components than it needs (10 for data
drawn from 4) and a prior on the weights whose ``weight_concentration_prior`` says how readily a component is
used.

With the Dirichlet-process prior (``weight_concentration_prior_type="dirichlet_process"``, a stick-breaking
prior) the surplus components are switched off, their weights near 0, over six orders of magnitude of the
concentration. A finite symmetric Dirichlet (``"dirichlet_distribution"``) with a large concentration instead
asks for equal weights, and spreads the data over all ten components.

:func:`gaussmix.plot.weights` draws the fitted weights, largest first: the number of bars above the threshold is
the number of components the data uses.
"""

import matplotlib.pyplot as plt

from gaussmix import BayesianGaussianMixture, plot
from gaussmix.datasets import make_mixture

X, y, truth = make_mixture(300, n_components=4, separation=1.5, random_state=3)

settings = [("dirichlet_process", 0.001), ("dirichlet_process", 1000.0), ("dirichlet_distribution", 1000.0)]
fig, axes = plt.subplots(2, 3, figsize=(13, 7.5))
for column, (prior_type, concentration) in enumerate(settings):
    bgm = BayesianGaussianMixture(
        n_components=10,
        weight_concentration_prior_type=prior_type,
        weight_concentration_prior=concentration,
        max_iter=500,
        random_state=0,
    ).fit(X)
    in_use = int((bgm.weights_ > 0.01).sum())
    print(f"{prior_type}, concentration {concentration:g}: {in_use} components in use, ELBO {bgm.lower_bound_:.1f}")
    plot.clusters(bgm, X, ax=axes[0, column])
    axes[0, column].set_title(f"{prior_type.replace('_', ' ')}, {concentration:g}:\n{in_use} components in use")
    plot.weights(bgm, ax=axes[1, column])
fig.tight_layout()

# %%
# The Dirichlet process keeps the four clusters of the data whatever the concentration; the finite Dirichlet
# with a large concentration spreads each cluster over several components. With the finite prior, choose a small
# concentration (below 1) to let surplus components die out.

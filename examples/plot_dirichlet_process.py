"""
The Dirichlet-process prior: letting the data choose K
======================================================

scikit-learn's "Concentration prior type analysis of the variational Bayesian Gaussian mixture", with
:class:`gaussmix.BayesianGaussianMixture`. We give the model many more components than it needs (10 for data
drawn from 4) and a Dirichlet-process prior on the weights. The ``weight_concentration_prior`` says how readily a
new component is opened: a small value switches the surplus components off (their weights go to ~0), a large one
lets more of them carry data.

:func:`gaussmix.plot.weights` draws the fitted weights, largest first: the number of bars above the threshold is
the number of components the data uses.
"""

import matplotlib.pyplot as plt

from gaussmix import BayesianGaussianMixture, plot
from gaussmix.datasets import make_mixture

X, y, truth = make_mixture(800, n_components=4, separation=3.5, random_state=3)

concentrations = [0.001, 1.0, 1000.0]
fig, axes = plt.subplots(2, 3, figsize=(13, 7.5))
for column, prior in enumerate(concentrations):
    bgm = BayesianGaussianMixture(
        n_components=10,
        weight_concentration_prior_type="dirichlet_process",
        weight_concentration_prior=prior,
        max_iter=500,
        random_state=0,
    ).fit(X)
    in_use = int((bgm.weights_ > 0.01).sum())
    plot.clusters(bgm, X, ax=axes[0, column])
    axes[0, column].set_title(f"concentration {prior:g}: {in_use} components in use")
    plot.weights(bgm, ax=axes[1, column])
fig.tight_layout()

# %%
# With a small concentration the fit keeps the four clusters of the data and switches off the other six
# components; a large one spreads the weight over more components. The model's ``lower_bound_`` (the ELBO)
# compares fits on the same data.

"""
Model selection on the iris data, mclust style
==============================================

R's mclust fits 14 covariance models, each a constraint on the volume, shape and orientation of the components
(``EII``: equal spherical, …, ``VVV``: unconstrained), and picks the model and K by BIC. gaussmix fits the same
models (``covariance_type="VEV"`` …), starts from mclust's model-based hierarchical agglomeration
(``init_params="hc"``) and prints mclust's summary.

The data: Fisher's iris flowers, 150 × 4, shipped with scikit-learn.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_iris
from sklearn.metrics import adjusted_rand_score

import gaussmix
from gaussmix import plot

iris = load_iris()
X, species = iris.data, iris.target

result = gaussmix.select(X, n_components=range(1, 6), covariance_types="mclust", init_params="hc")
print(result.bic_table())

# %%
# mclust's BIC plot: BIC with mclust's sign (higher is better), one line per model.
fig, ax = plt.subplots(figsize=(8, 5))
result.plot(ax=ax, style="mclust")
fig.tight_layout()

# %%
# The chosen model, summarised as ``summary(Mclust(iris))`` would. BIC (VEV, 2, as mclust finds) puts *setosa*
# apart and *versicolor* with *virginica*, which overlap.
best = result.best_model
print(gaussmix.summary(best, X))

# %%
# Three components of the same model: from mclust's hierarchical start, EM stops at a local optimum that splits
# the flowers 50 / 80 / 20. Ten k-means starts (``n_init=10``) find a far better one, whose BIC nearly ties with
# two components and whose clusters are close to the species. EM finds local optima: compare starts.
from_hc = gaussmix.GaussianMixture(3, covariance_type="VEV", init_params="hc").fit(X)
restarts = gaussmix.GaussianMixture(3, covariance_type="VEV", n_init=10, tol=1e-6, random_state=0).fit(X)
for name, model in [("hc start", from_hc), ("10 k-means starts", restarts)]:
    s = gaussmix.summary(model, X)
    print(f"{name:>18}: BIC {s.bic:.2f}, cluster sizes {s.cluster_sizes}, "
          f"adjusted Rand index {adjusted_rand_score(species, model.predict(X)):.3f}")
three = restarts
print(gaussmix.summary(three, X))

unsure = gaussmix.uncertainty(three, X)
fig, ax = plt.subplots(figsize=(6, 5))
plot.clusters(three, X, ax=ax, columns=[2, 3])
worst = np.argsort(unsure)[-10:]
ax.scatter(X[worst, 2], X[worst, 3], s=120, facecolors="none", edgecolors="k", label="10 most uncertain rows")
ax.set_xlabel(iris.feature_names[2])
ax.set_ylabel(iris.feature_names[3])
ax.legend(loc="upper left")
fig.tight_layout()

"""
Choosing K and the covariance type by BIC
=========================================

scikit-learn's "Gaussian Mixture Model Selection" example with :func:`gaussmix.select`: one fit per
(covariance type, number of components), a table of BIC, AIC and ICL for every candidate, and the best model.

``select`` also guards against a trap scikit-learn's example doesn't show: a component that collapses onto a few
rows has a likelihood that grows without bound. Such candidates are flagged (``at_floor``) and never chosen.
"""

import matplotlib.pyplot as plt

import gaussmix
from gaussmix import plot
from gaussmix.datasets import make_mixture

X, y, truth = make_mixture(600, n_components=4, covariance_type="diag", separation=3.0, random_state=2)

result = gaussmix.select(X, n_components=range(1, 7), covariance_types=("full", "tied", "diag", "spherical"),
                         n_init=2, tol=1e-5, random_state=0)
print(result)
print("best:", result.best.covariance_type, "K =", result.best.n_components)

# %%
# The curves: BIC against K, one line per covariance type; the best candidate is marked.

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
result.plot(ax=left)
plot.clusters(result.best_model, X, ax=right)
fig.tight_layout()

# %%
# The table is also data: ``result.to_dicts()`` gives one dictionary per candidate (ready for
# ``pandas.DataFrame``), and ``result.models`` keeps every fitted model.
rows = result.to_dicts()
print(len(rows), "candidates;", sum(r["converged"] for r in rows), "converged")

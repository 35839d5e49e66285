"""
Missing values, imputation and mixture regression
=================================================

With ``missing="marginalize"``, :class:`gaussmix.GaussianMixture` treats NaN as a missing value: each row's
E-step uses its observed coordinates and the conditional expectation of the others (exact EM for data missing
at random). The fitted model imputes (:meth:`~gaussmix.GaussianMixture.impute`), and the same Gaussian
conditioning gives :class:`gaussmix.GaussianMixtureRegressor`: a joint mixture of ``[X, y]`` whose prediction
is the whole distribution p(y | x), not only its mean.
"""

import matplotlib.pyplot as plt
import numpy as np

from gaussmix import GaussianMixture, GaussianMixtureRegressor
from gaussmix.datasets import make_mixture

X, _, _ = make_mixture(6000, n_components=3, n_features=4, separation=2.5, random_state=7)
X, X_fresh = X[:3000], X[3000:]   # fit on the first half, score on the second
rng = np.random.default_rng(7)
X_missing = X.copy()
X_missing[rng.random(X.shape) < 0.3] = np.nan   # 30% of the values, completely at random
keep = ~np.isnan(X_missing).all(axis=1)           # a row with nothing observed says nothing: gaussmix refuses it
X, X_missing = X[keep], X_missing[keep]
complete = ~np.isnan(X_missing).any(axis=1)
print(f"{np.isnan(X_missing).mean():.0%} of the values missing; {complete.mean():.0%} of the rows complete")

# %%
# Three ways to fit: the full data (the reference), NaN as missing values, and the usual shortcut of filling
# each column's mean. Each is scored on fresh, complete rows of the same mixture.
full = GaussianMixture(3, random_state=0).fit(X)
marginalized = GaussianMixture(3, missing="marginalize", random_state=0).fit(X_missing)
filled = np.where(np.isnan(X_missing), np.nanmean(X_missing, axis=0), X_missing)
mean_filled = GaussianMixture(3, random_state=0).fit(filled)
for name, model in [("full data", full), ("missing='marginalize'", marginalized), ("column means", mean_filled)]:
    print(f"{name:>22}: {model.score(X_fresh):.3f} nats per row on fresh data")

# %%
# Imputation: the conditional mean of the missing coordinates given the observed ones, or draws from the
# conditional distribution (multiple imputation) with ``n_draws``.
imputed = marginalized.impute(X_missing)
hidden = np.isnan(X_missing)
rmse = np.sqrt(np.mean((imputed[hidden] - X[hidden]) ** 2))
rmse_means = np.sqrt(np.mean((filled[hidden] - X[hidden]) ** 2))
print(f"imputation error (RMSE): {rmse:.3f}, column means {rmse_means:.3f}")

# %%
# Regression with two branches: y = ±sqrt(x) plus noise. Least squares, and every method that predicts one
# number, predicts 0 between the branches; the regressor's predictive distribution keeps both.
x = rng.uniform(0, 4, 1500)
y = np.where(rng.random(1500) < 0.5, 1, -1) * np.sqrt(x) + 0.15 * rng.standard_normal(1500)
regressor = GaussianMixtureRegressor(n_components=8, random_state=0).fit(x[:, None], y)

x_grid = np.linspace(0.05, 4, 150)[:, None]
mean, std = regressor.predict(x_grid, return_std=True)
distribution = regressor.predict_distribution(x_grid)
y_grid = np.linspace(-2.5, 2.5, 200)
density = np.exp(np.stack([distribution.log_prob(np.full((len(x_grid), 1), v)) for v in y_grid]))

fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
left.scatter(X[:, 0], X[:, 1], s=3, c="0.7", label="all rows")
rows = np.isnan(X_missing[:, 1]) & ~np.isnan(X_missing[:, 0])
left.scatter(X_missing[rows, 0], imputed[rows, 1], s=4, c="C1", label="column 1 imputed")
left.set_title("imputed values follow the clusters")
left.legend()
right.pcolormesh(x_grid[:, 0], y_grid, density, cmap="Blues", shading="auto")
right.scatter(x, y, s=2, c="k", alpha=0.3)
right.plot(x_grid[:, 0], mean, c="C3", label="E[y | x] ± sd")
right.fill_between(x_grid[:, 0], mean - std, mean + std, color="C3", alpha=0.15)
right.set_title("p(y | x) of GaussianMixtureRegressor")
right.legend(loc="lower left")
fig.tight_layout()

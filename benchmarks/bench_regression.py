"""Gaussian mixture regression against k-nearest neighbours, a Gaussian process and the ``gmr`` package.

Two 1-D problems, 1,000 training and 2,000 test rows each:

- sine: y = sin(x) + N(0, 0.1²), x ~ U(0, 2π) — one mode, where a GP is at home;
- bimodal: y = ±(1 + x/2) + N(0, 0.1²) with a fair sign, x ~ U(−1, 1) — two branches: the conditional mean
  (every method's point prediction) lies between them, and only a predictive *distribution* with two modes
  describes the data.

Reported: R² of the point prediction and the mean negative log predictive density (NLPD, lower is better) of
the test targets. KNN's predictive density is a Gaussian with its neighbours' mean and variance (k = 15); the GP
has an RBF + white-noise kernel fitted by marginal likelihood; gaussmix and gmr fit 8 full-covariance components
to [x, y] (gmr's own EM) and condition on x. ``gmr`` is optional (pip install gmr); its row is left out without it.

Run:  python benchmarks/bench_regression.py
"""

from __future__ import annotations

import time
import warnings

import numpy as np
from scipy.stats import norm
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import RBF, WhiteKernel
from sklearn.metrics import r2_score
from sklearn.neighbors import KNeighborsRegressor

from gaussmix import GaussianMixtureRegressor

N_TRAIN, N_TEST, K = 1000, 2000, 8


def sine(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(0, 2 * np.pi, n)
    return x[:, None], np.sin(x) + rng.normal(0, 0.1, n)


def bimodal(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-1, 1, n)
    return x[:, None], np.where(rng.random(n) < 0.5, 1.0, -1.0) * (1 + x / 2) + rng.normal(0, 0.1, n)


def gaussmix_gmr(X, y, X_test, y_test):
    reg = GaussianMixtureRegressor(n_components=K, random_state=0, n_init=3).fit(X, y)
    return reg.predict(X_test), -reg.log_predictive_density(X_test, y_test)


def knn(X, y, X_test, y_test, k: int = 15):
    model = KNeighborsRegressor(n_neighbors=k).fit(X, y)
    neighbours = model.kneighbors(X_test, return_distance=False)
    mean, std = y[neighbours].mean(axis=1), y[neighbours].std(axis=1, ddof=1)
    return mean, -norm.logpdf(y_test, mean, std)


def gp(X, y, X_test, y_test):
    kernel = 1.0 * RBF(1.0) + WhiteKernel(0.1)
    model = GaussianProcessRegressor(kernel, normalize_y=True, random_state=0).fit(X, y)
    mean, std = model.predict(X_test, return_std=True)
    return mean, -norm.logpdf(y_test, mean, std)


def gmr_package(X, y, X_test, y_test):
    from gmr import GMM

    gmm = GMM(n_components=K, random_state=0).from_samples(np.column_stack([X, y]))
    mean = gmm.predict(np.array([0]), X_test)[:, 0]
    nlpd = np.array([-np.log(gmm.condition(np.array([0]), x).to_probability_density(np.array([[t]]))[0])
                     for x, t in zip(X_test, y_test)])
    return mean, nlpd


def main() -> None:
    warnings.simplefilter("ignore")
    methods = {"gaussmix GaussianMixtureRegressor": gaussmix_gmr, "KNeighborsRegressor (k=15)": knn,
               "GaussianProcessRegressor": gp}
    try:
        import gmr  # noqa: F401

        methods["gmr 2 (GMM.condition)"] = gmr_package
    except ImportError:
        print("(gmr not installed: its row is left out)")
    print("| problem | method | R² | NLPD | fit+predict s |")
    print("|---|---|---|---|---|")
    for name, problem in (("sine", sine), ("bimodal", bimodal)):
        rng = np.random.default_rng(0)
        X, y = problem(rng, N_TRAIN)
        X_test, y_test = problem(rng, N_TEST)
        for method, run in methods.items():
            t0 = time.perf_counter()
            mean, nlpd = run(X, y, X_test, y_test)
            seconds = time.perf_counter() - t0
            print(f"| {name} | {method} | {r2_score(y_test, mean):.3f} | {np.mean(nlpd):.3f} | {seconds:.2f} |")


if __name__ == "__main__":
    main()

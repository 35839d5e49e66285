"""A toy GMM-UBM verification task that runs offline: handwritten digits, each class a "speaker".

scikit-learn's digits (1797 images of 8×8 pixels, scaled to [0, 1]) split 50/50 within each class. A diagonal
UBM (reg_covar=1e-2) is fitted to every training image; each class's model is the UBM with MAP-adapted means
(relevance factor 16) from that class's training images. Trials: every test image against every class model,
scored by the log-likelihood ratio of that single image (``log_likelihood_ratio(model, ubm, x[None])``), 1 target
and 9 non-target trials per image. Reported: equal error rate per UBM size over five splits, and the largest
relative error of top-5 fast scoring against exact scoring, each class's test images taken as one utterance.
For contrast, top-C error on heavily overlapping synthetic "speech" frames (32 phone-like diagonal Gaussians in
12-D at separation 1, each speaker a random shift of all means; 64-component UBM, 200-frame target trials).
Run: python benchmarks/bench_map_digits.py [--seeds 5] [--components 8 16 32 64]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.metrics import roc_curve

from gaussmix import GaussianMixture, log_likelihood_ratio, map_adapt
from gaussmix.datasets import make_mixture

RELEVANCE_FACTOR = 16.0
REG_COVAR = 1e-2


def equal_error_rate(scores: np.ndarray, target: np.ndarray) -> float:
    """Where the miss rate equals the false-alarm rate (midpoint of the closest ROC point)."""
    fpr, tpr, _ = roc_curve(target, scores)
    i = int(np.argmin(np.abs((1 - tpr) - fpr)))
    return float(0.5 * (fpr[i] + 1 - tpr[i]))


def trial(X: np.ndarray, y: np.ndarray, n_components: int, seed: int) -> tuple[float, float, float]:
    """(EER, worst top-5 relative error, seconds) for one split and UBM size."""
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    train = np.zeros(len(y), bool)
    for c in range(10):
        rows = np.flatnonzero(y == c)
        train[rng.choice(rows, len(rows) // 2, replace=False)] = True
    ubm = GaussianMixture(n_components, covariance_type="diag", reg_covar=REG_COVAR, random_state=seed,
                          max_iter=200).fit(X[train])
    models = [map_adapt(ubm, X[train & (y == c)], relevance_factor=RELEVANCE_FACTOR, update="m") for c in range(10)]
    test, labels = X[~train], y[~train]
    scores = np.array([[log_likelihood_ratio(model, ubm, x[None]) for model in models] for x in test])
    eer = equal_error_rate(scores.ravel(), (labels[:, None] == np.arange(10)).ravel())
    worst = 0.0
    for c, model in enumerate(models):
        exact = log_likelihood_ratio(model, ubm, test[labels == c])
        fast = log_likelihood_ratio(model, ubm, test[labels == c], top_c=5)
        worst = max(worst, abs(fast - exact) / abs(exact))
    return eer, worst, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--components", type=int, nargs="+", default=[8, 16, 32, 64])
    args = parser.parse_args()
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    print(f"digits as speakers: diag UBM (reg_covar={REG_COVAR:g}), MAP means r={RELEVANCE_FACTOR:g}, "
          f"single-image LLR trials, {args.seeds} splits 50/50 per class")
    print(f"{'K':>3} {'EER per split':<40} {'mean EER':>9} {'top-5 max rel. error':>21} {'s/split':>8}")
    for k in args.components:
        runs = np.array([trial(X, y, k, seed) for seed in range(args.seeds)])
        per_split = " ".join(f"{e:.3f}" for e in runs[:, 0])
        print(f"{k:>3} {per_split:<40} {runs[:, 0].mean():>9.3f} {runs[:, 1].max():>21.2e} {runs[:, 2].mean():>8.1f}")
    worst = overlapping_top_c()
    print("overlapping synthetic frames, worst relative top-C error on target trials: "
          + ", ".join(f"C={c}: {e:.1%}" for c, e in worst.items()))


def overlapping_top_c(top_cs: tuple[int, ...] = (5, 10, 20), seed: int = 0) -> dict[int, float]:
    """Worst relative top-C error over 5 target trials when components overlap heavily."""
    rng = np.random.default_rng(seed)
    _, _, phones = make_mixture(10, n_components=32, n_features=12, separation=1.0, covariance_type="diag",
                                random_state=seed + 1)

    def frames(shift: np.ndarray, n: int) -> np.ndarray:
        k = rng.choice(32, size=n, p=phones.weights)
        return phones.means[k] + shift + rng.normal(size=(n, 12)) * np.sqrt(phones.covariances[k])

    shifts = rng.normal(scale=0.5, size=(25, 12))
    ubm = GaussianMixture(64, covariance_type="diag", reg_covar=1e-3, random_state=seed).fit(
        np.concatenate([frames(shifts[s], 300) for s in range(20)]))
    trials = [(map_adapt(ubm, frames(shifts[s], 300), RELEVANCE_FACTOR), frames(shifts[s], 200)) for s in range(20, 25)]
    worst = {}
    for c in top_cs:
        errors = []
        for model, test in trials:
            exact = log_likelihood_ratio(model, ubm, test)
            errors.append(abs(log_likelihood_ratio(model, ubm, test, top_c=c) - exact) / abs(exact))
        worst[c] = max(errors)
    return worst


if __name__ == "__main__":
    main()

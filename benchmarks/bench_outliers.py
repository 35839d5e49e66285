"""AUROC of gaussmix's OutlierDetector against scikit-learn's GaussianMixture on a WBC-like benchmark, offline.

Data: scikit-learn's breast-cancer set (569 × 30) reduced as the ODDS "WBC" set is: every benign case (357) and
21 malignant ones drawn at random per split, the malignant being the anomalies. Five random stratified 60/40
splits; features standardised with the training part's mean and deviation. One full-covariance component with
reg_covar=1e-3 for both libraries, scored the same way (higher log-density = more normal). Two protocols:
- unsupervised: fit on the whole training part (anomalies included, as PyOD/ADBench do);
- semi-supervised: fit on the training part's benign rows only (one-class).
Run: python benchmarks/bench_outliers.py [--splits 5]
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.metrics import roc_auc_score
from sklearn.mixture import GaussianMixture as SkGaussianMixture

from gaussmix import OutlierDetector

N_ANOMALIES = 21
TRAIN_FRACTION = 0.6


def split(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, anomaly_train, X_test, anomaly_test) for one seed, standardised on the training part."""
    X, y = load_breast_cancer(return_X_y=True)  # y = 0 malignant, 1 benign
    rng = np.random.default_rng(seed)
    rows = np.concatenate([np.flatnonzero(y == 1), rng.choice(np.flatnonzero(y == 0), N_ANOMALIES, replace=False)])
    X, anomaly = X[rows], y[rows] == 0
    train = np.zeros(len(rows), bool)
    for label in (False, True):  # stratified: both parts keep the 357:21 ratio
        members = rng.permutation(np.flatnonzero(anomaly == label))
        train[members[: int(round(TRAIN_FRACTION * len(members)))]] = True
    mean, std = X[train].mean(axis=0), X[train].std(axis=0)
    X = (X - mean) / std
    return X[train], anomaly[train], X[~train], anomaly[~train]


def auroc_pair(X_fit: np.ndarray, X_test: np.ndarray, anomaly_test: np.ndarray) -> tuple[float, float]:
    ours = OutlierDetector(1, covariance_type="full", reg_covar=1e-3, random_state=0).fit(X_fit)
    theirs = SkGaussianMixture(1, covariance_type="full", reg_covar=1e-3, random_state=0).fit(X_fit)
    return (roc_auc_score(anomaly_test, -ours.score_samples(X_test)),
            roc_auc_score(anomaly_test, -theirs.score_samples(X_test)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--splits", type=int, default=5)
    args = parser.parse_args()
    print(f"WBC-like breast cancer: 357 benign + {N_ANOMALIES} malignant, {args.splits} stratified "
          f"{TRAIN_FRACTION:.0%}/{1 - TRAIN_FRACTION:.0%} splits, 1 full component, reg_covar=1e-3")
    for protocol in ("unsupervised", "semi-supervised"):
        results = []
        print(f"\n{protocol}: fit on {'all training rows' if protocol == 'unsupervised' else 'benign training rows'}")
        print(f"{'split':>5} {'gaussmix':>9} {'sklearn':>9} {'difference':>11}")
        for seed in range(args.splits):
            X_train, anomaly_train, X_test, anomaly_test = split(seed)
            X_fit = X_train if protocol == "unsupervised" else X_train[~anomaly_train]
            ours, theirs = auroc_pair(X_fit, X_test, anomaly_test)
            results.append((ours, theirs))
            print(f"{seed:>5} {ours:>9.4f} {theirs:>9.4f} {ours - theirs:>11.2e}")
        mean = np.mean(results, axis=0)
        print(f"{'mean':>5} {mean[0]:>9.4f} {mean[1]:>9.4f} {mean[0] - mean[1]:>11.2e}")


if __name__ == "__main__":
    main()

"""Parity against R's mclust 6: every model, K = 1..9, with and without the default prior, on Old Faithful and iris.

Reads tests/data/mclust_reference.json (written by benchmarks/mclust_reference.R; regenerate with
``python benchmarks/mclust_parity.py --regenerate``, which needs Rscript with mclust) and fits gaussmix from an hc
start and k-means restarts, keeping the best log-likelihood. Prints, per data set and prior, how many (model, K)
cells match mclust's parameter count and reach mclust's log-likelihood within 1e-6 relative, and the worst gap.
The reference is mclust's answer run on by mclust's own EM to a relative change of 1e-11 (its default stops at
1e-5, so its reported ``loglik`` can sit 1e-5 below or, with a prior, above the optimum its start leads to).
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
from sklearn.datasets import load_iris

import gaussmix

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "tests" / "data" / "mclust_reference.json"
RTOL = 1e-6


def datasets() -> dict[str, np.ndarray]:
    faithful = np.loadtxt(ROOT / "tests" / "data" / "faithful.csv", delimiter=",", skiprows=1)
    return {"faithful": faithful, "iris": load_iris().data}


def regenerate(tmp: Path) -> None:
    paths = []
    for name, X in datasets().items():
        path = tmp / f"{name}.csv"
        header = ",".join(f"x{j}" for j in range(X.shape[1]))
        np.savetxt(path, X, delimiter=",", header=header, comments="", fmt="%.10g")
        paths.append(str(path))
    subprocess.run(["Rscript", str(ROOT / "benchmarks" / "mclust_reference.R"), str(tmp / "ref.json"), *paths],
                   check=True)
    REFERENCE.write_text(json.dumps(json.loads((tmp / "ref.json").read_text()), indent=1) + "\n")


def best_fit(X: np.ndarray, model: str, k: int, prior: bool, n_kmeans: int = 4) -> tuple[float, int] | None:
    """The best total log-likelihood over an hc start and ``n_kmeans`` k-means starts, and the parameter count."""
    best = None
    settings = [("hc", 0)] + [("kmeans", seed) for seed in range(n_kmeans)]
    for init, seed in settings:
        gm = gaussmix.GaussianMixture(k, covariance_type=model, reg_covar=0.0, tol=1e-12 if prior else 1e-10,
                                      max_iter=2000,
                                      init_params=init, random_state=seed, prior="default" if prior else None)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                gm.fit(X)
        except ValueError:
            continue
        value = float(gm.score(X)) * X.shape[0]
        if best is None or value > best[0]:
            best = (value, gm.n_parameters())
    return best


def main() -> None:
    if "--regenerate" in sys.argv:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            regenerate(Path(tmp))
    reference = json.loads(REFERENCE.read_text())
    data = datasets()
    print(f"mclust {reference['mclust_version']}; gaussmix best of hc + 4 k-means starts, reg_covar=0")
    print(f"{'data':<9} {'prior':<6} {'cells':>5} {'df equal':>8} {'mclust converged':>16} {'ll >= mclust':>12} "
          f"{'worst rel. gap':>14}  cells below")
    only = [a for a in sys.argv[1:] if not a.startswith("--")]  # e.g. "iris:prior" or "faithful:ml"
    for name, block in reference["data"].items():
        X = data[name]
        for prior in (False, True):
            if only and f"{name}:{'prior' if prior else 'ml'}" not in only:
                continue
            fits = [f for f in block["fits"] if f["prior"] == prior]
            df_equal = fitted = matched = 0
            worst, below = 0.0, []
            for f in fits:
                if prior and f["model"] in ("VEE", "EVE", "VVE", "EVV"):
                    continue
                ours = best_fit(X, f["model"], f["k"], prior)
                df = gaussmix.core.covariance_structure(f["model"]).n_parameters(f["k"], X.shape[1])
                df_equal += int(df == f["df"])
                if f["loglik_converged"] is None:  # mclust failed, or its own EM cannot go on from its answer
                    continue
                fitted += 1
                if ours is None:
                    below.append(f"{f['model']},{f['k']} (no fit)")
                    continue
                reference = f["loglik_converged"]  # mclust's answer run on to convergence by its own EM
                gap = (reference - ours[0]) / abs(reference)
                worst = max(worst, gap)
                if gap <= RTOL:
                    matched += 1
                else:
                    below.append(f"{f['model']},{f['k']} ({gap:.1e})")
            cells = sum(1 for f in fits if not (prior and f["model"] in ("VEE", "EVE", "VVE", "EVV")))
            print(f"{name:<9} {str(prior):<6} {cells:>5} {df_equal:>8} {fitted:>16} {matched:>12} {worst:>14.2e}  "
                  f"{', '.join(below)}")


if __name__ == "__main__":
    main()

"""The whole mclust grid (14 models × K = 1..9) on 10,000 rows: gaussmix.select against R's mclustBIC.

Both start from a hierarchical agglomeration on a 2000-row subset (mclust's default ``subset``; gaussmix's
``init_params='hc'`` with ``init_sample_size=2000``), both run EM on all rows; mclust stops at a relative change
of the log-likelihood of 1e-5, gaussmix at a change of the mean log-likelihood of 1e-5 per row. Timed in the same
run, on the same machine; Rscript's start-up and data loading are outside its timer.

Usage: python benchmarks/bench_mclust_grid.py [n_rows]
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

import gaussmix

ROOT = Path(__file__).resolve().parents[1]


def data(n_rows: int) -> np.ndarray:
    """Four clusters in 4 dimensions with different volumes, shapes and orientations."""
    rng = np.random.default_rng(0)
    parts = []
    for k, size in enumerate(np.diff(np.linspace(0, n_rows, 5).astype(int))):
        A = rng.normal(size=(4, 4)) * (0.5 + k * 0.3)
        parts.append(rng.normal(size=(size, 4)) @ A + rng.normal(scale=6, size=4))
    return np.concatenate(parts)


def main() -> None:
    n_rows = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    X = data(n_rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "grid.csv"
        np.savetxt(path, X, delimiter=",", header="a,b,c,d", comments="", fmt="%.12g")
        r = subprocess.run(["Rscript", str(ROOT / "benchmarks" / "mclust_reference.R"), "--time", str(path)],
                           check=True, capture_output=True, text=True)
    mclust = json.loads(r.stdout.strip().splitlines()[-1])
    rows = []
    for n_jobs in (1, 2):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = gaussmix.select(X, range(1, 10), "mclust", init_params="hc", init_sample_size=2000,
                                     reg_covar=0.0, tol=1e-5, max_iter=1000, random_state=0, n_jobs=n_jobs)
        seconds = time.perf_counter() - start
        rows.append((n_jobs, seconds, result.best))
    print(f"{n_rows} rows x 4 features, 14 models x K = 1..9 (126 fits)")
    print(f"mclust 6 mclustBIC: {mclust['seconds']:.1f} s, best {mclust['best_model']},{mclust['best_k']} "
          f"(BIC {mclust['best_bic']:.2f})")
    for n_jobs, seconds, best in rows:
        print(f"gaussmix select, n_jobs={n_jobs}: {seconds:.1f} s, best {best.mclust_name},{best.n_components} "
              f"(BIC {-best.bic:.2f}); mclust time / gaussmix time = {mclust['seconds'] / seconds:.2f}")


if __name__ == "__main__":
    main()

"""Model selection on Old Faithful against mclust's answer, its two traps, and whether threads pay.

1. mclust's setting: K = 1..6 × full/tied/diag/spherical, reg_covar=1e-3, tol=1e-6, n_init=10 (mclust picks
   EEE,3: log-likelihood −1126.33, BIC 2314.3 in our sign).
2. The default tol=1e-3: how often the best model changes, with n_init=10 and with n_init=1, over ten seeds.
3. reg_covar=1e-6 with starts drawn from the data: components collapsed onto integer waiting times, flagged.
4. Wall time of the same selection with n_jobs=1 and n_jobs=2 (threads), on Faithful and on 100,000 × 8 rows.
Run: python benchmarks/bench_select.py [--skip-timing]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

from gaussmix import ConvergenceWarning, DegenerateComponentWarning, select
from gaussmix.datasets import make_mixture

FAITHFUL = Path(__file__).resolve().parents[1] / "tests" / "data" / "faithful.csv"


def quiet(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", DegenerateComponentWarning)
        return select(*args, **kwargs)


def name(result) -> str:
    b = result.best
    return f"{b.n_components} {b.covariance_type} ({b.mclust_name}), BIC {b.bic:.1f}, log L {b.log_likelihood:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-timing", action="store_true")
    args = parser.parse_args()
    X = np.loadtxt(FAITHFUL, delimiter=",", skiprows=1)

    grid = quiet(X, range(1, 7), reg_covar=1e-3, tol=1e-6, n_init=10, random_state=0)
    print("1. tol=1e-6, n_init=10:", name(grid))
    for row in sorted(grid.table, key=lambda c: c.bic)[:4]:
        print(f"   {row.n_components} {row.covariance_type:<9} BIC {row.bic:.2f}  ICL {row.icl:.2f}  "
              f"converged {row.converged} after {row.n_iter}")

    print("2. tol=1e-3 (default), best per seed:")
    for n_init in (10, 1):
        winners = [quiet(X, range(1, 7), reg_covar=1e-3, n_init=n_init, random_state=s).best for s in range(10)]
        counts: dict[str, int] = {}
        for w in winners:
            key = f"{w.n_components} {w.covariance_type}"
            counts[key] = counts.get(key, 0) + 1
        tied3 = [w.bic for w in winners if (w.n_components, w.covariance_type) == (3, "tied")]
        spread = f"; tied-3 BIC {min(tied3):.1f}..{max(tied3):.1f}" if tied3 else ""
        print(f"   n_init={n_init:>2}: {counts}{spread}")

    trap = quiet(X, range(1, 7), ["tied", "diag"], reg_covar=1e-6, tol=1e-6, n_init=10,
                 init_params="random_from_data", random_state=1)
    lowest = min(trap.table, key=lambda c: c.bic)
    flagged = [f"{c.n_components} {c.covariance_type} (BIC {c.bic:.1f}, min var {c.min_variance:.1e})"
               for c in trap.table if c.at_floor]
    print(f"3. reg_covar=1e-6, random_from_data: lowest raw BIC {lowest.n_components} {lowest.covariance_type} "
          f"{lowest.bic:.1f} (at floor: {lowest.at_floor}); flagged: {', '.join(flagged)}; chosen: {name(trap)}")

    if args.skip_timing:
        return
    big, _, _ = make_mixture(100_000, n_components=4, n_features=8, random_state=0)
    for label, data, ks in (("faithful", X, range(1, 7)), ("100000 x 8", big, range(2, 6))):
        times = {}
        for n_jobs in (1, 2, 1, 2):
            start = time.perf_counter()
            quiet(data, ks, reg_covar=1e-3, n_init=2, random_state=0, n_jobs=n_jobs)
            times.setdefault(n_jobs, []).append(time.perf_counter() - start)
        print(f"4. {label}: n_jobs=1 {min(times[1]):.1f} s, n_jobs=2 {min(times[2]):.1f} s (best of 2)")


if __name__ == "__main__":
    main()

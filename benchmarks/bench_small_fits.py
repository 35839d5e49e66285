"""Small whole fits: gaussmix against scikit-learn, ``fit`` with defaults on Old Faithful and iris.

Small data is where fixed costs rule: validation, the k-means initialisation, thread-pool and BLAS-limit set-up
and a few dozen passes over a single block. Each case fits ``GaussianMixture(n_components=3, random_state=s)``
with every other parameter at its default, alternating the libraries (A B A B ...) on the same data and seeds
so the machine's load hits both alike; the table reports the median, the spread (min–max) and the ratio of
medians, and the load average before and after.

On a busy machine scikit-learn's k-means (OpenMP, one thread per core) can stall at its barriers for a time
slice whenever a thread is descheduled, and its fits then take ten times longer; ``--one-thread`` limits every
native thread pool (BLAS and OpenMP) to one thread for both libraries, which measures the fits without that.

Run:  python benchmarks/bench_small_fits.py [--repeats 9] [--seeds 0,1,2] [--cases faithful,iris] [--one-thread]
The script re-executes itself without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, so both libraries run the BLAS
kernel OpenBLAS picks for this CPU.
"""

from __future__ import annotations

import os

if __name__ == "__main__":  # run as a script, benchmarks/ is on the path
    from machine_blas import run_with_machine_blas

    run_with_machine_blas()

import argparse  # noqa: E402
import contextlib  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

FAITHFUL = Path(__file__).resolve().parents[1] / "tests" / "data" / "faithful.csv"


def load_case(name: str) -> np.ndarray:
    """The case's rows as a float64 array: Old Faithful (272 × 2) or iris (150 × 4)."""
    if name == "faithful":
        return np.loadtxt(FAITHFUL, delimiter=",", skiprows=1)
    if name == "iris":
        from sklearn.datasets import load_iris

        return load_iris().data
    raise SystemExit(f"unknown case {name!r}; expected faithful or iris")


def fit_seconds(cls: type, X: np.ndarray, seed: int) -> float:
    """Wall time of one default fit with K = 3 and the given seed."""
    start = time.perf_counter()
    cls(n_components=3, random_state=seed).fit(X)
    return time.perf_counter() - start


def time_case(X: np.ndarray, seeds: list[int], repeats: int) -> dict[str, list[float]]:
    """Per-fit times of each library, alternating A B A B over ``repeats`` rounds of every seed."""
    from sklearn.mixture import GaussianMixture as SkGM

    from gaussmix import GaussianMixture as GmGM

    libraries = {"scikit-learn": SkGM, "gaussmix": GmGM}
    for cls in libraries.values():  # warm-up: imports, caches, first-call costs
        fit_seconds(cls, X, seeds[0])
    times: dict[str, list[float]] = {name: [] for name in libraries}
    for _ in range(repeats):
        for seed in seeds:
            for name, cls in libraries.items():
                times[name].append(fit_seconds(cls, X, seed))
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9, help="alternating rounds over the seeds (default 9)")
    parser.add_argument("--seeds", default="0,1,2", help="comma-separated random_state values (default 0,1,2)")
    parser.add_argument("--cases", default="faithful,iris", help="comma-separated: faithful, iris")
    parser.add_argument("--one-thread", action="store_true",
                        help="limit BLAS and OpenMP to one thread for both libraries while timing")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    cases = args.cases.split(",")

    import sklearn

    import gaussmix

    warnings.simplefilter("ignore")  # a non-converged seed is timed all the same
    limits = contextlib.nullcontext()
    if args.one_thread:
        from threadpoolctl import threadpool_limits

        limits = threadpool_limits(limits=1)
    load_before = os.getloadavg()[0]
    rows = []
    with limits:
        for name in cases:
            X = load_case(name)
            times = time_case(X, seeds, args.repeats)
            sk, gm = (statistics.median(times[k]) for k in ("scikit-learn", "gaussmix"))
            rows.append((name, X.shape, times, sk, gm))
    load_after = os.getloadavg()[0]

    print(f"scikit-learn {sklearn.__version__}, gaussmix {gaussmix.__version__}; {os.cpu_count()} cores, load "
          f"average {load_before:.1f} before, {load_after:.1f} after; {args.repeats} alternating rounds × seeds "
          f"{seeds}{'; BLAS and OpenMP at one thread' if args.one_thread else ''}.\n")
    print("| case | shape | scikit-learn ms (min–max) | gaussmix ms (min–max) | ratio |")
    print("|---|---|---|---|---|")
    for name, shape, times, sk, gm in rows:
        spread = {k: f"{min(v) * 1e3:.1f}–{max(v) * 1e3:.1f}" for k, v in times.items()}
        print(f"| {name} | {shape[0]}×{shape[1]} | {sk * 1e3:.1f} ({spread['scikit-learn']}) | "
              f"{gm * 1e3:.1f} ({spread['gaussmix']}) | **{sk / gm:.1f}×** |")


if __name__ == "__main__":
    main()

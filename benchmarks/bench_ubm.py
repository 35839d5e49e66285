"""Frames per second of the diagonal-covariance E-step with many components (speech UBMs: K = 512–2048).

Default: N = 100,000 frames, D = 60, K = 2048, float32. Three ways over the same frames and parameters:
- ``baseline``: plain chunked NumPy (two GEMMs for the Mahalanobis terms, SciPy's logsumexp, exp, and the
  statistics resp.T @ x and resp.T @ x² in float64), one chunk of 1,024 frames at a time;
- ``gaussmix stats``: one pass of ``local_accumulator`` (responsibilities and the sufficient statistics an EM
  iteration needs, on all cores);
- ``gaussmix score``: ``score_samples``-style log p(x) only (``map_rows`` over ``log_resp``).
Repetitions alternate; the median is reported. Run: python benchmarks/bench_ubm.py [--n 100000] [--k 2048]
"""

from __future__ import annotations

import os

if __name__ == "__main__":  # run as a script, benchmarks/ is on the path
    from machine_blas import run_with_machine_blas

    run_with_machine_blas()

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from scipy.special import logsumexp  # noqa: E402


def ubm(n: int, d: int, k: int, dtype: str, seed: int = 0):
    """Frames from a random diagonal mixture and parameters near it (weights, means, variances)."""
    from gaussmix.core.params import GaussianParams

    rng = np.random.default_rng(seed)
    means = rng.normal(0, 2, (k, d))
    variances = rng.uniform(0.3, 2.0, (k, d))
    labels = rng.integers(0, k, n)
    X = (means[labels] + rng.normal(size=(n, d)) * np.sqrt(variances[labels])).astype(dtype)
    params = GaussianParams.from_covariances(rng.dirichlet(np.ones(k) * 5), means + 0.1 * rng.normal(size=(k, d)),
                                             variances * 1.1, "diag")
    return X, params


def baseline_pass(X: np.ndarray, params, chunk: int = 1024) -> tuple[float, np.ndarray]:
    """The plain chunked NumPy E-step with statistics: what one would write without gaussmix."""
    prec = (1.0 / params.covariances).astype(X.dtype)
    means = params.means.astype(X.dtype)
    const = (np.log(params.weights) - 0.5 * (X.shape[1] * np.log(2 * np.pi) + np.sum(np.log(params.covariances), 1)
                                             + np.sum(params.means**2 / params.covariances, 1))).astype(X.dtype)
    total, first = 0.0, np.zeros(params.means.shape)
    for start in range(0, X.shape[0], chunk):
        x = X[start:start + chunk]
        wlp = const - 0.5 * ((x * x) @ prec.T) + x @ (means * prec).T
        log_prob = logsumexp(wlp, axis=1)
        resp = np.exp(wlp - log_prob[:, None]).astype(np.float64)
        total += float(log_prob.sum())
        first += resp.T @ x
        first += resp.T @ (x.astype(np.float64) ** 2)
    return total, first


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--d", type=int, default=60)
    parser.add_argument("--k", type=int, default=2048)
    parser.add_argument("--dtype", default="float32")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)

    from gaussmix.core.estep import log_resp
    from gaussmix.executors.local import ArraySource, default_chunk_rows, local_accumulator, map_rows

    X, params = ubm(args.n, args.d, args.k, args.dtype)
    source = ArraySource(X, None, default_chunk_rows(args.d, args.k))
    accumulate = local_accumulator(source)
    ways = {
        "baseline (chunked NumPy)": lambda: baseline_pass(X, params),
        "gaussmix stats (one EM pass)": lambda: accumulate(params),
        "gaussmix score (log p only)": lambda: map_rows(source, lambda b: log_resp(b, params)[0]),
    }
    times: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(args.repeats):
        for name, run in ways.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    check = accumulate(params).log_likelihood / args.n, baseline_pass(X, params)[0] / args.n
    print(f"UBM E-step N={args.n:,} D={args.d} K={args.k} {args.dtype}; mean log-likelihood gaussmix "
          f"{check[0]:.6f}, baseline {check[1]:.6f}; load average {os.getloadavg()[0]:.2f}")
    base = statistics.median(times["baseline (chunked NumPy)"])
    print("| way | s per pass | frames/s | vs baseline |\n|---|---|---|---|")
    for name, ts in times.items():
        t = statistics.median(ts)
        print(f"| {name} | {t:.3f} | {args.n / t:,.0f} | {base / t:.1f}× |")


if __name__ == "__main__":
    main()

"""Online EM (``partial_fit``) against batch EM and scikit-learn's full fit: held-out log-likelihood by rows seen.

A stationary stream from a mixture of K Gaussians with random full covariances (bench_em's ``make_data``) is fed
to ``GaussianMixture.partial_fit`` in batches; after every few batches the model's mean log-likelihood on a
held-out set is printed with the rows seen and the seconds spent so far. Batch EM (gaussmix ``fit`` on all the
rows, several passes, from its own start and from the online run's first-batch start) and scikit-learn's ``fit``
on the same rows are the reference lines. Different starts can end in different local optima, so the fair gap is
against batch EM from the same start.

    python benchmarks/bench_partial_fit.py [--rows 200000] [--batch 1000] [--d 8] [--k 8] [--kind full]
"""

from __future__ import annotations

import argparse
import os
import time
import warnings

import numpy as np
from bench_em import Case, make_data


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--d", type=int, default=8)
    parser.add_argument("--k", type=int, default=8)
    parser.add_argument("--kind", default="full")
    parser.add_argument("--points", type=int, default=10, help="held-out evaluations along the pass")
    args = parser.parse_args(argv)

    from sklearn.mixture import GaussianMixture as SklearnGM

    from gaussmix import GaussianMixture

    warnings.simplefilter("ignore")
    data = make_data(Case("stream", args.rows + 50_000, args.d, args.k, args.kind, "float64"), seed=3)
    rng = np.random.default_rng(0)
    data = data[rng.permutation(data.shape[0])]  # a stationary stream: rows in random order
    X, held_out = data[:args.rows], data[args.rows:]

    start = time.perf_counter()
    batch_em = GaussianMixture(args.k, covariance_type=args.kind, random_state=0).fit(X)
    batch_s = time.perf_counter() - start
    start = time.perf_counter()
    sk = SklearnGM(args.k, covariance_type=args.kind, random_state=0).fit(X)
    sk_s = time.perf_counter() - start
    batch_ll, sk_ll = batch_em.score(held_out), float(sk.score(held_out))

    print(f"N = {args.rows:,} rows streamed in batches of {args.batch:,}, D = {args.d}, K = {args.k}, {args.kind}; "
          f"held-out 50,000 rows; load average {os.getloadavg()[0]:.2f}\n")
    print("| model | rows seen | held-out mean log-likelihood | vs batch EM | seconds |")
    print("|---|---|---|---|---|")
    online = GaussianMixture(args.k, covariance_type=args.kind, random_state=0)
    n_batches = args.rows // args.batch
    every = max(1, n_batches // args.points)
    spent = 0.0
    for t in range(n_batches):
        batch = X[t * args.batch:(t + 1) * args.batch]
        start = time.perf_counter()
        online.partial_fit(batch)
        spent += time.perf_counter() - start
        if t == 0:  # batch EM from the same start as the online run (the first batch's k-means), for a fair gap
            first = dict(weights_init=online.weights_, means_init=online.means_, precisions_init=online.precisions_)
        if (t + 1) % every == 0 or t + 1 == n_batches:
            ll = online.score(held_out)
            print(f"| partial_fit | {(t + 1) * args.batch:,} | {ll:.4f} | {_gap(ll, batch_ll)} | {spent:.2f} |")
    print(f"| gaussmix fit (batch EM, {batch_em.n_iter_} passes) | {args.rows:,} | {batch_ll:.4f} | — | "
          f"{batch_s:.2f} |")
    same = GaussianMixture(args.k, covariance_type=args.kind, **first).fit(X)
    print(f"| gaussmix fit from partial_fit's first-batch start ({same.n_iter_} passes) | {args.rows:,} | "
          f"{same.score(held_out):.4f} | {_gap(same.score(held_out), batch_ll)} | — |")
    print(f"| scikit-learn fit ({sk.n_iter_} passes) | {args.rows:,} | {sk_ll:.4f} | {_gap(sk_ll, batch_ll)} | "
          f"{sk_s:.2f} |")


def _gap(value: float, reference: float) -> str:
    return f"{100 * (value - reference) / abs(reference):+.2f}%"


if __name__ == "__main__":
    main()

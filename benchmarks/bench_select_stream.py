"""Model selection on a .npy file: every candidate fitted together (shared passes) against one by one.

A mixture of 6 Gaussians (bench_em's ``make_data``, D features) is written to a .npy of about ``--mb`` MB;
``select`` then fits the 4 types × K = 1..9 grid on the path twice, with ``shared_passes=False`` (each
candidate reads the file once per EM iteration, two candidates at a time) and with shared passes (each block
read once per iteration for every candidate still running). Prints both times, the passes over the file and
whether the tables agree.

    python benchmarks/bench_select_stream.py [--mb 256] [--d 8] [--max-iter 20] [--path /tmp/x.npy]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import warnings

import numpy as np
from bench_em import Case, make_data_lean


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=256.0)
    parser.add_argument("--d", type=int, default=8)
    parser.add_argument("--max-iter", type=int, default=20)
    parser.add_argument("--path", default=None)
    args = parser.parse_args(argv)

    import importlib

    from gaussmix import select

    select_module = importlib.import_module("gaussmix.analysis.select")

    warnings.simplefilter("ignore")
    rows = int(args.mb * 2**20 // (8 * args.d))
    path = args.path or os.path.join(tempfile.gettempdir(), f"gaussmix_select_{rows}x{args.d}.npy")
    if not os.path.exists(path):
        np.save(path, make_data_lean(Case("select", rows, args.d, 6, "full", "float64")))
    passes = []
    original = select_module.SharedPasses

    def counted(*a):
        passes.append(original(*a))
        return passes[-1]

    select_module.SharedPasses = counted
    common = dict(n_components=range(1, 10), random_state=0, max_iter=args.max_iter)
    print(f"{rows:,} × {args.d} float64 = {os.path.getsize(path) / 2**20:.0f} MB at {path}; 4 types × K = 1..9, "
          f"max_iter={args.max_iter}; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}\n")
    times, tables = {}, {}
    for name, shared in (("one by one", False), ("shared passes", None)):
        start = time.perf_counter()
        result = select(path, shared_passes=shared, **common)
        times[name], tables[name] = time.perf_counter() - start, result.table
    one, together = tables["one by one"], tables["shared passes"]
    n_alone = sum(c.n_iter + 3 for c in one)  # init sample, EM passes, two scoring passes per candidate
    same = all(abs(a.bic - b.bic) <= 1e-9 * abs(a.bic) for a, b in zip(one, together) if a.error is None)
    print("| way | seconds | passes over the file |")
    print("|---|---|---|")
    print(f"| one by one (n_jobs=None: 2 candidates at a time) | {times['one by one']:.1f} | ≈ {n_alone} |")
    print(f"| shared passes | {times['shared passes']:.1f} | {passes[0].passes} |")
    print(f"\nSpeed-up {times['one by one'] / times['shared passes']:.2f}×; tables agree to 1e-9: {same}; "
          f"load average {os.getloadavg()[0]:.2f} at the end.")


if __name__ == "__main__":
    main()

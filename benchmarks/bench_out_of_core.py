"""Peak memory and time per pass of a fit streamed from a .npy file larger than the memory it may use.

Writes an N × D float64 ``.npy`` (default 16,000,000 × 32: 4.1 GB) of K well-separated Gaussian clouds block by
block, then fits it by path in a fresh Python process and reports that process's peak RSS growth (VmHWM minus
the RSS before the fit) and the time of the initialisation pass and of each EM pass. The issue's bound is 1 GB.

    python benchmarks/bench_out_of_core.py [--rows 16000000] [--features 32] [--components 16] [--iterations 1]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np


def write_npy(path: Path, n_rows: int, n_features: int, n_components: int, block_rows: int = 200_000) -> None:
    """K unit-variance clouds with centres 8 apart per axis, written without holding the matrix in memory."""
    rng = np.random.default_rng(0)
    centres = rng.normal(0.0, 8.0, (n_components, n_features))
    with open(path, "wb") as f:
        np.lib.format.write_array_header_1_0(f, {"descr": "<f8", "fortran_order": False,
                                                 "shape": (n_rows, n_features)})
        for start in range(0, n_rows, block_rows):
            rows = min(block_rows, n_rows - start)
            labels = rng.integers(0, n_components, rows)
            f.write((centres[labels] + rng.standard_normal((rows, n_features))).tobytes())


FIT = textwrap.dedent("""
    import re, sys, time
    import numpy as np
    from gaussmix import GaussianMixture

    def kib(field):
        with open("/proc/self/status") as f:
            return int(re.search(field + r":\\s+(\\d+) kB", f.read()).group(1))

    path, k, iterations = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    warm = np.random.default_rng(1).normal(size=(5000, int(sys.argv[4])))
    GaussianMixture(2, max_iter=2).fit(warm).score(warm)  # imports and BLAS buffers, before measuring
    before, stamps = kib("VmRSS"), [time.perf_counter()]
    gm = GaussianMixture(k, covariance_type="full", max_iter=iterations, tol=0.0, random_state=0)
    gm.fit(path, on_iteration=lambda n, bound: stamps.append(time.perf_counter()))
    print((kib("VmHWM") - before) * 1024, *np.diff(stamps))
""")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=16_000_000)
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--components", type=int, default=16)
    parser.add_argument("--iterations", type=int, default=1)
    parser.add_argument("--dir", default=None, help="where to write the temporary .npy (default: system temp)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / "big.npy"
        start = time.perf_counter()
        write_npy(path, args.rows, args.features, args.components)
        written = time.perf_counter() - start
        out = subprocess.run([sys.executable, "-c", FIT, str(path), str(args.components), str(args.iterations),
                              str(args.features)], capture_output=True, text=True, check=True)
        growth, first, *passes = (float(v) for v in out.stdout.split())
        size = path.stat().st_size

    print("## Out of core: peak memory fitting a .npy by path (benchmarks/bench_out_of_core.py)\n")
    print(f"{args.rows:,} × {args.features} float64 = {size / 1e9:.2f} GB (written in {written:.0f} s), K = "
          f"{args.components} full, {args.iterations} EM iteration(s), default init sample (200,000 rows); "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}.\n")
    print(f"- Peak RSS growth of the fitting process: **{growth / 2**20:.0f} MB** (bound: 1 GB).")
    print(f"- Sample pass + k-means + first EM pass: {first:.0f} s; later EM passes: "
          f"{', '.join(f'{p:.0f} s' for p in passes) or 'none'}.")


if __name__ == "__main__":
    main()

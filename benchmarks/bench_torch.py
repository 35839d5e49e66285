"""Time per EM iteration of GaussianMixture on a torch tensor (GPU if present) against the NumPy path.

Full covariances, N = 1,000,000, D = 32, K = 64, float32 (the issue's GPU case), the same initial parameters
(a short fit on a 1-in-50 subsample), tol = 0: both runs do the same EM iterations, so the ratio of their median
iteration times is the speed-up of running the engine on the tensor's device. The first iteration (which
includes validation and, on a GPU, warm-up) is reported separately. Ends with the largest relative difference
of the means after the timed iterations (float64 statistics in both paths). On a CPU, tensors run NumPy's
kernel on their own memory; the batched kernel a GPU runs is timed on the CPU as a third row.

    python benchmarks/bench_torch.py [--rows 1000000] [--iterations 3] [--device cuda|cpu] [--chunk-rows N]
                                       [--threads T]
"""

from __future__ import annotations

import os

if __name__ == "__main__":  # run as a script, benchmarks/ is on the path
    from machine_blas import run_with_machine_blas

    run_with_machine_blas()

import argparse  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402

N_FEATURES, N_COMPONENTS, SEED = 32, 64, 2026


def make_data(rows: int) -> np.ndarray:
    """A mixture of K Gaussians with random full covariances, float32, reproducible from SEED."""
    rng = np.random.default_rng(SEED)
    centres = rng.normal(0.0, 3.0, (N_COMPONENTS, N_FEATURES))
    mixing = rng.normal(0.0, 0.4, (N_COMPONENTS, N_FEATURES, N_FEATURES)) + np.eye(N_FEATURES)
    labels = rng.integers(0, N_COMPONENTS, rows)
    X = np.empty((rows, N_FEATURES), dtype=np.float32)
    for start in range(0, rows, 100_000):
        z = rng.standard_normal((min(100_000, rows - start), N_FEATURES))
        k = labels[start:start + z.shape[0]]
        X[start:start + z.shape[0]] = centres[k] + np.einsum("nij,nj->ni", mixing[k], z)
    return X


def iteration_times(fit) -> tuple[list[float], float, object]:
    """Run ``fit(on_iteration)``; the seconds of every iteration but the first, the first's, and the model."""
    stamps: list[float] = []
    start = time.perf_counter()
    model = fit(lambda n_iter, lower_bound: stamps.append(time.perf_counter()))
    return list(np.diff(stamps)), stamps[0] - start, model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--iterations", type=int, default=3, help="timed iterations (after a first one)")
    parser.add_argument("--device", default=None, help="torch device; default cuda if available, else cpu")
    parser.add_argument("--chunk-rows", type=int, default=None, help="rows per E-step block (default: gaussmix's)")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    args = parser.parse_args()

    import torch

    from gaussmix import GaussianMixture

    warnings.simplefilter("ignore")  # tol=0 never converges, by design
    if args.threads:
        torch.set_num_threads(args.threads)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    X = make_data(args.rows)
    start = GaussianMixture(N_COMPONENTS, max_iter=2, random_state=0).fit(X[::50])
    kw = dict(n_components=N_COMPONENTS, covariance_type="full", tol=0.0, max_iter=args.iterations + 1,
              weights_init=start.weights_, means_init=start.means_, precisions_init=start.precisions_,
              chunk_rows=args.chunk_rows)

    X_device = torch.from_numpy(X).to(device)

    def on_device(callback):
        model = GaussianMixture(**kw).fit(X_device, on_iteration=callback)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        return model

    numpy_times, numpy_first, on_numpy = iteration_times(lambda cb: GaussianMixture(**kw).fit(X, on_iteration=cb))
    torch_times, torch_first, on_torch = iteration_times(on_device)
    batched = None
    if device == "cpu":  # CPU tensors run NumPy's kernel on their memory; time the GPU's batched kernel too
        from gaussmix.core import estep

        on_cpu = estep._on_cpu
        estep._on_cpu = lambda a: False
        try:
            batched = iteration_times(on_device)
        finally:
            estep._on_cpu = on_cpu
    means = on_torch.means_.cpu().numpy()
    diff = float(np.max(np.abs(means - on_numpy.means_)) / np.max(np.abs(on_numpy.means_)))

    numpy_s, torch_s = statistics.median(numpy_times), statistics.median(torch_times)
    name = torch.cuda.get_device_name(device) if device.startswith("cuda") else \
        f"CPU, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads"
    print("## Torch tensors vs NumPy (benchmarks/bench_torch.py)\n")
    print(f"N = {args.rows:,}, D = {N_FEATURES}, K = {N_COMPONENTS}, full, float32; torch {torch.__version__} on "
          f"{device} ({name}); {platform.processor() or platform.machine()}, load average "
          f"{os.getloadavg()[0]:.1f} at the end.\n")
    print("| run | median s / iteration | iterations timed | first iteration incl. setup (s) |")
    print("|---|---|---|---|")
    print(f"| NumPy | {numpy_s:.2f} | {len(numpy_times)} | {numpy_first:.2f} |")
    print(f"| torch on {device} | {torch_s:.2f} | {len(torch_times)} | {torch_first:.2f} |")
    if batched is not None:
        print(f"| torch on cpu, batched kernel (a GPU's) | {statistics.median(batched[0]):.2f} | {len(batched[0])} "
              f"| {batched[1]:.2f} |")
    print(f"\nNumPy / torch time per iteration: **{numpy_s / torch_s:.2f}×**. Largest relative difference of the "
          f"means after {args.iterations + 1} iterations: {diff:.1e}.")


if __name__ == "__main__":
    main()

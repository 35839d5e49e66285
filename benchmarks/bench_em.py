"""EM per-iteration time, GEMM efficiency, memory and parity: gaussmix against scikit-learn on the same work.

Both estimators get the same data and the same ``weights_init/means_init/precisions_init`` (from a k-means++
seeding of the data), ``tol=0`` and a fixed ``max_iter``; repetitions alternate (A B A B ...). The time per EM
iteration is (fit with 1 + M iterations − fit with 1 iteration) / M, which cancels each library's fixed costs
(validation, initial M-step, scikit-learn's final E-step); the median over repetitions is reported. The machine's
GEMM peak is measured in the same run. Peak extra memory of a fit is tracemalloc's peak (NumPy reports its
buffers to it) beyond the data. Parity is the largest difference of weights, means and covariances relative to
each array's largest entry, after 1 + M iterations.

Run:  python benchmarks/bench_em.py [--cases full64,diag64] [--repeats 5] [--max-iter 8] [--big]
The script re-executes itself without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, so both libraries run the BLAS
kernel OpenBLAS picks for this CPU.
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
import tracemalloc  # noqa: E402
import warnings  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from functools import partial  # noqa: E402

import numpy as np  # noqa: E402


@dataclass(frozen=True)
class Case:
    name: str
    n: int
    d: int
    k: int
    kind: str
    dtype: str
    target: float = 0.0


CASES = (
    Case("full64", 200_000, 16, 16, "full", "float64", 10),
    Case("full32", 200_000, 16, 16, "full", "float32", 10),
    Case("tied64", 200_000, 16, 16, "tied", "float64", 10),
    Case("diag64", 200_000, 32, 64, "diag", "float64", 8),
    Case("ubm32", 200_000, 40, 256, "diag", "float32", 8),
    Case("sph64", 200_000, 16, 64, "spherical", "float64", 8),
    # Small data: per-call overheads and the thread split weigh more.
    Case("full64-50k", 50_000, 16, 16, "full", "float64", 10),
    Case("full32-50k", 50_000, 16, 16, "full", "float32", 10),
    Case("tied64-50k", 50_000, 16, 16, "tied", "float64", 10),
    Case("diag64-50k", 50_000, 32, 64, "diag", "float64", 8),
    Case("ubm32-50k", 50_000, 40, 256, "diag", "float32", 8),
    Case("sph64-50k", 50_000, 16, 64, "spherical", "float64", 8),
    Case("fullD64", 50_000, 64, 16, "full", "float64", 5),
    # High dimension: D² features per row stop paying; the per-component whitened kernel takes over.
    Case("fullD256", 10_000, 256, 8, "full", "float64", 2),
    Case("fullD1024", 2_500, 1024, 4, "full", "float64", 2),
)


def make_data(case: Case, seed: int = 0) -> np.ndarray:
    """Rows from a random mixture of ``case.k`` Gaussians with random full covariances, well inside float32."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (case.k, case.d))
    labels = rng.integers(0, case.k, case.n)
    X = np.empty((case.n, case.d))
    for j in range(case.k):
        rows = labels == j
        a = rng.normal(size=(case.d, case.d)) / np.sqrt(case.d) + 0.5 * np.eye(case.d)
        X[rows] = rng.normal(size=(int(rows.sum()), case.d)) @ a.T + centres[j]
    return X.astype(case.dtype)


def initial_params(X: np.ndarray, case: Case):
    """Shared initial parameters: k-means++ seeds on a sample, nearest-seed labels, one M-step (gaussmix core)."""
    from gaussmix.core.init import initial_params as gm_initial_params

    rng = np.random.default_rng(1)
    sample = X[rng.choice(X.shape[0], min(X.shape[0], 20_000), replace=False)]
    return gm_initial_params(sample, case.k, case.kind, "k-means++", rng, reg_covar=1e-6).params


def gemm_peak(dtype: str, size: int = 2048) -> float:
    """Best GFLOP/s of a square GEMM over a few runs, with the BLAS threads as configured (all cores)."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(size, size)).astype(dtype), rng.normal(size=(size, size)).astype(dtype)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(5))
    return 2 * size**3 / best / 1e9


def _timed(function) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


def textbook_flops(case: Case) -> float:
    """GEMM flops of one iteration of the per-component algorithm (what scikit-learn does), for GFLOP/s."""
    n, d, k = case.n, case.d, case.k
    return {"full": 4.0 * n * k * d * d, "tied": 4.0 * n * d * d + 4.0 * n * k * d,
            "diag": 8.0 * n * k * d, "spherical": 6.0 * n * k * d}[case.kind]


def executed_flops(case: Case) -> float:
    """GEMM flops gaussmix's fast E-step executes per iteration (feature-map GEMMs of core/fast_estep.py; counted
    as for the form this version picks, so a "before" run of an older version under-counts high-D cases)."""
    from gaussmix.core.fast_estep import default_form, n_phi_features

    n, d, k, kind = case.n, case.d, case.k, case.kind
    f = n_phi_features(kind, d)
    try:
        form = default_form(kind, np.dtype(case.dtype), d, k)
    except TypeError:  # a version before the whitened form (a "before" run)
        form = default_form(kind, np.dtype(case.dtype))
    if form == "whitened":  # densities by TRMM with P_k, a SYRK (D²) per row and component,
        return whitened_density_flops(n, d) * k + 1.0 * n * k * d * d + 2.0 * n * k * (d + 1)  # first moments
    if kind == "full":
        e = 2.0 * n * k * d * (d + 1) if form == "centred" else 2.0 * n * k * f
        return e + 2.0 * n * k * f
    if kind == "tied":
        return 2.0 * n * d * d + 1.0 * n * d * d + 2.0 * n * k * (d + 2) + 2.0 * n * k * f  # whitening GEMM, SYRK
    return 4.0 * n * k * f


def whitened_density_flops(n: int, d: int) -> float:
    """Flops of one component's whitened densities: TRMM by the upper triangular P_k (n·D²), column tiles of it in
    the version before (each multiplied by the rows above its diagonal block), one dense GEMM before that."""
    try:
        from gaussmix.core.lapack import multiply_by_upper  # noqa: F401
        return 1.0 * n * d * d
    except ImportError:
        pass
    try:
        from gaussmix.core.fast_estep import WHITENED_MIN_TILE, WHITENED_TILES
    except ImportError:
        return 2.0 * n * d * d
    tile = max(WHITENED_MIN_TILE, d // WHITENED_TILES)
    return sum(2.0 * n * min(start + tile, d) * (min(start + tile, d) - start) for start in range(0, d, tile))


def _estimators(case: Case, params, max_iter: int):
    from sklearn.mixture import GaussianMixture as SklearnGM

    from gaussmix import GaussianMixture

    init = dict(weights_init=params.weights, means_init=params.means, precisions_init=params.precisions)
    kw = dict(covariance_type=case.kind, tol=0.0, max_iter=max_iter, **init)
    return {"sklearn": SklearnGM(case.k, **kw), "gaussmix": GaussianMixture(case.k, **kw)}


def _fit(estimator, X: np.ndarray):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return estimator.fit(X)


def _peak_extra_mb(estimator, X: np.ndarray) -> float:
    tracemalloc.start()
    try:
        _fit(estimator, X)
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def _max_rel_diff(a, b) -> float:
    worst = 0.0
    for name in ("weights_", "means_", "covariances_"):
        x, y = np.asarray(getattr(a, name), np.float64), np.asarray(getattr(b, name), np.float64)
        worst = max(worst, float(np.max(np.abs(x - y)) / np.max(np.abs(y))))
    return worst


def run_case(case: Case, repeats: int, max_iter: int, measure_memory: bool, peaks: dict) -> dict:
    X = make_data(case)
    params = initial_params(X, case)
    short, long = _estimators(case, params, 1), _estimators(case, params, 1 + max_iter)
    times: dict[str, list[float]] = {"sklearn": [], "gaussmix": []}
    fitted = {}
    for _ in range(repeats):
        for name in ("sklearn", "gaussmix"):  # interleaved: A B A B ...
            t_short = _timed(partial(_fit, short[name], X))
            t_long = _timed(partial(_fit, long[name], X))
            times[name].append(max(t_long - t_short, 1e-9) / max_iter)
            fitted[name] = long[name]
    sk, gm = statistics.median(times["sklearn"]), statistics.median(times["gaussmix"])
    peak = peaks.get(case.dtype, float("nan"))
    row = {
        "case": case.name, "n": case.n, "d": case.d, "k": case.k, "kind": case.kind, "dtype": case.dtype,
        "sklearn_s": sk, "gaussmix_s": gm, "speedup": sk / gm, "target": case.target,
        "textbook_gflops": textbook_flops(case) / gm / 1e9, "executed_gflops": executed_flops(case) / gm / 1e9,
        "peak_gflops": peak, "max_rel_diff": _max_rel_diff(fitted["gaussmix"], fitted["sklearn"]),
        "sklearn_mb": float("nan"), "gaussmix_mb": float("nan"),
    }
    if measure_memory:
        row["sklearn_mb"] = _peak_extra_mb(long["sklearn"], X)
        row["gaussmix_mb"] = _peak_extra_mb(long["gaussmix"], X)
    return row


def run_cases(cases, repeats: int = 5, max_iter: int = 8, measure_memory: bool = True,
              peaks: dict | None = None) -> list[dict]:
    """Run each case; ``peaks`` maps dtype name to the GEMM peak in GFLOP/s (measured when None)."""
    if peaks is None:
        peaks = {dt: gemm_peak(dt) for dt in sorted({c.dtype for c in cases})}
    return [run_case(c, repeats, max_iter, measure_memory, peaks) for c in cases]


def format_table(rows: list[dict]) -> str:
    head = ("| case | N | D | K | type | dtype | sklearn s/iter | gaussmix s/iter | speedup | target | "
            "GFLOP/s textbook (% peak) | GFLOP/s executed | peak extra MB sklearn / gaussmix | max rel diff |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        pct = 100 * r["textbook_gflops"] / r["peak_gflops"]
        lines.append(
            f"| {r['case']} | {r['n']:,} | {r['d']} | {r['k']} | {r['kind']} | {r['dtype']} | {r['sklearn_s']:.4f} "
            f"| {r['gaussmix_s']:.4f} | {r['speedup']:.1f}× | ≥ {r['target']:g}× | {r['textbook_gflops']:.1f} "
            f"({pct:.0f}%) | {r['executed_gflops']:.1f} | {r['sklearn_mb']:.0f} / {r['gaussmix_mb']:.0f} "
            f"| {r['max_rel_diff']:.1e} |")
    return "\n".join(lines)


def environment() -> str:
    import sklearn

    import gaussmix

    try:
        from threadpoolctl import threadpool_info

        blas = "; ".join(f"{i.get('internal_api')} {i.get('version')} kernel={i.get('architecture')} "
                         f"threads={i.get('num_threads')}" for i in threadpool_info() if i.get("user_api") == "blas")
    except ImportError:
        blas = "threadpoolctl not installed"
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    from machine_blas import BLAS_OVERRIDES

    env = {v: os.environ.get(v, "unset") for v in BLAS_OVERRIDES}
    return (f"date {time.strftime('%Y-%m-%d %H:%M')}; cpu {cpu} × {os.cpu_count()}; python {platform.python_version()}"
            f"; numpy {np.__version__}; scikit-learn {sklearn.__version__}; gaussmix {gaussmix.__version__}\n"
            f"BLAS: {blas}\n{env}; load average before the run {os.getloadavg()[0]:.2f}")


def make_data_lean(case: Case, seed: int = 0, block: int = 100_000) -> np.ndarray:
    """``make_data``'s mixture written block by block into a float32 array, so its peak memory is the array's."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 3, (case.k, case.d))
    mixing = rng.normal(size=(case.k, case.d, case.d)) / np.sqrt(case.d) + 0.5 * np.eye(case.d)
    X = np.empty((case.n, case.d), dtype=case.dtype)
    for start in range(0, case.n, block):
        rows = min(block, case.n - start)
        labels = rng.integers(0, case.k, rows)
        X[start:start + rows] = np.einsum("nij,nj->ni", mixing[labels], rng.normal(size=(rows, case.d))) \
            + centres[labels]
    return X


def run_big(n: int = 10_000_000, d: int = 8, k: int = 8) -> str:
    """fit (default k-means init) + predict of N × 8 float32 with K = 8; times and the process's peak RSS."""
    import resource

    from gaussmix import GaussianMixture

    def peak_mb() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10

    X = make_data_lean(Case("big", n, d, k, "full", "float32"))
    rss_data = peak_mb()
    start = time.perf_counter()
    gm = _fit(GaussianMixture(k, random_state=0), X)
    fit_s = time.perf_counter() - start
    rss_fit = peak_mb()
    start = time.perf_counter()
    labels = gm.predict(X)
    predict_s = time.perf_counter() - start
    rss_predict = peak_mb()
    em = GaussianMixture(k, tol=0.0, max_iter=3, weights_init=gm.weights_, means_init=gm.means_,
                         precisions_init=gm.precisions_)
    t1 = _timed(lambda: _fit(GaussianMixture(k, tol=0.0, max_iter=1, weights_init=gm.weights_,
                                             means_init=gm.means_, precisions_init=gm.precisions_), X))
    t3 = _timed(lambda: _fit(em, X))
    em_mb = _peak_extra_mb(em, X)
    return (f"fit + predict, N={n:,} D={d} K={k} float32 full, default init (k-means on all rows):\n"
            f"  fit {fit_s:.1f} s ({gm.n_iter_} EM iterations, converged={gm.converged_}); EM alone "
            f"{(t3 - t1) / 2:.2f} s per iteration; predict {predict_s:.1f} s\n"
            f"  peak RSS: {rss_data:.0f} MB after making the data ({X.nbytes / 2**20:.0f} MB), {rss_fit:.0f} MB "
            f"after fit, {rss_predict:.0f} MB after predict (its labels: {labels.nbytes / 2**20:.0f} MB)\n"
            f"  peak extra memory of the EM iterations alone (tracemalloc, given init): {em_mb:.0f} MB")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default=",".join(c.name for c in CASES))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--max-iter", type=int, default=8)
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--big", action="store_true", help="run only the 10M-row fit + predict")
    args = parser.parse_args(argv)
    print(environment(), flush=True)
    if args.big:
        print(run_big(), flush=True)
        return
    # Other processes share this machine: the peak is re-measured before every case and the best kept.
    peaks = {"float32": 0.0, "float64": 0.0}
    wanted = args.cases.split(",")
    rows = []
    for case in (c for c in CASES if c.name in wanted):
        peaks = {dt: max(peaks[dt], gemm_peak(dt)) for dt in peaks}
        rows.extend(run_cases([case], args.repeats, args.max_iter, not args.no_memory, peaks))
        print(format_table(rows[-1:]).splitlines()[-1], flush=True)
    for row in rows:
        row["peak_gflops"] = peaks[row["dtype"]]
    print(f"\nGEMM peak (best of the run), {os.cpu_count()} threads: DGEMM {peaks['float64']:.0f} GFLOP/s, "
          f"SGEMM {peaks['float32']:.0f} GFLOP/s; load average after the run {os.getloadavg()[0]:.2f}")
    print(format_table(rows))


if __name__ == "__main__":
    main()

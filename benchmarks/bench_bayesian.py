"""Variational EM per-iteration time and parity: gaussmix's BayesianGaussianMixture against scikit-learn's.

Both estimators start from the same random responsibilities (scikit-learn through ``_initialize``, gaussmix
through its initial statistics), run with ``tol=0`` and a fixed ``max_iter``, alternating A B A B. The time per
iteration is (fit with 1 + M iterations − fit with 1 iteration) / M, which cancels each library's fixed costs
(the prior's moments, the initial M-step, scikit-learn's final E-step); the median over repetitions is reported.
Parity is the largest difference of weights, means, covariances, mean precisions and degrees of freedom relative
to each array's largest entry, and of the lower bounds, after 1 + M iterations.

Run:  python benchmarks/bench_bayesian.py [--cases full64,diag64] [--repeats 3] [--max-iter 5]
The script re-executes itself without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE (see bench_em.py).
"""

from __future__ import annotations

if __name__ == "__main__":  # run as a script, benchmarks/ is on the path
    from machine_blas import run_with_machine_blas

    run_with_machine_blas()

import argparse  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
from bench_em import Case, environment, make_data  # noqa: E402

CASES = (
    Case("full64", 200_000, 16, 16, "full", "float64", 5),
    Case("diag64", 200_000, 32, 64, "diag", "float64", 5),
    Case("tied64", 200_000, 16, 16, "tied", "float64", 0),
    Case("sph64", 200_000, 16, 64, "spherical", "float64", 0),
    Case("full32", 200_000, 16, 16, "full", "float32", 0),
)
ATTRIBUTES = ("weights_", "means_", "covariances_", "mean_precision_", "degrees_of_freedom_")


def estimators(case: Case, resp: np.ndarray, max_iter: int) -> dict:
    """Both estimators, starting from ``resp``, for ``max_iter`` iterations."""
    from sklearn.mixture import BayesianGaussianMixture as SkBayesian

    import gaussmix.bayesian as bayesian
    from gaussmix.core.estep import resp_stats

    class SkFromResp(SkBayesian):
        def _initialize_parameters(self, X, random_state, xp=None):
            self._initialize(X, resp)

    def stats_of_resp(X, n_components, kind, init_params, rng, sample_weight=None, chunk_rows=8192):
        centers = (resp.T @ X) / resp.sum(0)[:, None]
        return resp_stats(X, resp, None, centers, kind)

    bayesian.initial_stats = stats_of_resp  # this script's own process: every gaussmix fit starts from resp
    kw = dict(n_components=case.k, covariance_type=case.kind, tol=0.0, max_iter=max_iter, random_state=0)
    return {"sklearn": SkFromResp(**kw), "gaussmix": bayesian.BayesianGaussianMixture(**kw)}


def timed_fit(model, X) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        model.fit(X)
        return time.perf_counter() - start


def max_rel_diff(a, b) -> tuple[float, float]:
    worst = 0.0
    for name in ATTRIBUTES:
        x, y = np.asarray(getattr(a, name), np.float64), np.asarray(getattr(b, name), np.float64)
        worst = max(worst, float(np.max(np.abs(x - y)) / np.max(np.abs(y))))
    bounds_a, bounds_b = np.ravel(a.lower_bounds_), np.ravel(np.asarray(b.lower_bounds_, dtype=np.float64))
    return worst, float(np.max(np.abs(bounds_a - bounds_b) / np.abs(bounds_b)))


def run_case(case: Case, repeats: int, max_iter: int) -> dict:
    X = make_data(case)
    resp = np.random.default_rng(1).uniform(size=(case.n, case.k))
    resp /= resp.sum(axis=1, keepdims=True)
    short, long = estimators(case, resp, 1), estimators(case, resp, 1 + max_iter)
    times: dict[str, list[float]] = {"sklearn": [], "gaussmix": []}
    for _ in range(repeats):
        for name in ("sklearn", "gaussmix"):  # interleaved: A B A B ...
            t_short, t_long = timed_fit(short[name], X), timed_fit(long[name], X)
            times[name].append(max(t_long - t_short, 1e-9) / max_iter)
    sk, gm = statistics.median(times["sklearn"]), statistics.median(times["gaussmix"])
    params_diff, bound_diff = max_rel_diff(long["gaussmix"], long["sklearn"])
    return {"case": case.name, "n": case.n, "d": case.d, "k": case.k, "kind": case.kind, "dtype": case.dtype,
            "sklearn_s": sk, "gaussmix_s": gm, "speedup": sk / gm, "target": case.target,
            "params_diff": params_diff, "bound_diff": bound_diff}


def format_table(rows: list[dict]) -> str:
    head = ("| case | N | D | K | type | dtype | sklearn s/iter | gaussmix s/iter | speedup | target | "
            "max rel diff: attributes / lower bounds |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        target = f"≥ {r['target']:g}×" if r["target"] else "—"
        lines.append(f"| {r['case']} | {r['n']:,} | {r['d']} | {r['k']} | {r['kind']} | {r['dtype']} | "
                     f"{r['sklearn_s']:.3f} | {r['gaussmix_s']:.3f} | {r['speedup']:.1f}× | {target} | "
                     f"{r['params_diff']:.1e} / {r['bound_diff']:.1e} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", default=",".join(c.name for c in CASES))
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-iter", type=int, default=5)
    args = parser.parse_args()
    chosen = [c for c in CASES if c.name in args.cases.split(",")]
    print(environment())
    rows = [run_case(c, args.repeats, args.max_iter) for c in chosen]
    print(format_table(rows))


if __name__ == "__main__":
    main()

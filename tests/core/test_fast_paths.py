"""The NumPy fast paths of the E-step agree with the per-component reference and with SciPy's densities."""

from __future__ import annotations

import importlib.util
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from scipy.special import logsumexp as scipy_logsumexp
from scipy.stats import multivariate_normal

from gaussmix.core import fast_estep, lapack
from gaussmix.core.estep import chunk_stats, chunk_stats_reference, resp_stats_reference
from gaussmix.core.mstep import params_from_stats
from gaussmix.core.params import COVARIANCE_TYPES, GaussianParams
from gaussmix.executors.local import ArraySource, Chunk, local_accumulator, map_blocks
from strategies import random_params

FIELDS = ("n", "log_likelihood", "resp_sum", "first", "second")
# Every (covariance type, form) the fast path can take; full has three forms, tied two.
FORMS = {"full": ("expanded", "centred", "whitened"), "tied": ("expanded", "centred")}
KINDS_AND_FORMS = [(kind, form) for kind in COVARIANCE_TYPES for form in FORMS.get(kind, ("expanded",))]
# Relative tolerance against the reference, by dtype: float32 densities round at ~1e-7 of ‖P(x − g)‖².
RTOL = {np.float64: 1e-10, np.float32: 2e-4}


def dense_covariance(params: GaussianParams, k: int) -> np.ndarray:
    cov, kind, d = params.covariances, params.covariance_type, params.n_features
    return {"full": lambda: cov[k], "tied": lambda: cov, "diag": lambda: np.diag(cov[k]),
            "spherical": lambda: cov[k] * np.eye(d)}[kind]()


def scipy_log_resp(X: np.ndarray, params: GaussianParams) -> tuple[np.ndarray, np.ndarray]:
    """log p(x) and log p(k | x) from SciPy's multivariate normal, one component at a time, in float64."""
    wlp = np.column_stack([multivariate_normal(params.means[k], dense_covariance(params, k)).logpdf(X)
                           .reshape(X.shape[0]) + np.log(params.weights[k]) for k in range(params.n_components)])
    log_prob = scipy_logsumexp(wlp, axis=1)
    return log_prob, wlp - log_prob[:, None]


def assert_stats_close(actual, desired, rtol: float) -> None:
    for field in FIELDS:
        a, d = np.asarray(getattr(actual, field)), np.asarray(getattr(desired, field))
        assert a.dtype == np.float64, field
        np.testing.assert_allclose(a, d, rtol=0, atol=rtol * max(np.max(np.abs(d)), 1.0), err_msg=field)


def mixture_case(rng: np.random.Generator, kind: str, n: int = 900, d: int = 4, k: int = 3, offset: float = 0.0):
    X = rng.normal(0, 2, (n, d)) + offset
    return X, random_params(rng, k, d, kind, X)


@pytest.mark.parametrize(("kind", "form"), KINDS_AND_FORMS)
def test_fast_log_resp_matches_scipy_densities(rng, dtype, kind, form):
    X, params = mixture_case(rng, kind)
    log_prob, log_resp = fast_estep.fast_log_resp(X.astype(dtype), params, form=form)
    expected_log_prob, expected_log_resp = scipy_log_resp(X.astype(dtype).astype(np.float64), params)
    assert log_prob.dtype == dtype and log_resp.dtype == dtype
    atol = {np.float64: 1e-10, np.float32: 2e-4}[dtype] * np.max(np.abs(expected_log_prob))
    np.testing.assert_allclose(log_prob, expected_log_prob, rtol=0, atol=atol)
    np.testing.assert_allclose(np.exp(log_resp), np.exp(expected_log_resp), rtol=0, atol=atol)


@pytest.mark.parametrize(("kind", "form"), KINDS_AND_FORMS)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_fast_chunk_stats_match_the_reference(rng, dtype, kind, form, weighted):
    X, params = mixture_case(rng, kind)
    X = X.astype(dtype)
    w = rng.uniform(0, 3, X.shape[0]) * (rng.uniform(size=X.shape[0]) > 0.2) if weighted else None
    fast = fast_estep.fast_chunk_stats(X, params, w, row_offset=40, form=form)
    reference = chunk_stats_reference(X, params, w, row_offset=40)
    assert_stats_close(fast, reference, RTOL[dtype])
    if dtype == np.float64:
        np.testing.assert_array_equal(fast.worst_rows, reference.worst_rows)
        np.testing.assert_allclose(fast.worst_points, reference.worst_points)


@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_fast_resp_stats_match_the_reference(rng, dtype, kind):
    X, params = mixture_case(rng, kind, k=4)
    resp = rng.dirichlet(np.ones(4), size=X.shape[0])
    w = rng.uniform(0, 2, X.shape[0])
    fast = fast_estep.fast_resp_stats(X.astype(dtype), resp, w, params.means, kind)
    reference = resp_stats_reference(X.astype(dtype), resp, w, params.means, kind)
    assert_stats_close(fast, reference, 1e-12)


@pytest.mark.parametrize(("kind", "form"), KINDS_AND_FORMS)
def test_fast_path_keeps_covariances_of_data_far_from_the_origin(rng, kind, form):
    """At X + 1e6 the uncentred E[x²] − μ² would keep no digit; the centred statistics keep the covariances."""
    X, params = mixture_case(rng, kind, n=3000, offset=1e6)
    fast = params_from_stats(fast_estep.fast_chunk_stats(X, params, form=form), 1e-6).params
    reference = params_from_stats(chunk_stats_reference(X, params), 1e-6).params
    np.testing.assert_allclose(fast.covariances, reference.covariances, rtol=1e-6)
    np.testing.assert_allclose(fast.means, reference.means, rtol=1e-12)
    near = params_from_stats(fast_estep.fast_chunk_stats(X - 1e6, shifted(params, -1e6), form=form), 1e-6).params
    np.testing.assert_allclose(fast.covariances, near.covariances, rtol=1e-6)


def shifted(params: GaussianParams, by: float) -> GaussianParams:
    return GaussianParams(params.weights, params.means + by, params.covariances, params.precisions_cholesky,
                          params.covariance_type)


@pytest.mark.parametrize(("kind", "form"), KINDS_AND_FORMS)
def test_points_far_from_every_component_stay_finite(rng, dtype, kind, form):
    X, params = mixture_case(rng, kind, n=200)
    sigma = float(np.sqrt(np.max(params.covariances)))
    X[:5] = params.means.mean(axis=0) + 1e4 * sigma * rng.choice([-1.0, 1.0], size=(5, X.shape[1]))
    X = X.astype(dtype)
    log_prob, log_resp = fast_estep.fast_log_resp(X, params, form=form)
    stats = fast_estep.fast_chunk_stats(X, params, form=form)
    assert np.all(np.isfinite(log_prob)) and np.all(np.isfinite(np.exp(log_resp)))
    np.testing.assert_allclose(np.exp(log_resp).sum(axis=1), 1.0, rtol=1e-5)
    assert all(np.all(np.isfinite(getattr(stats, f))) for f in FIELDS)
    assert set(stats.worst_rows[:5].tolist()) == set(range(5))
    expected, _ = scipy_log_resp(X[:5].astype(np.float64), params)
    np.testing.assert_allclose(log_prob[:5], expected, rtol=1e-5)


def test_a_zero_weight_component_gets_no_responsibility_and_no_warning(rng):
    X, params = mixture_case(rng, "diag")
    weights = np.array([0.0, 0.4, 0.6])
    params = GaussianParams(weights, params.means, params.covariances, params.precisions_cholesky, "diag")
    stats = fast_estep.fast_chunk_stats(X, params)
    _, log_resp = fast_estep.fast_log_resp(X, params)
    assert stats.resp_sum[0] == 0.0 and np.all(log_resp[:, 0] == -np.inf)
    assert_stats_close(stats, chunk_stats_reference(X, params), 1e-10)


@pytest.mark.parametrize(("kind", "form"), KINDS_AND_FORMS)
def test_sub_blocks_sum_to_one_block(rng, monkeypatch, kind, form):
    X, params = mixture_case(rng, kind, n=1000)
    whole = fast_estep.fast_chunk_stats(X, params, form=form)
    monkeypatch.setattr(fast_estep, "SUB_BLOCK_BYTES", 1)
    monkeypatch.setattr(fast_estep, "SEPARABLE_SUB_BLOCK_BYTES", 1)
    monkeypatch.setattr(fast_estep, "MIN_SUB_BLOCK_ROWS", 37)
    monkeypatch.setattr(fast_estep, "FULL_EXPANDED_MIN_ROWS", 37)
    assert fast_estep.sub_block_rows(fast_estep.density_plan(params, X.dtype, form), 1000) == 37
    assert_stats_close(fast_estep.fast_chunk_stats(X, params, form=form), whole, 1e-12)


def test_chunk_stats_takes_the_fast_path_for_numpy_and_the_reference_for_torch(rng):
    torch = pytest.importorskip("torch")
    X, params = mixture_case(rng, "full")
    fast = chunk_stats(X, params)
    tparams = GaussianParams(*(torch.from_numpy(np.asarray(a)) for a in
                               (params.weights, params.means, params.covariances, params.precisions_cholesky)),
                             "full")
    generic = chunk_stats(torch.from_numpy(X), tparams)
    for field in FIELDS:
        np.testing.assert_allclose(getattr(fast, field), getattr(generic, field).numpy(), rtol=1e-10,
                                   atol=1e-10, err_msg=field)


def test_parallel_accumulation_equals_serial_exactly(rng):
    X, params = mixture_case(rng, "full", n=5000)
    w = rng.uniform(0, 2, X.shape[0])
    source = ArraySource(X, w, chunk_rows=300)
    serial, parallel = local_accumulator(source, n_workers=1)(params), local_accumulator(source, n_workers=2)(params)
    for field in FIELDS + ("worst_rows", "worst_log_prob"):
        np.testing.assert_array_equal(getattr(parallel, field), getattr(serial, field), err_msg=field)


def test_map_blocks_keeps_order_and_bounds_the_blocks_in_flight():
    pulled, lock = [], threading.Lock()

    def chunks():
        for i in range(40):
            with lock:
                pulled.append(i)
            yield Chunk(i, np.full((3, 2), float(i)), None)

    seen = []
    for value in map_blocks(lambda c: float(c.X[0, 0]), chunks(), n_workers=2):
        seen.append(value)
        assert len(pulled) - len(seen) <= 4 + 1
    assert seen == [float(i) for i in range(40)]


def test_bench_em_runs_on_a_tiny_case():
    """The benchmark script is not part of the suite; this keeps it from rotting."""
    path = Path(__file__).parents[2] / "benchmarks" / "bench_em.py"
    spec = importlib.util.spec_from_file_location("bench_em", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_em"] = module
    spec.loader.exec_module(module)
    assert module.gemm_peak("float64", size=64) > 0
    rows = module.run_cases([module.Case("tiny", 400, 3, 2, "full", "float64")], repeats=1, max_iter=2,
                            measure_memory=True, peaks={"float64": 1.0})
    assert rows[0]["max_rel_diff"] < 1e-6 and rows[0]["speedup"] > 0 and rows[0]["gaussmix_mb"] >= 0
    assert "tiny" in module.format_table(rows)


@pytest.mark.parametrize("kind", ["diag", "spherical"])
def test_float32_sub_block_statistics_only_for_centres_near_the_common_centre(rng, kind):
    X, params = mixture_case(rng, kind, n=4000)
    near = fast_estep.density_plan(params, np.float32)
    far_params = GaussianParams.from_covariances(params.weights, params.means * 1e3, params.covariances, kind)
    assert near.stats_dtype == np.float32
    assert fast_estep.density_plan(far_params, np.float32).stats_dtype == np.float64
    assert fast_estep.density_plan(params, np.float64).stats_dtype == np.float64
    fast = params_from_stats(fast_estep.fast_chunk_stats(X.astype(np.float32), params), 1e-6).params
    reference = params_from_stats(chunk_stats_reference(X.astype(np.float32), params), 1e-6).params
    np.testing.assert_allclose(fast.covariances, reference.covariances, rtol=1e-4)


@pytest.mark.parametrize(("kind", "form"), KINDS_AND_FORMS)
def test_duplicated_rows_rank_the_same_in_any_split(rng, dtype, kind, form):
    """Position-dependent rounding must not reorder tied worst rows between a whole block and its pieces."""
    X, params = mixture_case(rng, kind, n=300)
    X[::3] = X[0] + 7.0  # a hundred copies of one far row, tied for the lowest log p(x)
    X = X.astype(dtype)
    whole = fast_estep.fast_chunk_stats(X, params, form=form)
    pieces = [fast_estep.fast_chunk_stats(X[a:b], params, row_offset=a, form=form)
              for a, b in ((0, 37), (37, 38), (38, 211), (211, 300))]
    summed = pieces[0] + pieces[1] + pieces[2] + pieces[3]
    np.testing.assert_array_equal(summed.worst_rows, whole.worst_rows)
    np.testing.assert_array_equal(whole.worst_rows, np.arange(0, 24, 3))


def test_triangular_solves_match_scipy_and_stay_triangular(rng):
    from scipy.linalg import solve_triangular

    from gaussmix.core.namespace import solve_lower_triangular

    for shape in ((5, 5), (7, 9, 9), (2, 1, 1)):
        lower = np.tril(rng.normal(size=shape)) + 3 * np.eye(shape[-1])
        eye = np.broadcast_to(np.eye(shape[-1]), shape)
        out = solve_lower_triangular(np, lower, eye)
        flat = lower.reshape(-1, shape[-1], shape[-1])
        expected = np.stack([solve_triangular(m, np.eye(shape[-1]), lower=True) for m in flat]).reshape(shape)
        np.testing.assert_allclose(out, expected, rtol=1e-13, atol=1e-15)
        assert np.all(np.triu(out, 1) == 0.0)


def test_default_blocks_are_bounded_in_rows_and_bytes():
    from gaussmix.executors.local import (
        BLOCK_BYTES,
        MAX_BLOCK_ROWS,
        MIN_BLOCK_ROWS,
        SPLIT_MIN_ROWS,
        default_chunk_rows,
        default_workers,
    )

    for d, k in ((2, 1), (16, 16), (60, 2048), (500, 4096)):
        rows = default_chunk_rows(d, k)
        assert MIN_BLOCK_ROWS <= rows <= MAX_BLOCK_ROWS
        # Enough rows keep every thread busy; a few stay one block.
        assert -(-10_000 // default_chunk_rows(d, k, 10_000)) >= min(default_workers(), 10_000 // SPLIT_MIN_ROWS)
        assert default_chunk_rows(d, k, 300) >= 300
        assert rows * (8 * (d + 4) + 4 * k) <= max(BLOCK_BYTES, 256 * (8 * (d + 4) + 4 * k))
        for n in (100, 10_000, 123_457):  # equal blocks, a multiple of the threads when there are several
            balanced = default_chunk_rows(d, k, n)
            blocks = -(-n // balanced)
            assert balanced <= rows and (blocks == 1 or blocks >= default_workers())
            assert blocks == 1 or n - (blocks - 1) * balanced >= balanced - blocks


def test_pair_features_hold_every_pair_once_and_index_the_upper_triangle():
    for d in range(1, 10):
        first, second = fast_estep.pair_features(d)
        pairs = {(min(i, j), max(i, j)) for i, j in zip(first, second, strict=True)}
        assert len(pairs) == first.size == d * (d + 1) // 2
        index = fast_estep.upper_triangle_features(d)
        np.testing.assert_array_equal(np.sort([first[index], second[index]], axis=0), fast_estep.upper_triangle(d))


@pytest.mark.parametrize("d", [1, 2, 5, 8])
def test_full_features_are_the_pair_products_written_into_a_wider_scratch(rng, d):
    XcT = rng.normal(size=(d, 7))
    out = np.full((fast_estep.n_phi_features("full", d), 10), np.nan)
    phi = fast_estep.fill_features(XcT, "full", out[:, :7], np.empty((2 * d, 10)))
    first, second = fast_estep.pair_features(d)
    np.testing.assert_array_equal(phi[:first.size], XcT[first] * XcT[second])
    np.testing.assert_array_equal(phi[first.size:-1], XcT)
    assert np.all(phi[-1] == 1.0) and np.all(np.isnan(out[:, 7:]))


@pytest.mark.parametrize("d", [1, 2, 5, 8])
@pytest.mark.parametrize("form", ["expanded", "centred"])
@pytest.mark.parametrize("offset", [0.0, 1e6], ids=["near", "far"])
def test_full_statistics_summed_in_feature_slices_match_the_reference(rng, monkeypatch, d, form, offset):
    """Odd and even D (a half offset), one feature per slice of the statistics GEMM, rows near and far from 0."""
    X, params = mixture_case(rng, "full", n=1200, d=d, offset=offset)
    whole = fast_estep.fast_chunk_stats(X, params, form=form)
    assert_stats_close(whole, chunk_stats_reference(X, params), 1e-10)
    monkeypatch.setattr(fast_estep, "SMALL_GEMM_SIZE", 2 * 3 * 1200)
    monkeypatch.setattr(fast_estep, "MIN_SLICE_FEATURES", 1)
    assert fast_estep.feature_slice(3, 1200) == 2
    assert_stats_close(fast_estep.fast_chunk_stats(X, params, form=form), whole, 1e-12)
    log_prob, _ = fast_estep.fast_log_resp(X, params, form=form)
    np.testing.assert_allclose(log_prob, scipy_log_resp(X, params)[0], rtol=1e-10)


def test_only_few_components_slice_the_full_gemms():
    assert fast_estep.feature_slice(16, 256) == 244  # D = 64, K = 16
    assert fast_estep.feature_slice(256, 2048) == 0  # many components: one GEMM


@pytest.mark.parametrize("dtype_", [np.float64, np.float32])
def test_whitened_form_is_chosen_at_high_dimension_and_matches_the_reference(rng, dtype_):
    """The per-component kernel (a GEMM for the densities, a SYRK for each scatter) against the reference."""
    assert fast_estep.default_form("full", np.float64, 16, 16) == "expanded"
    assert fast_estep.default_form("full", np.float32, 16, 16) == "expanded"
    assert fast_estep.default_form("full", np.float32, 16, 16, widen=False) == "centred"
    assert fast_estep.density_plan(mixture_case(rng, "full", n=10, d=16, k=4)[1], np.float32).dtype == np.float64
    assert fast_estep.default_form("full", dtype_, 96, 8) == "whitened"
    assert fast_estep.default_form("tied", dtype_, 96, 8) != "whitened"
    X, params = mixture_case(rng, "full", n=700, d=96, k=3)
    X = X.astype(dtype_)
    reference = chunk_stats_reference(X, params, None, row_offset=5)
    expected, _ = scipy_log_resp(X.astype(np.float64), params)
    plan = fast_estep.density_plan(params, dtype_)
    assert plan.form == "whitened"
    stats = fast_estep.fast_chunk_stats(X, params, None, row_offset=5, plan=plan)
    assert_stats_close(stats, reference, RTOL[dtype_])
    np.testing.assert_array_equal(stats.second, np.transpose(stats.second, (0, 2, 1)))  # exactly symmetric
    log_prob, _ = fast_estep.fast_log_resp(X, params, plan=plan)
    np.testing.assert_allclose(log_prob, expected, rtol=RTOL[dtype_])


@pytest.mark.parametrize("kind", COVARIANCE_TYPES)
def test_float32_fits_match_scikit_learn_from_the_same_init(rng, kind):
    import warnings

    from sklearn.mixture import GaussianMixture as SklearnGM

    from gaussmix import GaussianMixture

    X, params = mixture_case(rng, kind, n=3000)
    X = X.astype(np.float32)
    init = dict(weights_init=params.weights, means_init=params.means, precisions_init=params.precisions)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = GaussianMixture(3, covariance_type=kind, tol=0.0, max_iter=10, **init).fit(X)
        theirs = SklearnGM(3, covariance_type=kind, tol=0.0, max_iter=10, **init).fit(X)
    for name in ("weights_", "means_", "covariances_"):
        desired = getattr(theirs, name)
        np.testing.assert_allclose(getattr(ours, name), desired, rtol=0, atol=1e-3 * np.max(np.abs(desired)))


def test_without_threadpoolctl_blocks_run_serially_and_agree(rng, monkeypatch):
    from gaussmix.executors import local

    X, params = mixture_case(rng, "diag", n=3000)
    source = ArraySource(X, None, chunk_rows=500)
    with_threads = local_accumulator(source)(params)
    monkeypatch.setitem(sys.modules, "threadpoolctl", None)  # import now raises ImportError
    assert local.default_workers() == 1
    serial = local_accumulator(source)(params)
    assert_stats_close(serial, with_threads, 1e-12)  # multi-threaded BLAS may round differently


@pytest.mark.parametrize("dtype_", [np.float64, np.float32])
@pytest.mark.parametrize("n_components", [1, 3, 256, 4096])
@pytest.mark.parametrize("smallest_weight", [1.0, 1e-3])
def test_the_exp_floor_keeps_every_responsibility_a_normal_number(dtype_, n_components, smallest_weight):
    """Subnormal responsibilities made a float32 statistics GEMM 150× slower; the floor keeps them normal."""
    floor = fast_estep.exp_floor(np.dtype(dtype_), n_components, smallest_weight)
    smallest = np.exp(np.asarray(floor, dtype_)) * dtype_(smallest_weight) / dtype_(n_components)
    assert smallest >= np.finfo(dtype_).tiny * 1000
    assert floor < {np.float64: -600, np.float32: -55}[dtype_]  # still far below any rounding of a row's sum


def test_far_components_get_normal_float32_responsibilities(rng):
    """A component far from every row: its floored responsibilities are normal numbers, and the fit stays exact."""
    X, params = mixture_case(rng, "diag", n=500)
    params = GaussianParams.from_covariances(params.weights, params.means + np.eye(params.n_components, 1) * 60,
                                             params.covariances, "diag")
    _, log_resp = fast_estep.fast_log_resp(X.astype(np.float32), params)
    shares = np.exp(log_resp.astype(np.float64))
    assert np.all((shares == 0) | (shares >= np.finfo(np.float32).tiny))
    fast = fast_estep.fast_chunk_stats(X.astype(np.float32), params)
    reference = chunk_stats_reference(X.astype(np.float32), params)
    np.testing.assert_allclose(fast.resp_sum[1:], reference.resp_sum[1:], rtol=1e-5)


def test_no_row_peaks_above_the_largest_possible_log_probability(rng):
    """Rows on their means far from the origin: the expansion rounds some entries past log_const, never a peak."""
    means = rng.normal(0, 1, (4, 3)) * 1e3
    params = GaussianParams.from_covariances(np.full(4, 0.25), means, np.full((4, 3), 1e-4), "diag")
    X = np.repeat(means, 50, axis=0) + rng.normal(0, 1e-9, (200, 3))
    plan = fast_estep.density_plan(params, np.float64)
    log_prob_T = fast_estep._log_prob_T(plan, X.T, fast_estep._Scratch(plan, 200, False), 200)
    assert np.any(log_prob_T > plan.log_const[:, None])  # the rounding the cap is for
    peak = fast_estep._peaks(plan, log_prob_T, X, params)
    assert np.all(peak <= plan.max_log_const)
    log_prob, _ = fast_estep.fast_log_resp(X, params)
    # The expansion keeps eps·‖P(c − g)‖² ≈ 2e-6 of absolute accuracy here (the module doc)
    np.testing.assert_allclose(log_prob, scipy_log_resp(X, params)[0], atol=1e-5)


@pytest.mark.parametrize("d", [80, 130])  # P_k from NumPy (Fortran-ordered) and from LAPACK (C-ordered)
def test_whitened_densities_take_trmm_for_upper_factors_only(rng, monkeypatch, d):
    """An upper triangular P_k multiplies the rows by TRMM; a lower triangular factor of the same precision
    (scikit-learn's from ``precisions_init``) takes whole products. Both give SciPy's densities."""
    calls = []
    trmm = lapack.multiply_by_upper
    monkeypatch.setattr(lapack, "multiply_by_upper", lambda rows, upper: calls.append(upper) or trmm(rows, upper))
    X, params = mixture_case(rng, "full", n=400, d=d, k=3)
    expected, _ = scipy_log_resp(X, params)
    lower = GaussianParams(params.weights, params.means, params.covariances,
                           np.linalg.cholesky(params.precisions), "full")
    for p, upper in ((params, True), (lower, False)):
        calls.clear()
        plan = fast_estep.density_plan(p, np.float64, "whitened")
        assert plan.upper is upper
        log_prob, _ = fast_estep.fast_log_resp(X, p, plan=plan)
        np.testing.assert_allclose(log_prob, expected, rtol=1e-10)
        assert_stats_close(fast_estep.fast_chunk_stats(X, p, plan=plan), chunk_stats_reference(X, params), 1e-10)
        assert len(calls) == (2 * 3 if upper else 0)  # one per component, in each of the two passes
        assert all(np.shares_memory(u, p.precisions_cholesky) for u in calls)  # the factors, not copies


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_high_dimension_resp_stats_sum_scatters_by_component_like_the_whitened_form(rng, dtype):
    """Statistics from given responsibilities (k-means labels, soft, weighted) where the E-step takes the
    whitened form: per-component scatters over the rows each holds, equal to the reference."""
    X, params = mixture_case(rng, "full", n=600, d=48, k=3, offset=100.0)
    X = X.astype(dtype)
    assert fast_estep.default_form("full", X.dtype, 48, 3) == "whitened"
    labels = rng.integers(0, 3, X.shape[0])
    soft = rng.dirichlet(np.ones(3), X.shape[0])
    weights = rng.uniform(0.0, 2.0, X.shape[0])
    for resp, w in ((np.eye(3)[labels], None), (soft, None), (soft, weights)):
        fast = fast_estep.fast_resp_stats(X, resp, w, params.means, "full")
        assert_stats_close(fast, resp_stats_reference(X, resp, w, params.means, "full"), 1e-10)


SEPARABLE = ("diag", "spherical")


def with_per_row_peaks(monkeypatch) -> None:
    """Make the diag/spherical fast path normalise every row by its own peak, as before the shared shift."""
    monkeypatch.setattr(fast_estep, "SHARED_SHIFT_MIN_REACH", np.inf)


@pytest.mark.parametrize("kind", SEPARABLE)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_shared_shift_rescores_rows_beyond_its_reach(rng, monkeypatch, kind, weighted):
    """Rows 50 σ off are > 1,000 log-units below the best possible: the shared shift floors all their terms, so
    they are rescored with their own peak and keep the reference's responsibilities."""
    X, params = mixture_case(rng, kind, n=700)
    X[::7, 0] += 50 * np.sqrt(np.max(params.covariances))
    w = rng.uniform(0.01, 3, X.shape[0]) if weighted else None
    assert fast_estep._shared_shift(fast_estep.density_plan(params, X.dtype), 0.01) is not None
    shared = fast_estep.fast_chunk_stats(X, params, w)
    assert_stats_close(shared, chunk_stats_reference(X, params, w), 1e-10)
    with_per_row_peaks(monkeypatch)
    assert_stats_close(shared, fast_estep.fast_chunk_stats(X, params, w), 1e-12)


@pytest.mark.parametrize("kind", SEPARABLE)
def test_rows_whose_terms_sum_above_one_keep_their_responsibilities(rng, kind):
    """One feature, overlapping equal components: a row's terms relative to the largest log_const sum to more
    than 1 without any rounding, and only a term above 1 (rounding) needs the row's own peak."""
    X = rng.normal(0, 1, (500, 1))
    cov = np.full((3, 1), 1.0) if kind == "diag" else np.full(3, 1.0)
    params = GaussianParams.from_covariances(np.full(3, 1 / 3), np.array([[-0.1], [0.0], [0.1]]), cov, kind)
    assert_stats_close(fast_estep.fast_chunk_stats(X, params), chunk_stats_reference(X, params), 1e-10)


@pytest.mark.parametrize("kind", SEPARABLE)
def test_shared_shift_keeps_every_responsibility_a_normal_number(rng, monkeypatch, kind):
    """A component 60 σ from every row, and rows 50 σ from every component: the terms and scaled features the
    statistics GEMM multiplies stay normal numbers (subnormals made it 150× slower) and finite."""
    X, params = mixture_case(rng, kind, n=400)
    sigma = float(np.sqrt(np.max(params.covariances)))
    params = GaussianParams.from_covariances(params.weights, params.means + np.eye(3, X.shape[1]) * 60 * sigma,
                                             params.covariances, kind)
    X[::9] += 50 * sigma
    seen = []
    add = fast_estep._StatsSum.add_separable
    monkeypatch.setattr(fast_estep._StatsSum, "add_separable",
                        lambda self, resp, phi: (seen.append((resp.copy(), phi.copy())), add(self, resp, phi))[1])
    stats = fast_estep.fast_chunk_stats(X, params)
    for resp, phi in seen:
        assert np.all(np.isfinite(resp)) and np.all(np.isfinite(phi))
        assert np.all(resp >= np.finfo(np.float64).tiny)
    assert_stats_close(stats, chunk_stats_reference(X, params), 1e-10)


@pytest.mark.parametrize("kind", SEPARABLE)
def test_spherical_features_scale_without_overflow(rng, kind):
    """Data at 1e150: rows 30 σ off have ‖x − g‖² ≈ 1e303 and a scale near e^450; such rows scale their terms
    instead of their features (spherical, more components than features), whose product would overflow."""
    X, params = mixture_case(rng, kind, n=300, d=3, k=8)
    X, params = X * 1e150, GaussianParams.from_covariances(params.weights, params.means * 1e150,
                                                           params.covariances * 1e300, kind)
    X[::11, 0] += 30 * 1e150 * np.sqrt(np.max(params.covariances / 1e300))
    fast, reference = fast_estep.fast_chunk_stats(X, params), chunk_stats_reference(X, params)
    assert all(np.all(np.isfinite(getattr(fast, f))) for f in FIELDS)
    assert_stats_close(fast, reference, 1e-10)


def test_only_float64_rows_share_a_shift(rng):
    """Float32's range leaves a shared shift too little reach: float32 rows keep their own peaks."""
    _, params = mixture_case(rng, "diag")
    assert fast_estep._shared_shift(fast_estep.density_plan(params, np.float64), 1.0) is not None
    assert fast_estep._shared_shift(fast_estep.density_plan(params, np.float32), 1.0) is None


def test_full_expansion_sub_blocks_are_not_too_thin_nor_unbounded(rng):
    """Wide Φ (D = 64: 2,145 features) still gets FULL_EXPANDED_MIN_ROWS rows a sub-block; its widest buffer stays
    within MAX_SUB_BLOCK_BYTES; short data take one sub-block."""
    X, params = mixture_case(rng, "full", n=600, d=64, k=4)
    plan = fast_estep.density_plan(params, X.dtype, "expanded")
    widest = fast_estep.n_phi_features("full", 64) + 64
    rows = fast_estep.sub_block_rows(plan, 50_000)
    assert rows == fast_estep.FULL_EXPANDED_MIN_ROWS
    assert rows * widest * 8 <= fast_estep.MAX_SUB_BLOCK_BYTES
    assert fast_estep.sub_block_rows(plan, 300) == 300
    assert_stats_close(fast_estep.fast_chunk_stats(X, params, form="expanded"), chunk_stats_reference(X, params), 1e-10)

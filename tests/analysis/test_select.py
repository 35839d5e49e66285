"""Model selection: mclust's answer on Old Faithful, the two traps, criteria against independent formulas."""

from __future__ import annotations

import importlib
import math
import warnings

import numpy as np
import pytest
from scipy.special import logsumexp

from gaussmix import ConvergenceWarning, DegenerateComponentWarning, GaussianMixture, select, uncertainty
from gaussmix.analysis.select import MCLUST_NAMES
from gaussmix.core.params import n_parameters
from scipy_reference import weighted_log_densities


def quiet_select(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", DegenerateComponentWarning)
        return select(*args, **kwargs)


@pytest.fixture(scope="module")
def faithful_grid(faithful):
    """mclust's setting: K = 1..6 × four covariance types, 10 initialisations, tight tolerance."""
    return quiet_select(faithful, range(1, 7), reg_covar=1e-3, tol=1e-6, n_init=10, random_state=0)


@pytest.mark.slow
def test_faithful_bic_picks_tied_3_with_mclusts_eee_3_likelihood(faithful_grid):
    best = faithful_grid.best
    assert (best.n_components, best.covariance_type, best.mclust_name) == (3, "tied", "EEE")
    # mclust 6: Mclust(faithful, G = 1:6) selects EEE,3 with log-likelihood -1126.326 and BIC -2314.316.
    assert best.log_likelihood == pytest.approx(-1126.33, abs=0.05)
    assert best.bic == pytest.approx(2314.3, abs=0.1)
    assert faithful_grid.best_model.n_components == 3 and faithful_grid.best_model.covariance_type == "tied"
    assert len(faithful_grid.table) == 24 and all(c.error is None for c in faithful_grid.table)


@pytest.mark.slow
def test_table_criteria_agree_with_the_fitted_models_and_closed_forms(faithful_grid, faithful):
    n, d = faithful.shape
    for row, model in zip(faithful_grid.table, faithful_grid.models):
        total = logsumexp(weighted_log_densities(model, faithful), axis=1).sum()
        assert row.log_likelihood == pytest.approx(total, rel=1e-10)
        assert row.bic == pytest.approx(model.bic(faithful), rel=1e-10)
        assert row.aic == pytest.approx(model.aic(faithful), rel=1e-10)
        assert row.bic == pytest.approx(-2 * total + row.n_parameters * math.log(n), rel=1e-10)
        assert (row.converged, row.n_iter) == (model.converged_, model.n_iter_)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_parameter_counts_match_scikit_learn():
    from sklearn.mixture import GaussianMixture as SkGaussianMixture

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    for kind in MCLUST_NAMES:
        sk = SkGaussianMixture(3, covariance_type=kind, random_state=0, max_iter=5).fit(X)
        assert n_parameters(3, 4, kind) == sk._n_parameters(), kind


def test_icl_is_bic_plus_twice_the_entropy_of_the_responsibilities(faithful):
    result = quiet_select(faithful, [2, 3], ["full", "diag"], reg_covar=1e-3, random_state=0, n_jobs=1)
    for row, model in zip(result.table, result.models):
        log_w = weighted_log_densities(model, faithful)
        log_z = log_w - logsumexp(log_w, axis=1, keepdims=True)
        entropy = -np.sum(np.exp(log_z) * log_z)
        assert row.icl == pytest.approx(row.bic + 2 * entropy, rel=1e-10)
        assert row.icl > row.bic


def test_one_component_has_icl_equal_to_bic(faithful):
    row = quiet_select(faithful, 1, "full", random_state=0).table[0]
    assert row.icl == row.bic


def test_default_tol_stops_tied_3_early_so_full_2_wins(faithful):
    # One initialisation per candidate (the default): with tol=1e-3 this seed's tied K = 3 run stops on a
    # plateau; tol=1e-6 lets the same start climb to mclust's EEE,3.
    common = dict(n_components=range(1, 5), covariance_types=["full", "tied"], reg_covar=1e-3, random_state=2)
    loose = quiet_select(faithful, **common)
    tight = quiet_select(faithful, **common, tol=1e-6)
    assert (loose.best.n_components, loose.best.covariance_type) == (2, "full")
    assert (tight.best.n_components, tight.best.covariance_type) == (3, "tied")
    tied3 = [next(c for c in r.table if (c.n_components, c.covariance_type) == (3, "tied")) for r in (loose, tight)]
    assert tied3[0].converged and tied3[0].bic > loose.best.bic > tied3[1].bic


@pytest.mark.filterwarnings("ignore::gaussmix.ConvergenceWarning")
def test_component_collapsed_on_integer_waiting_times_is_flagged_and_never_best(faithful):
    # reg_covar=1e-6 and starts drawn from the data: a diag component lands on rows sharing one (integer)
    # waiting time, its variance there shrinks to the floor, and its likelihood soars.
    with pytest.warns(DegenerateComponentWarning, match="variance is below 10 x reg_covar"):
        result = select(faithful, [3, 5], ["tied", "diag"], reg_covar=1e-6, tol=1e-6, n_init=2,
                        init_params="random_from_data", random_state=2)
    lowest = min(result.table, key=lambda c: c.bic)
    assert lowest.covariance_type == "diag" and lowest.at_floor  # the spurious "winner"...
    assert lowest.bic < 2300 < min(c.bic for c in result.table if not c.at_floor)
    waiting = result.models[result.table.index(lowest)].covariances_[:, 1]
    assert np.min(waiting) == pytest.approx(1e-6, rel=1e-3)  # no spread in the waiting time, plus reg_covar
    assert (result.best.n_components, result.best.covariance_type) == (3, "tied")  # ...is skipped
    assert not result.best.at_floor and "variance at floor" in str(result)


def test_failed_candidates_stay_in_the_table_with_their_reason(rng):
    X = rng.normal(size=(5, 2))
    with pytest.warns(UserWarning, match="1 of 3 candidates failed"):
        result = select(X, [1, 2, 6], "spherical", random_state=0)
    failed = result.table[2]
    assert failed.n_components == 6 and failed.error is not None and "n_components = 6" in failed.error
    assert math.isnan(failed.bic) and result.models[2] is None
    assert result.best.error is None
    assert "failed: ValueError" in str(result)


def test_every_candidate_failing_raises_with_the_reasons(rng):
    with pytest.raises(ValueError, match="Every one of the 2 candidates failed.*n_samples >= n_components"):
        select(rng.normal(size=(3, 2)), [4, 5], "diag")


def test_threads_give_the_serial_table(faithful):
    serial = quiet_select(faithful, [1, 2, 3], ["tied", "spherical"], random_state=0, n_jobs=1)
    threaded = quiet_select(faithful, [1, 2, 3], ["tied", "spherical"], random_state=0, n_jobs=2)
    for a, b in zip(serial.table, threaded.table):
        assert (a.n_components, a.covariance_type, a.n_iter) == (b.n_components, b.covariance_type, b.n_iter)
        assert a.bic == pytest.approx(b.bic, rel=1e-12)


def test_a_generator_draws_one_reproducible_seed_per_candidate(faithful):
    runs = [quiet_select(faithful, [2, 3], "diag", random_state=np.random.default_rng(5)) for _ in range(2)]
    assert [c.bic for c in runs[0].table] == [c.bic for c in runs[1].table]
    seeds = [m.random_state for m in runs[0].models]
    assert len(set(seeds)) == 2


def test_integer_weights_select_like_duplicated_rows(faithful):
    weights = np.tile([1.0, 2.0, 3.0, 0.0], len(faithful) // 4)
    duplicated = np.repeat(faithful, weights.astype(int), axis=0)
    common = dict(n_components=[1, 2], covariance_types="full", init_params="random_from_data", tol=1e-8,
                  max_iter=500)
    weighted = quiet_select(faithful, sample_weight=weights, random_state=0, **common)
    plain = quiet_select(duplicated, random_state=0, **common)
    for a, b in zip(weighted.table, plain.table):
        assert a.log_likelihood == pytest.approx(b.log_likelihood, rel=1e-6)
        assert a.bic == pytest.approx(b.bic, rel=1e-6)


def test_a_file_is_selected_through_the_chunked_path_like_the_array(faithful, tmp_path):
    path = tmp_path / "faithful.npy"
    np.save(path, faithful)
    from_file = quiet_select(path, [1, 2], ["full", "diag"], random_state=0, init_sample_size=1000)
    in_memory = quiet_select(faithful, [1, 2], ["full", "diag"], random_state=0)
    for a, b in zip(from_file.table, in_memory.table):
        assert a.bic == pytest.approx(b.bic, rel=1e-9) and a.icl == pytest.approx(b.icl, rel=1e-9)


def test_shared_passes_fit_every_candidate_as_alone_in_fewer_passes(rng, tmp_path, monkeypatch):
    """Candidates on a file share each pass: the same table as one-by-one fits, far fewer reads of the file."""
    select_module = importlib.import_module("gaussmix.analysis.select")

    X = np.concatenate([rng.normal(0, 1, (300, 2)), rng.normal(5, 1, (300, 2))])
    path = tmp_path / "rows.npy"
    np.save(path, X)
    made = []
    original = select_module.SharedPasses

    def recorded(*args):
        made.append(original(*args))
        return made[-1]

    monkeypatch.setattr(select_module, "SharedPasses", recorded)
    common = dict(n_components=[1, 2, 3], covariance_types=["full", "spherical", "VVI"], random_state=0,
                  init_sample_size=500, chunk_rows=128, max_iter=30)
    alone = quiet_select(path, shared_passes=False, **common)
    assert not made
    together = quiet_select(path, **common)
    for a, b in zip(alone.table, together.table):
        assert (a.n_components, a.covariance_type, a.n_iter) == (b.n_components, b.covariance_type, b.n_iter)
        assert a.bic == pytest.approx(b.bic, rel=1e-12) and a.icl == pytest.approx(b.icl, rel=1e-12)
    passes_alone = sum(c.n_iter + 3 for c in alone.table)  # sample, EM passes, two scores (about)
    assert made[0].passes <= max(c.n_iter for c in alone.table) + 4 < passes_alone


def test_shared_passes_report_a_failing_candidate_alone_and_refuse_in_memory_data(rng, tmp_path):
    path = tmp_path / "few.npy"
    np.save(path, rng.normal(size=(5, 2)))
    with pytest.warns(UserWarning, match="1 of 2 candidates failed"):
        result = select(path, [1, 6], "spherical", random_state=0, shared_passes=True)
    assert result.table[1].error is not None and result.best.n_components == 1
    with pytest.raises(ValueError, match="shared_passes=True needs streamed data"):
        select(rng.normal(size=(20, 2)), [1], shared_passes=True)


def test_a_dask_array_is_selected_like_the_array(faithful):
    da = pytest.importorskip("dask.array")
    lazy = da.from_array(faithful, chunks=(100, 2))
    on_dask = quiet_select(lazy, [1, 2], "tied", random_state=0, init_sample_size=1000, n_jobs=1)
    in_memory = quiet_select(faithful, [1, 2], "tied", random_state=0)
    for a, b in zip(on_dask.table, in_memory.table):
        assert a.bic == pytest.approx(b.bic, rel=1e-9) and a.icl == pytest.approx(b.icl, rel=1e-9)


def test_uncertainty_is_one_minus_the_largest_posterior(faithful):
    model = GaussianMixture(3, covariance_type="full", random_state=0).fit(faithful)
    log_w = weighted_log_densities(model, faithful)
    expected = 1.0 - np.exp(np.max(log_w - logsumexp(log_w, axis=1, keepdims=True), axis=1))
    np.testing.assert_allclose(uncertainty(model, faithful), expected, rtol=0, atol=1e-12)
    assert np.all((uncertainty(model, faithful) >= 0) & (uncertainty(model, faithful) <= 1 - 1 / 3))


def test_plot_draws_one_curve_per_type_and_marks_the_best(faithful):
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    result = quiet_select(faithful, [1, 2, 3], ["full", "spherical"], random_state=0)
    ax = result.plot()
    assert [line.get_label() for line in ax.get_lines()] == ["full", "spherical"]
    assert f"best: {result.best.n_components} ({result.best.covariance_type})" in \
        [t.get_text() for t in ax.get_legend().get_texts()]


@pytest.mark.parametrize("kwargs, error, match", [
    ({"criterion": "hqic"}, ValueError, "'criterion' parameter of select"),
    ({"covariance_types": ["full", "VVX"]}, ValueError, "got 'VVX'"),
    ({"n_components": []}, ValueError, "'n_components' parameter of select"),
    ({"n_components": [2, 0]}, ValueError, "got 0"),
    ({"n_jobs": 0}, ValueError, "'n_jobs' parameter of select"),
    ({"regcovar": 1e-3}, TypeError, "unexpected keyword argument 'regcovar'"),
    ({"reg_covar": -1.0}, ValueError, "'reg_covar' parameter of GaussianMixture"),
])
def test_bad_arguments_are_named_before_any_fit(faithful, kwargs, error, match):
    with pytest.raises(error, match=match):
        select(faithful, **{"n_components": [1], **kwargs})


def test_bad_data_is_reported_once_by_row_and_column(faithful):
    X = faithful.copy()
    X[7, 1] = np.nan
    with pytest.raises(ValueError, match="row 7, column 1"):
        select(X, [1, 2])

"""The batched E-step of tensors agrees with the per-component reference, on the CPU and (when present) on CUDA."""

from __future__ import annotations

import numpy as np
import pytest

from gaussmix.core.estep import chunk_stats, chunk_stats_reference, estep_plan, log_resp, log_resp_reference
from gaussmix.core.params import GaussianParams
from strategies import random_params

torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def batched_on_every_device(monkeypatch):
    """CPU tensors take NumPy's fast path on their memory (``estep.HostPlan``); here they take the batched path a
    GPU runs, so that it is tested where there is no GPU."""
    from gaussmix.core import estep

    monkeypatch.setattr(estep, "_on_cpu", lambda a: False)

FIELDS = ("n", "log_likelihood", "resp_sum", "first", "second")
# (kind, D): D = 64 takes the whitened form for full covariances; the others the expanded or centred form.
SHAPES = [("full", 4), ("full", 64), ("tied", 4), ("diag", 4), ("spherical", 4)]
RTOL = {"float64": 1e-12, "float32": 2e-5}
DEVICES = ["cpu", pytest.param("cuda", marks=pytest.mark.gpu)]


def tensor_case(rng, kind: str, d: int, dtype: str, device: str, n: int = 500):
    if device == "cuda" and not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    X = rng.normal(0, 2, (n, d))
    params = random_params(rng, 3, d, kind, X)
    tparams = GaussianParams(*(torch.as_tensor(np.asarray(a), device=device) for a in
                               (params.weights, params.means, params.covariances, params.precisions_cholesky)), kind)
    return torch.as_tensor(X, dtype=getattr(torch, dtype), device=device), tparams


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize(("kind", "d"), SHAPES)
def test_batched_statistics_and_log_resp_match_the_reference(rng, kind, d, dtype, device):
    X, params = tensor_case(rng, kind, d, dtype, device)
    w = torch.as_tensor(rng.uniform(0, 2, X.shape[0]) * (rng.uniform(size=X.shape[0]) > 0.2), device=device)
    plan = estep_plan(params, X.dtype)
    assert plan is not None and plan.host.form == ("whitened" if d == 64 else plan.host.form)
    fast, reference = chunk_stats(X, params, w, 11, plan=plan), chunk_stats_reference(X, params, w, 11)
    for field in FIELDS:
        a, b = getattr(fast, field), getattr(reference, field)
        assert a.dtype == torch.float64 and a.device == X.device, field
        scale = max(float(b.abs().max()), 1.0)
        np.testing.assert_allclose(a.cpu().numpy(), b.cpu().numpy(), rtol=0, atol=RTOL[dtype] * scale, err_msg=field)
    assert fast.worst_rows.tolist() == reference.worst_rows.tolist()
    log_prob, lr = log_resp(X, params, plan)
    expected, expected_lr = log_resp_reference(X, params)
    assert log_prob.dtype == X.dtype and lr.dtype == X.dtype
    scale = float(expected.abs().max())
    np.testing.assert_allclose(log_prob.cpu().numpy(), expected.cpu().numpy(), rtol=0, atol=RTOL[dtype] * scale)
    np.testing.assert_allclose(lr.exp().cpu().numpy(), expected_lr.exp().cpu().numpy(), atol=RTOL[dtype] * scale)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("kind", "d"), SHAPES)
def test_batched_rows_far_away_and_zero_weights_follow_the_reference(rng, kind, d, device):
    X, params = tensor_case(rng, kind, d, "float64", device, n=60)
    X[:3] = 1e200  # the features overflow: these rows are rescored from centred differences
    X[3] = params.means[0] + 1e3
    params = GaussianParams(torch.as_tensor([0.0, 0.4, 0.6], dtype=torch.float64, device=device), params.means,
                            params.covariances, params.precisions_cholesky, kind)
    log_prob, lr = log_resp(X, params, estep_plan(params, X.dtype))
    expected, expected_lr = log_resp_reference(X, params)
    assert torch.equal(torch.isinf(log_prob), torch.isinf(expected)) and bool(torch.all(lr[:, 0] == -np.inf))
    np.testing.assert_allclose(lr.exp().cpu().numpy(), expected_lr.exp().cpu().numpy(), atol=1e-10)
    finite = torch.isfinite(expected)
    np.testing.assert_allclose(log_prob[finite].cpu().numpy(), expected[finite].cpu().numpy(), rtol=1e-10)


@pytest.mark.parametrize(("kind", "d"), SHAPES)
def test_batched_sub_blocks_sum_to_the_whole_block(rng, monkeypatch, kind, d):
    from gaussmix.core import batched_estep

    X, params = tensor_case(rng, kind, d, "float64", "cpu")
    plan = estep_plan(params, X.dtype)
    whole = chunk_stats(X, params, plan=plan)
    monkeypatch.setattr(batched_estep, "CPU_SUB_BLOCK_BYTES", 1)
    assert batched_estep.sub_block_rows(X, plan) == 64
    pieces = chunk_stats(X, params, plan=plan)
    for field in FIELDS:
        np.testing.assert_allclose(getattr(pieces, field).numpy(), getattr(whole, field).numpy(), rtol=1e-12,
                                   atol=1e-12, err_msg=field)


def test_cpu_tensor_blocks_run_on_threads_with_one_torch_thread_each():
    from gaussmix.executors.local import Chunk, map_blocks

    before = torch.get_num_threads()
    seen = list(map_blocks(lambda c: (torch.get_num_threads(), float(c.X[0, 0])),
                           (Chunk(i, torch.full((3, 2), float(i)), None) for i in range(6)), n_workers=2))
    assert seen == [(1, float(i)) for i in range(6)] and torch.get_num_threads() == before

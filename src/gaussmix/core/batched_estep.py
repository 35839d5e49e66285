"""The E-step of tensors (torch, on any device) with every component in one matmul per block.

The reference path (``density``/``estep``) loops over components: 2K small matmuls a block, the slow half of a
tensor fit. Here the block is served as NumPy's fast path serves it (``fast_estep``), from the same plan: the
plan's coefficients are computed once per pass by ``fast_estep.density_plan`` on the host and moved to the
tensor's device, and its form decides the kernel:

- expanded: Φ(x − g) @ coefᵀ (Φ the pair products, squares or squared norm, then x − g, then 1);
- centred (float32 full/tied): the whitened differences of all components from one matmul;
- whitened (full, high dimension): one matmul (x − c_k) P_k per component.

Log-densities are in X's dtype; responsibilities, Φ and the statistics are float64 (one matmul rᵀΦ about the
common centre g, shifted to each component's centre as in ``fast_estep``; exact far from the origin).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .density import centred_log_gaussian_prob, log_weights
from .fast_estep import DensityPlan, default_form, density_plan, exp_floor, upper_triangle_features
from .namespace import array_namespace, to_numpy
from .params import GaussianParams
from .stats import SufficientStats


@dataclass(frozen=True, slots=True, eq=False)
class BatchedPlan:
    """``fast_estep.DensityPlan`` on a tensor's device: computed once per pass (``estep.estep_plan``).

    ``coef`` (F, K) expanded; ``whiten`` (D, D) tied, (K·D, D + 1) full centred, (K, D, D) = P_k whitened;
    ``offsets`` (K, D): whitened centres (tied) or centres (whitened); all in X's dtype.
    ``center`` (K, D) and ``g`` are float64; ``g_x`` is g in X's dtype.
    """

    host: DensityPlan
    dtype: Any
    g: Any
    g_x: Any
    center: Any
    coef: Any
    whiten: Any
    offsets: Any
    log_const: Any
    live: Any  # (K,) bool: non-zero weights


def batched_plan(params: GaussianParams, dtype: Any) -> BatchedPlan:
    """The plan of ``params`` (tensors, float64) for rows of the torch ``dtype`` (float32 or float64)."""
    xp = array_namespace(params.means)
    device = params.means.device
    host_params = GaussianParams(to_numpy(params.weights), to_numpy(params.means), to_numpy(params.covariances),
                                 to_numpy(params.precisions_cholesky), params.covariance_type)
    np_dtype = np.dtype(np.float32 if dtype == xp.float32 else np.float64)
    host = density_plan(host_params, np_dtype, default_form(params.covariance_type, np_dtype, params.n_features,
                                                            params.n_components, widen=False))
    k, d = host.center.shape

    def put(a: np.ndarray | None, as_dtype: Any = dtype) -> Any:
        return None if a is None else xp.asarray(np.ascontiguousarray(a), dtype=as_dtype, device=device)

    whiten = None
    if host.whiten is not None:
        if host.form == "whitened":
            whiten = put(np.transpose(host.whiten, (0, 2, 1)))
        elif host.kind == "tied":
            whiten = put(host.whiten.T)
        else:  # whiten @ [x − g; 1]: the offsets ride in the matmul, as in fast_estep
            whiten = put(host.whiten)
    return BatchedPlan(host, dtype, put(host.g, xp.float64), put(host.g), put(host.center, xp.float64),
                       None if host.coef is None else put(host.coef.T), whiten, put(host.offsets),
                       put(host.log_const), put(np.isfinite(host.log_const), xp.bool))


def features_T(xp: Any, XcT: Any, layout: str) -> Any:
    """Φ of centred rows ``XcT`` (D, n) as (F, n), in ``fast_estep.fill_features``' order and layout.

    Built by offsets (``fast_estep.pair_features``): a gather of the pair products (Xc[:, iu] * Xc[:, ju]) took
    14× longer on the CPU.
    """
    d, n = XcT.shape
    n_quad = {"full": d * (d + 1) // 2, "diag": d, "spherical": 1}.get(layout, 0)
    out = xp.empty((n_quad + d + 1, n), dtype=XcT.dtype, device=XcT.device)
    if layout == "full":
        doubled = xp.concat([XcT, XcT], axis=0)
        shifts, half = (d + 1) // 2, d // 2
        for shift in range(shifts):
            out[shift * d:(shift + 1) * d] = XcT * doubled[shift:shift + d]
        if d % 2 == 0:
            out[shifts * d:n_quad] = XcT[:half] * XcT[half:]
    elif layout == "diag":
        out[:d] = XcT * XcT
    elif layout == "spherical":
        out[0] = xp.sum(XcT * XcT, axis=0)
    out[n_quad:n_quad + d] = XcT
    out[n_quad + d] = 1.0
    return out


#: Bytes of the widest per-sub-block tensor on a CPU (GPUs take whole blocks): beyond the caches every
#: elementwise pass costs a trip to memory, and a block's (8192, K·D) tensor was 5× slower than 1,024-row pieces.
CPU_SUB_BLOCK_BYTES = 8 * 2**20


def sub_block_rows(X: Any, plan: BatchedPlan) -> int:
    """Rows per piece of a block: all of them on an accelerator, about CPU_SUB_BLOCK_BYTES of the widest on a CPU."""
    n = int(X.shape[0])
    if X.device.type != "cpu":
        return max(n, 1)
    k, d = plan.host.center.shape
    widest = max(k * d if plan.host.form == "centred" else k, d * (d + 1) // 2 + 2 * d + 1 if plan.host.kind ==
                 "full" and plan.host.form == "expanded" else 2 * d + 1, d)
    return max(1, min(n, max(64, CPU_SUB_BLOCK_BYTES // (8 * widest))))


def weighted_log_prob(X: Any, plan: BatchedPlan) -> Any:
    """log w_k + log N(x | k), (n, K) in X's dtype; rows whose features overflow are not finite (see ``_peaks``)."""
    xp = array_namespace(X)
    host = plan.host
    k, d = host.center.shape
    if host.form == "whitened":
        maha = xp.stack([xp.sum(((X - plan.offsets[c]) @ plan.whiten[c]) ** 2, axis=1) for c in range(k)], axis=1)
        return plan.log_const - 0.5 * maha
    xc = X - plan.g_x
    z = xc @ plan.whiten if host.kind == "tied" else xc
    if host.form == "expanded":
        phi = features_T(xp, z.T, "spherical" if host.kind == "tied" else host.kind)
        return xp.minimum(phi.T @ plan.coef, plan.log_const)  # a squared distance is never negative
    if host.kind == "full":  # (K, D, n): the sum over D adds rows of n values, not runs of D (1.4× faster)
        ones = xp.ones((1, X.shape[0]), dtype=X.dtype, device=X.device)
        y = xp.reshape(plan.whiten @ xp.concat([xc.T, ones], axis=0), (k, d, X.shape[0]))
        return plan.log_const - 0.5 * xp.sum(y * y, axis=1).T
    y = z[:, None, :] - plan.offsets[None, :, :]
    return plan.log_const - 0.5 * xp.sum(y * y, axis=2)


def _rescored(X: Any, wlp: Any, params: GaussianParams) -> Any:
    """``wlp`` with the rows whose largest value is not finite recomputed from centred differences in float64.

    The features overflow beyond |x − g| ≈ 1e154 (1e19 in float32), giving -inf or NaN even near a component.
    """
    xp = array_namespace(X)
    far = ~(xp.max(wlp, axis=1) > -float("inf"))
    if not bool(xp.any(far)):
        return wlp
    X64 = xp.astype(X[far], xp.float64)
    exact = centred_log_gaussian_prob(X64, params) + log_weights(X64, params)
    wlp = xp.asarray(wlp, copy=True)
    wlp[far] = xp.astype(exact, wlp.dtype)
    return wlp


def batched_log_resp(X: Any, params: GaussianParams, plan: BatchedPlan | None = None) -> tuple[Any, Any]:
    """log p(x) (n,) and log p(k | x) (n, K) in X's dtype: the batched twin of ``estep.log_resp_reference``."""
    xp = array_namespace(X)
    plan = batched_plan(params, X.dtype) if plan is None else plan
    rows = sub_block_rows(X, plan)
    parts = [_log_resp(xp, X[s:s + rows], params, plan) for s in range(0, int(X.shape[0]), rows)]
    if len(parts) == 1:
        return parts[0]
    return xp.concat([p[0] for p in parts], axis=0), xp.concat([p[1] for p in parts], axis=0)


def _log_resp(xp: Any, X: Any, params: GaussianParams, plan: BatchedPlan) -> tuple[Any, Any]:
    log_prob, resp = _normalised(xp, X, params, plan)
    with np.errstate(divide="ignore"):
        return log_prob, xp.log(resp)


def _normalised(xp: Any, X: Any, params: GaussianParams, plan: BatchedPlan) -> tuple[Any, Any]:
    """log p(x) (n,) and the responsibilities (n, K) in X's dtype, with one exp per entry.

    A row too far from every component (log p = -inf) is shared equally by the live components.
    """
    wlp = _rescored(X, weighted_log_prob(X, plan), params)
    peak = xp.max(wlp, axis=1)
    finite = xp.isfinite(peak)
    safe = xp.where(finite, peak, xp.zeros_like(peak))
    floor = exp_floor(np.dtype(np.float32 if X.dtype == xp.float32 else np.float64), plan.host.n_components)
    shares = xp.exp(xp.clip(wlp - safe[:, None], min=floor))
    shares = xp.where(plan.live[None, :], shares, xp.zeros_like(shares))
    total = xp.sum(shares, axis=1)
    equal = xp.astype(plan.live, X.dtype) / xp.sum(xp.astype(plan.live, X.dtype))
    resp = xp.where(finite[:, None], shares / total[:, None], equal[None, :])
    return xp.where(finite, xp.log(total) + safe, peak), resp


def batched_chunk_stats(X: Any, params: GaussianParams, sample_weight: Any = None,
                        plan: BatchedPlan | None = None) -> tuple[SufficientStats, Any]:
    """Statistics of the rows X, without the log-likelihood and worst rows, and log p(x) (n,) in float64."""
    xp = array_namespace(X)
    plan = batched_plan(params, X.dtype) if plan is None else plan
    host = plan.host
    k, d = host.center.shape
    layout = "tied" if host.form == "whitened" else host.kind
    kw = {"dtype": xp.float64, "device": X.device}
    sums = scatter = None
    log_probs = []
    w = None if sample_weight is None else xp.asarray(sample_weight, **kw)
    rows = sub_block_rows(X, plan)
    for start in range(0, int(X.shape[0]), rows):
        Xs = X[start:start + rows]
        log_prob, resp = _normalised(xp, Xs, params, plan)
        log_probs.append(xp.astype(log_prob, xp.float64))
        r = xp.astype(resp, xp.float64)
        if w is not None:
            r = r * w[start:start + rows, None]
        X64 = xp.astype(Xs, xp.float64)
        xc = X64 - plan.g
        part = r.T @ features_T(xp, xc.T, layout).T  # (K, F) about g
        sums = part if sums is None else sums + part
        if host.form == "whitened":
            roots = xp.sqrt(r)
            stack = []
            for c in range(k):
                wd = (X64 - plan.center[c]) * roots[:, c:c + 1]
                stack.append(wd.T @ wd)
            part = xp.stack(stack)
        elif host.kind == "tied":
            part = (xc * xp.sum(r, axis=1)[:, None]).T @ xc
        else:
            continue
        scatter = part if scatter is None else scatter + part
    assert sums is not None  # a block has rows
    nk, f = sums[:, -1], sums[:, -1 - d:-1]
    m = plan.center - plan.g
    first = f - nk[:, None] * m
    if host.form == "whitened":
        second = scatter
    elif host.kind == "full":
        q = sums[:, xp.asarray(np.array(upper_triangle_features(d)), device=X.device)]
        s = xp.zeros((k, d, d), **kw)
        iu, ju = np.triu_indices(d)
        iu, ju = xp.asarray(iu, device=X.device), xp.asarray(ju, device=X.device)
        s[:, iu, ju] = q
        s[:, ju, iu] = q
        fm = f[:, :, None] * m[:, None, :]
        second = s - fm - xp.permute_dims(fm, (0, 2, 1)) + nk[:, None, None] * m[:, :, None] * m[:, None, :]
    elif host.kind == "tied":
        fm = f.T @ m
        second = scatter - fm - fm.T + (m.T * nk) @ m
    elif host.kind == "diag":
        second = sums[:, :d] - 2.0 * m * f + nk[:, None] * m * m
    else:
        second = sums[:, 0] - 2.0 * xp.sum(m * f, axis=1) + nk * xp.sum(m * m, axis=1)
    n = xp.sum(nk) if w is None else xp.sum(w)
    zero = SufficientStats.zeros(k, d, host.kind, params.means)
    stats = SufficientStats(n, zero.log_likelihood, nk, first, second, params.means, host.kind,
                            zero.worst_log_prob, zero.worst_rows, zero.worst_points)
    return stats, log_probs[0] if len(log_probs) == 1 else xp.concat(log_probs, axis=0)

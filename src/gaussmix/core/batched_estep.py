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

from .density import centred_log_gaussian_prob, log_weights, logsumexp
from .fast_estep import DensityPlan, density_plan
from .namespace import array_namespace, to_numpy
from .params import GaussianParams
from .stats import SufficientStats


@dataclass(frozen=True, slots=True, eq=False)
class BatchedPlan:
    """``fast_estep.DensityPlan`` on a tensor's device: computed once per pass (``estep.estep_plan``).

    ``coef`` (F, K) expanded; ``whiten`` (D, D) tied, (D, K·D) full centred with ``bias`` (K·D,), (K, D, D)
    = P_k whitened; ``offsets`` (K, D): whitened centres (tied) or centres (whitened); all in X's dtype.
    ``center`` (K, D) and ``g`` are float64; ``g_x`` is g in X's dtype.
    """

    host: DensityPlan
    dtype: Any
    g: Any
    g_x: Any
    center: Any
    coef: Any
    whiten: Any
    bias: Any
    offsets: Any
    log_const: Any
    live: Any  # (K,) bool: non-zero weights
    pairs: Any  # (iu, ju) index tensors of full covariances' pair products, or None


def batched_plan(params: GaussianParams, dtype: Any) -> BatchedPlan:
    """The plan of ``params`` (tensors, float64) for rows of the torch ``dtype`` (float32 or float64)."""
    xp = array_namespace(params.means)
    device = params.means.device
    host_params = GaussianParams(*(to_numpy(a) for a in (params.weights, params.means, params.covariances,
                                                         params.precisions_cholesky)), params.covariance_type)
    np_dtype = np.float32 if dtype == xp.float32 else np.float64
    host = density_plan(host_params, np_dtype)
    k, d = host.center.shape

    def put(a: np.ndarray | None, as_dtype: Any = dtype) -> Any:
        return None if a is None else xp.asarray(np.ascontiguousarray(a), dtype=as_dtype, device=device)

    whiten = bias = None
    if host.whiten is not None:
        if host.form == "whitened":
            whiten = put(np.transpose(host.whiten, (0, 2, 1)))
        elif host.kind == "tied":
            whiten = put(host.whiten.T)
        else:
            whiten, bias = put(host.whiten[:, :d].T), put(host.whiten[:, d])
    pairs = None
    if host.kind == "full" and host.form == "expanded":
        iu, ju = np.triu_indices(d)
        pairs = (put(iu, xp.int64), put(ju, xp.int64))
    return BatchedPlan(host, dtype, put(host.g, xp.float64), put(host.g), put(host.center, xp.float64),
                       None if host.coef is None else put(host.coef.T), whiten, bias, put(host.offsets),
                       put(host.log_const), put(np.isfinite(host.log_const), xp.bool), pairs)


def features(xp: Any, Xc: Any, layout: str, pairs: Any = None) -> Any:
    """Φ of centred rows ``Xc`` (n, D) as (n, F), in fast_estep.fill_features' order (its rows are our columns)."""
    ones = xp.ones((Xc.shape[0], 1), dtype=Xc.dtype, device=Xc.device)
    if layout == "full":
        head = [Xc[:, pairs[0]] * Xc[:, pairs[1]]]
    elif layout == "diag":
        head = [Xc * Xc]
    elif layout == "spherical":
        head = [xp.sum(Xc * Xc, axis=1)[:, None]]
    else:  # tied's (and the whitened form's) statistics layout: x − g and 1
        head = []
    return xp.concat([*head, Xc, ones], axis=1)


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
        phi = features(xp, z, "spherical" if host.kind == "tied" else host.kind, plan.pairs)
        return xp.minimum(phi @ plan.coef, plan.log_const)  # a squared distance is never negative
    if host.kind == "full":
        y = xp.reshape(xc @ plan.whiten + plan.bias, (X.shape[0], k, d))
    else:
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
    wlp = _rescored(X, weighted_log_prob(X, plan), params)
    log_prob = logsumexp(wlp, axis=1)
    finite = xp.isfinite(log_prob)
    lr = wlp - xp.where(finite, log_prob, xp.zeros_like(log_prob))[:, None]
    # A row too far from every component (log p = -inf) is shared equally by the live components.
    share = xp.where(plan.live, -xp.log(xp.sum(xp.astype(plan.live, X.dtype))), xp.asarray(-float("inf"),
                                                                                           dtype=X.dtype))
    return log_prob, xp.where(finite[:, None], lr, share[None, :])


def batched_chunk_stats(X: Any, params: GaussianParams, sample_weight: Any = None,
                        plan: BatchedPlan | None = None) -> tuple[SufficientStats, Any]:
    """Statistics of the rows X, without the log-likelihood and worst rows, and log p(x) (n,) in float64."""
    xp = array_namespace(X)
    plan = batched_plan(params, X.dtype) if plan is None else plan
    host = plan.host
    k, d = host.center.shape
    log_prob, lr = batched_log_resp(X, params, plan)
    r = xp.exp(xp.astype(lr, xp.float64))
    if sample_weight is not None:
        r = r * xp.asarray(sample_weight, dtype=xp.float64)[:, None]
    X64 = xp.astype(X, xp.float64)
    xc = X64 - plan.g
    layout = "tied" if host.form == "whitened" else host.kind
    sums = r.T @ features(xp, xc, layout, _pairs(xp, plan, d))  # (K, F) about g
    nk, f = sums[:, -1], sums[:, -1 - d:-1]
    m = plan.center - plan.g
    first = f - nk[:, None] * m
    if host.form == "whitened":
        scatters = []
        for c in range(k):
            w = (X64 - plan.center[c]) * xp.sqrt(r[:, c])[:, None]
            scatters.append(w.T @ w)
        second = xp.stack(scatters)
    elif host.kind == "full":
        q = sums[:, :d * (d + 1) // 2]
        s = xp.zeros((k, d, d), dtype=xp.float64, device=X.device)
        iu, ju = _pairs(xp, plan, d)
        s[:, iu, ju] = q
        s[:, ju, iu] = q
        fm = f[:, :, None] * m[:, None, :]
        second = s - fm - xp.permute_dims(fm, (0, 2, 1)) + nk[:, None, None] * m[:, :, None] * m[:, None, :]
    elif host.kind == "tied":
        scatter = (xc * xp.sum(r, axis=1)[:, None]).T @ xc
        fm = f.T @ m
        second = scatter - fm - fm.T + (m.T * nk) @ m
    elif host.kind == "diag":
        second = sums[:, :d] - 2.0 * m * f + nk[:, None] * m * m
    else:
        second = sums[:, 0] - 2.0 * xp.sum(m * f, axis=1) + nk * xp.sum(m * m, axis=1)
    n = xp.sum(nk) if sample_weight is None else xp.sum(xp.asarray(sample_weight, dtype=xp.float64))
    zero = SufficientStats.zeros(k, d, host.kind, params.means)
    stats = SufficientStats(n, zero.log_likelihood, nk, first, second, params.means, host.kind,
                            zero.worst_log_prob, zero.worst_rows, zero.worst_points)
    return stats, xp.astype(log_prob, xp.float64)


def _pairs(xp: Any, plan: BatchedPlan, d: int) -> Any:
    """(iu, ju): the upper-triangle index tensors, the plan's when it has them."""
    if plan.pairs is not None:
        return plan.pairs
    iu, ju = np.triu_indices(d)
    device = plan.center.device
    return xp.asarray(iu, device=device), xp.asarray(ju, device=device)

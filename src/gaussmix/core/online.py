"""Online EM in the sufficient-statistics form (Cappé & Moulines 2009): a running average of batch statistics.

After batch t the running statistics are s_t = (1 − γ_t)·s_{t−1} + γ_t·s(batch_t), with step γ_t = (t + t0)^−κ,
κ ∈ (0.5, 1]; the M-step then turns s_t into parameters. A batch's statistics are centred on the means its E-step
used, so the running statistics are first moved to that centre (:func:`recentered`), which is exact: statistics
about one centre determine those about any other.
"""

from __future__ import annotations

from dataclasses import replace

from .namespace import array_namespace
from .stats import SufficientStats


def step_size(t: int, learning_decay: float, learning_offset: float) -> float:
    """γ_t = (t + t0)^−κ for batch t = 0, 1, ...; with κ = 1 and t0 = 1 the running statistics are the average."""
    return float((t + learning_offset) ** -learning_decay)


def recentered(stats: SufficientStats, center: object) -> SufficientStats:
    """The same statistics about ``center`` (K, D): with δ_k = c_k − c'_k,
    first' = first + n_k δ, second' = second + first δᵀ + δ firstᵀ + n_k δδᵀ (in each covariance layout)."""
    xp = array_namespace(stats.first)
    delta = stats.center - center
    nk, first = stats.resp_sum, stats.first
    kind = stats.covariance_type
    if kind == "full":
        cross = first[:, :, None] * delta[:, None, :]
        second = stats.second + cross + xp.matrix_transpose(cross) + nk[:, None, None] * (
            delta[:, :, None] * delta[:, None, :])
    elif kind == "tied":
        cross = first.T @ delta
        second = stats.second + cross + cross.T + (nk[:, None] * delta).T @ delta
    elif kind == "diag":
        second = stats.second + 2.0 * first * delta + nk[:, None] * delta * delta
    else:  # spherical: the trace
        second = stats.second + 2.0 * xp.sum(first * delta, axis=1) + nk * xp.sum(delta * delta, axis=1)
    return replace(stats, first=first + nk[:, None] * delta, second=second, center=center)


def blended(running: SufficientStats | None, batch: SufficientStats, step: float) -> SufficientStats:
    """(1 − step)·running + step·batch, about the batch's centre; the batch alone when there is no running sum.

    The worst-explained rows (re-seeding candidates) are the batch's: its row indices are what the caller knows.
    """
    if running is None:
        return batch
    moved = recentered(running, batch.center)
    keep = 1.0 - step
    return replace(
        batch,
        n=keep * moved.n + step * batch.n,
        log_likelihood=keep * moved.log_likelihood + step * batch.log_likelihood,
        resp_sum=keep * moved.resp_sum + step * batch.resp_sum,
        first=keep * moved.first + step * batch.first,
        second=keep * moved.second + step * batch.second,
    )

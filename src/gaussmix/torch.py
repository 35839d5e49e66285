"""Differentiable Gaussian-mixture densities, posteriors and sampling on PyTorch tensors, in log space throughout.

For models whose outputs are mixture parameters: mixture density networks (Bishop 1994; Graves 2013) with
per-sample weights, means and scales, and DAGMM-style anomaly detectors (Zong et al. 2018) that turn soft
memberships into mixture parameters and score samples by their energy. Every function broadcasts over leading
batch axes, never forms densities in probability space (no exp-then-log), and lets gradients reach every
parameter through autograd.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal, NamedTuple

try:
    import torch
    from torch import Tensor
except ImportError as exc:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError('gaussmix.torch needs PyTorch: pip install "gaussmix[torch]"') from exc

from gaussmix.core.params import GaussianParams, NotPositiveDefiniteError

__all__ = [
    "GMMParams",
    "bivariate_scale_tril",
    "gmm_energy",
    "gmm_params",
    "log_responsibilities",
    "mixture_log_prob",
    "responsibilities",
    "sample",
    "to_distribution",
]

_LOG_2PI = math.log(2.0 * math.pi)


class GMMParams(NamedTuple):
    """Mixture parameters estimated by :func:`gmm_params` (a NamedTuple, so it passes through torch.compile).

    Attributes
    ----------
    weights : Tensor of shape (n_components,)
    means : Tensor of shape (n_components, n_features)
    covariances : Tensor of shape (n_components, n_features, n_features)
    scale_tril : Tensor of shape (n_components, n_features, n_features)
        Lower Cholesky factors, ``scale_tril @ scale_tril.mT == covariances``.

    Examples
    --------
    >>> import torch
    >>> from gaussmix.torch import gmm_params
    >>> z = torch.tensor([[0.0], [1.0], [10.0], [11.0]])
    >>> gamma = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    >>> params = gmm_params(z, gamma, eps=0.0)
    >>> params.weights.tolist(), params.means.ravel().tolist(), params.covariances.ravel().tolist()
    ([0.5, 0.5], [0.5, 10.5], [0.25, 0.25])
    """

    weights: Tensor
    means: Tensor
    covariances: Tensor
    scale_tril: Tensor


# --------------------------------------------------------------------------------------------- validation


def _check_tensor(name: str, t: object, min_ndim: int, expected: str) -> Tensor:
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor; got {type(t).__name__}.")
    if not t.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor; got dtype {t.dtype}.")
    if t.ndim < min_ndim:
        raise ValueError(f"{name} must have shape {expected}; got shape {tuple(t.shape)}.")
    return t


def _check_mixture(
    x: Tensor | None, logits: Tensor, loc: Tensor, scale_diag: Tensor | None, scale_tril: Tensor | None
) -> torch.Size:
    """Check shapes and dtypes of mixture arguments; return the broadcast batch shape."""
    if (scale_diag is None) == (scale_tril is None):
        found = "neither" if scale_diag is None else "both"
        raise ValueError(f"Pass exactly one of 'scale_diag' or 'scale_tril'; got {found}.")
    _check_tensor("logits", logits, 1, "(..., K)")
    _check_tensor("loc", loc, 2, "(..., K, D)")
    k, d = loc.shape[-2], loc.shape[-1]
    if logits.shape[-1] != k:
        raise ValueError(
            f"logits has {logits.shape[-1]} components on its last axis (shape {tuple(logits.shape)}), "
            f"but loc has {k} on axis -2 (shape {tuple(loc.shape)})."
        )
    if k < 1 or d < 1:
        raise ValueError(f"loc must have at least one component and one feature; got shape {tuple(loc.shape)}.")
    named = [("logits", logits, 1), ("loc", loc, 2)]
    if scale_diag is not None:
        scale_diag = _check_tensor("scale_diag", scale_diag, 2, f"(..., K, D) = (..., {k}, {d})")
        if tuple(scale_diag.shape[-2:]) != (k, d):
            raise ValueError(
                f"scale_diag must have shape (..., K, D) = (..., {k}, {d}) to match loc; "
                f"got shape {tuple(scale_diag.shape)}."
            )
        named.append(("scale_diag", scale_diag, 2))
    else:
        scale_tril = _check_tensor("scale_tril", scale_tril, 3, f"(..., K, D, D) = (..., {k}, {d}, {d})")
        if tuple(scale_tril.shape[-3:]) != (k, d, d):
            raise ValueError(
                f"scale_tril must have shape (..., K, D, D) = (..., {k}, {d}, {d}) to match loc; "
                f"got shape {tuple(scale_tril.shape)}."
            )
        named.append(("scale_tril", scale_tril, 3))
    if x is not None:
        _check_tensor("x", x, 1, f"(..., D) = (..., {d})")
        if x.shape[-1] != d:
            raise ValueError(
                f"x has {x.shape[-1]} features on its last axis (shape {tuple(x.shape)}), "
                f"but loc has {d} (shape {tuple(loc.shape)})."
            )
        named.append(("x", x, 1))
    for name, t, _ in named:
        if t.dtype != loc.dtype:
            raise TypeError(f"{name} has dtype {t.dtype}, but loc has {loc.dtype}; pass one floating dtype.")
    batches = [t.shape[: t.ndim - event] for _, t, event in named]
    try:
        return torch.broadcast_shapes(*batches)
    except RuntimeError:
        found = ", ".join(f"{name} {tuple(b)}" for (name, _, _), b in zip(named, batches))
        raise ValueError(f"The batch shapes (leading axes) of the arguments don't broadcast: {found}.") from None


# --------------------------------------------------------------------------------------------- math


def _solve_lower(scale_tril: Tensor, rhs: Tensor) -> Tensor:
    """``L⁻¹ r`` for L (*bl, D, D) and r (*br, D), broadcast to (*broadcast(bl, br), D).

    Batch axes where L has size 1 and r does not (shared parameters, batched x) become extra right-hand-side
    columns of one solve, so L is never copied out to the batch shape of x.
    """
    batch = torch.broadcast_shapes(scale_tril.shape[:-2], rhs.shape[:-1])
    n, d = len(batch), rhs.shape[-1]
    bl = (1,) * (n - scale_tril.ndim + 2) + tuple(scale_tril.shape[:-2])
    br = (1,) * (n - rhs.ndim + 1) + tuple(rhs.shape[:-1])
    free = [i for i in range(n) if bl[i] == 1 and br[i] > 1]
    if not free:
        return torch.linalg.solve_triangular(scale_tril, rhs.unsqueeze(-1), upper=False).squeeze(-1)
    kept = [i for i in range(n) if i not in free]
    columns = rhs.reshape(br + (d,)).permute(*kept, n, *free).reshape(*(br[i] for i in kept), d, -1)
    lower = scale_tril.reshape(*(bl[i] for i in kept), d, d)
    solved = torch.linalg.solve_triangular(lower, columns, upper=False)
    solved = solved.reshape(*(batch[i] for i in kept), d, *(br[i] for i in free))
    order = kept + [n] + free  # axis j of `solved` holds original axis order[j]
    return solved.permute(*sorted(range(n + 1), key=order.__getitem__))


def _component_log_prob(x: Tensor, loc: Tensor, scale_diag: Tensor | None, scale_tril: Tensor | None) -> Tensor:
    """log N(x | loc_k, Σ_k) of shape (..., K): Mahalanobis term from a triangular solve, log-det from the
    diagonal of the factor (a non-positive diagonal entry gives NaN or -inf, never a silently valid density)."""
    diff = x.unsqueeze(-2) - loc
    if scale_diag is not None:
        maha = (diff / scale_diag).square().sum(-1)
        half_log_det = scale_diag.log().sum(-1)
    else:
        assert scale_tril is not None  # exactly one scale, checked by _check_mixture
        maha = _solve_lower(scale_tril, diff).square().sum(-1)
        half_log_det = scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)
    return -0.5 * (maha + loc.shape[-1] * _LOG_2PI) - half_log_det


def _joint_log_prob(
    x: Tensor, logits: Tensor, loc: Tensor, scale_diag: Tensor | None, scale_tril: Tensor | None
) -> Tensor:
    """log π_k + log N(x | k), shape (..., K)."""
    return torch.log_softmax(logits, dim=-1) + _component_log_prob(x, loc, scale_diag, scale_tril)


# --------------------------------------------------------------------------------------------- public API


def mixture_log_prob(
    x: Tensor,
    logits: Tensor,
    loc: Tensor,
    *,
    scale_diag: Tensor | None = None,
    scale_tril: Tensor | None = None,
) -> Tensor:
    """Log-density of a Gaussian mixture whose parameters may differ per sample.

    Computed as ``logsumexp(log_softmax(logits) + log N_k)`` with each log N_k from a triangular solve, so
    points hundreds of standard deviations from every component keep finite values and gradients.

    Parameters
    ----------
    x : Tensor of shape (..., D)
        Points to evaluate.
    logits : Tensor of shape (..., K)
        Unnormalised log mixture weights (log-softmax is applied here).
    loc : Tensor of shape (..., K, D)
        Component means.
    scale_diag : Tensor of shape (..., K, D), optional
        Per-feature standard deviations, positive (diagonal covariances ``scale_diag**2``).
    scale_tril : Tensor of shape (..., K, D, D), optional
        Lower-triangular factors L with positive diagonal, covariance ``L @ L.mT``; only the lower triangle
        is read. Pass exactly one of ``scale_diag`` and ``scale_tril``.

    Returns
    -------
    log_prob : Tensor of shape (...)
        The leading axes of all arguments broadcast together (e.g. shared parameters with batched ``x``).

    Examples
    --------
    >>> import torch
    >>> x, logits, loc = torch.zeros(1), torch.zeros(2), torch.zeros(2, 1)
    >>> round(float(mixture_log_prob(x, logits, loc, scale_diag=torch.ones(2, 1))), 4)
    -0.9189
    """
    _check_mixture(x, logits, loc, scale_diag, scale_tril)
    return torch.logsumexp(_joint_log_prob(x, logits, loc, scale_diag, scale_tril), dim=-1)


def log_responsibilities(
    x: Tensor,
    logits: Tensor,
    loc: Tensor,
    *,
    scale_diag: Tensor | None = None,
    scale_tril: Tensor | None = None,
) -> Tensor:
    """Log posterior probability of each component given x, shape (..., K); arguments as :func:`mixture_log_prob`.

    Returns
    -------
    log_resp : Tensor of shape (..., K)
        ``log p(k | x)``; ``logsumexp`` over the last axis is 0.

    Examples
    --------
    >>> import torch
    >>> from gaussmix.torch import log_responsibilities
    >>> x = torch.tensor([[0.0], [1.0]])
    >>> logits, loc, scale = torch.zeros(2), torch.tensor([[-1.0], [1.0]]), torch.ones(2, 1)
    >>> log_responsibilities(x, logits, loc, scale_diag=scale).exp().round(decimals=4)
    tensor([[0.5000, 0.5000],
            [0.1192, 0.8808]])
    """
    _check_mixture(x, logits, loc, scale_diag, scale_tril)
    return torch.log_softmax(_joint_log_prob(x, logits, loc, scale_diag, scale_tril), dim=-1)


def responsibilities(
    x: Tensor,
    logits: Tensor,
    loc: Tensor,
    *,
    scale_diag: Tensor | None = None,
    scale_tril: Tensor | None = None,
) -> Tensor:
    """Posterior probability of each component given x, shape (..., K); arguments as :func:`mixture_log_prob`.

    Returns
    -------
    resp : Tensor of shape (..., K)
        ``p(k | x)``, summing to 1 over the last axis (normalised in log space, so far points don't give 0/0).

    Examples
    --------
    >>> import torch
    >>> from gaussmix.torch import responsibilities
    >>> x = torch.tensor([[0.0], [1.0]])
    >>> logits, loc, scale = torch.zeros(2), torch.tensor([[-1.0], [1.0]]), torch.ones(2, 1)
    >>> responsibilities(x, logits, loc, scale_diag=scale).round(decimals=4)
    tensor([[0.5000, 0.5000],
            [0.1192, 0.8808]])
    """
    _check_mixture(x, logits, loc, scale_diag, scale_tril)
    return torch.softmax(_joint_log_prob(x, logits, loc, scale_diag, scale_tril), dim=-1)


def _select_component(param: Tensor, index: Tensor, n_batch: int, n_event: int) -> Tensor:
    """``param[..., index, <event>]`` for param (*pb, K, *event) and index (*S, *B): only chosen rows are read,
    so the backward pass scatters into a tensor of param's own shape."""
    pb = param.shape[: param.ndim - 1 - n_event]
    param = param.reshape((1,) * (n_batch - len(pb)) + tuple(param.shape))
    n_sample = index.ndim - n_batch
    batch_index = [
        torch.arange(size, device=index.device).reshape((1,) * (n_sample + i) + (size,) + (1,) * (n_batch - i - 1))
        if size > 1
        else torch.zeros((), dtype=torch.long, device=index.device)
        for i, size in enumerate(param.shape[:n_batch])
    ]
    indices = (*batch_index, index)  # param[(*a, b)], which mypy takes for 3.11's param[*a, b]
    return param[indices]


def sample(
    logits: Tensor,
    loc: Tensor,
    *,
    scale_diag: Tensor | None = None,
    scale_tril: Tensor | None = None,
    temperature: float = 1.0,
    sample_shape: Sequence[int] = (),
    generator: torch.Generator | None = None,
) -> Tensor:
    """Draw from a Gaussian mixture: a component index first, then one Gaussian from that component only.

    The index is drawn from Categorical(logits / temperature) (Gumbel-max); the chosen component's mean and
    scale are gathered and one reparameterised Gaussian ``loc_k + sqrt(temperature) * L_k @ eps`` is drawn.
    This temperature is the one of sketch-rnn (Ha & Eck 2017): it sharpens the weights and shrinks the
    variances, and as it goes to 0 samples approach the mean of the most probable component. (Graves 2013,
    "Biased Sampling", uses a bias b instead: weights from logits * (1 + b), i.e. temperature 1 / (1 + b),
    and standard deviations times exp(-b).) Gradients reach the chosen components' ``loc`` and scales; none
    reach ``logits`` (the index is discrete) or the components that were not drawn.

    Parameters
    ----------
    logits, loc, scale_diag, scale_tril
        As in :func:`mixture_log_prob`; exactly one scale.
    temperature : float, default=1.0
        Positive.
    sample_shape : sequence of int, default=()
        Leading shape of independent draws.
    generator : torch.Generator, optional
        Source of randomness, for reproducible draws.

    Returns
    -------
    samples : Tensor of shape ``(*sample_shape, ..., D)``
        ``...`` is the broadcast batch shape of the parameters.

    Examples
    --------
    >>> import torch
    >>> from gaussmix.torch import sample
    >>> logits, loc, scale = torch.tensor([0.0, -20.0]), torch.tensor([[-1.0], [1.0]]), torch.ones(2, 1)
    >>> draws = sample(logits, loc, scale_diag=scale, temperature=1e-6, sample_shape=(3,),
    ...                generator=torch.Generator().manual_seed(0))
    >>> draws.shape, draws.round().ravel().tolist()      # near the mean of the most probable component
    (torch.Size([3, 1]), [-1.0, -1.0, -1.0])
    """
    batch = _check_mixture(None, logits, loc, scale_diag, scale_tril)
    if not (isinstance(temperature, (int, float)) and math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"temperature must be a positive finite number; got {temperature!r}.")
    shape = tuple(int(s) for s in sample_shape) + tuple(batch)
    k, d = loc.shape[-2], loc.shape[-1]
    options: dict[str, Any] = {"dtype": loc.dtype, "device": loc.device, "generator": generator}
    uniform = torch.rand(shape + (k,), **options).clamp_min(torch.finfo(loc.dtype).tiny)
    gumbel = -torch.log(-torch.log(uniform))
    index = torch.argmax(logits.detach() / temperature + gumbel, dim=-1)

    n_batch = len(batch)
    mean = _select_component(loc, index, n_batch, 1)
    noise = torch.randn(shape + (d,), **options) * math.sqrt(temperature)
    if scale_diag is not None:
        return mean + _select_component(scale_diag, index, n_batch, 1) * noise
    assert scale_tril is not None  # exactly one scale, checked by _check_mixture
    lower = _select_component(scale_tril, index, n_batch, 2).tril()
    return mean + (lower @ noise.unsqueeze(-1)).squeeze(-1)


def bivariate_scale_tril(sigma1: Tensor, sigma2: Tensor, rho: Tensor) -> Tensor:
    """Lower Cholesky factor of a 2-D covariance from std-devs and a correlation (Graves 2013's parameterisation).

    ``L = [[σ1, 0], [ρ σ2, σ2 sqrt(1 − ρ²)]]``, so ``L @ L.mT = [[σ1², ρσ1σ2], [ρσ1σ2, σ2²]]``. Valid for
    σ1, σ2 > 0 and ``|ρ| < 1`` (e.g. ``rho = torch.tanh(raw)``); nothing is clamped, and 1 − ρ² is computed as
    (1 − ρ)(1 + ρ), which keeps its relative precision as ``|ρ|`` approaches 1.

    Parameters
    ----------
    sigma1, sigma2, rho : Tensor of broadcastable shapes (...)

    Returns
    -------
    scale_tril : Tensor of shape (..., 2, 2)

    Examples
    --------
    >>> import torch
    >>> from gaussmix.torch import bivariate_scale_tril
    >>> L = bivariate_scale_tril(torch.tensor(1.0), torch.tensor(2.0), torch.tensor(0.5))
    >>> (L @ L.mT).round(decimals=4)
    tensor([[1., 1.],
            [1., 4.]])
    """
    for name, t in (("sigma1", sigma1), ("sigma2", sigma2), ("rho", rho)):
        _check_tensor(name, t, 0, "(...)")
    try:
        sigma1, sigma2, rho = torch.broadcast_tensors(sigma1, sigma2, rho)
    except RuntimeError:
        raise ValueError(
            f"sigma1 {tuple(sigma1.shape)}, sigma2 {tuple(sigma2.shape)} and rho {tuple(rho.shape)} "
            "don't broadcast to one shape."
        ) from None
    first_row = torch.stack([sigma1, torch.zeros_like(sigma1)], dim=-1)
    second_row = torch.stack([rho * sigma2, sigma2 * torch.sqrt((1 - rho) * (1 + rho))], dim=-1)
    return torch.stack([first_row, second_row], dim=-2)


def gmm_params(z: Tensor, gamma: Tensor, eps: float = 1e-6) -> GMMParams:
    """Mixture parameters from soft memberships: the differentiable M-step of DAGMM (Zong et al. 2018).

    ``weights = mean(gamma)``, ``means = Σγz / Σγ`` and ``covariances = Σγ(z − μ)(z − μ)ᵀ / Σγ + eps·I``,
    with the outer products taken on z centred at each component's mean (exact far from the origin) and never
    stored per sample.

    Parameters
    ----------
    z : Tensor of shape (n_samples, n_features)
        Latent representations.
    gamma : Tensor of shape (n_samples, n_components)
        Soft memberships, e.g. a softmax output; each column must have a positive sum.
    eps : float, default=1e-6
        Added to the covariance diagonals so the Cholesky factorisation succeeds.

    Returns
    -------
    GMMParams
        Weights, means, covariances and their lower Cholesky factors, all differentiable in z and gamma.

    Raises
    ------
    NotPositiveDefiniteError
        (a ValueError) naming the components whose covariance has no Cholesky factor.

    Examples
    --------
    >>> import torch
    >>> from gaussmix.torch import gmm_energy, gmm_params
    >>> z = torch.randn(100, 3, generator=torch.Generator().manual_seed(0), requires_grad=True)
    >>> gamma = torch.softmax(torch.randn(100, 2, generator=torch.Generator().manual_seed(1)), dim=1)
    >>> params = gmm_params(z, gamma)
    >>> params.means.shape, params.scale_tril.shape
    (torch.Size([2, 3]), torch.Size([2, 3, 3]))
    >>> gmm_energy(z, params, reduction="mean").backward()    # differentiable in z and gamma
    >>> z.grad.shape
    torch.Size([100, 3])
    """
    _check_tensor("z", z, 2, "(n_samples, n_features)")
    _check_tensor("gamma", gamma, 2, "(n_samples, n_components)")
    if z.ndim != 2 or gamma.ndim != 2 or z.shape[0] != gamma.shape[0]:
        raise ValueError(
            f"z must have shape (n_samples, n_features) and gamma (n_samples, n_components) with the same "
            f"n_samples; got z {tuple(z.shape)} and gamma {tuple(gamma.shape)}."
        )
    if gamma.dtype != z.dtype:
        raise TypeError(f"gamma has dtype {gamma.dtype}, but z has {z.dtype}; pass one floating dtype.")
    if not (math.isfinite(eps) and eps >= 0):
        raise ValueError(f"eps must be a non-negative finite number; got {eps!r}.")
    nk = gamma.sum(dim=0)
    means = (gamma.mT @ z) / nk.unsqueeze(-1)
    centred = z.unsqueeze(1) - means  # (N, K, D); DAGMM latents have a handful of features
    scatter = torch.einsum("nk,nkd,nke->kde", gamma, centred, centred)
    eye = torch.eye(z.shape[1], dtype=z.dtype, device=z.device)
    covariances = scatter / nk[:, None, None] + eps * eye
    scale_tril, info = torch.linalg.cholesky_ex(covariances)
    failed = tuple(int(k) for k in torch.nonzero(info).flatten())
    if failed:
        error = NotPositiveDefiniteError(failed)
        error.args = (f"{error.args[0]} Increase eps (got {eps}) or check that every column of gamma has a "
                      "positive sum.",)
        raise error
    return GMMParams(weights=nk / z.shape[0], means=means, covariances=covariances, scale_tril=scale_tril)


def gmm_energy(z: Tensor, params: GMMParams, *, reduction: Literal["none", "mean"] = "none") -> Tensor:
    """Sample energy ``E(z) = −log Σ_k φ_k N(z | μ_k, Σ_k)`` of DAGMM (Zong et al. 2018), from log-densities.

    Parameters
    ----------
    z : Tensor of shape (n_samples, n_features)
    params : GMMParams
        From :func:`gmm_params` (typically fitted on the training batch).
    reduction : {"none", "mean"}, default="none"
        Return each sample's energy, or their mean (the DAGMM loss term).

    Returns
    -------
    energy : Tensor of shape (n_samples,), or a scalar for ``reduction="mean"``

    Examples
    --------
    >>> import torch
    >>> from gaussmix.torch import gmm_energy, gmm_params
    >>> z = torch.randn(200, 2, generator=torch.Generator().manual_seed(0))
    >>> params = gmm_params(z, torch.ones(200, 1))
    >>> energy = gmm_energy(torch.tensor([[0.0, 0.0], [8.0, 8.0]]), params)
    >>> bool(energy[1] > energy[0])                         # far from the data: high energy, an anomaly
    True
    """
    if reduction not in ("none", "mean"):
        raise ValueError(f"reduction must be 'none' or 'mean'; got {reduction!r}.")
    _check_tensor("z", z, 1, "(n_samples, n_features)")
    if z.shape[-1] != params.means.shape[-1]:
        raise ValueError(
            f"z has {z.shape[-1]} features (shape {tuple(z.shape)}), but params.means has "
            f"{params.means.shape[-1]} (shape {tuple(params.means.shape)})."
        )
    energy = -mixture_log_prob(z, params.weights.log(), params.means, scale_tril=params.scale_tril)
    return energy.mean() if reduction == "mean" else energy


def to_distribution(params: GaussianParams) -> torch.distributions.MixtureSameFamily:
    """A ``torch.distributions.MixtureSameFamily`` equal to fitted mixture parameters, in float64.

    Full and tied mixtures get ``MultivariateNormal`` components (``scale_tril`` = Cholesky factor of each
    covariance, the tied one shared); diag and spherical mixtures get independent ``Normal`` coordinates.
    Tensors stay on their device; NumPy parameters become CPU tensors.

    Parameters
    ----------
    params : GaussianParams
        For example ``GaussianMixture._params()``; :meth:`GaussianMixture.to_torch_distribution` calls this.

    Returns
    -------
    MixtureSameFamily
        Its ``log_prob`` equals the estimator's ``score_samples``.

    Examples
    --------
    >>> import numpy as np
    >>> import torch
    >>> from gaussmix import GaussianParams
    >>> from gaussmix.torch import to_distribution
    >>> params = GaussianParams.from_covariances(np.array([0.5, 0.5]), np.array([[0.0], [2.0]]),
    ...                                          np.array([1.0, 1.0]), "spherical")
    >>> dist = to_distribution(params)
    >>> round(float(dist.log_prob(torch.tensor([[1.0]]))), 4)
    -1.4189
    """
    def as_tensor(a: object) -> Tensor:
        device = a.device if isinstance(a, Tensor) else None
        return torch.as_tensor(a, dtype=torch.float64, device=device)

    weights, means, covariances = (as_tensor(a) for a in (params.weights, params.means, params.covariances))
    n_components, n_features = means.shape
    mixing = torch.distributions.Categorical(probs=weights)
    kind = params.covariance_type
    if kind in ("full", "tied"):
        scale_tril = torch.linalg.cholesky(covariances).expand(n_components, n_features, n_features)
        components: torch.distributions.Distribution = torch.distributions.MultivariateNormal(
            means, scale_tril=scale_tril)
    else:
        variances = covariances if kind == "diag" else covariances[:, None].expand(n_components, n_features)
        components = torch.distributions.Independent(torch.distributions.Normal(means, variances.sqrt()), 1)
    return torch.distributions.MixtureSameFamily(mixing, components)

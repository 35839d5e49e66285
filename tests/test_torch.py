"""gaussmix.torch against torch.distributions, SciPy, Graves' closed-form gradients and finite differences."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import scipy.special
import scipy.stats

torch = pytest.importorskip("torch")
from torch.distributions import (  # noqa: E402
    Categorical,
    Independent,
    MixtureSameFamily,
    MultivariateNormal,
    Normal,
)

from gaussmix.torch import (  # noqa: E402
    bivariate_scale_tril,
    gmm_energy,
    gmm_params,
    log_responsibilities,
    mixture_log_prob,
    responsibilities,
    sample,
)

F64 = torch.float64


def random_mixture(gen: torch.Generator, batch: tuple[int, ...], k: int, d: int, dtype=F64):
    """Random valid (logits, loc, scale_diag, scale_tril) with the given batch shape."""
    logits = torch.randn(*batch, k, generator=gen, dtype=dtype) * 2
    loc = torch.randn(*batch, k, d, generator=gen, dtype=dtype) * 3
    scale_diag = torch.rand(*batch, k, d, generator=gen, dtype=dtype) + 0.3
    tril = torch.randn(*batch, k, d, d, generator=gen, dtype=dtype).tril(-1) * 0.7
    scale_tril = tril + torch.diag_embed(torch.rand(*batch, k, d, generator=gen, dtype=dtype) + 0.4)
    return logits, loc, scale_diag, scale_tril


def torch_reference(logits, loc, scale_diag=None, scale_tril=None):
    if scale_diag is not None:
        components = Independent(Normal(loc, scale_diag), 1)
    else:
        components = MultivariateNormal(loc, scale_tril=scale_tril)
    return MixtureSameFamily(Categorical(logits=logits), components)


def scipy_log_prob(x, logits, loc, cov):
    """log Σ_k π_k N(x | μ_k, Σ_k) for unbatched parameters, summed in log space with SciPy."""
    x, logits, loc, cov = (np.asarray(a.detach(), dtype=np.float64) for a in (x, logits, loc, cov))
    log_w = logits - scipy.special.logsumexp(logits)
    comp = np.stack(
        [scipy.stats.multivariate_normal(loc[k], cov[k]).logpdf(x) for k in range(len(log_w))], axis=-1
    )
    return scipy.special.logsumexp(comp + log_w, axis=-1)


# ------------------------------------------------------------------------------------ log-density


@pytest.mark.parametrize("batch", [(), (5,), (3, 4)])
@pytest.mark.parametrize("scale", ["scale_diag", "scale_tril"])
def test_log_prob_equals_torch_mixture_same_family(batch, scale):
    gen = torch.Generator().manual_seed(len(batch) + len(scale))
    logits, loc, scale_diag, scale_tril = random_mixture(gen, batch, k=4, d=3)
    scales = {"scale_diag": scale_diag} if scale == "scale_diag" else {"scale_tril": scale_tril}
    x = torch.randn(*batch, 3, generator=gen, dtype=F64) * 4
    expected = torch_reference(logits, loc, **scales).log_prob(x)
    got = mixture_log_prob(x, logits, loc, **scales)
    assert got.shape == batch
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize("scale", ["scale_diag", "scale_tril"])
@pytest.mark.parametrize(
    ("x_batch", "param_batch"),
    [((7,), ()), ((6, 5), (6, 1)), ((2, 1, 3), (4, 1)), ((), (3,))],
)
def test_log_prob_broadcasts_batch_axes_like_torch(scale, x_batch, param_batch):
    gen = torch.Generator().manual_seed(11)
    logits, loc, scale_diag, scale_tril = random_mixture(gen, param_batch, k=3, d=2)
    scales = {"scale_diag": scale_diag} if scale == "scale_diag" else {"scale_tril": scale_tril}
    x = torch.randn(*x_batch, 2, generator=gen, dtype=F64) * 3
    expected = torch_reference(logits, loc, **scales).log_prob(x)
    got = mixture_log_prob(x, logits, loc, **scales)
    assert got.shape == torch.broadcast_shapes(x_batch, param_batch)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-10)


def test_log_prob_equals_scipy_mixture_density():
    gen = torch.Generator().manual_seed(3)
    for k, d in [(1, 1), (3, 2), (5, 4)]:
        logits, loc, scale_diag, scale_tril = random_mixture(gen, (), k=k, d=d)
        x = torch.randn(20, d, generator=gen, dtype=F64) * 3
        cov_full = scale_tril @ scale_tril.mT
        np.testing.assert_allclose(
            mixture_log_prob(x, logits, loc, scale_tril=scale_tril).numpy(),
            scipy_log_prob(x, logits, loc, cov_full), rtol=1e-12, atol=1e-12,
        )
        np.testing.assert_allclose(
            mixture_log_prob(x, logits, loc, scale_diag=scale_diag).numpy(),
            scipy_log_prob(x, logits, loc, torch.diag_embed(scale_diag**2)), rtol=1e-12, atol=1e-12,
        )


def test_log_prob_reads_only_the_lower_triangle_of_scale_tril():
    gen = torch.Generator().manual_seed(4)
    logits, loc, _, scale_tril = random_mixture(gen, (6,), k=3, d=3)
    x = torch.randn(6, 3, generator=gen, dtype=F64)
    garbage = scale_tril + torch.randn(6, 3, 3, 3, generator=gen, dtype=F64).triu(1)
    torch.testing.assert_close(
        mixture_log_prob(x, logits, loc, scale_tril=garbage), mixture_log_prob(x, logits, loc, scale_tril=scale_tril)
    )


def test_responsibilities_are_the_normalised_joint_densities():
    gen = torch.Generator().manual_seed(5)
    logits, loc, _, scale_tril = random_mixture(gen, (8,), k=4, d=2)
    x = torch.randn(8, 2, generator=gen, dtype=F64) * 3
    joint = torch.log_softmax(logits, -1) + MultivariateNormal(loc, scale_tril=scale_tril).log_prob(x.unsqueeze(-2))
    expected = torch.exp(joint - torch.logsumexp(joint, -1, keepdim=True))
    resp = responsibilities(x, logits, loc, scale_tril=scale_tril)
    torch.testing.assert_close(resp, expected, rtol=1e-12, atol=1e-14)
    torch.testing.assert_close(resp.sum(-1), torch.ones(8, dtype=F64))
    torch.testing.assert_close(log_responsibilities(x, logits, loc, scale_tril=scale_tril), expected.log())


# ------------------------------------------------------------------------------------ gradients


def graves_gradients(x, pi_hat, mu, sigma_hat, rho_hat):
    """Graves (2013)'s mixture-density-output gradients of L = -Σ_n log p(x_n), derived from the closed form.

    Shapes: x (N, 2), pi_hat (N, K), mu (N, K, 2), sigma_hat (N, K, 2) = log σ, rho_hat (N, K) = atanh ρ.
    """
    pi = scipy.special.softmax(pi_hat, axis=-1)
    sigma, rho = np.exp(sigma_hat), np.tanh(rho_hat)
    d = (x[:, None, :] - mu) / sigma  # standardised offsets d1, d2
    d1, d2 = d[..., 0], d[..., 1]
    one_minus_rho2 = 1 - rho**2
    big_z = d1**2 + d2**2 - 2 * rho * d1 * d2
    big_c = 1 / one_minus_rho2
    norm = 2 * np.pi * sigma[..., 0] * sigma[..., 1] * np.sqrt(one_minus_rho2)
    density = np.exp(-big_z / (2 * one_minus_rho2)) / norm
    weighted = pi * density
    gamma = weighted / weighted.sum(-1, keepdims=True)
    g_pi = pi - gamma
    g_mu1 = -gamma * big_c / sigma[..., 0] * (d1 - rho * d2)
    g_mu2 = -gamma * big_c / sigma[..., 1] * (d2 - rho * d1)
    g_s1 = -gamma * (big_c * d1 * (d1 - rho * d2) - 1)
    g_s2 = -gamma * (big_c * d2 * (d2 - rho * d1) - 1)
    g_rho = -gamma * (d1 * d2 + rho * (1 - big_c * big_z))
    return g_pi, np.stack([g_mu1, g_mu2], -1), np.stack([g_s1, g_s2], -1), g_rho


def test_bivariate_gradients_equal_graves_closed_form():
    gen = torch.Generator().manual_seed(6)
    n, k = 10, 5
    x = torch.randn(n, 2, generator=gen, dtype=F64) * 2
    pi_hat = torch.randn(n, k, generator=gen, dtype=F64).requires_grad_()
    mu = (torch.randn(n, k, 2, generator=gen, dtype=F64) * 1.5).requires_grad_()
    sigma_hat = (torch.randn(n, k, 2, generator=gen, dtype=F64) * 0.4).requires_grad_()
    rho_hat = (torch.randn(n, k, generator=gen, dtype=F64) * 1.2).requires_grad_()
    sigma = sigma_hat.exp()
    scale_tril = bivariate_scale_tril(sigma[..., 0], sigma[..., 1], torch.tanh(rho_hat))
    loss = -mixture_log_prob(x, pi_hat, mu, scale_tril=scale_tril).sum()
    loss.backward()
    expected = graves_gradients(*(t.detach().numpy() for t in (x, pi_hat, mu, sigma_hat, rho_hat)))
    for got, want in zip((pi_hat, mu, sigma_hat, rho_hat), expected):
        np.testing.assert_allclose(got.grad.numpy(), want, rtol=0, atol=1e-9)


def test_bivariate_scale_tril_reproduces_the_covariance():
    sigma1, sigma2 = torch.tensor([0.5, 2.0], dtype=F64), torch.tensor([3.0, 0.1], dtype=F64)
    rho = torch.tensor([-0.999999, 0.3], dtype=F64)
    cov = bivariate_scale_tril(sigma1, sigma2, rho)
    cov = cov @ cov.mT
    expected = torch.stack(
        [torch.stack([sigma1**2, rho * sigma1 * sigma2], -1), torch.stack([rho * sigma1 * sigma2, sigma2**2], -1)], -2
    )
    torch.testing.assert_close(cov, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("param_batch", [(3,), ()], ids=["per-sample", "shared"])
@pytest.mark.parametrize("scale", ["scale_diag", "scale_tril"])
def test_log_prob_gradients_match_finite_differences(scale, param_batch):
    gen = torch.Generator().manual_seed(7)
    logits, loc, scale_diag, scale_tril = random_mixture(gen, param_batch, k=2, d=2)
    x = torch.randn(3, 2, generator=gen, dtype=F64) * 2
    scale_value = scale_diag if scale == "scale_diag" else scale_tril
    inputs = tuple(t.clone().requires_grad_() for t in (x, logits, loc, scale_value))
    assert torch.autograd.gradcheck(lambda a, b, c, s: mixture_log_prob(a, b, c, **{scale: s}), inputs)


# ------------------------------------------------------------------------------------ float32 far away


def naive_log_prob(x, logits, loc, scale_diag):
    """What breaks: densities in probability space, then log."""
    weights = torch.softmax(logits, -1)
    z = (x.unsqueeze(-2) - loc) / scale_diag
    density = torch.exp(-0.5 * z.square().sum(-1)) / ((2 * math.pi) ** (loc.shape[-1] / 2) * scale_diag.prod(-1))
    return torch.log((weights * density).sum(-1))


@pytest.mark.parametrize("distance", [40.0, 1e4])
def test_far_points_keep_finite_float32_loss_and_gradients(distance):
    logits = torch.tensor([0.3, -0.2, 1.0], requires_grad=True)
    loc = torch.tensor([[0.0, 0.0], [1.0, -1.0], [-1.0, 0.5]], requires_grad=True)
    scale_diag = torch.ones(3, 2, requires_grad=True)
    # every component is at least `distance` standard deviations away
    x = torch.tensor([distance + 1.0, distance + 1.0], requires_grad=True)
    loss = -mixture_log_prob(x, logits, loc, scale_diag=scale_diag)
    expected = -scipy_log_prob(x, logits, loc, torch.diag_embed(scale_diag.detach() ** 2))
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-5)
    loss.backward()
    for t in (x, logits, loc, scale_diag):
        assert torch.isfinite(t.grad).all(), t.grad

    inputs = [t.detach().clone().requires_grad_() for t in (x, logits, loc, scale_diag)]
    naive_loss = -naive_log_prob(*inputs)
    naive_loss.backward()
    assert not torch.isfinite(naive_loss)
    assert not all(torch.isfinite(t.grad).all() for t in inputs)


# ------------------------------------------------------------------------------------ sampling


def separated_mixture():
    """Components 100 apart with unit scales, so each draw's component is its nearest mean."""
    logits = torch.tensor([0.5, -1.0, 1.2, 0.0], dtype=F64)
    loc = torch.tensor([[0.0, 0.0], [100.0, 0.0], [0.0, 100.0], [100.0, 100.0]], dtype=F64)
    return logits, loc


def nearest_component(draws, loc):
    return torch.cdist(draws.reshape(-1, loc.shape[-1]), loc).argmin(-1)


@pytest.mark.parametrize("temperature", [1.0, 0.5])
def test_sample_component_frequencies_follow_softmax_of_logits(temperature):
    logits, loc = separated_mixture()
    n = 20_000
    draws = sample(logits, loc, scale_diag=torch.ones(4, 2, dtype=F64), temperature=temperature,
                   sample_shape=(n,), generator=torch.Generator().manual_seed(8))
    assert draws.shape == (n, 2)
    counts = torch.bincount(nearest_component(draws, loc), minlength=4).numpy()
    expected = n * torch.softmax(logits / temperature, -1).numpy()
    assert scipy.stats.chisquare(counts, expected).pvalue > 1e-4, (counts, expected)


def test_sample_draws_gaussians_with_temperature_scaled_covariance():
    gen = torch.Generator().manual_seed(9)
    loc = torch.tensor([[5.0, -3.0]], dtype=F64)
    scale_tril = torch.tensor([[[2.0, 0.0], [1.5, 0.5]]], dtype=F64)
    temperature, n = 0.25, 40_000
    draws = sample(torch.zeros(1, dtype=F64), loc, scale_tril=scale_tril, temperature=temperature,
                   sample_shape=(n,), generator=gen)
    cov = temperature * (scale_tril[0] @ scale_tril[0].T)
    # within 5 standard errors (every std-dev is at most 1)
    np.testing.assert_allclose(draws.mean(0).numpy(), loc[0].numpy(), atol=5 / math.sqrt(n))
    np.testing.assert_allclose(np.cov(draws.numpy().T), cov.numpy(), rtol=0.05, atol=0.01)


def test_sample_gradients_reach_only_the_chosen_components():
    logits, loc_value = separated_mixture()
    loc = loc_value.clone().requires_grad_()
    scale_diag = torch.ones(4, 2, dtype=F64, requires_grad=True)
    draws = sample(logits, loc, scale_diag=scale_diag, sample_shape=(5,),
                   generator=torch.Generator().manual_seed(10))
    draws.sum().backward()
    counts = torch.bincount(nearest_component(draws.detach(), loc_value), minlength=4).to(F64)
    # d(draw)/d(loc_k) is the identity for the drawn component and 0 for the others
    torch.testing.assert_close(loc.grad, counts[:, None].expand(4, 2))
    assert (scale_diag.grad[counts == 0] == 0).all()
    assert (scale_diag.grad[counts > 0] != 0).all()


def test_sample_at_low_temperature_returns_the_argmax_component_mean():
    gen = torch.Generator().manual_seed(12)
    logits, loc, _, scale_tril = random_mixture(gen, (6,), k=3, d=2)
    draws = sample(logits, loc, scale_tril=scale_tril, temperature=1e-10, sample_shape=(4,), generator=gen)
    best_mean = loc[torch.arange(6), logits.argmax(-1)]
    assert draws.shape == (4, 6, 2)
    torch.testing.assert_close(draws, best_mean.expand(4, 6, 2), rtol=0, atol=1e-3)


def test_sample_with_shared_parameters_and_batched_logits_has_broadcast_shape():
    gen = torch.Generator().manual_seed(13)
    _, loc, scale_diag, _ = random_mixture(gen, (), k=3, d=2)
    logits = torch.randn(5, 3, generator=gen, dtype=F64)
    draws = sample(logits, loc, scale_diag=scale_diag, sample_shape=(2, 7), generator=gen)
    assert draws.shape == (2, 7, 5, 2)
    again = sample(logits, loc, scale_diag=scale_diag, sample_shape=(2, 7),
                   generator=torch.Generator().manual_seed(1))
    repeat = sample(logits, loc, scale_diag=scale_diag, sample_shape=(2, 7),
                    generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(again, repeat, rtol=0, atol=0)


# ------------------------------------------------------------------------------------ DAGMM


def numpy_gmm_params(z, gamma, eps):
    nk = gamma.sum(0)
    means = np.stack([np.average(z, axis=0, weights=gamma[:, k]) for k in range(gamma.shape[1])])
    covs = np.stack([
        np.cov(z.T, aweights=gamma[:, k], bias=True).reshape(z.shape[1], z.shape[1]) + eps * np.eye(z.shape[1])
        for k in range(gamma.shape[1])
    ])
    return nk / len(z), means, covs


def test_gmm_params_and_energy_equal_numpy_and_scipy_references():
    rng = np.random.default_rng(14)
    z = rng.normal(size=(50, 3)) * [1.0, 2.0, 0.5] + 1e4  # far from the origin: centring must be exact
    gamma = scipy.special.softmax(rng.normal(size=(50, 4)) * 2, axis=1)
    params = gmm_params(torch.from_numpy(z), torch.from_numpy(gamma), eps=1e-6)
    weights, means, covs = numpy_gmm_params(z, gamma, 1e-6)
    np.testing.assert_allclose(params.weights.numpy(), weights, rtol=1e-12)
    np.testing.assert_allclose(params.means.numpy(), means, rtol=1e-12)
    np.testing.assert_allclose(params.covariances.numpy(), covs, rtol=1e-9)
    np.testing.assert_allclose((params.scale_tril @ params.scale_tril.mT).numpy(), covs, rtol=1e-9)

    z_new = torch.from_numpy(z[:10] + rng.normal(size=(10, 3)))
    energy = gmm_energy(z_new, params)
    expected = -scipy_log_prob(z_new, torch.from_numpy(np.log(weights)), torch.from_numpy(means),
                               torch.from_numpy(covs))
    np.testing.assert_allclose(energy.numpy(), expected, rtol=1e-9)
    np.testing.assert_allclose(gmm_energy(z_new, params, reduction="mean").item(), expected.mean(), rtol=1e-9)


def test_gmm_energy_gradients_reach_z_and_gamma():
    gen = torch.Generator().manual_seed(15)
    z = torch.randn(6, 2, generator=gen, dtype=F64, requires_grad=True)
    gamma = torch.softmax(torch.randn(6, 2, generator=gen, dtype=F64), -1).requires_grad_()

    def mean_energy(z, gamma):
        return gmm_energy(z, gmm_params(z, gamma, eps=1e-3), reduction="mean")

    assert torch.autograd.gradcheck(mean_energy, (z, gamma))
    mean_energy(z, gamma).backward()
    assert z.grad.abs().sum() > 0 and gamma.grad.abs().sum() > 0


def test_gmm_params_names_the_component_without_a_cholesky_factor():
    z = torch.tensor([[0.0, 0.0], [1.0, 1.0], [2.0, 2.0]], dtype=F64)  # collinear: singular without eps
    gamma = torch.tensor([[0.5, 0.5], [0.5, 0.5], [0.5, 0.5]], dtype=F64)
    with pytest.raises(ValueError, match=r"component\(s\) 0, 1 .*Increase eps"):
        gmm_params(z, gamma, eps=0.0)


# ------------------------------------------------------------------------------------ validation


LOGITS, LOC, DIAG, TRIL = random_mixture(torch.Generator().manual_seed(0), (), k=3, d=2)
X = torch.zeros(2, dtype=F64)
BAD_SHAPES = {
    "K mismatch": (
        lambda: mixture_log_prob(X, LOGITS[:2], LOC, scale_diag=DIAG), r"logits has 2 components.*loc has 3"
    ),
    "D mismatch": (
        lambda: mixture_log_prob(torch.zeros(3, dtype=F64), LOGITS, LOC, scale_diag=DIAG),
        r"x has 3 features.*loc has 2",
    ),
    "neither scale": (
        lambda: mixture_log_prob(X, LOGITS, LOC), r"exactly one of 'scale_diag' or 'scale_tril'; got neither"
    ),
    "both scales": (lambda: mixture_log_prob(X, LOGITS, LOC, scale_diag=DIAG, scale_tril=TRIL), r"got both"),
    "scale_diag D": (
        lambda: mixture_log_prob(X, LOGITS, LOC, scale_diag=DIAG[:, :1]),
        r"scale_diag must have shape \(\.\.\., K, D\) = \(\.\.\., 3, 2\) to match loc; got shape \(3, 1\)",
    ),
    "scale_tril K": (
        lambda: mixture_log_prob(X, LOGITS, LOC, scale_tril=TRIL[:2]), r"scale_tril must have shape .*\(2, 2, 2\)"
    ),
    "batch": (
        lambda: mixture_log_prob(torch.zeros(4, 2, dtype=F64), LOGITS.expand(5, 3), LOC, scale_diag=DIAG),
        r"don't broadcast: logits \(5,\).*x \(4,\)",
    ),
    "responsibilities": (
        lambda: responsibilities(X, LOGITS, LOC[:, :1], scale_tril=TRIL), r"scale_tril must have shape"
    ),
    "temperature": (lambda: sample(LOGITS, LOC, scale_diag=DIAG, temperature=0.0), r"temperature must be a positive"),
    "gmm_params N": (
        lambda: gmm_params(torch.zeros(4, 2, dtype=F64), torch.ones(5, 3, dtype=F64)),
        r"same n_samples; got z \(4, 2\) and gamma \(5, 3\)",
    ),
    "bivariate": (
        lambda: bivariate_scale_tril(torch.ones(2), torch.ones(3), torch.zeros(2)), r"sigma1 \(2,\), sigma2 \(3,\)"
    ),
}


@pytest.mark.parametrize("case", BAD_SHAPES)
def test_bad_shapes_raise_value_errors_naming_the_argument(case):
    call, match = BAD_SHAPES[case]
    with pytest.raises(ValueError, match=match):
        call()


def test_bad_types_and_dtypes_raise_type_errors_naming_the_argument():
    with pytest.raises(TypeError, match="x must be a torch.Tensor; got ndarray"):
        mixture_log_prob(np.zeros(2), LOGITS, LOC, scale_diag=DIAG)
    with pytest.raises(TypeError, match="x has dtype torch.float32, but loc has torch.float64"):
        mixture_log_prob(torch.zeros(2), LOGITS, LOC, scale_diag=DIAG)
    with pytest.raises(ValueError, match="reduction must be 'none' or 'mean'; got 'sum'"):
        gmm_energy(torch.zeros(3, 2, dtype=F64), None, reduction="sum")


def test_import_without_torch_says_which_extra_to_install():
    # torch made unimportable by a finder (not sys.modules['torch'] = None, which SciPy's array-API helpers,
    # reached through scikit-learn, take for a loaded module)
    code = ("import sys, importlib.abc\n"
            "class NoTorch(importlib.abc.MetaPathFinder):\n"
            "    def find_spec(self, name, path, target=None):\n"
            "        if name.split('.')[0] == 'torch':\n"
            "            raise ImportError(\"No module named 'torch'\")\n"
            "sys.meta_path.insert(0, NoTorch())\n"
            "try:\n    import gaussmix.torch\nexcept ImportError as e:\n    print(e)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert 'pip install "gaussmix[torch]"' in out

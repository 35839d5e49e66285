"""
A mixture density network in PyTorch
====================================

Bishop's (1994) inverse problem: x = y + 0.3 sin(2πy) + noise is easy to fit as y ↦ x, but x ↦ y has up to three
branches, and least squares predicts their useless average. A *mixture density network* outputs, for every x,
the weights, means and scales of a Gaussian mixture over y, and is trained by maximum likelihood with
:func:`gaussmix.torch.mixture_log_prob`, which stays finite (log-softmax, log-sum-exp) for points far from
every component.
"""

import matplotlib.pyplot as plt
import numpy as np
import torch

from gaussmix.torch import mixture_log_prob, sample

torch.manual_seed(0)
torch.set_num_threads(1)
n, K = 1500, 5
y = torch.rand(n, 1)
x = y + 0.3 * torch.sin(2 * np.pi * y) + 0.05 * torch.randn(n, 1)


class MDN(torch.nn.Module):
    def __init__(self, hidden=32, n_components=K):
        super().__init__()
        self.k = n_components
        self.body = torch.nn.Sequential(torch.nn.Linear(1, hidden), torch.nn.Tanh())
        self.head = torch.nn.Linear(hidden, 3 * n_components)

    def forward(self, inputs):
        logits, loc, log_scale = self.head(self.body(inputs)).split(self.k, dim=-1)
        return logits, loc.unsqueeze(-1), log_scale.clamp(-7, 3).exp().unsqueeze(-1)   # (B, K), (B, K, 1)


net = MDN()
optimizer = torch.optim.Adam(net.parameters(), lr=0.005)
losses = []
for _ in range(1200):
    logits, loc, scale = net(x)
    loss = -mixture_log_prob(y, logits, loc, scale_diag=scale).mean()
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
print(f"negative log-likelihood per point: {losses[0]:.3f} at the start, {losses[-1]:.3f} after training")

# %%
# The conditional density p(y | x) on a grid, and draws from it with :func:`gaussmix.torch.sample`: the three
# branches are there, where a regression would draw one curve through the middle.
x_grid = torch.linspace(float(x.min()), float(x.max()), 200).unsqueeze(-1)
y_grid = torch.linspace(-0.1, 1.1, 200)
with torch.no_grad():
    logits, loc, scale = net(x_grid)
    log_density = mixture_log_prob(y_grid.view(-1, 1, 1), logits, loc, scale_diag=scale)   # (200 y, 200 x)
    draws = sample(logits, loc, scale_diag=scale, generator=torch.Generator().manual_seed(1)).squeeze(-1)

fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
left.plot(losses)
left.set_xlabel("Adam step")
left.set_ylabel("negative log-likelihood")
right.pcolormesh(x_grid.squeeze().numpy(), y_grid.numpy(), log_density.exp().numpy(), cmap="Blues",
                 shading="auto", vmax=8)
right.scatter(x.squeeze().numpy(), y.squeeze().numpy(), s=2, c="k", alpha=0.3, label="training data")
right.scatter(x_grid.squeeze().numpy(), draws.numpy(), s=6, c="r", label="draws from p(y | x)")
right.set_xlabel("x")
right.set_ylabel("y")
right.legend(loc="upper left")
fig.tight_layout()

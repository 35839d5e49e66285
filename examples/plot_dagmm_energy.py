"""
DAGMM: a deep autoencoding Gaussian mixture's energy
====================================================

DAGMM (Zong et al. 2018) detects anomalies with an autoencoder and a Gaussian mixture trained together: each
row's latent code ``z`` (the code plus its reconstruction error) goes through an *estimation network* that
outputs soft memberships ``gamma``; :func:`gaussmix.torch.gmm_params` turns them into mixture parameters by a
differentiable M-step, and :func:`gaussmix.torch.gmm_energy` gives each row's *sample energy* −log p(z), which is
both a loss term and the anomaly score.

The data: 20-dimensional rows near a 2-dimensional curved surface (three clusters on it), and anomalies off it.
"""

import matplotlib.pyplot as plt
import torch
from sklearn.metrics import roc_auc_score

from gaussmix.torch import gmm_energy, gmm_params

torch.manual_seed(0)
torch.set_num_threads(1)


MIXING = torch.randn(2, 20, generator=torch.Generator().manual_seed(1))


def rows(n, anomalous=False):
    centres = torch.tensor([[-2.0, 0.0], [0.0, 2.0], [2.0, 0.0]])
    t = centres[torch.randint(3, (n,))] + 0.4 * torch.randn(n, 2)
    x = torch.tanh(t @ MIXING / 2)   # a curved 2-D surface in 20 dimensions
    if anomalous:
        x = x[torch.randperm(n)] * 0.5 + 0.5 * torch.tanh(torch.randn(n, 20))   # off the surface
    return x + 0.02 * torch.randn(n, 20)


X_train = rows(2000)
X_test = torch.cat([rows(500), rows(50, anomalous=True)])
is_anomaly = torch.cat([torch.zeros(500), torch.ones(50)])


class DAGMM(torch.nn.Module):
    def __init__(self, n_features=20, n_code=2, n_components=3):
        super().__init__()
        layers = torch.nn.Linear, torch.nn.Tanh
        self.encoder = torch.nn.Sequential(layers[0](n_features, 16), layers[1](), layers[0](16, n_code))
        self.decoder = torch.nn.Sequential(layers[0](n_code, 16), layers[1](), layers[0](16, n_features))
        self.estimator = torch.nn.Sequential(torch.nn.Linear(n_code + 1, 10), torch.nn.Tanh(),
                                             torch.nn.Linear(10, n_components), torch.nn.Softmax(dim=1))

    def forward(self, x):
        code = self.encoder(x)
        reconstruction = self.decoder(code)
        error = (x - reconstruction).norm(dim=1) / x.norm(dim=1)   # relative Euclidean distance
        z = torch.cat([code, error.unsqueeze(1)], dim=1)
        return z, reconstruction, self.estimator(z)


model = DAGMM()
optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
for _ in range(400):
    z, reconstruction, gamma = model(X_train)
    params = gmm_params(z, gamma)
    energy = gmm_energy(z, params, reduction="mean")
    diagonal_penalty = (1 / torch.diagonal(params.covariances, dim1=-2, dim2=-1)).sum()
    loss = (X_train - reconstruction).pow(2).mean() + 0.1 * energy + 0.005 * diagonal_penalty
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

# %%
# Scoring: the mixture is estimated once on the whole training set, then every test row gets its energy.
with torch.no_grad():
    params = gmm_params(*model(X_train)[::2])
    z_test, _, _ = model(X_test)
    energy = gmm_energy(z_test, params)
print(f"ROC AUC of the sample energy: {roc_auc_score(is_anomaly.numpy(), energy.numpy()):.3f}")

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
normal = is_anomaly == 0
left.scatter(*z_test[normal, :2].T, s=5, label="normal")
left.scatter(*z_test[~normal, :2].T, s=15, marker="x", label="anomaly")
left.set_title("latent code")
left.legend()
right.hist(energy[normal].numpy(), bins=40, alpha=0.6, label="normal")
right.hist(energy[~normal].numpy(), bins=40, alpha=0.6, label="anomaly")
right.set_xlabel("sample energy  −log p(z)")
right.legend()
fig.tight_layout()

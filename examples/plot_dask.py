"""
Fitting on a Dask cluster
=========================

``GaussianMixture.fit`` takes a Dask array (or DataFrame) and runs the E-step where the blocks are, adding the
:class:`~gaussmix.SufficientStats` of every block in a tree: the parameters that come back are the ones an
in-memory fit gives, to rounding.

A :class:`distributed.LocalCluster` stands in for a real cluster here (threads in this process, to keep the
page fast); pointing ``Client`` at ``tcp://scheduler:8786`` is the only change for a real one.
"""

import dask.array as da
import matplotlib.pyplot as plt
import numpy as np
from dask.distributed import Client, LocalCluster

from gaussmix import GaussianMixture, plot
from gaussmix.datasets import make_mixture

X_np, y, truth = make_mixture(200_000, n_components=4, n_features=3, separation=3.0, random_state=4)

cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
client = Client(cluster)
X = da.from_array(X_np, chunks=(25_000, 3))  # on a real cluster: da.from_zarr(...) loads on the workers
print(X)

# %%
# The same start (``means_init``) on Dask and in memory gives the same fit.
start = X_np[np.random.default_rng(0).choice(len(X_np), 4, replace=False)]
on_dask = GaussianMixture(4, means_init=start, tol=1e-6, max_iter=200).fit(X)
in_memory = GaussianMixture(4, means_init=start, tol=1e-6, max_iter=200).fit(X_np)
print("iterations:", on_dask.n_iter_, in_memory.n_iter_)
print("largest difference of the means:", np.abs(on_dask.means_ - in_memory.means_).max())

# %%
# ``predict`` on a Dask array is lazy and aligned with X's blocks.
labels = on_dask.predict(X)
print(labels)
counts = np.bincount(labels.compute(), minlength=4)
print("rows per component:", counts)

client.close()
cluster.close()

# %%
fig, ax = plt.subplots(figsize=(6, 5))
plot.clusters(on_dask, X_np, ax=ax, max_points=5000)
ax.set_title("fitted on Dask: 200,000 rows in 8 blocks")
fig.tight_layout()

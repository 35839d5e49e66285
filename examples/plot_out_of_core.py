"""
A file larger than memory, with a progress bar
==============================================

Pass a path instead of an array and :class:`gaussmix.GaussianMixture` streams the file in row blocks: one pass
per EM iteration, one block in memory at a time (plus a uniform sample of rows for the k-means start). The
parameters are the same as for the array in memory.

To keep this page quick the file here is 400,000 × 8 float32 (13 MB) read in blocks of 25,000 rows; nothing in
the code depends on its size. Memory stays at a few blocks plus ``init_sample_size`` rows, and time grows
linearly with the rows: the documentation on :doc:`files and Dask </SCALE>` reports a 4.1 GB ``.npy`` fitted with
330 MB of extra memory, 34 s per pass on two cores.
"""

import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import gaussmix
from gaussmix import plot
from gaussmix.datasets import make_mixture

workdir = Path(tempfile.mkdtemp())
path = workdir / "embeddings.npy"

# %%
# Write the file block by block, as a producer that never holds it whole would: ``open_memmap`` creates the
# ``.npy`` header and each block is written to its rows.
n_rows, n_features, block = 400_000, 8, 50_000
rng = np.random.default_rng(0)
_, _, truth = make_mixture(1, n_components=5, n_features=n_features, separation=2.0, random_state=0)
out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n_rows, n_features))
for start in range(0, n_rows, block):
    component = rng.choice(5, size=block, p=truth.weights)
    noise = rng.standard_normal((block, n_features))
    chol = np.linalg.cholesky(truth.covariances)[component]
    out[start:start + block] = truth.means[component] + np.einsum("nij,nj->ni", chol, noise)
out.flush()
del out
print(f"{path.name}: {path.stat().st_size / 1e6:.1f} MB")

# %%
# Fit it with a progress bar: ``on_iteration(n_iter, lower_bound)`` is called after every pass over the file
# (the ``gaussmix fit`` command draws its progress bar with the same callback).
source = gaussmix.open_data(path, chunk_rows=25_000)
history = []


def progress(n_iter, lower_bound):
    history.append((time.perf_counter(), lower_bound))
    bar = "#" * min(n_iter, 30)
    print(f"pass {n_iter:3d} |{bar:<30}| lower bound {lower_bound:.5f}", flush=True)


start = time.perf_counter()
gm = gaussmix.GaussianMixture(5, covariance_type="full", init_sample_size=20_000, tol=1e-4, random_state=0)
gm.fit(source, on_iteration=progress)
elapsed = time.perf_counter() - start
print(f"{gm.n_iter_} passes over {n_rows:,} rows in {elapsed:.1f} s "
      f"({elapsed / gm.n_iter_ * 1e3:.0f} ms per pass); converged: {gm.converged_}")

# %%
# Row-wise results of any size stream to a file too (written atomically: all rows or no file).
labels_path = gaussmix.write_predictions(gm, source, workdir / "labels.npy", proba=False)
labels = np.load(labels_path)
print(labels.shape, "columns: label, log_prob")

# %%
# The lower bound at each pass, and the fitted components on a sample of the rows (projected on the first two
# principal components).
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
plot.convergence(gm, ax=left)
sample = np.load(path, mmap_mode="r")[:: n_rows // 5000]
plot.clusters(gm, np.asarray(sample), ax=right)
fig.tight_layout()

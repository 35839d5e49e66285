"""
A command-line session
======================

The ``gaussmix`` command (``pip install "gaussmix[cli]"``) fits, inspects, scores and plots mixtures of data
files without writing Python: ``fit``, ``info``, ``score``, ``predict``, ``sample``, ``select``, ``outliers``,
``plot`` and ``demo``. Here each command runs in a subprocess, as it would in a shell, on Old Faithful's
eruptions (272 rows; ``eruptions`` and ``waiting`` in minutes).
"""

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import matplotlib.image as mpimg
import matplotlib.pyplot as plt

here = Path(__file__).resolve().parent if "__file__" in globals() else Path.cwd()
workdir = Path(tempfile.mkdtemp())
shutil.copy(here.parent / "tests" / "data" / "faithful.csv", workdir / "faithful.csv")
environment = {**os.environ, "COLUMNS": "100", "NO_COLOR": "1", "TERM": "dumb"}


def gaussmix(*arguments):
    """Run ``gaussmix ARGUMENTS...`` in the work directory and print what a terminal would show."""
    print("$ gaussmix " + " ".join(arguments))
    done = subprocess.run(["gaussmix", *arguments], cwd=workdir, env=environment, capture_output=True, text=True)
    print(done.stdout + done.stderr)
    done.check_returncode()


# %%
# Fit two components and save the model (an ``.npz`` with a JSON header, never a pickle):
gaussmix("fit", "faithful.csv", "-k", "2", "--seed", "0", "-o", "faithful.npz")

# %%
# What the model file holds, and how well the model explains the data:
gaussmix("info", "faithful.npz")
gaussmix("score", "faithful.npz", "faithful.csv")

# %%
# Labels, log-densities and probabilities for every row, streamed to a file:
gaussmix("predict", "faithful.npz", "faithful.csv", "-o", "labels.csv", "--proba")
print((workdir / "labels.csv").read_text().splitlines()[:4])

# %%
# Model selection by BIC over K and covariance types, keeping the best model:
gaussmix("select", "faithful.csv", "-k", "1-4", "-t", "full,tied,diag", "--seed", "0", "-o", "best.npz")

# %%
# Errors are one line and an exit status (1 for data or model errors, 2 for usage), never a traceback:
done = subprocess.run(["gaussmix", "fit", "faithful.csv", "-k", "2", "-t", "ful", "-o", "m.npz"], cwd=workdir,
                      env=environment, capture_output=True, text=True)
print(done.stderr, "exit status:", done.returncode)

# %%
# And the plot of the best model over the data:
gaussmix("plot", "best.npz", "faithful.csv", "-o", "faithful.png")
fig, ax = plt.subplots(figsize=(10, 5))
ax.imshow(mpimg.imread(workdir / "faithful.png"))
ax.set_axis_off()
fig.tight_layout()

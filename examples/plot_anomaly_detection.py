"""
Anomaly detection: thresholds and p-values
==========================================

:class:`gaussmix.OutlierDetector` scores each row by its log-density under a fitted mixture (low = anomalous)
and follows scikit-learn's outlier conventions (``predict`` returns +1 / −1).

Two ways to set the threshold:

* ``contamination``: the fraction of the *training* rows assumed to be outliers;
* a held-out set of normal rows and a target false-positive rate: :meth:`~gaussmix.OutlierDetector.threshold_for_fpr`
  and conformal :meth:`~gaussmix.OutlierDetector.p_values`, valid however poorly the mixture fits.
"""

import matplotlib.pyplot as plt
import numpy as np

from gaussmix import OutlierDetector
from gaussmix.datasets import make_mixture

rng = np.random.default_rng(5)
normal, _, _ = make_mixture(3000, n_components=3, separation=3.0, random_state=5)
X_train, X_val, X_normal_test = normal[:1500], normal[1500:2500], normal[2500:]
anomalies = rng.uniform(normal.min(0) - 2, normal.max(0) + 2, size=(100, 2))
X_test = np.concatenate([X_normal_test, anomalies])
is_anomaly = np.r_[np.zeros(len(X_normal_test), bool), np.ones(len(anomalies), bool)]

detector = OutlierDetector(n_components=3, contamination=0.02, random_state=0).fit(X_train)
flagged = detector.predict(X_test) == -1
print(f"contamination=0.02: flagged {flagged[~is_anomaly].mean():.1%} of normal rows, "
      f"{flagged[is_anomaly].mean():.1%} of anomalies")

# %%
# Controlling the false-positive rate with held-out normal rows: the threshold makes a row an outlier exactly
# when its conformal p-value is at most ``fpr``.
fpr = 0.01
threshold = detector.threshold_for_fpr(X_val, fpr)
p_values = detector.p_values(X_test, X_val)
flagged = p_values <= fpr
print(f"fpr={fpr}: threshold {threshold:.2f}; flagged {flagged[~is_anomaly].mean():.1%} of normal rows, "
      f"{flagged[is_anomaly].mean():.1%} of anomalies")
assert np.array_equal(flagged, detector.score_samples(X_test) < threshold)

# %%
# Left: the log-density over the plane with the threshold's contour. Right: the p-values of normal rows are
# uniform; those of anomalies pile up near 0.
low, high = X_test.min(axis=0), X_test.max(axis=0)
xx, yy = np.meshgrid(np.linspace(low[0], high[0], 200), np.linspace(low[1], high[1], 200))
grid = np.c_[xx.ravel(), yy.ravel()]
zz = detector.score_samples(grid).reshape(xx.shape)

fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5))
mesh = left.contourf(xx, yy, np.maximum(zz, threshold - 10), levels=20, cmap="Blues_r")
left.contour(xx, yy, zz, levels=[threshold], colors="red")
left.scatter(*X_normal_test.T, s=6, c="k", label="normal")
left.scatter(*anomalies.T, s=20, marker="x", c="orange", label="anomaly")
left.set_title(f"log p(x) and the threshold for a {fpr:.0%} false-positive rate")
left.legend(loc="upper right")
fig.colorbar(mesh, ax=left)
bins = np.linspace(0, 1, 21)
right.hist(p_values[~is_anomaly], bins=bins, alpha=0.6, label="normal rows")
right.hist(p_values[is_anomaly], bins=bins, alpha=0.6, label="anomalies")
right.set_xlabel("conformal p-value")
right.legend()
fig.tight_layout()

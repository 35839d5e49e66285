"""
Speaker verification with a GMM-UBM and MAP adaptation
======================================================

The classic recipe of Reynolds, Quatieri & Dunn (2000): fit one large *universal background model* (UBM) on
frames pooled from many speakers, derive each enrolled speaker's model from it by MAP adaptation of the means
(:func:`gaussmix.map_adapt`: a few seconds of speech move only the components they touch), and accept a test
segment when the log-likelihood ratio between the speaker's model and the UBM
(:func:`gaussmix.log_likelihood_ratio`) is high.

Frames here are synthetic: every speaker shifts the means of a common 8-component, 6-dimensional mixture by a
speaker-specific amount.
"""

import matplotlib.pyplot as plt
import numpy as np

import gaussmix
from gaussmix.datasets import make_mixture

rng = np.random.default_rng(6)
_, _, voice = make_mixture(1, n_components=8, n_features=6, covariance_type="diag", separation=2.0,
                           random_state=6)


def speaker_offsets():
    return 0.25 * rng.standard_normal(voice.means.shape)


def frames(offsets, n):
    component = rng.choice(len(voice.weights), size=n, p=voice.weights)
    std = np.sqrt(voice.covariances[component])
    return voice.means[component] + offsets[component] + std * rng.standard_normal((n, voice.means.shape[1]))


# %%
# The UBM: 40 background speakers, 300 frames each, 32 diagonal components.
background = np.concatenate([frames(speaker_offsets(), 300) for _ in range(40)])
ubm = gaussmix.GaussianMixture(32, covariance_type="diag", random_state=0).fit(background)

# %%
# Enrolment and trials: 10 target speakers with 200 enrolment frames; each is tested on 5 of its own segments
# (genuine trials) and on 5 segments of unseen impostors, 100 frames per segment.
genuine, impostor = [], []
for _ in range(10):
    offsets = speaker_offsets()
    model = gaussmix.map_adapt(ubm, frames(offsets, 200), relevance_factor=16, update="m")
    for _ in range(5):
        genuine.append(gaussmix.log_likelihood_ratio(model, ubm, frames(offsets, 100)))
        impostor.append(gaussmix.log_likelihood_ratio(model, ubm, frames(speaker_offsets(), 100), top_c=5))
genuine, impostor = np.array(genuine), np.array(impostor)
print(f"mean LLR: genuine {genuine.mean():.3f}, impostor {impostor.mean():.3f} nats per frame")

# %%
# ``top_c=5`` scores each frame with only its 5 best UBM components in both models (the standard fast scoring);
# the impostor scores above used it. Equal error rate: the threshold where as many impostors are accepted as
# genuine speakers rejected.
thresholds = np.sort(np.r_[genuine, impostor])
false_reject = np.array([(genuine < t).mean() for t in thresholds])
false_accept = np.array([(impostor >= t).mean() for t in thresholds])
eer_index = np.argmin(np.abs(false_reject - false_accept))
print(f"equal error rate ≈ {(false_reject[eer_index] + false_accept[eer_index]) / 2:.1%}")

fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
bins = np.linspace(thresholds[0], thresholds[-1], 25)
left.hist(genuine, bins=bins, alpha=0.6, label="genuine")
left.hist(impostor, bins=bins, alpha=0.6, label="impostor")
left.axvline(thresholds[eer_index], color="k", ls="--", label="EER threshold")
left.set_xlabel("log-likelihood ratio per frame")
left.legend()
right.plot(false_accept, false_reject)
right.set_xlabel("false acceptance rate")
right.set_ylabel("false rejection rate")
right.set_title("error trade-off")
fig.tight_layout()

"""gaussmix: Gaussian mixture models by exact EM over sufficient statistics."""

__version__ = "0.1.0"

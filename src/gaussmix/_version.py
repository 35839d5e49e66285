"""The package version, in a module of its own so that every layer (io's model files too) can import it."""

__version__ = "0.1.0"

"""nas_core: the engines behind the efficient-estimator study kit (see README.md)."""
__version__ = "0.1.0"

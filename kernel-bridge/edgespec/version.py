"""The package version, in a module of its own so that capture can name its producer
without importing the package's __init__ (which imports capture)."""
__version__ = "0.1.0"

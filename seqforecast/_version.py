"""The package's version (also in pyproject.toml), written into model files."""
__version__ = "0.1.0"

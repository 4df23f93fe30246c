"""Package version (single source: pyproject.toml's version is kept equal; a test checks)."""

__version__ = "0.1.0"

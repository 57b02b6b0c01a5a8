"""The package version (its own module, so the disk cache and the CLI can read it
without importing the package's face)."""
__version__ = "0.1.0"

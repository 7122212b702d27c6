"""warroom: a full-screen terminal dashboard for the person running a production incident.

See ARCHITECTURE.md for the map of the packages. ``__version__`` is the one place the
version is written: pyproject.toml reads it from here, ``warroom --version`` prints it.
"""
__version__ = "0.1.0"

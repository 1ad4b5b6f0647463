"""The package version, in a module of its own so internal modules can import it
without importing the package root.

Examples
--------
>>> from camb_notebook._version import __version__
>>> __version__.count(".")
2
"""

__version__ = "0.1.0"

"""The version of camb_notebook, in a module of its own so internals never import the root."""

__version__ = "0.1.0"

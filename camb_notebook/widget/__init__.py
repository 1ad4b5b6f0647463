"""The notebook widget: upload clips, follow their separation, compare the stems.

Examples
--------
>>> from camb_notebook.widget import SeparationWidget
>>> w = SeparationWidget()  # doctest: +SKIP
"""

from ._widget import SeparationWidget

__all__ = ["SeparationWidget"]

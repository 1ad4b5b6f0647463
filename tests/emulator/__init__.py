"""Test helpers: a fault-injecting CAMB.AI emulator and an upload sink, both on 127.0.0.1.

>>> from tests.emulator import Emulator
>>> with Emulator() as emu:  # doctest: +SKIP
...     emu.fail_next("submit", 429, retry_after=1)
"""

from .receiver import Receiver
from .server import DEFAULT_KEY, READONLY_KEY, Emulator, Fault

__all__ = ["DEFAULT_KEY", "READONLY_KEY", "Emulator", "Fault", "Receiver"]

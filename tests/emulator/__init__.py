"""Test helpers: a fault-injecting CAMB.AI emulator (``from tests.emulator import Emulator``)."""

from .server import DEFAULT_KEY, READONLY_KEY, Emulator, Fault

__all__ = ["DEFAULT_KEY", "READONLY_KEY", "Emulator", "Fault"]

"""Who is calling: one key per person, read from a file, and an optional admin key.

The keys file has one ``name key`` pair per line (``#`` starts a comment). Tasks belong
to the *name*, so a person whose key is replaced in the file keeps their tasks. Only
names ever reach logs, metrics or answers; keys are looked up by their SHA-256 digest,
so no comparison leaks how much of a guessed key was right.

Examples
--------
>>> ring = KeyRing.from_text("alice k-alice-0001\\nbob   k-bob-00002\\n", admin_key="k-root-0003")
>>> ring.caller("k-bob-00002")
Caller(name='bob', admin=False)
>>> ring.caller("k-root-0003").admin, ring.caller("nope")
(True, None)
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from .._exceptions import ConfigurationError, register_secret

__all__ = ["ADMIN", "ANONYMOUS", "DEFAULT", "Caller", "KeyRing"]

log = logging.getLogger("camb_notebook.engine")

#: The name of the caller when the engine has no keys at all (loopback only).
ANONYMOUS = "anonymous"
#: The name of ``--api-key``, the single shared key.
DEFAULT = "default"
#: The name of ``--admin-key``.
ADMIN = "admin"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@+-]{0,63}$")
_MIN_KEY = 8


@dataclass(frozen=True)
class Caller:
    """A known caller: the name their tasks are filed under, and whether they see all."""

    name: str
    admin: bool = False

    def sees(self, owner: str) -> bool:
        """Whether this caller may see a task of *owner*."""
        return self.admin or owner == self.name


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


class KeyRing:
    """The engine's keys: ``{digest: Caller}``, replaced whole on :meth:`reload`.

    Parameters
    ----------
    entries : dict[str, str]
        ``{name: key}`` of the people.
    admin_key : str, optional
        A key that sees every task and the per-key load.
    path : Path, optional
        The keys file, read again by :meth:`reload` (e.g. on SIGHUP).

    A ring without any key lets every caller in as :data:`ANONYMOUS`.
    """

    def __init__(
        self,
        entries: dict[str, str],
        *,
        api_key: str | None = None,
        admin_key: str | None = None,
        path: Path | None = None,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self._api_key = api_key
        self._admin_key = admin_key
        # Swapped as one reference: a reload from a signal handler needs no lock.
        self._table = self._build(entries)

    @classmethod
    def from_text(
        cls, text: str, *, admin_key: str | None = None, source: str = "keys file"
    ) -> KeyRing:
        """A ring from the text of a keys file (see :func:`parse_keys`)."""
        return cls(parse_keys(text, source), admin_key=admin_key)

    @classmethod
    def load(
        cls,
        path: Path | None = None,
        *,
        api_key: str | None = None,
        admin_key: str | None = None,
    ) -> KeyRing:
        """The ring of a keys file, plus the single *api_key* (named :data:`DEFAULT`)."""
        entries = parse_keys(Path(path).read_text(), str(path)) if path is not None else {}
        return cls(entries, api_key=api_key, admin_key=admin_key, path=path)

    def _build(self, entries: dict[str, str]) -> dict[bytes, Caller]:
        table: dict[bytes, Caller] = {}
        if self._api_key:
            if DEFAULT in entries:
                raise ConfigurationError(
                    f"the keys file names someone {DEFAULT!r}, the name of --api-key's key; "
                    "rename them or drop --api-key",
                    setting="keys_file",
                    value=str(self.path),
                )
            entries = {**entries, DEFAULT: self._api_key}
        for name, key in entries.items():
            register_secret(key)
            digest = _digest(key)
            if digest in table:
                raise ConfigurationError(
                    f"{name!r} has the same key as {table[digest].name!r}; every person needs "
                    "a key of their own",
                    setting="keys_file",
                )
            table[digest] = Caller(name)
        if self._admin_key:
            register_secret(self._admin_key)
            digest = _digest(self._admin_key)
            if digest in table:
                raise ConfigurationError(
                    f"the admin key is also the key of {table[digest].name!r}; give the admin "
                    "a key of its own",
                    setting="admin_key",
                )
            table[digest] = Caller(ADMIN, admin=True)
        return table

    @property
    def open(self) -> bool:
        """True when the engine has no key at all: everyone is :data:`ANONYMOUS`."""
        return not self._table

    @property
    def names(self) -> list[str]:
        """The names of the people (not the admin), sorted."""
        return sorted(c.name for c in self._table.values() if not c.admin)

    def caller(self, key: str | None) -> Caller | None:
        """The caller holding *key*; None for a missing or unknown key on a keyed engine."""
        if self.open:
            return Caller(ANONYMOUS)
        if not key:
            return None
        return self._table.get(_digest(key))

    def reload(self) -> bool:
        """Read the keys file again; on a bad file keep the current keys and log why.

        Safe to call from a signal handler: the new table replaces the old in one step.
        Returns whether the keys changed to the file's.
        """
        if self.path is None:
            return False
        try:
            table = self._build(parse_keys(self.path.read_text(), str(self.path)))
        except (OSError, ConfigurationError) as exc:
            log.error("keys file not reloaded, the current keys stay in force: %s", exc)
            return False
        self._table = table
        log.info("keys reloaded from %s: %d people", self.path, len(self.names))
        return True


def parse_keys(text: str, source: str = "keys file") -> dict[str, str]:
    """``{name: key}`` from lines of ``name key``; blank lines and ``# comments`` are skipped.

    Raises
    ------
    ConfigurationError
        Naming the line of a malformed entry, a bad or repeated name, or a repeated key.

    Examples
    --------
    >>> parse_keys("# class of 2025\\nana  s3cret-ana\\n")
    {'ana': 's3cret-ana'}
    """
    entries: dict[str, str] = {}
    owners: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        where = f"{source}, line {number}"
        if len(parts) != 2:
            raise ConfigurationError(
                f"{where}: expected `name key` (two words), found {len(parts)} word(s)",
                setting="keys_file",
            )
        name, key = parts
        if not _NAME.match(name):
            raise ConfigurationError(
                f"{where}: name {name!r} must be 1-64 letters, digits or _.@+- "
                "(starting with a letter or digit)",
                setting="keys_file",
            )
        if name in (ADMIN, ANONYMOUS):
            raise ConfigurationError(
                f"{where}: the name {name!r} is reserved; pick another", setting="keys_file"
            )
        if len(key) < _MIN_KEY:
            raise ConfigurationError(
                f"{where}: the key of {name!r} is {len(key)} characters, fewer than "
                f"{_MIN_KEY}; use a long random one (python -c 'import secrets; "
                "print(secrets.token_urlsafe(24))')",
                setting="keys_file",
            )
        if name in entries:
            raise ConfigurationError(f"{where}: {name!r} appears twice", setting="keys_file")
        if key in owners:
            raise ConfigurationError(
                f"{where}: {name!r} has the same key as {owners[key]!r}; every person needs "
                "a key of their own",
                setting="keys_file",
            )
        entries[name] = key
        owners[key] = name
    return entries

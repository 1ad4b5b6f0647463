"""Result links that expire: ``?expires=<unix time>&signature=<HMAC>``, like pre-signed URLs.

A link is a capability: whoever has it may fetch that stem, without a key, until it
expires. The signature covers the file id, the stem and the expiry, not the extension,
so one link serves the stem in every lossless format (``foreground.flac`` or ``.wav``).
The secret lives beside a persistent engine's database, so links survive a restart.

Examples
--------
>>> signer = UrlSigner(b"0" * 32)
>>> query = signer.sign("AbCdEfGhIjKlMnOp", "foreground", expires=2_000_000_000)
>>> signer.check("AbCdEfGhIjKlMnOp", "foreground", **query, now=1_900_000_000) is None
True
>>> print(signer.check("AbCdEfGhIjKlMnOp", "background", **query, now=1_900_000_000))
this result link was altered or truncated (its signature does not match); ask the status ...
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import os
import secrets
import time
from pathlib import Path

__all__ = ["UrlSigner"]

_SECRET_BYTES = 32


class UrlSigner:
    """Sign and check result links with one secret (HMAC-SHA256).

    Parameters
    ----------
    secret : bytes
    """

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the signing secret must be at least 16 bytes")
        self._secret = secret

    def __repr__(self) -> str:
        return "UrlSigner(<secret>)"

    @classmethod
    def in_folder(cls, folder: Path) -> UrlSigner:
        """The signer whose secret is ``folder/signing.key``, created (mode 0600) if missing."""
        path = folder / "signing.key"
        if not path.exists():
            part = path.with_name(f"signing.key.{os.getpid()}.part")
            fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(secrets.token_bytes(_SECRET_BYTES))
            with contextlib.suppress(FileExistsError):
                os.link(part, path)  # the first writer wins; others read its secret
            part.unlink()
        return cls(path.read_bytes())

    @classmethod
    def ephemeral(cls) -> UrlSigner:
        """A signer with a fresh random secret (links die with the process)."""
        return cls(secrets.token_bytes(_SECRET_BYTES))

    def _mac(self, file_id: str, stem: str, expires: int) -> str:
        message = f"{file_id}/{stem}\n{expires}".encode()
        digest = hmac.new(self._secret, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()

    def sign(self, file_id: str, stem: str, expires: int) -> dict[str, str]:
        """The query parameters that make a link to *stem* of *file_id* valid until *expires*."""
        return {"expires": str(int(expires)), "signature": self._mac(file_id, stem, int(expires))}

    def check(
        self,
        file_id: str,
        stem: str,
        expires: str | None,
        signature: str | None,
        now: float | None = None,
    ) -> str | None:
        """None when the link is valid, else the reason it is not (for a 403 body)."""
        fresh = "ask the status call or the result call for a fresh link"
        if not expires or not signature:
            return f"this result link is not signed (expires and signature are required); {fresh}"
        try:
            when = int(expires)
        except ValueError:
            return f"this result link's expiry {expires[:20]!r} is not a time; {fresh}"
        if not hmac.compare_digest(self._mac(file_id, stem, when), signature):
            return (
                "this result link was altered or truncated (its signature does not match); " + fresh
            )
        now = time.time() if now is None else now
        if now > when:
            stamp = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(when))
            return f"this result link expired at {stamp}; {fresh}"
        return None

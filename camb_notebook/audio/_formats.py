"""Which audio formats we accept, and how to tell them apart by their first bytes."""

from __future__ import annotations

from pathlib import Path

from .._exceptions import AudioDecodeError, AudioFormatError

__all__ = [
    "ACCEPT",
    "EXTENSIONS",
    "FORMATS_TEXT",
    "FORMAT_NAMES",
    "MIME_TYPES",
    "expected_formats",
    "mime_type",
    "sniff_format",
]

#: Format name → what users call it.
FORMAT_NAMES: dict[str, str] = {
    "flac": "FLAC",
    "mp3": "MP3",
    "wav": "WAV",
    "m4a": "AAC/M4A (MP4 container)",
    "aac": "AAC (ADTS stream)",
    "ogg": "OGG (Vorbis or Opus)",
}

#: File extension → the formats whose content may carry it.
EXTENSIONS: dict[str, frozenset[str]] = {
    ".flac": frozenset({"flac"}),
    ".mp3": frozenset({"mp3"}),
    ".wav": frozenset({"wav"}),
    ".wave": frozenset({"wav"}),
    ".m4a": frozenset({"m4a"}),
    ".mp4": frozenset({"m4a"}),
    ".aac": frozenset({"aac", "m4a"}),
    ".ogg": frozenset({"ogg"}),
    ".oga": frozenset({"ogg"}),
    ".opus": frozenset({"ogg"}),
}

#: Format name → the MIME type a file of that format is sent or served with.
MIME_TYPES: dict[str, str] = {
    "flac": "audio/flac",
    "mp3": "audio/mpeg",
    "wav": "audio/wav",
    "m4a": "audio/mp4",
    "aac": "audio/aac",
    "ogg": "audio/ogg",
}

#: The accepted formats in words, for messages and hints.
FORMATS_TEXT = "FLAC, MP3, WAV, AAC/M4A or OGG"
EXPECTED = f"expected {FORMATS_TEXT}"

#: What a browser file picker should offer (``<input accept=...>``): our extensions, any audio.
ACCEPT = ",".join([*EXTENSIONS, "audio/*"])


def _skip_id3(head: bytes) -> bytes:
    """Drop a leading ID3v2 tag (its size is a 28-bit 'syncsafe' integer)."""
    if len(head) >= 10 and head[:3] == b"ID3":
        size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
        footer = 10 if head[5] & 0x10 else 0
        return head[10 + size + footer :]
    return head


def sniff_format(head: bytes) -> str | None:
    """Name the audio format of a file from its first bytes, or ``None``.

    Parameters
    ----------
    head : bytes
        The start of the file; 64 KiB is plenty (more helps past big ID3 tags).

    Returns
    -------
    str or None
        One of ``"flac"``, ``"mp3"``, ``"wav"``, ``"m4a"``, ``"aac"``, ``"ogg"``.

    Examples
    --------
    >>> sniff_format(b"fLaC\\x00\\x00\\x00\\x22")
    'flac'
    >>> sniff_format(b"<html>") is None
    True
    """
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"OggS":
        return "ogg"
    if head[4:8] == b"ftyp":
        return "m4a"
    tagged = head[:3] == b"ID3"
    body = _skip_id3(head)
    if body[:4] == b"fLaC":
        return "flac"
    if len(body) >= 2 and body[0] == 0xFF:
        if body[1] & 0xF6 == 0xF0:  # 12-bit sync, layer 00: ADTS AAC
            return "aac"
        if body[1] & 0xE0 == 0xE0 and (body[1] >> 1) & 0b11:  # 11-bit sync, layer I-III
            return "mp3"
    if tagged and not body:
        return "mp3"  # a tag bigger than the bytes we read: almost always MP3
    return None


def expected_formats(path: str | Path) -> frozenset[str] | None:
    """The formats a file's extension promises, or ``None`` for no/unknown extension."""
    return EXTENSIONS.get(Path(path).suffix.lower())


def mime_type(fmt: str | None = None, path: str | Path | None = None) -> str:
    """The MIME type for a format name, else for a file's extension.

    Examples
    --------
    >>> mime_type("mp3"), mime_type(path="stem.flac"), mime_type(path="notes.txt")
    ('audio/mpeg', 'audio/flac', 'application/octet-stream')
    """
    if fmt in MIME_TYPES:
        return MIME_TYPES[fmt]
    if path is not None:
        promised = expected_formats(path)
        if promised:
            return MIME_TYPES[min(promised)]  # .aac → "aac" before "m4a"
    return "application/octet-stream"


# The three errors that both probe() and load() raise, worded once.
def no_such_file(path: Path) -> AudioFormatError:
    return AudioFormatError(
        f"{path}: no such file; check the path", exception_reason="SOURCE_TYPE_NOT_SUPPORTED"
    )


def empty_file(name: str) -> AudioDecodeError:
    return AudioDecodeError(
        f"{name}: the file is empty (0 bytes); pick the file again or re-export it",
        exception_reason="INVALID_SOURCE_DATA",
    )


def not_audio(name: str) -> AudioFormatError:
    return AudioFormatError(
        f"{name}: the content is not audio in a supported format ({EXPECTED})",
        exception_reason="SOURCE_TYPE_NOT_SUPPORTED",
    )


def cannot_decode(name: str, exc: BaseException) -> AudioDecodeError:
    return AudioDecodeError(
        f"{name}: cannot decode the audio ({exc}); re-export or re-download the file",
        exception_reason="INVALID_SOURCE_DATA",
    )


def truncated(
    name: str, fmt: str, stopped_at: float, promised: float | None = None, detail: str = ""
) -> AudioDecodeError:
    """The error for audio that ends before it should: names the file and where it stops.

    ``stopped_at`` (seconds) is kept on the error as ``.stopped_at``.
    """
    of = f" of the {promised:.2f} s it should hold" if promised else ""
    why = f" ({detail})" if detail else ""
    return AudioDecodeError(
        f"{name}: truncated or corrupt {FORMAT_NAMES.get(fmt, fmt)}: decoding stopped at "
        f"{stopped_at:.2f} s{of}{why}; re-export or re-download the file",
        exception_reason="INVALID_SOURCE_DATA",
        stopped_at=stopped_at,
    )

"""What a container's own bytes say about its length: facts the decoders do not report.

Each function reads a few bytes of a file's head or tail, never the audio:

- :func:`wav_declared_frames`: the length a WAV header promises (a cut file holds less).
- :func:`ogg_cut_page`: whether an Ogg file's last page was cut off.
- :func:`mp3_has_frame_count`: whether an MP3 starts with a Xing/Info/VBRI header that
  counts its frames (then its duration is a promise, not an estimate from the bitrate).
- :func:`itunes_smpb`: the gapless numbers (priming, padding, length) of an ``iTunSMPB`` tag.
"""

from __future__ import annotations

import struct
from typing import BinaryIO, NamedTuple

from ._formats import _skip_id3

__all__ = [
    "Smpb",
    "itunes_smpb",
    "mp3_has_frame_count",
    "ogg_cut_page",
    "wav_data_chunk",
    "wav_declared_frames",
]


def wav_data_chunk(f: BinaryIO, size: int) -> tuple[int, int] | None:
    """``(offset, declared bytes)`` of a RIFF/WAVE file's ``data`` chunk, or ``None``.

    ``declared bytes`` is -1 for RF64 and streaming headers whose size field is a
    placeholder (0 or 0xFFFFFFFF): they promise nothing.
    """
    f.seek(0)
    riff = f.read(12)
    pos = 12
    while pos + 8 <= size:
        f.seek(pos)
        chunk_id, chunk_size = struct.unpack("<4sI", f.read(8))
        if chunk_id == b"data":
            if riff[:4] != b"RIFF" or chunk_size in (0, 0xFFFFFFFF):
                return pos, -1
            return pos, chunk_size
        pos += 8 + chunk_size + (chunk_size & 1)
    return None


def wav_declared_frames(f: BinaryIO, size: int, block_align: int) -> int | None:
    """Frames the WAV header promises, or ``None`` when it promises nothing."""
    found = wav_data_chunk(f, size)
    if found is None or found[1] < 0 or block_align <= 0:
        return None
    return found[1] // block_align


def _ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ _OGG_CRC_TABLE[((crc >> 24) ^ byte) & 0xFF]
    return crc


def _ogg_crc_table() -> list[int]:
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else (r << 1)
        table.append(r & 0xFFFFFFFF)
    return table


_OGG_CRC_TABLE = _ogg_crc_table()


def _ogg_page_end(tail: bytes, at: int) -> int | None:
    """End offset (in ``tail``) of a whole, checksum-valid Ogg page starting at ``at``."""
    if at + 27 > len(tail) or tail[at + 4] != 0:
        return None
    nsegs = tail[at + 26]
    if at + 27 + nsegs > len(tail):
        return None
    end = at + 27 + nsegs + sum(tail[at + 27 : at + 27 + nsegs])
    if end > len(tail):
        return None
    page = bytearray(tail[at:end])
    stored = struct.unpack_from("<I", page, 22)[0]
    page[22:26] = b"\x00\x00\x00\x00"
    return end if _ogg_crc(bytes(page)) == stored else None


def ogg_cut_page(f: BinaryIO, size: int) -> bool:
    """True when an Ogg file ends inside a page: the file was cut short.

    The last whole page (found by its checksum, so ``OggS`` inside audio data is not
    mistaken for a page) is followed by the start of another page that the file does
    not hold. Decoders drop such a page silently, so this is the only sign of the cut.
    """
    window = min(size, 1 << 17)  # a page is at most 65 307 bytes
    f.seek(size - window)
    tail = f.read(window)
    at = tail.rfind(b"OggS")
    while at >= 0:
        end = _ogg_page_end(tail, at)
        if end is not None:
            rest = tail[end:]
            return rest[:4] == b"OggS" or (0 < len(rest) < 4 and b"OggS".startswith(rest))
        at = tail.rfind(b"OggS", 0, at)
    return False


def mp3_has_frame_count(head: bytes) -> bool:
    """Whether the first MP3 frame is a Xing/Info or VBRI header that counts the frames.

    Examples
    --------
    >>> mp3_has_frame_count(b"\\xff\\xfb\\x90\\x00" + bytes(32) + b"Xing\\x00\\x00\\x00\\x01")
    True
    """
    body = _skip_id3(head)
    if len(body) < 4 or body[0] != 0xFF or body[1] & 0xE0 != 0xE0:
        return False
    mpeg1 = (body[1] >> 3) & 0b11 == 0b11
    mono = (body[3] >> 6) == 0b11
    side_info = (17 if mono else 32) if mpeg1 else (9 if mono else 17)
    tag = body[4 + side_info : 4 + side_info + 8]
    if tag[:4] in (b"Xing", b"Info") and len(tag) == 8:
        return bool(struct.unpack(">I", tag[4:])[0] & 1)
    return body[36:40] == b"VBRI"


class Smpb(NamedTuple):
    """The gapless numbers of an ``iTunSMPB`` tag, in samples of the decoded audio."""

    priming: int
    padding: int
    length: int


def itunes_smpb(value: str | None) -> Smpb | None:
    """Parse an ``iTunSMPB`` value (`` 00000000 PRIMING PADDING LENGTH …`` in hex).

    Examples
    --------
    >>> itunes_smpb(" 00000000 00000840 000001C0 0000000000046A00 00000000")
    Smpb(priming=2112, padding=448, length=289280)
    >>> itunes_smpb("garbage") is None
    True
    """
    if not value:
        return None
    fields = value.split()
    try:
        priming, padding, length = (int(x, 16) for x in fields[1:4])
    except (ValueError, IndexError):
        return None
    return Smpb(priming, padding, length) if length > 0 else None

"""Edit the boxes of an M4A that FFmpeg wrote, to make the gapless variants other encoders
write: an ``iTunSMPB`` tag (iTunes), no edit list (older encoders).

Only for files whose ``moov`` box comes after ``mdat`` (FFmpeg's default), so that growing
``moov`` moves no sample data.
"""

from __future__ import annotations

import struct

_CONTAINERS = {"moov", "trak", "mdia", "minf", "stbl", "udta", "meta", "ilst", "edts"}


def _boxes(data: bytes, start: int, end: int):
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
            header = 16
        elif size == 0:
            size = end - pos
        yield kind.decode("latin-1"), pos, header, size
        pos += size


def _find(data: bytes, path: list[str], start: int = 0, end: int | None = None):
    """``[(offset, size), …]`` of each box along ``path``, or ``None``."""
    end = len(data) if end is None else end
    for kind, pos, header, size in _boxes(data, start, end):
        if kind == path[0]:
            body = pos + header + (4 if kind == "meta" else 0)  # meta is a full box
            if len(path) == 1:
                return [(pos, size)]
            rest = _find(data, path[1:], body, pos + size)
            if rest:
                return [(pos, size), *rest]
    return None


def _atom(kind: str, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind.encode("latin-1")) + payload


def add_itunsmpb(data: bytes, priming: int, padding: int, length: int) -> bytes:
    """Append an iTunes ``----:com.apple.iTunes:iTunSMPB`` tag to ``moov/udta/meta/ilst``."""
    chain = _find(data, ["moov", "udta", "meta", "ilst"])
    assert chain, "no ilst box to add the tag to"
    moov = chain[0][0]
    assert _find(data, ["mdat"])[0][0] < moov, "moov must come after mdat"
    value = f" 00000000 {priming:08X} {padding:08X} {length:016X}" + " 00000000" * 8
    tag = _atom(
        "----",
        _atom("mean", bytes(4) + b"com.apple.iTunes")
        + _atom("name", bytes(4) + b"iTunSMPB")
        + _atom("data", struct.pack(">II", 1, 0) + value.encode()),
    )
    ilst_pos, ilst_size = chain[-1]
    out = bytearray(data[: ilst_pos + ilst_size] + tag + data[ilst_pos + ilst_size :])
    for pos, size in chain:
        struct.pack_into(">I", out, pos, size + len(tag))
    return bytes(out)


def drop_edit_list(data: bytes) -> bytes:
    """Turn ``moov/trak/edts`` into a ``free`` box: the file loses its edit list."""
    chain = _find(data, ["moov", "trak", "edts"])
    assert chain, "no edit list"
    pos = chain[-1][0]
    out = bytearray(data)
    out[pos + 4 : pos + 8] = b"free"
    return bytes(out)

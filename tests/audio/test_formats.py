"""The list of formats, their MIME types, and telling them apart by their first bytes."""

from __future__ import annotations

from pathlib import Path

import pytest

from camb_notebook import audio
from camb_notebook._exceptions import AudioDecodeError, AudioFormatError
from camb_notebook.audio._formats import (
    empty_file,
    expected_formats,
    no_such_file,
    not_audio,
)


@pytest.mark.parametrize(
    ("fmt", "mime"),
    [
        ("flac", "audio/flac"),
        ("mp3", "audio/mpeg"),
        ("wav", "audio/wav"),
        ("m4a", "audio/mp4"),
        ("aac", "audio/aac"),
        ("ogg", "audio/ogg"),
    ],
)
def test_mime_type_of_every_format(fmt: str, mime: str) -> None:
    assert audio.mime_type(fmt) == mime
    assert audio.MIME_TYPES[fmt] == mime


@pytest.mark.parametrize(
    ("path", "mime"),
    [
        ("stem.flac", "audio/flac"),
        ("SONG.MP3", "audio/mpeg"),  # extensions are compared without case
        ("take.wave", "audio/wav"),
        ("voice.opus", "audio/ogg"),
        ("voice.oga", "audio/ogg"),
        ("clip.mp4", "audio/mp4"),
        ("clip.aac", "audio/aac"),  # .aac may hold ADTS or MP4; ADTS is what the name says
        ("notes.txt", "application/octet-stream"),
        ("no_extension", "application/octet-stream"),
    ],
)
def test_mime_type_from_a_path(path: str, mime: str) -> None:
    assert audio.mime_type(path=path) == mime
    assert audio.mime_type(path=Path("/music") / path) == mime


def test_mime_type_prefers_the_format_and_falls_back_to_bytes() -> None:
    # The format found in the content wins over what the name claims.
    assert audio.mime_type("flac", path="mislabelled.mp3") == "audio/flac"
    assert audio.mime_type("webm", path="stem.wav") == "audio/wav"  # unknown format: the name
    assert audio.mime_type("webm") == audio.mime_type() == "application/octet-stream"


def test_every_extension_promises_formats_we_name() -> None:
    assert set(audio.FORMAT_NAMES) == set(audio.MIME_TYPES)
    for ext, formats in audio.EXTENSIONS.items():
        assert ext.startswith(".") and ext == ext.lower()
        assert formats <= set(audio.FORMAT_NAMES), ext
    assert expected_formats("x.AAC") == {"aac", "m4a"}
    assert expected_formats("x.xyz") is None and expected_formats("x") is None
    assert audio.ACCEPT.split(",") == [*audio.EXTENSIONS, "audio/*"]
    assert audio.FORMATS_TEXT == "FLAC, MP3, WAV, AAC/M4A or OGG"


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        (b"RF64\xff\xff\xff\xffWAVE", "wav"),  # 64-bit WAV
        (b"RIFF\x00\x00\x00\x00AVI ", None),  # RIFF, but a video
        (b"\x00\x00\x00\x18ftypisom", "m4a"),
        (b"\xff\xf9\x50\x80", "aac"),  # ADTS, MPEG-2 sync
        (b"\xff\xfa\x90\x00", "mp3"),  # MPEG-1 layer III without CRC flag
        (b"\xff\xf3\x90\x00", "mp3"),  # MPEG-2 layer III
        (b"\xff\xfd\x90\x00", "mp3"),  # layer II
        (b"\xff\xe1\x00\x00", None),  # sync bits with "reserved" layer 00: neither
        (b"\xff", None),  # one byte is not a frame header
        (b"\xfe\xfb\x90\x00", None),
        (b"ID3\x04\x00\x00\x00\x00\x00\x7f", "mp3"),  # a tag longer than what was read
        (b"ID3\x04\x00\x10\x00\x00\x00\x00" + bytes(10) + b"fLaC", "flac"),  # with a footer
        (b"ID3\x04\x00\x0f\x00\x00\x00\x00" + b"fLaC", "flac"),  # other flags: no footer
        (b"ID3\x04\x00\x00\x00\x00\x01\x00" + bytes(128) + b"OggS", None),  # Ogg is never tagged
        (b"ID3\x04\x00\x00\x00\x00\x00\x05" + bytes(5) + b"junk", None),  # tag, then no audio
        (b"ID3", None),  # too short to be a tag
    ],
)
def test_sniff_format_edges(head: bytes, fmt: str | None) -> None:
    assert audio.sniff_format(head) == fmt


def test_id3_size_is_a_syncsafe_integer() -> None:
    """Each size byte carries 7 bits: 0x01 0x00 means 128 bytes, not 256."""
    tag = b"ID3\x04\x00\x00\x00\x00\x01\x00" + bytes(128)
    assert audio.sniff_format(tag + b"fLaC") == "flac"
    assert audio.sniff_format(tag[:-1] + b"fLaC") is None  # one byte short: no magic there
    big = b"ID3\x04\x00\x00\x00\x01\x00\x00" + bytes(1 << 14)  # 0x01 in the third byte: 2**14
    assert audio.sniff_format(big + b"fLaC" + bytes(1 << 14)) == "flac"
    huge = b"ID3\x04\x00\x00\x01\x00\x00\x00" + bytes(1 << 21)
    assert audio.sniff_format(huge + b"fLaC") == "flac"
    giant = b"ID3\x04\x00\x00\x08\x00\x00\x00"  # claims 16 MiB, none of them read
    assert audio.sniff_format(giant) == "mp3"  # tag larger than the head read: MP3 by habit


def test_the_shared_errors_name_the_file_and_the_fix(tmp_path: Path) -> None:
    missing = no_such_file(tmp_path / "gone.wav")
    assert isinstance(missing, AudioFormatError)
    assert str(missing) == f"{tmp_path / 'gone.wav'}: no such file; check the path"
    assert missing.exception_reason == "SOURCE_TYPE_NOT_SUPPORTED"
    empty = empty_file("blank.flac")
    assert isinstance(empty, AudioDecodeError) and empty.exception_reason == "INVALID_SOURCE_DATA"
    assert (
        str(empty) == "blank.flac: the file is empty (0 bytes); pick the file again or re-export it"
    )
    junk = not_audio("notes.mp3")
    assert isinstance(junk, AudioFormatError)
    assert junk.exception_reason == "SOURCE_TYPE_NOT_SUPPORTED"
    assert str(junk) == (
        "notes.mp3: the content is not audio in a supported format "
        "(expected FLAC, MP3, WAV, AAC/M4A or OGG)"
    )


def test_decode_errors_name_the_file_the_format_and_where_it_stops() -> None:
    from camb_notebook.audio._formats import cannot_decode, truncated

    e = cannot_decode("song.flac", ValueError("bad frame"))
    assert str(e) == (
        "song.flac: cannot decode the audio (bad frame); re-export or re-download the file"
    )
    assert e.exception_reason == "INVALID_SOURCE_DATA"
    e = truncated("cut.mp3", "mp3", 1.234, 5.0, "last page cut")
    assert str(e) == (
        "cut.mp3: truncated or corrupt MP3: decoding stopped at 1.23 s of the 5.00 s it should "
        "hold (last page cut); re-export or re-download the file"
    )
    assert (e.exception_reason, e.stopped_at) == ("INVALID_SOURCE_DATA", 1.234)
    # Nothing promised, no detail, a format without a display name: only what is known.
    e = truncated("x.raw", "raw", 0.5)
    assert str(e) == (
        "x.raw: truncated or corrupt raw: decoding stopped at 0.50 s; "
        "re-export or re-download the file"
    )
    assert (e.exception_reason, e.stopped_at) == ("INVALID_SOURCE_DATA", 0.5)

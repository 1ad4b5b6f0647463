from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from camb_notebook import audio
from camb_notebook._exceptions import AudioDecodeError, AudioFormatError, LimitExceededError

from .conftest import audio_exts


@pytest.mark.parametrize("ext", audio_exts())
def test_probe_identifies_every_supported_format(clips: dict[str, Path], ext: str) -> None:
    info = audio.probe(clips[ext])
    assert info.format == ext
    assert info.channels == 2
    assert info.sample_rate in (44100, 48000)  # Opus always decodes at 48 kHz
    assert info.duration == pytest.approx(2.0, abs=0.06)
    assert info.size == clips[ext].stat().st_size


def test_adts_aac_with_aac_extension(tmp_path: Path, clips: dict[str, Path]) -> None:
    import av

    out = tmp_path / "clip.aac"
    with av.open(str(clips["m4a"])) as src, av.open(str(out), "w", format="adts") as dst:
        stream = dst.add_stream_from_template(src.streams.audio[0])
        for packet in src.demux(src.streams.audio[0]):
            if packet.size:
                packet.stream = stream
                dst.mux(packet)
    info = audio.probe(out)
    assert info.format == "aac"
    assert info.duration == pytest.approx(2.0, abs=0.1)
    x, sr = audio.load(out)
    assert x.shape[0] == 2 and sr == 44100


def test_empty_file(tmp_path: Path) -> None:
    p = tmp_path / "empty.wav"
    p.write_bytes(b"")
    with pytest.raises(AudioDecodeError, match=r"empty\.wav: the file is empty") as e:
        audio.probe(p)
    assert e.value.exception_reason == "INVALID_SOURCE_DATA"


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AudioFormatError, match="no such file"):
        audio.probe(tmp_path / "nope.wav")


def test_non_audio_content(tmp_path: Path) -> None:
    p = tmp_path / "notes.mp3"
    p.write_text("<html><body>this is a web page, not a song</body></html>" * 50)
    with pytest.raises(AudioFormatError, match=r"notes\.mp3: the content is not audio") as e:
        audio.probe(p)
    assert e.value.exception_reason == "SOURCE_TYPE_NOT_SUPPORTED"
    assert "FLAC, MP3, WAV, AAC/M4A or OGG" in str(e.value)


def test_unsupported_extension(tmp_path: Path, clips: dict[str, Path]) -> None:
    p = tmp_path / "song.xyz"
    shutil.copy(clips["wav"], p)
    with pytest.raises(AudioFormatError, match=r"song\.xyz: extension '\.xyz' is not"):
        audio.probe(p)


def test_content_does_not_match_extension(tmp_path: Path, clips: dict[str, Path]) -> None:
    p = tmp_path / "really_flac.mp3"
    shutil.copy(clips["flac"], p)
    with pytest.raises(AudioFormatError, match="extension says MP3 but the content is FLAC") as e:
        audio.probe(p)
    assert e.value.exception_reason == "CONTENT_DOES_NOT_MATCH_EXTENSION"


def test_file_without_extension_is_judged_by_content(
    tmp_path: Path, clips: dict[str, Path]
) -> None:
    p = tmp_path / "upload"
    shutil.copy(clips["flac"], p)
    assert audio.probe(p).format == "flac"


@pytest.mark.parametrize("ext", ["wav", "flac", "m4a"])
def test_truncated_file(tmp_path: Path, clips: dict[str, Path], ext: str) -> None:
    data = clips[ext].read_bytes()
    p = tmp_path / f"cut.{ext}"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(AudioDecodeError, match=rf"cut\.{ext}: .*(truncated|corrupt)") as e:
        audio.probe(p)
    assert e.value.exception_reason == "INVALID_SOURCE_DATA"


def test_header_only_flac_is_rejected(tmp_path: Path, clips: dict[str, Path]) -> None:
    p = tmp_path / "header.flac"
    p.write_bytes(clips["flac"].read_bytes()[:200])
    with pytest.raises(AudioDecodeError):
        audio.probe(p)


def test_garbage_after_valid_magic(tmp_path: Path) -> None:
    p = tmp_path / "fake.ogg"
    p.write_bytes(b"OggS" + bytes(range(256)) * 40)
    with pytest.raises(AudioDecodeError, match=r"fake\.ogg"):
        audio.probe(p)


def test_too_long(clips: dict[str, Path]) -> None:
    with pytest.raises(LimitExceededError, match=r"2\.0 s is longer than the limit of 1 s") as e:
        audio.probe(clips["flac"], audio.Limits(max_duration=1))
    assert e.value.exception_reason == "SOURCE_TOO_LONG"


def test_too_large(clips: dict[str, Path]) -> None:
    with pytest.raises(LimitExceededError, match=r"larger than the limit of 1\.0 KB") as e:
        audio.probe(clips["wav"], audio.Limits(max_bytes=1000))
    assert e.value.exception_reason == "SOURCE_TOO_LARGE"


def test_too_short(clips: dict[str, Path]) -> None:
    with pytest.raises(LimitExceededError, match="shorter than the minimum of 5 s"):
        audio.probe(clips["wav"], audio.Limits(min_duration=5))


def test_errors_are_value_errors_and_camb_errors(tmp_path: Path) -> None:
    from camb_notebook import CambError

    p = tmp_path / "x.wav"
    p.write_bytes(b"nothing")
    with pytest.raises(ValueError):
        audio.probe(p)
    with pytest.raises(CambError):
        audio.probe(p)


@pytest.mark.parametrize(
    ("head", "fmt"),
    [
        (b"RIFF\x00\x00\x00\x00WAVE", "wav"),
        (b"fLaC", "flac"),
        (b"OggS\x00", "ogg"),
        (b"\x00\x00\x00\x20ftypM4A ", "m4a"),
        (b"\xff\xfb\x90\x00", "mp3"),
        (b"\xff\xf1\x50\x80", "aac"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x02\x00\x00\xff\xfb", "mp3"),
        (b"ID3\x04\x00\x00\x00\x00\x00\x00fLaC", "flac"),
        (b"PK\x03\x04", None),
        (b"", None),
    ],
)
def test_sniff_format(head: bytes, fmt: str | None) -> None:
    assert audio.sniff_format(head) == fmt

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


# -- every field, every message, every boundary ----------------------------------------------

#: (codec, sample rate, frames) probe reports for the 2 s clips (44.1 kHz stereo) our encoders
#: write. MP3 only to within one MP3 frame (1152 samples): the encoder pads the last frame and
#: the packets' timestamps include it; the stream's start (the encoder delay) is subtracted.
PROBED = {
    "wav": ("float", 44100, 88200),
    "flac": ("pcm_24", 44100, 88200),
    "mp3": ("mp3float", 44100, None),
    "m4a": ("aac", 44100, 88200),
    "ogg": ("opus", 48000, 96000),  # Opus always decodes at 48 kHz
}


@pytest.mark.parametrize("ext", audio_exts())
def test_probe_reports_path_codec_rate_and_frames(clips: dict[str, Path], ext: str) -> None:
    info = audio.probe(clips[ext])
    codec, sr, frames = PROBED[ext]
    assert (info.path, info.codec, info.sample_rate, info.channels) == (clips[ext], codec, sr, 2)
    if frames is None:
        assert abs(info.frames - 88200) <= 1152, info.frames
    else:
        assert info.frames == frames
    assert info.duration == info.frames / info.sample_rate


def test_probe_of_a_compressed_clip_shorter_than_a_second(tmp_path: Path) -> None:
    from .conftest import SR, tone_mix

    for ext in ("mp3", "m4a"):
        info = audio.probe(audio.save(tmp_path / f"short.{ext}", tone_mix()[:, : SR // 2], SR))
        assert abs(info.frames - SR // 2) <= 1152, (ext, info.frames)
    # Exact for Opus: the packets' timestamps say 0.5 s, the container's duration is 312 samples
    # (Opus's pre-skip) longer and must not replace them, however short the clip.
    info = audio.probe(audio.save(tmp_path / "short.ogg", tone_mix()[:, : SR // 2], SR))
    assert (info.sample_rate, info.frames) == (48000, 24000)


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "0 bytes"),
        (999, "999 bytes"),
        (1000, "1.0 KB"),
        (999_949, "999.9 KB"),
        (1_500_000, "1.5 MB"),
        (2_000_000_000, "2.0 GB"),
        (3_000_000_000_000, "3000.0 GB"),  # no unit past GB
    ],
)
def test_sizes_in_messages(n: int, text: str) -> None:
    from camb_notebook.audio._probe import _fmt_bytes

    assert _fmt_bytes(n) == text


def test_limits_are_inclusive(clips: dict[str, Path]) -> None:
    """A clip exactly at a limit passes: 2.0 s under max 2 s and min 2 s, size at max_bytes."""
    size = clips["wav"].stat().st_size
    info = audio.probe(clips["wav"], audio.Limits(max_duration=2, min_duration=2, max_bytes=size))
    assert info.duration == 2.0
    with pytest.raises(LimitExceededError, match="larger than the limit"):
        audio.probe(clips["wav"], audio.Limits(max_bytes=size - 1))


def test_too_short_says_by_how_much(clips: dict[str, Path]) -> None:
    with pytest.raises(
        LimitExceededError,
        match=r"clip\.wav: 2\.00 s is shorter than the minimum of 5 s; use a longer clip",
    ) as e:
        audio.probe(clips["wav"], audio.Limits(min_duration=5))
    assert e.value.exception_reason == "SOURCE_TOO_SHORT"


def test_too_long_says_what_to_do(clips: dict[str, Path]) -> None:
    with pytest.raises(LimitExceededError, match=r"limit of 1 s; split the clip or trim it$"):
        audio.probe(clips["flac"], audio.Limits(max_duration=1))


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(AudioFormatError, match=r"nope\.wav: no such file; check the path") as e:
        audio.probe(tmp_path / "nope.wav")
    assert str(tmp_path) in str(e.value)


def test_unsupported_extension_reason(tmp_path: Path, clips: dict[str, Path]) -> None:
    p = tmp_path / "song.xyz"
    shutil.copy(clips["wav"], p)
    with pytest.raises(AudioFormatError) as e:
        audio.probe(p)
    assert e.value.exception_reason == "SOURCE_TYPE_NOT_SUPPORTED"


def _wav_header(chunks: bytes) -> bytes:
    import struct

    fmt = struct.pack("<4sIHHIIHH", b"fmt ", 16, 1, 2, 8000, 8000 * 4, 4, 16)
    body = b"WAVE" + fmt + chunks
    return b"RIFF" + struct.pack("<I", len(body)) + body


def test_wav_without_a_data_chunk(tmp_path: Path) -> None:
    p = tmp_path / "nodata.wav"
    p.write_bytes(_wav_header(b"LIST\x04\x00\x00\x00INFO"))
    with pytest.raises(
        AudioDecodeError, match=r"nodata\.wav: WAV file has no audio data chunk; re-export"
    ) as e:
        audio.probe(p)
    assert e.value.exception_reason == "INVALID_SOURCE_DATA"


def test_wav_with_no_samples_and_with_one(tmp_path: Path) -> None:
    import struct

    empty = tmp_path / "silence.wav"
    empty.write_bytes(_wav_header(b"data" + struct.pack("<I", 0)))
    with pytest.raises(
        AudioDecodeError, match=r"silence\.wav: the file holds no audio samples"
    ) as e:
        audio.probe(empty)
    assert e.value.exception_reason == "INVALID_SOURCE_DATA"
    one = tmp_path / "one.wav"
    one.write_bytes(_wav_header(b"data" + struct.pack("<I", 4) + b"\x01\x00\x02\x00"))
    info = audio.probe(one)
    assert (info.frames, info.sample_rate, info.channels, info.codec) == (1, 8000, 2, "pcm_16")


@pytest.mark.parametrize(("cut", "missing"), [(1, "1 bytes"), (176_400, "176.4 KB")])
def test_truncated_wav_says_how_much_is_missing(
    tmp_path: Path, clips: dict[str, Path], cut: int, missing: str
) -> None:
    from camb_notebook.audio._containers import wav_data_chunk

    data = clips["wav"].read_bytes()
    p = tmp_path / "cut.wav"
    p.write_bytes(data[:-cut])
    with clips["wav"].open("rb") as f:
        declared = wav_data_chunk(f, len(data))[1]
    assert declared == 705_600  # 2 s of 32-bit float stereo
    with pytest.raises(
        AudioDecodeError,
        match=rf"cut\.wav: truncated WAV: the header promises 705\.6 KB of audio but the file "
        rf"ends {missing} early; re-export or re-download the file",
    ) as e:
        audio.probe(p)
    assert e.value.exception_reason == "INVALID_SOURCE_DATA"


def test_cut_flac_message(tmp_path: Path, clips: dict[str, Path]) -> None:
    data = clips["flac"].read_bytes()
    p = tmp_path / "cut.flac"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(
        AudioDecodeError,
        match=r"cut\.flac: the FLAC data is corrupt or truncated \(.*\); re-export or "
        r"re-download the file",
    ) as e:
        audio.probe(p)
    assert e.value.exception_reason == "INVALID_SOURCE_DATA"


def test_corrupt_compressed_file_message(tmp_path: Path) -> None:
    p = tmp_path / "fake.ogg"
    p.write_bytes(b"OggS" + bytes(range(256)) * 40)
    with pytest.raises(
        AudioDecodeError, match=r"fake\.ogg: .*OGG.*; re-export or re-download the file$"
    ) as e:
        audio.probe(p)
    assert e.value.exception_reason == "INVALID_SOURCE_DATA"


def test_an_mp4_without_audio_is_refused(tmp_path: Path) -> None:
    import av

    p = tmp_path / "video.m4a"
    with av.open(str(p), "w", format="mp4") as out:
        stream = out.add_stream("mpeg4", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 64, "yuv420p"
        frame = av.VideoFrame(64, 64, "yuv420p")
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    with pytest.raises(AudioFormatError, match=r"video\.m4a: the file holds no audio stream") as e:
        audio.probe(p)
    assert e.value.exception_reason == "SOURCE_TYPE_NOT_SUPPORTED"


# -- compressed files: what probe decodes, and of which stream -------------------------------


def test_an_m4a_whose_only_packet_is_encoder_delay_is_refused(tmp_path: Path) -> None:
    """One sample of AAC is all priming: the decoder drops it and yields no frame at all."""
    from .conftest import SR, tone_mix

    p = audio.save(tmp_path / "one.m4a", tone_mix()[:, :1], SR)
    with pytest.raises(
        AudioDecodeError,
        match=r"^one\.m4a: no decodable audio in this AAC/M4A \(MP4 container\) file; "
        r"re-export or re-download the file$",
    ) as e:
        audio.probe(p)
    assert e.value.exception_reason == "INVALID_SOURCE_DATA"


def _damage_mp3_frame(src: Path, dst: Path, index: int) -> Path:
    """A copy of *src* whose MP3 frame *index* keeps its header but has a garbage body."""
    import av

    with av.open(str(src)) as c:
        frames = [(p.pos, p.size) for p in c.demux(c.streams.audio[0]) if p.size]
    pos, size = frames[index]
    data = bytearray(src.read_bytes())
    data[pos + 4 : pos + size] = b"\x55" * (size - 4)
    dst.write_bytes(data)
    return dst


def test_damage_in_the_first_eight_mp3_frames_is_refused(
    tmp_path: Path, clips: dict[str, Path]
) -> None:
    # The eighth frame is the last one probe decodes: damage there is still found.
    p = _damage_mp3_frame(clips["mp3"], tmp_path / "bad.mp3", 7)
    with pytest.raises(AudioDecodeError, match=r"bad\.mp3: the MP3 data is corrupt") as e:
        audio.probe(p)
    assert e.value.exception_reason == "INVALID_SOURCE_DATA"


def test_probe_decodes_only_the_head(tmp_path: Path, clips: dict[str, Path]) -> None:
    """Probing must stay cheap on long files: past the eighth frame packets are only demuxed,
    so damage there is left to the decoder (``load``), which reports it in context."""
    p = _damage_mp3_frame(clips["mp3"], tmp_path / "late.mp3", 8)
    assert audio.probe(p).frames == audio.probe(clips["mp3"]).frames


def test_a_video_is_probed_by_its_audio_stream(tmp_path: Path) -> None:
    """Only the audio stream's packets count: a longer picture track does not lengthen it."""
    import av

    from .conftest import SR, tone_mix

    p = tmp_path / "film.mp4"
    with av.open(str(p), "w", format="mp4") as out:
        sound = out.add_stream("aac", rate=SR)
        sound.layout = "stereo"
        picture = out.add_stream("mpeg4", rate=25)
        picture.width, picture.height, picture.pix_fmt = 64, 64, "yuv420p"
        frame = av.AudioFrame.from_ndarray(tone_mix(1.0), format="fltp", layout="stereo")
        frame.sample_rate = SR
        for packet in [*sound.encode(frame), *sound.encode(None)]:
            out.mux(packet)
        for i in range(75):  # 3 s of picture
            image = av.VideoFrame(64, 64, "yuv420p")
            image.pts = i
            out.mux(picture.encode(image))
        out.mux(picture.encode(None))
    info = audio.probe(p)
    assert (info.format, info.codec, info.sample_rate, info.channels) == ("m4a", "aac", SR, 2)
    # 1 s, give or take the AAC encoder's one frame of padding (1024 samples).
    assert abs(info.frames - SR) <= 1024, info.frames


def test_probe_reads_only_the_head(tmp_path: Path) -> None:
    """Sniffing the format reads 64 KiB, never the whole file (memory is a feature)."""
    import struct
    import tracemalloc

    n = 32_000_000  # 1000 s of 16-bit stereo at 8 kHz, as a sparse file of zeros
    p = tmp_path / "long.wav"
    with p.open("wb") as f:
        f.write(_wav_header(b"data" + struct.pack("<I", n)))
        f.truncate(f.tell() + n)
    tracemalloc.start()
    try:
        info = audio.probe(p)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert info.frames == n // 4
    assert peak < 4_000_000, peak

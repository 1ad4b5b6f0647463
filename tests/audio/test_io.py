from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from camb_notebook import audio
from camb_notebook._exceptions import AudioDecodeError, AudioFormatError, InputError

from .conftest import SR, audio_exts, tone_mix


@pytest.mark.parametrize("ext", audio_exts())
def test_load_every_format_matches_the_signal(clips: dict[str, Path], ext: str) -> None:
    x = tone_mix()
    y, sr = audio.load(clips[ext], sr=SR)
    assert sr == SR and y.dtype == np.float32 and y.shape[0] == 2
    stems = audio.Stems.from_arrays(x, y, np.zeros_like(y), SR)  # aligns codec delay
    lossless = ext in ("wav", "flac")
    assert audio.sdr(x, stems.foreground) > (60 if lossless else 8)


def test_load_bytes_and_mono(clips: dict[str, Path]) -> None:
    y, sr = audio.load(clips["flac"].read_bytes(), mono=True)
    assert y.shape == (1, 2 * SR) and sr == SR


def test_load_resamples(clips: dict[str, Path]) -> None:
    y, sr = audio.load(clips["wav"], sr=16000)
    assert sr == 16000 and y.shape == (2, 32000)


def test_load_offset_and_duration_cut_the_exact_window(tmp_path: Path) -> None:
    import soundfile as sf

    rate, n = 8000, 8000 * 3
    ramp = (np.arange(2 * n, dtype=np.float32) / (2 * n)).reshape(2, n)  # every sample differs
    path = tmp_path / "ramp.wav"
    sf.write(path, ramp.T, rate, subtype="FLOAT")

    x, sr = audio.load(path, offset=0.5, duration=1.25)
    assert sr == rate and np.array_equal(x, ramp[:, 4000:14000])
    assert np.array_equal(audio.load(path, offset=2.5)[0], ramp[:, 20000:])  # to the end
    assert np.array_equal(audio.load(path, duration=0.25)[0], ramp[:, :2000])
    assert np.array_equal(audio.load(path, offset=2.0, duration=5.0)[0], ramp[:, 16000:])  # cut
    assert audio.load(path, offset=1.0, duration=0.0)[0].shape == (2, 0)
    # The window is taken after resampling and mixing down: the same samples as the whole.
    whole, _ = audio.load(path, sr=16000, mono=True)
    part, sr = audio.load(path, sr=16000, mono=True, offset=1.0, duration=0.5)
    assert sr == 16000 and part.shape == (1, 8000)
    np.testing.assert_allclose(part, whole[:, 16000:24000], atol=1e-5)


@pytest.mark.parametrize(("offset", "duration"), [(-0.5, None), (0.0, -1.0)])
def test_load_refuses_a_negative_offset_or_duration(
    tmp_path: Path, offset: float, duration: float | None
) -> None:
    path = audio.save(tmp_path / "a.wav", np.zeros((2, 800), np.float32), 8000)
    with pytest.raises(
        InputError, match=rf"offset={offset}, duration={duration}: both must be >= 0"
    ):
        audio.load(path, offset=offset, duration=duration)


def test_load_rejects_non_audio(tmp_path: Path) -> None:
    p = tmp_path / "a.wav"
    p.write_bytes(b"hello world")
    with pytest.raises(AudioFormatError, match="not audio"):
        audio.load(p)


def test_load_rejects_corrupt(tmp_path: Path) -> None:
    p = tmp_path / "bad.mp3"
    p.write_bytes(b"\xff\xfb\x90\x00" + b"\x00" * 10)
    with pytest.raises(AudioDecodeError, match=r"bad\.mp3"):
        audio.load(p)


def test_save_flac_roundtrip_is_lossless_to_24_bits(tmp_path: Path) -> None:
    x = tone_mix(0.5)
    p = audio.save(tmp_path / "out" / "x.flac", x, SR)
    y, _ = audio.load(p)
    assert np.max(np.abs(x - y)) < 2**-22
    assert not list(p.parent.glob("*.part"))


def test_save_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="format='xyz'"):
        audio.save(tmp_path / "x.xyz", tone_mix(0.1), SR)


def test_preview_is_ogg_opus_and_compact() -> None:
    x = tone_mix(10.0)
    data = audio.encode_preview(x, SR, bitrate=48000)
    assert data[:4] == b"OggS"
    assert len(data) < 10 * 48000 / 8 * 1.2  # about the bitrate, never WAV-sized
    y, sr = audio.load(data)
    assert sr == 48000 and y.shape[0] == 2
    assert abs(y.shape[1] / sr - 10.0) < 0.05


def test_preview_of_mono_and_multichannel() -> None:
    assert audio.encode_preview(tone_mix(1.0, channels=1), SR)[:4] == b"OggS"
    six = np.zeros((6, SR), np.float32)
    assert audio.encode_preview(six, SR)[:4] == b"OggS"


def test_resample_rejects_bad_rate() -> None:
    with pytest.raises(InputError, match="sr_in=0"):
        audio.resample(np.zeros((1, 10), np.float32), 0, 44100)


#: Lossy codecs at their default bitrates on the test tones, measured after codec-delay
#: alignment; far below what a broken encoder (silence, wrong channels, noise) gives.
LOSSY_SDR = 8


@pytest.mark.parametrize("fmt", ["wav", "flac", "mp3", "m4a", "ogg"])
def test_encode_writes_the_format_and_the_signal(fmt: str) -> None:
    x = tone_mix(1.0)
    data = audio.encode(x, SR, fmt)
    assert isinstance(data, bytes) and audio.sniff_format(data) == fmt
    y, sr = audio.load(data)
    assert sr == (48000 if fmt == "ogg" else SR)  # Opus only runs at 48 kHz
    assert y.shape[0] == 2
    if fmt == "wav":  # 32-bit float: bit-exact
        assert np.array_equal(y, x)
    elif fmt == "flac":  # 24-bit
        assert y.shape == x.shape and np.max(np.abs(y - x)) <= 2.0**-23
    else:
        y, _ = audio.load(data, sr=SR)
        stems = audio.Stems.from_arrays(x, y, np.zeros_like(y), SR)  # aligns codec delay
        assert audio.sdr(x, stems.foreground) > LOSSY_SDR


def test_encode_mono_and_one_dimensional_input() -> None:
    x = tone_mix(0.5)[0]
    for fmt in ("wav", "mp3", "ogg"):
        y, _ = audio.load(audio.encode(x, SR, fmt))
        assert y.shape[0] == 1, fmt


def test_encode_honours_the_bitrate() -> None:
    x = tone_mix(2.0) + 0.1 * np.random.default_rng(0).standard_normal((2, 2 * SR), np.float32)
    for fmt in ("mp3", "m4a", "ogg"):
        small = len(audio.encode(x, SR, fmt, bitrate=48_000))
        large = len(audio.encode(x, SR, fmt, bitrate=192_000))
        assert large > 2 * small, (fmt, small, large)
        # Within a fifth of the asked-for rate (headers and container overhead aside).
        assert small * 8 / 2.0 == pytest.approx(48_000, rel=0.2), fmt


def test_encode_refuses_what_it_cannot_write() -> None:
    with pytest.raises(InputError, match=r"format='aiff' is not one we encode \(choose wav"):
        audio.encode(tone_mix(0.1), SR, "aiff")
    surround = np.zeros((6, SR), np.float32)
    with pytest.raises(InputError, match="only mono and stereo can be encoded, got 6 channels"):
        audio.encode(surround, SR, "mp3")
    y, _ = audio.load(audio.encode(surround, SR, "flac"))  # lossless formats take any count
    assert y.shape == (6, SR)
    with pytest.raises(InputError, match=r"shaped \(channels, samples\)"):
        audio.encode(np.zeros((1, 2, 3)), SR, "wav")

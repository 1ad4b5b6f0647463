from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from camb_notebook import audio
from camb_notebook._exceptions import AudioDecodeError, InputError
from camb_notebook.audio._reader import resampled_length

from ._mp4edit import add_itunsmpb, drop_edit_list
from .conftest import SR, broadband, lag, run_ffmpeg

# Longer than two of the PyAV decoder's 10 s segments, and not a whole number of frames.
SECONDS = 23.417
N = round(SECONDS * SR)


@pytest.fixture(scope="session")
def source() -> np.ndarray:
    return broadband(SECONDS)


@pytest.fixture(scope="session")
def made(tmp_path_factory: pytest.TempPathFactory, source: np.ndarray) -> dict[str, Path]:
    """The source clip encoded by our own encoders (PyAV/libsndfile), keyed by extension."""
    root = tmp_path_factory.mktemp("made")
    return {
        ext: audio.save(root / f"clip.{ext}", source, SR, bitrate=128000)
        for ext in ("wav", "flac", "mp3", "m4a", "ogg")
    }


@pytest.fixture(scope="session")
def by_ffmpeg(
    tmp_path_factory: pytest.TempPathFactory, source: np.ndarray, made: dict[str, Path], ffmpeg: str
) -> dict[str, Path]:
    """The same clip encoded by the ffmpeg command line, as users make their files."""
    root = tmp_path_factory.mktemp("ffmpeg")
    codecs = {
        "m4a": ["-c:a", "aac", "-b:a", "128k"],
        "mp3": ["-c:a", "libmp3lame", "-q:a", "4"],  # VBR, with a LAME info tag
        "aac": ["-c:a", "aac", "-b:a", "128k", "-f", "adts"],
        "ogg": ["-c:a", "libvorbis"],
        "opus": ["-c:a", "libopus"],
    }
    out = {}
    for ext, args in codecs.items():
        out[ext] = root / f"clip.{ext}"
        run_ffmpeg(ffmpeg, "-i", made["wav"], *args, out[ext])
    return out


def _windows(frames: int, seed: int = 0) -> list[tuple[int, int]]:
    """Random windows plus the awkward ones: across segment boundaries, at both ends."""
    rng = np.random.default_rng(seed)
    fixed = [(0, 1), (0, 5000), (10 * SR - 300, 10 * SR + 300), (20 * SR - 1, 20 * SR + 2)]
    fixed += [(frames - 1000, frames), (frames - 1, frames)]
    random = [(int(a), int(a) + int(rng.integers(1, 3 * SR))) for a in rng.integers(0, frames, 8)]
    return [(a, min(b, frames)) for a, b in fixed + random]


@pytest.mark.parametrize("ext", ["m4a", "mp3"])
def test_our_lossy_files_have_the_sources_length_and_timing(
    made: dict[str, Path], source: np.ndarray, ext: str
) -> None:
    with audio.open_audio(made[ext]) as reader:
        assert reader.frames == N
        decoded = reader.read()
    assert lag(source, decoded) == 0
    assert audio.sdr(source, decoded) > 10  # aligned to the sample, not just the same length


@pytest.mark.parametrize("ext", ["m4a", "mp3", "ogg", "opus"])
def test_ffmpeg_made_files_have_the_sources_length_and_timing(
    by_ffmpeg: dict[str, Path], source: np.ndarray, ext: str
) -> None:
    with audio.open_audio(by_ffmpeg[ext]) as reader:
        expected = resampled_length(N, SR, reader.sample_rate)  # Opus is 48 kHz
        assert abs(reader.frames - expected) <= (ext == "opus")  # ffmpeg's resampler rounds up
    with audio.open_audio(by_ffmpeg[ext], sr=SR) as reader:
        decoded = reader.read()[:, : N + 1]
    assert decoded.shape[0] == 2 and decoded.shape[1] - N in ((0, 1) if ext == "opus" else (0,))
    decoded = decoded[:, :N]
    assert lag(source, decoded) == 0
    assert audio.sdr(source, decoded) > 10


def test_m4a_with_itunsmpb_and_no_edit_list_is_gapless(
    tmp_path: Path, by_ffmpeg: dict[str, Path], source: np.ndarray
) -> None:
    """What iTunes-era encoders write: the gapless numbers in a tag, no edit list."""
    data = by_ffmpeg["m4a"].read_bytes()
    padding = -(-(N + 1024) // 1024) * 1024 - 1024 - N
    for name, edited in {
        "both.m4a": add_itunsmpb(data, 1024, padding, N),
        "tag_only.m4a": add_itunsmpb(drop_edit_list(data), 1024, padding, N),
    }.items():
        path = tmp_path / name
        path.write_bytes(edited)
        with audio.open_audio(path) as reader:
            assert reader.frames == N, name
            assert lag(source, reader.read()) == 0, name


def test_m4a_without_any_delay_information_keeps_the_priming(
    tmp_path: Path, by_ffmpeg: dict[str, Path], source: np.ndarray
) -> None:
    path = tmp_path / "bare.m4a"
    path.write_bytes(drop_edit_list(by_ffmpeg["m4a"].read_bytes()))
    with audio.open_audio(path) as reader:
        assert reader.frames == N + 1024  # nothing says the first 1024 are priming
        assert lag(source, reader.read()) == 1024


def test_adts_decodes_as_the_ffmpeg_command_line_does(
    tmp_path: Path, by_ffmpeg: dict[str, Path], ffmpeg: str
) -> None:
    cli = tmp_path / "cli.wav"
    run_ffmpeg(ffmpeg, "-i", by_ffmpeg["aac"], "-c:a", "pcm_f32le", cli)
    expected, _ = audio.load(cli)
    with audio.open_audio(by_ffmpeg["aac"]) as reader:
        assert reader.format == "aac"
        assert reader.frames == expected.shape[1]  # priming and padding kept, as ffmpeg does
        decoded = reader.read()
    assert lag(expected, decoded) == 0
    # The first 10 s segment is decoded as ffmpeg does; later ones start from a
    # fresh decoder, which differs only in the noise FFmpeg's AAC decoder makes up for
    # PNS-coded bands.
    first = 10 * SR
    assert np.max(np.abs(decoded[:, :first] - expected[:, :first])) < 1e-5  # FFmpeg 5 vs 8
    assert audio.sdr(expected, decoded) > 15


@pytest.mark.parametrize("ext", ["wav", "flac", "mp3", "m4a", "ogg"])
def test_windows_and_blocks_equal_a_full_decode(made: dict[str, Path], ext: str) -> None:
    with audio.open_audio(made[ext]) as reader:
        full = reader.read()
        assert full.shape == (2, reader.frames) and full.dtype == np.float32
        for a, b in _windows(reader.frames):
            assert np.array_equal(reader.read(a, b), full[:, a:b]), (a, b)
        blocks = list(reader.blocks(40000))
        assert {b.shape[1] for b in blocks[:-1]} == {40000}
        assert np.array_equal(np.concatenate(blocks, axis=1), full)
        # Consecutive reads continue decoding instead of seeking: same samples.
        step = 12345
        parts = [reader.read(a, a + step) for a in range(0, reader.frames, step)]
        assert np.array_equal(np.concatenate(parts, axis=1), full)


@pytest.mark.parametrize("ext", ["m4a", "mp3", "aac", "ogg", "opus"])
def test_ffmpeg_files_windows_equal_a_full_decode(by_ffmpeg: dict[str, Path], ext: str) -> None:
    with audio.open_audio(by_ffmpeg[ext]) as reader:
        full = reader.read()
        for a, b in _windows(reader.frames, seed=1):
            assert np.array_equal(reader.read(a, b), full[:, a:b]), (a, b)


def test_blocks_and_reads_interleaved_on_one_reader(made: dict[str, Path]) -> None:
    with audio.open_audio(made["m4a"]) as reader:
        full = reader.read()
        blocks = reader.blocks(SR, start=5 * SR)
        for i, block in enumerate(blocks):
            a = 5 * SR + i * SR
            assert np.array_equal(block, full[:, a : a + block.shape[1]])
            w = (17 * i * SR) % (reader.frames - SR)
            assert np.array_equal(reader.read(w, w + 999), full[:, w : w + 999])


def test_seconds_mono_and_on_the_fly_resampling(made: dict[str, Path], source: np.ndarray) -> None:
    with audio.open_audio(made["flac"], sr=48000, mono=True) as reader:
        assert (reader.sample_rate, reader.channels) == (48000, 1)
        whole = audio.resample(source.mean(axis=0, keepdims=True), SR, 48000)
        assert reader.frames == whole.shape[1]
        full = reader.read()
        assert np.max(np.abs(full - whole)) < 1e-4  # 24-bit FLAC, then the same resampler
        for a, b in _windows(reader.frames):
            assert np.max(np.abs(reader.read(a, b) - full[:, a:b])) < 1e-5, (a, b)
        assert reader.read(1.5, 2.0, unit="seconds").shape == (1, 24000)


def test_load_offset_duration_and_bytes(made: dict[str, Path], source: np.ndarray) -> None:
    x, sr = audio.load(made["wav"], offset=2.0, duration=0.5)
    assert sr == SR and np.array_equal(x, source[:, 2 * SR : 2 * SR + SR // 2])
    y, _ = audio.load(made["m4a"].read_bytes(), offset=12.0, duration=1.0)
    with audio.open_audio(made["m4a"]) as reader:
        assert np.array_equal(y, reader.read(12 * SR, 13 * SR))
    assert audio.load(made["flac"], offset=SECONDS + 5)[0].shape == (2, 0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": -1}, r"start=-1, stop=None is not a window of clip\.flac"),
        ({"start": 10, "stop": 5}, r"start=10, stop=5 is not a window"),
        ({"start": 0.5}, r"start=0\.5 is not a whole number of samples; .*unit='seconds'"),
        ({"unit": "ms"}, r"unit='ms' is not one of 'samples' or 'seconds'"),
    ],
)
def test_bad_windows_name_the_value_and_the_fix(
    made: dict[str, Path], kwargs: dict[str, object], message: str
) -> None:
    with audio.open_audio(made["flac"]) as reader, pytest.raises(InputError, match=message):
        reader.read(**kwargs)  # type: ignore[arg-type]


def test_bad_rate_and_block_size(made: dict[str, Path]) -> None:
    with pytest.raises(InputError, match="sr=0 must be a positive"):
        audio.open_audio(made["flac"], sr=0)
    with audio.open_audio(made["flac"]) as reader, pytest.raises(InputError, match="size=0"):
        next(reader.blocks(0))


def _cut(path: Path, to: Path) -> Path:
    data = path.read_bytes()
    to.write_bytes(data[: len(data) // 2])
    return to


@pytest.mark.parametrize("ext", ["wav", "flac", "mp3", "ogg"])
def test_a_file_cut_in_the_middle_names_where_decoding_stops(
    tmp_path: Path, made: dict[str, Path], ext: str
) -> None:
    cut = _cut(made[ext], tmp_path / f"cut.{ext}")
    with pytest.raises(AudioDecodeError, match=rf"cut\.{ext}: truncated or corrupt") as e:
        audio.open_audio(cut)
    assert e.value.exception_reason == "INVALID_SOURCE_DATA"
    # Half the bytes hold about half the audio (less for Ogg: a cut page is lost whole).
    assert 0.25 * SECONDS < e.value.stopped_at < 0.6 * SECONDS
    assert f"stopped at {e.value.stopped_at:.2f} s" in str(e.value)
    with pytest.raises(AudioDecodeError, match=rf"cut\.{ext}"):
        audio.load(cut)


@pytest.mark.parametrize("ext", ["m4a", "aac", "opus"])
def test_ffmpeg_files_cut_in_the_middle(
    tmp_path: Path, made: dict[str, Path], by_ffmpeg: dict[str, Path], ffmpeg: str, ext: str
) -> None:
    source = by_ffmpeg[ext]
    if ext == "m4a":  # index first, as streaming-friendly M4A files are
        source = tmp_path / "faststart.m4a"
        run_ffmpeg(ffmpeg, "-i", made["wav"], "-c:a", "aac", "-movflags", "+faststart", source)
    cut = _cut(source, tmp_path / f"cut.{ext}")
    with pytest.raises(AudioDecodeError, match=rf"cut\.{ext}: truncated or corrupt") as e:
        audio.open_audio(cut)
    assert 0.25 * SECONDS < e.value.stopped_at < 0.6 * SECONDS


def test_m4a_cut_before_its_index_cannot_be_opened(tmp_path: Path, made: dict[str, Path]) -> None:
    cut = _cut(made["m4a"], tmp_path / "cut.m4a")  # FFmpeg writes the index at the end
    with pytest.raises(AudioDecodeError, match=r"cut\.m4a: .*stopped at 0\.00 s.*cannot open"):
        audio.open_audio(cut)


def test_a_closed_reader_says_so(made: dict[str, Path]) -> None:
    reader = audio.open_audio(made["m4a"])
    reader.close()
    with pytest.raises(InputError, match=r"clip\.m4a: the reader is closed; open the file again"):
        reader.read(0, 10)

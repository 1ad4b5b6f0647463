"""Memory must not grow with the clip's length: a 6-minute clip streams in the same memory as
a 1-minute one. Peak allocations are measured with tracemalloc (numpy reports its arrays to
it), never timed."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from camb_notebook import audio

from .conftest import SR

MB = 1 << 20
pytestmark = pytest.mark.slow


def _write_clip(path: Path, minutes: int, scale: float = 1.0) -> Path:
    """A stereo 44.1 kHz clip written block by block (so making it is bounded too)."""
    rng = np.random.default_rng(minutes)
    with audio.open_writer(path, SR, 2) as w:
        for start in range(0, minutes * 60 * SR, 10 * SR):
            t = (start + np.arange(10 * SR)) / SR
            tone = 0.3 * np.sin(2 * np.pi * 220 * t)
            w.write((scale * (tone + 0.05 * rng.standard_normal((2, t.size)))).astype(np.float32))
    return path


def _loop(src: Path, dst: Path, times: int) -> Path:
    """``src`` (an M4A) played ``times`` times over, by copying its packets: no encoding."""
    import av

    with av.open(str(src)) as inp, av.open(str(dst), "w", format="ipod") as out:
        stream_in = inp.streams.audio[0]
        stream_out = out.add_stream_from_template(stream_in)
        packets = [p for p in inp.demux(stream_in) if p.size]
        span = packets[-1].pts + packets[-1].duration - packets[0].pts
        for i in range(times):
            for p in packets:
                copy = av.Packet(bytes(p))
                copy.pts = copy.dts = p.pts + i * span
                copy.duration = p.duration
                copy.time_base = p.time_base
                copy.stream = stream_out
                out.mux(copy)
    return dst


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("lengths")
    one = _write_clip(root / "one.flac", 1)
    m4a = audio.save(root / "one.m4a", audio.load(one, duration=60.0)[0], SR)
    return {
        "one": one,
        "one_half": _write_clip(root / "one_half.flac", 1, 0.5),
        "six": _write_clip(root / "six.flac", 6),
        "six_half": _write_clip(root / "six_half.flac", 6, 0.5),
        "one.m4a": m4a,
        "six.m4a": _loop(m4a, root / "six.m4a", 6),
    }


def _peak(run: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _assert_flat(short: int, long: int) -> None:
    # A margin no real growth fits under: six times the audio would be six times the peak.
    assert long < 1.5 * short + 4 * MB, f"peak {long / MB:.1f} MB vs {short / MB:.1f} MB"


def test_the_measure_sees_growth(clips: dict[str, Path]) -> None:
    """The same measure on whole-clip decoding: it grows with the clip, so the flat
    results below mean something."""
    short = _peak(lambda: audio.load(clips["one"]))
    long = _peak(lambda: audio.load(clips["six"]))
    assert long > 5 * short


def test_levels_of_file_stems(clips: dict[str, Path]) -> None:
    def levels(length: str) -> Callable[[], object]:
        half = clips[f"{length}_half"]
        return lambda: audio.Stems.from_files(clips[length], half, half).levels()

    _assert_flat(_peak(levels("one")), _peak(levels("six")))


def test_blocks_of_an_m4a(clips: dict[str, Path]) -> None:
    with audio.open_audio(clips["six.m4a"]) as reader:
        assert reader.duration == pytest.approx(360, abs=0.5)  # 6 × (1 min + priming)

    def stream(name: str) -> Callable[[], object]:
        return lambda: sum(float(b[0, 0]) for b in audio.open_audio(clips[name]).blocks())

    _assert_flat(_peak(stream("one.m4a")), _peak(stream("six.m4a")))


def test_resampled_copy_through_a_writer(clips: dict[str, Path], tmp_path: Path) -> None:
    def copy(name: str) -> Callable[[], object]:
        def run() -> None:
            with (
                audio.open_audio(clips[name], sr=48000) as reader,
                audio.open_writer(tmp_path / f"{name}.flac", 48000, 2) as writer,
            ):
                for block in reader.blocks():
                    writer.write(block)

        return run

    _assert_flat(_peak(copy("one")), _peak(copy("six")))

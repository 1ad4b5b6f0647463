"""Detail on demand: tiles of a window at screen resolution, from windowed reads of the files.

Real stem files (FLAC written with soundfile), real file-backed ``Stems``; the service runs
its real thread. What is checked: the pyramid's geometry, that a tile shows what is in its
window (a click at a known time, a tone at a known frequency), that tiles and the lanes' first
pictures share one colour scale, that fine tiles read only their window, that a newer request
supersedes an older one, and that rendering happens off the thread that asked.
"""

from __future__ import annotations

import io
import itertools
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PIL import Image

from camb_notebook._exceptions import InputError
from camb_notebook.audio import Stems
from camb_notebook.widget._media import SPEC_HEIGHT, spectrogram_scale
from camb_notebook.widget._tiles import (
    FMIN,
    SUMMARY_HOP,
    TILE_COLUMNS,
    TileRequest,
    TileService,
    max_level,
    render_tiles,
    tile_bounds,
)

SR = 22050


def _write(tmp: Path, seconds: float = 30.0) -> tuple[Path, Path, Path]:
    """A mix of a 2 kHz tone (foreground) and one click at 12.5 s (background)."""
    n = int(seconds * SR)
    t = np.arange(n) / SR
    fg = 0.3 * np.sin(2 * np.pi * 2000 * t)
    bg = np.zeros(n)
    bg[int(12.5 * SR)] = 0.9
    paths = tmp / "original.flac", tmp / "foreground.flac", tmp / "background.flac"
    for path, x in zip(paths, (fg + bg, fg, bg), strict=True):
        sf.write(path, np.stack([x, x]).T.astype(np.float32), SR)
    return paths


@pytest.fixture
def stems(tmp_path: Path):
    with Stems.from_files(*_write(tmp_path)) as s:
        yield s


def _peaks(tile) -> np.ndarray:
    return np.frombuffer(tile.peaks, dtype="<f4").reshape(2, tile.columns)


def _image(tile) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(tile.png)).convert("L"), dtype=float)


def test_the_pyramid_halves_each_level_and_reaches_sample_level():
    n = 44100 * 600
    assert max_level(n) == 18  # js/test/tiles.test.js says the same
    assert n / 2 ** max_level(n) / TILE_COLUMNS <= 1 / 4  # a sample spans 4+ columns
    for level in (0, 3, 18):
        bounds = [tile_bounds(n, level, i) for i in range(min(2**level, 50))]
        assert bounds[0][0] == 0
        assert all(b[1] == c[0] for b, c in itertools.pairwise(bounds))
    assert tile_bounds(n, 3, 7)[1] == n


def test_a_fine_tile_shows_the_click_in_its_column(stems):
    # Level 9: 512 tiles of ~58.6 ms; the click at 12.5 s falls in tile 213.
    level = 9
    index = int(12.5 * SR // (stems.n_samples / 2**level))
    (tile,) = render_tiles(stems, level, index, ["background"], scale=(-80.0, 0.0))
    env = _peaks(tile)
    column = int((12.5 - tile.t0) / (tile.t1 - tile.t0) * tile.columns)
    assert env[1, column - 1 : column + 2].max() == pytest.approx(0.9, abs=1e-3)
    assert np.count_nonzero(env[1] > 0.5) <= 1  # one click, one column (a sample)
    assert tile.samples_per_column < SUMMARY_HOP
    assert tile.t0 <= 12.5 < tile.t1


def test_the_deepest_tile_is_at_sample_level_with_single_stft_frames_as_blocks(stems):
    level = max_level(stems.n_samples)
    index = int(12.5 * SR // (stems.n_samples / 2**level))
    (tile,) = render_tiles(stems, level, index, ["original"], scale=(-80.0, 0.0))
    assert tile.samples_per_column < 1
    env = _peaks(tile)
    # The 2 kHz tone sampled at 22 050 Hz: about 11 samples per period, each sample
    # repeated over several columns.
    runs = np.count_nonzero(np.diff(env[1]) != 0)
    assert 0 < runs < tile.columns / 3
    # Frames of a 512-sample hop grid are wider than the tile: one frame, flat columns.
    img = _image(tile)
    assert np.allclose(img, img[:, :1], atol=1)


def test_a_tone_lights_its_row_and_the_scale_is_the_lanes_scale(stems):
    scale = spectrogram_scale(Stems(*(stems.read(0, stems.n_samples).original,) * 3, SR))
    (fg,) = render_tiles(stems, 6, 10, ["foreground"], scale=scale)
    img = _image(fg)
    assert img.shape == (SPEC_HEIGHT, TILE_COLUMNS)
    row = int(img.mean(axis=1).argmax())
    # log rows from FMIN to SR/2, row 0 at the top
    top = SPEC_HEIGHT - 1 - row
    hz = FMIN * (SR / 2 / FMIN) ** ((top + 0.5) / SPEC_HEIGHT)
    assert hz == pytest.approx(2000, rel=0.08)
    # A full-scale-ish tone is near the top of the scale, on every level.
    (coarse,) = render_tiles(stems, 1, 0, ["foreground"], scale=scale)
    assert _image(coarse).max() > 200 and img.max() > 200


def test_coarse_tiles_come_from_the_summary_and_agree_with_fine_ones(stems):
    # Level 2 (~7.5 s per tile, 323 samples per column) and level 0 (the whole clip).
    (coarse,) = render_tiles(stems, 0, 0, ["background"], scale=(-80.0, 0.0))
    assert coarse.samples_per_column >= SUMMARY_HOP
    env = _peaks(coarse)
    column = int(12.5 / (stems.n_samples / SR) * TILE_COLUMNS)
    assert env[1, column - 1 : column + 2].max() == pytest.approx(0.9, abs=1e-3)
    assert np.count_nonzero(env[1] > 0.5) == 1


def test_each_tile_is_small(stems):
    for level in (0, 4, 8, 12, max_level(stems.n_samples)):
        for tile in render_tiles(
            stems, level, 0, ["original", "foreground", "background"], scale=(-80.0, 0.0)
        ):
            assert tile.nbytes <= 200_000


def test_fine_tiles_read_only_their_window(tmp_path: Path):
    reads: list[tuple[int, int]] = []

    class Counting(Stems):
        def read(self, start=0, stop=None, *, unit="samples"):
            reads.append((int(start), int(stop)))
            return super().read(start, stop, unit=unit)

    with Stems.from_files(*_write(tmp_path)) as s:
        s.__class__ = Counting
        level = 8
        render_tiles(s, level, 100, ["original", "foreground", "background"], scale=(-80.0, 0.0))
        ((a, b),) = reads  # one read for every lane
        lo, hi = tile_bounds(s.n_samples, level, 100)
        assert a <= lo and b >= hi and (b - a) - (hi - lo) <= 2 * 2048 + 2


def test_bad_levels_indexes_and_lanes_name_the_limit(stems):
    with pytest.raises(InputError, match=r"level=99 is outside 0\.\.\d+"):
        render_tiles(stems, 99, 0, ["original"], scale=(-80.0, 0.0))
    with pytest.raises(InputError, match=r"index=8 is outside 0\.\.7 at level 3"):
        render_tiles(stems, 3, 8, ["original"], scale=(-80.0, 0.0))
    with pytest.raises(InputError, match="lane='drums'"):
        render_tiles(stems, 3, 0, ["drums"], scale=(-80.0, 0.0))


def _collect(service_sent, count, timeout=30.0):
    deadline = time.monotonic() + timeout
    while len(service_sent) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    return list(service_sent)


def test_the_service_renders_off_the_asking_thread_and_a_newer_request_supersedes(tmp_path):
    paths = _write(tmp_path)
    sent: list[tuple[dict, list[bytes], str]] = []
    gate = threading.Event()

    def send(content, buffers):
        gate.wait(10)  # hold the first tile until the newer request is queued
        sent.append((content, buffers, threading.current_thread().name))

    service = TileService(send)
    try:

        def req(request_id, tiles):
            return TileRequest(
                view="v1",
                clip="c1",
                request_id=request_id,
                tiles=tiles,
                lanes=["original", "background"],
                stems=lambda: Stems.from_files(*paths),
                scale=(-80.0, 0.0),
            )

        service.request(req(1, [(8, i) for i in range(40)]))  # a fast zoom's first step…
        service.request(req(2, [(9, i) for i in range(3)]))  # …and where it ended
        service.request(req(1, [(8, 0)]))  # a late, older request: ignored
        gate.set()
        got = _collect(sent, 2 + 6)
        time.sleep(0.3)
        got = list(sent)
        levels = [c["level"] for c, _, _ in got]
        assert levels.count(9) == 6  # three tiles × two lanes of the latest request
        assert levels.count(8) <= 2  # at most the tile already being rendered
        assert service.skipped >= 39
        assert {name for _, _, name in got} == {"camb-tiles"}
        content, buffers, _ = got[-1]
        assert content["type"] == "tile" and content["request_id"] == 2
        assert len(buffers) == 2 and buffers[1][:4] == b"\x89PNG"
        # Asking again costs nothing: the tiles are cached.
        rendered = service.rendered
        service.request(req(3, [(9, 0)]))
        _collect(sent, len(got) + 2)
        assert service.rendered == rendered
    finally:
        service.close()


def test_a_failing_tile_is_reported_not_swallowed(tmp_path):
    paths = _write(tmp_path)
    sent: list[dict] = []
    service = TileService(lambda content, buffers: sent.append(content))
    try:
        service.request(
            TileRequest(
                view="v",
                clip="c",
                request_id=1,
                tiles=[(99, 0)],
                lanes=["original"],
                stems=lambda: Stems.from_files(*paths),
                scale=(-80.0, 0.0),
            )
        )
        (msg,) = _collect(sent, 1)
        assert msg["type"] == "tile-error" and "level=99" in msg["message"]
    finally:
        service.close()


def test_with_nothing_asked_the_thread_completes_the_summary_of_a_zoomed_clip(tmp_path):
    paths = _write(tmp_path)
    sent: list[dict] = []
    service = TileService(lambda content, buffers: sent.append(content))
    try:
        service.request(
            TileRequest(
                view="v",
                clip="c",
                request_id=1,
                tiles=[(9, 200)],
                lanes=["original"],
                stems=lambda: Stems.from_files(*paths),
                scale=(-80.0, 0.0),
            )
        )
        _collect(sent, 1)
        ((_, summary),) = service._sources.values()
        deadline = time.monotonic() + 60
        while summary.missing(["original"]) is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert summary.missing(["original"]) is None  # every chunk made, unasked
        # …and a coarse tile now renders from it without reading the files.
        rendered = service.rendered
        service.request(
            TileRequest(
                view="v",
                clip="c",
                request_id=2,
                tiles=[(1, 0)],
                lanes=["original"],
                stems=lambda: Stems.from_files(*paths),
                scale=(-80.0, 0.0),
            )
        )
        _collect(sent, 2)
        assert service.rendered == rendered + 1
    finally:
        service.close()

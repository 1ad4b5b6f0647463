"""Detail on demand: waveform and spectrogram tiles of a window of a clip, at screen resolution.

The lanes' first pictures (:mod:`._media`) show the whole clip in 1200 columns; on a
10-minute clip one column is half a second. When the browser zooms in it asks for *tiles*:
pieces of a fixed pyramid, where level ``L`` cuts the clip into ``2**L`` tiles of
:data:`TILE_COLUMNS` columns each. Each tile is rendered from a windowed read of the stems
(never the whole clip), with the colour scale shared by every lane, and sent as two binary
buffers: a float32 min/max envelope and a palette PNG.

Fixed tiles (rather than "the visible window") let both sides cache them: panning back, or
zooming out and in again, asks for tiles the browser already holds.

Requests carry ids and are superseded: a :class:`TileService` keeps, per view and clip, only
the latest request, and skips the tiles of an older one it has not rendered yet, so a fast
zoom never queues a hundred renders. Rendering runs on the service's own thread, never on
the thread that handles comm messages.
"""

from __future__ import annotations

import contextvars
import logging
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._exceptions import InputError
from ._media import SPEC_HEIGHT
from ._states import LANES

__all__ = [
    "FMIN",
    "N_FFT",
    "TILE_COLUMNS",
    "Tile",
    "TileRequest",
    "TileService",
    "max_level",
    "render_tiles",
    "tile_bounds",
]

log = logging.getLogger("camb_notebook.widget")

#: Columns of one tile: about half a screen, so a view needs two or three tiles per lane.
TILE_COLUMNS = 512
#: STFT frame length of the tiles: the lanes' first pictures use the same.
N_FFT = 2048
#: Lowest frequency of the log-frequency axis (as in the lanes' first pictures).
FMIN = 30.0
#: The deepest level shows at least this many columns per sample (sample-level waveform).
COLUMNS_PER_SAMPLE = 8
#: Rendered tiles the service keeps (each is ~20–60 KB).
CACHE_BYTES = 48 << 20


def max_level(n_samples: int, columns: int = TILE_COLUMNS) -> int:
    """The deepest level of a clip of ``n_samples``: there a column is 1/8 of a sample.

    Examples
    --------
    >>> max_level(44100 * 600)  # ten minutes at 44.1 kHz
    18
    """
    if n_samples <= 0:
        return 0
    return max(0, math.floor(math.log2(COLUMNS_PER_SAMPLE * n_samples / columns)))


def tile_bounds(n_samples: int, level: int, index: int) -> tuple[int, int]:
    """Sample range ``[a, b)`` of tile ``index`` at ``level`` (``b`` may pass the clip's end
    only for the last tile of a level, never).

    Examples
    --------
    >>> tile_bounds(1000, 1, 1)
    (500, 1000)
    """
    count = 1 << level
    return (index * n_samples) // count, ((index + 1) * n_samples) // count


@dataclass(frozen=True)
class Tile:
    """One lane's tile: what the browser draws over ``[t0, t1)`` of the clip.

    Attributes
    ----------
    lane : str
    level, index : int
        Place in the pyramid (level ``L`` has ``2**L`` tiles).
    t0, t1 : float
        Seconds covered.
    columns : int
    peaks : bytes
        float32 ``(2, columns)`` min/max envelope (mins first), row-major.
    png : bytes
        Palette PNG, ``columns`` wide, low frequencies at the bottom, log-frequency axis
        from :data:`FMIN` to half the sample rate, on the shared colour scale.
    samples_per_column : float
        Below 1 the waveform is at sample level.
    """

    lane: str
    level: int
    index: int
    t0: float
    t1: float
    columns: int
    peaks: bytes
    png: bytes
    samples_per_column: float

    @property
    def nbytes(self) -> int:
        return len(self.peaks) + len(self.png)

    def message(self) -> dict[str, Any]:
        """The JSON part of the tile's message (its buffers are ``[peaks, png]``)."""
        return {
            "lane": self.lane,
            "level": self.level,
            "index": self.index,
            "t0": self.t0,
            "t1": self.t1,
            "columns": self.columns,
            "samples_per_column": self.samples_per_column,
        }


def _read(stems: Any, a: int, b: int, lanes: Sequence[str]) -> dict[str, np.ndarray]:
    """Samples ``[a, b)`` of each lane, zero outside the clip; memory is the window's."""
    n = int(stems.n_samples)
    lo, hi = max(0, a), min(n, b)
    channels = int(stems.channels)
    if hi > lo:
        window = stems.read(lo, hi)
        got = {lane: np.asarray(getattr(window, lane), dtype=np.float32) for lane in lanes}
    else:
        got = {lane: np.zeros((channels, 0), np.float32) for lane in lanes}
    if lo == a and hi == b:
        return got
    out = {}
    for lane, x in got.items():
        full = np.zeros((x.shape[0], b - a), np.float32)
        full[:, lo - a : lo - a + x.shape[1]] = x
        out[lane] = full
    return out


#: Hop of the summary that coarse tiles are drawn from (and of the finest STFT grid).
SUMMARY_HOP = 1024
#: Samples per summary chunk: chunks are made when a tile first needs them, then kept.
SUMMARY_CHUNK = 1 << 18


class _Rows:
    """Magnitude spectrum frames ``(frames, N_FFT // 2 + 1)`` → ``height`` log-frequency rows
    in dB, low first: the rows :func:`camb_notebook.viz.spectrogram_png` makes with
    ``log_freq=True`` (the loudest bin of a wide row; narrow rows interpolate two bins)."""

    def __init__(self, sr: int, height: int) -> None:
        freqs = np.arange(N_FFT // 2 + 1) * (sr / N_FFT)
        edges = np.geomspace(FMIN, float(freqs[-1]), height + 1)
        centres = np.sqrt(edges[:-1] * edges[1:])
        idx = np.searchsorted(freqs, edges)
        idx[-1] = freqs.size
        self.height = height
        self.wide = idx[1:] > idx[:-1]
        self.starts = idx[:-1][self.wide]
        self.stop = int(idx[1:][self.wide][-1]) if self.wide.any() else 0
        pos = np.interp(centres[~self.wide], freqs, np.arange(freqs.size))
        self.lo = np.floor(pos).astype(np.int64)
        self.hi = np.minimum(self.lo + 1, freqs.size - 1)
        self.frac = (pos - self.lo).astype(np.float32)

    def __call__(self, mag: np.ndarray) -> np.ndarray:
        out = np.empty((mag.shape[0], self.height), np.float32)
        if self.wide.any():
            out[:, self.wide] = 20.0 * np.log10(
                np.maximum.reduceat(mag[:, : self.stop], self.starts, axis=1)
            )
        if (~self.wide).any():
            lo, hi = 20.0 * np.log10(mag[:, self.lo]), 20.0 * np.log10(mag[:, self.hi])
            out[:, ~self.wide] = lo * (1 - self.frac) + hi * self.frac
        return out


def _spectra(mono: np.ndarray, origin: int, centres: np.ndarray) -> np.ndarray:
    """Magnitude spectra of frames centred on ``centres`` (``mono`` starts at ``origin``),
    scaled as :func:`camb_notebook.viz.spectrogram_db` scales them (a full-scale sine reads
    0 dB), so tiles and the first pictures share one colour scale."""
    from scipy import fft as sp_fft

    frames = np.lib.stride_tricks.sliding_window_view(mono, N_FFT)[centres - N_FFT // 2 - origin]
    mag = np.abs(sp_fft.rfft(frames * _window(), axis=1))
    return np.maximum(mag, np.float32(1e-6), out=mag)


_WINDOW: list[np.ndarray] = []


def _window() -> np.ndarray:
    if not _WINDOW:
        from scipy.signal import get_window

        w = get_window("hann", N_FFT, fftbins=True).astype(np.float32)
        _WINDOW.append(w * np.float32(2.0 / w.sum()))
    return _WINDOW[0]


def _mono(x: np.ndarray) -> np.ndarray:
    return x[0] if x.shape[0] == 1 else x.mean(axis=0, dtype=np.float32)


@dataclass
class _Chunk:
    """Summary of :data:`SUMMARY_CHUNK` samples of one lane: per :data:`SUMMARY_HOP`
    samples, min/max and one STFT frame (centred on the hop) in log rows, dB."""

    lo: np.ndarray
    hi: np.ndarray
    rows: np.ndarray  # (bins, height) float16 dB

    @property
    def nbytes(self) -> int:
        return self.lo.nbytes + self.hi.nbytes + self.rows.nbytes


class _Summary:
    """Chunks of a clip's summary, made on first use (a tile's windowed read) and kept."""

    def __init__(self, stems: Any, height: int) -> None:
        self.stems = stems
        self.rows = _Rows(int(stems.sr), height)
        self.chunks: dict[tuple[str, int], _Chunk] = {}

    def bins(
        self, lanes: Sequence[str], first: int, stop: int
    ) -> dict[str, tuple[np.ndarray, ...]]:
        """Min, max and rows of summary bins ``[first, stop)`` of each of ``lanes``."""
        per = SUMMARY_CHUNK // SUMMARY_HOP
        c0, c1 = first // per, (stop - 1) // per + 1
        for c in range(c0, c1):
            todo = [lane for lane in lanes if (lane, c) not in self.chunks]
            if todo:
                self._make(todo, c)
        return {lane: self._cut(lane, c0, c1, first, stop) for lane in lanes}

    def missing(self, lanes: Sequence[str]) -> int | None:
        """The first chunk some of ``lanes`` lack, or None when the summary is complete."""
        count = -(-int(self.stems.n_samples) // SUMMARY_CHUNK)
        for c in range(count):
            if any((lane, c) not in self.chunks for lane in lanes):
                return c
        return None

    def _cut(self, lane: str, c0: int, c1: int, first: int, stop: int) -> tuple[np.ndarray, ...]:
        per = SUMMARY_CHUNK // SUMMARY_HOP
        parts = [self.chunks[(lane, c)] for c in range(c0, c1)]
        cut = slice(first - c0 * per, stop - c0 * per)
        return tuple(
            np.concatenate([getattr(p, k) for p in parts])[cut] for k in ("lo", "hi", "rows")
        )

    def _make(self, lanes: list[str], c: int) -> None:
        n = int(self.stems.n_samples)
        # Every lane from one read: file-backed stems decode the three files once.
        a, b = c * SUMMARY_CHUNK, (c + 1) * SUMMARY_CHUNK
        signals = _read(self.stems, a - N_FFT // 2, b + N_FFT // 2, lanes)
        for name, x in signals.items():
            body = x[:, N_FFT // 2 : N_FFT // 2 + SUMMARY_CHUNK]
            if a + SUMMARY_CHUNK > n:  # the clip ends here: no bins past its end
                body = body[:, : max(0, n - a)]
            bins = SUMMARY_CHUNK // SUMMARY_HOP
            flat = body.min(axis=0), body.max(axis=0)
            lo = np.zeros(bins, np.float32)
            hi = np.zeros(bins, np.float32)
            full = flat[0].size // SUMMARY_HOP
            if full:
                lo[:full] = flat[0][: full * SUMMARY_HOP].reshape(full, -1).min(axis=1)
                hi[:full] = flat[1][: full * SUMMARY_HOP].reshape(full, -1).max(axis=1)
            if flat[0].size > full * SUMMARY_HOP:
                lo[full] = flat[0][full * SUMMARY_HOP :].min()
                hi[full] = flat[1][full * SUMMARY_HOP :].max()
            centres = a + (np.arange(bins) * SUMMARY_HOP + SUMMARY_HOP // 2)
            rows = self.rows(_spectra(_mono(x), a - N_FFT // 2, centres))
            self.chunks[(name, c)] = _Chunk(lo, hi, rows.astype(np.float16))


def render_tiles(
    stems: Any,
    level: int,
    index: int,
    lanes: Sequence[str],
    *,
    scale: tuple[float, float],
    columns: int = TILE_COLUMNS,
    height: int = SPEC_HEIGHT,
    summary: _Summary | None = None,
) -> list[Tile]:
    """Render tile ``index`` of ``level`` for each of ``lanes``.

    Fine tiles (a column shorter than :data:`SUMMARY_HOP` samples) come from one windowed
    read of the tile (and half a frame either side); at the deepest levels a column is a
    fraction of a sample and each STFT frame of a clip-wide grid shows as a block. Coarse
    tiles are pooled from the clip's summary (``summary``, made chunk by chunk from windowed
    reads the first time a tile needs a chunk): a 150 s tile would otherwise read 150 s.

    Parameters
    ----------
    stems : camb_notebook.audio.Stems
        Anything with ``read(start, stop)`` (samples) giving a window with the lanes as
        attributes, ``n_samples``, ``channels`` and ``sr``: file-backed stems read only the
        windows asked for.
    level, index : int
        ``0 <= level <= max_level(n)``, ``0 <= index < 2**level``.
    lanes : sequence of str
        Lanes to render (``original``, ``foreground``, ``background``, ``residual``).
    scale : (float, float)
        The clip's shared colour scale in dB (:func:`._media.spectrogram_scale`).
    columns, height : int
        Tile size in pixels.
    summary : optional
        The clip's summary, kept by the caller between tiles (made here when ``None``).

    Returns
    -------
    list of Tile
        One per lane, in the order asked.

    Examples
    --------
    >>> import numpy as np
    >>> from camb_notebook.audio import Stems
    >>> x = np.zeros((1, 8000), np.float32)
    >>> [t.lane for t in render_tiles(Stems(x, x, x, 8000), 0, 0, ["original"],
    ...                               scale=(-80.0, 0.0))]
    ['original']
    """
    from ..viz import peaks, spectrogram_png

    n, sr = int(stems.n_samples), int(stems.sr)
    deepest = max_level(n, columns)
    if not (isinstance(level, int) and 0 <= level <= deepest):
        raise InputError(
            f"level={level!r} is outside 0..{deepest} for this clip ({n} samples)",
            parameter="level",
            value=level,
        )
    if not (isinstance(index, int) and 0 <= index < (1 << level)):
        raise InputError(
            f"index={index!r} is outside 0..{(1 << level) - 1} at level {level}",
            parameter="index",
            value=index,
        )
    for lane in lanes:
        if lane not in LANES:
            raise InputError(
                f"lane={lane!r} is not one of {', '.join(LANES)}", parameter="lane", value=lane
            )
    a, b = tile_bounds(n, level, index)
    per_col = (b - a) / columns
    vmin, vmax = scale
    tiles = []
    if per_col >= SUMMARY_HOP:
        summary = summary if summary is not None else _Summary(stems, height)
        edges = np.floor(a / SUMMARY_HOP + np.arange(columns + 1) * per_col / SUMMARY_HOP)
        edges = edges.astype(np.int64)
        first, stop = int(edges[0]), max(int(edges[-1]), int(edges[0]) + 1)
        starts = np.minimum(edges[:-1], stop - 1) - first
        got = summary.bins(lanes, first, stop)
        for lane in lanes:
            lo, hi, rows = got[lane]
            env = np.stack([np.minimum.reduceat(lo, starts), np.maximum.reduceat(hi, starts)])
            S = np.maximum.reduceat(rows.astype(np.float32), starts, axis=0).T
            tiles.append((lane, env, S))
    else:
        # One frame per column; a column shorter than a hop shows the nearest frame of a
        # clip-wide grid of hops, so single frames show as blocks and tiles agree where
        # they meet. Every sample is in some frame (N_FFT > SUMMARY_HOP > a column).
        hop = N_FFT // 4
        mid = a + (np.arange(columns) + 0.5) * per_col
        if per_col >= hop:
            centres = np.floor(mid).astype(np.int64)
        else:
            centres = (np.rint(mid / hop) * hop).astype(np.int64)
        unique, inverse = np.unique(centres, return_inverse=True)
        lo_s = min(a, int(unique[0]) - N_FFT // 2)
        hi_s = max(b, int(unique[-1]) + N_FFT // 2 + 1)
        signals = _read(stems, lo_s, hi_s, lanes)
        rows = _Rows(sr, height)
        for lane in lanes:
            x = signals[lane]
            env = peaks(x[:, a - lo_s : b - lo_s], columns)
            S = rows(_spectra(_mono(x), lo_s, unique))[inverse].T
            tiles.append((lane, env, S))
    out = []
    for lane, env, S in tiles:
        # S already has `height` log-frequency rows: the PNG step only colours it.
        png = spectrogram_png(S, vmin, vmax, height=height, width=columns)
        out.append(
            Tile(
                lane=lane,
                level=level,
                index=index,
                t0=a / sr,
                t1=b / sr,
                columns=columns,
                peaks=np.ascontiguousarray(env, dtype="<f4").tobytes(),
                png=png,
                samples_per_column=per_col,
            )
        )
    return out


# -- the service: one thread, latest request wins ------------------------------------------


@dataclass
class TileRequest:
    """What one view asked for, for one clip: tiles as ``(level, index)``, lanes, an id."""

    view: str
    clip: str
    request_id: int
    tiles: list[tuple[int, int]]
    lanes: list[str]
    stems: Callable[[], Any]
    scale: tuple[float, float]
    attempt: int = 0
    height: int = SPEC_HEIGHT
    context: contextvars.Context = field(default_factory=contextvars.copy_context)


class TileService:
    """Render requested tiles on one background thread; newer requests supersede older ones.

    Parameters
    ----------
    send : callable
        ``send(content, buffers)`` posts one tile (or an error) to the browser; called on
        the service's thread inside the context of the request that asked for it.
    cache_bytes : int
        Rendered tiles kept, so asking again (pan back, zoom out and in) costs nothing.

    Examples
    --------
    >>> sent = []
    >>> service = TileService(lambda content, buffers: sent.append(content))
    >>> service.close()
    """

    def __init__(
        self, send: Callable[[dict[str, Any], list[bytes]], None], *, cache_bytes: int = CACHE_BYTES
    ) -> None:
        self._send = send
        self._cache_limit = cache_bytes
        self._cache: OrderedDict[tuple[Any, ...], Tile] = OrderedDict()
        self._cache_size = 0
        self._lock = threading.Condition()
        #: The latest request per (view, clip) that still has tiles to render.
        self._pending: dict[tuple[str, str], TileRequest] = {}
        #: How far into its request's tiles each pending request is.
        self._done: dict[tuple[str, str], int] = {}
        self._latest: dict[tuple[str, str], int] = {}
        self._sources: dict[tuple[str, int, int], tuple[Any, _Summary]] = {}
        #: Sources to close, on the tile thread (never under a read in progress).
        self._closing: list[tuple[Any, _Summary]] = []
        #: Lanes whose summary the idle thread completes, by source.
        self._warm_lanes: dict[tuple[str, int, int], list[str]] = {}
        self._closed = False
        #: Tiles rendered and skipped because their request was superseded (for tests).
        self.rendered = 0
        self.skipped = 0
        self._thread = threading.Thread(target=self._loop, name="camb-tiles", daemon=True)
        self._thread.start()

    def request(self, req: TileRequest) -> None:
        """Queue ``req``; whatever an older request of the same view and clip still had to
        render is dropped. Returns at once."""
        key = (req.view, req.clip)
        with self._lock:
            if req.request_id < self._latest.get(key, -1):
                return  # arrived out of order: something newer is already queued
            old = self._pending.get(key)
            if old is not None:
                self.skipped += len(old.tiles) - self._done.get(key, 0)
            self._latest[key] = req.request_id
            self._pending[key] = req
            self._done[key] = 0
            self._lock.notify()

    def forget(self, clip: str) -> None:
        """Drop a clip's pending work, cached tiles and open files (removed or retried)."""
        with self._lock:
            for key in [k for k in self._pending if k[1] == clip]:
                del self._pending[key]
            for key in [k for k in self._cache if k[0] == clip]:
                self._cache_size -= self._cache.pop(key).nbytes
            for key in [k for k in self._warm_lanes if k[0] == clip]:
                del self._warm_lanes[key]
            sources = [k for k in self._sources if k[0] == clip]
            # Closed by the tile thread: it may be reading them right now.
            self._closing += [self._sources.pop(k) for k in sources]
            self._lock.notify()

    def close(self) -> None:
        """Stop the thread; it closes the files it opened when its current tile is done."""
        with self._lock:
            self._closed = True
            self._pending.clear()
            self._lock.notify_all()

    # -- the thread ----------------------------------------------------------------------
    def _next(self) -> tuple[TileRequest, tuple[int, int]] | None:
        with self._lock:
            while not self._closed:
                if self._closing:
                    self._close_unlocked()
                    continue
                for key, req in list(self._pending.items()):
                    i = self._done.get(key, 0)
                    if i >= len(req.tiles):
                        del self._pending[key]
                        continue
                    self._done[key] = i + 1
                    return req, req.tiles[i]
                if not self._warm_one():
                    self._lock.wait()
            return None

    def _close_unlocked(self) -> None:
        # Called with the lock held once: close the files outside it.
        closing, self._closing = self._closing, []
        self._lock.release()
        try:
            for source in closing:
                _close(source)
        finally:
            self._lock.acquire()

    def _warm_one(self) -> bool:
        """With nothing asked for, make one more chunk of a zoomed clip's summary, so later
        coarse tiles are pooled at once instead of reading their window first. One chunk
        (~6 s of audio) at a time: a request that arrives meanwhile waits for one chunk at
        most. Called with the lock held; released while the chunk is made."""
        for key, (_stems, summary) in list(self._sources.items()):
            lanes = self._warm_lanes.get(key)
            chunk = summary.missing(lanes) if lanes else None
            if chunk is None:
                continue
            self._lock.release()
            try:
                summary.bins(
                    lanes,
                    chunk * (SUMMARY_CHUNK // SUMMARY_HOP),
                    (chunk + 1) * (SUMMARY_CHUNK // SUMMARY_HOP),
                )
            except Exception:
                log.debug("warming the summary of %s failed", key, exc_info=True)
                self._warm_lanes.pop(key, None)
            finally:
                self._lock.acquire()
            return True
        return False

    def _loop(self) -> None:
        try:
            self._serve()
        finally:
            with self._lock:
                closing = self._closing + list(self._sources.values())
                self._closing, self._sources = [], {}
            for source in closing:
                _close(source)

    def _serve(self) -> None:
        while True:
            with self._lock:
                closing, self._closing = self._closing, []
            for source in closing:
                _close(source)
            job = self._next()
            if job is None:
                return
            req, (level, index) = job
            try:
                tiles = self._tiles(req, level, index)
            except Exception as error:
                log.exception("tile %s/%s of clip %s failed", level, index, req.clip)
                content = {
                    "type": "tile-error",
                    "clip_id": req.clip,
                    "request_id": req.request_id,
                    "level": level,
                    "index": index,
                    "message": f"{type(error).__name__}: {error}",
                }
                req.context.run(self._safe_send, content, [])
                continue
            for tile in tiles:
                content = {
                    "type": "tile",
                    "clip_id": req.clip,
                    "attempt": req.attempt,
                    "request_id": req.request_id,
                    **tile.message(),
                }
                req.context.run(self._safe_send, content, [tile.peaks, tile.png])

    def _safe_send(self, content: dict[str, Any], buffers: list[bytes]) -> None:
        try:
            self._send(content, buffers)
        except Exception:
            log.exception("sending a tile failed")

    def _tiles(self, req: TileRequest, level: int, index: int) -> list[Tile]:
        keys = {lane: (req.clip, req.attempt, lane, level, index, req.height) for lane in req.lanes}
        with self._lock:
            have = {lane: self._cache.get(k) for lane, k in keys.items()}
            for k in keys.values():
                if k in self._cache:
                    self._cache.move_to_end(k)
        missing = [lane for lane, tile in have.items() if tile is None]
        if missing:
            stems, summary = self._source(req)
            with self._lock:
                self._warm_lanes[(req.clip, req.attempt, req.height)] = list(req.lanes)
            fresh = render_tiles(
                stems, level, index, missing, scale=req.scale, height=req.height, summary=summary
            )
            with self._lock:
                self.rendered += len(fresh)
                for tile in fresh:
                    have[tile.lane] = tile
                    self._cache[keys[tile.lane]] = tile
                    self._cache_size += tile.nbytes
                while self._cache_size > self._cache_limit and self._cache:
                    self._cache_size -= self._cache.popitem(last=False)[1].nbytes
        return [t for t in have.values() if t is not None]

    def _source(self, req: TileRequest) -> tuple[Any, _Summary]:
        key = (req.clip, req.attempt, req.height)
        with self._lock:
            source = self._sources.get(key)
        if source is None:
            # Opened on this thread: the comm thread never waits for files.
            stems = req.stems()
            source = (stems, _Summary(stems, req.height))
            with self._lock:
                for old in [k for k in self._sources if k[0] == req.clip and k != key]:
                    _close(self._sources.pop(old))
                self._sources[key] = source
        return source


def _close(source: tuple[Any, _Summary]) -> None:
    close = getattr(source[0], "close", None)
    if callable(close):
        try:
            close()
        except Exception:
            log.debug("closing a tile source failed", exc_info=True)

"""The three signals of one separation, aligned, read by windows or in blocks."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from .._exceptions import InputError
from ._io import resample
from ._measure import energy, level_db, rms_db, sdr
from ._reader import AudioReader, Unit, open_audio, rechunk

__all__ = ["StemWindow", "Stems", "rms_db", "sdr"]

_NAMES = ("original", "foreground", "background")
_DELAY_WINDOW = 1 << 18  # samples cross-correlated to find a codec delay (~6 s)
_LEVEL_BLOCK = 1 << 16


def _match_channels(x: np.ndarray, channels: int) -> np.ndarray:
    if x.shape[0] == channels:
        return x
    return np.repeat(x.mean(axis=0, keepdims=True), channels, axis=0)


def _fit(x: np.ndarray, channels: int, n: int, shift: int = 0) -> np.ndarray:
    """Drop ``shift`` leading samples, then trim or zero-pad to ``n`` and match channels."""
    x = x[:, shift:] if shift > 0 else np.pad(x, ((0, 0), (-shift, 0)))
    x = _match_channels(x, channels)
    if x.shape[1] >= n:
        return np.ascontiguousarray(x[:, :n])
    return np.pad(x, ((0, 0), (0, n - x.shape[1])))


def _codec_delay(original: np.ndarray, estimate: np.ndarray, max_lag: int = 4096) -> int:
    """Samples by which ``estimate`` lags ``original`` (codec priming), found by
    cross-correlating the first few seconds; 0 unless the peak is clear."""
    n = min(original.shape[1], estimate.shape[1], _DELAY_WINDOW)
    if n < 4 * max_lag:
        return 0
    a = original[:, :n].mean(axis=0)
    b = estimate[:, :n].mean(axis=0)
    size = 1 << int(np.ceil(np.log2(2 * n)))
    corr = np.fft.irfft(np.fft.rfft(b, size) * np.conj(np.fft.rfft(a, size)), size)
    lags = np.concatenate([corr[: max_lag + 1], corr[-max_lag:]])
    best = int(np.argmax(np.abs(lags)))
    lag = best if best <= max_lag else best - len(lags)
    zero = abs(corr[0])
    return lag if abs(lags[best]) > 1.2 * zero + 1e-9 else 0


def _padded_read(reader: AudioReader, start: int, stop: int) -> np.ndarray:
    """``reader``'s samples ``[start, stop)``, zeros where that lies outside the file."""
    out = np.zeros((reader.channels, stop - start), np.float32)
    a, b = max(start, 0), min(stop, reader.frames)
    if b > a:
        out[:, a - start : b - start] = reader.read(a, b)
    return out


def _padded_stream(reader: AudioReader, start: int, stop: int, size: int) -> Iterator[np.ndarray]:
    """Chunks covering ``[start, stop)`` of ``reader``, zeros outside the file."""
    if start < 0:
        for i in range(start, min(0, stop), size):
            yield np.zeros((reader.channels, min(size, min(0, stop) - i)), np.float32)
    a, b = max(start, 0), min(stop, reader.frames)
    if b > a:
        yield from reader.blocks(size, start=a, stop=b)
    for i in range(max(reader.frames, start), stop, size):
        yield np.zeros((reader.channels, min(size, stop - i)), np.float32)


@dataclass(frozen=True)
class StemWindow:
    """One window of aligned stems: samples ``[start, start + n)`` of each signal.

    Attributes
    ----------
    original, foreground, background : np.ndarray [shape=(channels, n), dtype=float32]
    start : int
        Position of the first sample, in samples from the start of the clip.
    sr : int
    """

    original: np.ndarray
    foreground: np.ndarray
    background: np.ndarray
    start: int
    sr: int

    @cached_property
    def residual(self) -> np.ndarray:
        """``original − foreground − background`` over this window."""
        return self.original - self.foreground - self.background

    @property
    def stop(self) -> int:
        """One past the last sample's position."""
        return self.start + self.original.shape[1]

    @property
    def n_samples(self) -> int:
        return int(self.original.shape[1])

    def items(self) -> list[tuple[str, np.ndarray]]:
        """``[("original", …), ("foreground", …), ("background", …)]``."""
        return [(name, getattr(self, name)) for name in _NAMES]


class _Arrays:
    """Stems held in memory."""

    def __init__(self, original: np.ndarray, foreground: np.ndarray, background: np.ndarray):
        self.signals = (original, foreground, background)
        self.channels, self.n = original.shape

    def read(self, start: int, stop: int) -> tuple[np.ndarray, ...]:
        return tuple(x[:, start:stop] for x in self.signals)

    def streams(self, start: int, stop: int, size: int) -> Iterator[tuple[np.ndarray, ...]]:
        for i in range(start, stop, size):
            yield self.read(i, min(i + size, stop))

    def whole(self, index: int) -> np.ndarray:
        return self.signals[index]

    def close(self) -> None:
        pass


class _Files:
    """Stems decoded from files on request; aligned to the original on the fly."""

    def __init__(self, original: AudioReader, foreground: AudioReader, background: AudioReader):
        self.readers = (original, foreground, background)
        self.channels, self.n = original.channels, original.frames

    @cached_property
    def shift(self) -> int:
        """Codec delay of the stems, found once from the first seconds (see _codec_delay)."""
        original, fg, bg = self.readers
        n = min(self.n, _DELAY_WINDOW)
        head = original.read(0, n)
        total = _match_channels(_padded_read(fg, 0, n), self.channels) + _match_channels(
            _padded_read(bg, 0, n), self.channels
        )
        return _codec_delay(head, total)

    def read_one(self, index: int, start: int, stop: int) -> np.ndarray:
        if index == 0:
            return self.readers[0].read(start, stop)
        s = self.shift
        return _match_channels(
            _padded_read(self.readers[index], start + s, stop + s), self.channels
        )

    def read(self, start: int, stop: int) -> tuple[np.ndarray, ...]:
        return tuple(self.read_one(i, start, stop) for i in range(3))

    def streams(self, start: int, stop: int, size: int) -> Iterator[tuple[np.ndarray, ...]]:
        original, fg, bg = self.readers
        s = self.shift
        parts = [
            original.blocks(size, start=start, stop=stop),
            rechunk(_padded_stream(fg, start + s, stop + s, size), size, stop - start),
            rechunk(_padded_stream(bg, start + s, stop + s, size), size, stop - start),
        ]
        for o, f, b in zip(*parts, strict=True):
            yield o, _match_channels(f, self.channels), _match_channels(b, self.channels)

    def whole(self, index: int) -> np.ndarray:
        return self.read_one(index, 0, self.n)

    def close(self) -> None:
        for reader in self.readers:
            reader.close()


class Stems:
    """Original, foreground and background of one clip: same rate, channels and length.

    Made from arrays (``Stems(original, foreground, background, sr)`` or
    :meth:`from_arrays`) or from files (:meth:`from_files`), with one interface: windows
    (:meth:`read`), blocks (:meth:`blocks`), :meth:`levels`, and the whole signals as
    attributes.

    File-backed stems decode only what is asked for: a window costs its own size. The
    whole-signal attributes (``original``, ``foreground``, ``background``, ``residual``)
    decode the entire clip on first use and keep it: 4 bytes × channels × samples each,
    212 MB per signal for ten minutes of 44.1 kHz stereo (848 MB for all four). Prefer
    :meth:`read` and :meth:`blocks` for long clips.

    Parameters
    ----------
    original, foreground, background : np.ndarray [shape=(channels, n), dtype=float32]
    sr : int

    Examples
    --------
    >>> x = np.random.default_rng(0).standard_normal((2, 1000)).astype(np.float32) * 0.1
    >>> s = Stems(x, 0.5 * x, 0.5 * x, 44100)
    >>> s.levels()["residual"]
    -120.0
    >>> w = s.read(100, 200)
    >>> w.start, w.foreground.shape, float(abs(w.residual).max())
    (100, (2, 100), 0.0)
    """

    def __init__(
        self, original: np.ndarray, foreground: np.ndarray, background: np.ndarray, sr: int
    ) -> None:
        signals = [np.asarray(x, dtype=np.float32) for x in (original, foreground, background)]
        shapes = {x.shape for x in signals}
        if len(shapes) != 1 or signals[0].ndim != 2:
            raise InputError(
                "original, foreground and background must share one (channels, n) shape, got "
                f"{signals[0].shape}, {signals[1].shape}, {signals[2].shape}"
            )
        self._init(_Arrays(*signals), sr, files=None)

    def _init(self, source: _Arrays | _Files, sr: int, files: dict[str, Path] | None) -> None:
        if sr <= 0:
            raise InputError(f"sr={sr} must be a positive sample rate")
        self._source = source
        self.sr = int(sr)
        self._files = files
        self._whole: dict[str, np.ndarray] = {}

    @classmethod
    def from_arrays(
        cls,
        original: np.ndarray,
        foreground: np.ndarray,
        background: np.ndarray,
        sr: int,
        stem_sr: int | None = None,
    ) -> Stems:
        """Align stems to the original: resample from ``stem_sr``, remove codec delay,
        match channel count, trim or pad to the original's length.

        Examples
        --------
        >>> x = np.ones((2, 100), np.float32)
        >>> Stems.from_arrays(x, x[:1, :90], x[:1, :90], 8000).foreground.shape
        (2, 100)
        """
        original = np.atleast_2d(np.asarray(original, dtype=np.float32))
        fg = np.atleast_2d(np.asarray(foreground, dtype=np.float32))
        bg = np.atleast_2d(np.asarray(background, dtype=np.float32))
        if stem_sr and stem_sr != sr:
            fg, bg = resample(fg, stem_sr, sr), resample(bg, stem_sr, sr)
        channels, n = original.shape
        pad = max(fg.shape[1], bg.shape[1])
        total = _fit(fg, channels, pad) + _fit(bg, channels, pad)
        shift = _codec_delay(original, total)
        return cls(original, _fit(fg, channels, n, shift), _fit(bg, channels, n, shift), sr)

    @classmethod
    def from_files(
        cls,
        original: str | os.PathLike[str],
        foreground: str | os.PathLike[str],
        background: str | os.PathLike[str],
    ) -> Stems:
        """Open three files and align the stems to the original, lazily.

        Nothing is decoded here but the files' ends (to learn their exact lengths). The
        stems are resampled to the original's rate on the fly, their channels matched to
        the original's, a codec delay (found once, by cross-correlating the first seconds)
        removed, and their length trimmed or padded to the original's. Close the files
        with :meth:`close` or a ``with`` block.

        Examples
        --------
        >>> import tempfile, os
        >>> from camb_notebook.audio import save
        >>> d = tempfile.mkdtemp()
        >>> x = np.random.default_rng(0).uniform(-0.5, 0.5, (2, 8000)).astype(np.float32)
        >>> paths = [save(os.path.join(d, f"{n}.flac"), a, 8000)
        ...          for n, a in [("o", x), ("f", 0.5 * x), ("b", 0.5 * x)]]
        >>> with Stems.from_files(*paths) as s:
        ...     round(s.levels()["residual"])
        -120
        """
        readers: list[AudioReader] = []
        try:
            readers.append(open_audio(original))
            sr = readers[0].sample_rate
            readers.append(open_audio(foreground, sr=sr))
            readers.append(open_audio(background, sr=sr))
        except BaseException:
            for reader in readers:
                reader.close()
            raise
        files = {
            name: Path(p)
            for name, p in zip(_NAMES, (original, foreground, background), strict=True)
        }
        stems = cls.__new__(cls)
        stems._init(_Files(*readers), sr, files)
        return stems

    # -- shape ---------------------------------------------------------------------------
    @property
    def channels(self) -> int:
        return int(self._source.channels)

    @property
    def n_samples(self) -> int:
        return int(self._source.n)

    @property
    def duration(self) -> float:
        """Seconds."""
        return self.n_samples / self.sr

    @property
    def files(self) -> dict[str, Path] | None:
        """The files behind file-backed stems (``original``, ``foreground``,
        ``background``), else ``None``."""
        return dict(self._files) if self._files else None

    def __repr__(self) -> str:
        backing = "files" if self._files else "arrays"
        return (
            f"<Stems {self.channels} ch × {self.n_samples} samples at {self.sr} Hz "
            f"({self.duration:.2f} s, {backing})>"
        )

    def __enter__(self) -> Stems:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the files of file-backed stems (arrays already decoded stay)."""
        self._source.close()

    # -- windows and blocks ---------------------------------------------------------------
    def _samples(self, value: float | int, unit: str) -> int:
        if unit == "seconds":
            return round(float(value) * self.sr)
        if unit != "samples":
            raise InputError(f"unit={unit!r} is not one of 'samples' or 'seconds'")
        return int(value)

    def _window(self, start: float | int, stop: float | int | None, unit: str) -> tuple[int, int]:
        a = self._samples(start, unit)
        b = max(self.n_samples, a) if stop is None else self._samples(stop, unit)
        if a < 0 or b < a:
            raise InputError(
                f"start={start!r}, stop={stop!r} is not a window of these stems "
                f"(0 <= start <= stop; they hold {self.n_samples} samples, "
                f"{self.duration:.2f} s)"
            )
        return min(a, self.n_samples), min(b, self.n_samples)

    def read(
        self, start: float | int = 0, stop: float | int | None = None, *, unit: Unit = "samples"
    ) -> StemWindow:
        """The aligned signals over ``[start, stop)``; memory is the window's size.

        Parameters
        ----------
        start, stop : int or float
            Window bounds in ``unit``; ``stop=None`` is the end; cut to the clip as in
            slicing.
        unit : {"samples", "seconds"}

        Returns
        -------
        StemWindow

        Examples
        --------
        >>> x = np.ones((1, 8000), np.float32)
        >>> Stems(x, x / 2, x / 2, 8000).read(0.5, 0.75, unit="seconds").original.shape
        (1, 2000)
        """
        a, b = self._window(start, stop, unit)
        o, f, bg = self._source.read(a, b)
        return StemWindow(o, f, bg, a, self.sr)

    def blocks(
        self,
        size: int = 65536,
        *,
        start: float | int = 0,
        stop: float | int | None = None,
        unit: Unit = "samples",
    ) -> Iterator[StemWindow]:
        """Windows of ``size`` samples in order (the last may be shorter), decoded as a
        stream: memory is one block of each signal, whatever the clip's length.

        Examples
        --------
        >>> x = np.ones((2, 10000), np.float32)
        >>> [w.start for w in Stems(x, x, 0 * x, 8000).blocks(4096)]
        [0, 4096, 8192]
        """
        if int(size) <= 0:
            raise InputError(f"size={size!r} must be a positive number of samples")
        a, b = self._window(start, stop, unit)
        pos = a
        for o, f, bg in self._source.streams(a, b, int(size)):
            yield StemWindow(o, f, bg, pos, self.sr)
            pos += o.shape[1]

    def levels(self) -> dict[str, float]:
        """RMS level in dBFS of ``original``, ``foreground``, ``background``, ``residual``,
        computed in blocks (memory: one block)."""
        names = (*_NAMES, "residual")
        energies = dict.fromkeys(names, 0.0)
        for w in self.blocks(_LEVEL_BLOCK):
            for name in names:
                energies[name] += energy(getattr(w, name))
        count = self.channels * self.n_samples
        return {name: level_db(energies[name], count) for name in names}

    # -- whole signals ------------------------------------------------------------------------
    def _get(self, name: str) -> np.ndarray:
        if name not in self._whole:
            self._whole[name] = self._source.whole(_NAMES.index(name))
        return self._whole[name]

    @property
    def original(self) -> np.ndarray:
        """The whole original [shape=(channels, n)]; decoded and kept on first use."""
        return self._get("original")

    @property
    def foreground(self) -> np.ndarray:
        """The whole foreground stem, aligned; decoded and kept on first use."""
        return self._get("foreground")

    @property
    def background(self) -> np.ndarray:
        """The whole background stem, aligned; decoded and kept on first use."""
        return self._get("background")

    @property
    def residual(self) -> np.ndarray:
        """``original − foreground − background``: what the stems fail to explain."""
        if "residual" not in self._whole:
            self._whole["residual"] = self.original - self.foreground - self.background
        return self._whole["residual"]

    def items(self) -> list[tuple[str, np.ndarray]]:
        """``[("original", …), ("foreground", …), ("background", …)]``, whole signals."""
        return [(name, self._get(name)) for name in _NAMES]

"""Open an audio file once, then read any window of it or stream it in blocks.

Memory follows the window or the block, never the clip: nothing but the decoder's own state
and at most one decoded frame is kept between calls.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from math import gcd
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .._exceptions import AudioDecodeError, InputError
from ._av_decoder import AvDecoder
from ._formats import empty_file, no_such_file, not_audio, sniff_format
from ._sf_decoder import SoundfileDecoder

__all__ = ["AudioReader", "open_audio"]

Source = str | os.PathLike[str] | bytes
Unit = Literal["samples", "seconds"]

_HEAD_BYTES = 1 << 16
# Output samples decoded before a window, so the resampling filter has settled there.
_RESAMPLE_MARGIN = 4096


def resampled_length(frames: int, sr_in: int, sr_out: int) -> int:
    """How many samples soxr makes of ``frames`` (the exact ratio, rounded half up).

    Examples
    --------
    >>> resampled_length(145547, 44100, 48000)
    158419
    """
    return (2 * frames * sr_out + sr_in) // (2 * sr_in)


def _resampler(sr_in: int, sr_out: int, channels: int) -> Any:
    import soxr

    return soxr.ResampleStream(sr_in, sr_out, channels, dtype="float32", quality="HQ")


class AudioReader:
    """An open audio file: exact windows and bounded-memory blocks, as float32 ``(ch, n)``.

    Made by :func:`open_audio`; use it as a context manager or call :meth:`close`. Not safe
    to share between threads.

    Attributes
    ----------
    path : Path or None
        ``None`` when opened from bytes.
    format : str
        Detected from the content: ``flac``, ``mp3``, ``wav``, ``m4a``, ``aac`` or ``ogg``.
    sample_rate : int
        The rate of what :meth:`read` and :meth:`blocks` return (``sr=`` if given).
    channels : int
        1 with ``mono=True``, else the file's.
    frames : int
        Samples per channel, exact (encoder delay and padding removed; see
        :func:`open_audio`).
    duration : float
        Seconds.
    """

    def __init__(
        self,
        decoder: SoundfileDecoder | AvDecoder,
        path: Path | None,
        sr: int | None = None,
        mono: bool = False,
    ) -> None:
        self._decoder = decoder
        self.path = path
        self.format = decoder.format
        self.native_rate = decoder.sample_rate
        self.sample_rate = int(sr) if sr else decoder.sample_rate
        self._mono = mono and decoder.channels > 1
        self.channels = 1 if self._mono else decoder.channels
        self.frames = (
            decoder.frames
            if self.sample_rate == self.native_rate
            else resampled_length(decoder.frames, self.native_rate, self.sample_rate)
        )
        # The cursor of the last read: a read that starts where the last one ended goes on
        # decoding instead of seeking again.
        self._cursor: tuple[int, Iterator[np.ndarray], np.ndarray | None] | None = None
        self._closed = False

    @property
    def duration(self) -> float:
        """Seconds."""
        return self.frames / self.sample_rate

    @property
    def name(self) -> str:
        """What error messages call the file."""
        return self._decoder.name

    def __repr__(self) -> str:
        return (
            f"<AudioReader {self.name!r} {self.format} {self.sample_rate} Hz "
            f"{self.channels} ch {self.duration:.2f} s>"
        )

    def __enter__(self) -> AudioReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the file (reads after this fail)."""
        self._cursor = None
        self._closed = True
        self._decoder.close()

    # -- positions ---------------------------------------------------------------------
    def _samples(self, value: float | int, unit: str, what: str) -> int:
        if unit == "seconds":
            return round(float(value) * self.sample_rate)
        if unit != "samples":
            raise InputError(f"unit={unit!r} is not one of 'samples' or 'seconds'")
        if isinstance(value, float) and not value.is_integer():
            raise InputError(
                f"{what}={value!r} is not a whole number of samples; pass an int or unit='seconds'"
            )
        return int(value)

    def _window(self, start: float | int, stop: float | int | None, unit: str) -> tuple[int, int]:
        if self._closed:
            raise InputError(f"{self.name}: the reader is closed; open the file again")
        a = self._samples(start, unit, "start")
        b = max(self.frames, a) if stop is None else self._samples(stop, unit, "stop")
        if a < 0 or b < a:
            raise InputError(
                f"start={start!r}, stop={stop!r} is not a window of {self.name} "
                f"(0 <= start <= stop; it holds {self.frames} samples, {self.duration:.2f} s)"
            )
        return min(a, self.frames), min(b, self.frames)

    # -- decoding ----------------------------------------------------------------------
    def _stream(self, start: int) -> Iterator[np.ndarray]:
        """Consecutive chunks at the output rate and channels, from ``start`` to the end."""
        dec = self._decoder
        if self.sample_rate == self.native_rate:
            for chunk in dec.chunks(start):
                yield chunk.mean(axis=0, keepdims=True) if self._mono else chunk
            return
        # Restart the resampler at an input sample that falls on the output grid, a margin
        # before the window, so the window's samples equal those of a whole-file resample.
        sr_in, sr_out = self.native_rate, self.sample_rate
        g = gcd(sr_in, sr_out)
        step_in, step_out = sr_in // g, sr_out // g
        margin = _RESAMPLE_MARGIN * max(sr_in // sr_out, 1)  # the filter is longer when decimating
        first_in = max(start * sr_in // sr_out - margin, 0) // step_in * step_in
        skip = start - first_in // step_in * step_out
        left = self.frames - start
        rs = _resampler(sr_in, sr_out, self.channels)
        for chunk, last in _with_last(dec.chunks(first_in)):
            if self._mono:
                chunk = chunk.mean(axis=0, keepdims=True)
            out = rs.resample_chunk(np.ascontiguousarray(chunk.T), last=last)
            if skip:
                drop = min(skip, out.shape[0])
                out, skip = out[drop:], skip - drop
            out = out[:left]
            if out.shape[0]:
                left -= out.shape[0]
                yield np.ascontiguousarray(out.T)
            if left <= 0:
                return
        if left > 0:  # soxr rounds the length its own way at the very end: pad to ours
            yield np.zeros((self.channels, left), np.float32)

    def read(
        self, start: float | int = 0, stop: float | int | None = None, *, unit: Unit = "samples"
    ) -> np.ndarray:
        """Decode one window ``[start, stop)``; memory is the window's size.

        Parameters
        ----------
        start, stop : int or float
            Window bounds in ``unit``; ``stop=None`` means the end. Bounds past the end are
            cut to it, as in slicing.
        unit : {"samples", "seconds"}

        Returns
        -------
        np.ndarray [shape=(channels, stop - start), dtype=float32]

        Raises
        ------
        InputError
            For a negative or reversed window.
        AudioDecodeError
            When the file turns out to be cut or corrupt inside the window.

        Examples
        --------
        >>> import soundfile as sf, tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "ramp.wav")
        >>> sf.write(p, np.arange(1000) / 1000, 8000, subtype="FLOAT")
        >>> with open_audio(p) as r:
        ...     r.read(10, 13)
        array([[0.01 , 0.011, 0.012]], dtype=float32)
        """
        a, b = self._window(start, stop, unit)
        out = np.empty((self.channels, b - a), np.float32)
        if b == a:
            return out
        chunks, carry = self._resume(a)
        filled = 0
        pending = carry
        while filled < b - a:
            if pending is None:
                try:
                    pending = next(chunks)
                except StopIteration:
                    raise AudioDecodeError(
                        f"{self.name}: decoding stopped at {(a + filled) / self.sample_rate:.2f} s"
                        f" before the {self.duration:.2f} s it holds; re-export the file",
                        exception_reason="INVALID_SOURCE_DATA",
                    ) from None
            n = min(pending.shape[1], b - a - filled)
            out[:, filled : filled + n] = pending[:, :n]
            filled += n
            pending = pending[:, n:] if n < pending.shape[1] else None
        self._cursor = (b, chunks, pending)
        return out

    def _resume(self, start: int) -> tuple[Iterator[np.ndarray], np.ndarray | None]:
        if self._cursor is not None and self._cursor[0] == start:
            return self._cursor[1], self._cursor[2]
        return self._stream(start), None

    def blocks(
        self,
        size: int = 65536,
        *,
        start: float | int = 0,
        stop: float | int | None = None,
        unit: Unit = "samples",
    ) -> Iterator[np.ndarray]:
        """Decode ``[start, stop)`` in order, ``size`` samples at a time (the last may be
        shorter); memory is one block, whatever the file's length.

        Parameters
        ----------
        size : int
            Samples per block.
        start, stop : int or float
            As in :meth:`read`.
        unit : {"samples", "seconds"}
            For ``start`` and ``stop``; ``size`` is always in samples.

        Yields
        ------
        np.ndarray [shape=(channels, size), dtype=float32]

        Examples
        --------
        >>> import soundfile as sf, tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "tone.flac")
        >>> sf.write(p, np.zeros((10000, 2)), 8000)
        >>> with open_audio(p) as r:
        ...     [b.shape for b in r.blocks(4096)]
        [(2, 4096), (2, 4096), (2, 1808)]
        """
        if int(size) <= 0:
            raise InputError(f"size={size!r} must be a positive number of samples")
        a, b = self._window(start, stop, unit)
        return rechunk(self._stream(a), int(size), b - a)


def _with_last(chunks: Iterator[np.ndarray]) -> Iterator[tuple[np.ndarray, bool]]:
    """Each chunk with whether it is the last (soxr must be told to flush)."""
    previous = None
    for chunk in chunks:
        if previous is not None:
            yield previous, False
        previous = chunk
    if previous is not None:
        yield previous, True


def rechunk(chunks: Iterator[np.ndarray], size: int, total: int) -> Iterator[np.ndarray]:
    """Blocks of exactly ``size`` samples (the last may be shorter), ``total`` in all."""
    parts: list[np.ndarray] = []
    held = 0
    for chunk in chunks:
        parts.append(chunk[:, : total - held])
        held += parts[-1].shape[1]
        while held >= size:
            joined = parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)
            yield np.ascontiguousarray(joined[:, :size])
            parts = [joined[:, size:]] if joined.shape[1] > size else []
            held -= size
            total -= size
        if held >= total:
            break
    if held:
        yield np.ascontiguousarray(parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1))


def _resolve(source: Source) -> tuple[str | bytes, str, Path | None, bytes]:
    if isinstance(source, bytes | bytearray | memoryview):
        raw = bytes(source)
        if not raw:
            raise empty_file("<bytes>")
        return raw, "<bytes>", None, raw[:_HEAD_BYTES]
    path = Path(source)
    if not path.is_file():
        raise no_such_file(path)
    with path.open("rb") as f:
        head = f.read(_HEAD_BYTES)
    if not head:
        raise empty_file(path.name)
    return str(path), path.name, path, head


def open_audio(source: Source, *, sr: int | None = None, mono: bool = False) -> AudioReader:
    """Open an audio file for exact windowed reads and bounded-memory streaming.

    The whole clip is never decoded at once: :meth:`AudioReader.read` decodes a window,
    :meth:`AudioReader.blocks` streams in blocks. WAV and FLAC are read with soundfile;
    MP3, AAC/M4A, raw ADTS AAC and Ogg (Opus, Vorbis) frame by frame with PyAV.

    Sample positions are gapless: the encoder delay and end padding of M4A and MP3 files
    are removed using what the container says (edit list, ``iTunSMPB``, the LAME/Xing
    tag), so an M4A or MP3 made from a WAV has the WAV's exact length and timing. Raw ADTS
    ``.aac`` carries no such information and decodes as ``ffmpeg -i clip.aac clip.wav``
    does, priming included.

    Parameters
    ----------
    source : str, os.PathLike or bytes
        A file path, or the file's bytes.
    sr : int, optional
        Resample on the fly to this rate (soxr's streaming resampler, high quality).
    mono : bool
        Average the channels into one.

    Returns
    -------
    AudioReader

    Raises
    ------
    AudioFormatError
        Missing file, not audio, or no audio stream.
    AudioDecodeError
        Empty, cut short (the message names where decoding stops) or corrupt.

    See Also
    --------
    load : the whole clip as one array.
    probe : validate a file against limits without decoding it.

    Examples
    --------
    >>> import soundfile as sf, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.flac")
    >>> sf.write(p, np.zeros((44100, 2)), 44100)
    >>> with open_audio(p, sr=16000, mono=True) as r:
    ...     r.frames, r.read(0.25, 0.5, unit="seconds").shape
    (16000, (1, 4000))
    """
    if sr is not None and (int(sr) != sr or sr <= 0):
        raise InputError(f"sr={sr!r} must be a positive whole number of samples per second")
    data, name, path, head = _resolve(source)
    fmt = sniff_format(head)
    if fmt is None:
        raise not_audio(name)
    decoder: SoundfileDecoder | AvDecoder
    if fmt in ("wav", "flac"):
        decoder = SoundfileDecoder(data, name, fmt)
    else:
        decoder = AvDecoder(data, name, fmt, head)
    return AudioReader(decoder, path, sr=sr, mono=mono)

"""Write audio block by block; the file appears only when it is complete.

FLAC is written as 24-bit and WAV as 32-bit float, so nothing audible is lost; MP3, M4A (AAC)
and Ogg Opus go through PyAV's encoders. :func:`encode` (whole arrays to bytes) uses the same
encoders.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from .._exceptions import InputError

__all__ = ["AudioWriter", "open_writer"]

# Container and codec PyAV writes for each lossy format we encode to.
_AV_ENCODERS: dict[str, tuple[str, str, str]] = {
    # format: (container, codec, sample format)
    "mp3": ("mp3", "libmp3lame", "fltp"),
    "m4a": ("ipod", "aac", "fltp"),
    "ogg": ("ogg", "libopus", "flt"),
}
_SOUNDFILE_FORMATS = {"wav": ("WAV", "FLOAT"), "flac": ("FLAC", "PCM_24")}
_EXTENSION_FORMATS = {"opus": "ogg", "aac": "m4a", "mp4": "m4a", "wave": "wav"}
WRITABLE = ("wav", "flac", "mp3", "m4a", "ogg")


def format_for(path: str | os.PathLike[str], format: str | None) -> str:
    """The format to write: ``format`` if given, else from the file's extension (FLAC for a
    file without one)."""
    if format is None:
        ext = Path(path).suffix.lower().lstrip(".") or "flac"
        format = _EXTENSION_FORMATS.get(ext, ext)
    if format not in WRITABLE:
        raise InputError(
            f"format={format!r} is not one we encode (choose wav, flac, mp3, m4a or ogg)"
        )
    return format


def as_channels_first(audio: np.ndarray) -> np.ndarray:
    """``audio`` as float32 ``(channels, n)``; a 1-D array is one channel."""
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 1:
        audio = audio[np.newaxis]
    if audio.ndim != 2:
        raise InputError(f"audio must be shaped (channels, samples), got shape {audio.shape}")
    return audio


class _SoundfileSink:
    """WAV (float) or FLAC (24-bit) through libsndfile."""

    def __init__(self, target: str | BinaryIO, fmt: str, sr: int, channels: int) -> None:
        import soundfile as sf

        container, subtype = _SOUNDFILE_FORMATS[fmt]
        self._clip = subtype != "FLOAT"
        self._file = sf.SoundFile(
            target, "w", samplerate=sr, channels=channels, format=container, subtype=subtype
        )

    def write(self, block: np.ndarray) -> int:
        clipped = 0
        if self._clip:
            clipped = int(np.count_nonzero(np.abs(block) > 1.0))
            if clipped:
                block = np.clip(block, -1.0, 1.0)
        self._file.write(block.T)
        return clipped

    def close(self) -> None:
        self._file.close()


class _AvSink:
    """MP3, M4A (AAC) or Ogg Opus through PyAV, frame by frame."""

    def __init__(
        self, target: str | BinaryIO, fmt: str, sr: int, channels: int, bitrate: int | None
    ) -> None:
        import av

        container_fmt, codec, self._sample_fmt = _AV_ENCODERS[fmt]
        if channels > 2:
            raise InputError(f"only mono and stereo can be encoded, got {channels} channels")
        self._resampler: Any = None
        rate = sr
        if codec == "libopus" and sr != 48000:  # the only rate Opus takes
            import soxr

            self._resampler = soxr.ResampleStream(sr, 48000, channels, dtype="float32")
            rate = 48000
        self._layout = "stereo" if channels == 2 else "mono"
        self._rate = rate
        self._out = av.open(target, "w", format=container_fmt)
        # Constrained VBR keeps Opus within a few % of the bitrate asked for, so the
        # widget's byte budget holds even for noisy material.
        options = {"vbr": "constrained"} if codec == "libopus" else {}
        self._stream = self._out.add_stream(codec, rate=rate, layout=self._layout, options=options)
        if bitrate:
            self._stream.bit_rate = int(bitrate)
        self._frame_size = self._stream.codec_context.frame_size or 1024
        self._pending: list[np.ndarray] = []
        self._held = 0
        self._pts = 0

    def write(self, block: np.ndarray) -> int:
        clipped = int(np.count_nonzero(np.abs(block) > 1.0))
        block = np.clip(block, -1.0, 1.0)
        if self._resampler is not None:
            block = self._resampler.resample_chunk(np.ascontiguousarray(block.T)).T
        self._queue(block)
        return clipped

    def _queue(self, block: np.ndarray) -> None:
        """Encode whole frames; hold the rest (less than a frame) for the next write."""
        if block.shape[1]:
            self._pending.append(block)
            self._held += block.shape[1]
        if self._held < self._frame_size:
            return
        joined = self._pending[0] if len(self._pending) == 1 else np.concatenate(self._pending, 1)
        whole = self._held // self._frame_size * self._frame_size
        for i in range(0, whole, self._frame_size):
            self._encode(joined[:, i : i + self._frame_size])
        rest = joined[:, whole:]
        self._pending = [rest] if rest.shape[1] else []
        self._held = rest.shape[1]

    def _encode(self, block: np.ndarray | None) -> None:
        import av

        frame = None
        if block is not None:
            if self._sample_fmt == "flt":  # packed: one row of interleaved samples
                block = block.T.reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(block, dtype=np.float32),
                format=self._sample_fmt,
                layout=self._layout,
            )
            frame.sample_rate = self._rate
            frame.pts = self._pts
            self._pts += frame.samples
        for packet in self._stream.encode(frame):
            self._out.mux(packet)

    def close(self) -> None:
        if self._resampler is not None:
            channels = 2 if self._layout == "stereo" else 1
            tail = self._resampler.resample_chunk(np.zeros((0, channels), np.float32), last=True)
            self._queue(np.ascontiguousarray(tail.T))
        if self._held:
            self._encode(np.concatenate(self._pending, axis=1))
        self._encode(None)  # flush the encoder
        self._out.close()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._out.close()


def open_sink(
    target: str | BinaryIO, fmt: str, sr: int, channels: int, bitrate: int | None = None
) -> _SoundfileSink | _AvSink:
    """An encoder writing ``fmt`` to a path or a binary file object."""
    if sr <= 0 or int(sr) != sr:
        raise InputError(f"sr={sr!r} must be a positive whole number of samples per second")
    if channels <= 0:
        raise InputError(f"channels={channels!r} must be at least 1")
    if fmt in _SOUNDFILE_FORMATS:
        return _SoundfileSink(target, fmt, int(sr), int(channels))
    return _AvSink(target, fmt, int(sr), int(channels), bitrate)


class AudioWriter:
    """An audio file being written block by block; made by :func:`open_writer`.

    The samples go to a hidden temporary file next to ``path``; :meth:`close` (or leaving
    the ``with`` block normally) finishes it and renames it to ``path`` in one step, so
    ``path`` either does not exist or holds a complete file. :meth:`abort` (or an exception
    inside the ``with`` block) deletes the temporary file: a half-written file is never
    left behind to be taken for a result.

    Attributes
    ----------
    path : Path
    format : str
    sample_rate : int
    channels : int
    frames_written : int
        Samples per channel written so far.
    clipped_samples : int
        Samples outside [-1, 1] that were clipped (FLAC and the lossy formats; 32-bit float
        WAV keeps them).
    """

    def __init__(
        self,
        path: Path,
        sr: int,
        channels: int,
        format: str,
        bitrate: int | None = None,
    ) -> None:
        self.path = path
        self.format = format
        self.sample_rate = int(sr)
        self.channels = int(channels)
        self.frames_written = 0
        self.clipped_samples = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
        try:
            self._sink: _SoundfileSink | _AvSink | None = open_sink(
                str(self._tmp), format, sr, channels, bitrate
            )
        except BaseException:
            self._tmp.unlink(missing_ok=True)
            raise

    def __repr__(self) -> str:
        state = "open" if self._sink is not None else "closed"
        return (
            f"<AudioWriter {self.path.name!r} {self.format} {self.sample_rate} Hz "
            f"{self.channels} ch, {self.frames_written} frames, {state}>"
        )

    def __enter__(self) -> AudioWriter:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *rest: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def write(self, block: np.ndarray) -> None:
        """Append ``block`` [shape=(channels, n)] (a 1-D array for mono); any ``n``.

        Examples
        --------
        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "x.flac")
        >>> with open_writer(p, 44100, 2) as w:
        ...     w.write(np.zeros((2, 1000), np.float32))
        ...     w.write(np.full((2, 10), 1.5, np.float32))
        >>> w.frames_written, w.clipped_samples
        (1010, 20)
        """
        if self._sink is None:
            raise InputError(f"{self.path.name}: the writer is closed; open a new one")
        block = as_channels_first(block)
        if block.shape[0] != self.channels:
            raise InputError(
                f"{self.path.name}: block shape {block.shape} has {block.shape[0]} channels; "
                f"this file was opened with channels={self.channels}"
            )
        try:
            self.clipped_samples += self._sink.write(block)
        except BaseException:
            self.abort()
            raise
        self.frames_written += block.shape[1]

    def close(self) -> Path:
        """Finish the file and move it into place; returns ``path``."""
        if self._sink is None:
            return self.path
        sink, self._sink = self._sink, None
        try:
            sink.close()
            with open(self._tmp, "rb+") as f:  # on disk before the rename makes it visible
                os.fsync(f.fileno())
            os.replace(self._tmp, self.path)
        except BaseException:
            self._tmp.unlink(missing_ok=True)
            raise
        return self.path

    def abort(self) -> None:
        """Drop what was written; ``path`` is left as it was."""
        sink, self._sink = self._sink, None
        if sink is not None:
            with contextlib.suppress(Exception):
                sink.abort() if isinstance(sink, _AvSink) else sink.close()
        self._tmp.unlink(missing_ok=True)

    def __del__(self) -> None:  # an unclosed writer leaves no temporary file behind
        with contextlib.suppress(Exception):
            if getattr(self, "_sink", None) is not None:
                self.abort()


def open_writer(
    path: str | os.PathLike[str],
    sr: int,
    channels: int,
    format: str | None = None,
    *,
    bitrate: int | None = None,
) -> AudioWriter:
    """Open an audio file for writing block by block, with constant memory.

    Parameters
    ----------
    path : str or os.PathLike
        Where the finished file goes; folders are created.
    sr : int
        Sample rate of the blocks (Ogg Opus is resampled to 48 kHz on the way).
    channels : int
    format : {"flac", "wav", "mp3", "m4a", "ogg"}, optional
        Default from the extension, FLAC without one. FLAC is 24-bit (samples beyond ±1
        are clipped and counted), WAV 32-bit float, ``ogg`` is Ogg Opus.
    bitrate : int, optional
        Bits per second for the lossy formats.

    Returns
    -------
    AudioWriter
        A context manager: the file appears (atomically) when the block ends normally and
        is discarded if it raises.

    See Also
    --------
    save : write a whole array at once.
    open_audio : read in blocks.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "stem.flac")
    >>> with open_writer(p, 44100, 2) as w:
    ...     for _ in range(3):
    ...         w.write(np.zeros((2, 4096), np.float32))
    >>> from camb_notebook.audio import open_audio
    >>> open_audio(p).frames
    12288
    """
    path = Path(path)
    return AudioWriter(path, sr, channels, format_for(path, format), bitrate)

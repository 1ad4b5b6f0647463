"""Decode, resample and encode audio. Arrays are float32 shaped ``(channels, samples)``."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from .._exceptions import InputError
from ._reader import Source, open_audio
from ._writer import WRITABLE, as_channels_first, open_sink, open_writer

__all__ = ["encode", "encode_preview", "load", "resample", "save"]


def resample(audio: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Resample ``audio`` (channels, n) from ``sr_in`` to ``sr_out`` with soxr (high quality).

    Examples
    --------
    >>> resample(np.zeros((2, 44100), np.float32), 44100, 22050).shape
    (2, 22050)
    """
    if sr_in == sr_out:
        return audio
    if sr_in <= 0 or sr_out <= 0:
        raise InputError(f"sample rates must be positive, got sr_in={sr_in}, sr_out={sr_out}")
    import soxr

    out = soxr.resample(np.ascontiguousarray(audio.T), sr_in, sr_out, quality="HQ")
    return np.ascontiguousarray(out.T, dtype=np.float32)


def load(
    source: Source,
    sr: int | None = None,
    mono: bool = False,
    offset: float = 0.0,
    duration: float | None = None,
) -> tuple[np.ndarray, int]:
    """Decode a whole audio file (or its bytes, or a stretch of it) to one float32 array.

    The array holds the whole stretch: 4 bytes × channels × samples (212 MB for ten
    minutes of 44.1 kHz stereo). To keep memory small, stream with :func:`open_audio`
    instead (``reader.blocks()``, ``reader.read(start, stop)``).

    Parameters
    ----------
    source : str, os.PathLike or bytes
        A file path, or the file's bytes.
    sr : int, optional
        Resample to this rate; default keeps the file's rate.
    mono : bool
        Average the channels into one.
    offset : float
        Start this many seconds in.
    duration : float, optional
        Seconds to decode; default to the end.

    Returns
    -------
    audio : np.ndarray [shape=(channels, n), dtype=float32]
    sr : int

    Raises
    ------
    AudioFormatError, AudioDecodeError

    See Also
    --------
    open_audio : windows and blocks without holding the clip.
    probe : validate a file without decoding it all.

    Examples
    --------
    >>> import soundfile as sf, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.flac")
    >>> sf.write(p, np.zeros((4410, 2)), 44100)
    >>> audio, rate = load(p, sr=22050)
    >>> audio.shape, rate
    ((2, 2205), 22050)
    >>> load(p, offset=0.05, duration=0.02)[0].shape
    (2, 882)
    """
    if offset < 0 or (duration is not None and duration < 0):
        raise InputError(f"offset={offset!r}, duration={duration!r}: both must be >= 0 seconds")
    with open_audio(source, sr=sr, mono=mono) as reader:
        stop = None if duration is None else offset + duration
        return reader.read(offset, stop, unit="seconds"), reader.sample_rate


def encode(audio: np.ndarray, sr: int, format: str, bitrate: int | None = None) -> bytes:
    """Encode ``audio`` (channels, n) to the bytes of a file in ``format``.

    Parameters
    ----------
    format : {"wav", "flac", "mp3", "m4a", "ogg"}
        ``ogg`` is Ogg Opus (resampled to 48 kHz, which Opus requires).
    bitrate : int, optional
        Bits per second for the lossy formats.

    Examples
    --------
    >>> encode(np.zeros((1, 4410), np.float32), 44100, "wav")[:4]
    b'RIFF'
    """
    audio = as_channels_first(audio)
    if format not in WRITABLE:
        raise InputError(
            f"format={format!r} is not one we encode (choose wav, flac, mp3, m4a or ogg)"
        )
    buf = io.BytesIO()
    sink = open_sink(buf, format, sr, audio.shape[0], bitrate)
    sink.write(audio)
    sink.close()
    return buf.getvalue()


def save(
    path: str | os.PathLike[str],
    audio: np.ndarray,
    sr: int,
    format: str | None = None,
    bitrate: int | None = None,
) -> Path:
    """Write ``audio`` (channels, n) to ``path``; the format defaults to the extension.

    FLAC is written as 24-bit, WAV as 32-bit float, so nothing audible is lost. The file
    appears complete or not at all (see :func:`open_writer`, which writes block by block).

    Examples
    --------
    >>> import tempfile, os
    >>> p = save(os.path.join(tempfile.mkdtemp(), "x.flac"), np.zeros((2, 100)), 44100)
    >>> p.suffix
    '.flac'
    """
    audio = as_channels_first(audio)
    with open_writer(path, sr, audio.shape[0], format, bitrate=bitrate) as writer:
        writer.write(audio)
    return writer.path


def encode_preview(audio: np.ndarray, sr: int, bitrate: int = 48000) -> bytes:
    """Encode a compact Ogg Opus preview for a browser player.

    Parameters
    ----------
    audio : np.ndarray [shape=(channels, n)]
    sr : int
    bitrate : int
        Bits per second for all channels (48 kb/s stereo sounds fine for listening
        and makes a 10-minute stem about 3.6 MB).

    Examples
    --------
    >>> encode_preview(np.zeros((2, 48000), np.float32), 48000)[:4]
    b'OggS'
    """
    audio = as_channels_first(audio)
    if audio.shape[0] > 2:
        audio = audio[:2]
    return encode(audio, sr, "ogg", bitrate)

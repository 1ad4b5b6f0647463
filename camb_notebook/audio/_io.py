"""Decode, resample and encode audio. Arrays are float32 shaped ``(channels, samples)``."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np

from .._exceptions import InputError
from ._reader import Source, open_audio

__all__ = ["encode", "encode_preview", "load", "resample", "save"]

# Container and codec PyAV writes for each format we encode to.
_AV_ENCODERS: dict[str, tuple[str, str, str]] = {
    # format: (container, codec, sample format)
    "mp3": ("mp3", "libmp3lame", "fltp"),
    "m4a": ("ipod", "aac", "fltp"),
    "ogg": ("ogg", "libopus", "flt"),
}
_SOUNDFILE_FORMATS = {"wav": "WAV", "flac": "FLAC"}


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


def _as_channels_first(audio: np.ndarray) -> np.ndarray:
    audio = np.asarray(audio, dtype=np.float32)
    if audio.ndim == 1:
        audio = audio[np.newaxis]
    if audio.ndim != 2:
        raise InputError(f"audio must be shaped (channels, samples), got shape {audio.shape}")
    return audio


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
    audio = _as_channels_first(audio)
    if format in _SOUNDFILE_FORMATS:
        import soundfile as sf

        buf = io.BytesIO()
        subtype = "PCM_24" if format == "flac" else "FLOAT"
        sf.write(buf, audio.T, sr, format=_SOUNDFILE_FORMATS[format], subtype=subtype)
        return buf.getvalue()
    if format not in _AV_ENCODERS:
        raise InputError(
            f"format={format!r} is not one we encode (choose wav, flac, mp3, m4a or ogg)"
        )
    import av

    container_fmt, codec, sample_fmt = _AV_ENCODERS[format]
    if codec == "libopus" and sr != 48000:
        audio, sr = resample(audio, sr, 48000), 48000
    channels = audio.shape[0]
    if channels > 2:
        raise InputError(f"only mono and stereo can be encoded, got {channels} channels")
    layout = "stereo" if channels == 2 else "mono"
    buf = io.BytesIO()
    with av.open(buf, "w", format=container_fmt) as out:
        # Constrained VBR keeps Opus within a few % of the bitrate asked for, so the
        # widget's byte budget holds even for noisy material.
        options = {"vbr": "constrained"} if codec == "libopus" else {}
        stream = out.add_stream(codec, rate=sr, layout=layout, options=options)
        if bitrate:
            stream.bit_rate = int(bitrate)
        frame_size = stream.codec_context.frame_size or 1024
        clipped = np.clip(audio, -1.0, 1.0)
        for start in range(0, clipped.shape[1], frame_size):
            block = clipped[:, start : start + frame_size]
            if sample_fmt == "flt":  # packed: one row of interleaved samples
                block = np.ascontiguousarray(block.T).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(block), format=sample_fmt, layout=layout
            )
            frame.sample_rate = sr
            frame.pts = start
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def save(
    path: str | os.PathLike[str],
    audio: np.ndarray,
    sr: int,
    format: str | None = None,
    bitrate: int | None = None,
) -> Path:
    """Write ``audio`` (channels, n) to ``path``; the format defaults to the extension.

    FLAC is written as 24-bit, WAV as 32-bit float, so nothing audible is lost.

    Examples
    --------
    >>> import tempfile, os
    >>> p = save(os.path.join(tempfile.mkdtemp(), "x.flac"), np.zeros((2, 100)), 44100)
    >>> p.suffix
    '.flac'
    """
    path = Path(path)
    if format is None:
        ext = path.suffix.lower().lstrip(".")
        format = {"opus": "ogg", "aac": "m4a", "mp4": "m4a", "wave": "wav"}.get(ext, ext)
    data = encode(audio, sr, format, bitrate)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


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
    audio = _as_channels_first(audio)
    if audio.shape[0] > 2:
        audio = audio[:2]
    return encode(audio, sr, "ogg", bitrate)

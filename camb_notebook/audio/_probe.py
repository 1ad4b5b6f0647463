"""Probe and validate an audio file before anything is uploaded or decoded."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .._exceptions import AudioDecodeError, AudioFormatError, LimitExceededError
from ._containers import wav_data_chunk
from ._formats import (
    EXPECTED,
    FORMAT_NAMES,
    empty_file,
    expected_formats,
    no_such_file,
    not_audio,
    sniff_format,
)

__all__ = ["AudioInfo", "Limits", "probe"]

_HEAD_BYTES = 1 << 16


@dataclass(frozen=True)
class Limits:
    """What a clip may be. The defaults are generous; services may have their own.

    Parameters
    ----------
    max_duration : float
        Longest clip in seconds (default one hour).
    max_bytes : int
        Largest file in bytes (default 2 GiB).
    min_duration : float
        Shortest clip in seconds (default 0: any non-empty clip).

    Examples
    --------
    >>> Limits(max_duration=600).max_duration
    600
    """

    max_duration: float = 3600.0
    max_bytes: int = 2 << 30
    min_duration: float = 0.0


@dataclass(frozen=True)
class AudioInfo:
    """What :func:`probe` found out about a file.

    Attributes
    ----------
    path : Path
    format : str
        Detected from the content: ``flac``, ``mp3``, ``wav``, ``m4a``, ``aac`` or ``ogg``.
    codec : str
    sample_rate : int
    channels : int
    frames : int
        Samples per channel (estimated from packet timestamps for compressed formats).
    duration : float
        Seconds.
    size : int
        Bytes on disk.
    """

    path: Path
    format: str
    codec: str
    sample_rate: int
    channels: int
    frames: int
    duration: float
    size: int


def _fmt_bytes(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    raise AssertionError("unreachable")


def _check_wav_length(path: Path, size: int) -> None:
    """A WAV whose data chunk claims more bytes than the file holds was cut short."""
    with path.open("rb") as f:
        found = wav_data_chunk(f, size)
    if found is None:
        raise AudioDecodeError(
            f"{path.name}: WAV file has no audio data chunk; re-export the file",
            exception_reason="INVALID_SOURCE_DATA",
        )
    pos, declared = found
    missing = pos + 8 + declared - size
    if declared >= 0 and missing > 0:
        raise AudioDecodeError(
            f"{path.name}: truncated WAV: the header promises "
            f"{_fmt_bytes(declared)} of audio but the file ends "
            f"{_fmt_bytes(missing)} early; re-export or re-download the file",
            exception_reason="INVALID_SOURCE_DATA",
        )


def _probe_soundfile(path: Path, fmt: str, size: int) -> tuple[str, int, int, int]:
    import soundfile as sf

    if fmt == "wav":
        _check_wav_length(path, size)
    try:
        with sf.SoundFile(str(path)) as f:
            frames, sr, channels, codec = f.frames, f.samplerate, f.channels, f.subtype
            tail = min(frames, 4096)
            if frames:
                f.seek(frames - tail)
                got = f.read(tail, dtype="float32", always_2d=True).shape[0]
                if got < tail:
                    raise AudioDecodeError(
                        f"{path.name}: truncated {FORMAT_NAMES[fmt]}: the audio stops before "
                        f"the length its header states; re-export or re-download the file",
                        exception_reason="INVALID_SOURCE_DATA",
                    )
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioDecodeError(
            f"{path.name}: the {FORMAT_NAMES[fmt]} data is corrupt or truncated ({exc}); "
            "re-export or re-download the file",
            exception_reason="INVALID_SOURCE_DATA",
        ) from exc
    return codec.lower(), int(sr), int(channels), int(frames)


def _probe_av(path: Path, fmt: str) -> tuple[str, int, int, int]:
    import av

    try:
        with av.open(str(path)) as container:
            streams = container.streams.audio
            if not streams:
                raise AudioFormatError(
                    f"{path.name}: the file holds no audio stream ({EXPECTED})",
                    exception_reason="SOURCE_TYPE_NOT_SUPPORTED",
                )
            stream = streams[0]
            sr = int(stream.codec_context.sample_rate or stream.rate or 0)
            channels = int(stream.codec_context.channels or 0)
            codec = stream.codec_context.name
            # Demux every packet (cheap, no decoding) to find the true end and to
            # hit truncation, then decode the first packets to prove the data is sound.
            end = 0.0
            decoded = 0
            for packet in container.demux(stream):
                if packet.pts is not None and packet.time_base is not None:
                    stop = (packet.pts + (packet.duration or 0)) * packet.time_base
                    end = max(end, float(stop))
                if decoded < 8 and packet.size:
                    for frame in packet.decode():
                        decoded += 1
                        sr = sr or frame.sample_rate
                        channels = channels or len(frame.layout.channels)
            if end <= 0 and container.duration:
                end = container.duration / 1_000_000
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise AudioDecodeError(
            f"{path.name}: the {FORMAT_NAMES[fmt]} data is corrupt or truncated ({exc}); "
            "re-export or re-download the file",
            exception_reason="INVALID_SOURCE_DATA",
        ) from exc
    if decoded == 0 or sr <= 0:
        raise AudioDecodeError(
            f"{path.name}: no decodable audio in this {FORMAT_NAMES[fmt]} file; "
            "re-export or re-download the file",
            exception_reason="INVALID_SOURCE_DATA",
        )
    start = float(stream.start_time * stream.time_base) if stream.start_time else 0.0
    return codec, sr, channels, round(max(end - max(start, 0.0), 0.0) * sr)


def probe(path: str | os.PathLike[str], limits: Limits | None = None) -> AudioInfo:
    """Identify and validate an audio file without decoding all of it.

    Checks, in order: the file exists and is not empty, is within the size limit,
    its content is audio in a supported format, the content matches the extension,
    the data is not truncated or corrupt, and the duration is within the limits.

    Parameters
    ----------
    path : str or os.PathLike
    limits : Limits, optional
        Defaults to :class:`Limits` ().

    Returns
    -------
    AudioInfo

    Raises
    ------
    AudioFormatError
        Not audio, unsupported, or content not matching the extension.
    AudioDecodeError
        Empty, truncated or corrupt.
    LimitExceededError
        Too long, too short or too large.

    See Also
    --------
    load : decode the samples.

    Examples
    --------
    >>> import numpy as np, soundfile as sf, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "tone.wav")
    >>> sf.write(p, np.zeros((22050, 2)), 44100)
    >>> info = probe(p)
    >>> info.format, info.channels, info.duration
    ('wav', 2, 0.5)
    """
    limits = limits or Limits()
    path = Path(path)
    name = path.name
    if not path.is_file():
        raise no_such_file(path)
    size = path.stat().st_size
    if size == 0:
        raise empty_file(name)
    if size > limits.max_bytes:
        raise LimitExceededError(
            f"{name}: {_fmt_bytes(size)} is larger than the limit of "
            f"{_fmt_bytes(limits.max_bytes)}; compress it (e.g. to FLAC or MP3) or split it",
            exception_reason="SOURCE_TOO_LARGE",
        )
    promised = expected_formats(path)
    if promised is None and path.suffix:
        raise AudioFormatError(
            f"{name}: extension {path.suffix!r} is not a supported audio format ({EXPECTED})",
            exception_reason="SOURCE_TYPE_NOT_SUPPORTED",
        )
    with path.open("rb") as f:
        fmt = sniff_format(f.read(_HEAD_BYTES))
    if fmt is None:
        raise not_audio(name)
    if promised is not None and fmt not in promised:
        raise AudioFormatError(
            f"{name}: the extension says {path.suffix.lstrip('.').upper()} but the content "
            f"is {FORMAT_NAMES[fmt]}; rename the file to match its content",
            exception_reason="CONTENT_DOES_NOT_MATCH_EXTENSION",
        )
    if fmt in ("wav", "flac"):
        codec, sr, channels, frames = _probe_soundfile(path, fmt, size)
    else:
        codec, sr, channels, frames = _probe_av(path, fmt)
    if frames <= 0:
        raise AudioDecodeError(
            f"{name}: the file holds no audio samples; re-export it",
            exception_reason="INVALID_SOURCE_DATA",
        )
    duration = frames / sr
    if duration > limits.max_duration:
        raise LimitExceededError(
            f"{name}: {duration:.1f} s is longer than the limit of {limits.max_duration:g} s; "
            "split the clip or trim it",
            exception_reason="SOURCE_TOO_LONG",
        )
    if duration < limits.min_duration:
        raise LimitExceededError(
            f"{name}: {duration:.2f} s is shorter than the minimum of "
            f"{limits.min_duration:g} s; use a longer clip",
            exception_reason="SOURCE_TOO_SHORT",
        )
    return AudioInfo(path, fmt, codec, sr, channels, frames, duration, size)

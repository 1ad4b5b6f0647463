"""Decode WAV and FLAC with soundfile (libsndfile), block by block.

libsndfile seeks to any sample exactly in these formats, so a window is simply a seek and a
read. It does not notice every cut file by itself (a cut WAV just looks shorter, a cut FLAC
fails only where the cut is), so the file's own promises are checked when it is opened.

(libsndfile also reads Ogg Vorbis, but a window read after a seek does not always match a
sequential decode: Ogg goes through PyAV.)
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import numpy as np

from ._containers import wav_declared_frames
from ._formats import cannot_decode, truncated

__all__ = ["SoundfileDecoder"]

_CHUNK = 1 << 16
_TAIL = 4096


class SoundfileDecoder:
    """One file decoded by libsndfile; sample positions are exact.

    Parameters
    ----------
    source : str or bytes
        A file path, or the whole file's bytes.
    name : str
        What error messages call the file.
    fmt : str
        Its sniffed format (``wav`` or ``flac``).
    """

    def __init__(self, source: str | bytes, name: str, fmt: str) -> None:
        import soundfile as sf

        self.name = name
        self.format = fmt
        self._source = source
        try:
            self._file = sf.SoundFile(self._reopen())
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise cannot_decode(name, exc) from exc
        self.sample_rate = int(self._file.samplerate)
        self.channels = int(self._file.channels)
        self.frames = int(self._file.frames)
        self._check_complete(source)

    def close(self) -> None:
        """Release the file."""
        self._file.close()

    def _reopen(self) -> str | io.BytesIO:
        return io.BytesIO(self._source) if isinstance(self._source, bytes) else self._source

    def _check_complete(self, source: str | bytes) -> None:
        sr = self.sample_rate
        with io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb") as f:
            size = f.seek(0, io.SEEK_END)
            if self.format == "wav":
                block_align = self.channels * _bytes_per_sample(self._file.subtype)
                promised = wav_declared_frames(f, size, block_align) if block_align else None
                if promised is not None and promised > self.frames:
                    raise truncated(self.name, self.format, self.frames / sr, promised / sr)
        if self.format == "flac" and self.frames and not self._readable(self.frames - _TAIL):
            raise truncated(self.name, self.format, self._last_readable() / sr, self.frames / sr)

    def _readable(self, at: int) -> bool:
        """Whether the ``_TAIL`` samples from ``at`` decode (a cut FLAC fails past the cut).

        Each probe opens the file afresh: libsndfile's FLAC decoder stays broken after a
        failed seek.
        """
        import soundfile as sf

        at = max(at, 0)
        want = min(_TAIL, self.frames - at)
        try:
            with sf.SoundFile(self._reopen()) as f:
                f.seek(at)
                return f.read(want, dtype="float32", always_2d=True).shape[0] == want
        except (sf.LibsndfileError, RuntimeError):
            return False

    def _last_readable(self) -> int:
        """Where a cut FLAC stops, to within ``_TAIL`` samples (bisection, ~20 seeks)."""
        lo, hi = 0, self.frames - _TAIL
        if not self._readable(0):
            return 0
        while hi - lo > _TAIL:
            mid = (lo + hi) // 2
            lo, hi = (mid, hi) if self._readable(mid) else (lo, mid)
        return lo + _TAIL

    def chunks(self, start: int) -> Iterator[np.ndarray]:
        """Consecutive float32 ``(channels, n)`` arrays from sample ``start`` to the end."""
        import soundfile as sf

        pos = start
        buf = np.empty((_CHUNK, self.channels), np.float32)
        while pos < self.frames:
            want = min(_CHUNK, self.frames - pos)
            try:
                if self._file.tell() != pos:
                    self._file.seek(pos)
                got = self._file.read(want, dtype="float32", always_2d=True, out=buf[:want])
            except (sf.LibsndfileError, RuntimeError) as exc:
                raise truncated(
                    self.name, self.format, pos / self.sample_rate, self.frames / self.sample_rate
                ) from exc
            n = got.shape[0]
            if n:
                chunk = np.empty((self.channels, n), np.float32)
                chunk[:] = got[:n].T  # a copy: ``buf`` is reused for the next read
                yield chunk
                pos += n
            if n < want:
                raise truncated(
                    self.name, self.format, pos / self.sample_rate, self.frames / self.sample_rate
                )


def _bytes_per_sample(subtype: str) -> int:
    return {
        "PCM_U8": 1,
        "PCM_S8": 1,
        "PCM_16": 2,
        "PCM_24": 3,
        "PCM_32": 4,
        "FLOAT": 4,
        "DOUBLE": 8,
        "ULAW": 1,
        "ALAW": 1,
    }.get(subtype, 0)

"""The voiced share of a mono stream: librosa's pYIN at 8 kHz, in overlapping blocks."""

from __future__ import annotations

import numpy as np

from ._frames import FrameChunker

__all__ = ["VOICING_SR", "VoicingMeter"]

VOICING_SR = 8000
FRAME = 1024  # 128 ms: two periods of the lowest pitch, 65 Hz
HOP = 512  # 64 ms: pYIN spends ~2.5 ms per frame in a Python loop
FMIN, FMAX = 65.0, 1000.0  # bass voice to a soprano's top
# One pitch bin per semitone: pYIN's Viterbi costs the square of the number of bins, and
# the voicing decision (all this measure uses) does not need finer pitch.
RESOLUTION = 1.0
_FRAMES = 1024  # new frames per pYIN call (33 s)
_CONTEXT = 32  # frames (1 s) decoded on either side and dropped: the Viterbi path settles


class VoicingMeter:
    """Share of frames that ``librosa.pyin`` calls voiced, for a mono stream at 8 kHz.

    pYIN decodes a voiced/unvoiced path with a Viterbi pass over the whole sequence it is
    given. Here it is given 33 s at a time plus 1 s of context on either side, whose frames
    are decoded and dropped, so a block edge does not cut a voiced stretch short.

    Examples
    --------
    >>> t = np.arange(3 * VOICING_SR) / VOICING_SR
    >>> tone = 0.3 * np.sin(2 * np.pi * 220 * t) * (t < 1.5)  # voiced, then silence
    >>> m = VoicingMeter()
    >>> m.push(tone.astype(np.float32))
    >>> round(m.result()["voiced_fraction"], 1)
    0.5
    """

    def __init__(self) -> None:
        self._chunker = FrameChunker(FRAME, HOP, frames=_FRAMES, context=_CONTEXT)
        self.voiced = 0
        self.frames = 0

    def _add(self, seg) -> None:
        import librosa

        _, flags, _ = librosa.pyin(
            seg.samples,
            fmin=FMIN,
            fmax=FMAX,
            sr=VOICING_SR,
            frame_length=FRAME,
            hop_length=HOP,
            center=False,
            resolution=RESOLUTION,
        )
        self.voiced += int(np.count_nonzero(flags[seg.skip : seg.skip + seg.keep]))
        self.frames += seg.keep

    def push(self, mono: np.ndarray) -> None:
        """Account for the next samples (mono, at 8 kHz)."""
        for seg in self._chunker.push(mono):
            self._add(seg)

    def result(self) -> dict[str, float]:
        """``voiced_fraction``: voiced frames / all frames (NaN for an empty stream)."""
        for seg in self._chunker.finish():
            self._add(seg)
        return {"voiced_fraction": self.voiced / self.frames if self.frames else float("nan")}

"""Onsets and tempo of a mono stream at 22.05 kHz: librosa's pieces, run in blocks.

The onset envelope is librosa's spectral flux: a 128-band mel power spectrogram in dB
(2048/512 grid, frames centred), and per frame the mean over bands of the positive change
since the previous frame (``librosa.onset.onset_strength``). Two things librosa does on the
whole clip are made local so that blocks give the same answer as the whole clip:

- librosa floors the dB spectrogram 80 dB below the clip's loudest bin (``top_db``); here the
  floor is 80 dB below a full-scale tone, the same for every block;
- ``onset_detect`` rescales the envelope by its maximum before its threshold ``delta``; here
  ``delta`` is in the envelope's own unit (dB of mean flux), so no rescaling is needed.

Peaks are picked with ``librosa.util.peak_pick`` (librosa's default windows: 30 ms before,
100 ms averages, 30 ms wait) on stretches of the envelope that carry enough frames of context
on either side for each frame's decision; the wait after an onset is applied across blocks,
so an onset at a block edge is found once. Tempo is ``librosa.feature.tempo`` on the mean of
the tempogram over the clip; that mean is summed column by column as the envelope arrives.
"""

from __future__ import annotations

import functools

import numpy as np

from ._frames import FrameChunker

__all__ = ["ONSET_DELTA", "RHYTHM_SR", "OnsetMeter", "onset_envelope"]

RHYTHM_SR = 22050
N_FFT = 2048
HOP = 512
N_MELS = 128
#: Threshold of the peak picker: flux (mean dB increase over the mel bands) above the local
#: average; 1 dB finds what librosa's default ``onset_detect`` finds on music and speech.
ONSET_DELTA = 1.0
_TOP_DB = 80.0
# Peak picking windows in frames: librosa's onset_detect defaults at this rate and hop.
_PRE_MAX, _POST_MAX = 1, 1
_PRE_AVG, _POST_AVG = 4, 5
_WAIT = 1
_AC_SIZE = 8.0  # seconds of the tempogram's autocorrelation window (librosa's default)


@functools.lru_cache(maxsize=1)
def floor_db() -> float:
    """The dB floor of the mel spectrogram: 80 dB below a full-scale 1 kHz tone on this grid.

    Examples
    --------
    >>> round(floor_db())
    -40
    """
    import librosa

    t = np.arange(RHYTHM_SR) / RHYTHM_SR
    tone = np.sin(2 * np.pi * 1000 * t).astype(np.float32)
    mel = librosa.feature.melspectrogram(
        y=tone, sr=RHYTHM_SR, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS, center=False
    )
    return float(10 * np.log10(mel.max())) - _TOP_DB


def _mel_db(samples: np.ndarray) -> np.ndarray:
    import librosa

    mel = librosa.feature.melspectrogram(
        y=samples, sr=RHYTHM_SR, n_fft=N_FFT, hop_length=HOP, n_mels=N_MELS, center=False
    )
    return np.maximum(librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=None), floor_db())


def _flux(S_db: np.ndarray) -> np.ndarray:
    import librosa

    return librosa.onset.onset_strength(
        S=S_db, lag=1, max_size=1, center=False, detrend=False, aggregate=np.mean
    )


def onset_envelope(y: np.ndarray) -> np.ndarray:
    """The onset envelope of a whole mono signal at 22.05 kHz, in one go.

    What :class:`OnsetMeter` computes block by block (a reference for tests and teaching).

    Examples
    --------
    >>> y = np.zeros(22050, np.float32)
    >>> y[11025:11125] = 0.5  # a click half-way
    >>> env = onset_envelope(y)
    >>> len(env), int(np.argmax(env)) * 512 / 22050 > 0.45
    (44, True)
    """
    import librosa

    mel = librosa.feature.melspectrogram(
        y=np.asarray(y, np.float32),
        sr=RHYTHM_SR,
        n_fft=N_FFT,
        hop_length=HOP,
        n_mels=N_MELS,
        center=True,
        pad_mode="constant",
    )
    S_db = np.maximum(librosa.power_to_db(mel, ref=1.0, amin=1e-10, top_db=None), floor_db())
    return _flux(S_db)


def pick_onsets(env: np.ndarray, delta: float = ONSET_DELTA) -> np.ndarray:
    """Onset frames of a whole envelope (librosa's peak picker with this module's settings).

    Examples
    --------
    >>> pick_onsets(np.array([0, 0, 0, 0, 5.0, 0, 0, 0, 0, 0])).tolist()
    [4]
    """
    import librosa

    return librosa.util.peak_pick(
        np.asarray(env, np.float64),
        pre_max=_PRE_MAX,
        post_max=_POST_MAX,
        pre_avg=_PRE_AVG,
        post_avg=_POST_AVG,
        delta=delta,
        wait=_WAIT,
    )


class _PeakPicker:
    """``librosa.util.peak_pick`` over an envelope that arrives in pieces.

    Each frame's decision needs the frames ``_PRE`` before and ``_POST`` after it; frames are
    decided once those are in, with ``wait=0`` (so each frame is judged on its own), and the
    wait after an onset is applied here, in order, across pieces: the same onsets as one
    ``peak_pick`` call on the whole envelope.
    """

    _PRE = max(_PRE_MAX, _PRE_AVG)
    _POST = max(_POST_MAX, _POST_AVG)

    def __init__(self, delta: float) -> None:
        self.delta = delta
        self._env = np.zeros(0)
        self._base = 0  # frame index of _env[0]
        self._next = 0  # first frame not yet decided
        self._last = -(10**9)
        self.count = 0

    def _decide(self, stop: int) -> None:
        import librosa

        if stop <= self._next:
            return
        a = max(self._next - self._PRE, 0)
        window = self._env[a - self._base : stop + self._POST - self._base]
        peaks = (
            librosa.util.peak_pick(
                window,
                pre_max=_PRE_MAX,
                post_max=_POST_MAX,
                pre_avg=_PRE_AVG,
                post_avg=_POST_AVG,
                delta=self.delta,
                wait=0,
            )
            + a
        )
        for p in peaks[(peaks >= self._next) & (peaks < stop)]:
            if p > self._last + _WAIT:
                self._last = int(p)
                self.count += 1
        self._next = stop
        keep = max(self._next - self._PRE, self._base)
        self._env = self._env[keep - self._base :]
        self._base = keep

    def push(self, env: np.ndarray) -> None:
        self._env = np.concatenate([self._env, np.asarray(env, np.float64)])
        self._decide(self._base + len(self._env) - self._POST + 1)

    def finish(self) -> int:
        self._decide(self._base + len(self._env))
        return self.count


class _Tempogram:
    """The mean of ``librosa.feature.tempogram`` over all frames, summed as the envelope comes.

    The tempogram centres its autocorrelation windows with a linear ramp from 0 to the first
    (and from the last) envelope value; those ramps are built from the first and last values,
    so the padded envelope, its frames and their sum equal the whole-clip computation.
    """

    def __init__(self) -> None:
        import librosa
        from scipy.signal import get_window

        self.win = int(librosa.time_to_frames(_AC_SIZE, sr=RHYTHM_SR, hop_length=HOP))
        self.half = self.win // 2
        self._window = get_window("hann", self.win, fftbins=True)[:, None]
        self._padded = np.zeros(0)
        self._done = 0  # frames summed
        self._n = 0  # envelope values received
        self._last = 0.0
        self.total = np.zeros(self.win)

    def _frames(self, upto: int) -> None:
        """Sum frames ``[_done, upto)``; frame i is ``padded[i : i + win]``."""
        import librosa

        count = upto - self._done
        if count <= 0:
            return
        seg = self._padded[: count + self.win - 1]
        frames = librosa.util.frame(seg, frame_length=self.win, hop_length=1)[:, :count]
        ac = librosa.autocorrelate(frames * self._window, axis=0)
        self.total += librosa.util.normalize(ac, norm=np.inf, axis=0).sum(axis=1)
        self._padded = self._padded[count:]
        self._done = upto

    def push(self, env: np.ndarray) -> None:
        if not len(env):
            return
        if self._n == 0:  # the ramp up to the first value
            ramp = np.pad(env[:1], (self.half, 0), mode="linear_ramp", end_values=0)[:-1]
            self._padded = ramp
        self._padded = np.concatenate([self._padded, env])
        self._n += len(env)
        self._last = float(env[-1])
        self._frames(self._done + max(len(self._padded) - self.win + 1, 0))

    def finish(self) -> float:
        """librosa's tempo estimate (BPM) from the mean tempogram; NaN without any rhythm."""
        import librosa

        if self._n == 0:
            return float("nan")
        ramp = np.pad(np.array([self._last]), (0, self.half), mode="linear_ramp", end_values=0)
        self._padded = np.concatenate([self._padded, ramp[1:], np.zeros(self.win)])
        self._frames(self._n)
        if not self.total.any():
            return float("nan")
        mean = (self.total / self._n)[:, None]
        return float(librosa.feature.tempo(tg=mean, sr=RHYTHM_SR, hop_length=HOP)[0])


class OnsetMeter:
    """Onset rate (per second) and tempo (BPM) of a mono stream at :data:`RHYTHM_SR`.

    Parameters
    ----------
    tempo : bool
        Also estimate the tempo.
    delta : float
        Peak picking threshold in dB of mean flux (see :data:`ONSET_DELTA`).

    Examples
    --------
    >>> y = np.zeros(5 * 22050, np.float32)
    >>> for k in range(10):  # a click every half second from 0.25 s
    ...     y[int((0.25 + 0.5 * k) * 22050)] = 1.0
    >>> m = OnsetMeter()
    >>> m.push(y)
    >>> m.result()["onset_rate"]
    2.0
    """

    def __init__(self, *, tempo: bool = True, delta: float = ONSET_DELTA) -> None:
        self._chunker = FrameChunker(N_FFT, HOP, frames=256)
        self._prev: np.ndarray | None = None  # the last dB frame (the flux needs it)
        self._peaks = _PeakPicker(delta)
        self._tempo = _Tempogram() if tempo else None

    def _add(self, samples: np.ndarray) -> None:
        S_db = _mel_db(samples)
        if self._prev is None:
            env = _flux(S_db)
        else:
            env = _flux(np.concatenate([self._prev, S_db], axis=1))[1:]
        self._prev = S_db[:, -1:]
        self._peaks.push(env)
        if self._tempo is not None:
            self._tempo.push(env)

    def push(self, mono: np.ndarray) -> None:
        """Account for the next samples (mono, at 22.05 kHz)."""
        for seg in self._chunker.push(mono):
            self._add(seg.samples)

    def result(self) -> dict[str, float]:
        """``onset_rate`` (onsets per second) and, if asked for, ``tempo_bpm``."""
        for seg in self._chunker.finish():
            self._add(seg.samples)
        seconds = self._chunker.samples / RHYTHM_SR
        out = {"onset_rate": self._peaks.finish() / seconds if seconds else float("nan")}
        if self._tempo is not None:
            out["tempo_bpm"] = self._tempo.finish()
        return out

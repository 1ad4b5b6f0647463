"""librosa's documented REPET-SIM recipe (gallery example "Vocal separation"), as a baseline.

Magnitude STFT (2048/512), ``nn_filter`` with ``aggregate=np.median``, ``metric="cosine"`` and a
2-second width, the filter capped by the mixture, soft masks with margins 2 (background) and 10
(foreground) and power 2. The masks are computed on the channel average and applied to every
channel's STFT.
"""

from __future__ import annotations

import numpy as np

__all__ = ["librosa_repet_sim"]


def librosa_repet_sim(audio: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (foreground, background) like the gallery example, for (channels, n) audio."""
    import librosa

    mono = audio.mean(axis=0)
    s_full, _ = librosa.magphase(librosa.stft(mono))
    s_filter = librosa.decompose.nn_filter(
        s_full,
        aggregate=np.median,
        metric="cosine",
        width=int(librosa.time_to_frames(2, sr=sr)),
    )
    s_filter = np.minimum(s_full, s_filter)
    margin_i, margin_v, power = 2, 10, 2
    mask_i = librosa.util.softmask(s_filter, margin_i * (s_full - s_filter), power=power)
    mask_v = librosa.util.softmask(s_full - s_filter, margin_v * s_filter, power=power)
    n = audio.shape[1]
    fg = np.empty_like(audio)
    bg = np.empty_like(audio)
    for c in range(audio.shape[0]):
        spec = librosa.stft(audio[c])
        fg[c] = librosa.istft(mask_v * spec, length=n)
        bg[c] = librosa.istft(mask_i * spec, length=n)
    return fg, bg

"""A full-band voice check set: the dev corpus's bands with full-band synthetic voices on top.

The dev corpus's voices come from 8–22 kHz sources: nothing above 11 kHz, where a real voice
has its sibilance and breath. Here each item keeps its corpus background (a FluidSynth band
at 44.1 kHz, cymbals and all) and gets a new voice: eSpeak NG speech (22.05 kHz), upsampled,
whose fricative and breath noise is carried on above 11 kHz the way a wide-band recording
shows it — noise shaped by each frame's 5.5–11 kHz energy, falling 6 dB per octave, 3 dB below
that band at 11 kHz. Voice level and stereo placement follow the corpus item (centred, the
item's foreground RMS). Needs Debian's ``espeak-ng``.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

SR = 44100
TEXTS = [
    "She sells sea shells by the seashore, and the shells she sells are surely seashells. "
    "Six sticky skeletons sat still, as sixty swift swans swam south.",
    "Fresh fish, fried fish, fish sticks and sushi: this is the foreground, a voice with a "
    "hiss, a whisper and a breath, speaking over the band for the full-band check.",
    "Stop. Listen to the sound of the sibilants: assessments, successes, excesses. "
    "The fifth sixth-formers' philosophy thesis was superficially sophisticated.",
    "Whispering voices, soft breaths and sharp consonants: the classic test of what a "
    "separator does above eleven kilohertz, where the network never looks.",
]
VOICES = ["en-us", "en-gb", "en-us+f3", "en-gb+m3"]


def available() -> bool:
    return shutil.which("espeak-ng") is not None


def _espeak(text: str, voice: str, tmp: Path) -> np.ndarray:
    from camb_notebook.audio import load

    wav = tmp / "v.wav"
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", "155", "-w", str(wav), text],
        check=True,
        capture_output=True,
    )
    x, _ = load(wav, sr=SR, mono=True)
    return x[0]


def _extend_above_11k(voice: np.ndarray, seed: int) -> np.ndarray:
    """Add noise above 11 kHz that follows the voice's 5.5–11 kHz energy frame by frame."""
    import scipy.signal

    n_fft, hop = 1024, 256
    f, _, spec = scipy.signal.stft(voice, SR, nperseg=n_fft, noverlap=n_fft - hop)
    mid = (f >= 5500) & (f < 11000)
    high = f >= 11000
    energy = np.mean(np.abs(spec[mid]) ** 2, axis=0)  # per frame, per bin
    rng = np.random.default_rng(seed)
    noise = rng.normal(size=spec[high].shape) + 1j * rng.normal(size=spec[high].shape)
    tilt = (f[high] / 11000.0) ** -1.0  # −6 dB per octave in amplitude
    # per-bin power at 11 kHz half (−3 dB) the 5.5–11 kHz band's mean per-bin power
    gain = np.sqrt(0.5 * energy / 2.0)[None, :] * tilt[:, None]
    extra = np.zeros_like(spec)
    extra[high] = noise * gain
    _, y = scipy.signal.istft(extra, SR, nperseg=n_fft, noverlap=n_fft - hop)
    return voice + y[: voice.size].astype(np.float32)


def items(corpus: Path) -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """``(name, mixture, foreground, background)`` for the band items of the corpus."""
    import soundfile as sf

    folders = [p for p in sorted(corpus.iterdir()) if p.is_dir() and "_band_" in p.name]
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, folder in enumerate(folders[: len(TEXTS)]):
            bg = sf.read(folder / "background.flac", dtype="float32", always_2d=True)[0].T
            ref = sf.read(folder / "foreground.flac", dtype="float32", always_2d=True)[0].T
            n = bg.shape[1]
            voice = _extend_above_11k(_espeak(TEXTS[k], VOICES[k], Path(tmp)), seed=k)
            voice = np.pad(voice, (int(0.5 * SR), 0))[:n]
            voice = np.pad(voice, (0, n - voice.size))
            active = np.abs(ref).max(axis=0) > 1e-4
            spoken = np.abs(voice) > 1e-4
            scale = np.sqrt(np.mean(ref[:, active] ** 2) / max(np.mean(voice[spoken] ** 2), 1e-12))
            fg = np.stack([0.95 * voice, voice]).astype(np.float32) * scale
            out.append((folder.name.replace("_band_", "_fullband_"), fg + bg, fg, bg))
    return out


def high_band_share(x: np.ndarray) -> float:
    """Fraction of a signal's energy above 11 kHz (to show the voices really are full-band)."""
    spec = np.abs(np.fft.rfft(x, axis=-1)) ** 2
    freqs = np.fft.rfftfreq(x.shape[-1], 1 / SR)
    return float(spec[..., freqs >= 11025].sum() / max(spec.sum(), 1e-30))

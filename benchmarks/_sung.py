"""Sung-voice check items: a FluidSynth voice patch sings a melody, centred, over a wide band.

The dev corpus has speech only; DeepFilterNet3 is a speech model and removes singing. These
items check that the ``hybrid`` method does not lose a sung voice that Spleeter keeps. Each
item is 20 s at 44.1 kHz stereo: a monophonic melody on General MIDI's "Choir Aahs" (52) or
"Voice Oohs" (53) (FluidR3 GM's sampled voices), mono in the centre, with an instrumental
passage (8 beats) in every 24; the band (piano, bass, strings pad, drums) is panned wide. Voice
and band are rendered separately, so the true stems are known; voice-to-band ratio 0 dB over
the voice's active parts.

Needs Debian's ``fluidsynth`` and ``fluid-soundfont-gm`` and ``pip install mido``. Items are
deterministic for a given seed (up to the synthesiser's version). The seeds used for tuning
the hybrid (1–4) are not among those the benchmark reports (11–14).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

SR = 44100
SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
#: (name, GM program, seed) of the reported items
ITEMS = (
    ("choir_aahs_11", 52, 11),
    ("voice_oohs_12", 53, 12),
    ("choir_aahs_13", 52, 13),
    ("voice_oohs_14", 53, 14),
)


def missing() -> str | None:
    """Why the items cannot be made here, or None."""
    if shutil.which("fluidsynth") is None:
        return "fluidsynth not found (apt install fluidsynth)"
    if not SOUNDFONT.is_file():
        return f"{SOUNDFONT} not found (apt install fluid-soundfont-gm)"
    try:
        import mido  # noqa: F401
    except ImportError:
        return "mido not installed (pip install mido)"
    return None


def _render(midi: Path, wav: Path) -> np.ndarray:
    import soundfile as sf

    subprocess.run(
        [
            "fluidsynth",
            "-ni",
            "-g",
            "0.5",
            "-r",
            str(SR),
            "-F",
            str(wav),
            str(SOUNDFONT),
            str(midi),
        ],
        check=True,
        capture_output=True,
    )
    x, sr = sf.read(wav, dtype="float32", always_2d=True)
    if sr != SR:
        raise RuntimeError(f"fluidsynth wrote {sr} Hz, expected {SR}")
    return x.T.copy()


def song(program: int, seed: int, seconds: float = 20.0, bpm: int = 96) -> tuple[np.ndarray, ...]:
    """Return ``(mixture, voice, band)``, float32 ``(2, n)``, mixture = voice + band."""
    import mido

    rng = np.random.default_rng(seed)
    beat = 480
    tempo = mido.bpm2tempo(bpm)
    nbeats = int(seconds * bpm / 60)
    voice = mido.MidiFile(ticks_per_beat=beat)
    band = mido.MidiFile(ticks_per_beat=beat)
    vt = mido.MidiTrack()
    voice.tracks.append(vt)
    vt.append(mido.MetaMessage("set_tempo", tempo=tempo))
    vt.append(mido.Message("program_change", program=program, channel=0))
    vt.append(mido.Message("control_change", control=10, value=64, channel=0))
    vt.append(mido.Message("control_change", control=91, value=0, channel=0))  # dry
    scale = [60, 62, 64, 65, 67, 69, 71, 72, 74]
    pending, pos, idx = 0, 0, 4
    while pos < nbeats:
        if (pos // 8) % 3 == 2:  # an instrumental passage of 8 beats
            pending += 8 * beat
            pos += 8
            continue
        dur = min(int(rng.choice([1, 1, 2, 2, 3])), nbeats - pos)
        idx = int(np.clip(idx + rng.integers(-2, 3), 0, len(scale) - 1))
        note = scale[idx]
        vel = int(rng.integers(80, 110))
        vt.append(mido.Message("note_on", note=note, velocity=vel, channel=0, time=pending))
        vt.append(mido.Message("note_off", note=note, channel=0, time=dur * beat - 20))
        pending = 20
        pos += dur
    chords = [[48, 55, 64], [45, 52, 60], [41, 48, 57], [43, 50, 59]]
    tracks = {}
    for name, prog, ch, pan in (
        ("piano", 0, 0, 20),
        ("bass", 33, 1, 90),
        ("pad", 48, 2, 110),
        ("drums", 0, 9, 40),
    ):
        tr = mido.MidiTrack()
        band.tracks.append(tr)
        tracks[name] = tr
        if name == "piano":
            tr.append(mido.MetaMessage("set_tempo", tempo=tempo))
        if ch != 9:
            tr.append(mido.Message("program_change", program=prog, channel=ch))
        tr.append(mido.Message("control_change", control=10, value=pan, channel=ch))
        tr.append(mido.Message("control_change", control=91, value=0, channel=ch))
    for bar in range(nbeats // 4 + 1):
        chord = chords[bar % 4]
        for _ in range(2):
            for n in chord:
                tracks["piano"].append(mido.Message("note_on", note=n, velocity=70, time=0))
            tracks["piano"].append(mido.Message("note_off", note=chord[0], time=2 * beat))
            for n in chord[1:]:
                tracks["piano"].append(mido.Message("note_off", note=n, time=0))
        for n in chord:
            tracks["pad"].append(mido.Message("note_on", note=n - 12, velocity=50, channel=2))
        tracks["pad"].append(mido.Message("note_off", note=chord[0] - 12, channel=2, time=4 * beat))
        for n in chord[1:]:
            tracks["pad"].append(mido.Message("note_off", note=n - 12, channel=2, time=0))
        for step in range(4):
            note = chord[0] - 12 + (7 if step == 2 else 0)
            tracks["bass"].append(mido.Message("note_on", note=note, velocity=90, channel=1))
            tracks["bass"].append(mido.Message("note_off", note=note, channel=1, time=beat))
        for step in range(8):
            drum = 36 if step in (0, 4) else 38 if step in (2, 6) else 42
            tracks["drums"].append(mido.Message("note_on", note=drum, velocity=80, channel=9))
            tracks["drums"].append(mido.Message("note_off", note=drum, channel=9, time=beat // 2))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        voice.save(folder / "voice.mid")
        band.save(folder / "band.mid")
        v = _render(folder / "voice.mid", folder / "voice.wav")
        b = _render(folder / "band.mid", folder / "band.wav")
    n = int(seconds * SR)

    def fit(a: np.ndarray) -> np.ndarray:
        return np.pad(a, ((0, 0), (0, max(0, n - a.shape[1]))))[:, :n]

    v = np.repeat(fit(v).mean(axis=0, keepdims=True), 2, axis=0)  # centred
    b = fit(b)
    active = np.abs(v[0]) > 1e-3 * np.abs(v).max()
    v *= np.sqrt((b[:, active] ** 2).mean() / (v[:, active] ** 2).mean())
    peak = np.abs(v + b).max()
    v = (0.8 * v / peak).astype(np.float32)
    b = (0.8 * b / peak).astype(np.float32)
    return v + b, v, b


def items() -> list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]:
    """The reported items as ``(name, mixture, voice, band)``."""
    return [(name, *song(program, seed)) for name, program, seed in ITEMS]

"""Re-create the bundled example clip (camb_notebook/data/example_*.ogg).

Needs Debian's espeak-ng, fluidsynth and fluid-soundfont-gm, and `pip install mido`;
none of them is needed to *use* the example. The result is deterministic up to the
synthesisers' versions.

    python scripts/make_example.py
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import mido
import numpy as np

from camb_notebook import audio

SR = 44100
SECONDS = 15.0
OUT = Path(__file__).resolve().parents[1] / "camb_notebook" / "data"
SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
TEXT = (
    "Hello, and welcome to camb notebook. This is the foreground: a voice in the "
    "middle of the stereo field. Behind me plays the background, a small band with "
    "piano, bass and drums. Separation pulls the two apart, so you can listen to each."
)


def speech(tmp: Path) -> np.ndarray:
    wav = tmp / "voice.wav"
    subprocess.run(
        ["espeak-ng", "-v", "en-us", "-s", "150", "-p", "45", "-w", str(wav), TEXT], check=True
    )
    x, _ = audio.load(wav, sr=SR, mono=True)
    x = x[:, : int(SECONDS * SR)]
    x = np.pad(x, ((0, 0), (int(0.5 * SR), 0)))[:, : int(SECONDS * SR)]
    x = np.pad(x, ((0, 0), (0, int(SECONDS * SR) - x.shape[1])))
    x = 0.7 * x / np.max(np.abs(x))
    return np.concatenate([0.95 * x, 1.0 * x])  # nearly centred


def band(tmp: Path) -> np.ndarray:
    mid = mido.MidiFile(ticks_per_beat=480)
    tempo = mido.bpm2tempo(100)
    beat = 480
    chords = [[48, 55, 64], [45, 52, 60], [41, 48, 57], [43, 50, 59]]  # C Am F G
    bars = int(SECONDS * 100 / 60 / 4) + 1
    tracks = {name: mido.MidiTrack() for name in ("piano", "bass", "drums")}
    for t in tracks.values():
        mid.tracks.append(t)
    tracks["piano"].append(mido.MetaMessage("set_tempo", tempo=tempo))
    tracks["piano"].append(mido.Message("program_change", program=4, channel=0))
    tracks["bass"].append(mido.Message("program_change", program=33, channel=1))
    for bar in range(bars):
        chord = chords[bar % 4]
        for _ in range(2):  # two half-note strums per bar
            for n in chord:
                tracks["piano"].append(mido.Message("note_on", note=n + 12, velocity=60, time=0))
            tracks["piano"].append(mido.Message("note_off", note=chord[0] + 12, time=2 * beat))
            for n in chord[1:]:
                tracks["piano"].append(mido.Message("note_off", note=n + 12, time=0))
        for step in range(4):
            note = chord[0] - 12 + (7 if step == 2 else 0)
            tracks["bass"].append(mido.Message("note_on", note=note, velocity=80, channel=1))
            tracks["bass"].append(mido.Message("note_off", note=note, channel=1, time=beat))
        for step in range(8):
            drum = 36 if step in (0, 4) else 38 if step in (2, 6) else 42
            tracks["drums"].append(mido.Message("note_on", note=drum, velocity=70, channel=9))
            tracks["drums"].append(mido.Message("note_off", note=drum, channel=9, time=beat // 2))
    midi = tmp / "band.mid"
    mid.save(midi)
    wav = tmp / "band.wav"
    subprocess.run(
        ["fluidsynth", "-ni", "-g", "0.6", "-r", str(SR), "-F", str(wav), SOUNDFONT, str(midi)],
        check=True,
        capture_output=True,
    )
    x, _ = audio.load(wav, sr=SR)
    x = x[:, : int(SECONDS * SR)]
    return 0.3 * x / np.max(np.abs(x))


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        fg = speech(Path(tmp))
        bg = band(Path(tmp))
    OUT.mkdir(parents=True, exist_ok=True)
    for name, x in (("foreground", fg), ("background", bg)):
        path = audio.save(OUT / f"example_{name}.ogg", x, SR, bitrate=128000)
        print(path, path.stat().st_size, "bytes")


if __name__ == "__main__":
    main()

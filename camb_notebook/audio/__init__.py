"""Audio in and out: probe and validate, decode, encode, align stems, measure.

Arrays are float32 shaped ``(channels, samples)`` everywhere in camb_notebook.

Examples
--------
>>> from camb_notebook import audio
>>> sorted(audio.FORMAT_NAMES)
['aac', 'flac', 'm4a', 'mp3', 'ogg', 'wav']
"""

from ._formats import EXTENSIONS, FORMAT_NAMES, MIME_TYPES, mime_type, sniff_format
from ._io import encode, encode_preview, load, resample, save
from ._probe import AudioInfo, Limits, probe
from ._reader import AudioReader, open_audio
from ._stems import Stems, rms_db, sdr
from ._writer import AudioWriter, open_writer

__all__ = [
    "EXTENSIONS",
    "FORMAT_NAMES",
    "MIME_TYPES",
    "AudioInfo",
    "AudioReader",
    "AudioWriter",
    "Limits",
    "Stems",
    "encode",
    "encode_preview",
    "load",
    "mime_type",
    "open_audio",
    "open_writer",
    "probe",
    "resample",
    "rms_db",
    "save",
    "sdr",
    "sniff_format",
]

"""Audio in and out: probe and validate, decode, encode, align stems, measure.

Arrays are float32 shaped ``(channels, samples)`` everywhere in camb_notebook. Long clips
are streamed: :func:`open_audio` reads any window or decodes in blocks, :func:`open_writer`
writes block by block, and :class:`Stems` reads aligned windows of stem files; memory then
follows the block, not the clip. :func:`load` and :func:`save` handle whole arrays.

Examples
--------
>>> from camb_notebook import audio
>>> sorted(audio.FORMAT_NAMES)
['aac', 'flac', 'm4a', 'mp3', 'ogg', 'wav']
"""

from ._formats import (
    ACCEPT,
    EXTENSIONS,
    FORMAT_NAMES,
    FORMATS_TEXT,
    MIME_TYPES,
    mime_type,
    sniff_format,
)
from ._io import encode, encode_preview, load, resample, save
from ._measure import LevelAccumulator, SdrAccumulator, rms_db, sdr, sdr_files
from ._probe import AudioInfo, Limits, probe
from ._reader import AudioReader, open_audio
from ._stems import Stems, StemWindow
from ._writer import AudioWriter, open_writer

__all__ = [
    "ACCEPT",
    "EXTENSIONS",
    "FORMATS_TEXT",
    "FORMAT_NAMES",
    "MIME_TYPES",
    "AudioInfo",
    "AudioReader",
    "AudioWriter",
    "LevelAccumulator",
    "Limits",
    "SdrAccumulator",
    "StemWindow",
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
    "sdr_files",
    "sniff_format",
]

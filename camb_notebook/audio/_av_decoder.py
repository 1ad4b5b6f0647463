"""Decode MP3, AAC/M4A, ADTS and Ogg (Opus, Vorbis) with PyAV, frame by frame, on an exact timeline.

Sample 0 is the first sample the encoder was given; ``frames`` is the number it was given.
FFmpeg's demuxers know most of what the containers say about the encoder's delay and padding,
and its decoders drop those samples when told; we read the positions of the decoded frames
from their timestamps and trim what lies outside ``[0, frames)``:

- **M4A/MP4 (AAC)**: the start comes from the edit list (``elst`` media time) or, without
  one, from an ``iTunSMPB`` tag; FFmpeg drops those priming samples (skip-samples side data).
  The end is *not* trimmed by FFmpeg, so ``frames`` is chosen here: the ``iTunSMPB`` length
  when there is one; else the edit list's duration when it ends clearly before the last
  packet (encoders that pad the last packet to 1024 samples); else the end of the last
  packet (FFmpeg's own encoder writes the true length into the last packet's duration, while
  its edit list is rounded to milliseconds).
- **MP3**: the LAME/Xing info tag gives the encoder delay and padding; FFmpeg drops the delay
  plus the decoder's own 529 samples at the start and the padding at the end.
- **Ogg Opus and Vorbis**: the header's pre-skip and the last page's granule position.
- **Raw ADTS ``.aac``** carries no delay information at all, so it is decoded exactly as
  FFmpeg's command line does (``ffmpeg -i clip.aac clip.wav``): every decoded sample is kept,
  including the encoder's priming (typically 1024 samples) and the padding of the last frame.
  Convert such a file to M4A (``ffmpeg -i clip.aac -c copy clip.m4a`` keeps the same problem;
  re-encode from the source instead) when sample-exact timing matters.

Decoders keep state that never converges after a seek (the AAC decoder's noise generator
for PNS bands, SBR's noise index), so "seek and decode forward" would not repeat what a
sequential decode gives. Instead the timeline is cut into segments of 10 s, each decoded by a
fresh decoder that first sees the half second of packets before the segment (AAC's
overlapping windows, MP3's bit reservoir, Opus's pre-roll). Sequential decoding does exactly
the same, so any window equals the same slice of a full decode, sample for sample; a random
read costs at most one segment of extra decoding, sequential decoding 5 %.
"""

from __future__ import annotations

import collections
import contextlib
import io
import struct
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import numpy as np

from .._exceptions import AudioDecodeError, AudioFormatError
from ._containers import itunes_smpb, mp3_has_frame_count, ogg_cut_page
from ._formats import EXPECTED, FORMAT_NAMES, truncated

__all__ = ["AvDecoder"]

_SEGMENT_SECONDS = 10
_PREROLL_SECONDS = 0.5
_STRADDLE_SECONDS = 0.2
_BATCH = 16384
_TAIL_SECONDS = 3.0
_INT_SCALE = {"u8": 128.0, "s16": 32768.0, "s32": 2147483648.0}


def _channel_rows(frame: Any, channels: int) -> list[np.ndarray]:
    """A decoded frame as one float32 array per channel (views of the frame when it is
    planar float, the decoders' usual output, which avoids a copy per frame)."""
    fmt = frame.format
    n = frame.samples
    if fmt.name == "fltp":
        return [np.frombuffer(plane, np.float32, n) for plane in frame.planes]
    arr = frame.to_ndarray()
    if not fmt.is_planar:
        arr = arr.reshape(-1, channels).T
    name = fmt.name.rstrip("p")
    if name == "u8":
        arr = (arr.astype(np.float32) - 128.0) / 128.0
    elif name in _INT_SCALE:
        arr = arr.astype(np.float32) / _INT_SCALE[name]
    return list(np.asarray(arr, dtype=np.float32))


def _skips(frame: Any) -> tuple[int, int]:
    """Samples to drop at the start and end of a frame (FFmpeg's skip-samples side data)."""
    for side in frame.side_data:
        if side.type.name == "SKIP_SAMPLES":
            start, end = struct.unpack_from("<II", bytes(side))
            return start, end
    return 0, 0


class AvDecoder:
    """One audio stream decoded by PyAV on the exact timeline described in the module doc.

    Parameters
    ----------
    source : str or bytes
        A file path, or the whole file's bytes.
    name : str
        What error messages call the file.
    fmt : str
        Its sniffed format (``mp3``, ``m4a``, ``aac``, ``ogg``).
    head : bytes
        The file's first bytes (for the MP3 info tag).
    """

    def __init__(self, source: str | bytes, name: str, fmt: str, head: bytes) -> None:
        self._source = source
        self.name = name
        self.format = fmt
        self._container: Any = None
        self._owner: object | None = None
        self._frames_iter: Iterator[tuple[int, np.ndarray]] | None = None
        self._fresh = False
        self._open()
        stream = self._stream
        self._tb = Fraction(stream.time_base)
        self._start = stream.start_time if stream.start_time is not None else 0
        self._segment_tb = round(_SEGMENT_SECONDS / self._tb)
        self._preroll_tb = round(_PREROLL_SECONDS / self._tb)
        self.sample_rate = int(stream.codec_context.sample_rate or 0)
        self.channels = int(stream.codec_context.channels or 0)
        self.frames = self._measure(head)

    # -- opening -----------------------------------------------------------------------
    def _open(self) -> None:
        import av

        self.close()
        data: str | io.BytesIO = (
            io.BytesIO(self._source) if isinstance(self._source, bytes) else self._source
        )
        try:
            self._container = av.open(data)
        except (av.error.FFmpegError, UnicodeDecodeError) as exc:
            raise truncated(self.name, self.format, 0.0, detail=f"cannot open it: {exc}") from exc
        if not self._container.streams.audio:
            self.close()
            raise AudioFormatError(
                f"{self.name}: the file holds no audio stream ({EXPECTED})",
                exception_reason="SOURCE_TYPE_NOT_SUPPORTED",
            )
        self._stream = self._container.streams.audio[0]
        self._fresh = True
        self._owner = None
        self._frames_iter = None

    def close(self) -> None:
        """Release the file."""
        if self._container is not None:
            self._container.close()
            self._container = None

    def _new_decoder(self) -> Any:
        """A decoder in its initial state that reports, not applies, the samples to skip."""
        import av

        params = self._stream.codec_context
        ctx = av.CodecContext.create(params.codec.name, "r")
        ctx.sample_rate = params.sample_rate
        ctx.layout = params.layout
        if params.extradata:
            ctx.extradata = params.extradata
        ctx.options = {"flags2": "+skip_manual"}
        return ctx

    # -- the timeline --------------------------------------------------------------------
    def _position(self, pts: int, sr: int) -> int:
        # Integer arithmetic: this runs once per decoded frame.
        num = (pts - self._start) * self._tb.numerator * sr
        return (2 * num + self._tb.denominator) // (2 * self._tb.denominator)

    def _claimed_length(self, head: bytes) -> int | None:
        """Samples the container promises, when it promises (not estimates) a length."""
        stream = self._stream
        sr = self.sample_rate
        if stream.duration is None or sr <= 0:
            return None
        if self.format == "m4a":  # an end timestamp (edit list or sample table)
            return round((stream.duration - self._start) * self._tb * sr)
        if self.format == "mp3" and mp3_has_frame_count(head):  # a length, from the tag
            return round(stream.duration * self._tb * sr)
        return None

    def _measure(self, head: bytes) -> int:
        """Decode the last seconds to learn the exact length, and catch a cut file."""
        import av

        claimed = self._claimed_length(head)
        sr = self.sample_rate
        guess = claimed
        if guess is None and self._container.duration and sr:
            guess = round(self._container.duration / 1_000_000 * sr)
        span = (_TAIL_SECONDS + _PREROLL_SECONDS) / self._tb
        if guess and sr and guess > (_TAIL_SECONDS + _PREROLL_SECONDS) * sr:
            try:
                self._seek_pts(self._start + round(Fraction(guess, sr) / self._tb - span))
            except av.error.FFmpegError:
                self._open()  # no seeking in this stream: read it all
        keep, packet_end = self._tail_packets(span)
        if not keep and not self._fresh:  # the seek went past a cut: scan from the start
            self._open()
            keep, packet_end = self._tail_packets(span)
        self._fresh = False
        decoded_end = None
        ctx = self._new_decoder()
        for i, packet in enumerate([*keep, None]):
            try:
                frames = ctx.decode(packet)
            except av.error.FFmpegError as exc:
                if i < len(keep) - 2:
                    continue  # the decoder warming up
                stop = 0.0 if decoded_end is None else decoded_end / sr
                raise truncated(self.name, self.format, stop, detail=str(exc)) from exc
            for frame in frames:
                if frame.pts is None:
                    continue
                sr = self.sample_rate = frame.sample_rate
                self.channels = len(frame.layout.channels)
                decoded_end = self._position(frame.pts, sr) + frame.samples - _skips(frame)[1]
        if decoded_end is None or sr <= 0 or decoded_end <= 0:
            raise AudioDecodeError(
                f"{self.name}: no decodable audio in this {FORMAT_NAMES[self.format]} file; "
                "re-export or re-download the file",
                exception_reason="INVALID_SOURCE_DATA",
            )
        if claimed is not None:  # the decoder's rate may differ from the header's (SBR)
            claimed = self._claimed_length(head)
        if self.format == "m4a":
            return self._mp4_length(claimed, packet_end, decoded_end, sr)
        if self.format == "mp3" and claimed is not None and decoded_end < claimed - 1152:
            raise truncated(self.name, self.format, decoded_end / sr, claimed / sr)
        if self.format == "ogg":
            src = self._source
            with io.BytesIO(src) if isinstance(src, bytes) else open(src, "rb") as f:
                cut = ogg_cut_page(f, f.seek(0, io.SEEK_END))
            if cut:
                raise truncated(self.name, self.format, decoded_end / sr, detail="last page cut")
        return decoded_end

    def _tail_packets(self, span: float) -> tuple[collections.deque[Any], int | None]:
        """Demux to the end (cheap: nothing is decoded), keeping the last ``span`` of packets
        and the end timestamp of the last one."""
        import av

        keep: collections.deque[Any] = collections.deque()
        packet_end = None
        try:
            for packet in self._container.demux(self._stream):
                if packet.pts is None:
                    continue
                packet_end = max(packet_end or 0, packet.pts + (packet.duration or 0))
                keep.append(packet)
                while keep[0].pts < packet.pts - span:
                    keep.popleft()
        except (av.error.FFmpegError, UnicodeDecodeError) as exc:
            stop = 0.0 if packet_end is None else float((packet_end - self._start) * self._tb)
            raise truncated(self.name, self.format, max(stop, 0.0), detail=str(exc)) from exc
        return keep, packet_end

    def _mp4_length(
        self, claimed: int | None, packet_end: int | None, decoded_end: int, sr: int
    ) -> int:
        """Pick the true length of an M4A from what its container says (see module doc)."""
        ends = decoded_end if packet_end is None else self._position(packet_end, sr)
        # The coarsest common movie timescale is 600 (QuickTime), so an edit list may round
        # the true end by up to sr/600 samples either way.
        tolerance = -(-sr // 600) + 1
        if claimed is not None and ends < claimed - tolerance:
            raise truncated(self.name, self.format, decoded_end / sr, claimed / sr)
        smpb = itunes_smpb(self._container.metadata.get("iTunSMPB"))
        if smpb is not None:
            return min(smpb.length, ends)
        if claimed is not None and claimed < ends - tolerance:
            return claimed
        return ends

    # -- decoding ------------------------------------------------------------------------
    def _seek_pts(self, pts: int) -> None:
        self._container.seek(pts, stream=self._stream, backward=True)
        self._fresh = False

    def _segment(self, pts: int) -> int:
        return max((pts - self._start) // self._segment_tb, 0)

    def _decode_segments(self, first: int) -> Iterator[tuple[int, np.ndarray]]:
        """Decoded frames with their positions, segment ``first`` on (see module doc).

        The demuxer must stand at least the pre-roll before segment ``first``.
        """
        import av

        sr = self.sample_rate
        packets = self._container.demux(self._stream)
        recent: collections.deque[Any] = collections.deque()
        ctx = None
        current = -1
        expected = 0
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                packet = None
            except (av.error.FFmpegError, UnicodeDecodeError) as exc:
                raise truncated(self.name, self.format, expected / sr, detail=str(exc)) from exc
            if packet is not None and packet.pts is None:
                continue  # PyAV's own end-of-stream marker; we flush below
            if packet is not None:
                segment = self._segment(packet.pts)
                if segment < first:
                    recent.append(packet)
                    continue
                if segment != current:  # a fresh decoder, warmed up on the pre-roll
                    ctx, current = self._new_decoder(), segment
                    for old in recent:
                        if old.pts >= packet.pts - self._preroll_tb:
                            # Warming up: errors and output are both discarded.
                            with contextlib.suppress(av.error.FFmpegError):
                                ctx.decode(old)
                    recent.clear()
                recent.append(packet)
                while recent[0].pts < packet.pts - self._preroll_tb:
                    recent.popleft()
            if ctx is None:
                return
            try:
                frames = ctx.decode(packet)
            except av.error.FFmpegError as exc:
                raise truncated(self.name, self.format, expected / sr, detail=str(exc)) from exc
            for frame in frames:
                skip_start, skip_end = _skips(frame)
                pos = self._position(frame.pts, sr) if frame.pts is not None else expected
                rows = _channel_rows(frame, self.channels)
                if len(rows) != self.channels:
                    raise AudioDecodeError(
                        f"{self.name}: the channel count changes from {self.channels} to "
                        f"{len(rows)} at {pos / sr:.2f} s; convert the file to one "
                        "channel layout first",
                        exception_reason="INVALID_SOURCE_DATA",
                    )
                if skip_start or skip_end:
                    rows = [row[skip_start : len(row) - skip_end] for row in rows]
                    pos += skip_start
                expected = pos + len(rows[0])
                yield pos, rows
            if packet is None:
                return

    def _position_at(self, pos: int, owner: object) -> None:
        """Make the decoder produce frames from sample ``pos`` on, for ``owner``."""
        # The segment of a packet starting a little before ``pos`` (a frame may straddle
        # the boundary; Opus frames last up to 120 ms).
        pts = self._start + round(Fraction(pos, self.sample_rate) / self._tb)
        first = self._segment(pts - round(_STRADDLE_SECONDS / self._tb))
        if first == 0:
            if not self._fresh:
                self._open()  # from the very start: exactly as a fresh file decodes
        else:
            boundary = self._start + first * self._segment_tb
            self._seek_pts(boundary - self._preroll_tb - 1)
        self._fresh = False
        self._owner = owner
        self._frames_iter = self._decode_segments(first)

    def chunks(self, start: int) -> Iterator[np.ndarray]:
        """Consecutive float32 ``(channels, n)`` arrays from sample ``start`` to the end.

        Frames are gathered into chunks of about ``_BATCH`` samples. Several of these
        iterators may be alive at once: each re-positions the decoder when another one has
        moved it.
        """
        owner = object()
        pos = start
        batch: list[list[np.ndarray]] = []
        held = 0
        while pos < self.frames:
            if self._owner is not owner or self._frames_iter is None:
                self._position_at(pos, owner)
            assert self._frames_iter is not None
            try:
                fpos, rows = next(self._frames_iter)
            except StopIteration:
                raise truncated(
                    self.name, self.format, pos / self.sample_rate, self.frames / self.sample_rate
                ) from None
            end = min(fpos + len(rows[0]), self.frames)
            if end <= pos:
                continue  # before the window
            if fpos > pos:  # a gap in the timestamps (a frame the decoder dropped): silence
                gap = min(fpos, self.frames) - pos
                batch.append([np.zeros(gap, np.float32)] * self.channels)
                held += gap
                pos += gap
                if pos >= self.frames:
                    break
            batch.append([row[pos - fpos : end - fpos] for row in rows])
            held += end - pos
            pos = end
            if held >= _BATCH:
                yield _stack(batch, self.channels, held)
                batch, held = [], 0
        if held:
            yield _stack(batch, self.channels, held)


def _stack(batch: list[list[np.ndarray]], channels: int, n: int) -> np.ndarray:
    out = np.empty((channels, n), np.float32)
    for c in range(channels):
        np.concatenate([rows[c] for rows in batch], out=out[c])
    return out

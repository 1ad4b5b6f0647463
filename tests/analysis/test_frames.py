"""The frame grid of a stream equals librosa's centred STFT, however the stream is cut."""

from __future__ import annotations

import itertools

import librosa
import numpy as np
import pytest

from camb_notebook.analysis._frames import FrameChunker, WindowSums

from .conftest import uneven_blocks


@pytest.mark.parametrize("n", [2048, 2049, 10_000, 123_457])
@pytest.mark.parametrize("context", [0, 3])
def test_segments_hold_librosas_frames(n: int, context: int) -> None:
    y = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    whole = np.abs(librosa.stft(y, n_fft=2048, hop_length=512, pad_mode="constant"))
    chunker = FrameChunker(2048, 512, frames=7, context=context)
    parts = []
    for block in uneven_blocks(y, seed=n, largest=5000):
        parts += chunker.push(block)
    parts += chunker.finish()
    assert chunker.total_frames == whole.shape[1] == 1 + n // 512
    new = []
    for seg in parts:
        S = np.abs(librosa.stft(seg.samples, n_fft=2048, hop_length=512, center=False))
        assert S.shape[1] == seg.frames
        assert seg.skip <= context and seg.frames <= seg.keep + 2 * context
        new.append(S[:, seg.skip : seg.skip + seg.keep])
    np.testing.assert_allclose(np.concatenate(new, axis=1), whole, rtol=1e-5, atol=1e-4)


def test_a_signal_shorter_than_a_frame_has_one_zero_padded_frame() -> None:
    chunker = FrameChunker(2048, 512, frames=7)
    assert chunker.push(np.ones(100, np.float32)) == []
    (seg,) = chunker.finish()
    assert seg.frames == seg.keep == 1 and len(seg.samples) == 2048
    assert seg.samples.sum() == 100 and seg.samples[1024] == 1.0  # centred on sample 0


def test_window_sums_match_a_whole_sum_for_any_cut() -> None:
    x = np.random.default_rng(0).uniform(size=100_003)
    edges = lambda k: (k * 441.7).astype(np.int64)  # noqa: E731 - uneven windows
    w = WindowSums(edges)
    sums = np.concatenate([w.add(b) for b in uneven_blocks(x, largest=3000)])
    rest, count = w.finish()
    bounds = edges(np.arange(len(sums) + 1))
    expected = [x[a:b].sum() for a, b in itertools.pairwise(bounds)]
    np.testing.assert_allclose(sums, expected)
    assert count == len(x) - bounds[-1]
    assert rest == pytest.approx(x[bounds[-1] :].sum())

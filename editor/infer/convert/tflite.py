"""TFLite flatbuffer → safetensors (weights in PyTorch layout + a small op graph), for MediaPipe models.

Why: MediaPipe publishes its segmentation and face models only as `.tflite`. We read the flatbuffer as
data through the `tflite` package's schema bindings (nothing is executed), fold the float16 →
float32 DEQUANTIZE of constant weights, lay the weights out as torch expects (OIHW kernels, NCHW
broadcast constants), and store, per model file, the float constants as tensors `<stem>.t<index>`
and the graph (ops, options, shapes, small integer constants) as JSON bytes in `<stem>.graph`.
`editor.infer.archs.tflite_graph` rebuilds a torch module from exactly that, so the result runs on
the inference worker like every other model, on CPU, CUDA or MPS.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from editor.infer.api import InferenceError

SUPPORTED_OPS = {
    "ADD",
    "AVERAGE_POOL_2D",
    "CONCATENATION",
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "DEQUANTIZE",
    "HARD_SWISH",
    "LOGISTIC",
    "MAX_POOL_2D",
    "MUL",
    "PAD",
    "PRELU",
    "RELU",
    "RESHAPE",
    "RESIZE_BILINEAR",
    "CUSTOM:Convolution2DTransposeBias",
}
ELEMENTWISE = {"ADD", "MUL", "PRELU"}
#: op → (options class in the `tflite` package, getters read into the op's options)
_OPTIONS = {
    "CONV_2D": (
        "Conv2DOptions",
        ("Padding", "StrideW", "StrideH", "DilationWFactor", "DilationHFactor", "FusedActivationFunction"),
    ),
    "DEPTHWISE_CONV_2D": (
        "DepthwiseConv2DOptions",
        (
            "Padding",
            "StrideW",
            "StrideH",
            "DilationWFactor",
            "DilationHFactor",
            "FusedActivationFunction",
            "DepthMultiplier",
        ),
    ),
    "ADD": ("AddOptions", ("FusedActivationFunction",)),
    "MUL": ("MulOptions", ("FusedActivationFunction",)),
    "AVERAGE_POOL_2D": (
        "Pool2DOptions",
        ("Padding", "StrideW", "StrideH", "FilterWidth", "FilterHeight", "FusedActivationFunction"),
    ),
    "MAX_POOL_2D": (
        "Pool2DOptions",
        ("Padding", "StrideW", "StrideH", "FilterWidth", "FilterHeight", "FusedActivationFunction"),
    ),
    "RESIZE_BILINEAR": ("ResizeBilinearOptions", ("AlignCorners", "HalfPixelCenters")),
    "CONCATENATION": ("ConcatenationOptions", ("Axis", "FusedActivationFunction")),
}
_DTYPES = {0: np.float32, 1: np.float16, 2: np.int32, 3: np.uint8, 4: np.int64, 9: np.int8}


class TfliteFormatError(InferenceError):
    """The file is not a TFLite model Lucid can convert (damaged, or an op we do not implement)."""


@dataclass
class Tensor:
    name: str
    shape: list[int]
    dtype: Any
    data: np.ndarray | None = None  # constants only
    scale: np.ndarray | None = None  # quantisation (int8/uint8 constants)
    zero_point: np.ndarray | None = None
    axis: int = 0


@dataclass
class Op:
    kind: str
    inputs: list[int]
    outputs: list[int]
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Graph:
    tensors: list[Tensor]
    ops: list[Op]
    inputs: list[int]
    outputs: list[int]


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def _enum_names(enum_cls: type) -> dict[int, str]:
    return {v: k for k, v in vars(enum_cls).items() if not k.startswith("_") and isinstance(v, int)}


def _tensor(model: Any, t: Any, buf: bytes) -> Tensor:
    dtype = _DTYPES.get(t.Type())
    shape = [int(s) for s in t.ShapeAsNumpy()] if t.ShapeLength() else []
    data = None
    b = model.Buffers(t.Buffer())
    raw: bytes | None = None
    if b is not None and b.DataLength():
        raw = b.DataAsNumpy().tobytes()
    elif b is not None and hasattr(b, "Offset") and b.Offset() > 1:  # large models keep data after the table
        raw = buf[b.Offset() : b.Offset() + b.Size()]
    if raw is not None:
        if dtype is None:
            raise TfliteFormatError(f"Tensor {t.Name()!r} has an unsupported type {t.Type()}.")
        data = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    out = Tensor((t.Name() or b"").decode(), shape, dtype, data)
    q = t.Quantization()
    if q is not None and q.ScaleLength():
        out.scale = q.ScaleAsNumpy().astype(np.float32)
        out.zero_point = q.ZeroPointAsNumpy().astype(np.float32) if q.ZeroPointLength() else None
        out.axis = int(q.QuantizedDimension())
    return out


def _op_options(kind: str, op: Any) -> dict[str, Any]:
    import tflite

    if kind == "CUSTOM:Convolution2DTransposeBias":
        raw = bytes(op.CustomOptionsAsNumpy()) if op.CustomOptionsLength() else b""
        if len(raw) < 12:
            raise TfliteFormatError("Convolution2DTransposeBias lacks its padding/stride options.")
        padding, stride_w, stride_h = struct.unpack_from("<3i", raw)
        # MediaPipe's TfLitePadding: 1 = SAME, 2 = VALID (0 = unknown).
        return {"padding": "SAME" if padding == 1 else "VALID", "stride_w": stride_w, "stride_h": stride_h}
    spec = _OPTIONS.get(kind)
    if spec is None:
        return {}
    cls_name, getters = spec
    table = op.BuiltinOptions()
    if table is None:
        return {}
    opts = getattr(tflite, cls_name)()
    opts.Init(table.Bytes, table.Pos)
    out = {_snake(g): getattr(opts, g)() for g in getters}
    if "padding" in out:
        out["padding"] = "SAME" if out["padding"] == tflite.Padding.SAME else "VALID"
    return out


def read_tflite(buf: bytes) -> Graph:
    """Parse the first subgraph of a .tflite flatbuffer into plain Python data."""
    try:
        import tflite

        if len(buf) < 8 or buf[4:8] != b"TFL3":
            raise TfliteFormatError("Not a TFLite model (no TFL3 identifier).")
        model = tflite.Model.GetRootAsModel(buf, 0)
        sg = model.Subgraphs(0)
        ops_by_code = _enum_names(tflite.BuiltinOperator)
        tensors = [_tensor(model, sg.Tensors(i), buf) for i in range(sg.TensorsLength())]
        ops = []
        for i in range(sg.OperatorsLength()):
            op = sg.Operators(i)
            code = model.OperatorCodes(op.OpcodeIndex())
            kind = ops_by_code.get(max(code.BuiltinCode(), code.DeprecatedBuiltinCode()), "?")
            if kind == "CUSTOM":
                kind = "CUSTOM:" + (code.CustomCode() or b"").decode()
            if kind not in SUPPORTED_OPS:
                raise TfliteFormatError(f"The model uses the TFLite op {kind}, which Lucid cannot convert.")
            ins = [int(j) for j in op.InputsAsNumpy()] if op.InputsLength() else []
            outs = [int(j) for j in op.OutputsAsNumpy()]
            ops.append(Op(kind, ins, outs, _op_options(kind, op)))
        inputs = [int(j) for j in sg.InputsAsNumpy()]
        outputs = [int(j) for j in sg.OutputsAsNumpy()]
    except TfliteFormatError:
        raise
    except Exception as exc:  # the flatbuffer bindings raise assorted errors on damaged files
        raise TfliteFormatError("The TFLite file is damaged.", detail=f"{type(exc).__name__}: {exc}") from exc
    return Graph(tensors, ops, inputs, outputs)


def dequantize(t: Tensor) -> np.ndarray:
    """Float32 values of a constant (float16 cast; int8/uint8 scaled per tensor or per axis)."""
    assert t.data is not None
    if t.scale is None or t.data.dtype.kind == "f":
        return t.data.astype(np.float32)
    shape = [1] * t.data.ndim
    if t.scale.size > 1:
        shape[t.axis] = t.scale.size
    zp = t.zero_point.reshape(shape) if t.zero_point is not None else 0.0
    return ((t.data.astype(np.float32) - zp) * t.scale.reshape(shape)).astype(np.float32)


def fold_dequantize(g: Graph) -> Graph:
    """Replace DEQUANTIZE of a constant by the float32 constant itself (done once, not per run)."""
    ops = []
    for op in g.ops:
        src = g.tensors[op.inputs[0]]
        if op.kind == "DEQUANTIZE" and src.data is not None:
            dst = g.tensors[op.outputs[0]]
            dst.data, dst.dtype = dequantize(src), np.float32
            continue
        ops.append(op)
    return Graph(g.tensors, ops, g.inputs, g.outputs)


def _to_nchw_broadcast(a: np.ndarray) -> np.ndarray:
    """An NHWC-broadcastable constant (e.g. [C], [1,1,C], [1,1,1,C]) as an NCHW-broadcastable one."""
    return a.reshape((1,) * (4 - a.ndim) + a.shape).transpose(0, 3, 1, 2)


def _layouts(g: Graph) -> dict[int, str]:
    """How each float constant must be laid out for torch, from the ops that use it."""
    layout: dict[int, str] = {}

    def want(idx: int, how: str) -> None:
        if idx < 0 or g.tensors[idx].data is None:
            return
        if layout.setdefault(idx, how) != how:
            raise TfliteFormatError(f"Constant {g.tensors[idx].name!r} is used in two layouts.")

    for op in g.ops:
        if op.kind == "CONV_2D":
            want(op.inputs[1], "ohwi>oihw")
        elif op.kind == "DEPTHWISE_CONV_2D":
            want(op.inputs[1], "1hwc>c1hw")
        elif op.kind == "CUSTOM:Convolution2DTransposeBias":
            want(op.inputs[1], "ohwi>iohw")
        elif op.kind in ELEMENTWISE and len(g.tensors[op.outputs[0]].shape) == 4:
            for i in op.inputs:
                want(i, "nhwc>nchw")
    return layout


def _arrange(a: np.ndarray, how: str) -> np.ndarray:
    if how == "ohwi>oihw":
        return a.transpose(0, 3, 1, 2)
    if how == "1hwc>c1hw":
        return a.transpose(3, 0, 1, 2)
    if how == "ohwi>iohw":
        return a.transpose(3, 0, 1, 2)
    if how == "nhwc>nchw":
        return _to_nchw_broadcast(a)
    return a


def graph_state(g: Graph, prefix: str) -> dict[str, np.ndarray]:
    """The tensors of one converted graph: float constants and the JSON graph as uint8 bytes."""
    g = fold_dequantize(g)
    layout = _layouts(g)
    state: dict[str, np.ndarray] = {}
    consts: dict[str, str] = {}
    ints: dict[str, list] = {}
    for idx, t in enumerate(g.tensors):
        if t.data is None:
            continue
        if t.data.dtype.kind in "iu" and t.scale is None:
            ints[str(idx)] = t.data.tolist()
        else:
            state[f"{prefix}.t{idx}"] = np.ascontiguousarray(_arrange(dequantize(t), layout.get(idx, "")))
            consts[str(idx)] = f"t{idx}"
    graph = {
        "format": "lucid-tflite-graph/1",
        "inputs": g.inputs,
        "outputs": g.outputs,
        "names": {str(i): t.name for i, t in enumerate(g.tensors)},
        "shapes": {str(i): t.shape for i, t in enumerate(g.tensors)},
        "consts": consts,
        "ints": ints,
        "ops": [{"op": op.kind, "in": op.inputs, "out": op.outputs, "opt": op.options} for op in g.ops],
    }
    state[f"{prefix}.graph"] = np.frombuffer(json.dumps(graph).encode(), dtype=np.uint8).copy()
    return state


def graph_name(file_name: str) -> str:
    """The key prefix of a model file's graph: its stem, made a valid module name."""
    stem = Path(file_name).stem
    return "".join(c if c.isalnum() else "_" for c in stem)


def convert(manifest: Any, files: dict[str, Path], out_dir: Path) -> Path:
    """Every `.tflite` file of the manifest into one safetensors file, one graph per file."""
    from safetensors.numpy import save_file

    state: dict[str, np.ndarray] = {}
    for name, path in files.items():
        if name.endswith(".tflite"):
            state.update(graph_state(read_tflite(path.read_bytes()), graph_name(name)))
    if not state:
        raise TfliteFormatError(f"{manifest.name}: no .tflite file to convert.")
    out = out_dir / manifest.convert.output
    save_file(state, str(out))
    return out

"""A torch module that runs a converted TFLite graph (see `editor.infer.convert.tflite`).

The state dict holds, per graph `<name>`: `<name>.graph` (the op list as JSON bytes) and the float
constants `<name>.t<index>`, already in torch layout. Activations of rank 4 live as NCHW inside the
module (so torch's convolutions apply directly), stored channels-last in memory: that is TFLite's own
NHWC order, so going in and out costs no copy, and torch's CPU convolutions run 2–13× faster on it than
on NCHW-contiguous tensors (depthwise ones most). Every other rank keeps TFLite's layout. `forward`
takes and returns TFLite's shapes (NHWC images), so results compare one to one with Google's
runtime. Each op follows TFLite's reference semantics (SAME padding split low/high, average pooling
that ignores padding, bilinear resize with TFLite's sampling rules).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

StateDict = Mapping[str, Tensor]
GRAPH_FORMAT = "lucid-tflite-graph/1"
_NHWC_TO_NCHW_AXIS = {0: 0, 1: 2, 2: 3, 3: 1}


def to_internal(x: Tensor) -> Tensor:
    """TFLite layout → the module's layout (rank-4 tensors become NCHW, kept channels-last in memory)."""
    return x.permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last) if x.ndim == 4 else x


def to_tflite(x: Tensor) -> Tensor:
    return x.permute(0, 2, 3, 1).contiguous() if x.ndim == 4 else x


def _activation(x: Tensor, kind: int) -> Tensor:
    if kind == 0:
        return x
    if kind == 1:
        return F.relu(x)
    if kind == 2:
        return x.clamp(-1.0, 1.0)
    if kind == 3:
        return x.clamp(0.0, 6.0)
    if kind == 4:
        return torch.tanh(x)
    raise ValueError(f"unsupported fused activation {kind}")


def _same_pad(size: int, k: int, s: int, d: int = 1) -> tuple[int, int]:
    """TFLite's SAME padding for one axis: (before, after), the odd pixel going after."""
    out = math.ceil(size / s)
    total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def _pad_for(x: Tensor, opt: Mapping[str, Any], kh: int, kw: int) -> tuple[int, int, int, int]:
    if opt.get("padding") != "SAME":
        return (0, 0, 0, 0)
    t, b = _same_pad(x.shape[2], kh, opt["stride_h"], opt.get("dilation_h_factor", 1))
    left, r = _same_pad(x.shape[3], kw, opt["stride_w"], opt.get("dilation_w_factor", 1))
    return (left, r, t, b)


def _conv(x: Tensor, w: Tensor, b: Tensor | None, opt: Mapping[str, Any], groups: int = 1) -> Tensor:
    x = F.pad(x, _pad_for(x, opt, w.shape[2], w.shape[3]))
    stride = (opt["stride_h"], opt["stride_w"])
    dilation = (opt.get("dilation_h_factor", 1), opt.get("dilation_w_factor", 1))
    y = F.conv2d(x, w, b, stride=stride, dilation=dilation, groups=groups)
    return _activation(y, opt.get("fused_activation_function", 0))


def _pool(x: Tensor, opt: Mapping[str, Any], mode: str) -> Tensor:
    kh, kw = opt["filter_height"], opt["filter_width"]
    stride = (opt["stride_h"], opt["stride_w"])
    pad = _pad_for(x, {**opt, "dilation_h_factor": 1, "dilation_w_factor": 1}, kh, kw)
    if mode == "max":
        y = F.max_pool2d(F.pad(x, pad, value=float("-inf")), (kh, kw), stride)
    else:  # TFLite averages over the real pixels only, not the padding
        total = F.avg_pool2d(F.pad(x, pad), (kh, kw), stride)
        if any(pad):
            ones = F.pad(torch.ones_like(x[:1, :1]), pad)
            total = total / F.avg_pool2d(ones, (kh, kw), stride)
        y = total
    return _activation(y, opt.get("fused_activation_function", 0))


def _resize_axis(n_in: int, n_out: int, align: bool, half: bool, device: Any) -> tuple[Tensor, ...]:
    """Lower/upper source indices and the weight of the upper one, as TFLite's bilinear kernel."""
    scale = (n_in - 1) / (n_out - 1) if align and n_out > 1 else n_in / n_out
    pos = torch.arange(n_out, dtype=torch.float32, device=device)
    src = (pos + 0.5) * scale - 0.5 if half else pos * scale
    lo_f = torch.floor(src)
    lo = lo_f.clamp(min=0).long().clamp(max=n_in - 1)
    hi = torch.ceil(src).clamp(max=n_in - 1).long().clamp(min=0)
    return lo, hi, (src - lo_f)


def _resize_bilinear(x: Tensor, size: Sequence[int], opt: Mapping[str, Any]) -> Tensor:
    align, half = bool(opt.get("align_corners")), bool(opt.get("half_pixel_centers"))
    ylo, yhi, wy = _resize_axis(x.shape[2], int(size[0]), align, half, x.device)
    xlo, xhi, wx = _resize_axis(x.shape[3], int(size[1]), align, half, x.device)
    wy = wy.to(x.dtype)[:, None]
    wx = wx.to(x.dtype)[None, :]
    top = x[:, :, ylo][..., xlo] * (1 - wx) + x[:, :, ylo][..., xhi] * wx
    bottom = x[:, :, yhi][..., xlo] * (1 - wx) + x[:, :, yhi][..., xhi] * wx
    return top * (1 - wy) + bottom * wy


def _pad(x: Tensor, paddings: Sequence[Sequence[int]]) -> Tensor:
    pads = [list(p) for p in paddings]
    if x.ndim == 4:  # TFLite order n, h, w, c → NCHW order n, c, h, w
        pads = [pads[0], pads[3], pads[1], pads[2]]
    flat: list[int] = []
    for before, after in reversed(pads):
        flat += [int(before), int(after)]
    return F.pad(x, flat)


def _transpose_conv_bias(x: Tensor, w: Tensor, b: Tensor, out_shape: Sequence[int], opt: Mapping) -> Tensor:
    """MediaPipe's Convolution2DTransposeBias: a transposed convolution plus bias, SAME or VALID."""
    stride = (opt["stride_h"], opt["stride_w"])
    y = F.conv_transpose2d(x, w, b, stride=stride)
    oh, ow = int(out_shape[1]), int(out_shape[2])
    top = (y.shape[2] - oh) // 2 if opt["padding"] == "SAME" else 0
    left = (y.shape[3] - ow) // 2 if opt["padding"] == "SAME" else 0
    return y[:, :, top : top + oh, left : left + ow]


def _reshape(x: Tensor, shape: Sequence[int]) -> Tensor:
    y = to_tflite(x).reshape([x.shape[0], *[int(s) for s in shape[1:]]])
    return to_internal(y)


class TfliteGraph(nn.Module):
    """One converted TFLite subgraph."""

    def __init__(self, graph_bytes: Tensor, consts: Mapping[str, Tensor]) -> None:
        super().__init__()
        self.register_buffer("graph", graph_bytes.clone())
        self.spec = json.loads(bytes(graph_bytes.cpu().numpy().tobytes()).decode())
        if self.spec.get("format") != GRAPH_FORMAT:
            raise ValueError("not a converted TFLite graph")
        for name, t in consts.items():  # rank-4 constants are convolution weights: channels-last too
            layout = torch.channels_last if t.ndim == 4 else torch.preserve_format
            self.register_buffer(name, t.clone(memory_format=layout))
        self.ops = self.spec["ops"]
        self._const = {int(k): v for k, v in self.spec["consts"].items()}
        self._ints = {int(k): v for k, v in self.spec["ints"].items()}
        self._shapes = {int(k): v for k, v in self.spec["shapes"].items()}

    def const(self, idx: int) -> Tensor | None:
        name = self._const.get(idx)
        return getattr(self, name) if name is not None else None

    def _value(self, idx: int, env: Mapping[int, Tensor]) -> Any:
        if idx < 0:
            return None
        if idx in env:
            return env[idx]
        c = self.const(idx)
        if c is not None:
            return c
        if idx in self._ints:
            return self._ints[idx]
        raise KeyError(f"tensor {idx} ({self.spec['names'][str(idx)]}) has no value")

    def run_op(self, i: int, env: Mapping[int, Tensor]) -> list[Tensor]:
        """Outputs of op `i` from the values in `env` (module layout). Used by forward and the tests."""
        op = self.ops[i]
        kind, opt = op["op"], op["opt"]
        a = [self._value(j, env) for j in op["in"]]
        act = opt.get("fused_activation_function", 0)
        if kind == "CONV_2D":
            y = _conv(a[0], a[1], a[2] if len(a) > 2 else None, opt)
        elif kind == "DEPTHWISE_CONV_2D":
            y = _conv(a[0], a[1], a[2] if len(a) > 2 else None, opt, groups=a[0].shape[1])
        elif kind == "ADD":
            y = _activation(a[0] + a[1], act)
        elif kind == "MUL":
            y = _activation(a[0] * a[1], act)
        elif kind == "RELU":
            y = F.relu(a[0])
        elif kind == "PRELU":
            y = torch.where(a[0] >= 0, a[0], a[0] * a[1])
        elif kind == "HARD_SWISH":
            y = a[0] * (a[0] + 3.0).clamp(0.0, 6.0) / 6.0
        elif kind == "LOGISTIC":
            y = torch.sigmoid(a[0])
        elif kind == "DEQUANTIZE":
            y = a[0].float()
        elif kind == "AVERAGE_POOL_2D":
            y = _pool(a[0], opt, "avg")
        elif kind == "MAX_POOL_2D":
            y = _pool(a[0], opt, "max")
        elif kind == "RESIZE_BILINEAR":
            y = _resize_bilinear(a[0], a[1], opt)
        elif kind == "PAD":
            y = _pad(a[0], a[1])
        elif kind == "CONCATENATION":
            axis = opt["axis"] % a[0].ndim
            if a[0].ndim == 4:
                axis = _NHWC_TO_NCHW_AXIS[axis]
            y = _activation(torch.cat(a, dim=axis), act)
        elif kind == "RESHAPE":
            y = _reshape(a[0], self._shapes[op["out"][0]])
        elif kind == "CUSTOM:Convolution2DTransposeBias":
            y = _transpose_conv_bias(a[0], a[1], a[2], self._shapes[op["out"][0]], opt)
        else:  # the converter refuses other ops; a hand-made file could still name one
            raise ValueError(f"unsupported op {kind}")
        return [y]

    def forward(self, *inputs: Tensor) -> tuple[Tensor, ...]:
        env: dict[int, Tensor] = {
            idx: to_internal(x) for idx, x in zip(self.spec["inputs"], inputs, strict=True)
        }
        for i, op in enumerate(self.ops):
            for idx, y in zip(op["out"], self.run_op(i, env), strict=True):
                env[idx] = y
        return tuple(to_tflite(env[idx]) for idx in self.spec["outputs"])


class TfliteModel(nn.Module):
    """The graphs of one converted file by name (e.g. a face detector and a landmark model)."""

    def __init__(self, state: StateDict) -> None:
        super().__init__()
        names = sorted(k[: -len(".graph")] for k in state if k.endswith(".graph"))
        self.graphs = nn.ModuleDict()
        for name in names:
            consts = {k[len(name) + 1 :]: v for k, v in state.items() if k.startswith(name + ".t")}
            self.graphs[name] = TfliteGraph(state[f"{name}.graph"], consts)

    def graph(self, name: str | None = None) -> TfliteGraph:
        if name is None:
            if len(self.graphs) != 1:
                raise ValueError(f"this model holds several graphs: {', '.join(self.graphs)}")
            return next(iter(self.graphs.values()))  # type: ignore[return-value]
        return self.graphs[name]  # type: ignore[return-value]

    def forward(self, *inputs: Tensor) -> tuple[Tensor, ...]:
        return self.graph()(*inputs)

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True, assign: bool = False):
        # Keys are "<graph>.graph"/"<graph>.t<i>"; ours are "graphs.<graph>.…": map and load strictly.
        mapped = {f"graphs.{k}": v for k, v in state_dict.items()}
        return super().load_state_dict(mapped, strict=strict, assign=assign)


def detect(state: StateDict) -> bool:
    graphs = [k for k in state if k.endswith(".graph")]
    return bool(graphs) and all(state[k].dtype == torch.uint8 and state[k].ndim == 1 for k in graphs)


def build(state: StateDict) -> TfliteModel:
    return TfliteModel(state).eval()


def _register() -> None:
    from editor.infer.safe_load import register_arch

    register_arch(
        "TFLiteGraph", detect, build, purpose="Restoration", scale=1, input_channels=3, output_channels=1
    )


_register()

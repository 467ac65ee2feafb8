"""ONNX → safetensors for Lucid's own architectures (U²-Net / U²-Netp and IS-Net, as rembg publishes them).

Why `onnx` (reading initializers) rather than `onnx2torch`: the result must be a plain state dict
that the safe loader can check and that runs on Lucid's reviewed modules (`archs.u2net`,
`archs.isnet`), not a torch graph generated from whatever the file contains. We read the graph as data
(`onnx.load`, no runtime, no external data), take the Conv nodes in execution order — the exporter
writes nodes in the order the network ran — and pair them with the convolutions of our module in the
order *it* runs them (recorded once with forward hooks), checking every kernel shape, stride, dilation,
padding and group count. Initializer names play no part, so exports that keep torch's parameter names and
anonymous ones (BN folded, constants renamed) read the same. A BatchNormalization after a conv fills
that block's BN; when the exporter folded BN into the conv (the usual case) the BN becomes an exact
identity. Any mismatch in count or geometry is a clear error, never a half-loaded model.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from editor.infer.api import InferenceError

BN_EPS = 1e-5


class OnnxFormatError(InferenceError):
    """The ONNX file is damaged or is not a network Lucid's architectures can take."""


def _geometry(node: Any) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...], int]:
    """(strides, dilations, pads, group) of an ONNX Conv node, with ONNX's defaults (a file that pads
    by `auto_pad` gives pads None and so matches no module of ours)."""
    attrs = {a.name: a for a in node.attribute}
    strides = tuple(attrs["strides"].ints) if "strides" in attrs else (1, 1)
    dilations = tuple(attrs["dilations"].ints) if "dilations" in attrs else (1, 1)
    auto_pad = attrs["auto_pad"].s.decode() if "auto_pad" in attrs else "NOTSET"
    pads = (tuple(attrs["pads"].ints) if "pads" in attrs else (0, 0, 0, 0)) if auto_pad == "NOTSET" else None
    return strides, dilations, pads, int(attrs["group"].i) if "group" in attrs else 1


def read_convs(path: Path) -> list[dict[str, Any]]:
    """Every Conv of the graph in node order: weight, bias and the BatchNormalization that follows."""
    import onnx
    from onnx import numpy_helper

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf raises assorted errors on junk
        raise OnnxFormatError(f"{path.name} is not a valid ONNX file.", detail=str(exc)) from exc
    graph = model.graph
    if any(t.data_location == onnx.TensorProto.EXTERNAL for t in graph.initializer):
        raise OnnxFormatError(
            f"{path.name} keeps its weights in external files; Lucid reads single files only."
        )
    inits = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for node in graph.node:  # constants written as nodes, and Identity aliases of stored tensors
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            inits[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
        elif node.op_type == "Identity" and node.input[0] in inits:
            inits[node.output[0]] = inits[node.input[0]]
    consumers: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    convs: list[dict[str, Any]] = []
    for node in graph.node:
        if node.op_type != "Conv":
            continue
        if node.input[1] not in inits:
            raise OnnxFormatError(
                f"{path.name}: a convolution's kernel is computed, not stored; unsupported."
            )
        bias = inits.get(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        entry: dict[str, Any] = {"weight": inits[node.input[1]], "bias": bias, "bn": None,
                                 "geometry": _geometry(node)}
        nxt = consumers.get(node.output[0], [])
        if len(nxt) == 1 and nxt[0].op_type == "BatchNormalization":
            bn = nxt[0]
            eps = next((a.f for a in bn.attribute if a.name == "epsilon"), BN_EPS)
            if any(n not in inits for n in bn.input[1:5]):
                raise OnnxFormatError(f"{path.name}: a batch norm's statistics are computed; unsupported.")
            entry["bn"] = np.stack([inits[n] for n in bn.input[1:5]])  # scale, bias, mean, var
            entry["bn_eps"] = np.float32(eps)
        convs.append(entry)
    return convs


def conv_order(model: Any) -> list[str]:
    """Names of the Conv2d modules of `model` in the order its forward pass calls them."""
    import torch

    order: list[str] = []
    hooks = [
        m.register_forward_hook(lambda _m, _i, _o, name=name: order.append(name))
        for name, m in model.named_modules()
        if isinstance(m, torch.nn.Conv2d)
    ]
    try:
        with torch.inference_mode():
            model(torch.zeros(1, 3, 64, 64))
    finally:
        for h in hooks:
            h.remove()
    return order


def _fits(net: Any, convs: list[dict[str, Any]]) -> tuple[list[str], dict[str, Any]] | None:
    """(conv names in run order, modules) when every ONNX conv matches `net`'s conv at the same
    position in kernel shape, stride, dilation, padding and groups; None otherwise."""
    modules = dict(net.named_modules())
    order = conv_order(net)
    if len(order) != len(convs):
        return None
    for name, c in zip(order, convs, strict=True):
        m = modules[name]
        if (tuple(m.weight.shape) != c["weight"].shape
                or c["geometry"] != (tuple(m.stride), tuple(m.dilation), tuple(m.padding) * 2, m.groups)):
            return None
    return order, modules


def _state(net: Any, order: list[str], modules: dict[str, Any], convs: list[dict[str, Any]]
           ) -> dict[str, np.ndarray]:
    """`net`'s state dict with the ONNX convs (and their batch norms, folded or not) in place."""
    state = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
    for name, c in zip(order, convs, strict=True):
        state[f"{name}.weight"] = c["weight"].astype(np.float32)
        out_ch = c["weight"].shape[0]
        state[f"{name}.bias"] = (c["bias"] if c["bias"] is not None else np.zeros(out_ch)).astype(np.float32)
        bn = name.rsplit(".", 1)[0] + ".bn_s1"
        if bn not in modules:
            if c["bn"] is not None:
                raise OnnxFormatError(f"The ONNX graph has a batch norm after {name}, where the network has "
                                      "none (an export Lucid does not know).")
            continue
        if c["bn"] is not None:
            scale, shift, mean, var = c["bn"]
            var = var + (c["bn_eps"] - BN_EPS)  # our BN adds its own eps: keep the file's
        else:  # folded into the conv by the exporter: an exact identity
            scale, shift, mean, var = (
                np.ones(out_ch),
                np.zeros(out_ch),
                np.zeros(out_ch),
                np.full(out_ch, 1 - BN_EPS),
            )
        for key, val in (("weight", scale), ("bias", shift), ("running_mean", mean), ("running_var", var)):
            state[f"{bn}.{key}"] = np.asarray(val, np.float32)
        state[f"{bn}.num_batches_tracked"] = np.array(0, np.int64)
    return state


def u2net_state(convs: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """A U²-Net(p) state dict from the ONNX convolutions, whichever size the kernels say it is."""
    from editor.infer.archs.u2net import U2Net, u2net_full_widths, u2netp_widths

    for widths in (u2netp_widths(), u2net_full_widths()):
        net = U2Net(widths).eval()
        fit = _fits(net, convs)
        if fit is not None:
            return _state(net, *fit, convs)
    raise OnnxFormatError(
        f"The ONNX graph's {len(convs)} convolutions do not match U²-Net or U²-Netp "
        "(another network, or an export Lucid does not know)."
    )


def isnet_state(convs: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """An IS-Net state dict from the ONNX convolutions. The widths are read off the kernels in the
    order the network runs (conv_in, then each RSU-L's 2·L convs, then six sides) and every kernel,
    stride, dilation and padding is then checked against the module built from them."""
    from editor.infer.archs.isnet import ISNetDIS
    from editor.infer.archs.u2net import DECODER, ENCODER

    expected = 1 + sum(2 * height for _, height, _ in ENCODER + DECODER) + 6
    refused = OnnxFormatError(
        f"The ONNX graph's {len(convs)} convolutions do not match IS-Net "
        f"({expected} convolutions: a strided stem, RSU stages and six side outputs); another network, "
        "or an export Lucid does not know."
    )
    if len(convs) != expected or any(c["weight"].ndim != 4 for c in convs):
        raise refused
    widths, i = {}, 1
    for name, height, _ in ENCODER + DECODER:
        w_in, w_mid = convs[i]["weight"], convs[i + 1]["weight"]
        widths[name] = (int(w_in.shape[1]), int(w_mid.shape[0]), int(w_in.shape[0]))
        i += 2 * height
    stem, side = convs[0]["weight"], convs[-1]["weight"]
    if widths["stage1"][0] != stem.shape[0]:
        raise refused
    try:  # kernels read off another network give widths that do not chain: the trial run fails
        net = ISNetDIS(widths, in_ch=int(stem.shape[1]), out_ch=int(side.shape[0])).eval()
        fit = _fits(net, convs)
    except (RuntimeError, ValueError):
        fit = None
    if fit is None:
        raise refused
    return _state(net, *fit, convs)


LAYOUTS: dict[str, Callable[[list[dict[str, Any]]], dict[str, np.ndarray]]] = {
    "u2net": u2net_state,
    "isnet": isnet_state,
}


def convert(manifest: Any, files: dict[str, Path], out_dir: Path) -> Path:
    """The manifest's .onnx file into `convert.output` (safetensors), laid out as `convert.layout`."""
    from safetensors.numpy import save_file

    layout = manifest.convert.options.get("layout", "u2net")
    if layout not in LAYOUTS:
        raise OnnxFormatError(f"{manifest.name}: unknown ONNX layout '{layout}'.")
    onnx_files = [p for name, p in files.items() if name.endswith(".onnx")]
    if len(onnx_files) != 1:
        raise OnnxFormatError(f"{manifest.name}: expected one .onnx file.")
    out = out_dir / manifest.convert.output
    save_file(LAYOUTS[layout](read_convs(onnx_files[0])), str(out))
    return out

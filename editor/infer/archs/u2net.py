"""U²-Net / U²-Netp salient-object network (Qin et al., Pattern Recognition 2020), for one-click subject.

Written from the paper's structure with the module names of the official code (xuebinqin/U-2-Net,
Apache-2.0), so its `u2net.pth` / `u2netp.pth` state dicts load strictly. One builder serves both
sizes: every channel width is read from the tensor shapes. Upsampling resizes to the skip tensor's
size, so any input size works (the weights were trained at 320×320; the task resizes to that).

Forward returns the fused saliency map after a sigmoid, N×1×H×W in [0, 1] (the official code also
returns six side outputs, used only for training; `side_outputs=True` gives all seven).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

StateDict = Mapping[str, Tensor]

#: (stage name, RSU height, fully dilated "F" variant) in the official order.
ENCODER = [
    ("stage1", 7, False),
    ("stage2", 6, False),
    ("stage3", 5, False),
    ("stage4", 4, False),
    ("stage5", 4, True),
    ("stage6", 4, True),
]
DECODER = [
    ("stage5d", 4, True),
    ("stage4d", 4, False),
    ("stage3d", 5, False),
    ("stage2d", 6, False),
    ("stage1d", 7, False),
]


class REBNCONV(nn.Module):
    """3×3 (dilated) conv + BatchNorm + ReLU; attribute names as upstream."""

    def __init__(self, in_ch: int, out_ch: int, dirate: int = 1) -> None:
        super().__init__()
        self.conv_s1 = nn.Conv2d(in_ch, out_ch, 3, padding=dirate, dilation=dirate)
        self.bn_s1 = nn.BatchNorm2d(out_ch)
        self.relu_s1 = nn.ReLU(inplace=True)

    def forward(self, x: Tensor) -> Tensor:
        return self.relu_s1(self.bn_s1(self.conv_s1(x)))


def _up_like(x: Tensor, like: Tensor) -> Tensor:
    return F.interpolate(x, size=like.shape[2:], mode="bilinear", align_corners=False)


class RSU(nn.Module):
    """Residual U-block of height L (RSU-L), or RSU-4F (dilations instead of pooling).

    Modules: rebnconvin, rebnconv1..L (encoder; the last is dilated), rebnconv(L-1)d..1d (decoder).
    """

    def __init__(self, height: int, in_ch: int, mid_ch: int, out_ch: int, dilated: bool = False) -> None:
        super().__init__()
        self.height, self.dilated = height, dilated
        self.rebnconvin = REBNCONV(in_ch, out_ch, 1)
        for i in range(1, height + 1):
            rate = 2 ** (i - 1) if dilated else (2 if i == height else 1)
            self.add_module(f"rebnconv{i}", REBNCONV(out_ch if i == 1 else mid_ch, mid_ch, rate))
        for i in range(height - 1, 0, -1):
            rate = 2 ** (i - 1) if dilated else 1
            self.add_module(f"rebnconv{i}d", REBNCONV(mid_ch * 2, out_ch if i == 1 else mid_ch, rate))

    def forward(self, x: Tensor) -> Tensor:
        hxin = self.rebnconvin(x)
        skips: list[Tensor] = []
        hx = hxin
        for i in range(1, self.height):
            hx = getattr(self, f"rebnconv{i}")(hx)
            skips.append(hx)
            if not self.dilated and i < self.height - 1:
                hx = F.max_pool2d(hx, 2, stride=2, ceil_mode=True)
        hx = getattr(self, f"rebnconv{self.height}")(hx)
        for i in range(self.height - 1, 0, -1):
            skip = skips[i - 1]
            hx = getattr(self, f"rebnconv{i}d")(torch.cat((hx, skip), 1))
            if not self.dilated and i > 1:
                hx = _up_like(hx, skips[i - 2])
        return hx + hxin


class U2Net(nn.Module):
    """U²-Net with per-stage widths `widths[name] = (in, mid, out)` (U²-Net and U²-Netp differ only there)."""

    def __init__(
        self, widths: Mapping[str, tuple[int, int, int]], out_ch: int = 1, side_outputs: bool = False
    ):
        super().__init__()
        self.side_outputs = side_outputs
        for name, height, dilated in ENCODER + DECODER:
            self.add_module(name, RSU(height, *widths[name], dilated=dilated))
        side_in = [
            widths["stage1d"][2],
            widths["stage2d"][2],
            widths["stage3d"][2],
            widths["stage4d"][2],
            widths["stage5d"][2],
            widths["stage6"][2],
        ]
        for i, ch in enumerate(side_in, start=1):
            self.add_module(f"side{i}", nn.Conv2d(ch, out_ch, 3, padding=1))
        self.outconv = nn.Conv2d(6 * out_ch, out_ch, 1)

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, ...]:
        enc: list[Tensor] = []
        hx = x
        for idx, (name, _, _) in enumerate(ENCODER):
            hx = getattr(self, name)(hx)
            enc.append(hx)
            if idx < len(ENCODER) - 1:
                hx = F.max_pool2d(hx, 2, stride=2, ceil_mode=True)
        dec: list[Tensor] = [enc[-1]]  # hx6
        hx = enc[-1]
        for j, (name, _, _) in enumerate(DECODER):
            skip = enc[len(ENCODER) - 2 - j]  # hx5, hx4, ..., hx1
            hx = getattr(self, name)(torch.cat((_up_like(hx, skip), skip), 1))
            dec.append(hx)
        # side1 uses stage1d, ..., side5 uses stage5d, side6 uses stage6
        feats = [dec[5], dec[4], dec[3], dec[2], dec[1], dec[0]]
        sides = [getattr(self, f"side{i}")(f) for i, f in enumerate(feats, start=1)]
        sides = [sides[0]] + [_up_like(s, sides[0]) for s in sides[1:]]
        fused = self.outconv(torch.cat(sides, 1))
        if self.side_outputs:
            return tuple(torch.sigmoid(t) for t in [fused, *sides])
        return torch.sigmoid(fused)


def u2netp_widths() -> dict[str, tuple[int, int, int]]:
    """The small published variant (1.1 M parameters, about 4.7 MB)."""
    w = {name: (64, 16, 64) for name, _, _ in ENCODER}
    w["stage1"] = (3, 16, 64)
    w.update({name: (128, 16, 64) for name, _, _ in DECODER})
    return w


def detect(state: StateDict) -> bool:
    return (
        "stage1.rebnconvin.conv_s1.weight" in state
        and "stage6.rebnconv4.conv_s1.weight" in state
        and "stage1d.rebnconv1d.conv_s1.weight" in state
        and "outconv.weight" in state
        and "side6.weight" in state
    )


def widths_of(state: StateDict) -> dict[str, tuple[int, int, int]]:
    widths = {}
    for name, _, _ in ENCODER + DECODER:
        w_in = state[f"{name}.rebnconvin.conv_s1.weight"]
        w_mid = state[f"{name}.rebnconv1.conv_s1.weight"]
        widths[name] = (int(w_in.shape[1]), int(w_mid.shape[0]), int(w_in.shape[0]))
    return widths


def build(state: StateDict) -> U2Net:
    """Build with widths read from the state dict and load the weights strictly."""
    model = U2Net(widths_of(state), out_ch=int(state["outconv.weight"].shape[0]))
    full = dict(state)
    for key in model.state_dict():  # tolerate checkpoints saved before BN counted batches
        if key.endswith("num_batches_tracked") and key not in full:
            full[key] = torch.tensor(0, dtype=torch.long)
    model.load_state_dict(full, strict=True)
    return model.eval()


def _register() -> None:
    from editor.infer.safe_load import register_arch

    register_arch("U2Net", detect, build, purpose="Restoration", scale=1, input_channels=3, output_channels=1)


_register()

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


def up_like(x: Tensor, like: Tensor) -> Tensor:
    """Bilinear resize of `x` to `like`'s size (half-pixel centres, as upstream's `_upsample_like`)."""
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
                hx = up_like(hx, skips[i - 2])
        return hx + hxin


def nested_features(net: nn.Module, x: Tensor) -> list[Tensor]:
    """The nested U-structure shared by U²-Net and IS-Net: stages stage1..stage6 (pooled between),
    then stage5d..stage1d on the upsampled deeper map concatenated with the skip. Returns the
    features the side outputs read, side1 first: [stage1d, stage2d, stage3d, stage4d, stage5d, stage6]."""
    enc: list[Tensor] = []
    hx = x
    for idx, (name, _, _) in enumerate(ENCODER):
        hx = getattr(net, name)(hx)
        enc.append(hx)
        if idx < len(ENCODER) - 1:
            hx = F.max_pool2d(hx, 2, stride=2, ceil_mode=True)
    dec: list[Tensor] = []
    for j, (name, _, _) in enumerate(DECODER):
        skip = enc[len(ENCODER) - 2 - j]  # hx5, hx4, ..., hx1
        hx = getattr(net, name)(torch.cat((up_like(hx, skip), skip), 1))
        dec.append(hx)
    return [*dec[::-1], enc[-1]]


def add_stages(net: nn.Module, widths: Mapping[str, tuple[int, int, int]]) -> None:
    """stage1..stage6 and stage5d..stage1d, RSU blocks with `widths[name] = (in, mid, out)`."""
    for name, height, dilated in ENCODER + DECODER:
        net.add_module(name, RSU(height, *widths[name], dilated=dilated))


def add_sides(net: nn.Module, widths: Mapping[str, tuple[int, int, int]], out_ch: int) -> None:
    """side1..side6: a 3×3 conv to `out_ch` on each feature `nested_features` returns."""
    for i, name in enumerate(("stage1d", "stage2d", "stage3d", "stage4d", "stage5d", "stage6"), start=1):
        net.add_module(f"side{i}", nn.Conv2d(widths[name][2], out_ch, 3, padding=1))


def side_maps(net: nn.Module, feats: list[Tensor]) -> list[Tensor]:
    """The side convs in upstream's order (side1 … side6), logits at each feature's own size."""
    return [getattr(net, f"side{i}")(f) for i, f in enumerate(feats, start=1)]


class U2Net(nn.Module):
    """U²-Net with per-stage widths `widths[name] = (in, mid, out)` (U²-Net and U²-Netp differ only there)."""

    def __init__(
        self, widths: Mapping[str, tuple[int, int, int]], out_ch: int = 1, side_outputs: bool = False
    ):
        super().__init__()
        self.side_outputs = side_outputs
        add_stages(self, widths)
        add_sides(self, widths, out_ch)
        self.outconv = nn.Conv2d(6 * out_ch, out_ch, 1)

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, ...]:
        sides = side_maps(self, nested_features(self, x))
        sides = [sides[0]] + [up_like(s, sides[0]) for s in sides[1:]]
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


def u2net_full_widths() -> dict[str, tuple[int, int, int]]:
    """The full published U²-Net (44 M parameters, about 176 MB); IS-Net's stages have these widths too."""
    return {
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
    load_strict(model, state)
    return model


def load_strict(model: nn.Module, state: StateDict) -> None:
    """Load every weight (strict), tolerating checkpoints saved before BN counted batches; eval mode."""
    full = dict(state)
    for key in model.state_dict():
        if key.endswith("num_batches_tracked") and key not in full:
            full[key] = torch.tensor(0, dtype=torch.long)
    model.load_state_dict(full, strict=True)
    model.eval()


def _register() -> None:
    from editor.infer.safe_load import register_arch

    register_arch("U2Net", detect, build, purpose="Restoration", output_channels=1, task="salient")


_register()

"""IS-Net (ISNetDIS: Qin et al., "Highly Accurate Dichotomous Image Segmentation", ECCV 2022), the
quality general-subject model (`isnet-general-use`, Apache-2.0, xuebinqin/DIS).

Why its own module: IS-Net is U²-Net's nested U-structure behind a strided stem, without the fused
output. Written from the paper's description with the official module names (`conv_in`, `stage1`…
`stage6`, `stage5d`…`stage1d`, `side1`…`side6`), so the authors' `.pth` state dict loads strictly and
rembg's ONNX export maps onto it (`editor.infer.convert.onnx`, layout "isnet"). The RSU blocks are
U²-Net's (`archs.u2net`), unchanged:

- `conv_in`: 3×3 conv, stride 2 (no BN, no ReLU), so the stages run at half the input size. The
  official module also defines a `pool_in` that its forward never calls (it has no weights).
- Encoder RSU-7, 6, 5, 4, 4F, 4F with 2×2 ceil-mode max pools between; decoder RSU-4F, 4, 5, 6, 7 on
  the upsampled deeper map concatenated with the skip.
- Side outputs: a 3×3 conv on stage1d … stage5d and stage6, each resized to the input size; sigmoid.
  There is no fused output: side 1 is the mask (what rembg and the authors' inference use).

Forward returns that mask, N×1×H×W in [0, 1]; `side_outputs=True` gives all six. The published
weights were trained at 1024×1024; `input_size`, `input_mean`, `input_std` say how the salient task
feeds them (rembg's preprocessing for this model: the image scaled by its maximum, minus the
ImageNet mean, divided by 1; the authors' inference script subtracts 0.5 instead).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from editor.infer.archs.u2net import (
    StateDict,
    add_sides,
    add_stages,
    load_strict,
    nested_features,
    side_maps,
    u2net_full_widths,
    up_like,
    widths_of,
)


def isnet_widths() -> dict[str, tuple[int, int, int]]:
    """The published IS-Net: the full U²-Net's stages, stage1 taking the 64 channels of `conv_in`."""
    widths = u2net_full_widths()
    widths["stage1"] = (64, 32, 64)
    return widths


class ISNetDIS(nn.Module):
    """IS-Net with per-stage widths `widths[name] = (in, mid, out)` (see `isnet_widths`)."""

    input_size = 1024
    input_mean = (0.485, 0.456, 0.406)
    input_std = (1.0, 1.0, 1.0)

    def __init__(
        self,
        widths: Mapping[str, tuple[int, int, int]] | None = None,
        in_ch: int = 3,
        out_ch: int = 1,
        side_outputs: bool = False,
    ) -> None:
        super().__init__()
        widths = dict(widths or isnet_widths())
        self.side_outputs = side_outputs
        self.conv_in = nn.Conv2d(in_ch, widths["stage1"][0], 3, stride=2, padding=1)
        add_stages(self, widths)
        add_sides(self, widths, out_ch)

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, ...]:
        sides = side_maps(self, nested_features(self, self.conv_in(x)))
        masks = [torch.sigmoid(up_like(s, x)) for s in (sides if self.side_outputs else sides[:1])]
        return tuple(masks) if self.side_outputs else masks[0]


def detect(state: StateDict) -> bool:
    return (
        "conv_in.weight" in state
        and "stage1.rebnconvin.conv_s1.weight" in state
        and "stage1d.rebnconv1d.conv_s1.weight" in state
        and "side6.weight" in state
        and "outconv.weight" not in state
    )


def build(state: StateDict) -> ISNetDIS:
    """Build with widths read from the state dict and load the weights strictly."""
    in_ch, out_ch = int(state["conv_in.weight"].shape[1]), int(state["side1.weight"].shape[0])
    model = ISNetDIS(widths_of(state), in_ch=in_ch, out_ch=out_ch)
    load_strict(model, state)
    return model


def _register() -> None:
    from editor.infer.safe_load import register_arch

    register_arch("ISNet", detect, build, purpose="Restoration", output_channels=1, task="salient")


_register()

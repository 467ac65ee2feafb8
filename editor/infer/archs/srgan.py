"""SRGAN generator (Ledig et al. 2017) in the layout of leftthomas/SRGAN, as a spandrel architecture.

Why here: spandrel does not know this network, but wrapping it as a spandrel `Architecture` gives
the same descriptor (scale, half support, tiling) as every other upscaler, so the task code has one
path. Hyperparameters (residual blocks, upsample steps, channel widths) come from tensor shapes.

Layout: block1 = conv9×9 + PReLU; block2…block(n+1) = residual blocks (conv, BN, PReLU, conv, BN);
block(n+2) = conv3×3 + PReLU (or + BN in later upstream versions); block(n+3) = [conv → PixelShuffle(2)
→ PReLU] × log2(scale), then conv9×9. Forward: `(tanh(last(body + skip)) + 1) / 2`, RGB in [0, 1].
The published checkpoint predates PyTorch 0.4, so its BN entries lack `num_batches_tracked`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import torch
from spandrel import Architecture, ImageModelDescriptor
from torch import Tensor, nn

StateDict = Mapping[str, Tensor]


class _Residual(nn.Module):
    def __init__(self, ch: int, prelu: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(ch, ch, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(ch)
        self.prelu = nn.PReLU(prelu)
        self.conv2 = nn.Conv2d(ch, ch, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(ch)

    def forward(self, x: Tensor) -> Tensor:
        return x + self.bn2(self.conv2(self.prelu(self.bn1(self.conv1(x)))))


class _Upsample(nn.Module):
    def __init__(self, ch: int, prelu: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(ch, ch * 4, 3, padding=1)
        self.pixel_shuffle = nn.PixelShuffle(2)
        self.prelu = nn.PReLU(prelu)

    def forward(self, x: Tensor) -> Tensor:
        return self.prelu(self.pixel_shuffle(self.conv(x)))


class SRGANGenerator(nn.Module):
    """The generator; attribute names match the checkpoint's keys (`block1` … `block8`)."""

    def __init__(self, *, in_ch: int = 3, out_ch: int = 3, ch: int = 64, blocks: int = 5, upsamples: int = 2,
                 prelu: int = 1, skip_bn: bool = False) -> None:
        super().__init__()
        self.blocks = blocks
        self.scale = 2**upsamples
        self.block1 = nn.Sequential(nn.Conv2d(in_ch, ch, 9, padding=4), nn.PReLU(prelu))
        for i in range(blocks):
            setattr(self, f"block{i + 2}", _Residual(ch, prelu))
        tail = nn.BatchNorm2d(ch) if skip_bn else nn.PReLU(prelu)
        setattr(self, f"block{blocks + 2}", nn.Sequential(nn.Conv2d(ch, ch, 3, padding=1), tail))
        ups: list[nn.Module] = [_Upsample(ch, prelu) for _ in range(upsamples)]
        setattr(self, f"block{blocks + 3}", nn.Sequential(*ups, nn.Conv2d(ch, out_ch, 9, padding=4)))

    def forward(self, x: Tensor) -> Tensor:
        head = self.block1(x)
        body = head
        for i in range(self.blocks):
            body = getattr(self, f"block{i + 2}")(body)
        body = getattr(self, f"block{self.blocks + 2}")(body)
        out = getattr(self, f"block{self.blocks + 3}")(head + body)
        return (torch.tanh(out) + 1) / 2


def _residual_indices(state: StateDict) -> list[int]:
    found = {int(m.group(1)) for k in state if (m := re.fullmatch(r"block(\d+)\.conv1\.weight", k))}
    return sorted(found)


def detect(state: StateDict) -> bool:
    """True for a leftthomas-style SRGAN generator state dict."""
    if "block1.0.weight" not in state or "block1.1.weight" not in state:
        return False
    res = _residual_indices(state)
    if not res or res != list(range(2, 2 + len(res))):
        return False
    n = len(res)
    return f"block{n + 2}.0.weight" in state and f"block{n + 3}.0.conv.weight" in state


def _upsamples(state: StateDict, last: str) -> int:
    return len({int(m.group(1)) for k in state if (m := re.fullmatch(rf"{last}\.(\d+)\.conv\.weight", k))})


def scale_of(state: StateDict) -> int:
    return 2 ** _upsamples(state, f"block{len(_residual_indices(state)) + 3}")


def build(state: StateDict) -> SRGANGenerator:
    """Build the generator with hyperparameters read from the state dict and load the weights strictly."""
    n = len(_residual_indices(state))
    last = f"block{n + 3}"
    upsamples = _upsamples(state, last)
    first = state["block1.0.weight"]
    model = SRGANGenerator(
        in_ch=first.shape[1],
        out_ch=state[f"{last}.{upsamples}.weight"].shape[0],
        ch=first.shape[0],
        blocks=n,
        upsamples=upsamples,
        prelu=state["block1.1.weight"].numel(),
        skip_bn=f"block{n + 2}.1.running_mean" in state,
    )
    full = dict(state)
    for key in model.state_dict():  # checkpoints saved before PyTorch 0.4 lack this BN counter
        if key.endswith("num_batches_tracked") and key not in full:
            full[key] = torch.tensor(0, dtype=torch.long)
    model.load_state_dict(full, strict=True)
    return model.eval()


class SRGANArch(Architecture[SRGANGenerator]):
    def __init__(self) -> None:
        super().__init__(id="SRGAN", name="SRGAN (leftthomas)", detect=detect)

    def load(self, state_dict: StateDict) -> ImageModelDescriptor[SRGANGenerator]:
        model = build(state_dict)
        return ImageModelDescriptor(
            model,
            model.state_dict(),
            architecture=self,
            purpose="SR",
            tags=[f"{model.blocks}b"],
            # BatchNorm + tanh in fp16 drift visibly; keep it in float32.
            supports_half=False,
            supports_bfloat16=True,
            scale=model.scale,
            input_channels=model.block1[0].in_channels,
            output_channels=getattr(model, f"block{model.blocks + 3}")[-1].out_channels,
        )


ARCH = SRGANArch()


def load_descriptor(state: StateDict) -> ImageModelDescriptor[SRGANGenerator]:
    """Descriptor for an SRGAN state dict (what `safe_load.register_arch` calls as `build`)."""
    return ARCH.load(state)


def _register() -> None:
    from editor.infer.safe_load import register_arch

    register_arch("SRGAN", detect, load_descriptor, purpose="SR", scale=scale_of)


_register()

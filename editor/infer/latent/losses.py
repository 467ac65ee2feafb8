"""Losses for inversion that need no pretrained perceptual network: MS-SSIM, noise regularisation, PSNR.

Why own MS-SSIM: it is 30 lines, and faces here can be 32–64 px, smaller than the standard 5-scale
MS-SSIM allows (it needs ≥ 161 px); scales are dropped (weights renormalised) until the coarsest
scale still holds a window.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

_MS_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def _gauss(win: int, sigma: float, device: torch.device) -> Tensor:
    x = torch.arange(win, dtype=torch.float32, device=device) - (win - 1) / 2
    g = torch.exp(-(x**2) / (2 * sigma**2))
    return g / g.sum()


def _ssim_cs(x: Tensor, y: Tensor, g: Tensor) -> tuple[Tensor, Tensor]:
    c = x.shape[1]
    kx = g.view(1, 1, 1, -1).expand(c, 1, 1, -1)
    ky = g.view(1, 1, -1, 1).expand(c, 1, -1, 1)

    def blur(t: Tensor) -> Tensor:
        return F.conv2d(F.conv2d(t, kx, groups=c), ky, groups=c)

    c1, c2 = 0.01**2, 0.03**2
    mx, my = blur(x), blur(y)
    sxx, syy, sxy = blur(x * x) - mx**2, blur(y * y) - my**2, blur(x * y) - mx * my
    cs = (2 * sxy + c2) / (sxx + syy + c2)
    ssim = ((2 * mx * my + c1) / (mx**2 + my**2 + c1)) * cs
    return ssim.flatten(1).mean(1), cs.flatten(1).mean(1)


def ms_ssim(x: Tensor, y: Tensor, win: int = 11, sigma: float = 1.5) -> Tensor:
    """MS-SSIM per image for inputs in [0, 1] (N, C, H, W); window shrinks for tiny images."""
    side = min(x.shape[-2:])
    win = min(win, side if side % 2 else side - 1)
    levels = 1
    while levels < len(_MS_WEIGHTS) and side // 2**levels >= win:
        levels += 1
    w = torch.tensor(_MS_WEIGHTS[:levels], device=x.device)
    w = w / w.sum()
    g = _gauss(win, sigma, x.device)
    vals = []
    for i in range(levels):
        ssim, cs = _ssim_cs(x, y, g)
        vals.append(F.relu(ssim if i == levels - 1 else cs))
        if i < levels - 1:
            x, y = F.avg_pool2d(x, 2), F.avg_pool2d(y, 2)
    stack = torch.stack(vals, 0) + 1e-8
    return torch.prod(stack ** w.view(-1, 1), dim=0)


def noise_regularisation(noises: list[Tensor]) -> Tensor:
    """StyleGAN2 projector's penalty: noise maps must not carry image structure (autocorrelation)."""
    loss = torch.zeros((), device=noises[0].device) if noises else torch.zeros(())
    for noise in noises:
        n = noise
        while True:
            loss = (
                loss + (n * torch.roll(n, 1, dims=3)).mean() ** 2 + (n * torch.roll(n, 1, dims=2)).mean() ** 2
            )
            if n.shape[2] <= 8:
                break
            n = F.avg_pool2d(n, 2)
    return loss


def normalise_noise(noises: list[Tensor]) -> None:
    with torch.no_grad():
        for n in noises:
            n.sub_(n.mean()).div_(n.std() + 1e-8)


def psnr(a: Tensor, b: Tensor, mask: Tensor | None = None) -> float:
    """PSNR in dB of images in [-1, 1] (scaled to [0, 1]); optionally over mask == 1 only."""
    d = ((a.clamp(-1, 1) - b.clamp(-1, 1)) / 2) ** 2
    mse = d.mean() if mask is None else (d * mask).sum() / (mask.sum() * a.shape[1]).clamp_min(1)
    return float(10 * torch.log10(1.0 / mse.clamp_min(1e-12)))

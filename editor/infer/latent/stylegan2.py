"""StyleGAN2 (Karras et al. 2020) in reference PyTorch ops only, in rosinality's parameter layout.

Why reference ops: a frozen app cannot compile the custom CUDA kernels (upfirdn2d, fused bias-act) of
the official code; `upfirdn2d` below is the same FIR filter written with `F.pad` + depthwise `conv2d`.
Why rosinality's names: they are the common exchange format (`g_ema`, `latent_avg`, `d`); NVIDIA's
pickles are mapped onto them by `loaders.py`. Channel widths are an explicit table, so any channel
multiplier (or NVIDIA's `channel_base`/`channel_max`) fits; resolutions 64–1024 (and smaller for tests).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from editor.infer.latent.generator import FFHQ_CROP, CropSpec

BLUR = (1, 3, 3, 1)
SQRT2 = math.sqrt(2.0)


def channels_for(size: int, multiplier: float = 2, top: int = 512) -> dict[int, int]:
    """rosinality's channel table: 512 up to 32 px, then 256·m at 64 px, halving per octave."""
    table = {4: top, 8: top, 16: top, 32: top}
    for res, ch in ((64, 256), (128, 128), (256, 64), (512, 32), (1024, 16)):
        table[res] = max(1, int(ch * multiplier * top / 512))
    return {r: c for r, c in table.items() if r <= size}


def make_kernel(k: tuple[int, ...]) -> Tensor:
    t = torch.tensor(k, dtype=torch.float32)
    t = t[None, :] * t[:, None]
    return t / t.sum()


def upfirdn2d(x: Tensor, kernel: Tensor, up: int = 1, down: int = 1, pad: tuple[int, int] = (0, 0)) -> Tensor:
    """Upsample by zero insertion, pad, FIR-filter, downsample (the official op, reference version)."""
    n, c, h, w = x.shape
    if up > 1:
        x = x.reshape(n, c, h, 1, w, 1)
        x = F.pad(x, [0, up - 1, 0, 0, 0, up - 1])
        x = x.reshape(n, c, h * up, w * up)
    p0, p1 = pad
    x = F.pad(x, [max(p0, 0), max(p1, 0), max(p0, 0), max(p1, 0)])
    if p0 < 0 or p1 < 0:
        x = x[:, :, max(-p0, 0) : x.shape[2] - max(-p1, 0), max(-p0, 0) : x.shape[3] - max(-p1, 0)]
    k = torch.flip(kernel, [0, 1]).to(x)[None, None].expand(c, 1, *kernel.shape)
    x = F.conv2d(x, k, groups=c)
    return x[:, :, ::down, ::down] if down > 1 else x


def lrelu_bias(x: Tensor, bias: Tensor) -> Tensor:
    shape = [1, -1] + [1] * (x.ndim - 2)
    return F.leaky_relu(x + bias.view(shape), 0.2) * SQRT2


class PixelNorm(nn.Module):
    def forward(self, x: Tensor) -> Tensor:
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + 1e-8)


class EqualLinear(nn.Module):
    """Equalised-learning-rate FC: weights stored at unit scale, multiplied by 1/sqrt(fan_in) at use."""

    def __init__(
        self, in_dim: int, out_dim: int, bias_init: float = 0.0, lr_mul: float = 1.0, act: bool = False
    ):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_dim, in_dim) / lr_mul)
        self.bias = nn.Parameter(torch.full((out_dim,), float(bias_init)))
        self.scale = lr_mul / math.sqrt(in_dim)
        self.lr_mul = lr_mul
        self.act = act

    def forward(self, x: Tensor) -> Tensor:
        if self.act:
            return lrelu_bias(F.linear(x, self.weight * self.scale), self.bias * self.lr_mul)
        return F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)


class Blur(nn.Module):
    def __init__(self, pad: tuple[int, int], up: int = 1):
        super().__init__()
        self.register_buffer("kernel", make_kernel(BLUR) * (up**2), persistent=False)
        self.pad = pad

    def forward(self, x: Tensor) -> Tensor:
        return upfirdn2d(x, self.kernel, pad=self.pad)


class ModulatedConv2d(nn.Module):
    def __init__(
        self, cin: int, cout: int, k: int, style_dim: int, demodulate: bool = True, upsample: bool = False
    ):
        super().__init__()
        self.cin, self.cout, self.k = cin, cout, k
        self.weight = nn.Parameter(torch.randn(1, cout, cin, k, k))
        self.modulation = EqualLinear(style_dim, cin, bias_init=1.0)
        self.scale = 1 / math.sqrt(cin * k * k)
        self.demodulate = demodulate
        self.upsample = upsample
        if upsample:
            p = (len(BLUR) - 2) - (k - 1)
            self.blur = Blur(((p + 1) // 2 + 1, p // 2 + 1), up=2)

    def forward(self, x: Tensor, style: Tensor) -> Tensor:
        b, cin, h, w = x.shape
        s = self.modulation(style).view(b, 1, cin, 1, 1)
        weight = self.scale * self.weight * s
        if self.demodulate:
            weight = weight * torch.rsqrt(weight.pow(2).sum([2, 3, 4]) + 1e-8).view(b, self.cout, 1, 1, 1)
        x = x.reshape(1, b * cin, h, w)
        if self.upsample:
            weight = weight.transpose(1, 2).reshape(b * cin, self.cout, self.k, self.k)
            out = F.conv_transpose2d(x, weight, padding=0, stride=2, groups=b)
            out = self.blur(out.view(b, self.cout, out.shape[2], out.shape[3]))
            return out
        weight = weight.reshape(b * self.cout, cin, self.k, self.k)
        out = F.conv2d(x, weight, padding=self.k // 2, groups=b)
        return out.view(b, self.cout, h, w)


class NoiseInjection(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x: Tensor, noise: Tensor) -> Tensor:
        return x + self.weight * noise


class FusedLeakyReLU(nn.Module):
    def __init__(self, ch: int):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(ch))

    def forward(self, x: Tensor) -> Tensor:
        return lrelu_bias(x, self.bias)


class StyledConv(nn.Module):
    def __init__(self, cin: int, cout: int, k: int, style_dim: int, upsample: bool = False):
        super().__init__()
        self.conv = ModulatedConv2d(cin, cout, k, style_dim, upsample=upsample)
        self.noise = NoiseInjection()
        self.activate = FusedLeakyReLU(cout)

    def forward(self, x: Tensor, style: Tensor, noise: Tensor) -> Tensor:
        return self.activate(self.noise(self.conv(x, style), noise))


class ToRGB(nn.Module):
    def __init__(self, cin: int, style_dim: int, upsample: bool = True):
        super().__init__()
        self.conv = ModulatedConv2d(cin, 3, 1, style_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))
        self.upsample = upsample
        if upsample:
            self.register_buffer("kernel", make_kernel(BLUR) * 4, persistent=False)

    def forward(self, x: Tensor, style: Tensor, skip: Tensor | None = None) -> Tensor:
        out = self.conv(x, style) + self.bias
        if skip is not None:
            out = out + upfirdn2d(skip, self.kernel, up=2, pad=(2, 1))
        return out


class ConstantInput(nn.Module):
    def __init__(self, ch: int, size: int = 4):
        super().__init__()
        self.input = nn.Parameter(torch.randn(1, ch, size, size))

    def forward(self, batch: int) -> Tensor:
        return self.input.expand(batch, -1, -1, -1)


class SynthesisNet(nn.Module):
    """rosinality's `Generator` (the `g_ema` state dict): mapping `style`, then the skip synthesis."""

    def __init__(
        self,
        size: int,
        style_dim: int = 512,
        n_mlp: int = 8,
        channels: dict[int, int] | None = None,
        lr_mlp: float = 0.01,
    ):
        super().__init__()
        self.size, self.style_dim, self.n_mlp = size, style_dim, n_mlp
        self.log_size = int(math.log2(size))
        if 2**self.log_size != size or size < 8:
            raise ValueError(f"StyleGAN2 resolution must be a power of two ≥ 8, got {size}")
        self.channels = dict(channels or channels_for(size))
        self.style = nn.Sequential(
            PixelNorm(), *[EqualLinear(style_dim, style_dim, lr_mul=lr_mlp, act=True) for _ in range(n_mlp)]
        )
        ch = self.channels
        self.input = ConstantInput(ch[4])
        self.conv1 = StyledConv(ch[4], ch[4], 3, style_dim)
        self.to_rgb1 = ToRGB(ch[4], style_dim, upsample=False)
        self.num_layers = (self.log_size - 2) * 2 + 1
        self.n_latent = self.log_size * 2 - 2
        self.noises = nn.Module()
        for i in range(self.num_layers):
            res = 2 ** ((i + 5) // 2)
            self.noises.register_buffer(f"noise_{i}", torch.randn(1, 1, res, res))
        self.convs = nn.ModuleList()
        self.to_rgbs = nn.ModuleList()
        cin = ch[4]
        for i in range(3, self.log_size + 1):
            cout = ch[2**i]
            self.convs.append(StyledConv(cin, cout, 3, style_dim, upsample=True))
            self.convs.append(StyledConv(cout, cout, 3, style_dim))
            self.to_rgbs.append(ToRGB(cout, style_dim))
            cin = cout

    def noise_list(self) -> list[Tensor]:
        return [getattr(self.noises, f"noise_{i}") for i in range(self.num_layers)]

    def forward(self, ws: Tensor, noise: list[Tensor] | None = None, max_res: int | None = None) -> Tensor:
        """ws (N, n_latent, D) → image (N, 3, R, R); `max_res` stops early (skip outputs are images)."""
        noise = noise if noise is not None else self.noise_list()
        out = self.conv1(self.input(ws.shape[0]), ws[:, 0], noise[0])
        skip = self.to_rgb1(out, ws[:, 1])
        i = 1
        for k, to_rgb in enumerate(self.to_rgbs):
            if max_res is not None and 2 ** (k + 3) > max_res:
                break
            out = self.convs[2 * k](out, ws[:, i], noise[2 * k + 1])
            out = self.convs[2 * k + 1](out, ws[:, i + 1], noise[2 * k + 2])
            skip = to_rgb(out, ws[:, i + 2], skip)
            i += 2
        return skip


class ConvLayer(nn.Sequential):
    def __init__(
        self, cin: int, cout: int, k: int, downsample: bool = False, bias: bool = True, activate: bool = True
    ):
        layers: list[nn.Module] = []
        stride, padding = 1, k // 2
        if downsample:
            p = (len(BLUR) - 2) + (k - 1)
            layers.append(Blur(((p + 1) // 2, p // 2)))
            stride, padding = 2, 0
        layers.append(EqualConv2d(cin, cout, k, padding=padding, stride=stride, bias=bias and not activate))
        if activate:
            layers.append(FusedLeakyReLU(cout))
        super().__init__(*layers)


class EqualConv2d(nn.Module):
    def __init__(self, cin: int, cout: int, k: int, padding: int = 0, stride: int = 1, bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(cout, cin, k, k))
        self.bias = nn.Parameter(torch.zeros(cout)) if bias else None
        self.scale = 1 / math.sqrt(cin * k * k)
        self.stride, self.padding = stride, padding

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight * self.scale, self.bias, stride=self.stride, padding=self.padding)


class ResBlock(nn.Module):
    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.conv1 = ConvLayer(cin, cin, 3)
        self.conv2 = ConvLayer(cin, cout, 3, downsample=True)
        self.skip = ConvLayer(cin, cout, 1, downsample=True, activate=False, bias=False)

    def forward(self, x: Tensor) -> Tensor:
        return (self.conv2(self.conv1(x)) + self.skip(x)) / SQRT2


class Discriminator(nn.Module):
    """rosinality's residual discriminator (the `d` state dict); used for feature-matching losses."""

    def __init__(self, size: int, channels: dict[int, int] | None = None):
        super().__init__()
        ch = dict(channels or channels_for(size))
        log_size = int(math.log2(size))
        convs: list[nn.Module] = [ConvLayer(3, ch[size], 1)]
        cin = ch[size]
        for i in range(log_size, 2, -1):
            convs.append(ResBlock(cin, ch[2 ** (i - 1)]))
            cin = ch[2 ** (i - 1)]
        self.convs = nn.Sequential(*convs)
        self.final_conv = ConvLayer(cin + 1, ch[4], 3)
        self.final_linear = nn.Sequential(EqualLinear(ch[4] * 16, ch[4], act=True), EqualLinear(ch[4], 1))

    def features(self, x: Tensor) -> list[Tensor]:
        """Activations after each residual block (the DGP feature-matching taps)."""
        feats = []
        for layer in self.convs:
            x = layer(x)
            feats.append(x)
        return feats

    def forward(self, x: Tensor) -> Tensor:
        out = self.features(x)[-1]
        b, c, h, w = out.shape
        group = math.gcd(b, 4)
        sd = out.view(group, -1, 1, c, h, w)
        sd = torch.sqrt(sd.var(0, unbiased=False) + 1e-8).mean([2, 3, 4], keepdim=True).squeeze(2)
        out = torch.cat([out, sd.repeat(group, 1, h, w)], 1)
        return self.final_linear(self.final_conv(out).view(b, -1))


class StyleGAN2Generator(nn.Module):
    """The `Generator` protocol over a `SynthesisNet` (+ optional `Discriminator`)."""

    def __init__(
        self,
        g: SynthesisNet,
        latent_avg: Tensor | None = None,
        d: Discriminator | None = None,
        crop: CropSpec = FFHQ_CROP,
        sha256: str | None = None,
    ):
        super().__init__()
        self.g = g
        self.d = d
        self.latent_dim = g.style_dim
        self.num_ws = g.n_latent
        self.resolution = g.size
        self.crop = crop
        self.w_bounds: tuple[float, float] | None = None
        self.sha256 = sha256
        self.register_buffer("latent_avg", latent_avg.reshape(-1).clone() if latent_avg is not None else None)
        if d is not None:
            d.requires_grad_(False)

    def sample_latent(self, n: int, seed: int | None = None) -> Tensor:
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        return torch.randn(n, self.latent_dim, generator=gen).to(self._device())

    def mapping(self, z: Tensor) -> Tensor:
        return self.g.style(z)

    def synthesis(self, ws: Tensor, noise: list[Tensor] | None = None, max_res: int | None = None) -> Tensor:
        if ws.shape[1] == 1:
            ws = ws.expand(-1, self.num_ws, -1)
        return self.g(ws, noise=noise, max_res=max_res)

    @torch.no_grad()
    def mean_w(self) -> Tensor:
        if self.latent_avg is not None:
            return self.latent_avg.clone()
        return self.mapping(self.sample_latent(4096, seed=0)).mean(0)

    def noise_tensors(self) -> list[Tensor]:
        return self.g.noise_list()

    def style_weights(self) -> list[Tensor]:
        """Modulation (affine) weights (in_ch, D) of every layer in ws order (SeFa's input)."""
        mods = [self.g.conv1.conv.modulation, self.g.to_rgb1.conv.modulation]
        for k, rgb in enumerate(self.g.to_rgbs):
            mods += [
                self.g.convs[2 * k].conv.modulation,
                self.g.convs[2 * k + 1].conv.modulation,
                rgb.conv.modulation,
            ]
        return [m.weight.detach() for m in mods]

    def pca_features(self, ws: Tensor) -> Tensor:
        return ws[:, 0]

    def discriminator_features(self, img: Tensor) -> list[Tensor] | None:
        return None if self.d is None else self.d.features(img)

    def synthesis_module(self) -> nn.Module:
        return self.g

    def _device(self) -> torch.device:
        return self.g.input.input.device


def build_from_state_dict(sd: dict[str, Tensor]) -> SynthesisNet:
    """A `SynthesisNet` whose sizes match a rosinality `g_ema` state dict (from tensor shapes)."""
    n_mlp = len({k.split(".")[1] for k in sd if k.startswith("style.") and k.endswith(".weight")})
    style_dim = int(sd["style.1.weight"].shape[1])
    n_up = len({k.split(".")[1] for k in sd if k.startswith("to_rgbs.")})
    size = 2 ** (n_up + 2)
    channels = {4: int(sd["input.input"].shape[1])}
    for k in range(n_up):
        channels[2 ** (k + 3)] = int(sd[f"convs.{2 * k}.conv.weight"].shape[1])
    return SynthesisNet(size, style_dim, n_mlp, channels)


def build_discriminator(sd: dict[str, Tensor]) -> Discriminator:
    top = int(sd["convs.0.0.weight"].shape[0])
    n_blocks = len({k.split(".")[1] for k in sd if k.startswith("convs.") and k.split(".")[1] != "0"})
    size = 2 ** (n_blocks + 2)
    channels = {size: top, 4: int(sd["final_conv.0.weight"].shape[0])}
    for i in range(n_blocks):
        channels[size // 2 ** (i + 1)] = int(sd[f"convs.{i + 1}.conv2.1.weight"].shape[0])
    return Discriminator(size, channels)

"""BEGAN generator (Berthelot et al. 2017) in the layout of sunshineatnoon/Paper-Implementations.

Why: a real face generator small enough to test the latent path on real faces (64×64 tight CelebA
face crops). It has no mapping network: w = z with a uniform [-1, 1] prior, so `mapping` clamps and
`w_bounds` tells the inversion to stay inside the box. Never shipped (no licence): tests only.

Layout: embed1 Linear(nz → ngf·8·8) → view → 3 × [conv3 ELU conv3 ELU up×2] → conv3 ELU conv3 ELU
conv3(→3) tanh. Keys `embed1.*`, `deconvK.{0,2}.*`, `deconv4.4.*`.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from editor.infer.latent.generator import CropSpec

# The training crops were OpenCV Haar face boxes (brow to chin, little background): much tighter
# than FFHQ, centred lower. Measured on the mean of 256 samples: eyes 22.5 px apart at y≈25, mouth
# at y≈48 (64 px) → 0.71 × the FFHQ square, centre 0.3 of the way from the eyes to the mouth.
BEGAN_CROP = CropSpec(scale=0.71, shift=0.3)


def _block(ch: int, up: bool) -> nn.Sequential:
    layers: list[nn.Module] = [
        nn.Conv2d(ch, ch, 3, padding=1),
        nn.ELU(),
        nn.Conv2d(ch, ch, 3, padding=1),
        nn.ELU(),
    ]
    layers.append(nn.Upsample(scale_factor=2, mode="nearest") if up else nn.Identity())
    return nn.Sequential(*layers)


class BEGANNet(nn.Module):
    def __init__(self, nz: int = 64, ngf: int = 64, size: int = 64):
        super().__init__()
        self.nz, self.ngf, self.size = nz, ngf, size
        self.embed1 = nn.Linear(nz, ngf * 8 * 8)
        n_up = {32: 2, 64: 3, 128: 4}[size]
        for k in range(1, n_up + 1):
            setattr(self, f"deconv{k}", _block(ngf, up=True))
        last = _block(ngf, up=False)
        last[4] = nn.Conv2d(ngf, 3, 3, padding=1)
        last.append(nn.Tanh())
        setattr(self, f"deconv{n_up + 1}", last)
        self.n_blocks = n_up + 1

    def first_features(self, z: Tensor) -> Tensor:
        return self.deconv1[:4](self.embed1(z).view(-1, self.ngf, 8, 8))

    def forward(self, z: Tensor) -> Tensor:
        x = self.embed1(z).view(-1, self.ngf, 8, 8)
        for k in range(1, self.n_blocks + 1):
            x = getattr(self, f"deconv{k}")(x)
        return x


class BEGANGenerator(nn.Module):
    """The `Generator` protocol over a `BEGANNet` (z = w, one "style", no noise, no discriminator)."""

    def __init__(self, net: BEGANNet, crop: CropSpec = BEGAN_CROP, sha256: str | None = None):
        super().__init__()
        self.net = net
        self.latent_dim = net.nz
        self.num_ws = 1
        self.resolution = net.size
        self.crop = crop
        self.w_bounds: tuple[float, float] | None = (-1.0, 1.0)
        self.sha256 = sha256

    def sample_latent(self, n: int, seed: int | None = None) -> Tensor:
        gen = torch.Generator().manual_seed(seed) if seed is not None else None
        return (torch.rand(n, self.latent_dim, generator=gen) * 2 - 1).to(self.net.embed1.weight.device)

    def mapping(self, z: Tensor) -> Tensor:
        return z.clamp(-1.0, 1.0)

    def synthesis(self, ws: Tensor, noise: list[Tensor] | None = None, max_res: int | None = None) -> Tensor:
        return self.net(ws[:, 0].clamp(-1.0, 1.0))

    def mean_w(self) -> Tensor:
        return torch.zeros(self.latent_dim, device=self.net.embed1.weight.device)

    def noise_tensors(self) -> list[Tensor]:
        return []

    def style_weights(self) -> list[Tensor]:
        return [self.net.embed1.weight.detach()]

    def pca_features(self, ws: Tensor) -> Tensor:
        """First conv block's activations: z is isotropic (uniform), so PCA must look deeper (GANSpace)."""
        return self.net.first_features(ws[:, 0]).flatten(1)

    def discriminator_features(self, img: Tensor) -> list[Tensor] | None:
        return None

    def synthesis_module(self) -> nn.Module:
        return self.net


def is_began(sd: dict[str, Tensor]) -> bool:
    return "embed1.weight" in sd and "deconv1.0.weight" in sd


def build_began(sd: dict[str, Tensor]) -> BEGANNet:
    out_feats, nz = sd["embed1.weight"].shape
    ngf = int(sd["deconv1.0.weight"].shape[0])
    n_blocks = len({k.split(".")[0] for k in sd if k.startswith("deconv")})
    size = 8 * 2 ** (n_blocks - 1)
    if out_feats != ngf * 64 or size not in (32, 64, 128):
        raise ValueError(
            f"unexpected BEGAN shapes (embed {tuple(sd['embed1.weight'].shape)}, {n_blocks} blocks)"
        )
    return BEGANNet(int(nz), ngf, size)

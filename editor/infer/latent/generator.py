"""The small interface every latent-editing generator offers, so inversion, edits and composites are
written once. Implementations: `stylegan2.StyleGAN2Generator`, `began.BEGANGenerator`.

Shapes: z (N, latent_dim); w (N, latent_dim); ws (N, num_ws, latent_dim); images NCHW RGB in [-1, 1].
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    import torch
    from torch import nn


@dataclass(frozen=True)
class CropSpec:
    """How a face is framed in this generator's training images (see `align.face_quad`).

    `scale` multiplies the FFHQ crop size (1.0 = FFHQ: hair and shoulders); `shift` moves the centre
    from the eyes towards the mouth in units of the eye-to-mouth distance (FFHQ: 0.1).
    """

    scale: float = 1.0
    shift: float = 0.1


FFHQ_CROP = CropSpec()


@runtime_checkable
class Generator(Protocol):
    latent_dim: int
    num_ws: int  # 1 for plain z-GANs
    resolution: int
    crop: CropSpec
    w_bounds: tuple[float, float] | None  # box prior of w (BEGAN: uniform [-1, 1]), else None
    sha256: str | None  # of the weights file it came from (recipe)

    def sample_latent(self, n: int, seed: int | None = None) -> torch.Tensor: ...

    def mapping(self, z: torch.Tensor) -> torch.Tensor: ...

    def synthesis(
        self, ws: torch.Tensor, noise: list[torch.Tensor] | None = None, max_res: int | None = None
    ) -> torch.Tensor:
        """ws (N, num_ws or 1, D) → (N, 3, R, R) in [-1, 1]; `noise` overrides the per-layer noise maps;
        `max_res` may stop early for a cheap preview (a generator may ignore it)."""

    def mean_w(self) -> torch.Tensor: ...

    def noise_tensors(self) -> list[torch.Tensor]: ...

    def style_weights(self) -> list[torch.Tensor]: ...

    def pca_features(self, ws: torch.Tensor) -> torch.Tensor: ...

    def discriminator_features(self, img: torch.Tensor) -> list[torch.Tensor] | None: ...

    def synthesis_module(self) -> nn.Module: ...


def to_tensor(img, device: str = "cpu") -> torch.Tensor:
    """H×W×3 float [0, 1] numpy → 1×3×H×W in [-1, 1]."""
    import numpy as np
    import torch

    arr = np.ascontiguousarray(np.asarray(img, dtype=np.float32)[..., :3].transpose(2, 0, 1))
    return torch.from_numpy(arr)[None].to(device) * 2.0 - 1.0


def to_image(t: torch.Tensor):
    """1×3×H×W in [-1, 1] → H×W×3 float32 numpy in [0, 1]."""
    return ((t[0].detach().float().cpu().clamp(-1, 1) + 1.0) * 0.5).permute(1, 2, 0).numpy().copy()

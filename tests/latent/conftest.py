"""Tiny random-weight generators for the latent-editing tests (plumbing only; quality needs real weights)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from editor.infer.latent.stylegan2 import Discriminator, StyleGAN2Generator, SynthesisNet, channels_for

BEGAN_FILE = Path("weights/gan/began_celeba64_sunshineatnoon/netG_200000.pth")


def make_tiny(
    size: int = 32, dim: int = 16, top: int = 16, seed: int = 0, with_d: bool = True
) -> StyleGAN2Generator:
    """A StyleGAN2 with narrow channels whose noise inputs matter and whose output stays near [-1, 1]."""
    torch.manual_seed(seed)
    ch = channels_for(size, top=top)
    g = SynthesisNet(size, dim, 2, ch)
    with torch.no_grad():
        for name, p in g.named_parameters():
            if name.endswith("noise.weight"):
                p.fill_(0.3)
            if "to_rgb" in name and name.endswith("conv.weight"):
                p.mul_(0.4)
    d = Discriminator(size, ch) if with_d else None
    return StyleGAN2Generator(g, None, d).eval().requires_grad_(False)


@pytest.fixture
def tiny() -> StyleGAN2Generator:
    return make_tiny()


@pytest.fixture(scope="module")
def began_path(shared_data: Path) -> Path:
    path = shared_data / BEGAN_FILE
    if not path.is_file():
        pytest.skip(f"BEGAN test generator not found at {path}")
    return path


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():
    """Tiny convolutions on a shared 2-core machine run ~10× faster on one thread than on two."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)

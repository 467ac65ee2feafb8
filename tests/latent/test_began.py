"""The real BEGAN face generator (tests only, never shipped): loads strictly, makes faces, and inverting
a real face crop from Set5 gets closer with generator fine-tuning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from editor.core.metrics import psnr, ssim
from editor.infer.latent.began import BEGANGenerator
from editor.infer.latent.loaders import load_generator
from editor.infer.latent.session import LatentSession

BEGAN_SHA = "6a9b0f4d87bac9450505b5aef3f6f29ff50968dd258935ff579c8711304b1ecd"
# Clicked by looking at the images (pixel coordinates): eye centres, mouth centre.
WOMAN = ("sr/Set5/x4/img_005_SRF_4_HR.png", (76, 104, 137, 94), (122, 170))


@pytest.fixture(scope="module")
def began(began_path: Path) -> BEGANGenerator:
    gen = load_generator(began_path)
    assert isinstance(gen, BEGANGenerator)
    return gen


def test_loads_with_its_checksum_and_makes_bounded_images(began: BEGANGenerator) -> None:
    assert began.sha256 == BEGAN_SHA and began.resolution == 64 and began.num_ws == 1
    with torch.no_grad():
        img = began.synthesis(began.mapping(began.sample_latent(4, seed=0))[:, None])
    assert img.shape == (4, 3, 64, 64) and img.min() >= -1 and img.max() <= 1
    assert img.std() > 0.2  # faces, not a flat colour


@pytest.mark.slow
def test_set5_face_inversion_improves_with_finetuning(began: BEGANGenerator, shared_data: Path) -> None:
    """Bars set by what trivial images score on the same crop, so a wrong inversion cannot pass:
    the latent fit must beat the flat mean colour by 2 dB (a mean colour scores ≈ 11.8 dB here, the
    best of 16 random faces ≈ 12.6), and fine-tuning must beat a σ = 2 px blur of the crop itself
    by 1.5 dB in PSNR and in SSIM."""
    import cv2

    rel, eyes, mouth = WOMAN
    photo = cv2.cvtColor(cv2.imread(str(shared_data / rel)), cv2.COLOR_BGR2RGB).astype(np.float32) / 255
    s = LatentSession.from_photo(began, photo, eyes, mouth)
    crop = s.crop
    inv = s.invert(steps=40, finetune_steps=25, preview_every=0, init_candidates=16, finetune_lr=3e-4)
    fitted = s.render()
    with torch.no_grad():
        faces = began.synthesis(began.mapping(began.sample_latent(16, seed=0))[:, None]).clamp(-1, 1)
    faces = ((faces + 1) / 2).permute(0, 2, 3, 1).numpy()
    flat = np.broadcast_to(crop.mean(axis=(0, 1)), crop.shape)
    blurred = cv2.GaussianBlur(crop, (0, 0), 2.0)
    latent_bar = psnr(flat, crop) + 2.0
    final_bar = psnr(blurred, crop) + 1.5
    print(f"\nBEGAN Set5 woman: z only {inv.psnr_latent:.2f} dB (bar {latent_bar:.2f}), fine-tuned "
          f"{inv.psnr_final:.2f} dB (bar {final_bar:.2f}), SSIM {ssim(fitted, crop):.3f} "
          f"(blur {ssim(blurred, crop):.3f})")
    assert inv.psnr_latent > latent_bar  # a face was found, not a flat colour
    assert inv.psnr_final > max(inv.psnr_latent + 1.0, final_bar)
    assert psnr(fitted, crop) == pytest.approx(inv.psnr_final, abs=0.05)  # the score is of this image
    assert ssim(fitted, crop) > ssim(blurred, crop) + 0.05
    assert inv.ws.abs().max() <= 1.0  # stayed inside the uniform prior
    # The bars reject trivial answers: a flat colour and any one random face for the latent fit,
    # the blurred crop for the fine-tuned one.
    assert max(psnr(f, crop) for f in faces) < latent_bar
    assert psnr(blurred, crop) < final_bar and ssim(blurred, crop) < ssim(fitted, crop)

"""The real BEGAN face generator (tests only, never shipped): loads strictly, makes faces, and inverting
a real face crop from Set5 gets closer with generator fine-tuning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

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
    import cv2

    rel, eyes, mouth = WOMAN
    photo = cv2.cvtColor(cv2.imread(str(shared_data / rel)), cv2.COLOR_BGR2RGB).astype(np.float32) / 255
    s = LatentSession.from_photo(began, photo, eyes, mouth)
    inv = s.invert(steps=40, finetune_steps=25, preview_every=0, init_candidates=16, finetune_lr=3e-4)
    print(f"\nBEGAN Set5 woman: z only {inv.psnr_latent:.2f} dB, fine-tuned {inv.psnr_final:.2f} dB")
    assert inv.psnr_latent > 13  # a face was found, not noise
    assert inv.psnr_final > inv.psnr_latent + 1.0
    assert inv.ws.abs().max() <= 1.0  # stayed inside the uniform prior

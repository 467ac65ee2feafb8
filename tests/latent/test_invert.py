"""Inversion of an image the generator made from a known latent (tiny random generator: plumbing and
optimiser behaviour, not face quality), preview/cancel, and the degraded modes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from editor.infer.api import Cancelled, CancelToken, Progress
from editor.infer.latent.generator import to_image
from editor.infer.latent.invert import InvertOptions, apply_weights_delta, invert
from editor.infer.latent.losses import ms_ssim
from tests.latent.conftest import make_tiny


@pytest.fixture(scope="module")
def case():
    gen = make_tiny(seed=1)
    with torch.no_grad():
        w = gen.mapping(gen.sample_latent(1, seed=123))
        target = gen.synthesis(w[:, None].expand(-1, gen.num_ws, -1))
    return gen, to_image(target)


def test_w_plus_with_finetuning_reaches_30_db(case) -> None:
    gen, target = case
    w_only = invert(gen, target, InvertOptions(steps=60, space="w", preview_every=0))
    full = invert(gen, target, InvertOptions(steps=60, space="w+", finetune_steps=60, preview_every=0))
    print(
        f"\ntiny StyleGAN2 inversion PSNR: W {w_only.psnr_final:.1f} dB, "
        f"W+ {full.psnr_latent:.1f} dB, W+ & fine-tuning {full.psnr_final:.1f} dB"
    )
    assert full.psnr_final >= 30.0
    assert full.psnr_final > full.psnr_latent
    assert full.ws.shape == (1, gen.num_ws, gen.latent_dim)
    assert not w_only.tuned and full.tuned
    # The saved delta rebuilds the fine-tuned generator exactly enough to re-render the result.
    delta = full.weights_delta()
    assert delta and all(v.dtype == np.float16 for v in delta.values())
    rebuilt = apply_weights_delta(gen, delta)
    with torch.no_grad():
        a = full.render()
        b = rebuilt.synthesis(full.ws, noise=full.noises)
    assert (a - b).abs().max() < 1e-2


def test_preview_and_cancel(case) -> None:
    gen, target = case
    seen: list[Progress] = []
    token = CancelToken()

    def progress(p: Progress) -> None:
        seen.append(p)
        if p.preview is not None and len([s for s in seen if s.preview is not None]) == 2:
            token.cancel()

    with pytest.raises(Cancelled):
        invert(gen, target, InvertOptions(steps=50, preview_every=5), progress, token)
    previews = [p for p in seen if p.preview is not None]
    assert len(previews) == 2 and previews[0].preview.shape == (32, 32, 3)
    assert 0 < previews[-1].fraction < 0.5


def test_superres_and_inpaint_fit_what_was_seen(case) -> None:
    gen, target = case
    sr = invert(
        gen, target, InvertOptions(steps=40, mode="superres", scale=4, preview_every=0, init_candidates=1)
    )
    assert sr.psnr_final > 25  # measured on the ×4-downsampled observation
    hole = np.zeros((32, 32), np.float32)
    hole[8:20, 8:24] = 1
    inp = invert(gen, target, InvertOptions(steps=40, mode="inpaint", hole=hole, preview_every=0))
    assert inp.psnr_final > 20
    full = inp.render()
    assert full.shape == (1, 3, 32, 32)


def test_ms_ssim_is_one_for_equal_and_drops_with_noise() -> None:
    x = torch.rand(1, 3, 64, 64)
    assert float(ms_ssim(x, x)) == pytest.approx(1.0, abs=1e-5)
    noisy = (x + 0.2 * torch.randn_like(x)).clamp(0, 1)
    assert float(ms_ssim(x, noisy)) < 0.9
    assert float(ms_ssim(x[..., :32, :32], noisy[..., :32, :32])) < 0.95

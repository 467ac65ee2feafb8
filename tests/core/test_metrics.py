"""The shared PSNR/SSIM: known values, masks, and that they rank a worse image lower."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from editor.core.metrics import luma_psnr, luma_ssim, psnr, ssim


def _photo() -> np.ndarray:
    """Texture at several scales, as photos have (SSIM rewards structure, so smooth ramps are no test)."""
    rng = np.random.default_rng(5)
    fine = cv2.GaussianBlur(rng.random((64, 80)), (0, 0), 1.0)
    yy, xx = np.mgrid[0:64, 0:80] / 16.0
    base = np.clip(0.3 + 0.2 * np.sin(xx) * np.cos(yy) + 0.8 * (fine - 0.5), 0, 1)
    return np.stack([base, 0.8 * base + 0.1, 0.6 * base], axis=2).astype(np.float32)


def test_psnr_matches_its_definition_and_respects_the_mask() -> None:
    a = _photo()
    b = a.copy()
    b[:32] += 0.1  # only the top half differs
    assert psnr(a, b) == pytest.approx(10 * np.log10(1 / (0.01 / 2)), abs=1e-3)
    top = np.zeros(a.shape[:2], bool)
    top[:32] = True
    assert psnr(a, b, mask=top) == pytest.approx(20.0, abs=1e-3)
    assert psnr(a, b, mask=~top) == 120.0
    assert psnr(a * 255, b * 255, peak=255) == pytest.approx(psnr(a, b), abs=1e-6)


def test_ssim_is_one_for_equal_images_and_lower_for_noise_and_flat_colour() -> None:
    a = _photo()
    rng = np.random.default_rng(0)
    noisy = np.clip(a + rng.normal(0, 0.05, a.shape), 0, 1)
    flat = np.broadcast_to(a.mean(axis=(0, 1)), a.shape)
    assert ssim(a, a) == pytest.approx(1.0, abs=1e-9)
    assert ssim(a, flat) < 0.4 < ssim(a, noisy) < 0.9
    mask = np.zeros(a.shape[:2], bool)
    mask[10:30, 10:30] = True
    assert ssim(a, noisy, mask=mask) < 0.95


def test_luma_metrics_crop_the_border() -> None:
    a = _photo()
    b = a.copy()
    b[:4] = 0  # damage only inside the cropped border
    assert luma_psnr(a, b, border=4) == 120.0
    assert luma_ssim(a, b, border=10) == pytest.approx(1.0, abs=1e-9)
    assert luma_psnr(a, b, border=0) < 30

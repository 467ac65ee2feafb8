"""Image-quality metrics (PSNR, SSIM) on numpy images: one implementation for tests and benches.

Why one module: quality tests and benchmarks must measure the same way to be comparable, and a
masked PSNR/SSIM (inpainting is judged inside its hole only) is easy to get subtly wrong twice.
Conventions follow the papers the benches compare with: SSIM after Wang et al. 2004 (Gaussian
window σ 1.5, 11×11, K1 0.01, K2 0.03); super-resolution PSNR/SSIM on BT.601 luma (16–235 scale,
peak 255) with a border cropped.
"""

from __future__ import annotations

import cv2
import numpy as np

_GREY = np.array([0.299, 0.587, 0.114])
_LUMA = np.array([65.481, 128.553, 24.966])


def grey(rgb: np.ndarray) -> np.ndarray:
    """BT.601 grey of an H×W×3(+) image, in the image's own scale (float64); H×W passes through."""
    if rgb.ndim == 2:
        return rgb.astype(np.float64)
    return rgb[..., :3].astype(np.float64) @ _GREY


def luma(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma Y on the 16–235 scale of an RGB image in [0, 1], as SR papers report PSNR/SSIM."""
    return 16.0 + rgb[..., :3].astype(np.float64) @ _LUMA


def _crop(a: np.ndarray, border: int) -> np.ndarray:
    return a[border:-border, border:-border] if border else a


def psnr(
    a: np.ndarray, b: np.ndarray, *, mask: np.ndarray | None = None, border: int = 0, peak: float = 1.0
) -> float:
    """Peak signal-to-noise ratio in dB over all channels; only where `mask` (H×W, bool) is set, and
    `border` pixels cropped from each side first. Identical images give 120 dB (not infinity)."""
    if a.shape != b.shape:
        raise ValueError(f"PSNR of images of different shapes {a.shape} and {b.shape}")
    diff = _crop(a.astype(np.float64) - b.astype(np.float64), border)
    if mask is not None:
        diff = diff[_crop(np.asarray(mask, bool), border)]
    mse = float(np.mean(diff**2))
    return float(10.0 * np.log10(peak**2 / max(mse, 1e-12 * peak**2)))


def ssim_map(a: np.ndarray, b: np.ndarray, *, peak: float = 1.0) -> np.ndarray:
    """Per-pixel SSIM of two single-channel images (RGB is compared on its grey)."""
    x, y = grey(a), grey(b)
    if x.shape != y.shape:
        raise ValueError(f"SSIM of images of different shapes {x.shape} and {y.shape}")

    def blur(img: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(img, (11, 11), 1.5, borderType=cv2.BORDER_REFLECT)

    mx, my = blur(x), blur(y)
    vx, vy, cov = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    c1, c2 = (0.01 * peak) ** 2, (0.03 * peak) ** 2
    return ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))


def ssim(
    a: np.ndarray, b: np.ndarray, *, mask: np.ndarray | None = None, border: int = 0, peak: float = 1.0
) -> float:
    """Mean SSIM (Wang et al. 2004), over `mask` (H×W, bool) when given, `border` pixels cropped.

    The map is computed on the whole image, so windows at the mask's edge see real context."""
    m = _crop(ssim_map(a, b, peak=peak), border)
    if mask is not None:
        m = m[_crop(np.asarray(mask, bool), border)]
    return float(np.mean(m))


def luma_psnr(a: np.ndarray, b: np.ndarray, border: int = 4) -> float:
    """Super-resolution PSNR: BT.601 luma, peak 255, `border` pixels (the scale, usually) cropped."""
    return psnr(luma(a), luma(b), border=border, peak=255.0)


def luma_ssim(a: np.ndarray, b: np.ndarray, border: int = 4) -> float:
    """Super-resolution SSIM on BT.601 luma, peak 255, `border` pixels cropped."""
    return ssim(luma(a), luma(b), border=border, peak=255.0)

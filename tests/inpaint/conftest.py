"""Fixtures for the inpainting tests: small synthetic photos with a known texture."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

# The local HTTP server and helpers live beside the download tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "infer"))


def texture_image(h: int = 96, w: int = 112, seed: int = 1) -> np.ndarray:
    """A stationary texture (oriented stripes + grain) on a gentle colour ramp."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    stripes = 0.5 + 0.25 * np.sin(xx * 0.9 + yy * 0.35)
    grain = rng.normal(0, 0.06, (h, w)).astype(np.float32)
    ramp = xx / w * 0.2
    base = np.clip(stripes + grain, 0, 1)
    rgb = np.stack([base * 0.9 + ramp, base * 0.7, base * 0.5 + 0.2 - ramp], -1)
    return rgb.clip(0, 1).astype(np.float32)


def grad_mag(img: np.ndarray) -> np.ndarray:
    import cv2

    g = img[..., :3] @ np.array([0.299, 0.587, 0.114], np.float32)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1)
    return np.sqrt(gx * gx + gy * gy)


@pytest.fixture
def textured() -> tuple[np.ndarray, np.ndarray]:
    img = texture_image()
    mask = np.zeros(img.shape[:2], np.float32)
    mask[30:62, 40:76] = 1.0
    return img, mask

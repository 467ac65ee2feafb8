"""Matting fixtures: one numba warm-up per session (a cold compile takes about a minute, once per
machine; afterwards the per-user cache makes it about a second), and small synthetic scenes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest


@pytest.fixture(scope="session")
def matting_warm() -> dict[str, float]:
    from editor.infer.matting import warm_up

    return warm_up()


def smooth_texture(h: int, w: int, seed: int) -> np.ndarray:
    """A photo-like RGB background: smooth random colour fields plus fine detail, values in [0.1, 0.9]."""
    rng = np.random.default_rng(seed)
    coarse = cv2.resize(
        rng.random((h // 8 + 2, w // 8 + 2, 3)).astype(np.float32),
        (w + 16, h + 16),
        interpolation=cv2.INTER_CUBIC,
    )
    fine = cv2.GaussianBlur(rng.random((h + 16, w + 16, 3)).astype(np.float32), (0, 0), 1.5)
    return np.clip(0.1 + 0.6 * coarse + 0.2 * fine, 0.0, 1.0)


def soft_disc(h: int, w: int, cy: float, cx: float, r: float, soft: float = 3.0) -> np.ndarray:
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dist = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2)
    return np.clip((r - dist) / soft + 0.5, 0.0, 1.0).astype(np.float32)


@pytest.fixture
def plate_scene() -> dict[str, np.ndarray]:
    """Photo, plate and true alpha: a soft-edged two-colour subject over a textured background; the
    plate is the background moved by (2.5, -1.5) px, with an exposure change and sensor noise."""
    h, w = 96, 128
    rng = np.random.default_rng(7)
    big = smooth_texture(h, w, seed=3)  # (h+16)×(w+16)
    bg = big[8 : 8 + h, 8 : 8 + w]
    shift = np.float32([[1, 0, 8 + 2.5], [0, 1, 8 - 1.5]])
    plate = cv2.warpAffine(big, shift, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    plate = np.clip(plate * np.float32([1.1, 0.95, 1.05]) + np.float32([0.01, -0.02, 0.0]), 0, 1)
    alpha = np.maximum(soft_disc(h, w, 50, 60, 26), soft_disc(h, w, 20, 60, 10))
    fg = np.zeros((h, w, 3), np.float32)
    fg[..., 0] = 0.85
    fg[..., 1] = np.linspace(0.2, 0.6, w, dtype=np.float32)[None, :]
    fg[..., 2] = 0.3
    photo = fg * alpha[..., None] + bg * (1 - alpha[..., None])
    photo = np.clip(photo + rng.normal(0, 0.01, photo.shape), 0, 1).astype(np.float32)
    plate = np.clip(plate + rng.normal(0, 0.01, plate.shape), 0, 1).astype(np.float32)
    return {"photo": photo, "plate": plate, "alpha": alpha, "fg": fg, "bg": bg}

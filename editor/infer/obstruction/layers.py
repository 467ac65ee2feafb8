"""What the separate and refine stages pass along: the layers of one burst in reference coordinates."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import cv2
import numpy as np

Kind = Literal["fence", "reflection"]
KINDS = ("fence", "reflection", "auto")


@dataclass
class Layers:
    """Background and obstruction of the reference frame.

    For kind "fence" (opaque obstructions) `obstruction` is RGB colour with `alpha` its coverage and
    `mask` the pixels that were replaced; for "reflection" `obstruction` is the additive light
    (reference ≈ background + obstruction) and `alpha` is unused (None).
    """

    kind: Kind
    background: np.ndarray
    obstruction: np.ndarray
    mask: np.ndarray
    alpha: np.ndarray | None = None
    info: dict[str, Any] = field(default_factory=dict)


def noise_sigma(image: np.ndarray) -> float:
    """Sensor noise level of one frame (Immerkær's Laplacian-difference operator, made robust).

    The 3×3 operator cancels smooth image content; its median absolute response (rather than the
    mean) is also blind to the minority of pixels on edges and texture, so what is left is noise.
    """
    kernel = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)
    resp = np.abs(cv2.filter2D(image.astype(np.float32), -1, kernel, borderType=cv2.BORDER_REFLECT))
    return max(1.4826 * float(np.median(resp[1:-1, 1:-1])) / 6.0, 1.0 / 1024)


def obstruction_colour(
    ref: np.ndarray, background: np.ndarray, alpha: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(alpha, colour) of the obstruction so that colour·α + background·(1−α) is the reference again.

    α is raised where needed (never lowered) so that the colour stays within 0–1: the smallest α
    that explains the difference between reference and background (as in matting's colour bounds).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        up = np.where(ref > background, (ref - background) / np.maximum(1 - background, 1e-6), 0)
        down = np.where(ref < background, (background - ref) / np.maximum(background, 1e-6), 0)
    need = np.clip(np.maximum(up, down).max(axis=2), 0, 1)
    a = np.where(alpha > 0, np.maximum(alpha, need), 0.0).astype(np.float32)
    safe = np.maximum(a, 1e-6)[..., None]
    colour = np.where(a[..., None] > 0, (ref - (1 - a[..., None]) * background) / safe, ref)
    return a, np.clip(colour, 0.0, 1.0).astype(np.float32)

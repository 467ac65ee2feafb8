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

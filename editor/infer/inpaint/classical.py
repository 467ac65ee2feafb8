"""OpenCV's diffusion inpainting (Telea 2004; Navier–Stokes, Bertalmio et al. 2001) as baseline engines.

Run per channel on float32 (OpenCV accepts 1-channel float), so 16-bit documents are not squeezed
through an 8-bit proxy. OpenCV's float path assumes 8-bit-like magnitudes (on [0, 1] data it returns
garbage), so values are scaled to [0, 255] and back.
"""

from __future__ import annotations

import cv2
import numpy as np

_FLAGS = {"telea": cv2.INPAINT_TELEA, "ns": cv2.INPAINT_NS}


def diffuse(image: np.ndarray, hole: np.ndarray, method: str = "telea", radius: float = 3.0) -> np.ndarray:
    """Fill `hole` (bool H×W) in an H×W×C float32 image by diffusion from the boundary."""
    flag = _FLAGS[method]
    m = hole.astype(np.uint8)
    out = np.array(image, dtype=np.float32, copy=True)
    if not m.any():
        return out
    for c in range(out.shape[2]):
        chan = np.ascontiguousarray(out[..., c] * 255.0)
        out[..., c] = cv2.inpaint(chan, m, radius, flag) / 255.0
    return out

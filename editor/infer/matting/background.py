"""Replace background: composite a straight-alpha cut-out over a colour, an image or a blurred original.

Pure numpy (plus a Gaussian blur from OpenCV for the "blurred original" case).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from editor.core.errors import LucidError


def parse_color(text: str) -> tuple[float, float, float]:
    """`#rrggbb`, `#rgb`, `r,g,b` (0–255) or a few names → RGB floats in [0, 1]."""
    names = {
        "white": (1.0, 1.0, 1.0),
        "black": (0.0, 0.0, 0.0),
        "red": (1.0, 0.0, 0.0),
        "green": (0.0, 1.0, 0.0),
        "blue": (0.0, 0.0, 1.0),
        "grey": (0.5, 0.5, 0.5),
        "gray": (0.5, 0.5, 0.5),
    }
    t = text.strip().lower()
    if t in names:
        return names[t]
    try:
        if t.startswith("#") and len(t) in (4, 7):
            digits = t[1:]
            if len(digits) == 3:
                digits = "".join(c * 2 for c in digits)
            return tuple(int(digits[i : i + 2], 16) / 255.0 for i in (0, 2, 4))  # type: ignore[return-value]
        parts = [float(p) for p in t.split(",")]
    except ValueError:
        parts = []
    if len(parts) == 3 and all(0 <= p <= 255 for p in parts):
        return tuple(p / 255.0 for p in parts)  # type: ignore[return-value]
    raise LucidError(f"'{text}' is not a colour: use #rrggbb, r,g,b (0–255) or a name like white.")


def blurred(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian-blurred copy of an RGB float image (for a soft 'portrait' background)."""
    return cv2.GaussianBlur(np.ascontiguousarray(image[..., :3], dtype=np.float32), (0, 0), sigma)


def replace_background(
    cutout: np.ndarray,
    background: Sequence[float] | np.ndarray | str,
    *,
    original: np.ndarray | None = None,
    blur_sigma: float = 12.0,
) -> np.ndarray:
    """Composite `cutout` (float32 H×W×4, straight alpha) over a background; returns float32 RGB.

    `background` is an RGB colour (3 floats in [0, 1]), an RGB(A) float image of the same size, or the
    string "blur" (the blurred `original`; its alpha channel, if any, is ignored).
    """
    if cutout.ndim != 3 or cutout.shape[2] != 4:
        raise LucidError("A cut-out must be an RGBA image.")
    fg, alpha = cutout[..., :3], cutout[..., 3:4]
    h, w = cutout.shape[:2]
    if isinstance(background, str):
        if background != "blur":
            raise LucidError(f"Unknown background '{background}'.")
        if original is None:
            raise LucidError("A blurred background needs the original image.")
        bg = blurred(original, blur_sigma)
    elif isinstance(background, np.ndarray) and background.ndim == 3:
        bg = background[..., :3]
    else:
        color = np.asarray(background, dtype=np.float32).reshape(-1)
        if color.size != 3:
            raise LucidError("A background colour needs three values (red, green, blue).")
        bg = np.broadcast_to(color, (h, w, 3))
    if bg.shape[:2] != (h, w):
        raise LucidError(
            f"The background is {bg.shape[1]}×{bg.shape[0]} but the cut-out is {w}×{h}; they must match."
        )
    return (fg * alpha + bg.astype(np.float32) * (1.0 - alpha)).astype(np.float32)

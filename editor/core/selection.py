"""Selection-mask arithmetic (float32 H×W in [0, 1], 1 = selected). Pure functions; `Document` makes
each one an undo step."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import cv2
import numpy as np

from editor.core.geometry import Rect

_AA_SHIFT = 4  # cv2 fixed-point bits for sub-pixel polygon vertices


class SelectMode(StrEnum):
    REPLACE = "replace"
    ADD = "add"
    SUBTRACT = "subtract"
    INTERSECT = "intersect"


def combine(old: np.ndarray, shape_mask: np.ndarray, mode: SelectMode | str) -> np.ndarray:
    """Merge a new shape into an existing selection region of the same size."""
    mode = SelectMode(mode)
    if mode is SelectMode.REPLACE:
        return shape_mask
    if mode is SelectMode.ADD:
        return np.maximum(old, shape_mask)
    if mode is SelectMode.SUBTRACT:
        return np.minimum(old, 1.0 - shape_mask)
    return np.minimum(old, shape_mask)


def polygon_mask(size: tuple[int, int], points: Sequence[tuple[float, float]],
                 origin: tuple[int, int] = (0, 0), antialias: bool = True) -> np.ndarray:
    """Float32 (h, w) coverage of a polygon given in canvas coordinates; the array's (0, 0) is `origin`."""
    h, w = size
    canvas = np.zeros((h, w), np.uint8)
    pts = np.asarray(points, np.float64)
    if pts.ndim != 2 or pts.shape[0] < 3 or pts.shape[1] != 2:
        return canvas.astype(np.float32)
    # cv2 samples pixel (i, j) at its integer coordinate; our pixel centres are at +0.5.
    fixed = np.round((pts - np.asarray(origin, np.float64) - 0.5) * (1 << _AA_SHIFT)).astype(np.int32)
    cv2.fillPoly(canvas, [fixed], 255, cv2.LINE_AA if antialias else cv2.LINE_8, _AA_SHIFT)
    return canvas.astype(np.float32) * np.float32(1.0 / 255.0)


def polygon_bounds(points: Sequence[tuple[float, float]], clip: Rect) -> Rect:
    pts = np.asarray(points, np.float64)
    if pts.size == 0:
        return Rect(0, 0, 0, 0)
    x0, y0 = np.floor(pts.min(axis=0)).astype(int) - 1
    x1, y1 = np.ceil(pts.max(axis=0)).astype(int) + 1
    return Rect.from_bounds(int(x0), int(y0), int(x1), int(y1)).intersect(clip)


def grow(selection: np.ndarray, px: float) -> np.ndarray:
    """Grow (px > 0) or shrink (px < 0) the selected region (≥ 0.5) by `px` pixels, with a 1-px soft edge."""
    if px == 0:
        return selection.copy()
    inside = (selection >= 0.5).astype(np.uint8)
    if px > 0:
        dist = cv2.distanceTransform(1 - inside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)  # to nearest selected
        out = np.clip(np.float32(px) + 0.5 - dist, 0.0, 1.0)
        return np.maximum(out, selection).astype(np.float32)
    dist = cv2.distanceTransform(inside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)  # to nearest unselected
    out = np.clip(dist - np.float32(-px) - 0.5, 0.0, 1.0)
    return np.minimum(out, selection).astype(np.float32)


def feather(selection: np.ndarray, radius: float) -> np.ndarray:
    """Soften the selection edge with a Gaussian whose sigma is radius / 2."""
    if radius <= 0:
        return selection.copy()
    sigma = radius / 2.0
    return cv2.GaussianBlur(selection, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REPLICATE)

"""Selection-mask arithmetic (float32 H×W in [0, 1], 1 = selected). Pure functions; `Document` makes
each one an undo step."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import cv2
import numpy as np

from editor.core.geometry import Rect

_SUPERSAMPLE = 4  # sample rows per pixel row when anti-aliasing
_BAND_ROWS = 32


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
    """Float32 (h, w) coverage of a polygon (even-odd rule) given in canvas coordinates; the array's
    (0, 0) is `origin`.

    A vectorised scanline fill: with anti-aliasing, 4 sample rows per pixel and exact horizontal
    coverage, so a pixel's value is its covered area (cv2's LINE_AA fill instead draws a rim outside
    the shape, and its plain fill rounds vertices to whole pixels).
    """
    h, w = size
    pts = np.asarray(points, np.float64)
    if pts.ndim != 2 or pts.shape[0] < 3 or pts.shape[1] != 2 or h <= 0 or w <= 0:
        return np.zeros((max(h, 0), max(w, 0)), np.float32)
    pts = pts - np.asarray(origin, np.float64)
    x0, y0 = pts[:, 0], pts[:, 1]
    x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
    keep = y0 != y1
    x0, y0, x1, y1 = x0[keep], y0[keep], x1[keep], y1[keep]
    ylo, yhi = np.minimum(y0, y1), np.maximum(y0, y1)
    slope = (x1 - x0) / (y1 - y0)
    ss = _SUPERSAMPLE if antialias else 1
    out = np.zeros((h, w), np.float32)
    r0 = 0
    while r0 < h:
        # bands of rows, so that only the edges crossing a band take part in its intersections
        r1 = min(h, r0 + _BAND_ROWS)
        near = (yhi > r0) & (ylo < r1)
        ys = (np.arange(r0 * ss, r1 * ss) + 0.5) / ss
        ex0, ey0, elo, ehi, eslope = x0[near], y0[near], ylo[near], yhi[near], slope[near]
        crosses = (ys[:, None] >= elo) & (ys[:, None] < ehi)
        xs = np.where(crosses, ex0 + (ys[:, None] - ey0) * eslope, np.inf)
        xs.sort(axis=1)
        a, b = xs[:, 0::2], xs[:, 1::2]
        valid = np.isfinite(b[:, : a.shape[1]]) if b.shape[1] else np.zeros_like(a, bool)
        a, b = a[:, : b.shape[1]], b[:, : a.shape[1]]
        row = np.broadcast_to((np.arange(len(ys)) // ss)[:, None], a.shape)[valid]
        a, b = a[valid], b[valid]
        out[r0:r1] = _spans_to_rows(row, a, b, r1 - r0, w, antialias) / np.float32(ss)
        r0 = r1
    return out


def _spans_to_rows(row: np.ndarray, a: np.ndarray, b: np.ndarray, h: int, w: int,
                   antialias: bool) -> np.ndarray:
    """Accumulate horizontal spans [a, b) on rows `row` into an (h, w) coverage sum."""
    size = h * (w + 1)
    base = row * (w + 1)
    if antialias:
        a, b = np.clip(a, 0, w), np.clip(b, 0, w)
        fa, fb = np.floor(a).astype(np.int64), np.floor(b).astype(np.int64)
        idx = np.concatenate([base + fa, base + fb])
        ones = np.ones(len(a))
        steps = np.bincount(idx, np.concatenate([ones, -ones]), minlength=size)
        frac = np.bincount(idx, np.concatenate([fa - a, b - fb]), minlength=size)
    else:  # a pixel is in when its centre is
        start = np.clip(np.ceil(a - 0.5), 0, w).astype(np.int64)
        stop = np.clip(np.ceil(b - 0.5), 0, w).astype(np.int64)
        ones = np.ones(len(a))
        steps = np.bincount(np.concatenate([base + start, base + stop]), np.concatenate([ones, -ones]),
                            minlength=size)
        frac = None
    cov = np.cumsum(steps.reshape(h, w + 1), axis=1)
    if frac is not None:
        cov += frac.reshape(h, w + 1)
    return cov[:, :w].astype(np.float32)


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
        out = np.clip(np.float32(px) + 1.0 - dist, 0.0, 1.0)  # centres lie 0.5 px beyond the old edge
        return np.maximum(out, selection).astype(np.float32)
    dist = cv2.distanceTransform(inside, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)  # to nearest unselected
    out = np.clip(dist - np.float32(-px), 0.0, 1.0)
    return np.minimum(out, selection).astype(np.float32)


def feather(selection: np.ndarray, radius: float) -> np.ndarray:
    """Soften the selection edge with a Gaussian whose sigma is radius / 2."""
    if radius <= 0:
        return selection.copy()
    sigma = radius / 2.0
    return cv2.GaussianBlur(selection, (0, 0), sigmaX=sigma, sigmaY=sigma, borderType=cv2.BORDER_REPLICATE)

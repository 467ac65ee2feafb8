"""Histograms of a composite for the histogram panel and the curves editor: 256 bins per R, G, B and
luminance over visible pixels, and the share of pixels clipped to black or white in any channel."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from editor.core.adjust.ops import LUMA

BINS = 256


@dataclass(frozen=True)
class Histogram:
    r: np.ndarray
    g: np.ndarray
    b: np.ndarray
    luma: np.ndarray
    clipped_black: float  # fraction of visible pixels with a channel at 0
    clipped_white: float  # … at full scale
    pixels: int

    def channel(self, name: str) -> np.ndarray:
        return {"master": self.luma, "r": self.r, "g": self.g, "b": self.b}[name]


def histogram(rgba: np.ndarray, planar: bool = False) -> Histogram:
    """From straight float RGBA (h, w, 4), or with `planar` premultiplied (4, h, w) (the compositor's)."""
    if planar:
        alpha = rgba[3]
        colour = rgba[:3] / np.maximum(alpha, 1e-30)
    else:
        alpha = rgba[..., 3]
        colour = np.moveaxis(rgba[..., :3], -1, 0)
    seen = alpha > 0
    vals = np.clip(colour[:, seen], 0.0, 1.0)
    idx = np.minimum((vals * BINS).astype(np.int32), BINS - 1)
    hists = [np.bincount(idx[c], minlength=BINS) for c in range(3)]
    lum = LUMA[0] * vals[0] + LUMA[1] * vals[1] + LUMA[2] * vals[2]
    lum_h = np.bincount(np.minimum((lum * BINS).astype(np.int32), BINS - 1), minlength=BINS)
    n = int(seen.sum())
    black = float(np.any(vals <= 0.5 / 255, axis=0).sum()) / max(n, 1)
    white = float(np.any(vals >= 254.5 / 255, axis=0).sum()) / max(n, 1)
    return Histogram(*hists, lum_h, black, white, n)

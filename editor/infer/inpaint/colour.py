"""Colour matching: make a fill agree with the pixels around its hole.

Engines that regenerate the whole crop (LaMa) or run on a downscaled crop drift in colour and
brightness; the drift shows as a seam at the hole's edge. The correction is measured where the truth
is known — just outside the hole, where the engine's output can be compared with the original — and
carried smoothly into the hole by diffusion, so the fill keeps its own detail but meets its
surroundings exactly.
"""

from __future__ import annotations

import numpy as np

from editor.infer.inpaint.classical import diffuse


def match_colour(fill: np.ndarray, original: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """`fill` with its hole pixels shifted by the boundary mismatch `original - fill`, diffused inward.

    An engine that keeps the known pixels exactly (PatchMatch, Telea) gets no correction at all.
    """
    if not hole.any() or hole.all():
        return fill
    diff = np.zeros(fill.shape, np.float32)
    diff[~hole] = original[~hole] - fill[~hole]
    if not np.any(diff):
        return fill
    # Diffusion works on [0, 1]-ranged data; differences lie in [-1, 1].
    corr = (diffuse(diff * 0.5 + 0.5, hole) - 0.5) * 2.0
    out = fill.copy()
    out[hole] = np.clip(fill[hole] + corr[hole], 0.0, 1.0)
    return out

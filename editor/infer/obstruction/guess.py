"""The "auto" kind: tell an opaque obstruction from a reflection by how the aligned frames disagree.

Heuristic. Look only at pixels where the aligned frames disagree beyond noise. An opaque obstruction
covers a pixel in some frames and not in others: the remaining frames agree with each other almost
exactly (they all see the background), so the spread of the closest half of the samples is tiny
next to the largest departure. A reflection adds a different, smoothly varying amount of light to
every frame, so no half of the samples agrees closely: the closest-half spread is a sizeable part
of the largest departure. The median ratio (closest-half spread ÷ largest departure) over the
disagreeing pixels is the score; below `THRESHOLD` means "fence".
"""

from __future__ import annotations

import numpy as np

from editor.infer.obstruction.align import Alignment
from editor.infer.obstruction.layers import Kind
from editor.infer.obstruction.separate import departure_threshold, frame_weights

THRESHOLD = 0.14


def guess_kind(al: Alignment, sigma: float) -> tuple[Kind, float]:
    """("fence" | "reflection", score); the score is kept in the result info so users can see why."""
    step = max(1, int(np.sqrt(al.warped.shape[1] * al.warped.shape[2] / 250_000)))
    stack = al.warped[:, ::step, ::step]
    trusted = (frame_weights(al)[:, ::step, ::step] > 0.5).all(axis=0)
    gray = stack.mean(axis=3)
    dev = np.abs(gray - np.median(gray, axis=0)[None])
    dev.sort(axis=0)
    n = dev.shape[0]
    half = dev[(n - 1) // 2]
    top = dev[-1]
    active = trusted & (top > departure_threshold(sigma))
    if active.sum() < 50:
        return "fence", 0.0  # frames agree everywhere: nothing moves differently; opaque is the safe mode
    score = float(np.median(half[active] / top[active]))
    return ("fence" if score < THRESHOLD else "reflection"), score

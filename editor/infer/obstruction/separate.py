"""Stage 2 — split the aligned burst into background and obstruction (a first, classical estimate).

Opaque obstructions (fences, wires, raindrops, dirt) hide the background in some frames and not
in others, so a robust per-pixel fusion recovers it and the reference's departures from that
fusion are the obstruction. Reflections add light, so the darkest aligned sample is the best first
guess of the background (Xue et al. 2015); the refine stage then models the reflection's motion.
"""

from __future__ import annotations

import cv2
import numpy as np

from editor.infer.obstruction.align import Alignment
from editor.infer.obstruction.layers import Layers

# Expected minimum of n standard normal samples (magnitude): the low bias of a per-pixel minimum.
_MIN_BIAS = np.array([0.0, 0.0, 0.564, 0.846, 1.029, 1.163, 1.267, 1.352], np.float32)


def frame_weights(al: Alignment) -> np.ndarray:
    """N×H×W trust in each aligned sample: coverage × flow confidence; the reference is always 1.

    Confidence only lowers a weight (to 0.3 at worst): a frame whose flow is unsure there is still
    homography-aligned, and the temporal-consistency weights in the fusion reject it if it is wrong.
    """
    w = al.valid * (0.3 + 0.7 * al.confidence)
    w[al.reference] = 1.0
    return w


def _masked_median(stack: np.ndarray, use: np.ndarray) -> np.ndarray:
    """Per-pixel median over the samples with `use` set (at least one per pixel is guaranteed)."""
    data = np.where(use[..., None], stack, np.nan)
    return np.nanmedian(data, axis=0).astype(np.float32)


def robust_fusion(al: Alignment, sigma: float, iterations: int = 3) -> np.ndarray:
    """Background as an M-estimate: masked median, then Cauchy-reweighted means around it.

    Weights combine flow confidence and temporal consistency (agreement with the current estimate),
    so samples covered by the obstruction or badly aligned fade out.
    """
    w = frame_weights(al)
    fused = _masked_median(al.warped, w > 0.5)
    scale = 3.0 * sigma + 0.01
    for _ in range(iterations):
        r = np.abs(al.warped - fused[None]).max(axis=3)
        wk = w / (1.0 + (r / scale) ** 2)
        fused = (np.einsum("nhw,nhwc->hwc", wk, al.warped) / wk.sum(axis=0)[..., None]).astype(np.float32)
    return fused


def departure_threshold(sigma: float) -> float:
    """How far (max over channels) a sample must be from the background to count as obstruction."""
    return max(4.0 * sigma, 0.03)


def hysteresis(strength: np.ndarray, low: float, high: float) -> np.ndarray:
    """Pixels above `low` connected to a pixel above `high`: keeps faint fence edges, drops noise specks."""
    weak = (strength > low).astype(np.uint8)
    count, labels = cv2.connectedComponents(weak, connectivity=8)
    if count <= 1:
        return np.zeros(strength.shape, bool)
    keep = np.zeros(count, bool)
    keep[np.unique(labels[strength > high])] = True
    keep[0] = False
    return keep[labels]


def clean_mask(raw: np.ndarray, min_area: int = 4, grow: int = 1) -> np.ndarray:
    """Morphological cleanup: drop tiny islands, close one-pixel gaps, grow over anti-aliased edges."""
    m = raw.astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
    small = np.flatnonzero(stats[:, cv2.CC_STAT_AREA] < min_area)
    m[np.isin(labels, small[small > 0])] = 0
    k3 = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    m = cv2.morphologyEx(m, cv2.MORPH_CLOSE, k3)
    if grow > 0:
        m = cv2.dilate(m, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1)))
    return m.astype(bool)


def per_frame_departures(al: Alignment, background: np.ndarray, sigma: float) -> np.ndarray:
    """N×H×W bool: where each aligned frame shows something other than the background."""
    t = departure_threshold(sigma)
    d = np.abs(al.warped - background[None]).max(axis=3)
    return np.stack([hysteresis(d[k], t, 2 * t) for k in range(d.shape[0])])


def separate_opaque(al: Alignment, sigma: float) -> Layers:
    """Fused background, the reference's obstruction mask, and which masked pixels no frame saw."""
    ref = al.warped[al.reference]
    fused = robust_fusion(al, sigma)
    departs = per_frame_departures(al, fused, sigma)
    mask = clean_mask(departs[al.reference])
    w = frame_weights(al)
    seen = (w > 0.25) & ~departs
    seen[al.reference] = False  # under the mask the reference shows the obstruction, not the background
    # Where other frames saw the background, average only those clean samples.
    ws = seen * w
    total = ws.sum(axis=0)
    clean = np.einsum("nhw,nhwc->hwc", ws, al.warped) / np.maximum(total, 1e-6)[..., None]
    fill = np.where((total > 0)[..., None], clean, fused).astype(np.float32)
    background = np.where(mask[..., None], fill, ref)
    hidden = mask & (total <= 0)
    m = mask.astype(np.float32)
    obstruction = ref.copy()
    return Layers(
        kind="fence",
        background=background,
        obstruction=obstruction,
        mask=m,
        alpha=m,
        info={"hidden": hidden, "departures": departs, "fused": fused},
    )


def separate_reflection(al: Alignment, sigma: float) -> Layers:
    """Darkest trustworthy sample per pixel (noise bias removed) as background; reflection = rest."""
    w = frame_weights(al)
    use = w > 0.5
    stack = np.where(use[..., None], al.warped, np.inf)
    low = stack.min(axis=0)
    n_used = use.sum(axis=0).clip(1, len(_MIN_BIAS) - 1)
    background = np.clip(low + sigma * _MIN_BIAS[n_used][..., None], 0.0, 1.0).astype(np.float32)
    return reflection_layers(al.warped[al.reference], background, sigma)


def reflection_layers(ref: np.ndarray, background: np.ndarray, sigma: float) -> Layers:
    """Layers for a given background: the reflection is what the reference adds on top of it."""
    reflection = np.clip(ref - background, 0.0, 1.0).astype(np.float32)
    strength = reflection.max(axis=2)
    mask = np.clip((strength - 2 * sigma) / (4 * sigma + 0.02), 0.0, 1.0).astype(np.float32)
    return Layers(kind="reflection", background=background, obstruction=reflection, mask=mask)

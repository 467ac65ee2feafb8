"""Opaque obstructions: compose the background from the frames that see it (occlusion reasoning).

With the background's motion and the obstruction's mask and motion known (`layered`), each frame's
sample of a background pixel is known to be clear or covered, so the background is the robust mean
of the clear samples only; pixels that no frame sees are left for the inpainting fill.
"""

from __future__ import annotations

import cv2
import numpy as np

from editor.infer.obstruction.align import Alignment, sampling_map, warp_with_map
from editor.infer.obstruction.layered import LayerMotions, occlusions
from editor.infer.obstruction.layers import Layers, obstruction_colour
from editor.infer.obstruction.separate import departure_threshold

EDGE = 1  # px the mask grows over the obstruction's anti-aliased edge
CLEAR = 0.5  # a sample counts as clear where the (grown, softened) obstruction covers less than this


def background_alignment(frames: np.ndarray, reference: int, motions: LayerMotions) -> Alignment:
    """Every frame resampled into the reference on the background's homography."""
    n, h, w, _ = frames.shape
    warped = np.empty_like(frames)
    valid = np.ones((n, h, w), np.float32)
    maps = np.empty((n, h, w, 2), np.float32)
    zero = np.zeros((h, w, 2), np.float32)
    for k in range(n):
        maps[k] = sampling_map(motions.background[k], zero)
        warped[k], valid[k] = warp_with_map(frames[k], maps[k])
    conf = np.ones((n, h, w), np.float32)
    return Alignment(warped, valid, conf, maps, list(motions.background), reference, frames)


def compose_background(al: Alignment, motions: LayerMotions, sigma: float) -> Layers:
    """Background of the reference from clear samples; soft alpha at the obstruction's edge."""
    ref_i = al.reference
    ref = al.warped[ref_i]
    grown = cv2.dilate(motions.mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * EDGE + 1,) * 2))
    alpha = np.clip(cv2.GaussianBlur(grown, (0, 0), 0.6) * 1.5, 0.0, 1.0).astype(np.float32)
    alpha[alpha < 0.05] = 0.0
    clear = np.zeros(al.valid.shape, np.float32)
    for k in range(len(al.warped)):
        if k == ref_i:
            clear[k] = (grown < CLEAR).astype(np.float32)
        elif motions.obstruction[k] is None:
            clear[k] = al.valid[k]  # this frame shows no obstruction motion: trust the robust weights
        else:
            clear[k] = al.valid[k] * (occlusions(grown, motions, k) < CLEAR)
    seen = clear.sum(axis=0) > 0
    fused = ref.copy()
    fused[seen] = np.nanmedian(np.where(clear[:, seen, None] > 0, al.warped[:, seen], np.nan), axis=0)
    # No clear sample, but every frame shows the same (flat sky, a plain wall): that is the background,
    # and an inpainted patch there would only add seams.
    unseen = ~seen & (al.valid.sum(axis=0) >= 2)
    samples = np.where(al.valid[:, unseen, None] > 0, al.warped[:, unseen], np.nan)
    spread = np.nanmax(samples, axis=0) - np.nanmin(samples, axis=0)
    flat = spread.max(axis=1) < departure_threshold(sigma)
    idx = np.flatnonzero(unseen)[flat]
    fused.reshape(-1, 3)[idx] = np.nanmedian(samples[:, flat], axis=0)
    clear.reshape(len(clear), -1)[:, idx] = al.valid.reshape(len(clear), -1)[:, idx]
    seen = clear.sum(axis=0) > 0
    scale = 3.0 * sigma + 0.01
    for _ in range(3):  # Cauchy reweighting around the median: drops leftover fence edges, misalignments
        r = np.abs(al.warped - fused[None]).max(axis=3)
        wk = clear / (1.0 + (r / scale) ** 2)
        total = wk.sum(axis=0)
        mean = np.einsum("nhw,nhwc->hwc", wk, al.warped) / np.maximum(total, 1e-6)[..., None]
        fused = np.where(seen[..., None], mean, fused).astype(np.float32)
    # Pixels next to the mask where the reference departs from the composed background are
    # obstruction too (edges the motions' misfits missed).
    near = cv2.dilate((alpha > 0).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    departs = near & seen & (np.abs(ref - fused).max(axis=2) > departure_threshold(sigma))
    alpha = np.maximum(alpha, departs.astype(np.float32))
    inside = alpha > 0
    background = np.where(inside[..., None], fused, ref).astype(np.float32)
    alpha, colour = obstruction_colour(ref, background, alpha)
    return Layers(
        kind="fence",
        background=background,
        obstruction=colour,
        mask=alpha,
        alpha=alpha,
        info={"hidden": inside & ~seen},
    )

"""Sub-pixel background motions: each frame registered to the reference's background, obstruction left out.

Why: the layer search (`layered`) picks each frame's background motion among candidates and
polishes it on flow; on DEV it ends 1–5 px off (corner rms), which smears fine or regular background
texture (stripes, bricks, text) in the composite: with the true motions the same composite gained
up to 11 dB more. Here both images' obstructions are left out: the reference's by its mask, the
frame's by that mask moved with the obstruction's motion. Leaving out only the reference's is not
enough: the fence is the same grid in both, so any fit then prefers the motion that hides the
frame's grid behind the reference's masked one. A shift grid on a truncated misfit first (robust:
it brings a motion up to REACH px off into the right basin), then ECC with both masks (OpenCV's
findTransformECCWithMask; plain findTransformECC's mask is the *input* image's, which is why ECC on
a template-side mask diverged before): a homography to a few tenths of a pixel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import cv2
import numpy as np

from editor.infer.obstruction.align import resize_to
from editor.infer.obstruction.composite import reference_clear
from editor.infer.obstruction.layered import LayerMotions, channel_max, full_size_mask

SIDE = 480  # registration works on copies no larger than this
REACH = 6.0  # px (at SIDE): the shift grid's half-width; the layer search is rarely further off
TRUNCATE = 0.05  # a pixel's gray misfit counts at most this much: the frame's obstruction is an outlier
ECC_ROUNDS = 3  # ECC on the pixels that fit, which are then judged again, and so on
ECC_SLACK = 1.03  # ECC may raise the truncated misfit this much (its resampling bias), no more
ECC_MOVE = 4.0  # px (at SIDE): ECC moving a corner further than this from the grid's shift diverged
WIDE = 0.25  # scale of the wide search's copies
REMASK = 1.0  # px (full size): a background motion moving further than this calls for a new mask
LIKE = 0.08  # colour distance (max over channels) within which a pixel looks like the obstruction
MIN_PIXELS = 400  # clear reference pixels needed for a fit


Cover = np.ndarray | None  # an image's own obstruction (image pixels, float 0/1), where known


def _gray(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(img[..., :3]), cv2.COLOR_RGB2GRAY).astype(np.float32)


def _rescaled(hom: np.ndarray, s: float) -> np.ndarray:
    """A homography in full-size pixels expressed on a copy scaled by `s`."""
    scale = np.diag([s, s, 1.0])
    return scale @ hom @ np.linalg.inv(scale)


def robust_cost(
    template: np.ndarray, image: np.ndarray, hom: np.ndarray, mask: np.ndarray, cover: Cover = None
) -> float:
    """Mean truncated gray misfit of `template` against `image` sampled at hom·x, over `mask` pixels
    whose sample is not on `cover` (the image's own obstruction, image pixels, float 0/1).

    Why leave the covered samples out rather than count them as misfits: the obstruction is the
    same regular grid in both images, so counting them would reward the motion that hides the
    frame's grid behind the reference's masked one, i.e. the obstruction's motion.
    """
    h, w = template.shape
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    moved = cv2.warpPerspective(image, hom, (w, h), flags=flags, borderValue=np.nan)
    keep = mask
    if cover is not None:
        keep = mask & (cv2.warpPerspective(cover, hom, (w, h), flags=flags, borderValue=1.0) < 0.5)
    if keep.sum() < MIN_PIXELS // 4:
        return TRUNCATE
    d = np.abs(moved[keep] - template[keep])
    return float(np.where(np.isnan(d), TRUNCATE, np.minimum(d, TRUNCATE)).mean())


def robust_search(
    template: np.ndarray, image: np.ndarray, hom: np.ndarray, mask: np.ndarray, cover: Cover = None
) -> np.ndarray:
    """`hom` (template pixel → image pixel) corrected on `mask` pixels (template) and off `cover` (image).

    A shift on a 1 px grid within REACH px, then on a quarter-pixel grid, minimising `robust_cost`;
    then ECC rounds (each on the pixels that fit, judged again), kept while they converge nearby.
    Why ECC is not judged by `robust_cost`: a mean of absolute differences is lower where bilinear
    resampling smooths the noise (at half-pixel offsets), so it prefers a slightly wrong motion; the
    grid only has to bring ECC into the right basin.
    """
    h, w = template.shape
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]]).reshape(-1, 1, 2)
    dst = cv2.perspectiveTransform(corners, hom / hom[2, 2]).reshape(4, 2).astype(np.float64)

    def cost(d: np.ndarray) -> float:
        hom = cv2.getPerspectiveTransform(corners.reshape(4, 2), d.astype(np.float32))
        return robust_cost(template, image, hom, mask, cover)

    best, best_d = cost(dst), dst
    for step, reach in ((1.0, REACH), (0.25, 0.5)):
        base = best_d
        grid = np.arange(-reach, reach + 1e-6, step)
        for dy in grid:
            for dx in grid:
                moved = base + np.array([dx, dy])
                c = cost(moved)
                if c < best:
                    best, best_d = c, moved
    out = cv2.getPerspectiveTransform(corners.reshape(4, 2), best_d.astype(np.float32)).astype(np.float64)
    valid = np.ones(image.shape, np.uint8) if cover is None else (cover < 0.5).astype(np.uint8)
    crit = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 50, 1e-6)
    for _ in range(ECC_ROUNDS):
        keep = _fits(template, image, out, mask)
        try:
            _, polished = cv2.findTransformECCWithMask(
                template, image, keep.astype(np.uint8), valid, out.astype(np.float32), cv2.MOTION_HOMOGRAPHY,
                crit, 3
            )
        except cv2.error:
            break
        polished = polished.astype(np.float64) / polished[2, 2]
        if not np.all(np.isfinite(polished)) or _moved(polished, out, w, h) > ECC_MOVE:
            break
        c = robust_cost(template, image, polished, mask, cover)
        if c > best * ECC_SLACK:
            break
        best, out = min(best, c), polished
    return out / out[2, 2]


def _moved(a: np.ndarray, b: np.ndarray, w: int, h: int) -> float:
    """Largest displacement between two homographies at the image's corners."""
    corners = np.float32([[0, 0], [w, 0], [w, h], [0, h]]).reshape(-1, 1, 2)
    return float(np.abs(cv2.perspectiveTransform(corners, a) - cv2.perspectiveTransform(corners, b)).max())


def _fits(template: np.ndarray, image: np.ndarray, hom: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """`mask` pixels whose sample under `hom` fits within TRUNCATE (the rest are outliers to ECC)."""
    h, w = template.shape
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    moved = cv2.warpPerspective(image, hom, (w, h), flags=flags, borderValue=np.nan)
    return mask & (np.abs(moved - template) < TRUNCATE)


def _down(img: np.ndarray, s: float) -> np.ndarray:
    return cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)


def wide_search(
    template: np.ndarray, image: np.ndarray, hom: np.ndarray, mask: np.ndarray, cover: Cover
) -> np.ndarray:
    """`robust_search` on copies scaled by WIDE (reaching REACH / WIDE px), then at full scale: for a
    layer search that took an alias or the obstruction's motion, many pixels off (thick grids)."""
    s = WIDE
    small_mask = _down(mask.astype(np.float32), s) > 0.99
    small_cover = None if cover is None else (_down(cover, s) > 0.01).astype(np.float32)
    if small_mask.sum() < MIN_PIXELS * s * s:
        return hom
    coarse = robust_search(_down(template, s), _down(image, s), _rescaled(hom, s), small_mask, small_cover)
    return robust_search(template, image, _rescaled(coarse, 1 / s), mask, cover)


def _fence_like(ref_small: np.ndarray, front: np.ndarray | None) -> Callable[[np.ndarray], np.ndarray] | None:
    """A test for pixels of the obstruction's colour (a pixel wider), from the reference's pixels that
    the obstruction's motion explains in every frame; None where there are too few. Leaving such
    pixels out also leaves out some background of that colour, which costs a fit little."""
    if front is None:
        return None
    core = cv2.resize(front.astype(np.uint8), ref_small.shape[1::-1], interpolation=cv2.INTER_NEAREST) > 0
    if core.sum() < MIN_PIXELS:
        return None
    colour = np.median(ref_small[core][:, :3], axis=0)

    def like(img: np.ndarray) -> np.ndarray:
        near = channel_max(np.abs(img[..., :3] - colour)) < LIKE
        return cv2.dilate(near.astype(np.uint8), np.ones((3, 3), np.uint8)) > 0

    return like


def register_layers(frames: np.ndarray, reference: int, motions: LayerMotions) -> LayerMotions:
    """The layers with every frame's background homography (reference pixel → frame pixel) refined on
    the reference's background, the frame's own obstruction (the reference's, moved by the obstruction's
    motion) left out: near the layer search's motion (`robust_search`) and over a wide reach
    (`wide_search`), whichever fits the clear pixels better. Where a motion moved by more than a pixel
    the reference's obstruction mask is found again with it (it was judged against the wrong one)."""
    ref_small, s = resize_to(frames[reference], SIDE)
    tmpl = _gray(ref_small)
    size = tmpl.shape[::-1]
    # The obstruction: the mask, and what the obstruction's motion explains in every frame (right
    # even where the background's motion, which the mask was judged against, is wrong).
    ob_mask = motions.mask
    if motions.front is not None:
        ob_mask = np.maximum(ob_mask, motions.front.astype(np.float32))
    fence = cv2.dilate(cv2.resize(ob_mask, size, interpolation=cv2.INTER_AREA), np.ones((3, 3), np.uint8))
    mask = cv2.resize((reference_clear(ob_mask)).astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
    mask = cv2.erode(mask, np.ones((3, 3), np.uint8)) > 0
    like = _fence_like(ref_small, motions.front)
    if like is not None:
        mask &= ~like(ref_small)
    homs = [hm.copy() for hm in motions.background]
    if mask.sum() < MIN_PIXELS:
        return motions
    h, w = frames.shape[1:3]
    moved = 0.0
    for k in range(len(frames)):
        ob = motions.obstruction[k]
        if k == reference or ob is None:
            continue
        cover = cv2.warpPerspective(fence, _rescaled(ob, s), size, borderValue=0.0)
        small = resize_to(frames[k], SIDE)[0]
        if like is not None:
            cover = np.maximum(cover, like(small).astype(np.float32))
        img = _gray(small)
        start = _rescaled(homs[k], s)
        near = robust_search(tmpl, img, start, mask, cover)
        wide = wide_search(tmpl, img, start, mask, cover)
        best = min((near, wide), key=lambda hm: robust_cost(tmpl, img, hm, mask, cover))
        homs[k] = _rescaled(best, 1 / s)
        moved = max(moved, _moved(homs[k], motions.background[k], w, h))
    if moved <= REMASK:
        return replace(motions, background=homs)
    full_mask, front = full_size_mask(frames, reference, homs, motions.obstruction)
    return LayerMotions(homs, motions.obstruction, full_mask, front)

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

from editor.infer.obstruction.align import rescaled, resize_to
from editor.infer.obstruction.composite import reference_clear
from editor.infer.obstruction.layered import LayerMotions, channel_max, corner_shift, full_size_mask

SIDE = 480  # registration works on copies no larger than this
REACH = 6.0  # px (at SIDE): the shift grid's half-width; the layer search is rarely further off
TRUNCATE = 0.05  # a pixel's gray misfit counts at most this much: the frame's obstruction is an outlier
ECC_ROUNDS = 3  # ECC on the pixels that fit, which are then judged again, and so on
ECC_SLACK = 1.03  # ECC may raise the truncated misfit this much (its resampling bias), no more
ECC_MOVE = 4.0  # px (at SIDE): ECC moving a corner further than this from the grid's shift diverged
SPAN = 32.0  # px (at SIDE): the reach of the search for the background's motion afresh
SHIFTS = 4  # best shifts per turn judged on the clear pixels
TURN_STEP = 0.5  # degrees; then half a step either side of the best
TURNS = np.arange(-2.5, 2.51, TURN_STEP)  # degrees: the camera turns a burst's frames may differ by
REMASK = 1.0  # px (full size): a background motion moving further than this calls for a new mask
LIKE = 0.08  # colour distance (max over channels) within which a pixel looks like the obstruction
PASSES = 2  # registrations at most: a second one for the frames the first moved by more than AGAIN
AGAIN = 2.0  # px (at SIDE)
MIN_PIXELS = 400  # clear reference pixels needed for a fit


Cover = np.ndarray | None  # an image's own obstruction (image pixels, float 0/1), where known


def _gray(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(img[..., :3]), cv2.COLOR_RGB2GRAY).astype(np.float32)


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
    return float(np.abs(corner_shift(a, w, h) - corner_shift(b, w, h)).max())


def _fits(template: np.ndarray, image: np.ndarray, hom: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """`mask` pixels whose sample under `hom` fits within TRUNCATE (the rest are outliers to ECC)."""
    h, w = template.shape
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    moved = cv2.warpPerspective(image, hom, (w, h), flags=flags, borderValue=np.nan)
    return mask & (np.abs(moved - template) < TRUNCATE)


def _correlate(fa: np.ndarray, b: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Σ_x a(x)·b(x+d) for every shift d (circular on `shape`; negative shifts wrap), a given as its FFT."""
    return np.fft.irfft2(np.conj(fa) * np.fft.rfft2(b, shape), shape)


def masked_shifts(
    template: np.ndarray, tmask: np.ndarray, image: np.ndarray, valid: np.ndarray, reach: int, count: int = 1
) -> list[np.ndarray]:
    """The `count` shifts d (|d| ≤ reach px; template pixel x ↔ image pixel x + d; local minima at least
    3 px apart) of least mean squared gray difference over the pixels clear in both images (`tmask`:
    template's, `valid`: image's), best first; every shift at once by FFT (masked correlation,
    Padfield 2012).

    Why: behind a thick grid the clear pixels are small scattered windows, too few for features or
    flow, and a phase correlation of the whole images follows the grid; a masked correlation sees
    only the background in both images, so its best shift is the background's.
    """
    h, w = template.shape
    shape = (cv2.getOptimalDFTSize(h + reach + 1), cv2.getOptimalDFTSize(w + reach + 1))
    m, v = tmask.astype(np.float64), valid.astype(np.float64)
    t, g = np.where(tmask, template, 0.0), np.where(valid, image, 0.0)
    fm, ft, ft2 = (np.fft.rfft2(a, shape) for a in (m, m * t, m * t * t))
    overlap = _correlate(fm, v, shape)
    ssd = _correlate(ft2, v, shape) - 2 * _correlate(ft, v * g, shape) + _correlate(fm, v * g * g, shape)
    # rows/columns in shift order -reach … reach
    idx = np.r_[-reach:0, 0 : reach + 1]
    at = np.ix_(idx % shape[0], idx % shape[1])
    overlap, ssd = overlap[at], ssd[at]
    mean = np.where(overlap > 0.25 * overlap.max(), ssd / np.maximum(overlap, 1.0), np.inf)
    out = []
    for _ in range(count):
        y, x = np.unravel_index(int(np.argmin(mean)), mean.shape)
        if not np.isfinite(mean[y, x]):
            break
        out.append(np.array([idx[x], idx[y]], np.float64))
        mean[max(0, y - 3) : y + 4, max(0, x - 3) : x + 4] = np.inf
    return out


def turned_search(
    template: np.ndarray, image: np.ndarray, hom: np.ndarray, mask: np.ndarray, cover: Cover
) -> np.ndarray:
    """The background's motion found afresh, whatever `hom` says: for each camera turn in TURNS (then
    half a step either side of the best), the frame turned back and its SHIFTS best `masked_shifts`
    (reach SPAN px), both obstructions left out; the one that fits the clear pixels best
    (`robust_cost`), refined by `robust_search`. `hom` is kept where nothing fits better.

    Why: on thick grids (6–8 px) the layer search's candidates (phase correlation, features, flow)
    follow the grid or the background's own stripes, and a search near them cannot leave their
    basin; a shift search over a wide reach cannot follow a camera turn either (a hand-held burst
    turns by a degree or two: 4–6 px at the corners of DEV case 11, where the round-3 wide search
    stayed 8–17 px off and the layer search's best candidate 2.5–6 px off).
    """
    h, w = template.shape
    valid_full = np.ones_like(template, np.float32) if cover is None else (cover < 0.5).astype(np.float32)
    if mask.sum() < MIN_PIXELS:
        return hom
    reach, centre = round(SPAN), (w / 2, h / 2)
    found: list[tuple[float, float, np.ndarray]] = []  # (cost, turn, homography)

    def propose(turn: float) -> None:
        rot = np.vstack([cv2.getRotationMatrix2D(centre, turn, 1.0), [0, 0, 1]])
        # turned(y) = image(rot⁻¹ y): the frame turned back, and its clear pixels with it
        turned = cv2.warpAffine(image, rot[:2], (w, h), flags=cv2.INTER_LINEAR)
        valid = cv2.warpAffine(valid_full, rot[:2], (w, h), flags=cv2.INTER_LINEAR, borderValue=0.0) > 0.75
        for d in masked_shifts(template, mask, turned, valid, reach, SHIFTS):
            cand = np.linalg.inv(rot) @ np.array([[1, 0, d[0]], [0, 1, d[1]], [0, 0, 1]])
            found.append((robust_cost(template, image, cand, mask, cover), turn, cand))

    for turn in TURNS:
        propose(float(turn))
    coarse = min(found, key=lambda f: f[0])[1]
    for turn in (coarse - TURN_STEP / 2, coarse + TURN_STEP / 2):
        propose(turn)
    cost, _, best = min(found, key=lambda f: f[0])
    if cost >= robust_cost(template, image, hom, mask, cover):
        return hom
    return robust_search(template, image, best, mask, cover)


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
    """`register_once`, again (at most PASSES times) for the frames whose motion it moved by more than
    AGAIN px: the new mask, judged against the better motions, leaves out less background and more of
    the fence (DEV case 11: a frame 3.2 px off after one pass, 1.1 px after two). The others' motions
    were about right to begin with, and the mask with them."""
    afresh = None
    for _ in range(PASSES):
        motions, afresh = register_once(frames, reference, motions, afresh)
        if not afresh:
            break
    return motions


def register_once(
    frames: np.ndarray, reference: int, motions: LayerMotions, afresh: set[int] | None = None
) -> tuple[LayerMotions, set[int]]:
    """The layers with every frame's background homography (reference pixel → frame pixel) refined on
    the reference's background, the frame's own obstruction (the reference's, moved by the obstruction's
    motion) left out: near the layer search's motion (`robust_search`) and over a wide reach
    (`turned_search`), whichever fits the clear pixels better; where `afresh` is given, only its frames
    (the others are left as they are). Where a motion moved by more than REMASK px the
    reference's obstruction mask is found again with it (it was judged against the wrong one); the
    second value: the frames whose motion moved by more than AGAIN px (at SIDE)."""
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
        return motions, set()
    h, w = frames.shape[1:3]
    moved: set[int] = set()
    remask = False
    for k in range(len(frames)):
        ob = motions.obstruction[k]
        if k == reference or ob is None or (afresh is not None and k not in afresh):
            continue
        cover = cv2.warpPerspective(fence, rescaled(ob, s), size, borderValue=0.0)
        small = resize_to(frames[k], SIDE)[0]
        if like is not None:
            cover = np.maximum(cover, like(small).astype(np.float32))
        img = _gray(small)
        start = rescaled(homs[k], s)
        near = robust_search(tmpl, img, start, mask, cover)
        wide = turned_search(tmpl, img, start, mask, cover)
        best = min((near, wide), key=lambda hm: robust_cost(tmpl, img, hm, mask, cover))
        homs[k] = rescaled(best, 1 / s)
        shift = _moved(homs[k], motions.background[k], w, h)
        remask |= shift > REMASK
        if shift * s > AGAIN:
            moved.add(k)
    if not remask:
        return replace(motions, background=homs), moved
    full_mask, front = full_size_mask(frames, reference, homs, motions.obstruction)
    return LayerMotions(homs, motions.obstruction, full_mask, front), moved

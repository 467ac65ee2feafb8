"""Opaque obstructions: compose the background from the frames that see it (occlusion reasoning).

With the background's motion and the obstruction's mask and motion known (`layered`), each frame's
sample of a background pixel is known to be clear or covered, so the background is the robust mean
of the clear samples only; pixels that no frame sees are left for the inpainting fill.
"""

from __future__ import annotations

import cv2
import numpy as np

from editor.infer.obstruction.align import Alignment, rescaled, resize_to, sampling_map, warp_with_map
from editor.infer.obstruction.layered import LayerMotions, behind_in_frame, channel_max, occlusions
from editor.infer.obstruction.layers import Layers, noise_sigma, obstruction_colour
from editor.infer.obstruction.separate import departure_threshold

EDGE = 1  # px the mask grows over the obstruction's anti-aliased edge
CLEAR = 0.5  # a sample counts as clear where the (grown, softened) obstruction covers less than this


RESIDUAL_PASSES = 2  # per-frame cover from the residual against the composed background, then compose again


def _reweight(
    al: Alignment, clear: np.ndarray, seen: np.ndarray, fused: np.ndarray, sigma: float
) -> np.ndarray:
    """Cauchy reweighting around `fused`: drops leftover fence edges and misalignments."""
    scale = 3.0 * sigma + 0.01
    for _ in range(3):
        r = channel_max(np.abs(al.warped - fused[None]))
        wk = clear / (1.0 + (r / scale) ** 2)
        total = wk.sum(axis=0)
        mean = np.einsum("nhw,nhwc->hwc", wk, al.warped) / np.maximum(total, 1e-6)[..., None]
        fused = np.where(seen[..., None], mean, fused).astype(np.float32)
    return fused


def _fence_colour(ref: np.ndarray, core: np.ndarray) -> np.ndarray | None:
    """The obstruction's local colour (H×W×3) from the reference pixels surely on it; None if none are."""
    if core.sum() < 20:
        return None
    c = core.astype(np.float32)
    den = cv2.GaussianBlur(c, (0, 0), 8.0)
    num = cv2.GaussianBlur(ref * c[..., None], (0, 0), 8.0)
    glob = np.median(ref[core], axis=0)
    return np.where(den[..., None] > 0.02, num / np.maximum(den, 1e-6)[..., None], glob).astype(np.float32)


def _residual_clear(
    al: Alignment,
    fused: np.ndarray,
    clear: np.ndarray,
    seen: np.ndarray,
    motions: LayerMotions,
    sigma: float,
) -> np.ndarray:
    """Per frame, which samples show the background, judged on the samples themselves.

    Why: the occlusions predicted from the reference's mask and the obstruction's motion are only
    as good as that mask (too wide where the background's texture aliases the fence's, shifted
    where the obstruction's motion is a pitch off). Where the composed background is known, a
    sample departing from it is covered and one agreeing with it is clear; where it is not, a
    sample predicted covered is clear after all when it is far from the colour of the obstruction
    that frame shows there and something vouches for it: another frame's sample, or the background
    composed around it. A real wire is lit unevenly and anti-aliased, so a lone sample unlike the
    estimated colour is often the wire itself (light specks on a wall).
    """
    thr = departure_threshold(sigma)
    ref = al.warped[al.reference]
    r = channel_max(np.abs(al.warped - fused[None]))
    departs = r > thr
    out = clear.copy()
    for k in range(len(out)):
        cover = cv2.dilate(departs[k].astype(np.uint8), np.ones((3, 3), np.uint8)) > 0
        out[k] = np.where(seen, al.valid[k] * ~cover, out[k])
    core = (motions.mask > 0.5) & seen & departs[al.reference]
    colour = _fence_colour(ref, core)
    if colour is not None:
        carried = np.stack([_carried(colour, motions, k) for k in range(len(out))])
        unlike = channel_max(np.abs(al.warped - carried)) > 2 * thr
        maybe = ~seen[None] & unlike & (al.valid > 0)
        vouched = _agreed(al.warped, maybe, thr) | _in_local_range(al.warped, fused, seen, thr)
        out = np.where(maybe & vouched, 1.0, out).astype(np.float32)
    return out


LOCAL = 13  # px window of composed background a lone sample must fit in


def _carried(colour: np.ndarray, motions: LayerMotions, k: int) -> np.ndarray:
    """The obstruction's colour where frame k shows it, per reference background pixel (as `occlusions`):
    frame k's fence there is another part of the fence, lit differently."""
    if motions.obstruction[k] is None:
        return colour
    return behind_in_frame(colour, motions, k, borderMode=cv2.BORDER_REPLICATE)


def _agreed(samples: np.ndarray, ok: np.ndarray, thr: float) -> np.ndarray:
    """Which of the `ok` samples (N×H×W) another frame's `ok` sample of the same pixel agrees with."""
    out = np.zeros(ok.shape, bool)
    for i in range(len(ok)):
        for j in range(i + 1, len(ok)):
            both = ok[i] & ok[j] & (channel_max(np.abs(samples[i] - samples[j])) <= thr)
            out[i] |= both
            out[j] |= both
    return out


def _in_local_range(samples: np.ndarray, fused: np.ndarray, seen: np.ndarray, thr: float) -> np.ndarray:
    """Samples (N×H×W) within the per-channel range of the composed background seen nearby."""
    box = np.ones((LOCAL, LOCAL), np.uint8)
    hi = cv2.dilate(np.where(seen[..., None], fused, -1.0).astype(np.float32), box) + thr
    lo = cv2.erode(np.where(seen[..., None], fused, 2.0).astype(np.float32), box) - thr
    out = np.ones(samples.shape[:3], bool)
    for c in range(samples.shape[-1]):
        out &= (samples[..., c] >= lo[None, ..., c]) & (samples[..., c] <= hi[None, ..., c])
    return out


def nanmedian0(samples: np.ndarray) -> np.ndarray:
    """np.nanmedian(samples, axis=0) for a few samples (a burst's frames), several times faster: numpy's
    goes through masked arrays. All-NaN columns give NaN."""
    srt = np.sort(samples, axis=0)  # NaN sorts last
    count = (~np.isnan(samples)).sum(axis=0)
    lo = np.take_along_axis(srt, np.maximum((count - 1) // 2, 0)[None], axis=0)[0]
    hi = np.take_along_axis(srt, np.minimum(count // 2, len(srt) - 1)[None], axis=0)[0]
    out = np.where(count % 2 == 1, lo, (lo + hi) / 2)
    return np.where(count > 0, out, np.nan).astype(samples.dtype)


def _grown(mask: np.ndarray) -> np.ndarray:
    return cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * EDGE + 1,) * 2))


def reference_clear(mask: np.ndarray) -> np.ndarray:
    """Where the reference shows the background (bool): off its obstruction mask grown over the edge."""
    return _grown(mask) < CLEAR


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
    grown = _grown(motions.mask)
    alpha = np.clip(cv2.GaussianBlur(grown, (0, 0), 0.6) * 1.5, 0.0, 1.0).astype(np.float32)
    alpha[alpha < 0.05] = 0.0
    clear = np.zeros(al.valid.shape, np.float32)
    for k in range(len(al.warped)):
        if k == ref_i:
            clear[k] = reference_clear(motions.mask).astype(np.float32)
        elif motions.obstruction[k] is None:
            clear[k] = al.valid[k]  # this frame shows no obstruction motion: trust the robust weights
        else:
            clear[k] = al.valid[k] * (occlusions(grown, motions, k) < CLEAR)
    seen = clear.sum(axis=0) > 0
    fused = ref.copy()
    fused[seen] = nanmedian0(np.where(clear[:, seen, None] > 0, al.warped[:, seen], np.nan))
    # No clear sample, but every frame shows the same (flat sky, a plain wall): that is the background,
    # and an inpainted patch there would only add seams.
    unseen = ~seen & (al.valid.sum(axis=0) >= 2)
    samples = np.where(al.valid[:, unseen, None] > 0, al.warped[:, unseen], np.nan)
    spread = np.nanmax(samples, axis=0) - np.nanmin(samples, axis=0)
    flat = spread.max(axis=1) < departure_threshold(sigma)
    idx = np.flatnonzero(unseen)[flat]
    fused.reshape(-1, 3)[idx] = nanmedian0(samples[:, flat])
    clear.reshape(len(clear), -1)[:, idx] = al.valid.reshape(len(clear), -1)[:, idx]
    seen = clear.sum(axis=0) > 0
    fused = _reweight(al, clear, seen, fused, sigma)
    for _ in range(RESIDUAL_PASSES):
        clear = _residual_clear(al, fused, clear, seen, motions, sigma)
        now = clear.sum(axis=0) > 0
        fresh = now & ~seen
        if fresh.any():
            samples = np.where(clear[:, fresh, None] > 0, al.warped[:, fresh], np.nan)
            fused[fresh] = nanmedian0(samples)
        seen = now
        fused = _reweight(al, clear, seen, fused, sigma)
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


RENDER_TRUNCATE = 0.1  # a frame pixel's misfit counts at most this much in `render_misfit`
JUDGE_SIDE = 480  # hypotheses are composed and judged on copies no larger than this (`judged_misfit`)


def render_misfit(frames: np.ndarray, motions: LayerMotions, layers: Layers) -> float:
    """How badly the composed layers explain the other frames: each frame drawn again from the
    background and the obstruction (colour over alpha), each moved by its own motion, against the
    frame itself (channel max, truncated, mean over the pixels the background covers).

    Why: it judges a whole hypothesis (motions, mask and composite) by the one thing that is not a
    guess, the frames; a background motion that is an alias of the grid or of a periodic background
    leaves what the frames show elsewhere unexplained once the layers have to be one picture.
    """
    n, h, w, _ = frames.shape
    alpha = (layers.alpha if layers.alpha is not None else layers.mask).astype(np.float32)
    errs = []
    for k in range(n):
        ob = motions.obstruction[k]
        if ob is None:  # the reference, or a frame without a second motion
            continue
        bg = cv2.warpPerspective(layers.background, motions.background[k], (w, h), borderValue=(np.nan,) * 3)
        a = cv2.warpPerspective(alpha, ob, (w, h))[..., None]
        drawn = a * cv2.warpPerspective(layers.obstruction, ob, (w, h)) + (1 - a) * bg
        err = channel_max(np.abs(drawn - frames[k]))
        inside = ~np.isnan(err)
        errs.append(float(np.minimum(err[inside], RENDER_TRUNCATE).mean()) if inside.any() else 1.0)
    return float(np.mean(errs)) if errs else 0.0


def judged_misfit(frames: np.ndarray, reference: int, motions: LayerMotions, side: int = JUDGE_SIDE) -> float:
    """`render_misfit` of the layers composed from `motions`, on copies of the burst no larger than
    `side`: choosing between hypotheses needs their misfits' order, not full-size layers, and composing
    is the costly part (12 s of a 2.8 MP burst's 60)."""
    s = resize_to(frames[reference], side)[1]
    if s < 1.0:
        frames = np.stack([resize_to(f, side)[0] for f in frames])
        size = frames.shape[2:0:-1]
        front = None
        if motions.front is not None:
            front = cv2.resize(motions.front.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
        motions = LayerMotions(
            [rescaled(hm, s) for hm in motions.background],
            [None if hm is None else rescaled(hm, s) for hm in motions.obstruction],
            cv2.resize(motions.mask, size, interpolation=cv2.INTER_AREA),
            front,
        )
    al = background_alignment(frames, reference, motions)
    return render_misfit(frames, motions, compose_background(al, motions, noise_sigma(frames[reference])))

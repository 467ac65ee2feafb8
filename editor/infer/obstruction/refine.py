"""Stage 3 — refine the first separation; the place where a learned refinement network can plug in.

A refiner takes the aligned burst and the first `Layers` and returns better `Layers`. The classical
refiner here fills what no frame saw (opaque kinds) with the inpainting engine, and, for reflections,
alternates between estimating the reflection's own motion and re-separating (Xue et al. 2015).
"""

from __future__ import annotations

from typing import Protocol

import cv2
import numpy as np

from editor.infer.api import CancelToken, Progress, ProgressFn, no_progress
from editor.infer.obstruction.align import (
    Alignment,
    flow_homography,
    gray8,
    motion_candidates,
    rescaled,
    resize_to,
    shift_candidates,
    warp_with_map,
)
from editor.infer.obstruction.layer_solve import LEVELS, solve_layers
from editor.infer.obstruction.layers import Layers, obstruction_colour
from editor.infer.obstruction.separate import frame_weights, reflection_layers


class Refiner(Protocol):
    def __call__(
        self,
        layers: Layers,
        al: Alignment,
        sigma: float,
        *,
        progress: ProgressFn,
        cancel: CancelToken | None,
        span: tuple[float, float],
    ) -> Layers: ...


def fill_hidden(image: np.ndarray, hidden: np.ndarray, *, cancel: CancelToken | None = None) -> np.ndarray:
    """Inpaint pixels that every frame had covered; everything else is returned untouched."""
    if not hidden.any():
        return image
    from editor.infer.inpaint import inpaint_image

    filled = inpaint_image(image, hidden.astype(np.float32), cancel=cancel)
    return np.where(hidden[..., None], filled, image).astype(np.float32)


def refine_opaque(
    layers: Layers,
    al: Alignment,
    sigma: float,
    *,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    span: tuple[float, float] = (0.0, 1.0),
) -> Layers:
    """Fill the never-seen pixels and guarantee the reference is untouched outside the mask."""
    progress(Progress(span[0], "Filling pixels no frame saw"))
    hidden = layers.info.get("hidden")
    background = layers.background
    if hidden is not None and hidden.any():
        background = fill_hidden(background, hidden, cancel=cancel)
    ref = al.warped[al.reference]
    background = np.where(layers.mask[..., None] > 0, background, ref)
    alpha, colour = layers.alpha, layers.obstruction
    if alpha is not None:  # the fill changed the background: keep colour·α + background·(1−α) = reference
        alpha, colour = obstruction_colour(ref, background, alpha)
    n_hidden = int(hidden.sum()) if hidden is not None else 0
    info = {k: v for k, v in layers.info.items() if k not in ("hidden", "departures", "fused")}
    info["hidden_pixels"] = n_hidden
    progress(Progress(span[1], "Filled"))
    mask = layers.mask if layers.alpha is None else np.maximum(layers.mask, alpha)
    return Layers(layers.kind, background, colour, mask, alpha, info)


REFLECTION_PASSES = 2  # solve → re-estimate both layers' motions → solve again
ECC_SIDE = 640  # motions are polished on copies no larger than this
MISFIT = 1.8  # a frame fitting this many times worse than the typical frame has a wrong motion


def _flow_homography(src: np.ndarray, dst: np.ndarray, weight: np.ndarray) -> np.ndarray | None:
    """Homography (src pixel → dst pixel) fitted by RANSAC to a dense DIS flow between two gray images.

    Why a homography: a reflection is usually a distant scene seen in flat glass, so one global
    motion model is both accurate and far more robust on faint residual images than free flow.
    """
    a, s = resize_to(src, 384)
    b, _ = resize_to(dst, 384)
    wsmall = cv2.resize(weight.astype(np.float32), (a.shape[1], a.shape[0]), interpolation=cv2.INTER_AREA)
    hom = flow_homography(a, b, wsmall > 0.5, step=4, tol=1.0, least=20)
    if hom is None:
        return None
    return rescaled(hom, 1 / s)


def _texture(img: np.ndarray, sigma: float) -> np.ndarray:
    """Where a residual has enough structure for its motion to be measured."""
    g = cv2.GaussianBlur(img.max(axis=2), (0, 0), 1.0)
    grad = np.hypot(cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1))
    return (grad > 6 * sigma) & (g > 3 * sigma)


def _residual_gray(res: np.ndarray) -> np.ndarray:
    scale = max(float(np.percentile(res, 99.5)), 1e-3)
    return gray8(np.clip(res / scale, 0, 1))


def _gray_f(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(np.ascontiguousarray(img, np.float32), cv2.COLOR_RGB2GRAY)


def ecc_homography(
    template: np.ndarray, image: np.ndarray, start: np.ndarray, side: int = ECC_SIDE, iters: int = 60
) -> tuple[np.ndarray, float]:
    """Polish `start` (template pixel → image pixel) by ECC on float gray images; (homography, score).

    The score is the zero-mean normalised correlation after warping (−1 if ECC fails), so callers
    can pick among candidates and refuse a polish that made things worse.
    """
    t, s = resize_to(template, side)
    im, _ = resize_to(image, side)
    h0 = rescaled(start, s).astype(np.float32)
    h0 /= h0[2, 2]
    crit = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, iters, 1e-5)
    try:
        cc, h = cv2.findTransformECC(t, im, h0, cv2.MOTION_HOMOGRAPHY, crit, None, 3)
    except cv2.error:
        return start, -1.0
    return rescaled(h.astype(np.float64), 1 / s), float(cc)


def _ncc(template: np.ndarray, image: np.ndarray, hom: np.ndarray, side: int = ECC_SIDE) -> float:
    """Normalised correlation of the template with the image sampled at hom·x (inside pixels only)."""
    t, s = resize_to(template, side)
    im, _ = resize_to(image, side)
    h = rescaled(hom, s)
    size = (t.shape[1], t.shape[0])
    moved = cv2.warpPerspective(
        im, h, size, flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderValue=np.nan
    )
    ok = np.isfinite(moved)
    if ok.sum() < 100:
        return -1.0
    a, b = t[ok] - t[ok].mean(), moved[ok] - moved[ok].mean()
    return float((a * b).sum() / (np.sqrt((a * a).sum() * (b * b).sum()) + 1e-12))


def reflection_motion(
    res_ref: np.ndarray, res_k: np.ndarray, sigma: float, start: np.ndarray | None = None
) -> np.ndarray | None:
    """Homography (reflection pixel in the reference → the same point in aligned frame k), or None.

    `res_ref` shows the reflection as the reference sees it, `res_k` frame k minus the background.
    Both are faint and cluttered, so no one estimator is safe: dense flow, feature matching and
    phase correlation each propose motions (plus `start`, the previous estimate), ECC polishes every
    proposal on a small copy, and the best-correlated one wins (then a full-size polish).
    """
    small_ref, s = resize_to(np.clip(res_ref, 0, 1), ECC_SIDE)
    small_k, _ = resize_to(np.clip(res_k, 0, 1), ECC_SIDE)
    gr, gk = _residual_gray(small_ref), _residual_gray(small_k)
    cands = motion_candidates(gr, gk) + shift_candidates(gr, gk)
    flow = _flow_homography(gr, gk, _texture(small_ref, sigma))
    if flow is not None:
        cands.append(flow)
    cands = [rescaled(c, 1 / s) for c in cands]
    if start is not None:
        cands.append(start)
    fr, fk = _gray_f(res_ref), _gray_f(res_k)
    best, best_cc = None, 0.2  # below this correlation no motion is believable
    for cand in cands:
        hom, cc = ecc_homography(fr, fk, cand, side=256, iters=40)
        if cc > best_cc:
            best, best_cc = hom, cc
    if best is None:
        return None
    hom, _ = ecc_homography(fr, fk, best)
    return hom if _ncc(fr, fk, hom) >= _ncc(fr, fk, best) else best


def _solve_weights(al: Alignment) -> np.ndarray:
    """Trust per sample: alignment weights, and none for clipped samples (they only bound B + R)."""
    w = frame_weights(al) * (al.warped.max(axis=3) < 0.995)
    return w.astype(np.float32)


def _sample_at(img: np.ndarray, hom: np.ndarray) -> np.ndarray:
    """`img` resampled at hom·x for every pixel x (edges replicated)."""
    size = (img.shape[1], img.shape[0])
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    return cv2.warpPerspective(img, hom, size, flags=flags, borderMode=cv2.BORDER_REPLICATE)


def _polish_motions(
    al: Alignment,
    background: np.ndarray,
    reflection: np.ndarray,
    homs: list[np.ndarray | None],
    sigma: float,
) -> tuple[Alignment, list[np.ndarray | None]]:
    """Re-estimate both motions per frame now that both layers are known (Xue et al.'s alternation).

    Background: frame − its reflection should be the background; a small ECC correction δ (found
    on that clean image) fixes what the reflection disturbed in the first alignment. Reflection:
    frame − background should be the moved reflection. Corrections are kept only if they correlate
    better.
    """
    n, h, w, _ = al.warped.shape
    warped = al.warped.copy()
    maps = al.maps.copy()
    valid = al.valid.copy()
    conf = al.confidence.copy()
    bg_gray = _gray_f(background)
    out: list[np.ndarray | None] = list(homs)
    for k in range(n):
        if k == al.reference or al.frames is None:
            continue
        hom = homs[k]
        if hom is None:  # not found the first time: look again against the solved reflection
            out[k] = reflection_motion(reflection, warped[k] - background, sigma)
            continue
        moved_r = cv2.warpPerspective(
            reflection, hom, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        )
        clean = _gray_f(al.warped[k] - moved_r)
        before = _ncc(bg_gray, clean, np.eye(3))
        delta, _ = ecc_homography(bg_gray, clean, np.eye(3))
        if _ncc(bg_gray, clean, delta) > before:
            # Frame k's pixel for reference pixel x was maps[k](x); now it is maps[k](δ·x).
            maps[k] = _sample_at(al.maps[k], delta)
            warped[k], valid[k] = warp_with_map(al.frames[k], maps[k])
            conf[k] = _sample_at(al.confidence[k], delta)
            # The reflection sampled at x in the old frame k is now sampled at δ·x.
            hom = np.linalg.inv(delta) @ hom
        out[k] = reflection_motion(reflection, warped[k] - background, sigma, start=hom)
    al2 = Alignment(warped, valid, conf, maps, al.homographies, al.reference, al.frames)
    return al2, _drop_misfits(al2, background, reflection, out)


def _fit_error(
    al: Alignment, k: int, background: np.ndarray, reflection: np.ndarray, hom: np.ndarray
) -> float:
    """Mean absolute misfit of aligned frame k to background + reflection moved by `hom`."""
    h, w = background.shape[:2]
    moved = cv2.warpPerspective(
        reflection, hom, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    err = np.abs(al.warped[k] - background - moved).mean(axis=2)
    wk = _solve_weights(al)[k]
    return float((wk * err).sum() / max(float(wk.sum()), 1.0))


def _drop_misfits(
    al: Alignment, background: np.ndarray, reflection: np.ndarray, homs: list[np.ndarray | None]
) -> list[np.ndarray | None]:
    """Forget a frame's reflection motion when that frame fits the layers far worse than the others.

    A wrong motion (a faint reflection can correlate better with clutter than with itself) would
    otherwise write a ghost of the reflection into the background; without it the frame is left out
    of the next solve, which costs a little noise, not a ghost.
    """
    errs = {
        k: _fit_error(al, k, background, reflection, hom)
        for k, hom in enumerate(homs)
        if k != al.reference and hom is not None
    }
    if len(errs) < 2:
        return homs
    typical = float(np.median(list(errs.values())))
    return [None if k in errs and errs[k] > MISFIT * typical else hom for k, hom in enumerate(homs)]


def refine_reflection(
    layers: Layers,
    al: Alignment,
    sigma: float,
    *,
    passes: int = REFLECTION_PASSES,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    span: tuple[float, float] = (0.0, 1.0),
) -> Layers:
    """Alternate between the layers' motions and a joint solve of both layers given the motions.

    The first background (a low percentile of the aligned frames) is biased: it keeps the
    reflection's smooth part. It only seeds the reflection's motion estimate and the solver's start;
    `solve_layers` then finds B and R together, so the brightness of the background comes from the
    data, not from the percentile.
    """
    n = al.warped.shape[0]
    ref_i = al.reference
    lo, hi = span
    background = layers.background
    reflection = np.clip(al.warped[ref_i] - background, 0.0, 1.0)
    residual = np.clip(al.warped - background[None], 0.0, 1.0)
    # homs[k]: reflection pixel in the reference → the same reflection point in aligned frame k.
    homs: list[np.ndarray | None] = [None] * n
    homs[ref_i] = np.eye(3)
    for k in range(n):
        if cancel is not None:
            cancel.check()
        progress(Progress(lo + (hi - lo) * 0.3 * k / n, f"Tracking the reflection in frame {k + 1} of {n}"))
        if k != ref_i:
            homs[k] = reflection_motion(residual[ref_i], residual[k], sigma)
    for p in range(passes):
        progress(
            Progress(
                lo + (hi - lo) * (0.3 + 0.7 * p / passes), f"Separating layers, pass {p + 1} of {passes}"
            )
        )
        weights = _solve_weights(al)
        motions: list[np.ndarray | None] = []
        for k in range(n):
            if k == ref_i:
                motions.append(None)
            elif homs[k] is None:  # reflection not found in this frame: its samples cannot be explained
                weights[k] = 0.0
                motions.append(np.eye(3))
            else:
                motions.append(np.linalg.inv(homs[k]))
        last = p == passes - 1
        # Passes before the last only feed the motion polish, which works on small copies anyway.
        levels = LEVELS if last else tuple(lv for lv in LEVELS if lv[0] <= 0.5)
        background, reflection = solve_layers(
            al.warped, weights, motions, background, reflection, levels=levels, cancel=cancel
        )
        if not last:
            size = (al.warped.shape[2], al.warped.shape[1])
            background = cv2.resize(background, size, interpolation=cv2.INTER_LINEAR)
            reflection = cv2.resize(reflection, size, interpolation=cv2.INTER_LINEAR)
            al, homs = _polish_motions(al, background, reflection, homs, sigma)
    out = reflection_layers(al.warped[ref_i], background, sigma)
    out.info = {"reflection_motions_found": sum(h is not None for k, h in enumerate(homs) if k != ref_i)}
    progress(Progress(hi, "Reflection separated"))
    return out

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
from editor.infer.obstruction.align import Alignment, gray8, resize_to
from editor.infer.obstruction.layers import Layers
from editor.infer.obstruction.separate import _MIN_BIAS, frame_weights, reflection_layers


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
    n_hidden = int(hidden.sum()) if hidden is not None else 0
    info = {k: v for k, v in layers.info.items() if k not in ("hidden", "departures", "fused")}
    info["hidden_pixels"] = n_hidden
    progress(Progress(span[1], "Filled"))
    return Layers(layers.kind, background, layers.obstruction, layers.mask, layers.alpha, info)


def _extreme(stack: np.ndarray, largest: bool, noise: float, skip: int = 1) -> np.ndarray:
    """Per-pixel second-largest (or second-smallest) sample over frames, noise bias removed.

    The strict max/min would be the tightest bound, but one badly aligned frame then decides the
    pixel, and the alternation amplifies it pass after pass; skipping the single most extreme
    sample keeps the bound nearly as tight and far more stable on real bursts.
    """
    finite = np.isfinite(stack)
    count = finite.sum(axis=0)
    fill = -np.inf if largest else np.inf
    ordered = np.sort(np.where(finite, stack, fill), axis=0)
    if largest:
        ordered = ordered[::-1]
    pick = np.where(count >= 3, skip, 0)
    value = np.take_along_axis(ordered, pick[None], axis=0)[0]
    value = np.where(np.isfinite(value), value, 0.0)
    used = np.clip(count - pick, 1, len(_MIN_BIAS) - 1)
    bias = noise * _MIN_BIAS[used] * np.where(pick == 1, 0.5, 1.0)
    return (value - bias if largest else value + bias).astype(np.float32)


def _flow_homography(src: np.ndarray, dst: np.ndarray, weight: np.ndarray) -> np.ndarray | None:
    """Homography (src pixel → dst pixel) fitted by RANSAC to a dense DIS flow between two gray images.

    Why a homography: a reflection is usually a distant scene seen in flat glass, so one global
    motion model is both accurate and far more robust on faint residual images than free flow.
    """
    a, s = resize_to(src, 384)
    b, _ = resize_to(dst, 384)
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
    flow = dis.calc(a, b, None)
    wsmall = cv2.resize(weight.astype(np.float32), (a.shape[1], a.shape[0]), interpolation=cv2.INTER_AREA)
    gy, gx = np.mgrid[2 : a.shape[0] - 2 : 4, 2 : a.shape[1] - 2 : 4]
    keep = wsmall[gy, gx] > 0.5
    if keep.sum() < 20:
        return None
    pts = np.stack([gx[keep], gy[keep]], axis=1).astype(np.float32)
    moved = pts + flow[gy[keep], gx[keep]]
    hom, inl = cv2.findHomography(pts, moved, cv2.RANSAC, 1.0, maxIters=2000)
    if hom is None or inl is None or inl.sum() < 20:
        return None
    scale = np.diag([s, s, 1.0])
    return np.linalg.inv(scale) @ hom @ scale


def _texture(img: np.ndarray, sigma: float) -> np.ndarray:
    """Where a residual has enough structure for its motion to be measured."""
    g = cv2.GaussianBlur(img.max(axis=2), (0, 0), 1.0)
    grad = np.hypot(cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1))
    return (grad > 6 * sigma) & (g > 3 * sigma)


def _residual_gray(res: np.ndarray) -> np.ndarray:
    scale = max(float(np.percentile(res, 99.5)), 1e-3)
    return gray8(np.clip(res / scale, 0, 1))


def refine_reflection(
    layers: Layers,
    al: Alignment,
    sigma: float,
    *,
    iterations: int = 2,
    polish: bool = True,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
    span: tuple[float, float] = (0.0, 1.0),
) -> Layers:
    """Alternate: estimate each frame's reflection motion on the residuals, fuse the reflection in the
    reference's reflection coordinates, then re-estimate the background from frame − moved reflection.
    """
    n, h, w, _ = al.warped.shape
    ref_i = al.reference
    use = frame_weights(al) > 0.5
    background = layers.background
    lo, hi = span
    found = 0
    warp_flags = cv2.INTER_LINEAR
    for it in range(iterations):
        if cancel is not None:
            cancel.check()
        progress(
            Progress(
                lo + (hi - lo) * it / iterations, f"Separating reflection, pass {it + 1} of {iterations}"
            )
        )
        residual = al.warped - background[None]
        gray = [_residual_gray(np.clip(residual[k], 0.0, 1.0)) for k in range(n)]
        tex = _texture(np.clip(residual[ref_i], 0.0, 1.0), sigma)
        # homs[k]: reflection pixel in the reference → the same reflection point in (aligned) frame k.
        homs: list[np.ndarray | None] = [None] * n
        moved = np.full_like(residual, np.nan)
        moved[ref_i] = residual[ref_i]
        for k in range(n):
            if k == ref_i:
                continue
            hom = _flow_homography(gray[ref_i], gray[k], tex)
            if hom is None:
                continue
            homs[k] = hom
            inv = warp_flags | cv2.WARP_INVERSE_MAP
            sample = cv2.warpPerspective(residual[k], hom, (w, h), flags=inv, borderMode=cv2.BORDER_REPLICATE)
            ok = cv2.warpPerspective(use[k].astype(np.float32), hom, (w, h), flags=inv, borderValue=0.0)
            moved[k] = np.where((ok > 0.99)[..., None], sample, np.nan)
        found = sum(m is not None for m in homs)
        # Constrained alternation (Szeliski et al. 2000; Xue et al. 2015 refine it further): the min-
        # composite background over-estimates B, so every motion-compensated residual under-estimates
        # the reflection and their maximum is the tightest bound; with that reflection, each
        # frame-minus-reflection over-estimates B and their minimum is the tightest bound. Both bounds
        # tighten every pass. Noise biases max/min by a known amount, removed with `_MIN_BIAS`.
        noise = sigma * np.sqrt(2.0)
        reflection = _extreme(moved, True, noise, skip=int(it > 0))
        reflection = np.clip(reflection, 0.0, 1.0)
        estimates = np.full_like(al.warped, np.nan)
        estimates[ref_i] = al.warped[ref_i] - reflection
        for k, hom in enumerate(homs):
            if hom is None:
                continue
            back = cv2.warpPerspective(
                reflection, hom, (w, h), flags=warp_flags, borderMode=cv2.BORDER_REPLICATE
            )
            estimates[k] = np.where(use[k][..., None], al.warped[k] - back, np.nan)
        background = np.clip(_extreme(estimates, False, noise, skip=int(it > 0)), 0.0, 1.0)
        if it == iterations - 1 and polish:
            # Last pass: with the reflection fixed, a median of the per-frame estimates averages
            # noise instead of picking the extreme sample.
            background = np.clip(np.nan_to_num(np.nanmedian(estimates, axis=0), nan=0.0), 0.0, 1.0)
    out = reflection_layers(al.warped[ref_i], background, sigma)
    out.info = {"reflection_motions_found": found}
    progress(Progress(hi, "Reflection separated"))
    return out

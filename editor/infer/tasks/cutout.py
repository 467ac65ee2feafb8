"""Task "cutout": one click from photo (and, optionally, a rough selection) to a soft cut-out.

Steps: the subject model's mask (when `request.model_id` is given) → if a rough selection is given
(`inputs["selection"]`, 1 = inside), GrabCut refines it to the subject, seeded by that mask →
a trimap whose unknown band straddles the edge (`band_px`, default 1 % of the longer side) →
closed-form matting (or `engine` knn/lkm) with foreground-colour estimation. Hair and soft edges
come from the matting, not from the coarse mask. Above `work_megapixels` (default 4) the band is solved
on a downscaled copy and scaled back (recorded as `matte_scale`); foreground colours are full size.
Result: images "image" (RGBA cut-out, straight alpha), "alpha", "mask" (the hard subject mask that
seeded the trimap) and "trimap".
"""

from __future__ import annotations

import cv2
import numpy as np

from editor.infer.api import CancelToken, InferenceError, Progress, ProgressFn, Request, Result
from editor.infer.matting.engines import ENGINES, cutout, estimate_alpha, estimate_foreground
from editor.infer.matting.trimap import trimap_from_mask
from editor.infer.subject import band_px, grabcut_refine

WORK_MP = 4.0  # larger photos are matted at this size (the solver's memory and time grow with the band's box)


def _solve(
    rgb: np.ndarray, trimap: np.ndarray, engine: str, work_mp: float, cancel: CancelToken
) -> tuple[np.ndarray, float]:
    """Alpha at full size; above `work_mp` megapixels the unknown band is solved on a downscaled copy
    and the soft values are scaled back up (known pixels keep their exact 0/1)."""
    h, w = trimap.shape
    scale = min(1.0, (work_mp * 1e6 / (h * w)) ** 0.5)
    if scale >= 1.0:
        return estimate_alpha(rgb, trimap, engine, check=cancel.check), 1.0
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small_rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    small_tri = cv2.resize(trimap, size, interpolation=cv2.INTER_NEAREST)
    small_alpha = estimate_alpha(small_rgb, small_tri, engine, check=cancel.check)
    alpha = cv2.resize(small_alpha, (w, h), interpolation=cv2.INTER_LINEAR)
    alpha = np.where(trimap == 1.0, 1.0, np.where(trimap == 0.0, 0.0, alpha))
    return np.clip(alpha, 0.0, 1.0).astype(np.float32), scale


def run(request: Request, progress: ProgressFn, cancel: CancelToken) -> Result:
    image = request.image
    if image is None or image.ndim != 3 or image.shape[2] < 3:
        raise InferenceError("Cutting out needs an RGB image.")
    rgb = np.ascontiguousarray(image[..., :3], dtype=np.float32)
    engine = request.params.get("engine", "cf")
    if engine not in ENGINES:
        raise InferenceError(f"Unknown matting engine '{engine}'. Choose one of: {', '.join(ENGINES)}.")
    selection = request.inputs.get("selection")
    if selection is not None and selection.shape[:2] != rgb.shape[:2]:
        raise InferenceError("The selection is not the size of the image.")
    if request.model_id is None and selection is None:
        raise InferenceError("Cut out needs a subject model or a selection around the subject.")
    seg = None
    if request.model_id is not None:
        from editor.infer.tasks.segment import subject_mask

        if request.context.load_model is None:
            raise InferenceError("No model loader is available to find the subject.")
        progress(Progress(0.02, "Finding the subject"))
        seg = subject_mask(request.context.load_model(request.model_id), rgb, request.context.device)
        cancel.check()
    if selection is not None:
        progress(Progress(0.1, "Refining the selection to the subject"))
        sel = selection[..., 0] if selection.ndim == 3 else selection
        mask = grabcut_refine(rgb, sel, seg)
    else:
        assert seg is not None
        mask = (seg >= 0.5).astype(np.float32)
    cancel.check()
    if not mask.any():
        raise InferenceError("No subject was found. Draw a rough outline around it and try again.")
    band = int(request.params.get("band_px") or band_px(rgb.shape))
    trimap = trimap_from_mask(mask, band)
    if selection is not None:
        trimap[sel < 0.5] = 0.0  # outside the user's selection nothing is cut out
    if not (trimap == 0).any():
        raise InferenceError("The subject fills the whole photo: there is no background to remove.")
    progress(Progress(0.2, "Solving the matte"))
    work_mp = float(request.params.get("work_megapixels") or WORK_MP)
    alpha, scale = _solve(rgb, trimap, engine, work_mp, cancel)
    cancel.check()
    progress(Progress(0.85, "Estimating foreground colours"))
    fg = estimate_foreground(rgb, alpha)
    progress(Progress(1.0, "Done"))
    info = {
        "model_id": request.model_id,
        "refined": selection is not None,
        "band_px": band,
        "engine": engine,
        "subject_fraction": round(float(mask.mean()), 5),
        "matte_scale": round(scale, 4),
    }
    images = {"image": cutout(fg, alpha), "alpha": alpha, "mask": mask, "trimap": trimap}
    return Result(images=images, mask=alpha, info=info)

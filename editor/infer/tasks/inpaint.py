"""Task "inpaint": fill the masked region; the result layer holds the fill and applies through the mask.

Params: `engine` (patchmatch | lama | telea | ns; default patchmatch). The seed comes from the request
(default 0) so "Re-run" with another seed gives another plausible fill. 16-bit documents: the engines
work on float32, and the caller converts the fill back to the document's depth.

The fill reads only the crops planned around the mask (`editor.infer.inpaint.crops`), so a request with
lazy sources is rendered only in the box that holds them (`plan_region`): the result is that box, the
same pixels a whole-canvas request gives there, and the caller places it at `request.region`.
"""

from __future__ import annotations

import numpy as np

from editor.infer.api import CancelToken, InferenceError, ProgressFn, Request, Result
from editor.infer.inpaint import inpaint_image
from editor.infer.inpaint.crops import plan_boxes
from editor.infer.inpaint.engines import get_engine
from editor.infer.tiling import feather_mask


def run(request: Request, progress: ProgressFn, cancel: CancelToken) -> Result:
    if request.image is None or request.mask is None:
        raise InferenceError("Inpainting needs an image and a mask.")
    engine = str(request.params.get("engine", "patchmatch"))
    eng = get_engine(engine)
    seed = int(request.seed or 0)
    image = np.asarray(request.image, np.float32)
    mask = np.clip(np.asarray(request.mask, np.float32), 0.0, 1.0)
    # The layer's pixels are the plain fill (hard mask); its mask, applied by the compositor, carries the
    # softness — blending here as well would apply grey mask values twice.
    hard = (mask > 0).astype(np.float32)
    fill = inpaint_image(image, hard, engine=engine, seed=seed, context=request.context, progress=progress,
                         cancel=cancel)
    applied = feather_mask(mask, eng.policy.feather_px)
    info = {"engine": engine, "seed": seed, "engine_label": eng.label}
    if eng.model_id:
        info["model_id"] = eng.model_id
    return Result(images={"image": fill}, mask=applied, info=info)


def plan_region(request: Request) -> tuple[int, int, int, int] | None:
    """The canvas box (x, y, w, h) the fill reads: the union of its crops around the mask.

    Every crop lies inside it and is shifted inward only at the canvas's own edges, so planning again
    inside the box gives the same crops, and the fill there is bit-identical to a whole-canvas fill.
    """
    if request.mask is None:
        return None
    mask = np.asarray(request.mask)
    boxes = plan_boxes(mask, get_engine(str(request.params.get("engine", "patchmatch"))).policy)
    if not boxes:
        return None  # an empty mask: the task explains
    y0, x0 = min(b.y0 for b in boxes), min(b.x0 for b in boxes)
    y1, x1 = max(b.y1 for b in boxes), max(b.x1 for b in boxes)
    return int(x0), int(y0), int(x1 - x0), int(y1 - y0)


run.plan_region = plan_region  # type: ignore[attr-defined]

"""Task "refine": a rough selection (lasso, rectangle) tightened to the subject inside it.

Inputs: `request.image` float32 RGB(A); `inputs["selection"]` float32 H×W (1 = selected); optional
`request.model_id` of a subject model whose mask seeds GrabCut (see `editor.infer.subject`).
Result: `mask` float32 H×W {0, 1} (also `images["mask"]`), never outside the selection.
"""

from __future__ import annotations

import numpy as np

from editor.infer.api import CancelToken, InferenceError, Progress, ProgressFn, Request, Result
from editor.infer.subject import grabcut_refine


def run(request: Request, progress: ProgressFn, cancel: CancelToken) -> Result:
    image = request.image
    selection = request.inputs.get("selection")
    if image is None or image.ndim != 3 or image.shape[2] < 3:
        raise InferenceError("Refining a selection needs an RGB image.")
    if selection is None or selection.shape[:2] != image.shape[:2]:
        raise InferenceError("Refine needs a selection the size of the image: draw a rough outline first.")
    rgb = np.ascontiguousarray(image[..., :3], dtype=np.float32)
    seg = None
    if request.model_id is not None and request.context.load_model is not None:
        from editor.infer.tasks.segment import subject_mask

        progress(Progress(0.05, "Finding the subject"))
        seg = subject_mask(request.context.load_model(request.model_id), rgb, request.context.device)
        cancel.check()
    progress(Progress(0.3, "Refining the selection"))
    mask = grabcut_refine(rgb, selection[..., 0] if selection.ndim == 3 else selection, seg)
    progress(Progress(1.0, "Done"))
    return Result(images={"mask": mask}, mask=mask, info={"model_id": request.model_id})

"""Single-image mode: the user brushes the obstruction and the inpainting engine fills it."""

from __future__ import annotations

import numpy as np

from editor.infer.api import CancelToken, InferenceError, ProgressFn, no_progress


def remove_brushed(
    image: np.ndarray,
    mask: np.ndarray,
    *,
    engine: str = "patchmatch",
    seed: int = 0,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Fill the brushed pixels (mask > 0) by inpainting; pixels outside the mask stay bit-identical."""
    if mask.shape != image.shape[:2]:
        raise InferenceError(
            f"The mask is {mask.shape[1]}×{mask.shape[0]} but the image is {image.shape[1]}×{image.shape[0]}."
        )
    if not (mask > 0).any():
        raise InferenceError("Brush over the obstruction first: the mask is empty.")
    from editor.infer.inpaint import inpaint_image

    filled = inpaint_image(
        image, mask.astype(np.float32), engine=engine, seed=seed, progress=progress, cancel=cancel
    )
    return np.where((mask > 0)[..., None], filled, image).astype(np.float32)

"""Inpainting: fill a masked region of a photo from its surroundings.

`inpaint_image` is the one entry point (the Inpaint task, the CLI, the obstruction-removal tool and
the benchmarks call it): it picks an engine, plans crops around the mask, fills them and pastes the
fill back through the mask, so pixels outside the (narrowly feathered) mask keep their exact values.
"""

from __future__ import annotations

import numpy as np

from editor.infer.api import CancelToken, InferenceError, ProgressFn, TaskContext, no_progress
from editor.infer.inpaint.catalog import DEFAULT_ENGINE, ENGINE_INFO, ENGINE_NAMES, LAMA_MODEL_ID, EngineInfo


def inpaint_image(
    image: np.ndarray,
    mask: np.ndarray,
    *,
    engine: str = DEFAULT_ENGINE,
    seed: int = 0,
    context: TaskContext | None = None,
    progress: ProgressFn = no_progress,
    cancel: CancelToken | None = None,
) -> np.ndarray:
    """Fill where `mask` > 0 in `image` (float32 H×W×3|4, straight alpha); returns a new image, same shape.

    `mask` is float32 H×W in [0, 1]; grey values blend the fill softly. Alpha is filled by diffusion.
    Deterministic for a given seed. Raises `InferenceError` for a wrong shape or an empty mask.
    """
    from editor.infer.inpaint.crops import inpaint_crops
    from editor.infer.inpaint.engines import get_engine

    img = np.asarray(image, dtype=np.float32)
    m = np.asarray(mask, dtype=np.float32)
    if img.ndim != 3 or img.shape[2] not in (3, 4):
        raise InferenceError(f"Inpainting needs an RGB or RGBA image, got shape {img.shape}.")
    if m.shape != img.shape[:2]:
        raise InferenceError(
            f"The mask is {m.shape[1]}×{m.shape[0]} but the image is {img.shape[1]}×{img.shape[0]}; "
            "they must be the same size."
        )
    lo, hi = float(m.min()), float(m.max())  # reductions, not full-size temporaries (24 MP photos)
    if not hi > 0:
        raise InferenceError("The mask is empty: paint over the area to fill first.")
    if lo < 0 or hi > 1:
        m = np.clip(m, 0.0, 1.0)
    eng = get_engine(engine)
    fill = eng.make(context)
    return inpaint_crops(img, m, fill, eng.policy, seed=seed, progress=progress, cancel=cancel)


__all__ = ["DEFAULT_ENGINE", "ENGINE_INFO", "ENGINE_NAMES", "LAMA_MODEL_ID", "EngineInfo", "inpaint_image"]

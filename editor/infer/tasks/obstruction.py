"""Obstruction removal task: a burst in, "Background" and "Obstruction" layers out.

Inputs: `request.inputs["frames"]` (N×H×W×3 float32, or a list of frames), 3–7 frames; or, for the
single-image mode, `request.image` with `request.mask` (the user's brush) and no frames.
Params: `kind` ("fence" | "reflection" | "auto", default "auto"), `reference` (0-based frame index,
default the middle frame), `engine` (inpainting engine for the single-image mode).

Outputs: images["image"] the clean background (RGB), images["obstruction"] RGBA: for opaque kinds
the reference's obstruction pixels with alpha = mask (normal blend over the background gives the
reference back); for reflections the additive light with alpha 1, meant for an svg:plus (or
svg:screen) layer above the background. `mask` is the obstruction mask.
"""

from __future__ import annotations

import numpy as np

from editor.infer.api import CancelToken, InferenceError, Progress, ProgressFn, Request, Result
from editor.infer.obstruction import remove_brushed, remove_obstruction
from editor.infer.obstruction.layers import Layers


def obstruction_rgba(layers: Layers) -> np.ndarray:
    """The Obstruction result layer as straight-alpha RGBA, per kind (see the module docstring)."""
    alpha = (
        layers.alpha
        if layers.kind == "fence" and layers.alpha is not None
        else np.ones(layers.mask.shape, np.float32)
    )
    return np.concatenate([layers.obstruction, alpha[..., None]], axis=2).astype(np.float32)


def run(request: Request, progress: ProgressFn, cancel: CancelToken) -> Result:
    params = request.params
    frames = request.inputs.get("frames")
    if frames is None:
        if request.image is None or request.mask is None:
            raise InferenceError(
                "Obstruction removal needs a burst of 3–7 frames, or one image with the "
                "obstruction brushed as a mask."
            )
        progress(Progress(0.0, "Filling the brushed obstruction"))
        image = request.image[..., :3].astype(np.float32)
        background = remove_brushed(
            image,
            request.mask,
            engine=params.get("engine", "patchmatch"),
            seed=request.seed or 0,
            progress=progress,
            cancel=cancel,
        )
        mask = (request.mask > 0).astype(np.float32)
        layer = np.concatenate([image, mask[..., None]], axis=2)
        progress(Progress(1.0, "Done"))
        return Result(
            images={"image": background, "obstruction": layer},
            mask=mask,
            info={"kind": "brushed", "frames": 1},
        )
    reference = params.get("reference")
    layers = remove_obstruction(
        frames,
        kind=params.get("kind", "auto"),
        reference=None if reference is None else int(reference),
        progress=progress,
        cancel=cancel,
    )
    info = dict(layers.info)
    info["obstruction_blend"] = "svg:src-over" if layers.kind == "fence" else "svg:plus"
    return Result(
        images={"image": layers.background, "obstruction": obstruction_rgba(layers)},
        mask=layers.mask,
        info=info,
    )

"""The fill engines behind one interface: `fill(rgb, hole, seed, progress, cancel) -> rgb` per crop.

Each engine also says how it wants its crops (working size, size multiple, context margin), since a
network trained on 512-pixel crops and an exemplar search whose cost follows the hole's area want
different things.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from editor.infer.api import CancelToken, InferenceError, Progress, ProgressFn, TaskContext
from editor.infer.inpaint import patchmatch
from editor.infer.inpaint.catalog import ENGINE_INFO, LAMA_MODEL_ID
from editor.infer.inpaint.classical import diffuse
from editor.infer.inpaint.crops import CropPolicy, FillFn


@dataclass(frozen=True)
class Engine:
    name: str
    label: str
    policy: CropPolicy
    make: Callable[[TaskContext | None], FillFn]  # builds the per-crop fill (loads a model if needed)
    model_id: str | None = None


def _patchmatch(_ctx: TaskContext | None) -> FillFn:
    def fill(rgb: np.ndarray, hole: np.ndarray, seed: int, progress: ProgressFn,
             cancel: CancelToken | None) -> np.ndarray:
        return patchmatch.fill(rgb, hole, seed=seed, progress=progress, cancel=cancel)

    return fill


def _diffusion(method: str) -> Callable[[TaskContext | None], FillFn]:
    def make(_ctx: TaskContext | None) -> FillFn:
        def fill(rgb: np.ndarray, hole: np.ndarray, seed: int, progress: ProgressFn,
                 cancel: CancelToken | None) -> np.ndarray:
            progress(Progress(0.0, f"Filling ({method})"))
            return diffuse(rgb, hole, method)

        return fill

    return make


def _lama(ctx: TaskContext | None) -> FillFn:
    """LaMa through the model store: the service's (cached) loader, or the store directly."""
    if ctx is not None and ctx.load_model is not None:
        model = ctx.load_model(LAMA_MODEL_ID)
        device = ctx.device
    else:
        from editor.infer.safe_load import load_model
        from editor.infer.store import ModelStore

        model = load_model(ModelStore().path(LAMA_MODEL_ID))
        device = "cpu"
    return lama_fill(model, device)


def lama_fill(model: Any, device: str = "cpu") -> FillFn:
    """A per-crop fill running a spandrel inpainting descriptor (image + binary mask → image)."""
    from spandrel import MaskedImageModelDescriptor

    if not isinstance(model, MaskedImageModelDescriptor):
        raise InferenceError("The LaMa model file is not an inpainting model.",
                             detail=f"loaded {type(model).__name__}")

    def fill(rgb: np.ndarray, hole: np.ndarray, seed: int, progress: ProgressFn,
             cancel: CancelToken | None) -> np.ndarray:
        import torch

        progress(Progress(0.0, "Filling (LaMa)"))
        if cancel is not None:
            cancel.check()
        dtype = next(model.model.parameters()).dtype
        img = torch.from_numpy(np.ascontiguousarray(rgb.transpose(2, 0, 1)))[None].to(device, dtype)
        msk = torch.from_numpy(hole.astype(np.float32))[None, None].to(device, dtype)
        with torch.inference_mode():
            out = model(img, msk)
        return out[0].float().clamp(0, 1).permute(1, 2, 0).cpu().numpy().astype(np.float32)

    return fill


_DIFFUSION_CROPS = CropPolicy(working_size=4096, margin=0.1, min_margin=8)
# How each engine in `ENGINE_INFO` crops and fills.
_IMPLEMENTATIONS: dict[str, tuple[CropPolicy, Callable[[TaskContext | None], FillFn]]] = {
    # Exemplars come from the crop, so give it generous context; cost follows the hole's area.
    "patchmatch": (CropPolicy(working_size=768, multiple=1, margin=0.6, min_margin=48), _patchmatch),
    "lama": (CropPolicy(working_size=1024, multiple=8, margin=0.5, min_margin=64), _lama),
    "telea": (_DIFFUSION_CROPS, _diffusion("telea")),
    "ns": (_DIFFUSION_CROPS, _diffusion("ns")),
}
ENGINES: dict[str, Engine] = {
    info.name: Engine(info.name, info.label, *_IMPLEMENTATIONS[info.name], model_id=info.model_id)
    for info in ENGINE_INFO
}


def get_engine(name: str) -> Engine:
    try:
        return ENGINES[name]
    except KeyError:
        names = ", ".join(ENGINES)
        raise InferenceError(f"Unknown inpainting engine '{name}'. Choose one of: {names}.") from None

"""Task "matting": a soft alpha matte and clean foreground colours for the subject.

Params: `mode` "trimap" (default) or "plate"; `engine` "cf" (default), "knn" or "lkm".
Inputs: `request.image` float32 RGB(A) H×W×C; `inputs["trimap"]` float32 H×W {0, 0.5, 1} (required in
trimap mode; in plate mode optional user corrections that override the automatic trimap where they
are not unknown); `inputs["plate"]` float32 RGB, the scene without the subject (plate mode).
Result: images "image" (RGBA cut-out: estimated foreground + alpha, straight) and "alpha" (H×W).
"""

from __future__ import annotations

import time

import numpy as np

from editor.infer.api import CancelToken, InferenceError, Progress, ProgressFn, Request, Result
from editor.infer.matting import is_warm
from editor.infer.matting.engines import ENGINES, cutout, estimate_alpha, estimate_foreground
from editor.infer.matting.trimap import UNKNOWN, check_trimap

MODES = ("trimap", "plate")


def _image(request: Request) -> np.ndarray:
    if request.image is None or request.image.ndim != 3 or request.image.shape[2] < 3:
        raise InferenceError("Matting needs an RGB image.")
    return np.ascontiguousarray(request.image[..., :3], dtype=np.float32)


def _prepare(progress: ProgressFn) -> None:
    """Import pymatting, telling the user when its kernels must first be compiled (cold cache)."""
    if not is_warm():
        progress(Progress(0.01, "Preparing the matting engines (first run only, up to a minute)"))
    import pymatting  # noqa: F401


def _run_trimap(
    image: np.ndarray, request: Request, engine: str, progress: ProgressFn, cancel: CancelToken
) -> Result:
    raw = request.inputs.get("trimap")
    if raw is None:
        raise InferenceError("Trimap matting needs a trimap: paint foreground, background and unknown areas.")
    trimap = check_trimap(raw, image.shape)
    progress(Progress(0.05, "Solving alpha"))
    t0 = time.perf_counter()
    alpha = estimate_alpha(image, trimap, engine, check=cancel.check)
    t_alpha = time.perf_counter() - t0
    cancel.check()
    progress(Progress(0.8, "Estimating foreground colours"))
    fg = estimate_foreground(image, alpha)
    cancel.check()
    info = {
        "mode": "trimap",
        "engine": engine,
        "unknown_fraction": round(float((trimap == UNKNOWN).mean()), 5),
        "seconds_alpha": round(t_alpha, 3),
    }
    return Result(images={"image": cutout(fg, alpha), "alpha": alpha}, info=info)


def _run_plate(
    image: np.ndarray, request: Request, engine: str, progress: ProgressFn, cancel: CancelToken
) -> Result:
    from editor.infer.matting.plate import plate_matte

    plate = request.inputs.get("plate")
    if plate is None or plate.ndim != 3 or plate.shape[2] < 3:
        raise InferenceError(
            "Plate matting needs a background plate: a photo of the same scene without the subject."
        )
    matte = plate_matte(
        image,
        np.ascontiguousarray(plate[..., :3], dtype=np.float32),
        user_trimap=request.inputs.get("trimap"),
        engine=engine,
        stage=lambda f, text: progress(Progress(0.05 + 0.9 * f, text)),
        check=cancel.check,
    )
    info = {"mode": "plate", "engine": engine, **matte.info}
    return Result(images={"image": matte.cutout.astype(np.float32), "alpha": matte.alpha}, info=info)


def run(request: Request, progress: ProgressFn, cancel: CancelToken) -> Result:
    mode = request.params.get("mode", "trimap")
    engine = request.params.get("engine", "cf")
    if mode not in MODES:
        raise InferenceError(f"Unknown matting mode '{mode}'. Choose 'trimap' or 'plate'.")
    if engine not in ENGINES:
        raise InferenceError(f"Unknown matting engine '{engine}'. Choose one of: {', '.join(ENGINES)}.")
    image = _image(request)
    _prepare(progress)
    cancel.check()
    runner = _run_trimap if mode == "trimap" else _run_plate
    result = runner(image, request, engine, progress, cancel)
    progress(Progress(1.0, "Done"))
    return result

"""Task "segment": the subject's mask at image size (1 = subject), from a person or salient model.

Inputs: `request.image` float32 RGB(A); `request.model_id` (default: MediaPipe's person model).
The model kind decides the pipeline: a converted TFLite person model (256×256 RGB in [0, 1] → person
probability, as MediaPipe's selfie-segmentation graph feeds it) or a salient-object model, U²-Net(p)
or IS-Net, each fed as it was trained (`tasks.salient`). Result: `mask` (soft, float32 H×W in
[0, 1]) also as `images["mask"]`.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from editor.infer.api import CancelToken, Progress, ProgressFn, Request, Result
from editor.infer.subject import PERSON_MODEL, rgb_and_model

SIZE = 256


def person_input(image: np.ndarray, size: int = SIZE) -> np.ndarray:
    """1×size×size×3 RGB in [0, 1] (the whole frame stretched, as MediaPipe's graph does)."""
    rgb = np.clip(np.ascontiguousarray(image[..., :3], dtype=np.float32), 0, 1)
    interp = cv2.INTER_AREA if min(rgb.shape[:2]) > size else cv2.INTER_LINEAR
    return cv2.resize(rgb, (size, size), interpolation=interp)[None]


def person_mask(model: Any, image: np.ndarray) -> np.ndarray:
    """Person probability H×W in [0, 1] from the converted selfie-segmentation graph."""
    import torch

    net = getattr(model, "model", model)
    buf = next(iter(net.buffers()))
    with torch.inference_mode():
        (out,) = net(torch.from_numpy(person_input(image)).to(buf.device))
    prob = out[0, ..., 0].float().cpu().numpy()
    h, w = image.shape[:2]
    return np.clip(cv2.resize(prob, (w, h), interpolation=cv2.INTER_LINEAR), 0.0, 1.0)


def subject_mask(model: Any, image: np.ndarray, device: str = "cpu") -> np.ndarray:
    """The soft subject mask from whichever kind of model was loaded."""
    net = getattr(model, "model", model)
    if hasattr(net, "graphs"):
        return person_mask(model, image)
    from editor.infer.tasks.salient import saliency

    return saliency(model, image, device)


def run(request: Request, progress: ProgressFn, cancel: CancelToken) -> Result:
    image, model_id, model = rgb_and_model(request, progress, cancel, default_model=PERSON_MODEL,
                                           purpose="find the subject")
    progress(Progress(0.3, "Finding the subject"))
    mask = subject_mask(model, image, request.context.device)
    progress(Progress(1.0, "Done"))
    info = {"model_id": model_id, "subject_fraction": round(float((mask >= 0.5).mean()), 5)}
    return Result(images={"mask": mask}, mask=mask, info=info)

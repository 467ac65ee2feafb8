"""Task "salient": one-click subject. A salient-object network (U²-Net family: U²-Net(p), IS-Net) finds
the subject; its mask seeds the matting trimap. Each network is fed as it was trained: U²-Net at
320×320 with ImageNet normalisation; a network that says otherwise (`input_size`, `input_mean`,
`input_std` on the module, as IS-Net does: 1024×1024, std 1) gets its own.

Inputs: `request.image` float32 RGB(A). `request.model_id` (default "u2netp"), loaded through
`request.context.load_model`. Params: `band_px` (default: 1% of the longer side) for the seeded trimap.
Result: `mask` float32 H×W saliency in [0, 1] (also `images["mask"]`), and `images["trimap"]`
{0, 0.5, 1} ready for the matting task.
"""

from __future__ import annotations

import cv2
import numpy as np

from editor.infer.api import CancelToken, InferenceError, Progress, ProgressFn, Request, Result
from editor.infer.matting.trimap import trimap_from_mask

DEFAULT_MODEL = "u2netp"
INPUT_SIZE = 320  # the published weights were trained (and evaluated) at 320×320
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


def preprocess(image: np.ndarray, size: int = INPUT_SIZE, mean: np.ndarray = MEAN, std: np.ndarray = STD
               ) -> np.ndarray:
    """RGB float → 1×3×size×size, scaled by the image maximum then normalised (ImageNet's by default;
    as upstream and rembg)."""
    rgb = np.ascontiguousarray(image[..., :3], dtype=np.float32)
    interp = cv2.INTER_AREA if min(rgb.shape[:2]) > size else cv2.INTER_LINEAR
    small = cv2.resize(rgb, (size, size), interpolation=interp)
    small = small / max(float(small.max()), 1e-6)
    small = (small - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return small.transpose(2, 0, 1)[None].astype(np.float32)


def postprocess(pred: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Min-max normalise the saliency map (as upstream) and resize it to the image size."""
    lo, hi = float(pred.min()), float(pred.max())
    norm = (pred - lo) / (hi - lo) if hi - lo > 1e-8 else np.zeros_like(pred)
    out = cv2.resize(norm.astype(np.float32), (shape[1], shape[0]), interpolation=cv2.INTER_LINEAR)
    return np.clip(out, 0.0, 1.0)


def saliency(model: object, image: np.ndarray, device: str = "cpu") -> np.ndarray:
    """Saliency map H×W in [0, 1] from a loaded U²-Net or IS-Net (module or spandrel descriptor)."""
    import torch

    net = getattr(model, "model", model)
    x = torch.from_numpy(preprocess(image, getattr(net, "input_size", INPUT_SIZE),
                                    getattr(net, "input_mean", MEAN), getattr(net, "input_std", STD)))
    x = x.to(device)
    param = next(net.parameters(), None)
    if param is not None:
        x = x.to(param.dtype)
    with torch.inference_mode():
        out = net(x)
    if isinstance(out, tuple | list):
        out = out[0]
    pred = out[0, 0].float().cpu().numpy()
    return postprocess(pred, image.shape[:2])


def run(request: Request, progress: ProgressFn, cancel: CancelToken) -> Result:
    image = request.image
    if image is None or image.ndim != 3 or image.shape[2] < 3:
        raise InferenceError("Finding the subject needs an RGB image.")
    load = request.context.load_model
    if load is None:
        raise InferenceError("No model loader is available to find the subject.")
    model_id = request.model_id or DEFAULT_MODEL
    progress(Progress(0.05, "Loading the subject model"))
    model = load(model_id)
    cancel.check()
    progress(Progress(0.3, "Finding the subject"))
    mask = saliency(model, image, request.context.device)
    cancel.check()
    h, w = mask.shape
    band = int(request.params.get("band_px", max(2, round(0.01 * max(h, w)))))
    trimap = trimap_from_mask(mask, band)
    progress(Progress(1.0, "Done"))
    info = {"model_id": model_id, "band_px": band, "subject_fraction": round(float((mask >= 0.5).mean()), 5)}
    return Result(images={"mask": mask, "trimap": trimap}, mask=mask, info=info)

"""Finding the subject: which model serves "person" / "auto", and refining a rough selection to it.

No torch here (the UI and the CLI import it to choose a model); the networks run in the tasks.
A rough lasso or rectangle becomes a tight subject mask with OpenCV's GrabCut (no model needed):
outside the selection is background, inside is "probably foreground", and, where a segmentation
mask is at hand, its confident person pixels are foreground and its confident background pixels
inside the selection are "probably background", so the cut follows the person, not the lasso.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from editor.core.errors import LucidError

if TYPE_CHECKING:
    from editor.infer.api import CancelToken, ProgressFn, Request
    from editor.infer.store import ModelStore

PERSON_MODEL = "mediapipe-selfie-segmentation"
FACE_MODEL = "mediapipe-face-mesh"
SUBJECTS = ("person", "auto")
PREFERENCE_KEY = "subject_preference"  # manifest key: the higher, the sooner "auto" picks the model
GRABCUT_MAX_SIDE = 640  # GrabCut's graph cut is slow on megapixels; the matte refines the edge anyway
GRABCUT_ITERATIONS = 5


def rgb_and_model(request: Request, progress: ProgressFn, cancel: CancelToken, *, default_model: str,
                  purpose: str) -> tuple[np.ndarray, str, Any]:
    """The request's RGB image, the model id and the loaded model, for the segment and faces tasks
    (`purpose`, e.g. "find faces", words their errors and progress)."""
    from editor.infer.api import InferenceError, Progress

    image = request.image
    if image is None or image.ndim != 3 or image.shape[2] < 3:
        raise InferenceError(f"To {purpose}, Lucid needs an RGB image.")
    if request.context.load_model is None:
        raise InferenceError(f"No model loader is available to {purpose}.")
    model_id = request.model_id or default_model
    progress(Progress(0.05, f"Loading the model to {purpose}"))
    model = request.context.load_model(model_id)
    cancel.check()
    return image, model_id, model


def subject_model(store: ModelStore, subject: str) -> str:
    """The model id for a subject kind: "person" → MediaPipe's person model; "auto" → the best installed
    general salient-object model, else the person model. "Best" is the manifest's `subject_preference`
    (higher first: isnet-general-use's edges beat u2netp's), then a `default` model, then the id."""
    if subject not in SUBJECTS:
        raise LucidError(f"Unknown subject '{subject}'. Choose {' or '.join(SUBJECTS)}.")
    if subject == "auto":
        general = [
            i for i in store.list() if i.task == "salient" and i.installed and i.manifest.commercial_use
        ]
        general.sort(key=lambda i: (-_preference(i.manifest), not i.manifest.default, i.id))
        if general:
            return general[0].id
    return PERSON_MODEL


def installed_subject_model(store: ModelStore | None, subject: str) -> str | None:
    """`subject_model`'s choice when it is installed, else None (the UI greys its command out)."""
    if store is None:
        return None
    try:
        model_id = subject_model(store, subject)
        return model_id if store.get(model_id).installed else None
    except LucidError:
        return None


def _preference(manifest: Any) -> float:
    value = manifest.get(PREFERENCE_KEY, 0)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def band_px(shape: tuple[int, ...], fraction: float = 0.01) -> int:
    """Trimap band width from the image size: `fraction` of the longer side, at least 2 pixels."""
    return max(2, round(fraction * max(shape[:2])))


def grabcut_refine(
    image: np.ndarray,
    rough: np.ndarray,
    seg: np.ndarray | None = None,
    *,
    iterations: int = GRABCUT_ITERATIONS,
) -> np.ndarray:
    """A binary float32 mask of the subject inside a rough selection (H×W, 1 = subject).

    Runs at most `GRABCUT_MAX_SIDE` pixels on the longer side and scales the result back up.
    """
    sel = np.asarray(rough, np.float32) >= 0.5
    if not sel.any():
        raise LucidError("The selection is empty: draw a rough outline around the subject first.")
    if sel.all() and seg is None:
        raise LucidError("The selection covers the whole image: Refine needs some background outside it.")
    h, w = sel.shape
    scale = min(1.0, GRABCUT_MAX_SIDE / max(h, w))
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    rgb8 = (np.clip(image[..., :3], 0, 1) * 255).astype(np.uint8)
    small = cv2.resize(rgb8, size, interpolation=cv2.INTER_AREA) if scale < 1 else rgb8
    sel_s = cv2.resize(sel.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
    gc = np.full(sel_s.shape, cv2.GC_BGD, np.uint8)
    gc[sel_s] = cv2.GC_PR_FGD
    if seg is not None:
        seg_s = cv2.resize(np.asarray(seg, np.float32), size, interpolation=cv2.INTER_LINEAR)
        gc[sel_s & (seg_s < 0.1)] = cv2.GC_PR_BGD
        gc[sel_s & (seg_s > 0.9)] = cv2.GC_FGD
    if not (gc == cv2.GC_BGD).any() and not (gc == cv2.GC_PR_BGD).any():
        return sel.astype(np.float32)
    if not ((gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)).any():
        return np.zeros((h, w), np.float32)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(0)
    cv2.grabCut(cv2.cvtColor(small, cv2.COLOR_RGB2BGR), gc, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)
    fg = ((gc == cv2.GC_FGD) | (gc == cv2.GC_PR_FGD)).astype(np.uint8)
    fg = _largest_parts(fg)
    out = cv2.resize(fg.astype(np.float32), (w, h), interpolation=cv2.INTER_LINEAR) if scale < 1 else fg
    return ((out >= 0.5) & sel).astype(np.float32)


def _largest_parts(fg: np.ndarray, keep_fraction: float = 0.05) -> np.ndarray:
    """Drop specks: keep connected parts at least `keep_fraction` the size of the largest."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
    if n <= 2:
        return fg
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.flatnonzero(areas >= keep_fraction * areas.max()) + 1
    return np.isin(labels, keep).astype(np.uint8)

"""Trimaps: float32 H×W with 0 = background, 0.5 = unknown, 1 = foreground.

The matting engines solve for alpha only in the unknown band, so the trimap decides both quality and
speed. These helpers build one from a mask, clean up a painted or loaded one, and merge the user's
brush corrections into an automatic one.
"""

from __future__ import annotations

import cv2
import numpy as np

from editor.core.errors import LucidError

BACKGROUND = 0.0
UNKNOWN = 0.5
FOREGROUND = 1.0


def _as_unit_float(values: np.ndarray) -> np.ndarray:
    """Integer images scale by their type's maximum; floats are taken as already in [0, 1]."""
    arr = np.asarray(values)
    if arr.ndim == 3:
        arr = arr[..., 0]  # grey stored as RGB(A): any channel carries the value
    if arr.ndim != 2:
        raise LucidError(f"A trimap must be a single-channel image, got an array of shape {arr.shape}.")
    if np.issubdtype(arr.dtype, np.integer):
        return arr.astype(np.float32) / float(np.iinfo(arr.dtype).max)
    if arr.dtype == np.bool_:
        return arr.astype(np.float32)
    return arr.astype(np.float32, copy=False)


def snap_trimap(trimap: np.ndarray) -> np.ndarray:
    """Snap every grey to the nearest of {0, 0.5, 1} (ties go to unknown, the safe side).

    Accepts uint8/uint16 (0 / 128 / 255 style) or float input, H×W or H×W×C (first channel used).
    """
    t = _as_unit_float(trimap)
    out = np.full(t.shape, UNKNOWN, dtype=np.float32)
    out[t < 0.25] = BACKGROUND
    out[t > 0.75] = FOREGROUND
    return out


def trimap_from_mask(mask: np.ndarray, band_px: int) -> np.ndarray:
    """A trimap whose unknown band straddles the mask edge: `band_px` inside and `band_px` outside.

    The mask is thresholded at 0.5; foreground is the mask eroded by `band_px`, background is what
    the mask dilated by `band_px` does not cover. `band_px = 0` gives a hard two-level trimap.
    """
    if band_px < 0:
        raise LucidError("The trimap band width cannot be negative.")
    binary = (_as_unit_float(mask) >= 0.5).astype(np.uint8)
    if band_px == 0:
        return binary.astype(np.float32)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * band_px + 1, 2 * band_px + 1))
    inner = cv2.erode(binary, kernel, borderType=cv2.BORDER_REPLICATE)
    outer = cv2.dilate(binary, kernel, borderType=cv2.BORDER_REPLICATE)
    out = np.full(binary.shape, UNKNOWN, dtype=np.float32)
    out[inner > 0] = FOREGROUND
    out[outer == 0] = BACKGROUND
    return out


def apply_user_trimap(trimap: np.ndarray, user: np.ndarray | None) -> np.ndarray:
    """The user's painted foreground/background wins wherever it is not "unknown"."""
    if user is None:
        return trimap
    snapped = snap_trimap(user)
    if snapped.shape != trimap.shape:
        raise LucidError(
            f"The trimap is {snapped.shape[1]}×{snapped.shape[0]} but the image is "
            f"{trimap.shape[1]}×{trimap.shape[0]}."
        )
    out = trimap.copy()
    painted = snapped != UNKNOWN
    out[painted] = snapped[painted]
    return out


def check_trimap(trimap: np.ndarray, image_shape: tuple[int, ...]) -> np.ndarray:
    """Snap and validate a trimap against its image; raise a readable error when it cannot work."""
    snapped = snap_trimap(trimap)
    if snapped.shape != tuple(image_shape[:2]):
        raise LucidError(
            f"The trimap is {snapped.shape[1]}×{snapped.shape[0]} but the image is "
            f"{image_shape[1]}×{image_shape[0]}; they must be the same size."
        )
    if not (snapped == FOREGROUND).any():
        raise LucidError(
            "The trimap has no foreground (white) area: paint some of the subject as foreground."
        )
    if not (snapped == BACKGROUND).any():
        raise LucidError("The trimap has no background (black) area: paint some background.")
    return snapped
